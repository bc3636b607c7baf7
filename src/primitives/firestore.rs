//! `firestore::` — documents in Firestore: get, set (optionally merging), update, delete,
//! query, batch (split into commits inside Firestore's limits) and transaction (a closure run
//! again when a concurrent writer wins).
//!
//! The database is `[gcp].project` / `[gcp].firestore_database` and must be listed in
//! `[scope].firestore_databases`. Reads are reads and writes mutations for the plan gate;
//! plan lines name the fields written, never their values. A Secret is never a document value.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map, NativeCallContext};

use super::firestore_options::{document, query as parse_query, write_op};
use super::firestore_values::{from_fields, to_fields};
use crate::clients::firestore::{CommitLimits, Document, Firestore, WriteOp};
use crate::engine::RunContext;
use crate::engine::gate::{Change, ModuleBuilder, ParamType, PrimitiveError, Signature, raise};

#[path = "firestore_txn.rs"]
mod txn;

fn check_scope(context: &RunContext) -> Result<(), PrimitiveError> {
    let settings = context
        .remote()
        .firestore_settings(context.config())
        .map_err(PrimitiveError::new)?;
    let wanted = format!("{}/{}", settings.project, settings.database);
    let allowed = context
        .config()
        .scope
        .firestore_databases
        .iter()
        .any(|d| d == &wanted || (settings.database == "(default)" && d == &settings.project));
    if allowed {
        Ok(())
    } else {
        Err(PrimitiveError::new(format!(
            "Firestore database {wanted} is outside the scope: add \"{wanted}\" to [scope].firestore_databases in orchestra.toml"
        )))
    }
}

fn client(context: &RunContext) -> Result<Arc<Firestore>, PrimitiveError> {
    check_scope(context)?;
    context
        .runtime()
        .ok_or_else(|| PrimitiveError::new("no async runtime in this mode"))?;
    context
        .remote()
        .firestore(context.config(), context.cancellation())
        .map_err(|e| PrimitiveError::remote(e, None))
}

fn remote(error: crate::clients::google_error::GoogleError) -> PrimitiveError {
    PrimitiveError::remote(error.to_string(), error.http_status)
}

fn document_map(doc: &Document) -> Dynamic {
    let mut map = Map::new();
    map.insert("id".into(), doc.path.id().into());
    map.insert("path".into(), doc.path.as_str().into());
    map.insert("data".into(), from_fields(&doc.fields).into());
    map.insert(
        "updated".into(),
        doc.update_time.map_or(Dynamic::UNIT, Dynamic::from),
    );
    map.into()
}

/// The plan line of one write: "set agents/planner: model, temperature".
fn describe(op: &WriteOp) -> Change {
    let names = op.field_names();
    let action = if names.is_empty() {
        format!("{} {}", op.verb(), op.path())
    } else {
        format!("{} {}: {}", op.verb(), op.path(), names.join(", "))
    };
    Change {
        target: format!("Firestore document {}", op.path()),
        action,
        fields: Vec::new(),
        placeholder: Dynamic::UNIT,
    }
}

/// Makes one write now, or adds it to the open transaction.
fn apply(context: &RunContext, op: WriteOp) -> Result<Dynamic, PrimitiveError> {
    if txn::buffer(&op) {
        return Ok(Dynamic::UNIT);
    }
    let fs = client(context)?;
    fs.block_on(fs.write(&op)).map_err(remote)?;
    Ok(Dynamic::UNIT)
}

fn set_op(args: &crate::engine::gate::Args, merge: bool) -> Result<WriteOp, PrimitiveError> {
    Ok(WriteOp::Set {
        path: document(&args.str(0)?)?,
        fields: to_fields(&args.map(1)?, "")?,
        merge,
    })
}

fn merge_option(options: &Map) -> Result<bool, PrimitiveError> {
    let mut merge = false;
    for (key, value) in options {
        match key.as_str() {
            "merge" => {
                merge = value.as_bool().map_err(|_| {
                    PrimitiveError::new(format!("merge: expected true or false, found {value}"))
                })?;
            }
            other => {
                return Err(PrimitiveError::new(format!(
                    "unknown option `{other}`: expected merge"
                )));
            }
        }
    }
    Ok(merge)
}

/// The writes of a batch, converted (the first `at_most` of them, when given), and how many
/// it holds.
fn batch_ops(
    args: &crate::engine::gate::Args,
    at_most: Option<usize>,
) -> Result<(Vec<WriteOp>, usize), PrimitiveError> {
    // Read in place: a batch of 1,000 maps is not copied before it is converted.
    let items = args
        .any(0)?
        .read_lock::<Array>()
        .ok_or_else(|| PrimitiveError::new("expected an array of writes"))?;
    let ops = items
        .iter()
        .take(at_most.unwrap_or(usize::MAX))
        .enumerate()
        .map(|(i, item)| write_op(item, i))
        .collect::<Result<_, _>>()?;
    Ok((ops, items.len()))
}

/// Writes a batch's plan line and journal entry name, one by one.
const DESCRIBED_WRITES: usize = 20;

/// Registers `firestore::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.read(
        Signature {
            name: "get",
            params: &[("path", ParamType::Str)],
            returns: "map",
            doc: "The fields of document `path` (collection/id, e.g. \"agents/planner\"), or () when it does not exist.",
        },
        |args| args.str(0).map(|p| format!("Firestore document {p}")).unwrap_or_default(),
        |context, args| {
            let path = document(&args.str(0)?)?;
            let fs = client(context)?;
            let transaction = txn::current();
            let doc = fs
                .block_on(fs.get(&path, transaction.as_ref()))
                .map_err(remote)?;
            Ok(doc.map_or(Dynamic::UNIT, |d| from_fields(&d.fields).into()))
        },
    );
    module.read(
        Signature {
            name: "query",
            params: &[("collection", ParamType::Str), ("options", ParamType::Map)],
            returns: "array",
            doc: "Documents of `collection`: [#{id, path, data, updated}]. Options: where ([[field, op, value], ...],\n\
                  op one of ==, !=, <, <=, >, >=, array-contains, array-contains-any, in, not-in), order_by\n\
                  (\"-finished\" or [\"a\", \"-b\"]), limit, start_after (values of the order_by fields, or a\n\
                  document an earlier query returned).",
        },
        |args| args.str(0).map(|c| format!("Firestore collection {c}")).unwrap_or_default(),
        |context, args| {
            let query = parse_query(&args.str(0)?, &args.map(1)?)?;
            let fs = client(context)?;
            let transaction = txn::current();
            let docs = fs
                .block_on(fs.query(&query, transaction.as_ref()))
                .map_err(remote)?;
            Ok(docs.iter().map(document_map).collect::<Array>().into())
        },
    );
    module.mutate(
        Signature {
            name: "set",
            params: &[("path", ParamType::Str), ("data", ParamType::Map)],
            returns: "()",
            doc: "Replaces document `path` with `data` (creating it when missing).",
        },
        |_, args| set_op(args, false).map(|op| describe(&op)),
        |context, args, _| apply(context, set_op(args, false)?),
    );
    module.mutate(
        Signature {
            name: "set",
            params: &[("path", ParamType::Str), ("data", ParamType::Map), ("options", ParamType::Map)],
            returns: "()",
            doc: "Writes `data` to document `path`; with #{merge: true} only its fields change (nested maps merge).",
        },
        |_, args| set_op(args, merge_option(&args.map(2)?)?).map(|op| describe(&op)),
        |context, args, _| apply(context, set_op(args, merge_option(&args.map(2)?)?)?),
    );
    module.mutate(
        Signature {
            name: "update",
            params: &[("path", ParamType::Str), ("data", ParamType::Map)],
            returns: "()",
            doc: "Changes only the fields named in `data` (keys may be dotted paths, \"stats.runs\") of document\n\
                  `path`, which must exist.",
        },
        |_, args| {
            let op = WriteOp::Update { path: document(&args.str(0)?)?, fields: to_fields(&args.map(1)?, "")? };
            Ok(describe(&op))
        },
        |context, args, _| {
            let op = WriteOp::Update { path: document(&args.str(0)?)?, fields: to_fields(&args.map(1)?, "")? };
            apply(context, op)
        },
    );
    module.mutate(
        Signature {
            name: "delete",
            params: &[("path", ParamType::Str)],
            returns: "()",
            doc: "Deletes document `path` (nothing happens when it does not exist).",
        },
        |_, args| {
            Ok(describe(&WriteOp::Delete {
                path: document(&args.str(0)?)?,
            }))
        },
        |context, args, _| {
            apply(
                context,
                WriteOp::Delete {
                    path: document(&args.str(0)?)?,
                },
            )
        },
    );
    module.mutate(
        Signature {
            name: "batch",
            params: &[("writes", ParamType::Array)],
            returns: "map",
            doc: "Applies [#{set: path, data, merge}, #{update: path, data}, #{delete: path}, ...] in order, in\n\
                  commits of at most 500 writes and 4 MiB each: #{writes, commits: [sizes]}. Each commit is\n\
                  atomic; a failure says how many writes had landed.",
        },
        |context, args| {
            // A plan checks every write; a real run converts only the ones its journal entry
            // names here, and all of them once, in the apply below (which refuses a bad one
            // before anything is sent).
            let at_most = (!context.is_plan()).then_some(DESCRIBED_WRITES);
            let (ops, count) = batch_ops(args, at_most)?;
            let mut change = Change {
                target: format!("{count} Firestore document(s)"),
                action: format!("write {count} Firestore document(s) in a batch"),
                fields: ops.iter().map(|op| (op.verb().to_owned(), describe(op).action)).take(DESCRIBED_WRITES).collect(),
                placeholder: Dynamic::UNIT,
            };
            let mut planned = Map::new();
            planned.insert("writes".into(), Dynamic::from_int(0));
            planned.insert("commits".into(), Array::new().into());
            change.placeholder = planned.into();
            Ok(change)
        },
        |context, args, _| {
            let (ops, _) = batch_ops(args, None)?;
            let fs = client(context)?;
            let outcome = fs
                .block_on(fs.batch(&ops, CommitLimits::default()))
                .map_err(remote)?;
            let mut map = Map::new();
            map.insert("writes".into(), Dynamic::from_int(outcome.writes as i64));
            map.insert(
                "commits".into(),
                outcome.commits.iter().map(|n| Dynamic::from_int(*n as i64)).collect::<Array>().into(),
            );
            Ok(map.into())
        },
    );
    module.control(
        Signature {
            name: "transaction",
            params: &[("body", ParamType::Function)],
            returns: "any",
            doc: "Runs `body` as one read-write transaction: its firestore:: reads see one snapshot, its\n\
                  writes are committed together when it returns. When a concurrent writer wins (ABORTED),\n\
                  `body` runs again, up to [limits].retry_attempts times. Do the reads before the writes.",
        },
        |native: &NativeCallContext, context, args| {
            let body = args.function(0).map_err(|e| raise("firestore::transaction", e))?;
            txn::run(native, context, &body)
        },
    );
    module.local(
        Signature {
            name: "timestamp",
            params: &[("text", ParamType::Str)],
            returns: "Timestamp",
            doc: "An RFC 3339 time (\"2026-12-01T12:00:00Z\") as a Firestore timestamp value.",
        },
        |_, args| {
            let text = args.str(0)?;
            text.parse::<jiff::Timestamp>()
                .map(Dynamic::from)
                .map_err(|_| {
                    PrimitiveError::new(format!(
                        "expected an RFC 3339 time such as 2026-12-01T12:00:00Z, found '{text}'"
                    ))
                })
        },
    );
    module.local(
        Signature {
            name: "now",
            params: &[],
            returns: "Timestamp",
            doc: "The current time as a Firestore timestamp value.",
        },
        |_, _| Ok(Dynamic::from(jiff::Timestamp::now())),
    );
    module
}

/// Registers the `Timestamp` type documents carry: it prints as RFC 3339 and compares.
pub fn register_types(engine: &mut rhai::Engine) {
    engine
        .register_type_with_name::<jiff::Timestamp>("Timestamp")
        .register_fn("to_string", |t: &mut jiff::Timestamp| t.to_string())
        .register_fn("to_debug", |t: &mut jiff::Timestamp| {
            format!("Timestamp({t})")
        })
        .register_fn("==", |a: jiff::Timestamp, b: jiff::Timestamp| a == b)
        .register_fn("!=", |a: jiff::Timestamp, b: jiff::Timestamp| a != b)
        .register_fn("<", |a: jiff::Timestamp, b: jiff::Timestamp| a < b)
        .register_fn(">", |a: jiff::Timestamp, b: jiff::Timestamp| a > b)
        .register_fn("seconds", |t: &mut jiff::Timestamp| t.as_second());
}
