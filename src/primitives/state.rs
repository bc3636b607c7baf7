//! `state::` — a small key-value store that playbooks keep between runs, in SQLite.
//!
//! Values are JSON-shaped (strings, numbers, booleans, arrays, maps); a Secret anywhere inside
//! is refused. Writes are mutations: journaled, and only listed under `--plan`.

use rhai::Dynamic;

use crate::engine::RunContext;
use crate::engine::gate::{Change, ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::engine::values::{from_json, render, to_json};
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

/// The value stored under `key`, or `()`.
pub fn get(context: &RunContext, key: &str) -> Result<Option<Dynamic>, PrimitiveError> {
    check_key(key)?;
    let json = store(context)?
        .state_get(key)
        .map_err(|e| PrimitiveError::new(e.to_string()))?;
    json.map(|text| {
        serde_json::from_str(&text)
            .map(|v| from_json(&v))
            .map_err(|e| PrimitiveError::new(format!("stored value of {key} is not JSON: {e}")))
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

/// Stores `value` under `key`.
pub fn set(context: &RunContext, key: &str, value: &Dynamic) -> Result<(), PrimitiveError> {
    let json = to_json(value, "value").map_err(|e| PrimitiveError::new(e.to_string()))?;
    store(context)?
        .state_set(key, &json.to_string(), context.run_id())
        .map_err(|e| PrimitiveError::new(e.to_string()))
}

/// Deletes `key`; whether it existed.
pub fn delete(context: &RunContext, key: &str) -> Result<bool, PrimitiveError> {
    store(context)?
        .state_delete(key)
        .map_err(|e| PrimitiveError::new(e.to_string()))
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
            let keys = store(context)?
                .state_keys(&args.str(0)?)
                .map_err(|e| PrimitiveError::new(e.to_string()))?;
            Ok(keys
                .into_iter()
                .map(Dynamic::from)
                .collect::<rhai::Array>()
                .into())
        },
    );
    module
}
