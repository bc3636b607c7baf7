//! The `memory` and `memory_outbox` tables: entries of the local memory backend, and the writes
//! a remote backend has not taken yet, in the order they were made.
//!
//! Values arrive as JSON text that `memory::` already checked holds no Secret.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, now_ms};

/// One stored memory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryRow {
    /// The key.
    pub key: String,
    /// The value, as JSON text.
    pub value: String,
    /// When it expires (ms since the epoch), if it does.
    pub expires_at: Option<i64>,
}

/// A write queued for a backend that was unreachable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxOp {
    /// Store `value` (JSON text) under `key`.
    Store {
        /// The key.
        key: String,
        /// The value, as JSON text.
        value: String,
        /// When it expires (ms since the epoch), if it does.
        expires_at: Option<i64>,
    },
    /// Forget `key`.
    Forget {
        /// The key.
        key: String,
    },
}

impl OutboxOp {
    /// The key the write is for.
    pub fn key(&self) -> &str {
        match self {
            Self::Store { key, .. } | Self::Forget { key } => key,
        }
    }
}

/// One queued write and its place in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Its place: writes are flushed in increasing `seq`.
    pub seq: i64,
    /// The write.
    pub op: OutboxOp,
}

/// An outbox row as stored, before its `op` column is checked.
struct QueuedRow {
    seq: i64,
    kind: String,
    key: String,
    value: Option<String>,
    expires_at: Option<i64>,
}

fn queued_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedRow> {
    Ok(QueuedRow {
        seq: row.get(0)?,
        kind: row.get(1)?,
        key: row.get(2)?,
        value: row.get(3)?,
        expires_at: row.get(4)?,
    })
}

fn memory_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<MemoryRow> {
    Ok(MemoryRow {
        key: row.get(0)?,
        value: row.get(1)?,
        expires_at: row.get(2)?,
    })
}

impl Store {
    /// The entry under `key` that has not expired at `now_ms`.
    pub fn memory_get(&self, key: &str, now_ms: i64) -> Result<Option<MemoryRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT key, value, expires_at FROM memory
                 WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
                params![key, now_ms],
                memory_row,
            )
            .optional()?)
    }

    /// Stores `row`, replacing what was under its key.
    pub fn memory_put(&self, row: &MemoryRow) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO memory (key, value, expires_at, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value,
                 expires_at = excluded.expires_at, updated_at = excluded.updated_at",
            params![row.key, row.value, row.expires_at, now_ms()],
        )?;
        Ok(())
    }

    /// Deletes `key`; whether a live (unexpired at `now_ms`) entry was there.
    pub fn memory_delete(&self, key: &str, now_ms: i64) -> Result<bool, StoreError> {
        let live = self.memory_get(key, now_ms)?.is_some();
        self.conn()
            .execute("DELETE FROM memory WHERE key = ?1", [key])?;
        Ok(live)
    }

    /// Up to `limit` live entries whose key starts with `prefix`, in key order.
    pub fn memory_list(
        &self,
        prefix: &str,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<MemoryRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT key, value, expires_at FROM memory
             WHERE substr(key, 1, length(?1)) = ?1 AND (expires_at IS NULL OR expires_at > ?2)
             ORDER BY key LIMIT ?3",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![prefix, now_ms, limit], memory_row)?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }

    /// Queues `op` for `backend`; its place in the queue.
    pub fn outbox_push(&self, backend: &str, op: &OutboxOp) -> Result<i64, StoreError> {
        let conn = self.conn();
        let (kind, key, value, expires_at) = match op {
            OutboxOp::Store {
                key,
                value,
                expires_at,
            } => ("store", key, Some(value), *expires_at),
            OutboxOp::Forget { key } => ("forget", key, None, None),
        };
        conn.execute(
            "INSERT INTO memory_outbox (backend, op, key, value, expires_at, queued_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![backend, kind, key, value, expires_at, now_ms()],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// The writes queued for `backend`, oldest first.
    pub fn outbox_pending(&self, backend: &str) -> Result<Vec<OutboxRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT seq, op, key, value, expires_at FROM memory_outbox
             WHERE backend = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([backend], queued_row)?;
        let mut out = Vec::new();
        for row in rows {
            let QueuedRow {
                seq,
                kind,
                key,
                value,
                expires_at,
            } = row?;
            let op = match (kind.as_str(), value) {
                ("store", Some(value)) => OutboxOp::Store {
                    key,
                    value,
                    expires_at,
                },
                ("forget", _) => OutboxOp::Forget { key },
                _ => {
                    return Err(StoreError::Corrupt {
                        table: "memory_outbox",
                        column: "op",
                        value: kind,
                    });
                }
            };
            out.push(OutboxRow { seq, op });
        }
        Ok(out)
    }

    /// Removes the queued write `seq` once its backend took it.
    pub fn outbox_remove(&self, seq: i64) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM memory_outbox WHERE seq = ?1", [seq])?;
        Ok(())
    }

    /// How many writes wait for `backend`.
    pub fn outbox_depth(&self, backend: &str) -> Result<u64, StoreError> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM memory_outbox WHERE backend = ?1",
            [backend],
            |row| row.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_entries_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let row = |key: &str, expires_at| MemoryRow {
            key: key.into(),
            value: "1".into(),
            expires_at,
        };
        store.memory_put(&row("a/1", Some(1_000))).unwrap();
        store.memory_put(&row("a/2", None)).unwrap();
        assert!(store.memory_get("a/1", 999).unwrap().is_some());
        assert!(store.memory_get("a/1", 1_000).unwrap().is_none());
        let listed = store.memory_list("a/", 10, 1_000).unwrap();
        assert_eq!(listed, vec![row("a/2", None)]);
    }

    #[test]
    fn the_outbox_keeps_its_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let first = OutboxOp::Store {
            key: "k".into(),
            value: "1".into(),
            expires_at: None,
        };
        let second = OutboxOp::Forget { key: "k".into() };
        let a = store.outbox_push("mcp", &first).unwrap();
        store.outbox_push("mcp", &second).unwrap();
        let pending = store.outbox_pending("mcp").unwrap();
        assert_eq!(
            pending.iter().map(|r| r.op.clone()).collect::<Vec<_>>(),
            vec![first, second]
        );
        store.outbox_remove(a).unwrap();
        assert_eq!(store.outbox_depth("mcp").unwrap(), 1);
        assert_eq!(store.outbox_depth("firestore").unwrap(), 0);
    }
}
