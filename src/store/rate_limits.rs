//! The `rate_limit_checks` table: every observation of a GitHub rate-limit window, so a check
//! can tell the burn rate since the previous one and a report can show the history (in
//! `{prefix}_rate_limits` with the Firestore backend, every machine's checks together).

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::{Store, StoreError};

/// One observation of one credential's window for one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateLimitCheck {
    /// The run that made it, if any.
    pub run_id: Option<i64>,
    /// When (ms since the epoch).
    pub checked_at: i64,
    /// The credential's configured name.
    pub credential: String,
    /// `token` or `app installation N`.
    pub kind: String,
    /// `core`, `search`, `graphql`, …
    pub resource: String,
    /// Requests the window allows.
    pub limit: i64,
    /// Requests left in the window.
    pub remaining: i64,
    /// Requests used in the window.
    pub used: i64,
    /// When the window resets (seconds since the epoch).
    pub reset_at: i64,
    /// Requests per hour since the previous check, when there was one.
    pub burn_per_hour: Option<f64>,
    /// When the window runs out at that rate, if before it resets (seconds since the epoch).
    pub exhausts_at: Option<i64>,
}

const COLUMNS: &str = "run_id, checked_at, credential, kind, resource, window_limit, remaining, \
                       used, reset_at, burn_per_hour, exhausts_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<RateLimitCheck> {
    Ok(RateLimitCheck {
        run_id: row.get(0)?,
        checked_at: row.get(1)?,
        credential: row.get(2)?,
        kind: row.get(3)?,
        resource: row.get(4)?,
        limit: row.get(5)?,
        remaining: row.get(6)?,
        used: row.get(7)?,
        reset_at: row.get(8)?,
        burn_per_hour: row.get(9)?,
        exhausts_at: row.get(10)?,
    })
}

impl Store {
    /// Records `check`.
    pub fn record_rate_limit(&self, check: &RateLimitCheck) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            return shared.record_rate_limit(check, shared.machine());
        }
        self.conn().execute(
            &format!("INSERT INTO rate_limit_checks ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
            params![
                check.run_id,
                check.checked_at,
                check.credential,
                check.kind,
                check.resource,
                check.limit,
                check.remaining,
                check.used,
                check.reset_at,
                check.burn_per_hour,
                check.exhausts_at
            ],
        )?;
        Ok(())
    }

    /// The newest observation of `credential`'s `resource` window.
    pub fn last_rate_limit(
        &self,
        credential: &str,
        resource: &str,
    ) -> Result<Option<RateLimitCheck>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.last_rate_limit(credential, resource);
        }
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM rate_limit_checks WHERE credential = ?1 AND resource = ?2
                     ORDER BY checked_at DESC, id DESC LIMIT 1"
                ),
                [credential, resource],
                from_row,
            )
            .optional()?)
    }

    /// Every observation of the newest `checks` checks (a check being one moment all
    /// credentials were asked), newest first, then by credential and resource.
    pub fn recent_rate_limits(&self, checks: usize) -> Result<Vec<RateLimitCheck>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.recent_rate_limits(checks);
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM rate_limit_checks WHERE checked_at IN
                 (SELECT DISTINCT checked_at FROM rate_limit_checks ORDER BY checked_at DESC LIMIT ?1)
             ORDER BY checked_at DESC, credential, resource"
        ))?;
        let rows = stmt.query_map([i64::try_from(checks).unwrap_or(i64::MAX)], from_row)?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(at: i64, remaining: i64) -> RateLimitCheck {
        RateLimitCheck {
            run_id: None,
            checked_at: at,
            credential: "main".into(),
            kind: "token".into(),
            resource: "core".into(),
            limit: 5000,
            remaining,
            used: 5000 - remaining,
            reset_at: 1_000,
            burn_per_hour: None,
            exhausts_at: None,
        }
    }

    #[test]
    fn the_newest_observation_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db")).unwrap();
        assert_eq!(store.last_rate_limit("main", "core").unwrap(), None);
        store.record_rate_limit(&check(1, 4000)).unwrap();
        store.record_rate_limit(&check(2, 3000)).unwrap();
        let last = store.last_rate_limit("main", "core").unwrap().unwrap();
        assert_eq!(last.remaining, 3000);
        assert_eq!(store.recent_rate_limits(10).unwrap().len(), 2);
        assert_eq!(store.recent_rate_limits(1).unwrap().len(), 1);
        assert_eq!(store.last_rate_limit("main", "search").unwrap(), None);
    }
}
