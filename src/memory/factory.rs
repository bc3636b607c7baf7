//! The one place a `[memory] backend` name becomes a backend. A new backend (Firestore) is one
//! arm here and one file beside this one.

use super::local::LocalBackend;
use super::mcp::McpBackend;
use super::{MemoryBackend, MemoryError};
use crate::config::{MemoryBackendKind, MemorySettings};
use crate::store::Store;

/// The backend `settings` name, over `store` (local) or started on `runtime` (remote).
pub fn open_backend(
    settings: &MemorySettings,
    store: &Store,
    runtime: Option<&tokio::runtime::Handle>,
) -> Result<Box<dyn MemoryBackend>, MemoryError> {
    match settings.backend {
        MemoryBackendKind::Local => Ok(Box::new(LocalBackend::new(store.clone()))),
        MemoryBackendKind::Mcp => {
            let runtime = runtime.ok_or_else(|| {
                MemoryError::Unavailable(
                    "the mcp memory backend needs the async runtime, which this command has not started".to_owned(),
                )
            })?;
            Ok(Box::new(McpBackend::new(
                settings.mcp.clone(),
                runtime.clone(),
            )))
        }
        MemoryBackendKind::Firestore => Err(MemoryError::Unavailable(
            "[memory] backend = \"firestore\" is accepted, but this build has no Firestore memory backend yet: use \"local\" or \"mcp\"".to_owned(),
        )),
    }
}
