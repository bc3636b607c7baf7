//! The `state` table: a small key-value store that playbooks keep between runs (in
//! `{prefix}_kv` with the Firestore backend).
//!
//! Values are text: `state::` seals them (the key a keyed hash, the value encrypted) before
//! they get here, and the engine refuses to store a secret at all.

use rusqlite::{OptionalExtension, params};

use super::{RunId, Store, StoreError, now_ms};

/// Writes row `key`, replacing what was there.
fn upsert(
    conn: &rusqlite::Connection,
    key: &str,
    json: &str,
    run_id: Option<RunId>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO state (key, value, updated_at, updated_by_run) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value,
             updated_at = excluded.updated_at, updated_by_run = excluded.updated_by_run",
        params![key, json, now_ms(), run_id.map(|r| r.0)],
    )?;
    Ok(())
}

impl Store {
    /// The JSON value stored under `key`, if any.
    pub fn state_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.state_get(key);
        }
        Ok(self
            .conn()
            .query_row("SELECT value FROM state WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?)
    }

    /// Stores `json` under `key`, replacing what was there.
    pub fn state_set(
        &self,
        key: &str,
        json: &str,
        run_id: Option<RunId>,
    ) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            return shared.state_set(key, json, run_id, None);
        }
        upsert(&self.conn(), key, json, run_id)
    }

    /// Stores `json` under `key` and deletes the row `replaced` (an older name of the same
    /// entry), in one write.
    pub fn state_replace(
        &self,
        key: &str,
        json: &str,
        run_id: Option<RunId>,
        replaced: &str,
    ) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            return shared.state_set(key, json, run_id, Some(replaced));
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        upsert(&tx, key, json, run_id)?;
        if replaced != key {
            tx.execute("DELETE FROM state WHERE key = ?1", [replaced])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes `key`; returns whether it existed.
    pub fn state_delete(&self, key: &str) -> Result<bool, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.state_delete(key);
        }
        Ok(self
            .conn()
            .execute("DELETE FROM state WHERE key = ?1", [key])?
            > 0)
    }

    /// Every row, key and value, in key order.
    pub fn state_rows(&self) -> Result<Vec<(String, String)>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.state_rows_from("");
        }
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT key, value FROM state ORDER BY key")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }

    /// The keys that start with `prefix`, sorted.
    pub fn state_keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        if let Some(shared) = &self.shared {
            let rows = shared.state_rows_from(prefix)?;
            return Ok(rows.into_iter().map(|(key, _)| key).collect());
        }
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT key FROM state WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key")?;
        let rows = stmt.query_map([prefix], |row| row.get(0))?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_delete_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(store.state_get("a").unwrap(), None);
        store.state_set("a", "1", None).unwrap();
        store.state_set("a", "2", None).unwrap();
        store.state_set("b", "3", None).unwrap();
        assert_eq!(store.state_get("a").unwrap().as_deref(), Some("2"));
        assert_eq!(store.state_keys("a").unwrap(), vec!["a".to_owned()]);
        assert!(store.state_delete("a").unwrap());
        assert!(!store.state_delete("a").unwrap());
    }
}
