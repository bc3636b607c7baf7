//! The `breakers` table: circuit-breaker state that outlives a run, so the next run does not
//! hammer a service the last one found failing.
//!
//! The state machine lives in [`crate::clients::breaker`]; this file only reads and writes
//! records, and applies a transition atomically across processes.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;

use super::{BreakerState, Store, StoreError, now_ms};
use crate::secret::mask::mask;

/// One breaker as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakerRecord {
    /// Its name, e.g. `github` or `vector-search`.
    pub name: String,
    /// Where it stands.
    pub state: BreakerState,
    /// Consecutive failures counted so far.
    pub failures: u32,
    /// Failures that open it.
    pub threshold: u32,
    /// How long it stays open before a trial, in milliseconds.
    pub recovery_ms: i64,
    /// When it last opened (ms since the epoch).
    pub opened_at: Option<i64>,
    /// The last failure's message (redacted).
    pub last_error: Option<String>,
    /// When it last changed (ms since the epoch).
    pub updated_at: i64,
}

const COLUMNS: &str =
    "name, state, failures, threshold, recovery_ms, opened_at, last_error, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(BreakerRecord, String)> {
    let state: String = row.get(1)?;
    Ok((
        BreakerRecord {
            name: row.get(0)?,
            state: BreakerState::parse(&state).unwrap_or(BreakerState::Closed),
            failures: row.get(2)?,
            threshold: row.get(3)?,
            recovery_ms: row.get(4)?,
            opened_at: row.get(5)?,
            last_error: row.get(6)?,
            updated_at: row.get(7)?,
        },
        state,
    ))
}

fn checked((record, state): (BreakerRecord, String)) -> Result<BreakerRecord, StoreError> {
    if BreakerState::parse(&state).is_none() {
        return Err(StoreError::Corrupt {
            table: "breakers",
            column: "state",
            value: state,
        });
    }
    Ok(record)
}

impl Store {
    /// Reads breaker `name`, lets `transition` decide its next record, and writes that record,
    /// all in one IMMEDIATE transaction so two processes never both take the half-open trial
    /// (in Firestore, one transaction, with `transition` decided again when another machine
    /// changed the breaker first: it may run more than once).
    pub fn update_breaker<T>(
        &self,
        name: &str,
        transition: impl FnMut(Option<BreakerRecord>, i64) -> (T, Option<BreakerRecord>),
    ) -> Result<T, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.update_breaker(name, transition);
        }
        let mut transition = transition;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM breakers WHERE name = ?1"),
                [name],
                from_row,
            )
            .optional()?
            .map(checked)
            .transpose()?;
        let (answer, next) = transition(current, now_ms());
        if let Some(next) = next {
            tx.execute(
                "INSERT INTO breakers (name, state, failures, threshold, recovery_ms, opened_at, last_error, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(name) DO UPDATE SET state = excluded.state, failures = excluded.failures,
                     threshold = excluded.threshold, recovery_ms = excluded.recovery_ms,
                     opened_at = excluded.opened_at, last_error = excluded.last_error,
                     updated_at = excluded.updated_at",
                params![
                    name,
                    next.state.as_str(),
                    next.failures,
                    next.threshold,
                    next.recovery_ms,
                    next.opened_at,
                    next.last_error.as_deref().map(|e| mask(e).into_owned()),
                    next.updated_at
                ],
            )?;
        }
        tx.commit()?;
        Ok(answer)
    }

    /// Every breaker, by name.
    pub fn breakers(&self) -> Result<Vec<BreakerRecord>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.breakers();
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM breakers ORDER BY name"))?;
        let rows = stmt.query_map([], from_row)?;
        rows.map(|r| r.map_err(StoreError::from).and_then(checked))
            .collect()
    }

    /// Forgets breaker `name` (it starts closed next time); whether it existed.
    pub fn reset_breaker(&self, name: &str) -> Result<bool, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.reset_breaker(name);
        }
        Ok(self
            .conn()
            .execute("DELETE FROM breakers WHERE name = ?1", [name])?
            > 0)
    }
}
