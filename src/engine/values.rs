//! Converting script values to and from JSON, refusing secrets on the way out.
//!
//! Used by `state::set` (SQLite never holds a secret value) and for rendering values in plans.

use rhai::{Array, Dynamic, Map};
use serde_json::Value;

use crate::secret::Secret;

/// Why a value could not become JSON.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ToJsonError {
    /// A Secret, somewhere inside.
    #[error("refusing to store a Secret (at {0}): secret values never go into the state database")]
    Secret(String),
    /// A type JSON has no form for.
    #[error("cannot store a value of type {kind} (at {path})")]
    Unsupported {
        /// Where in the value.
        path: String,
        /// The Rhai type.
        kind: String,
    },
}

/// Converts `value` to JSON; `path` names it in errors (e.g. `value`).
pub fn to_json(value: &Dynamic, path: &str) -> Result<Value, ToJsonError> {
    if value.is::<Secret>() {
        return Err(ToJsonError::Secret(path.to_owned()));
    }
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Ok(Value::from(i));
    }
    if let Ok(f) = value.as_float() {
        return Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number));
    }
    if let Ok(s) = value.as_immutable_string_ref() {
        return Ok(Value::String(s.to_string()));
    }
    if value.is_char() {
        return Ok(Value::String(value.to_string()));
    }
    if let Some(array) = value.read_lock::<Array>() {
        return array
            .iter()
            .enumerate()
            .map(|(i, v)| to_json(v, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if let Some(map) = value.read_lock::<Map>() {
        let mut out = serde_json::Map::new();
        for (k, v) in map.iter() {
            out.insert(k.to_string(), to_json(v, &format!("{path}.{k}"))?);
        }
        return Ok(Value::Object(out));
    }
    Err(ToJsonError::Unsupported {
        path: path.to_owned(),
        kind: value.type_name().to_owned(),
    })
}

/// `value` as JSON for showing (a script's `to_json`): a Secret anywhere inside becomes its
/// redacted text `Secret(fp:…)`, and a type JSON has no form for becomes its type name.
pub fn shown_json(value: &Dynamic) -> Value {
    if let Some(secret) = value.read_lock::<Secret>() {
        return Value::String(secret.redacted());
    }
    if let Some(array) = value.read_lock::<Array>() {
        return Value::Array(array.iter().map(shown_json).collect());
    }
    if let Some(map) = value.read_lock::<Map>() {
        return Value::Object(
            map.iter()
                .map(|(k, v)| (k.to_string(), shown_json(v)))
                .collect(),
        );
    }
    to_json(value, "value").unwrap_or_else(|_| Value::String(value.type_name().to_owned()))
}

/// Converts JSON back into a script value.
pub fn from_json(value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or(f64::NAN).into(),
        },
        Value::String(s) => s.clone().into(),
        Value::Array(items) => items.iter().map(from_json).collect::<Array>().into(),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| (k.as_str().into(), from_json(v)))
            .collect::<Map>()
            .into(),
    }
}

/// A short, safe rendering of a value for plans and messages: secrets redacted, long text cut.
pub fn render(value: &Dynamic) -> String {
    if let Some(secret) = value.read_lock::<Secret>() {
        return secret.redacted();
    }
    let text = match to_json(value, "value") {
        Ok(json) => json.to_string(),
        Err(ToJsonError::Secret(_)) => "(contains a Secret)".to_owned(),
        Err(ToJsonError::Unsupported { kind, .. }) => format!("<{kind}>"),
    };
    const MAX: usize = 200;
    if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::FingerprintKey;

    #[test]
    fn round_trips_plain_values() {
        let json: Value = serde_json::json!({"a": [1, "x", true, null], "b": {"c": 2.5}});
        let back = to_json(&from_json(&json), "value").unwrap();
        assert_eq!(back, json);
    }

    #[test]
    fn refuses_a_nested_secret_and_says_where() {
        let secret = Secret::new(b"0123456789".to_vec(), &FingerprintKey::ephemeral());
        let mut inner = Map::new();
        inner.insert("token".into(), Dynamic::from(secret));
        let array: Array = vec![Dynamic::from(inner)];
        let err = to_json(&array.into(), "value").unwrap_err();
        assert_eq!(
            err.to_string(),
            "refusing to store a Secret (at value[0].token): secret values never go into the state database"
        );
    }
}
