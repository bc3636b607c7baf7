//! Reading and writing the plain fields the store's documents hold.

use crate::clients::firestore::{FieldValue, Fields};

/// An integer field.
pub(super) fn int(fields: &Fields, name: &str) -> Option<i64> {
    match fields.get(name) {
        Some(FieldValue::Integer(n)) => Some(*n),
        _ => None,
    }
}

/// A text field.
pub(super) fn text(fields: &Fields, name: &str) -> Option<String> {
    match fields.get(name) {
        Some(FieldValue::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// A text value.
pub(super) fn string(value: impl Into<String>) -> FieldValue {
    FieldValue::String(value.into())
}

/// An integer value, or null.
pub(super) fn opt_int(value: Option<i64>) -> FieldValue {
    value.map_or(FieldValue::Null, FieldValue::Integer)
}

/// A text value, or null.
pub(super) fn opt_string(value: Option<String>) -> FieldValue {
    value.map_or(FieldValue::Null, FieldValue::String)
}

/// Builds a field map from pairs.
pub(super) fn map<const N: usize>(pairs: [(&str, FieldValue); N]) -> Fields {
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}
