//! `run::` — what a playbook may know about its own run: its id, plan mode, the time, and when
//! it is next due if a schedule runs it.

use std::path::Path;

use rhai::{Dynamic, Map};

use crate::engine::RunContext;
use crate::engine::gate::{ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::schedule::{Interval, crontab};
use crate::store::format_ms;

/// A schedule that runs this playbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// `orchestra.toml` (the daemon's `[[schedules]]`) or `crontab`.
    pub source: &'static str,
    /// How often.
    pub every: Interval,
    /// When it is next due (seconds since the epoch).
    pub next_due: i64,
}

fn stem(playbook: &str) -> &str {
    Path::new(playbook)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(playbook)
}

/// The schedule that runs `playbook`, if any: a `[[schedules]]` entry (due one interval from
/// now, as the daemon counts), else a crontab line orchestra wrote (due at the next boundary
/// of its interval, as cron counts in UTC).
pub fn schedule_of(context: &RunContext, playbook: &str, now_secs: i64) -> Option<Scheduled> {
    let name = stem(playbook);
    if let Some(entry) = context
        .config()
        .schedules
        .iter()
        .find(|s| stem(&s.playbook) == name)
    {
        let every = entry.every;
        return Some(Scheduled {
            source: "orchestra.toml",
            every,
            next_due: now_secs + every.duration().as_secs() as i64,
        });
    }
    let text = crontab::Crontab::choose(None).read().ok()?;
    crontab::entries(&text).into_iter().find_map(|entry| {
        let mut words = entry.command.split_whitespace();
        words.find(|w| *w == "play")?;
        let played = words.next()?.trim_matches('\'');
        if stem(played) != name {
            return None;
        }
        let every = Interval::from_cron_expression(&entry.cron)?;
        let step = (every.duration().as_secs() as i64).max(1);
        Some(Scheduled {
            source: "crontab",
            every,
            next_due: (now_secs.div_euclid(step) + 1) * step,
        })
    })
}

fn now_secs() -> i64 {
    crate::clock::now_secs()
}

/// The runs this one continues, nearest first: the run it resumes, the run that one resumed,
/// and so on to the run that started the chain. Empty when this run is no resume.
fn resumed_runs(context: &RunContext) -> Vec<i64> {
    let Some(parent) = context.resumes() else {
        return Vec::new();
    };
    let chain = context
        .store()
        .and_then(|store| store.resume_chain(parent).ok())
        .unwrap_or_default();
    if chain.is_empty() {
        // No store to walk (a unit test): at least the run it names.
        return vec![parent.0];
    }
    chain.into_iter().map(|id| id.0).collect()
}

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
    module.local(
        Signature {
            name: "resumes",
            params: &[],
            returns: "int",
            doc: "The id of the run this one resumes (`orchestra resume RUN_ID`), or 0.",
        },
        |context, _| Ok(Dynamic::from_int(context.resumes().map_or(0, |id| id.0))),
    );
    module.local(
        Signature {
            name: "resumed_runs",
            params: &[],
            returns: "array",
            doc: "Every run this one continues, nearest first: the run it resumes, the run that one\n\
                  resumed, … up to the run that started the chain ([] when this run is no resume).",
        },
        |context, _| {
            Ok(resumed_runs(context)
                .into_iter()
                .map(Dynamic::from_int)
                .collect::<rhai::Array>()
                .into())
        },
    );
    module.local(
        Signature {
            name: "parse_time",
            params: &[("text", ParamType::Str)],
            returns: "int",
            doc: "An RFC 3339 time (e.g. a key's `created`, a version's `created`) in seconds since\n\
                  the epoch.",
        },
        |_, args| {
            let text = args.str(0)?;
            chrono::DateTime::parse_from_rfc3339(&text)
                .map(|t| Dynamic::from_int(t.timestamp()))
                .map_err(|_| {
                    PrimitiveError::new(format!(
                        "expected an RFC 3339 time such as 2026-03-01T12:00:00Z, found '{text}'"
                    ))
                })
        },
    );
    module.local(
        Signature {
            name: "now",
            params: &[],
            returns: "int",
            doc: "The time, in seconds since the epoch (UTC). Test builds: ORCHESTRA_TEST_NOW moves it.",
        },
        |_, _| Ok(Dynamic::from_int(now_secs())),
    );
    module.local(
        Signature {
            name: "time_text",
            params: &[("seconds", ParamType::Int)],
            returns: "string",
            doc: "`seconds` since the epoch as RFC 3339 (UTC), e.g. 2026-12-01T12:00:00Z.",
        },
        |_, args| Ok(format_ms(args.int(0)?.saturating_mul(1000)).into()),
    );
    module.local(
        Signature {
            name: "local_time_text",
            params: &[("seconds", ParamType::Int)],
            returns: "string",
            doc: "`seconds` since the epoch in the operator's local zone (TZ, else /etc/localtime),\n\
                  e.g. 2026-12-01 13:00 (UTC+01:00); for what a person reads, not for JSON.",
        },
        |_, args| Ok(local_time_text(args.int(0)?).into()),
    );
    module.local(
        Signature {
            name: "schedule",
            params: &[],
            returns: "map",
            doc: "The schedule that runs this playbook: #{source: \"orchestra.toml\"|\"crontab\",\n\
                  every (as humantime writes it), every_secs, next_due (RFC 3339), next_due_secs},\n\
                  or () when none does.",
        },
        |context, _| {
            let Some(store) = context.store() else {
                return Ok(Dynamic::UNIT);
            };
            let Some(run) = context.run_id().and_then(|id| store.run(id).ok().flatten()) else {
                return Ok(Dynamic::UNIT);
            };
            let now = now_secs();
            Ok(match schedule_of(context, &run.playbook, now) {
                Some(found) => {
                    let mut map = Map::new();
                    map.insert("source".into(), found.source.into());
                    map.insert("every".into(), found.every.to_string().into());
                    map.insert(
                        "every_secs".into(),
                        Dynamic::from_int(
                            i64::try_from(found.every.duration().as_secs()).unwrap_or(i64::MAX),
                        ),
                    );
                    map.insert("next_due".into(), format_ms(found.next_due * 1000).into());
                    map.insert("next_due_secs".into(), Dynamic::from_int(found.next_due));
                    map.into()
                }
                None => Dynamic::UNIT,
            })
        },
    );
    module
}

/// `seconds` since the epoch in the local zone, minutes precision, with the offset named.
fn local_time_text(seconds: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(seconds, 0).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M (UTC%:z)").to_string(),
        None => format_ms(seconds.saturating_mul(1000)),
    }
}
