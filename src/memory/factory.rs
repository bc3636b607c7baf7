//! The one place a `[memory] backend` name becomes a backend. A new backend is one arm here
//! and one file beside this one.

use super::firestore::{FirestoreBackend, FirestoreConnector};
use super::local::LocalBackend;
use super::mcp::McpBackend;
use super::{MemoryBackend, MemoryError};
use crate::config::{MemoryBackendKind, MemorySettings};
use crate::store::Store;

/// The backend `settings` name, over `store` (local) or started on `runtime` (remote);
/// `firestore` hands out the process's Firestore client (used by `backend = "firestore"`).
pub fn open_backend(
    settings: &MemorySettings,
    store: &Store,
    runtime: Option<&tokio::runtime::Handle>,
    firestore: Option<FirestoreConnector>,
) -> Result<Box<dyn MemoryBackend>, MemoryError> {
    let needs_runtime = |backend: &str| {
        MemoryError::Unavailable(format!(
            "the {backend} memory backend needs the async runtime, which this command has not started"
        ))
    };
    match settings.backend {
        MemoryBackendKind::Local => Ok(Box::new(LocalBackend::new(store.clone()))),
        MemoryBackendKind::Mcp => {
            let runtime = runtime.ok_or_else(|| needs_runtime("mcp"))?;
            Ok(Box::new(McpBackend::new(
                settings.mcp.clone(),
                runtime.clone(),
            )))
        }
        MemoryBackendKind::Firestore => {
            // The client drives its own connection; a run without a runtime makes none.
            runtime.ok_or_else(|| needs_runtime("firestore"))?;
            let connect = firestore.ok_or_else(|| {
                MemoryError::Unavailable(
                    "the firestore memory backend needs a Firestore client, which this command does not make".to_owned(),
                )
            })?;
            FirestoreBackend::new(&settings.firestore.collection, connect)
                .map(|b| Box::new(b) as Box<dyn MemoryBackend>)
                .map_err(MemoryError::Unavailable)
        }
    }
}
