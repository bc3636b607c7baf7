//! Script values to Firestore values and back: `()` ↔ null, bool, int ↔ integer, float ↔
//! double, string, blob ↔ bytes, `Timestamp` ↔ timestamp, array, map. A Secret is refused
//! with the field it sat in and never its bytes; anything else without a Firestore form is
//! refused naming the field and its type.

use rhai::{Array, Blob, Dynamic, Map};

use crate::clients::firestore::{FieldValue, Fields};
use crate::engine::gate::PrimitiveError;
use crate::secret::Secret;

/// Firestore's deepest nesting of maps and arrays.
const MAX_DEPTH: usize = 20;

/// `value` as a Firestore value; `field` names it in errors (e.g. `data.model`).
pub fn to_field(value: &Dynamic, field: &str) -> Result<FieldValue, PrimitiveError> {
    to_field_at(value, field, 0, false)
}

fn to_field_at(
    value: &Dynamic,
    field: &str,
    depth: usize,
    in_array: bool,
) -> Result<FieldValue, PrimitiveError> {
    if depth > MAX_DEPTH {
        return Err(PrimitiveError::new(format!(
            "field `{field}` is nested deeper than the {MAX_DEPTH} levels Firestore allows"
        )));
    }
    if value.is::<Secret>() {
        return Err(PrimitiveError::new(format!(
            "refusing to store a Secret in a Firestore document (field `{field}`): secret values never go into documents"
        )));
    }
    if value.is_unit() {
        return Ok(FieldValue::Null);
    }
    if let Ok(b) = value.as_bool() {
        return Ok(FieldValue::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Ok(FieldValue::Integer(i));
    }
    if let Ok(f) = value.as_float() {
        return Ok(FieldValue::Double(f));
    }
    if let Ok(s) = value.as_immutable_string_ref() {
        return Ok(FieldValue::String(s.to_string()));
    }
    if value.is_char() {
        return Ok(FieldValue::String(value.to_string()));
    }
    if let Some(t) = value.read_lock::<jiff::Timestamp>() {
        return Ok(FieldValue::Timestamp(*t));
    }
    if let Some(blob) = value.read_lock::<Blob>() {
        return Ok(FieldValue::Bytes(blob.clone()));
    }
    if let Some(array) = value.read_lock::<Array>() {
        if in_array {
            return Err(PrimitiveError::new(format!(
                "field `{field}` is an array inside an array, which Firestore does not store: wrap the inner one in a map"
            )));
        }
        return array
            .iter()
            .enumerate()
            .map(|(i, v)| to_field_at(v, &format!("{field}[{i}]"), depth + 1, true))
            .collect::<Result<Vec<_>, _>>()
            .map(FieldValue::Array);
    }
    if let Some(map) = value.read_lock::<Map>() {
        return to_fields_at(&map, field, depth + 1).map(FieldValue::Map);
    }
    Err(PrimitiveError::new(format!(
        "field `{field}` holds a {}, which has no Firestore form: expected (), bool, int, float, string, blob, Timestamp, array or map",
        value.type_name()
    )))
}

/// A map's entries as document fields; `prefix` names the map in errors.
pub fn to_fields(map: &Map, prefix: &str) -> Result<Fields, PrimitiveError> {
    to_fields_at(map, prefix, 0)
}

fn to_fields_at(map: &Map, prefix: &str, depth: usize) -> Result<Fields, PrimitiveError> {
    let mut fields = Fields::new();
    for (key, value) in map {
        if key.is_empty() {
            return Err(PrimitiveError::new(format!(
                "`{prefix}` has an empty field name, which Firestore refuses"
            )));
        }
        let name = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        fields.insert(key.to_string(), to_field_at(value, &name, depth, false)?);
    }
    Ok(fields)
}

/// A Firestore value as a script value. A reference reads as its document path and a geo
/// point as `#{latitude, longitude}`.
pub fn from_field(value: &FieldValue) -> Dynamic {
    match value {
        FieldValue::Null => Dynamic::UNIT,
        FieldValue::Bool(b) => Dynamic::from_bool(*b),
        FieldValue::Integer(i) => Dynamic::from_int(*i),
        FieldValue::Double(d) => Dynamic::from_float(*d),
        FieldValue::Timestamp(t) => Dynamic::from(*t),
        FieldValue::String(s) => s.clone().into(),
        FieldValue::Bytes(b) => Dynamic::from_blob(b.clone()),
        FieldValue::Reference(path) => path.clone().into(),
        FieldValue::GeoPoint {
            latitude,
            longitude,
        } => {
            let mut map = Map::new();
            map.insert("latitude".into(), Dynamic::from_float(*latitude));
            map.insert("longitude".into(), Dynamic::from_float(*longitude));
            map.into()
        }
        FieldValue::Array(items) => items.iter().map(from_field).collect::<Array>().into(),
        FieldValue::Map(fields) => from_fields(fields).into(),
    }
}

/// Document fields as a script map.
pub fn from_fields(fields: &Fields) -> Map {
    fields
        .iter()
        .map(|(k, v)| (k.as_str().into(), from_field(v)))
        .collect()
}
