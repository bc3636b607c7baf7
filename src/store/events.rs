//! The `events` table: what a run printed and logged, redacted, for `orchestra runs show`.

use rusqlite::params;
use serde::Serialize;

use super::{RunId, Store, StoreError, now_ms};
use crate::secret::mask::mask;

/// One line a run printed or logged.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    /// When, ms since the epoch.
    pub at: i64,
    /// `print`, `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// The redacted text.
    pub message: String,
}

impl Store {
    /// Appends an event to a run.
    pub fn append_event(
        &self,
        run_id: RunId,
        level: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            return shared.append_event(run_id, level, message);
        }
        self.conn().execute(
            "INSERT INTO events (run_id, at, level, message) VALUES (?1, ?2, ?3, ?4)",
            params![run_id.0, now_ms(), level, mask(message)],
        )?;
        Ok(())
    }

    /// The events of a run, oldest first.
    pub fn events(&self, run_id: RunId) -> Result<Vec<EventRecord>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.events(run_id);
        }
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT at, level, message FROM events WHERE run_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([run_id.0], |row| {
            Ok(EventRecord {
                at: row.get(0)?,
                level: row.get(1)?,
                message: row.get(2)?,
            })
        })?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }
}
