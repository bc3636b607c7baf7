//! `[memory]`: which backend `memory::` and `orchestra memory` use, the in-process cache, and
//! how the MCP memory server is started.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The pinned version of the reference MCP memory server `scripts/test` installs and the
/// default command runs.
pub const MCP_MEMORY_SERVER: &str = "@modelcontextprotocol/server-memory@2026.8.31";

/// Where memory lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemoryBackendKind {
    /// The SQLite state database (the embedded default).
    #[default]
    Local,
    /// A Model Context Protocol memory server over stdio.
    Mcp,
    /// Firestore (`[memory.firestore]`).
    Firestore,
}

impl MemoryBackendKind {
    /// The name used in configuration and status output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Mcp => "mcp",
            Self::Firestore => "firestore",
        }
    }
}

/// `[memory]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemorySettings {
    /// `"local"`, `"mcp"` or `"firestore"`.
    pub backend: MemoryBackendKind,
    /// Entries the in-process cache holds at most (0: no cache).
    pub cache_capacity: u64,
    /// How long a cached entry is served before the backend is asked again, e.g. "300s".
    #[serde(
        deserialize_with = "super::duration_from_text",
        serialize_with = "super::duration_to_text"
    )]
    pub cache_ttl: Duration,
    /// How long an unreachable backend is left alone before orchestra tries it again.
    #[serde(
        deserialize_with = "super::duration_from_text",
        serialize_with = "super::duration_to_text"
    )]
    pub retry_after: Duration,
    /// How the MCP memory server is started (`backend = "mcp"`).
    pub mcp: McpMemorySettings,
    /// Where Firestore keeps memory (`backend = "firestore"`).
    pub firestore: FirestoreMemorySettings,
}

/// `[memory.mcp]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct McpMemorySettings {
    /// The server's command and arguments; it speaks MCP on its stdin and stdout.
    pub command: Vec<String>,
    /// Extra environment for the server (e.g. `MEMORY_FILE_PATH`).
    pub env: BTreeMap<String, String>,
    /// Longest wait for the server's `initialize` answer.
    #[serde(
        deserialize_with = "super::duration_from_text",
        serialize_with = "super::duration_to_text"
    )]
    pub handshake_timeout: Duration,
    /// Longest wait for one tool call.
    #[serde(
        deserialize_with = "super::duration_from_text",
        serialize_with = "super::duration_to_text"
    )]
    pub call_timeout: Duration,
}

/// `[memory.firestore]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirestoreMemorySettings {
    /// The collection one document per key goes into.
    pub collection: String,
}

impl Default for MemorySettings {
    fn default() -> Self {
        Self {
            backend: MemoryBackendKind::Local,
            cache_capacity: 1000,
            cache_ttl: Duration::from_secs(300),
            retry_after: Duration::from_secs(30),
            mcp: McpMemorySettings::default(),
            firestore: FirestoreMemorySettings::default(),
        }
    }
}

impl Default for McpMemorySettings {
    fn default() -> Self {
        Self {
            command: vec!["npx".into(), "-y".into(), MCP_MEMORY_SERVER.into()],
            env: BTreeMap::new(),
            handshake_timeout: Duration::from_secs(20),
            call_timeout: Duration::from_secs(10),
        }
    }
}

impl Default for FirestoreMemorySettings {
    fn default() -> Self {
        Self {
            collection: "orchestra_memory".into(),
        }
    }
}

impl MemorySettings {
    /// Checks what serde cannot: a command to start, timeouts above zero.
    pub fn validate(&self) -> Result<(), String> {
        if self.mcp.command.first().is_none_or(|c| c.trim().is_empty()) {
            return Err(format!(
                "memory.mcp.command: expected a command and its arguments, such as [\"npx\", \"-y\", \"{MCP_MEMORY_SERVER}\"], found {:?}",
                self.mcp.command
            ));
        }
        for (field, value) in [
            ("memory.mcp.handshake_timeout", self.mcp.handshake_timeout),
            ("memory.mcp.call_timeout", self.mcp.call_timeout),
        ] {
            if value.is_zero() {
                return Err(format!(
                    "{field}: expected a duration above zero such as \"10s\", found 0s"
                ));
            }
        }
        if self.firestore.collection.is_empty() || self.firestore.collection.contains('/') {
            return Err(format!(
                "memory.firestore.collection: expected a collection id without '/', found \"{}\"",
                self.firestore.collection
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_local_with_the_documented_cache() {
        let settings = MemorySettings::default();
        assert_eq!(settings.backend, MemoryBackendKind::Local);
        assert_eq!(settings.cache_capacity, 1000);
        assert_eq!(settings.cache_ttl, Duration::from_secs(300));
        settings.validate().unwrap();
    }

    #[test]
    fn an_empty_command_is_refused_by_field() {
        let mut settings = MemorySettings::default();
        settings.mcp.command.clear();
        let err = settings.validate().unwrap_err();
        assert!(err.starts_with("memory.mcp.command: expected"), "{err}");
    }
}
