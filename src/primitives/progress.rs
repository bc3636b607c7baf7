//! `progress::` for playbooks: a bar through the items of a long step, or a spinner while a
//! step of unknown length runs, shown as [`crate::progress`] decides (a bar on a terminal, a
//! line per 10% off one). Batch primitives use [`Batch`] directly. Names and counts only: a
//! Secret is refused as a name.

use rhai::Dynamic;

use crate::engine::gate::{Args, ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::progress::Batch;

/// A bar of `total` items named `what`, for a batch primitive.
pub(super) fn batch(what: &str, total: usize) -> Batch {
    Batch::new(what, total as u64)
}

fn handle(args: &Args, index: usize) -> Result<Batch, PrimitiveError> {
    args.any(index)?.clone().try_cast::<Batch>().ok_or_else(|| {
        PrimitiveError::new("expected the value progress::start or progress::spinner returned")
    })
}

/// Registers `progress::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "start",
            params: &[("what", ParamType::Str), ("total", ParamType::Int)],
            returns: "progress",
            doc: "Starts a bar through `total` items named `what` (e.g. \"repositories checked\");\n\
                  pass what it returns to `progress::advance` and `progress::finish`.",
        },
        |_, args| {
            let total = args.int(1)?;
            let total = u64::try_from(total).map_err(|_| {
                PrimitiveError::new(format!("expected a count of 0 or more, found {total}"))
            })?;
            Ok(Dynamic::from(Batch::new(&args.str(0)?, total)))
        },
    );
    module.local(
        Signature {
            name: "spinner",
            params: &[("what", ParamType::Str)],
            returns: "progress",
            doc: "Starts a spinner named `what` for a step of unknown length; end it with\n\
                  `progress::finish`.",
        },
        |_, args| Ok(Dynamic::from(Batch::new(&args.str(0)?, 0))),
    );
    module.local(
        Signature {
            name: "advance",
            params: &[("progress", ParamType::Any), ("items", ParamType::Int)],
            returns: "()",
            doc: "`items` more done on a bar `progress::start` returned.",
        },
        |_, args| {
            let items = args.int(1)?;
            let items = u64::try_from(items).map_err(|_| {
                PrimitiveError::new(format!("expected a count of 0 or more, found {items}"))
            })?;
            handle(args, 0)?.advance(items);
            Ok(Dynamic::UNIT)
        },
    );
    module.local(
        Signature {
            name: "finish",
            params: &[("progress", ParamType::Any)],
            returns: "()",
            doc: "Ends a bar or spinner: a bar stays on the terminal at its final count.",
        },
        |_, args| {
            handle(args, 0)?.finish();
            Ok(Dynamic::UNIT)
        },
    );
    module
}
