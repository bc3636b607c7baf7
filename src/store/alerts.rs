//! The `alerts` table: the last known severity of each alert condition, when it was last sent,
//! and a message that could not be sent yet (kept until a later run delivers it).

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, StoreError};
use crate::secret::mask::mask;

/// One alert condition as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRecord {
    /// The condition's key, e.g. `rate-limit:core`.
    pub key: String,
    /// `ok`, `info`, `warning` or `critical`.
    pub severity: String,
    /// The last message.
    pub message: String,
    /// When the severity last changed (ms since the epoch).
    pub changed_at: i64,
    /// When a message was last delivered (ms since the epoch).
    pub last_sent_at: Option<i64>,
    /// A message that failed to send and waits for the next attempt.
    pub unsent: Option<String>,
}

fn alert_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRecord> {
    Ok(AlertRecord {
        key: row.get(0)?,
        severity: row.get(1)?,
        message: row.get(2)?,
        changed_at: row.get(3)?,
        last_sent_at: row.get(4)?,
        unsent: row.get(5)?,
    })
}

impl Store {
    /// The stored state of alert `key`.
    pub fn alert(&self, key: &str) -> Result<Option<AlertRecord>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.alert(key);
        }
        Ok(self
            .conn()
            .query_row(
                "SELECT key, severity, message, changed_at, last_sent_at, unsent FROM alerts WHERE key = ?1",
                [key],
                alert_from_row,
            )
            .optional()?)
    }

    /// Writes alert `record`.
    pub fn put_alert(&self, record: &AlertRecord) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            return shared.put_alerts(std::slice::from_ref(record));
        }
        self.conn().execute(
            "INSERT INTO alerts (key, severity, message, changed_at, last_sent_at, unsent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(key) DO UPDATE SET severity = excluded.severity, message = excluded.message,
                 changed_at = excluded.changed_at, last_sent_at = excluded.last_sent_at,
                 unsent = excluded.unsent",
            params![
                record.key,
                record.severity,
                mask(&record.message),
                record.changed_at,
                record.last_sent_at,
                record.unsent.as_deref().map(|m| mask(m).into_owned())
            ],
        )?;
        Ok(())
    }

    /// Every alert with a message still waiting to be sent.
    pub fn unsent_alerts(&self) -> Result<Vec<String>, StoreError> {
        if let Some(shared) = &self.shared {
            let alerts = shared.alerts()?;
            return Ok(alerts
                .into_iter()
                .filter(|a| a.unsent.is_some())
                .map(|a| a.key)
                .collect());
        }
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT key FROM alerts WHERE unsent IS NOT NULL ORDER BY key")?;
        let rows = stmt.query_map([], |row| row.get(0))?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }
}

impl Store {
    /// Every alert, by key (what `state migrate` copies).
    pub fn alerts(&self) -> Result<Vec<AlertRecord>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.alerts();
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT key, severity, message, changed_at, last_sent_at, unsent FROM alerts ORDER BY key",
        )?;
        let rows = stmt.query_map([], alert_from_row)?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }
}
