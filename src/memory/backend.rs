//! The interface every memory backend implements, and how a backend fails.

use super::{Listed, MemoryEntry, MemoryKey, MemoryPrefix};

/// How a backend call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    /// The backend could not be reached (not started, handshake timed out, died, no answer):
    /// reads fall back to the cache and the local store, writes go to the outbox.
    #[error("{0}")]
    Unreachable(String),
    /// The backend answered and refused: the call fails with this message.
    #[error("{0}")]
    Refused(String),
}

/// A place memory entries live. Calls are blocking: the script thread and the CLI wait on them,
/// and a backend that speaks async (MCP, Firestore) runs its future on the tokio runtime it
/// was given (`Handle::block_on`); none is called from async code.
///
/// Backends return what they hold; [`super::Memory`] filters expired entries again on every
/// read, so a backend whose own TTL deletion runs late never serves a stale entry.
pub trait MemoryBackend: Send + Sync {
    /// Its name in `[memory] backend`, status output and the outbox (`local`, `mcp`, …).
    fn name(&self) -> &'static str;

    /// Whether it lives outside this machine's state database: only remote backends degrade
    /// to the local store and queue writes in the outbox.
    fn is_remote(&self) -> bool;

    /// Stores `entry` under `key`, replacing what was there.
    fn store(&self, key: &MemoryKey, entry: &MemoryEntry) -> Result<(), BackendError>;

    /// The entry under `key`, if any.
    fn retrieve(&self, key: &MemoryKey) -> Result<Option<MemoryEntry>, BackendError>;

    /// Forgets `key`; whether it held an entry.
    fn forget(&self, key: &MemoryKey) -> Result<bool, BackendError>;

    /// Up to `limit` entries whose key starts with `prefix`, live at `now_ms`, in key order.
    fn list(
        &self,
        prefix: &MemoryPrefix,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<Listed>, BackendError>;

    /// Checks that the backend answers (connecting if it must).
    fn ping(&self) -> Result<(), BackendError>;
}
