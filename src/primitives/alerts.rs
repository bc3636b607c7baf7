//! `notify::alert` — alerts without noise: a message goes to Slack only when a condition
//! starts, escalates or clears, or is still on after `[notify].realert_after`; the state lives
//! in SQLite. A message that cannot be sent is kept and delivered by a later call (this run or
//! the next), never dropped silently.

use rhai::Dynamic;

use crate::clients::retry::RetryPolicy;
use crate::clients::slack;
use crate::engine::RunContext;
use crate::engine::gate::{Change, ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::store::{AlertRecord, Store, now_ms};

/// How bad a condition is, in order.
const SEVERITIES: [&str; 4] = ["ok", "info", "warning", "critical"];

fn rank(severity: &str) -> Option<usize> {
    SEVERITIES.iter().position(|s| *s == severity)
}

/// Why a message goes out now, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    /// The condition began.
    Starts,
    /// It got worse.
    Escalates,
    /// It went back to ok.
    Clears,
    /// Unchanged, but not announced for `realert_after`.
    Still,
}

/// Decides whether a change to `severity` is announced, given what was stored.
pub fn decide(
    previous: Option<&AlertRecord>,
    severity: usize,
    now: i64,
    realert_ms: i64,
) -> Option<Announce> {
    let before = previous.and_then(|p| rank(&p.severity)).unwrap_or(0);
    match (before, severity) {
        (0, 0) => None,
        (0, _) => Some(Announce::Starts),
        (_, 0) => Some(Announce::Clears),
        (b, s) if s > b => Some(Announce::Escalates),
        (b, s) if s == b => {
            let last = previous.and_then(|p| p.last_sent_at).unwrap_or(0);
            (now - last >= realert_ms).then_some(Announce::Still)
        }
        _ => None,
    }
}

fn text(announce: Announce, key: &str, severity: &str, message: &str) -> String {
    match announce {
        Announce::Clears => format!("[resolved] {key}: {message}"),
        Announce::Starts | Announce::Escalates => {
            format!("[{}] {key}: {message}", severity.to_uppercase())
        }
        Announce::Still => format!("[{}, still] {key}: {message}", severity.to_uppercase()),
    }
}

fn store(context: &RunContext) -> Result<&Store, PrimitiveError> {
    context
        .store()
        .ok_or_else(|| PrimitiveError::new("no state database in this mode"))
}

/// Sends `text` to the alerts channel; the error text when it could not.
fn deliver(context: &RunContext, text: &str) -> Result<(), String> {
    let channel = &context.config().notify.alerts_channel;
    let key = context.fingerprint_key()?;
    let webhook = context
        .remote()
        .slack_webhook(context.config(), key, channel)?;
    let policy = RetryPolicy::from_limits(&context.config().limits);
    context
        .block_on(slack::post(
            &webhook,
            &serde_json::json!({ "text": text }),
            &policy,
            context.cancellation(),
        ))?
        .map_err(|e| e.to_string())
}

/// Delivers every message kept from earlier failures.
fn flush(context: &RunContext, store: &Store) -> Result<(), PrimitiveError> {
    let err = |e: crate::store::StoreError| PrimitiveError::new(e.to_string());
    for key in store.unsent_alerts().map_err(err)? {
        let Some(mut record) = store.alert(&key).map_err(err)? else {
            continue;
        };
        let Some(text) = record.unsent.clone() else {
            continue;
        };
        match deliver(context, &text) {
            Ok(()) => {
                record.unsent = None;
                record.last_sent_at = Some(now_ms());
                store.put_alert(&record).map_err(err)?;
                tracing::info!("delivered the alert kept from an earlier failure: {key}");
            }
            Err(e) => tracing::warn!("the alert for {key} is still kept, Slack failed again: {e}"),
        }
    }
    Ok(())
}

/// Registers `notify::alert`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.mutate(
        Signature {
            name: "alert",
            params: &[("key", ParamType::Str), ("severity", ParamType::Str), ("message", ParamType::Str)],
            returns: "bool",
            doc: "Records condition `key` at `severity` (\"ok\", \"info\", \"warning\", \"critical\") and\n\
                  posts to [notify].alerts_channel only when it starts, escalates or clears, or after\n\
                  [notify].realert_after unchanged. A failed post is kept and sent by a later call.\n\
                  True when a message went out.",
        },
        |context, args| {
            let key = args.str(0)?;
            let severity = args.str(1)?;
            let rank = rank(&severity).ok_or_else(|| {
                PrimitiveError::new(format!(
                    "severity must be one of ok, info, warning, critical; found '{severity}'"
                ))
            })?;
            let previous = store(context)?.alert(&key).map_err(|e| PrimitiveError::new(e.to_string()))?;
            let realert = context.config().notify.realert_after.as_millis() as i64;
            let announce = decide(previous.as_ref(), rank, now_ms(), realert);
            let action = match announce {
                Some(a) => format!("alert {:?} {key} ({severity})", a).to_lowercase(),
                None => format!("record alert {key} as {severity} (no message)"),
            };
            Ok(Change {
                target: format!("alert {key}"),
                action,
                fields: vec![("message".into(), args.str(2)?.to_string())],
                placeholder: announce.is_some().into(),
            })
        },
        |context, args, _| {
            let store = store(context)?;
            flush(context, store)?;
            let (key, severity, message) = (args.str(0)?, args.str(1)?, args.str(2)?);
            let rank = rank(&severity).unwrap_or(0);
            let err = |e: crate::store::StoreError| PrimitiveError::new(e.to_string());
            let previous = store.alert(&key).map_err(err)?;
            let now = now_ms();
            let realert = context.config().notify.realert_after.as_millis() as i64;
            let announce = decide(previous.as_ref(), rank, now, realert);
            let changed = previous.as_ref().is_none_or(|p| p.severity != severity.as_str());
            let mut record = AlertRecord {
                key: key.to_string(),
                severity: severity.to_string(),
                message: message.to_string(),
                changed_at: if changed { now } else { previous.as_ref().map_or(now, |p| p.changed_at) },
                last_sent_at: previous.as_ref().and_then(|p| p.last_sent_at),
                unsent: previous.as_ref().and_then(|p| p.unsent.clone()),
            };
            let mut sent = false;
            if let Some(announce) = announce {
                let text = text(announce, &key, &severity, &message);
                match deliver(context, &text) {
                    Ok(()) => {
                        record.last_sent_at = Some(now);
                        record.unsent = None;
                        sent = true;
                    }
                    Err(e) => {
                        tracing::warn!("alert {key} kept for the next attempt: Slack failed: {e}");
                        record.unsent = Some(text);
                    }
                }
            }
            store.put_alert(&record).map_err(err)?;
            Ok(Dynamic::from(sent))
        },
    );
    module
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(severity: &str, last_sent_at: Option<i64>) -> AlertRecord {
        AlertRecord {
            key: "k".into(),
            severity: severity.into(),
            message: "m".into(),
            changed_at: 0,
            last_sent_at,
            unsent: None,
        }
    }

    #[test]
    fn starts_escalates_clears_and_stays_quiet_in_between() {
        assert_eq!(decide(None, 0, 0, 1000), None);
        assert_eq!(decide(None, 2, 0, 1000), Some(Announce::Starts));
        assert_eq!(
            decide(Some(&record("warning", Some(0))), 3, 10, 1000),
            Some(Announce::Escalates)
        );
        assert_eq!(
            decide(Some(&record("critical", Some(0))), 3, 10, 1000),
            None
        );
        assert_eq!(
            decide(Some(&record("critical", Some(0))), 3, 1000, 1000),
            Some(Announce::Still)
        );
        assert_eq!(
            decide(Some(&record("critical", Some(0))), 2, 10, 1000),
            None
        );
        assert_eq!(
            decide(Some(&record("warning", Some(0))), 0, 10, 1000),
            Some(Announce::Clears)
        );
    }
}
