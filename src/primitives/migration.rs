//! `migration::` — what a migration phase's playbook knows of its phase and tells about it:
//! the phase's settings from `migration.toml`, metrics it records, drift its verification
//! finds, and checks orchestra cannot make (the phase is then `unknown`, never `completed`).
//!
//! A run belongs to a phase when `orchestra migrate execute` or `verify` started it; the store
//! says which. Drift and unknown are journaled as events of the run (a plan writes those too),
//! which is where `migrate` reads them; metrics are run state, so a plan only lists them.

use rhai::{Array, Dynamic, Map};

use crate::engine::RunContext;
use crate::engine::gate::{Change, ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::engine::values::from_json;
use crate::migrate::Migration;
use crate::migrate::execute::{DRIFT_EVENT, UNKNOWN_EVENT};
use crate::store::{PhaseRunRecord, Store};

/// Longest metric name accepted.
const MAX_METRIC_NAME: usize = 100;

fn store(context: &RunContext) -> Result<&Store, PrimitiveError> {
    context
        .store()
        .ok_or_else(|| PrimitiveError::new("no state database in this mode"))
}

/// The phase run this run belongs to.
fn phase_run(context: &RunContext) -> Result<PhaseRunRecord, PrimitiveError> {
    let not_a_phase = || {
        PrimitiveError::new(
            "this run is not a migration phase: run it with `orchestra migrate execute --phase NAME` (or `migrate verify`)",
        )
    };
    let run_id = context.run_id().ok_or_else(not_a_phase)?;
    store(context)?
        .phase_run_of(run_id)
        .map_err(|e| PrimitiveError::new(e.to_string()))?
        .ok_or_else(not_a_phase)
}

fn migration_of(record: &PhaseRunRecord) -> Result<Migration, PrimitiveError> {
    Migration::load(std::path::Path::new(&record.file))
        .map_err(|e| PrimitiveError::new(e.to_string()))
}

/// `migration::phase()`: the phase's name, description, project and settings.
pub fn phase(context: &RunContext) -> Result<Map, PrimitiveError> {
    let record = phase_run(context)?;
    let migration = migration_of(&record)?;
    let phase = migration
        .phase(&record.phase)
        .map_err(|e| PrimitiveError::new(e.to_string()))?;
    let settings = serde_json::to_value(&phase.settings)
        .map_err(|e| PrimitiveError::new(format!("the phase's settings: {e}")))?;
    let mut map = Map::new();
    map.insert("name".into(), phase.name.clone().into());
    map.insert("description".into(), phase.description.clone().into());
    map.insert("migration".into(), migration.name.clone().into());
    map.insert("project".into(), migration.project.clone().into());
    map.insert("settings".into(), from_json(&settings));
    Ok(map)
}

fn metric_value(value: &Dynamic) -> Result<f64, PrimitiveError> {
    if let Ok(int) = value.as_int() {
        return Ok(int as f64);
    }
    match value.as_float() {
        Ok(float) if float.is_finite() => Ok(float),
        _ => Err(PrimitiveError::new(format!(
            "expected a number for the metric's value, found {}",
            value.type_name()
        ))),
    }
}

fn metric_name(name: &str) -> Result<String, PrimitiveError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_METRIC_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(PrimitiveError::new(format!(
            "expected a metric name of letters, digits, '_', '.' or '-' (at most {MAX_METRIC_NAME}), found '{name}'"
        )))
    }
}

fn describe_metric(
    args: &crate::engine::gate::Args,
    scope: &str,
) -> Result<Change, PrimitiveError> {
    let name = metric_name(&args.str(0)?)?;
    let value = metric_value(args.any(1)?)?;
    Ok(Change {
        target: format!("{scope} metric {name}"),
        action: format!("record {scope} metric {name} = {value}"),
        fields: Vec::new(),
        placeholder: Dynamic::UNIT,
    })
}

fn record_metric(
    context: &RunContext,
    args: &crate::engine::gate::Args,
    of_phase: bool,
) -> Result<Dynamic, PrimitiveError> {
    let name = metric_name(&args.str(0)?)?;
    let value = metric_value(args.any(1)?)?;
    let record = phase_run(context)?;
    store(context)?
        .migration_metric_record(
            &record.migration,
            of_phase.then_some(record.phase.as_str()),
            &name,
            value,
            context.run_id(),
        )
        .map_err(|e| PrimitiveError::new(e.to_string()))?;
    Ok(Dynamic::UNIT)
}

/// `migration::metrics()`: the latest value of every metric of the migration, by name.
pub fn metrics(context: &RunContext) -> Result<Map, PrimitiveError> {
    let record = phase_run(context)?;
    let recorded = store(context)?
        .migration_metrics(&record.migration)
        .map_err(|e| PrimitiveError::new(e.to_string()))?;
    let mut map = Map::new();
    for metric in recorded {
        map.insert(metric.name.into(), Dynamic::from_float(metric.value));
    }
    Ok(map)
}

/// `migration::targets()`: every metric target the phases declare.
pub fn targets(context: &RunContext) -> Result<Array, PrimitiveError> {
    let migration = migration_of(&phase_run(context)?)?;
    Ok(migration
        .targets()
        .map(|(phase, target)| {
            let mut map = Map::new();
            map.insert("phase".into(), phase.name.clone().into());
            map.insert("name".into(), target.name.clone().into());
            map.insert(
                "at_most".into(),
                target.at_most.map_or(Dynamic::UNIT, Dynamic::from_float),
            );
            map.insert(
                "at_least".into(),
                target.at_least.map_or(Dynamic::UNIT, Dynamic::from_float),
            );
            map.insert("target".into(), target.describe().into());
            Dynamic::from_map(map)
        })
        .collect())
}

/// Registers `migration::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "phase",
            params: &[],
            returns: "map",
            doc: "The migration phase this run belongs to: #{ name, description, migration, project, settings } (settings: its [phases.settings] table in migration.toml).",
        },
        |context, _| phase(context).map(Dynamic::from_map),
    );
    module.mutate(
        Signature {
            name: "metric",
            params: &[("name", ParamType::Str), ("value", ParamType::Any)],
            returns: "()",
            doc: "Records metric `name` = `value` (a number) of this run's phase; shown by `migrate status`, `report` and `monitor`. A plan only lists it.",
        },
        |_, args| describe_metric(args, "phase"),
        |context, args, _| record_metric(context, args, true),
    );
    module.mutate(
        Signature {
            name: "global_metric",
            params: &[("name", ParamType::Str), ("value", ParamType::Any)],
            returns: "()",
            doc: "Records migration-wide metric `name` = `value` (a number). A plan only lists it.",
        },
        |_, args| describe_metric(args, "migration"),
        |context, args, _| record_metric(context, args, false),
    );
    module.local(
        Signature {
            name: "metrics",
            params: &[],
            returns: "map",
            doc: "The latest value of every metric this migration recorded, by name.",
        },
        |context, _| metrics(context).map(Dynamic::from_map),
    );
    module.local(
        Signature {
            name: "targets",
            params: &[],
            returns: "array",
            doc: "Every metric target in migration.toml: [#{ phase, name, at_most, at_least, target }] (an unset bound is ()).",
        },
        |context, _| targets(context).map(Dynamic::from_array),
    );
    module.local(
        Signature {
            name: "drift",
            params: &[
                ("what", ParamType::Str),
                ("expected", ParamType::Str),
                ("found", ParamType::Str),
            ],
            returns: "()",
            doc: "Reports that `what` is not as declared: `migrate verify` exits 2 listing it, and `execute` marks the phase failed.",
        },
        |context, args| {
            let message = format!(
                "{}: expected {}, found {}",
                args.str(0)?,
                args.str(1)?,
                args.str(2)?
            );
            context.print(&format!("drift: {message}"));
            context.event(DRIFT_EVENT, &message);
            Ok(Dynamic::UNIT)
        },
    );
    module.local(
        Signature {
            name: "unknown",
            params: &[("reason", ParamType::Str)],
            returns: "()",
            doc: "Says this phase's checks cannot be made by orchestra (and why): the phase ends `unknown`, never `completed`.",
        },
        |context, args| {
            let reason = args.str(0)?;
            context.event(UNKNOWN_EVENT, &reason);
            Ok(Dynamic::UNIT)
        },
    );
    module
}
