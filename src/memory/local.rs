//! The local backend: the `memory` table of the SQLite state database. Also the copy a remote
//! backend's entries are served from while it is unreachable.

use serde_json::Value;

use super::{BackendError, Listed, MemoryBackend, MemoryEntry, MemoryKey, MemoryPrefix};
use crate::store::{MemoryRow, Store, StoreError};

/// Memory in the state database.
#[derive(Clone)]
pub struct LocalBackend {
    store: Store,
}

fn refused(error: StoreError) -> BackendError {
    BackendError::Refused(error.to_string())
}

fn entry_of(row: &MemoryRow) -> Result<MemoryEntry, BackendError> {
    let value: Value = serde_json::from_str(&row.value).map_err(|_| {
        BackendError::Refused(format!(
            "the state database holds a memory value under {} that is not JSON",
            row.key
        ))
    })?;
    Ok(MemoryEntry {
        value,
        expires_at: row.expires_at,
    })
}

impl LocalBackend {
    /// Memory in `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl MemoryBackend for LocalBackend {
    fn name(&self) -> &'static str {
        "local"
    }

    fn is_remote(&self) -> bool {
        false
    }

    fn store(&self, key: &MemoryKey, entry: &MemoryEntry) -> Result<(), BackendError> {
        self.store
            .memory_put(&MemoryRow {
                key: key.as_str().to_owned(),
                value: entry.value.to_string(),
                expires_at: entry.expires_at,
            })
            .map_err(refused)
    }

    fn retrieve(&self, key: &MemoryKey) -> Result<Option<MemoryEntry>, BackendError> {
        self.store
            .memory_get(key.as_str(), crate::clock::now_ms())
            .map_err(refused)?
            .as_ref()
            .map(entry_of)
            .transpose()
    }

    fn forget(&self, key: &MemoryKey) -> Result<bool, BackendError> {
        self.store
            .memory_delete(key.as_str(), crate::clock::now_ms())
            .map_err(refused)
    }

    fn list(
        &self,
        prefix: &MemoryPrefix,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<Listed>, BackendError> {
        let rows = self
            .store
            .memory_list(prefix.as_str(), limit, now_ms)
            .map_err(refused)?;
        rows.iter()
            .map(|row| {
                Ok(Listed {
                    key: MemoryKey::parse(&row.key)
                        .map_err(|e| BackendError::Refused(e.to_string()))?,
                    entry: entry_of(row)?,
                })
            })
            .collect()
    }

    fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}
