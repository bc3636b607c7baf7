//! `monitor::` — GitHub rate limits of every configured credential (the `[github]` one and
//! each `[[github.credentials]]`), checked concurrently, each window recorded in SQLite so the
//! next check knows the burn rate and when the window runs out at it.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map};
use serde_json::Value;

use super::rate_projection::{Observation, project};
use crate::clients::github::{GithubClient, GithubError};
use crate::engine::RunContext;
use crate::engine::gate::{ModuleBuilder, PrimitiveError, Signature};
use crate::store::{RateLimitCheck, format_ms, now_ms};

/// One credential's answer to `GET /rate_limit`.
struct Answered {
    name: String,
    kind: String,
    answer: Result<Value, String>,
}

/// Asks every watched credential at once.
fn ask_all(context: &RunContext) -> Result<Vec<Answered>, PrimitiveError> {
    let key = context.fingerprint_key()?;
    let runtime = context
        .runtime()
        .ok_or_else(|| PrimitiveError::new("no async runtime in this mode"))?;
    let _entered = runtime.enter();
    let watched =
        context
            .remote()
            .watched_github(context.config(), key, runtime, context.cancellation());
    let asked = context.block_on(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for (index, credential) in watched.into_iter().enumerate() {
            tasks.spawn(async move {
                let answer = match credential.client {
                    Ok(client) => rate_limit(client).await.map_err(|e| e.to_string()),
                    Err(why) => Err(why),
                };
                (
                    index,
                    Answered {
                        name: credential.name,
                        kind: credential.kind,
                        answer,
                    },
                )
            });
        }
        let mut answered = Vec::new();
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(pair) => answered.push(pair),
                Err(e) => return Err(format!("a rate-limit check did not finish: {e}")),
            }
        }
        answered.sort_by_key(|(index, _)| *index);
        Ok(answered.into_iter().map(|(_, a)| a).collect::<Vec<_>>())
    })?;
    asked.map_err(PrimitiveError::new)
}

async fn rate_limit(client: Arc<GithubClient>) -> Result<Value, GithubError> {
    client.rate_limit().await
}

/// The windows of one answer, by resource name, with the fields GitHub always sends.
fn windows(answer: &Value) -> Vec<(String, [i64; 4])> {
    let Some(resources) = answer.get("resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter_map(|(name, window)| {
            let field = |f: &str| window.get(f).and_then(Value::as_i64);
            Some((
                name.clone(),
                [
                    field("limit")?,
                    field("remaining")?,
                    field("used")?,
                    field("reset")?,
                ],
            ))
        })
        .collect()
}

fn check_row(check: &RateLimitCheck, now_secs: i64) -> Dynamic {
    let mut row = Map::new();
    row.insert("credential".into(), check.credential.clone().into());
    row.insert("kind".into(), check.kind.clone().into());
    row.insert("resource".into(), check.resource.clone().into());
    row.insert("limit".into(), check.limit.into());
    row.insert("remaining".into(), check.remaining.into());
    row.insert("used".into(), check.used.into());
    let percent_left = if check.limit > 0 {
        check.remaining as f64 * 100.0 / check.limit as f64
    } else {
        0.0
    };
    row.insert("percent_left".into(), percent_left.into());
    row.insert("reset".into(), check.reset_at.into());
    row.insert("reset_at".into(), format_ms(check.reset_at * 1000).into());
    row.insert(
        "reset_in_minutes".into(),
        ((check.reset_at - now_secs).max(0) / 60).into(),
    );
    row.insert(
        "burn_per_hour".into(),
        check.burn_per_hour.map_or(Dynamic::UNIT, Dynamic::from),
    );
    row.insert(
        "exhausts_at".into(),
        check
            .exhausts_at
            .map_or(Dynamic::UNIT, |at| format_ms(at * 1000).into()),
    );
    row.insert(
        "exhausts_in_minutes".into(),
        check
            .exhausts_at
            .map_or(Dynamic::UNIT, |at| ((at - now_secs).max(0) / 60).into()),
    );
    row.into()
}

/// Checks every watched credential; records each window unless this is a plan.
pub fn check_all(context: &RunContext) -> Result<Map, PrimitiveError> {
    let answered = ask_all(context)?;
    let store = context.store();
    let at_ms = now_ms();
    let now_secs = at_ms.div_euclid(1000);
    let mut checks = Array::new();
    let mut failures = Array::new();
    for credential in answered {
        let answer = match credential.answer {
            Ok(answer) => answer,
            Err(error) => {
                let mut failure = Map::new();
                failure.insert("credential".into(), credential.name.into());
                failure.insert("kind".into(), credential.kind.into());
                failure.insert("error".into(), error.into());
                failures.push(failure.into());
                continue;
            }
        };
        for (resource, [limit, remaining, used, reset_at]) in windows(&answer) {
            let previous = match store {
                Some(store) => store
                    .last_rate_limit(&credential.name, &resource)
                    .map_err(|e| PrimitiveError::new(e.to_string()))?,
                None => None,
            };
            let projection = project(
                previous.as_ref(),
                Observation {
                    at_ms,
                    remaining,
                    used,
                    reset_at,
                },
            );
            let check = RateLimitCheck {
                run_id: context.run_id().map(|id| id.0),
                checked_at: at_ms,
                credential: credential.name.clone(),
                kind: credential.kind.clone(),
                resource,
                limit,
                remaining,
                used,
                reset_at,
                burn_per_hour: projection.burn_per_hour,
                exhausts_at: projection.exhausts_at,
            };
            if let Some(store) = store.filter(|_| !context.is_plan()) {
                store
                    .record_rate_limit(&check)
                    .map_err(|e| PrimitiveError::new(e.to_string()))?;
            }
            checks.push(check_row(&check, now_secs));
        }
    }
    let mut result = Map::new();
    result.insert("checks".into(), checks.into());
    result.insert("failures".into(), failures.into());
    Ok(result)
}

/// Registers `monitor::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.read(
        Signature {
            name: "github_rate_limits",
            params: &[],
            returns: "map",
            doc: "Every watched GitHub credential's rate-limit windows, checked concurrently:\n\
                  #{checks: [#{credential, kind, resource, limit, remaining, used, percent_left,\n\
                  reset, reset_at, reset_in_minutes, burn_per_hour, exhausts_at,\n\
                  exhausts_in_minutes}], failures: [#{credential, kind, error}]}. burn_per_hour\n\
                  is since the previous check (() on the first); exhausts_at is set only when the\n\
                  window runs out before it resets. Recorded for the next check, except in a plan.",
        },
        |_| "GitHub /rate_limit of every watched credential".to_owned(),
        |context, _| Ok(check_all(context)?.into()),
    );
    module.local(
        Signature {
            name: "rate_limit_thresholds",
            params: &[],
            returns: "map",
            doc: "The configured thresholds, [rate_limits] in orchestra.toml:\n\
                  #{warning_percent, critical_percent} (the share of a window left).",
        },
        |context, _| {
            let settings = &context.config().rate_limits;
            let mut map = Map::new();
            map.insert("warning_percent".into(), settings.warning_percent.into());
            map.insert("critical_percent".into(), settings.critical_percent.into());
            Ok(map.into())
        },
    );
    module
}
