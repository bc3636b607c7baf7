//! `memory::` — entries playbooks and agents keep between runs: a JSON value per key with an
//! optional time to live, in the backend `[memory] backend` names, behind the process's cache.
//!
//! `store` and `forget` are mutations (a plan lists "would store KEY", never the value);
//! `retrieve` is a read that a cache hit answers without a journal entry; `list` is a read.
//! A Secret anywhere inside a value is refused. When the backend is unreachable, reads are
//! served from the cache and the local store and writes wait in the outbox (`crate::memory`).

use std::sync::Arc;
use std::time::Duration;

use rhai::{Dynamic, Map};

use crate::engine::RunContext;
use crate::engine::gate::{Args, Change, ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::engine::values::{from_json, to_json};
use crate::memory::{Cached, Memory, MemoryEntry, MemoryKey, MemoryPrefix, Written};

/// Entries `list` returns when no limit is given.
const DEFAULT_LIST_LIMIT: usize = 100;
/// The most `list` returns.
const MAX_LIST_LIMIT: i64 = 1000;
/// The longest time to live: ten years.
const MAX_TTL: Duration = Duration::from_secs(10 * 366 * 24 * 60 * 60);

fn err(error: impl ToString) -> PrimitiveError {
    PrimitiveError::new(error.to_string())
}

/// The process's memory, opened on first use.
fn memory(context: &RunContext) -> Result<Arc<Memory>, PrimitiveError> {
    let store = context
        .store()
        .ok_or_else(|| PrimitiveError::new("no state database in this mode"))?;
    context
        .remote()
        .memory(|| {
            // Built only when memory is opened: every later call (a cache hit above all)
            // finds the open memory and allocates nothing here.
            let firestore = context.runtime().map(|_| {
                context
                    .shared_services()
                    .firestore_connector(context.shared_config(), context.cancellation())
            });
            Memory::open(
                &context.config().memory,
                store,
                context.runtime(),
                firestore,
            )
        })
        .map_err(PrimitiveError::new)
}

fn key(args: &Args, index: usize) -> Result<MemoryKey, PrimitiveError> {
    MemoryKey::parse(&args.str(index)?).map_err(err)
}

fn shown(cached: Cached) -> Dynamic {
    cached.map_or(Dynamic::UNIT, |entry| from_json(&entry.value))
}

/// Refuses option names outside `known`, naming the option and the ones accepted.
fn check_options(options: &Map, primitive: &str, known: &[&str]) -> Result<(), PrimitiveError> {
    for name in options.keys() {
        if !known.contains(&name.as_str()) {
            return Err(PrimitiveError::new(format!(
                "{primitive}: unknown option `{name}`, expected {}",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// `#{ ttl: "5m" }` (or a number of seconds): the time to live, if any.
fn ttl(options: &Map) -> Result<Option<Duration>, PrimitiveError> {
    check_options(options, "memory::store", &["ttl"])?;
    let Some(value) = options.get("ttl") else {
        return Ok(None);
    };
    let expected = "option ttl: expected a duration above zero such as \"5m\" or \"1h\" (or a number of seconds), up to ten years";
    let ttl = if let Ok(text) = value.as_immutable_string_ref() {
        humantime::parse_duration(text.as_str())
            .map_err(|_| PrimitiveError::new(format!("{expected}, found \"{}\"", text.as_str())))?
    } else if let Ok(n) = value.as_int() {
        u64::try_from(n)
            .map(Duration::from_secs)
            .map_err(|_| PrimitiveError::new(format!("{expected}, found {n}")))?
    } else {
        return Err(PrimitiveError::new(format!(
            "{expected}, found {}",
            value.type_name()
        )));
    };
    if ttl.is_zero() || ttl > MAX_TTL {
        return Err(PrimitiveError::new(format!(
            "{expected}, found {}",
            humantime::format_duration(ttl)
        )));
    }
    Ok(Some(ttl))
}

/// `#{ limit: 20 }`: how many entries `list` returns.
fn limit(options: &Map) -> Result<usize, PrimitiveError> {
    check_options(options, "memory::list", &["limit"])?;
    let Some(value) = options.get("limit") else {
        return Ok(DEFAULT_LIST_LIMIT);
    };
    value
        .as_int()
        .ok()
        .filter(|n| (1..=MAX_LIST_LIMIT).contains(n))
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            PrimitiveError::new(format!(
                "option limit: expected an integer from 1 to {MAX_LIST_LIMIT}, found {value}"
            ))
        })
}

/// The entry `store` writes: the value as JSON (a Secret refused) and its expiry.
fn entry(value: &Dynamic, ttl: Option<Duration>) -> Result<MemoryEntry, PrimitiveError> {
    let value = to_json(value, "value").map_err(err)?;
    let expires_at = ttl.map(|ttl| {
        crate::clock::now_ms().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
    });
    Ok(MemoryEntry { value, expires_at })
}

/// What `store` would change: the key and the time to live, never the value.
fn describe_store(args: &Args, options: &Map) -> Result<Change, PrimitiveError> {
    let key = key(args, 0)?;
    let ttl = ttl(options)?;
    entry(args.any(1)?, ttl)?;
    let mut fields = Vec::new();
    if let Some(ttl) = ttl {
        fields.push((
            "ttl".to_owned(),
            humantime::format_duration(ttl).to_string(),
        ));
    }
    Ok(Change {
        target: format!("memory {key}"),
        action: format!("store {key}"),
        fields,
        placeholder: Dynamic::UNIT,
    })
}

fn apply_store(
    context: &RunContext,
    args: &Args,
    options: &Map,
) -> Result<Dynamic, PrimitiveError> {
    let key = key(args, 0)?;
    let entry = entry(args.any(1)?, ttl(options)?)?;
    let written = memory(context)?.store(&key, &entry).map_err(err)?;
    if written == Written::Queued {
        context.event("warn", &format!("memory: store {key} queued in the outbox"));
    }
    Ok(Dynamic::UNIT)
}

fn list(context: &RunContext, prefix: &str, options: &Map) -> Result<Dynamic, PrimitiveError> {
    let prefix = MemoryPrefix::parse(prefix).map_err(err)?;
    let limit = limit(options)?;
    let listed = memory(context)?
        .list(&prefix, limit, context.is_plan())
        .map_err(err)?;
    Ok(listed
        .into_iter()
        .map(|l| {
            let mut map = Map::new();
            map.insert("key".into(), l.key.as_str().into());
            map.insert("value".into(), from_json(&l.entry.value));
            map.insert(
                "expires_at".into(),
                l.entry
                    .expires_at_text()
                    .map_or(Dynamic::UNIT, Dynamic::from),
            );
            Dynamic::from(map)
        })
        .collect::<rhai::Array>()
        .into())
}

fn status(context: &RunContext) -> Result<Dynamic, PrimitiveError> {
    let status = memory(context)?.status().map_err(err)?;
    let mut map = Map::new();
    map.insert("backend".into(), status.backend.into());
    map.insert("health".into(), status.health.into());
    map.insert("healthy".into(), (status.health != "unreachable").into());
    map.insert(
        "reason".into(),
        status.reason.map_or(Dynamic::UNIT, Dynamic::from),
    );
    let int = |n: u64| Dynamic::from_int(i64::try_from(n).unwrap_or(i64::MAX));
    map.insert("outbox".into(), int(status.outbox));
    map.insert("cache_entries".into(), int(status.cache_entries));
    map.insert("cache_capacity".into(), int(status.cache_capacity));
    Ok(map.into())
}

/// Registers `memory::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    const STORE_DOC: &str = "Stores `value` (string, number, bool, array or map; never a Secret) under `key`; options: `ttl` (\"5m\", or seconds).";
    module.mutate(
        Signature {
            name: "store",
            params: &[("key", ParamType::Str), ("value", ParamType::Any)],
            returns: "()",
            doc: STORE_DOC,
        },
        |_, args| describe_store(args, &Map::new()),
        |context, args, _| apply_store(context, args, &Map::new()),
    );
    module.mutate(
        Signature {
            name: "store",
            params: &[
                ("key", ParamType::Str),
                ("value", ParamType::Any),
                ("options", ParamType::Map),
            ],
            returns: "()",
            doc: STORE_DOC,
        },
        |_, args| describe_store(args, &args.map(2)?),
        |context, args, _| apply_store(context, args, &args.map(2)?),
    );
    module.cached_read(
        Signature {
            name: "retrieve",
            params: &[("key", ParamType::Str)],
            returns: "any",
            doc: "The value under `key`, or () when there is none or it expired: from the cache, else the backend.",
        },
        // Looked up by the text as given: only a parsed key is ever cached, so a hit proves
        // the key valid, and a miss (an invalid key included) goes on to parse it and ask.
        |context, args| Ok(memory(context)?.cached_text(args.str(0)?.as_str()).map(shown)),
        |args| format!("memory {}", args.str(0).unwrap_or_default()),
        |context, args| {
            let found = memory(context)?
                .retrieve(&key(args, 0)?, context.is_plan())
                .map_err(err)?;
            Ok(shown(found))
        },
    );
    module.mutate(
        Signature {
            name: "forget",
            params: &[("key", ParamType::Str)],
            returns: "bool",
            doc: "Forgets `key`; true if it held an entry.",
        },
        |_, args| {
            let key = key(args, 0)?;
            Ok(Change {
                target: format!("memory {key}"),
                action: format!("forget {key}"),
                fields: Vec::new(),
                placeholder: Dynamic::TRUE,
            })
        },
        |context, args, _| {
            let key = key(args, 0)?;
            let (existed, written) = memory(context)?.forget(&key).map_err(err)?;
            if written == Written::Queued {
                context.event(
                    "warn",
                    &format!("memory: forget {key} queued in the outbox"),
                );
            }
            Ok(existed.into())
        },
    );
    const LIST_DOC: &str = "The live entries whose key starts with `prefix`, in key order, as maps #{key, value, expires_at}; options: `limit` (1 to 1000, default 100).";
    module.read(
        Signature {
            name: "list",
            params: &[("prefix", ParamType::Str)],
            returns: "array",
            doc: LIST_DOC,
        },
        |args| format!("memory {}*", args.str(0).unwrap_or_default()),
        |context, args| list(context, &args.str(0)?, &Map::new()),
    );
    module.read(
        Signature {
            name: "list",
            params: &[("prefix", ParamType::Str), ("options", ParamType::Map)],
            returns: "array",
            doc: LIST_DOC,
        },
        |args| format!("memory {}*", args.str(0).unwrap_or_default()),
        |context, args| list(context, &args.str(0)?, &args.map(1)?),
    );
    module.local(
        Signature {
            name: "status",
            params: &[],
            returns: "map",
            doc: "The backend, its health (`answering`, `unreachable`, `untried`; `healthy` false only when unreachable, `reason` why), the outbox depth and the cache size.",
        },
        |context, _| status(context),
    );
    module
}
