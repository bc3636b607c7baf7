//! [`Memory`]: the cache, the configured backend, and degradation that loses nothing.
//!
//! Reads are served from the cache, else the backend; when a remote backend is unreachable
//! (its breaker open, its program missing, its handshake timing out, its process dead) reads
//! are served from the local store, which holds the last known copy of every entry this
//! machine wrote or read. Writes always land in the local store too; a write the remote
//! backend could not take is queued in the outbox and flushed, in order, before the next call
//! that reaches it (later in the run, or the next run). A plan writes nothing: no copy, no
//! flush, no breaker change.

use std::sync::Arc;

use super::cache::{Cached, MemoryCache};
use super::health::{Health, Reachability};
use super::local::LocalBackend;
use super::{
    BackendError, Listed, MemoryBackend, MemoryEntry, MemoryError, MemoryKey, MemoryPrefix,
};
use crate::clients::breaker::{Admission, BreakerPolicy, Breakers};
use crate::config::MemorySettings;
use crate::store::{OutboxOp, Store};

/// The breaker that guards the remote memory backend (`orchestra breakers`).
pub const MEMORY_BREAKER: &str = "service:memory";

/// Where a write went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The backend took it.
    Stored,
    /// The backend was unreachable: it waits in the outbox (and in the local copy).
    Queued,
}

/// What `orchestra memory status` and `memory::status()` show.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemoryStatus {
    /// The backend's name.
    pub backend: &'static str,
    /// `answering`, `unreachable` or `untried`.
    pub health: &'static str,
    /// Why it is unreachable.
    pub reason: Option<String>,
    /// Writes waiting for it.
    pub outbox: u64,
    /// Keys in this process's cache.
    pub cache_entries: u64,
    /// The cache's capacity.
    pub cache_capacity: u64,
    /// The cache's time to live, in seconds.
    pub cache_ttl_secs: u64,
}

/// Memory for one process.
pub struct Memory {
    backend: Box<dyn MemoryBackend>,
    local: LocalBackend,
    store: Store,
    cache: MemoryCache,
    health: Health,
}

fn refused(
    backend: &'static str,
    operation: &'static str,
    key: &str,
) -> impl FnOnce(String) -> MemoryError {
    let key = key.to_owned();
    move |message| MemoryError::Refused {
        backend,
        operation,
        key,
        message,
    }
}

fn local_refused(operation: &'static str, key: &str, error: BackendError) -> MemoryError {
    refused("local", operation, key)(error.to_string())
}

fn outbox_op(key: &MemoryKey, entry: Option<&MemoryEntry>) -> OutboxOp {
    match entry {
        Some(entry) => OutboxOp::Store {
            key: key.as_str().to_owned(),
            value: entry.value.to_string(),
            expires_at: entry.expires_at,
        },
        None => OutboxOp::Forget {
            key: key.as_str().to_owned(),
        },
    }
}

impl Memory {
    /// Memory over `backend`, with the local copy and outbox in `store`.
    pub fn new(backend: Box<dyn MemoryBackend>, store: Store, settings: &MemorySettings) -> Self {
        Self {
            backend,
            local: LocalBackend::new(store.clone()),
            store,
            cache: MemoryCache::new(settings.cache_capacity, settings.cache_ttl),
            health: Health::new(settings.retry_after),
        }
    }

    /// Opens the backend `settings` name (see [`super::factory`]); `firestore` hands out the
    /// Firestore client when that backend is named.
    pub fn open(
        settings: &MemorySettings,
        store: &Store,
        runtime: Option<&tokio::runtime::Handle>,
        firestore: Option<super::FirestoreConnector>,
    ) -> Result<Self, MemoryError> {
        let backend = super::factory::open_backend(settings, store, runtime, firestore)?;
        Ok(Self::new(backend, store.clone(), settings))
    }

    /// The backend's name.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// What the cache holds for `key`, if it holds anything live: `Some(None)` is a cached
    /// miss. Touches nothing outside the process.
    pub fn cached(&self, key: &MemoryKey) -> Option<Cached> {
        self.cached_text(key.as_str())
    }

    /// [`Self::cached`] for a key not parsed yet: only parsed keys are cached, so a hit
    /// proves `key` valid and a miss says nothing (parse it, then [`Self::retrieve`]).
    pub fn cached_text(&self, key: &str) -> Option<Cached> {
        let cached = self.cache.get(key)?;
        match cached {
            Some(entry) if !entry.is_live(crate::clock::now_ms()) => Some(None),
            other => Some(other),
        }
    }

    /// The live entry under `key`: the cache, else the backend, else (backend unreachable)
    /// the local copy.
    pub fn retrieve(&self, key: &MemoryKey, plan: bool) -> Result<Cached, MemoryError> {
        if let Some(cached) = self.cached(key) {
            return Ok(cached);
        }
        let (found, answered) = if self.backend.is_remote() {
            match self.remote(plan, "retrieve", key.as_str(), |b| b.retrieve(key))? {
                Some(found) => {
                    if !plan {
                        self.keep_copy(key, found.as_ref())?;
                    }
                    (found, true)
                }
                None => (self.local_retrieve(key)?, false),
            }
        } else {
            (self.local_retrieve(key)?, true)
        };
        let now = crate::clock::now_ms();
        let found = found.filter(|e| e.is_live(now)).map(Arc::new);
        if answered {
            self.cache.insert(key.as_str(), found.clone());
        }
        Ok(found)
    }

    fn local_retrieve(&self, key: &MemoryKey) -> Result<Option<MemoryEntry>, MemoryError> {
        self.local
            .retrieve(key)
            .map_err(|e| local_refused("retrieve", key.as_str(), e))
    }

    /// Keeps the local copy in step with what the remote backend said.
    fn keep_copy(&self, key: &MemoryKey, entry: Option<&MemoryEntry>) -> Result<(), MemoryError> {
        let result = match entry {
            Some(entry) => self.local.store(key, entry),
            None => self.local.forget(key).map(|_| ()),
        };
        result.map_err(|e| local_refused("copy", key.as_str(), e))
    }

    /// Stores `entry` under `key` (never called in a plan).
    pub fn store(&self, key: &MemoryKey, entry: &MemoryEntry) -> Result<Written, MemoryError> {
        self.cache.invalidate(key.as_str());
        self.keep_copy(key, Some(entry))?;
        if !self.backend.is_remote() {
            return Ok(Written::Stored);
        }
        let written = match self.remote(false, "store", key.as_str(), |b| b.store(key, entry))? {
            Some(()) => Written::Stored,
            None => {
                self.store
                    .outbox_push(self.backend.name(), &outbox_op(key, Some(entry)))?;
                Written::Queued
            }
        };
        self.cache.invalidate(key.as_str());
        Ok(written)
    }

    /// Forgets `key` (never called in a plan); whether it held a live entry.
    pub fn forget(&self, key: &MemoryKey) -> Result<(bool, Written), MemoryError> {
        self.cache.invalidate(key.as_str());
        let had_copy = self
            .local
            .forget(key)
            .map_err(|e| local_refused("forget", key.as_str(), e))?;
        if !self.backend.is_remote() {
            return Ok((had_copy, Written::Stored));
        }
        let result = match self.remote(false, "forget", key.as_str(), |b| b.forget(key))? {
            Some(existed) => (existed, Written::Stored),
            None => {
                self.store
                    .outbox_push(self.backend.name(), &outbox_op(key, None))?;
                (had_copy, Written::Queued)
            }
        };
        self.cache.invalidate(key.as_str());
        Ok(result)
    }

    /// Up to `limit` live entries under `prefix`, in key order (not cached).
    pub fn list(
        &self,
        prefix: &MemoryPrefix,
        limit: usize,
        plan: bool,
    ) -> Result<Vec<Listed>, MemoryError> {
        let now = crate::clock::now_ms();
        let listed = if self.backend.is_remote() {
            self.remote(plan, "list", prefix.as_str(), |b| {
                b.list(prefix, limit, now)
            })?
        } else {
            None
        };
        let mut listed = match listed {
            Some(listed) => listed,
            None => self
                .local
                .list(prefix, limit, now)
                .map_err(|e| local_refused("list", prefix.as_str(), e))?,
        };
        listed.retain(|l| l.entry.is_live(now) && prefix.matches(l.key.as_str()));
        listed.sort_by(|a, b| a.key.cmp(&b.key));
        listed.truncate(limit);
        Ok(listed)
    }

    /// Asks the backend whether it answers, flushing the outbox when it does.
    pub fn probe(&self, plan: bool) -> Result<(), MemoryError> {
        if self.backend.is_remote() {
            self.remote(plan, "ping", "", |b| b.ping())?;
        }
        Ok(())
    }

    /// The backend, its health, the outbox depth and the cache size.
    pub fn status(&self) -> Result<MemoryStatus, MemoryError> {
        let (health, reason) = if !self.backend.is_remote() {
            ("answering", None)
        } else {
            match self.health.reachability() {
                Reachability::Untried => ("untried", None),
                Reachability::Answering => ("answering", None),
                Reachability::Unreachable { reason } => ("unreachable", Some(reason)),
            }
        };
        Ok(MemoryStatus {
            backend: self.backend.name(),
            health,
            reason,
            outbox: self.store.outbox_depth(self.backend.name())?,
            cache_entries: self.cache.len(),
            cache_capacity: self.cache.capacity(),
            cache_ttl_secs: self.cache.ttl().as_secs(),
        })
    }

    /// Runs `call` on the remote backend when it may be reached: the outbox flushed first (in
    /// order), the breaker asked and told. `Ok(None)`: unreachable, serve locally.
    fn remote<T>(
        &self,
        plan: bool,
        operation: &'static str,
        key: &str,
        call: impl FnOnce(&dyn MemoryBackend) -> Result<T, BackendError>,
    ) -> Result<Option<T>, MemoryError> {
        let name = self.backend.name();
        if !self.health.may_try() {
            return Ok(None);
        }
        let breakers = Breakers::for_run(self.store.clone(), plan);
        let policy = BreakerPolicy::default();
        if let Admission::Refused { retry_in, .. } = breakers.admit(MEMORY_BREAKER, policy)? {
            self.health.failed(
                name,
                &format!(
                    "its circuit breaker {MEMORY_BREAKER} is open; next trial in {}s",
                    retry_in.as_secs().max(1)
                ),
            );
            return Ok(None);
        }
        let outcome = self.flush(plan).and_then(|()| call(self.backend.as_ref()));
        match outcome {
            Ok(value) => {
                breakers.record_success(MEMORY_BREAKER, policy)?;
                self.health.answered(name);
                Ok(Some(value))
            }
            Err(BackendError::Unreachable(reason)) => {
                breakers.record_failure(MEMORY_BREAKER, policy, &reason)?;
                self.health.failed(name, &reason);
                Ok(None)
            }
            Err(BackendError::Refused(message)) => {
                breakers.record_success(MEMORY_BREAKER, policy)?;
                self.health.answered(name);
                Err(refused(name, operation, key)(message))
            }
        }
    }

    /// Sends the outbox to the backend, oldest first, removing each write once taken. A plan
    /// flushes nothing: with writes waiting, it reads the local copy, which has them.
    fn flush(&self, plan: bool) -> Result<(), BackendError> {
        let name = self.backend.name();
        let pending = self
            .store
            .outbox_pending(name)
            .map_err(|e| BackendError::Refused(e.to_string()))?;
        if pending.is_empty() {
            return Ok(());
        }
        if plan {
            return Err(BackendError::Unreachable(format!(
                "{} write(s) wait in the outbox and a plan does not flush them",
                pending.len()
            )));
        }
        let total = pending.len();
        for row in pending {
            let key =
                MemoryKey::parse(row.op.key()).map_err(|e| BackendError::Refused(e.to_string()))?;
            let result = match &row.op {
                OutboxOp::Store {
                    value, expires_at, ..
                } => {
                    let value = serde_json::from_str(value).map_err(|_| {
                        BackendError::Refused(format!(
                            "queued write #{} for {key} is not JSON",
                            row.seq
                        ))
                    })?;
                    self.backend.store(
                        &key,
                        &MemoryEntry {
                            value,
                            expires_at: *expires_at,
                        },
                    )
                }
                OutboxOp::Forget { .. } => self.backend.forget(&key).map(|_| ()),
            };
            match result {
                Ok(()) => {
                    self.store
                        .outbox_remove(row.seq)
                        .map_err(|e| BackendError::Refused(e.to_string()))?;
                    self.cache.invalidate(key.as_str());
                }
                Err(BackendError::Refused(message)) => {
                    return Err(BackendError::Unreachable(format!(
                        "it refused queued write #{} for {key} ({message}); it stays in the outbox",
                        row.seq
                    )));
                }
                Err(unreachable) => return Err(unreachable),
            }
        }
        tracing::info!("memory backend {name} took the {total} queued write(s), in order");
        Ok(())
    }
}
