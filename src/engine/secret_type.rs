//! The Rhai face of [`Secret`]: its type name, its redacted text forms, `fingerprint()`, and
//! refusals for every operator that could be used to probe the value.

use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString, Position};

use super::context::RunContext;
use crate::secret::Secret;

/// Registers the `Secret` type with `engine`.
pub fn register(engine: &mut Engine, _context: Arc<RunContext>) {
    engine.register_type_with_name::<Secret>("Secret");
    engine.register_fn("to_string", |s: &mut Secret| s.redacted());
    engine.register_fn("to_debug", |s: &mut Secret| s.redacted());
    engine.register_fn("fingerprint", |s: &mut Secret| s.short_fingerprint());
    engine.register_fn("is_empty", |s: &mut Secret| s.is_empty());
    // Rhai's own `to_json` writes a custom type as its Rust type path; these write a Secret as
    // `"Secret(fp:…)"`, alone or anywhere inside a map.
    engine.register_fn("to_json", |s: &mut Secret| {
        serde_json::Value::String(s.redacted()).to_string()
    });
    engine.register_fn("to_json", |map: &mut rhai::Map| {
        super::values::shown_json(&Dynamic::from_map(map.clone())).to_string()
    });

    // Comparing a secret with a guess would be an oracle; comparing two secrets tells nothing
    // fingerprints do not. Both are refused loudly rather than answering `false`.
    engine.register_fn("==", |_: Secret, _: ImmutableString| refuse_compare());
    engine.register_fn("==", |_: ImmutableString, _: Secret| refuse_compare());
    engine.register_fn("!=", |_: Secret, _: ImmutableString| refuse_compare());
    engine.register_fn("!=", |_: ImmutableString, _: Secret| refuse_compare());
    engine.register_fn("==", |_: Secret, _: Secret| refuse_compare());
    engine.register_fn("!=", |_: Secret, _: Secret| refuse_compare());
    for op in ["<", "<=", ">", ">="] {
        engine.register_fn(op, |_: Secret, _: ImmutableString| refuse_compare());
        engine.register_fn(op, |_: ImmutableString, _: Secret| refuse_compare());
    }
    engine.register_fn("contains", |_: &mut Secret, _: ImmutableString| {
        refuse_compare()
    });
    engine.register_fn("len", |_: &mut Secret| -> Result<rhai::INT, _> {
        Err(refusal("the length of a Secret is not readable"))
    });
}

fn refuse_compare() -> Result<bool, Box<EvalAltResult>> {
    Err(refusal(
        "a Secret cannot be compared; compare s.fingerprint() values instead",
    ))
}

fn refusal(message: &str) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(message.to_owned()),
        Position::NONE,
    ))
}
