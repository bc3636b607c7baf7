//! Reading and writing the plain fields the store's documents hold.

use crate::clients::firestore::{FieldValue, Fields};

/// An integer field.
pub(super) fn int(fields: &Fields, name: &str) -> Option<i64> {
    match fields.get(name) {
        Some(FieldValue::Integer(n)) => Some(*n),
        _ => None,
    }
}

/// A number field (a double, or an integer as Firestore may hold a whole number).
pub(super) fn float(fields: &Fields, name: &str) -> Option<f64> {
    match fields.get(name) {
        Some(FieldValue::Double(x)) => Some(*x),
        Some(FieldValue::Integer(n)) => Some(*n as f64),
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

/// A document id for `name`: every byte outside `[A-Za-z0-9_-]` as `%XX`, so names with
/// `/`, `:` or `.` (a lock `playbook:rotate.rhai`, a secret `projects/p/secrets/s`) are valid
/// ids, distinct names get distinct ids, and `~` is free to join several names into one.
pub(super) fn document_id(name: &str) -> String {
    let mut id = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_') {
            id.push(byte as char);
        } else {
            id.push_str(&format!("%{byte:02X}"));
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::document_id;

    #[test]
    fn document_ids_are_valid_firestore_ids() {
        assert_eq!(
            document_id("playbook:rotate.rhai"),
            "playbook%3Arotate%2Erhai"
        );
        assert_eq!(document_id("a/b"), "a%2Fb");
        assert_eq!(document_id(".."), "%2E%2E");
        assert_eq!(document_id("a~b"), "a%7Eb");
    }
}
