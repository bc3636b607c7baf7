//! `state::` — a small key-value store that playbooks keep between runs, in SQLite.
//!
//! Values are JSON-shaped (strings, numbers, booleans, arrays, maps); a Secret anywhere inside
//! is refused. Writes are mutations: journaled, and only listed under `--plan`. Every entry is
//! sealed at rest (`secret::seal`): the script reads back exactly what it wrote, and the
//! database holds neither the names nor the values.

use rhai::Dynamic;

use crate::engine::RunContext;
use crate::engine::gate::{Change, ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::engine::values::{from_json, render, to_json};
use crate::secret::seal::StateSeal;
use crate::store::Store;

/// Longest key accepted.
const MAX_KEY_LEN: usize = 200;

fn store(context: &RunContext) -> Result<&Store, PrimitiveError> {
    context
        .store()
        .ok_or_else(|| PrimitiveError::new("no state database in this mode"))
}

fn check_key(key: &str) -> Result<(), PrimitiveError> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(PrimitiveError::new(format!(
            "key must be 1 to {MAX_KEY_LEN} characters, found {} characters",
            key.len()
        )));
    }
    Ok(())
}

fn store_error(error: crate::store::StoreError) -> PrimitiveError {
    PrimitiveError::new(error.to_string())
}

fn seal(context: &RunContext) -> Result<StateSeal, PrimitiveError> {
    Ok(StateSeal::new(
        context.fingerprint_key().map_err(PrimitiveError::new)?,
    ))
}

/// One sealed entry: its name and its value, as JSON.
#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    name: String,
    value: serde_json::Value,
}

fn open(seal: &StateSeal, sealed: &str) -> Result<Entry, PrimitiveError> {
    let plain = seal
        .open(sealed)
        .map_err(|e| PrimitiveError::new(e.to_string()))?;
    serde_json::from_slice(&plain)
        .map_err(|_| PrimitiveError::new("a sealed state entry does not hold a name and a value"))
}

/// The value stored under `key`, or `()`. Entries written before state was sealed are still
/// read (under their plain key) until the next write seals them.
pub fn get(context: &RunContext, key: &str) -> Result<Option<Dynamic>, PrimitiveError> {
    check_key(key)?;
    let store = store(context)?;
    let seal = seal(context)?;
    if let Some(sealed) = store.state_get(&seal.lookup(key)).map_err(store_error)? {
        return Ok(Some(from_json(&open(&seal, &sealed)?.value)));
    }
    let legacy = store.state_get(key).map_err(store_error)?;
    legacy
        .filter(|text| !StateSeal::is_sealed(text))
        .map(|text| {
            serde_json::from_str(&text)
                .map(|v| from_json(&v))
                .map_err(|_| PrimitiveError::new(format!("stored value of {key} is not JSON")))
        })
        .transpose()
}

/// What `set` would change.
pub fn describe_set(key: &str, value: &Dynamic) -> Result<Change, PrimitiveError> {
    check_key(key)?;
    to_json(value, "value").map_err(|e| PrimitiveError::new(e.to_string()))?;
    Ok(Change {
        target: format!("state key `{key}`"),
        action: format!("set state key `{key}`"),
        fields: vec![("value".into(), render(value))],
        placeholder: Dynamic::UNIT,
    })
}

/// Stores `value` under `key`, sealed.
pub fn set(context: &RunContext, key: &str, value: &Dynamic) -> Result<(), PrimitiveError> {
    let value = to_json(value, "value").map_err(|e| PrimitiveError::new(e.to_string()))?;
    let store = store(context)?;
    let seal = seal(context)?;
    let entry = serde_json::to_vec(&Entry {
        name: key.to_owned(),
        value,
    })
    .map_err(|e| PrimitiveError::new(e.to_string()))?;
    // The entry's plain name, from before state was sealed, goes in the same write.
    store
        .state_replace(&seal.lookup(key), &seal.seal(&entry), context.run_id(), key)
        .map_err(store_error)
}

/// Deletes `key`; whether it existed.
pub fn delete(context: &RunContext, key: &str) -> Result<bool, PrimitiveError> {
    let store = store(context)?;
    let sealed = store
        .state_delete(&seal(context)?.lookup(key))
        .map_err(store_error)?;
    let legacy = store.state_delete(key).map_err(store_error)?;
    Ok(sealed || legacy)
}

/// The stored keys that start with `prefix`, sorted: each sealed entry is opened for its name.
pub fn keys(context: &RunContext, prefix: &str) -> Result<Vec<String>, PrimitiveError> {
    let seal = seal(context)?;
    let mut names = Vec::new();
    for (row_key, value) in store(context)?.state_rows().map_err(store_error)? {
        let name = if StateSeal::is_lookup(&row_key) {
            open(&seal, &value)?.name
        } else {
            row_key
        };
        if name.starts_with(prefix) {
            names.push(name);
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// Registers `state::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "get",
            params: &[("key", ParamType::Str)],
            returns: "any",
            doc: "The value stored under `key`, or () when there is none.",
        },
        |context, args| Ok(get(context, &args.str(0)?)?.unwrap_or(Dynamic::UNIT)),
    );
    module.local(
        Signature {
            name: "get",
            params: &[("key", ParamType::Str), ("default", ParamType::Any)],
            returns: "any",
            doc: "The value stored under `key`, or `default` when there is none.",
        },
        |context, args| Ok(get(context, &args.str(0)?)?.unwrap_or(args.any(1)?.clone())),
    );
    module.mutate(
        Signature {
            name: "set",
            params: &[("key", ParamType::Str), ("value", ParamType::Any)],
            returns: "()",
            doc: "Stores `value` (string, number, bool, array or map; never a Secret) under `key`.",
        },
        |_, args| describe_set(&args.str(0)?, args.any(1)?),
        |context, args, _| {
            set(context, &args.str(0)?, args.any(1)?)?;
            Ok(Dynamic::UNIT)
        },
    );
    module.mutate(
        Signature {
            name: "delete",
            params: &[("key", ParamType::Str)],
            returns: "bool",
            doc: "Deletes `key`; true if it existed.",
        },
        |_, args| {
            let key = args.str(0)?;
            check_key(&key)?;
            Ok(Change {
                target: format!("state key `{key}`"),
                action: format!("delete state key `{key}`"),
                fields: Vec::new(),
                placeholder: Dynamic::TRUE,
            })
        },
        |context, args, _| Ok(delete(context, &args.str(0)?)?.into()),
    );
    module.local(
        Signature {
            name: "keys",
            params: &[("prefix", ParamType::Str)],
            returns: "array",
            doc: "The stored keys that start with `prefix`, sorted.",
        },
        |context, args| {
            Ok(keys(context, &args.str(0)?)?
                .into_iter()
                .map(Dynamic::from)
                .collect::<rhai::Array>()
                .into())
        },
    );
    module
}
