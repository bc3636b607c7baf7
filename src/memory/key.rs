//! Memory keys and prefixes, parsed once at the edge (script argument, CLI argument).

use std::fmt;

use super::MemoryError;

/// Longest key accepted, in characters.
pub const MAX_KEY_LEN: usize = 200;

/// What a key looks like, for error messages.
pub const KEY_SHAPE: &str = "1 to 200 characters of letters and digits (any script) and _ - . : / (segments between '/' not empty)";

/// A memory key: 1 to [`MAX_KEY_LEN`] letters and digits (Unicode's alphabetic and numeric
/// characters, so `日本/語` is a key) and `_ - . : /`, with no empty
/// segment between slashes (so `agent/last_run`, never `/agent`, `agent/` or `a//b`). The same
/// key is valid for every backend: an MCP entity name, a SQLite key, a Firestore document id
/// once its `/` are encoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemoryKey(String);

fn allowed(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/')
}

/// The first character outside the key alphabet, and its position (1-based).
fn first_bad(text: &str) -> Option<(usize, char)> {
    text.chars()
        .enumerate()
        .find(|(_, c)| !allowed(*c))
        .map(|(i, c)| (i + 1, c))
}

impl MemoryKey {
    /// Parses `text` as a key.
    pub fn parse(text: &str) -> Result<Self, MemoryError> {
        let invalid = |found: String| MemoryError::InvalidKey {
            key: text.to_owned(),
            found,
        };
        let length = text.chars().count();
        if length == 0 || length > MAX_KEY_LEN {
            return Err(invalid(format!("{length} characters")));
        }
        if let Some((at, c)) = first_bad(text) {
            return Err(invalid(format!("{c:?} at position {at}")));
        }
        if text.split('/').any(str::is_empty) {
            return Err(invalid("an empty segment between '/'".to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemoryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A prefix for `list`: empty (everything) or the start of a key, such as `agent/` or `agent/la`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryPrefix(String);

impl MemoryPrefix {
    /// Parses `text` as a prefix.
    pub fn parse(text: &str) -> Result<Self, MemoryError> {
        let invalid = |found: String| MemoryError::InvalidPrefix {
            prefix: text.to_owned(),
            found,
        };
        let length = text.chars().count();
        if length > MAX_KEY_LEN {
            return Err(invalid(format!("{length} characters")));
        }
        if let Some((at, c)) = first_bad(text) {
            return Err(invalid(format!("{c:?} at position {at}")));
        }
        if text.starts_with('/') || text.contains("//") {
            return Err(invalid("an empty segment between '/'".to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `key` starts with this prefix.
    pub fn matches(&self, key: &str) -> bool {
        key.starts_with(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keys_parse() {
        for key in [
            "agent/last_run",
            "planner/context",
            "a",
            "runs:2026-01-01.x",
            "日本/語",
            "é",
        ] {
            assert_eq!(MemoryKey::parse(key).unwrap().as_str(), key);
        }
    }

    #[test]
    fn bad_keys_name_the_key_and_the_shape() {
        for (key, found) in [
            ("", "0 characters"),
            ("a b", "' ' at position 2"),
            ("/a", "an empty segment"),
            ("a/", "an empty segment"),
            ("a//b", "an empty segment"),
            ("☃", "'☃' at position 1"),
            ("a~b", "'~' at position 2"),
        ] {
            let err = MemoryKey::parse(key).unwrap_err().to_string();
            assert!(err.contains(&format!("\"{key}\"")), "{err}");
            assert!(err.contains(KEY_SHAPE), "{err}");
            assert!(err.contains(found), "{err}");
        }
        assert!(MemoryKey::parse(&"x".repeat(201)).is_err());
    }

    #[test]
    fn prefixes_may_be_empty_or_end_with_a_slash() {
        assert!(MemoryPrefix::parse("").unwrap().matches("anything"));
        assert!(MemoryPrefix::parse("agent/").unwrap().matches("agent/x"));
        assert!(!MemoryPrefix::parse("agent/").unwrap().matches("agents"));
        assert!(MemoryPrefix::parse("a b").is_err());
    }
}
