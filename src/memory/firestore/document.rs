//! How a memory entry is kept in Firestore: one document per key, its id the key encoded, its
//! fields the key, the value as JSON text, the expiry and the time of the write.
//!
//! **Document id.** A key may hold `/` (a path separator in Firestore), and may be `.`, `..`
//! or look like `__x__`, ids Firestore refuses. The id is therefore `~` followed by the key
//! with every `/` written as `~`: `agent/last_run` → `~agent~last_run`, `.` → `~.`,
//! `__x__` → `~__x__`. `~` is outside the key alphabet, so the encoding is one-to-one and
//! decodes by dropping the first `~` and turning the others back into `/`. A key is at most
//! 200 characters of at most 4 bytes each, so an id is at most 801 bytes, inside Firestore's
//! 1,500-byte limit. The id `~` alone encodes no key (keys are never empty): [`PING_ID`].
//!
//! **Fields.** `key` (string: the key as given; listing is a range query over it),
//! `value` (string: the value as JSON text, so that every JSON value round-trips exactly:
//! Firestore has no arrays inside arrays and keeps integers and doubles apart), `expires_at`
//! (timestamp, absent when the entry does not expire) and `updated_at` (timestamp of the
//! write). Firestore's own TTL policy may be pointed at `expires_at`; it deletes late, so
//! reads filter on it too.

use crate::clients::firestore::{FieldValue, Fields};
use crate::memory::{MAX_KEY_LEN, MemoryEntry, MemoryKey};

/// What stands for `/` in an id, and starts every id.
const MARK: char = '~';

/// The id of a document no key encodes to, read to check that Firestore answers.
pub const PING_ID: &str = "~";

/// The longest id [`doc_id`] makes, in bytes (well inside Firestore's 1,500).
pub const MAX_ID_BYTES: usize = 1 + 4 * MAX_KEY_LEN;

/// The document id of `key`.
pub fn doc_id(key: &MemoryKey) -> String {
    let mut id = String::with_capacity(key.as_str().len() + 1);
    id.push(MARK);
    id.extend(
        key.as_str()
            .chars()
            .map(|c| if c == '/' { MARK } else { c }),
    );
    id
}

/// The key a document id encodes, if it encodes one.
pub fn key_of_id(id: &str) -> Option<MemoryKey> {
    let rest = id.strip_prefix(MARK)?;
    let text: String = rest
        .chars()
        .map(|c| if c == MARK { '/' } else { c })
        .collect();
    MemoryKey::parse(&text).ok()
}

/// The smallest string above every string that starts with `prefix`, if there is one: the
/// prefix with its last character replaced by the next one (Firestore orders strings by their
/// UTF-8 bytes, which is code point order). `None` for an empty prefix (no upper bound).
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The fields of the document that keeps `entry` under `key`, written at `now_ms`.
pub fn fields_of(key: &MemoryKey, entry: &MemoryEntry, now_ms: i64) -> Fields {
    let mut fields = Fields::new();
    fields.insert("key".into(), FieldValue::String(key.as_str().to_owned()));
    fields.insert("value".into(), FieldValue::String(entry.value.to_string()));
    if let Some(at) = entry.expires_at.and_then(timestamp) {
        fields.insert("expires_at".into(), FieldValue::Timestamp(at));
    }
    if let Some(now) = timestamp(now_ms) {
        fields.insert("updated_at".into(), FieldValue::Timestamp(now));
    }
    fields
}

fn timestamp(ms: i64) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(ms).ok()
}

/// The key and entry a document holds; what is wrong with it otherwise (naming the field).
pub fn entry_of(id: &str, fields: &Fields) -> Result<(MemoryKey, MemoryEntry), String> {
    let bad = |field: &str, expected: &str| {
        format!("memory document {id}: field `{field}` is not {expected}")
    };
    let key = match fields.get("key") {
        Some(FieldValue::String(text)) => {
            MemoryKey::parse(text).map_err(|e| format!("memory document {id}: {e}"))?
        }
        _ => return Err(bad("key", "a string holding a memory key")),
    };
    let value = match fields.get("value") {
        Some(FieldValue::String(text)) => {
            serde_json::from_str(text).map_err(|_| bad("value", "a string of JSON"))?
        }
        _ => return Err(bad("value", "a string of JSON")),
    };
    let expires_at = match fields.get("expires_at") {
        None | Some(FieldValue::Null) => None,
        Some(FieldValue::Timestamp(at)) => Some(at.as_millisecond()),
        Some(_) => return Err(bad("expires_at", "a timestamp")),
    };
    Ok((key, MemoryEntry { value, expires_at }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> MemoryKey {
        MemoryKey::parse(text).expect("key")
    }

    #[test]
    fn awkward_keys_become_valid_ids_and_decode_back() {
        let long = "𝐀".repeat(MAX_KEY_LEN);
        for text in [
            "a/b/c",
            ".",
            "..",
            "__x__",
            "agent/last_run",
            "日本/語",
            &long,
        ] {
            let id = doc_id(&key(text));
            assert!(!id.contains('/'), "{id}");
            assert!(id != "." && id != "..", "{id}");
            assert!(!(id.starts_with("__") && id.ends_with("__")), "{id}");
            assert!(
                id.len() <= MAX_ID_BYTES && MAX_ID_BYTES <= 1500,
                "{}",
                id.len()
            );
            assert_eq!(key_of_id(&id), Some(key(text)));
        }
        assert_eq!(doc_id(&key("a/b/c")), "~a~b~c");
        assert_eq!(key_of_id(PING_ID), None);
    }

    #[test]
    fn the_prefix_end_bounds_exactly_the_keys_with_the_prefix() {
        assert_eq!(prefix_end(""), None);
        let end = prefix_end("agent/").expect("end");
        assert_eq!(end, "agent0");
        for inside in ["agent/", "agent/x", "agent/\u{10FFFF}"] {
            assert!(inside >= "agent/" && inside < end.as_str(), "{inside}");
        }
        for outside in ["agent", "agent0", "agents", "agent."] {
            assert!(
                !(outside >= "agent/" && outside < end.as_str()),
                "{outside}"
            );
        }
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
    }

    #[test]
    fn an_entry_round_trips_through_its_fields_and_a_bad_field_is_named() {
        let entry = MemoryEntry {
            value: serde_json::json!({"x": [[1, 2.5]], "s": "t"}),
            expires_at: Some(1_767_225_600_000),
        };
        let fields = fields_of(&key("a/b"), &entry, 1_767_225_000_000);
        assert_eq!(entry_of("~a~b", &fields), Ok((key("a/b"), entry)));
        let mut broken = fields.clone();
        broken.insert("expires_at".into(), FieldValue::Integer(3));
        let err = entry_of("~a~b", &broken).unwrap_err();
        assert!(
            err.contains("`expires_at`") && err.contains("~a~b"),
            "{err}"
        );
    }
}
