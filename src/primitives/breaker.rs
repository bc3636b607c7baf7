//! `breaker::` — guard any call in a named circuit breaker whose state outlives the run.
//!
//! `breaker::guard("vector-search", #{threshold: 5, recovery: 30}, || search(q))` runs the
//! closure while the breaker is closed, refuses at once while it is open, and lets one trial
//! through after the recovery time. A time-out or Ctrl-C inside the closure is not counted as
//! the service failing.

use std::time::Duration;

use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};

use crate::clients::breaker::{Admission, BreakerPolicy, Breakers};
use crate::engine::gate::{ModuleBuilder, ParamType, PrimitiveError, Signature, raise};
use crate::engine::{RunContext, diagnostic, ranges};

const CALL: &str = "breaker::guard";

/// Reads `#{threshold, recovery}` (recovery in seconds), with defaults 5 and 30.
pub fn policy_from(options: &Map) -> Result<BreakerPolicy, PrimitiveError> {
    let mut policy = BreakerPolicy::default();
    for (key, value) in options {
        match key.as_str() {
            "threshold" => {
                policy.threshold = value
                    .as_int()
                    .ok()
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        PrimitiveError::new(format!(
                            "threshold must be a positive integer, found {value}"
                        ))
                    })?;
            }
            "recovery" => {
                policy.recovery = ranges::seconds(value, "recovery", ranges::MAX_SCRIPT_SECONDS)
                    .map_err(PrimitiveError::new)?;
            }
            other => {
                return Err(PrimitiveError::new(format!(
                    "unknown option `{other}`: expected threshold or recovery"
                )));
            }
        }
    }
    Ok(policy)
}

fn breakers(context: &RunContext) -> Result<Breakers, PrimitiveError> {
    context
        .store()
        .map(|store| Breakers::for_run(store.clone(), context.is_plan()))
        .ok_or_else(|| PrimitiveError::new("no state database in this mode"))
}

fn call(
    native: &NativeCallContext,
    context: &RunContext,
    name: &str,
    options: &Map,
    function: &rhai::FnPtr,
) -> Result<Dynamic, Box<EvalAltResult>> {
    let policy = policy_from(options).map_err(|e| raise(CALL, e))?;
    let breakers = breakers(context).map_err(|e| raise(CALL, e))?;
    let store_error = |e: crate::store::StoreError| raise(CALL, PrimitiveError::new(e.to_string()));
    match breakers.admit(name, policy).map_err(store_error)? {
        Admission::Refused {
            retry_in,
            failures,
            last_error,
        } => {
            let last = last_error
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default();
            return Err(raise(
                CALL,
                PrimitiveError::new(format!(
                    "breaker `{name}` is open after {failures} failure(s); next trial in {}{last}",
                    humantime::format_duration(Duration::from_secs(retry_in.as_secs().max(1)))
                )),
            ));
        }
        Admission::Trial => {
            tracing::info!("breaker `{name}` is half-open: letting one trial call through");
        }
        Admission::Allowed => {}
    }
    match function.call_within_context::<Dynamic>(native, ()) {
        Ok(value) => {
            breakers.record_success(name, policy).map_err(store_error)?;
            Ok(value)
        }
        Err(err) => {
            if !matches!(*err, EvalAltResult::ErrorTerminated(..)) {
                let message = failure_message(&err);
                let state = breakers
                    .record_failure(name, policy, &message)
                    .map_err(store_error)?;
                tracing::warn!("breaker `{name}` counted a failure ({state}): {message}");
            }
            Err(err)
        }
    }
}

fn failure_message(err: &EvalAltResult) -> String {
    let mut inner = err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, next, _) = inner {
        inner = next;
    }
    match inner {
        EvalAltResult::ErrorRuntime(value, _) => diagnostic::describe_thrown(value),
        other => other.to_string(),
    }
}

/// Registers `breaker::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.control(
        Signature {
            name: "guard",
            params: &[
                ("name", ParamType::Str),
                ("options", ParamType::Map),
                ("function", ParamType::Function),
            ],
            returns: "any",
            doc: "Calls `function` through circuit breaker `name`: refused at once while the\n\
                  breaker is open, one trial after `recovery` seconds. Options: threshold\n\
                  (consecutive failures that open it, default 5), recovery (seconds, default 30).\n\
                  State is kept in the state database, so it survives the run.",
        },
        |native, context, args| {
            let name = args.str(0).map_err(|e| raise(CALL, e))?;
            let options = args.map(1).map_err(|e| raise(CALL, e))?;
            let function = args.function(2).map_err(|e| raise(CALL, e))?;
            call(native, context, &name, &options, &function)
        },
    );
    module.local(
        Signature {
            name: "state",
            params: &[("name", ParamType::Str)],
            returns: "map",
            doc: "The state of breaker `name`: #{state, failures, threshold, last_error}\n\
                  (state is \"closed\", \"open\" or \"half_open\").",
        },
        |context, args| {
            let name = args.str(0)?;
            let store = context
                .store()
                .ok_or_else(|| PrimitiveError::new("no state database in this mode"))?;
            let record = store
                .breakers()
                .map_err(|e| PrimitiveError::new(e.to_string()))?
                .into_iter()
                .find(|b| b.name == name.as_str());
            let mut map = Map::new();
            match record {
                Some(b) => {
                    map.insert("state".into(), b.state.as_str().into());
                    map.insert("failures".into(), Dynamic::from_int(i64::from(b.failures)));
                    map.insert(
                        "threshold".into(),
                        Dynamic::from_int(i64::from(b.threshold)),
                    );
                    map.insert(
                        "last_error".into(),
                        b.last_error.map_or(Dynamic::UNIT, Dynamic::from),
                    );
                }
                None => {
                    map.insert("state".into(), "closed".into());
                    map.insert("failures".into(), Dynamic::from_int(0));
                }
            }
            Ok(map.into())
        },
    );
    module
}
