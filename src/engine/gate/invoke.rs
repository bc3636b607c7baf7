//! What happens when a playbook calls a primitive: the time-out check, the plan gate, the
//! service breaker, the journal, and the error the script sees.

use rhai::{Dynamic, EvalAltResult, Map, Position};

use super::{Args, Behaviour, Primitive, PrimitiveError, RhaiResult};
use crate::engine::context::{PlannedChange, RunContext};
use crate::store::{StepEffect, StepStatus};

pub(super) fn invoke(primitive: &Primitive, context: &RunContext, args: &Args) -> RhaiResult {
    if let Some(reason) = context.termination() {
        return Err(crate::engine::sandbox::terminated(reason, context));
    }
    let name = primitive.qualified.as_str();
    let result = match &primitive.behaviour {
        Behaviour::Local(call) => call(context, args),
        Behaviour::Control(_) => Err(PrimitiveError::new("called without a script context")),
        Behaviour::Read(target, call) => {
            let target = target(args);
            journaled(context, name, StepEffect::Read, &target, "", || {
                guarded(context, primitive.service, || call(context, args))
            })
        }
        Behaviour::CachedRead(probe, target, call) => match probe(context, args) {
            Ok(Some(hit)) => Ok(hit),
            Ok(None) => {
                let target = target(args);
                journaled(context, name, StepEffect::Read, &target, "", || {
                    guarded(context, primitive.service, || call(context, args))
                })
            }
            Err(e) => Err(e),
        },
        Behaviour::Mutate(describe, apply) => {
            let change = describe(context, args).map_err(|e| raise(name, e))?;
            if context.is_plan() {
                let detail = change.detail();
                context
                    .begin_step(
                        name,
                        StepEffect::Mutate,
                        &change.target,
                        StepStatus::Planned,
                        &detail,
                    )
                    .map_err(|e| raise(name, e.into()))?;
                context.record_planned(PlannedChange {
                    primitive: name.to_owned(),
                    scope: primitive.scope,
                    target: change.target.clone(),
                    summary: change.summary(),
                    fields: change.fields.clone(),
                });
                return Ok(change.placeholder);
            }
            journaled(
                context,
                name,
                StepEffect::Mutate,
                &change.target,
                &change.detail(),
                || guarded(context, primitive.service, || apply(context, args, &change)),
            )
        }
    };
    result.map_err(|e| raise(name, e))
}

/// Runs `call` through the service's breaker, when the primitive has one and the run has a store.
fn guarded(
    context: &RunContext,
    service: Option<&str>,
    call: impl FnOnce() -> Result<Dynamic, PrimitiveError>,
) -> Result<Dynamic, PrimitiveError> {
    let (Some(service), Some(store)) = (service, context.store()) else {
        return call();
    };
    let name = format!("service:{service}");
    let breakers = crate::clients::breaker::Breakers::for_run(store.clone(), context.is_plan());
    let policy = crate::clients::breaker::BreakerPolicy::default();
    let store_error = |e: crate::store::StoreError| PrimitiveError::new(e.to_string());
    let admitted = breakers.admit_call(&name, policy).map_err(store_error)?;
    if let crate::clients::breaker::Admission::Refused {
        retry_in,
        failures,
        last_error,
    } = &admitted.admission
    {
        return Err(PrimitiveError::new(format!(
            "the {service} circuit breaker is open after {failures} failure(s), so no request was sent; next trial in {}{} (`orchestra breakers` shows it, `orchestra breakers reset {name}` closes it)",
            humantime::format_duration(std::time::Duration::from_secs(retry_in.as_secs().max(1))),
            last_error
                .as_ref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        )));
    }
    let result = call();
    match &result {
        Err(e) if e.is_service_failure() => {
            breakers
                .record_failure(&name, policy, &e.message)
                .map_err(store_error)?;
        }
        _ => breakers
            .record_success_after(&name, policy, &admitted)
            .map_err(store_error)?,
    }
    result
}

fn journaled(
    context: &RunContext,
    name: &str,
    effect: StepEffect,
    target: &str,
    intent: &str,
    call: impl FnOnce() -> Result<Dynamic, PrimitiveError>,
) -> Result<Dynamic, PrimitiveError> {
    let step = context.begin_step(name, effect, target, StepStatus::Started, intent)?;
    let result = call();
    #[cfg(debug_assertions)]
    if effect == StepEffect::Mutate && result.is_ok() {
        kill_switch::after_mutation();
    }
    match &result {
        Ok(_) => context.finish_step(step, StepStatus::Succeeded, intent),
        Err(e) => context.finish_step(step, StepStatus::Failed, &e.message),
    }
    result
}

/// Turns a primitive's failure into the error the script sees: a map naming the primitive.
/// Rhai fills in the call position.
///
/// The message is not masked: the script can read it, and a mask it can read is an equality
/// oracle (echo a string of guesses through an error, see which one came back masked). Secret
/// bytes never reach a message to begin with (`secret::shape`); where the error goes on to a
/// sink the script cannot read (the terminal, the log, the journal), that sink masks it.
pub fn raise(primitive: &str, error: PrimitiveError) -> Box<EvalAltResult> {
    let mut map = Map::new();
    map.insert("primitive".into(), primitive.into());
    map.insert("message".into(), error.message.into());
    if let Some(status) = error.status {
        map.insert("status".into(), Dynamic::from_int(i64::from(status)));
    }
    Box::new(EvalAltResult::ErrorRuntime(map.into(), Position::NONE))
}

/// Test builds only: `ORCHESTRA_TEST_KILL_AFTER_MUTATION=N` SIGKILLs the process right after
/// the N-th change of the run took effect and before the journal records it, the worst moment
/// to die. The kill tests enumerate every N of a rotation this way.
#[cfg(debug_assertions)]
mod kill_switch {
    use std::sync::atomic::{AtomicU64, Ordering};

    static MUTATIONS: AtomicU64 = AtomicU64::new(0);

    pub fn after_mutation() {
        let done = MUTATIONS.fetch_add(1, Ordering::SeqCst) + 1;
        let target = std::env::var("ORCHESTRA_TEST_KILL_AFTER_MUTATION")
            .ok()
            .and_then(|n| n.parse::<u64>().ok());
        if target == Some(done) {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        }
    }
}
