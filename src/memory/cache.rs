//! The bounded in-process cache in front of every backend (moka): what a key held when the
//! backend was last asked, for at most `[memory] cache_ttl`. Every write through orchestra
//! invalidates its key; expiry of the entry itself is checked on every hit.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use super::MemoryEntry;

/// What the backend said about a key: an entry, or nothing.
pub type Cached = Option<Arc<MemoryEntry>>;

/// The cache of one process.
pub struct MemoryCache {
    entries: Cache<String, Cached>,
    capacity: u64,
    ttl: Duration,
}

impl MemoryCache {
    /// A cache of at most `capacity` keys, each served for at most `ttl`.
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            capacity,
            ttl,
        }
    }

    /// What was cached for `key`: `None` when nothing is, `Some(None)` for a cached miss.
    pub fn get(&self, key: &str) -> Option<Cached> {
        self.entries.get(key)
    }

    /// Remembers what the backend said about `key`.
    pub fn insert(&self, key: &str, value: Cached) {
        self.entries.insert(key.to_owned(), value);
    }

    /// Forgets `key` (after a write through orchestra).
    pub fn invalidate(&self, key: &str) {
        self.entries.invalidate(key);
    }

    /// Keys cached now (approximate: moka counts lazily).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The configured capacity.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The configured time to live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_invalidates_and_capacity_bounds() {
        let cache = MemoryCache::new(2, Duration::from_secs(60));
        cache.insert("a", None);
        assert_eq!(cache.get("a"), Some(None));
        cache.invalidate("a");
        assert_eq!(cache.get("a"), None);
        for i in 0..50 {
            cache.insert(&i.to_string(), None);
        }
        assert!(cache.len() <= 2, "{}", cache.len());
    }
}
