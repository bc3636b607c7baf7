//! `ledger::` — the sync ledger in SQLite: what was last synced between a Secret Manager
//! secret and a GitHub target, as a keyed fingerprint (never a value), and the intent of a
//! write in flight. Writes are mutations: journaled, and only listed under `--plan`.
//!
//! Rows are maps: #{gcp, target, github} name the pair; the store refuses anything but a
//! fingerprint in a fingerprint field.

use rhai::{Array, Dynamic, Map};

use crate::engine::RunContext;
use crate::engine::gate::{Args, Change, ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::store::{LedgerEntry, LedgerIntent, LedgerKey, LedgerRecord, Store};

fn store(context: &RunContext) -> Result<&Store, PrimitiveError> {
    context
        .store()
        .ok_or_else(|| PrimitiveError::new("no state database in this mode"))
}

fn failed(error: crate::store::StoreError) -> PrimitiveError {
    PrimitiveError::new(error.to_string())
}

fn text(row: &Map, field: &str) -> Result<String, PrimitiveError> {
    row.get(field)
        .and_then(|v| v.clone().into_string().ok())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| PrimitiveError::new(format!("a ledger row needs a text `{field}`")))
}

fn optional_text(row: &Map, field: &str) -> Option<String> {
    row.get(field).and_then(|v| v.clone().into_string().ok())
}

fn key(row: &Map) -> Result<LedgerKey, PrimitiveError> {
    Ok(LedgerKey {
        gcp_secret: text(row, "gcp")?,
        target: text(row, "target")?,
        github_name: text(row, "github")?,
    })
}

fn rows(args: &Args) -> Result<Vec<Map>, PrimitiveError> {
    args.any(0)?
        .clone()
        .into_array()
        .map_err(|_| PrimitiveError::new("expected an array of ledger rows"))?
        .into_iter()
        .map(|row| {
            row.try_cast::<Map>()
                .ok_or_else(|| PrimitiveError::new("a ledger row must be a map"))
        })
        .collect()
}

fn record(row: &Map) -> Result<LedgerRecord, PrimitiveError> {
    Ok(LedgerRecord {
        key: key(row)?,
        fingerprint: text(row, "fingerprint")?,
        gcp_version: row.get("version").and_then(|v| v.as_int().ok()),
        github_updated_at: optional_text(row, "github_updated_at"),
        direction: text(row, "direction")?,
    })
}

/// GitHub's time format, to the second, so an intent compares with `updated_at` as text.
fn github_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn intent(row: &Map, since: &str) -> Result<(LedgerKey, LedgerIntent), PrimitiveError> {
    let kind = text(row, "kind")?;
    if kind != "push" && kind != "export" {
        return Err(PrimitiveError::new(format!(
            "an intent's kind is push or export, found '{kind}'"
        )));
    }
    Ok((
        key(row)?,
        LedgerIntent {
            kind,
            fingerprint: optional_text(row, "fingerprint"),
            since: since.to_owned(),
            github_updated_at: optional_text(row, "github_updated_at"),
        },
    ))
}

fn or_unit<T: Into<Dynamic>>(value: Option<T>) -> Dynamic {
    value.map_or(Dynamic::UNIT, Into::into)
}

fn entry_map(entry: LedgerEntry) -> Dynamic {
    let mut map = Map::new();
    map.insert("gcp".into(), entry.key.gcp_secret.into());
    map.insert("target".into(), entry.key.target.into());
    map.insert("github".into(), entry.key.github_name.into());
    map.insert("fingerprint".into(), or_unit(entry.fingerprint));
    map.insert("version".into(), or_unit(entry.gcp_version));
    map.insert("github_updated_at".into(), or_unit(entry.github_updated_at));
    map.insert("direction".into(), or_unit(entry.direction));
    let intent = entry.intent.map(|i| {
        let mut intent = Map::new();
        intent.insert("kind".into(), i.kind.into());
        intent.insert("fingerprint".into(), or_unit(i.fingerprint));
        intent.insert("since".into(), i.since.into());
        intent.insert("github_updated_at".into(), or_unit(i.github_updated_at));
        intent
    });
    map.insert("intent".into(), or_unit(intent));
    map.into()
}

fn change(action: &str, rows: &[Map], placeholder: Dynamic) -> Change {
    let pairs: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} ← {}",
                optional_text(r, "target").unwrap_or_default(),
                optional_text(r, "github").unwrap_or_default(),
                optional_text(r, "gcp").unwrap_or_default()
            )
        })
        .collect();
    Change {
        target: format!("sync ledger ({} rows)", rows.len()),
        action: format!("{action} {} sync ledger rows", rows.len()),
        fields: vec![("pairs".into(), pairs.join(", "))],
        placeholder,
    }
}

/// Registers `ledger::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "entries",
            params: &[],
            returns: "array",
            doc: "Every ledger row: [#{gcp, target, github, fingerprint, version,\n\
                  github_updated_at, direction, intent: () or #{kind, fingerprint, since,\n\
                  github_updated_at}}]. Fingerprints are full keyed fingerprints.",
        },
        |context, _| {
            let entries = store(context)?.ledger_entries().map_err(failed)?;
            Ok(entries.into_iter().map(entry_map).collect::<Array>().into())
        },
    );
    module.mutate(
        Signature {
            name: "intend",
            params: &[("rows", ParamType::Array)],
            returns: "()",
            doc: "Records, before a write, that it is about to happen: rows #{gcp, target, github,\n\
                  kind: \"push\"|\"export\", fingerprint (push), github_updated_at (as GitHub shows\n\
                  it now)}. The time is taken here, to the second.",
        },
        |_, args| {
            let rows = rows(args)?;
            for row in &rows {
                intent(row, "")?;
            }
            Ok(change("mark a write in flight in", &rows, Dynamic::UNIT))
        },
        |context, args, _| {
            let since = github_now();
            let intents = rows(args)?
                .iter()
                .map(|r| intent(r, &since))
                .collect::<Result<Vec<_>, _>>()?;
            store(context)?.ledger_intend(&intents).map_err(failed)?;
            Ok(Dynamic::UNIT)
        },
    );
    module.mutate(
        Signature {
            name: "record",
            params: &[("rows", ParamType::Array)],
            returns: "()",
            doc: "Records what was synced and clears the intents: rows #{gcp, target, github,\n\
                  fingerprint, version, github_updated_at, direction}.",
        },
        |_, args| {
            let rows = rows(args)?;
            for row in &rows {
                record(row)?;
            }
            Ok(change("record", &rows, Dynamic::UNIT))
        },
        |context, args, _| {
            let records = rows(args)?
                .iter()
                .map(record)
                .collect::<Result<Vec<_>, _>>()?;
            store(context)?
                .ledger_record(&records, context.run_id())
                .map_err(failed)?;
            Ok(Dynamic::UNIT)
        },
    );
    module.mutate(
        Signature {
            name: "forget",
            params: &[("rows", ParamType::Array)],
            returns: "int",
            doc: "Removes the rows #{gcp, target, github}; how many existed.",
        },
        |_, args| {
            let rows = rows(args)?;
            for row in &rows {
                key(row)?;
            }
            Ok(change("forget", &rows, Dynamic::from_int(0)))
        },
        |context, args, _| {
            let keys = rows(args)?.iter().map(key).collect::<Result<Vec<_>, _>>()?;
            let removed = store(context)?.ledger_forget(&keys).map_err(failed)?;
            Ok(Dynamic::from_int(
                i64::try_from(removed).unwrap_or(i64::MAX),
            ))
        },
    );
    module
}
