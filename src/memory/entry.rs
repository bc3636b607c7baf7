//! A memory entry: a JSON value and when it expires. Expiry is checked on every read, from
//! every backend and from the cache, since a backend's own TTL deletion runs late or never.

use serde_json::Value;

/// A value and its optional expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEntry {
    /// The value (never a Secret: refused before it gets here).
    pub value: Value,
    /// When it expires, in ms since the epoch (UTC), if it does.
    pub expires_at: Option<i64>,
}

impl MemoryEntry {
    /// Whether the entry is still to be served at `now_ms`.
    pub fn is_live(&self, now_ms: i64) -> bool {
        self.expires_at.is_none_or(|at| at > now_ms)
    }

    /// The expiry as RFC 3339 (UTC, milliseconds), if any.
    pub fn expires_at_text(&self) -> Option<String> {
        self.expires_at.map(ms_to_rfc3339)
    }
}

/// `ms` since the epoch as RFC 3339 (UTC, milliseconds).
pub fn ms_to_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

/// An RFC 3339 time as ms since the epoch.
pub fn rfc3339_to_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// One live entry and its key, as `list` returns them.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// The key.
    pub key: super::MemoryKey,
    /// The entry.
    pub entry: MemoryEntry,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_exclusive_and_round_trips_as_text() {
        let entry = MemoryEntry {
            value: Value::Null,
            expires_at: Some(1_767_225_600_000),
        };
        assert!(entry.is_live(1_767_225_599_999));
        assert!(!entry.is_live(1_767_225_600_000));
        let text = entry.expires_at_text().unwrap();
        assert_eq!(text, "2026-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_to_ms(&text), entry.expires_at);
    }
}
