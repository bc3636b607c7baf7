//! Memory for playbooks and agents: `memory::` and `orchestra memory`.
//!
//! Keys ([`MemoryKey`]) map to JSON values with an optional expiry ([`MemoryEntry`]), kept by
//! one [`MemoryBackend`] chosen in `[memory] backend` ([`factory`]: `local`, the SQLite state
//! database; `mcp`, a Model Context Protocol memory server; `firestore`, one document per key
//! in a Firestore collection),
//! behind a bounded in-process cache and the degradation of [`Memory`]. Knows nothing of Rhai:
//! `primitives/memory.rs` and `cli/memory.rs` are its two callers.

mod backend;
mod cache;
mod entry;
mod error;
pub mod factory;
pub mod firestore;
mod health;
mod key;
mod local;
pub mod mcp;
mod service;

pub use backend::{BackendError, MemoryBackend};
pub use cache::{Cached, MemoryCache};
pub use entry::{Listed, MemoryEntry, ms_to_rfc3339, rfc3339_to_ms};
pub use error::MemoryError;
pub use firestore::{FirestoreBackend, FirestoreConnector};
pub use health::Reachability;
pub use key::{KEY_SHAPE, MAX_KEY_LEN, MemoryKey, MemoryPrefix};
pub use local::LocalBackend;
pub use service::{MEMORY_BREAKER, Memory, MemoryStatus, Written};
