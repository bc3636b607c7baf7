//! `run::` — what a playbook may know about its own run.

use rhai::Dynamic;

use crate::engine::gate::{ModuleBuilder, Signature};

/// Registers `run::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "id",
            params: &[],
            returns: "int",
            doc: "The id of this run, as `orchestra runs` shows it (0 outside a recorded run).",
        },
        |context, _| Ok(Dynamic::from_int(context.run_id().map_or(0, |id| id.0))),
    );
    module.local(
        Signature {
            name: "is_plan",
            params: &[],
            returns: "bool",
            doc: "True under --plan: reads are real, changes are only listed.",
        },
        |context, _| Ok(context.is_plan().into()),
    );
    module
}
