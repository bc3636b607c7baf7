//! The `steps` table: the journal of every primitive call that reads or changes the world.
//!
//! A mutation is journaled twice: its intent (`started`) before the request leaves, its outcome
//! after. A run killed in between leaves a `started` step, which tells a resume exactly which
//! mutation's fate must be checked. Details are redacted text, never secret values.

use rusqlite::params;
use serde::Serialize;

use super::{RunId, StepEffect, StepStatus, Store, StoreError, now_ms};
use crate::secret::mask::mask;

/// The identity of one journaled step: its run and its sequence number in that run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StepRef {
    /// The run.
    pub run_id: RunId,
    /// 1, 2, 3 … in the order the playbook made the calls.
    pub seq: i64,
}

/// A step as stored.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    /// Sequence number within the run.
    pub seq: i64,
    /// The primitive, e.g. `state::set`.
    pub primitive: String,
    /// Read or mutate.
    pub effect: StepEffect,
    /// What it acted on.
    pub target: String,
    /// Where it stands.
    pub status: StepStatus,
    /// Redacted detail: the fields changed, or the error.
    pub detail: String,
    /// Start time, ms since the epoch.
    pub started_at: i64,
    /// End time, ms since the epoch.
    pub finished_at: Option<i64>,
}

impl Store {
    /// Journals a step's intent (or, with `StepStatus::Planned`, a would-be change) and returns
    /// its reference.
    pub fn begin_step(
        &self,
        run_id: RunId,
        primitive: &str,
        effect: StepEffect,
        target: &str,
        status: StepStatus,
        detail: &str,
    ) -> Result<StepRef, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.begin_step(run_id, primitive, effect, target, status, detail);
        }
        let now = now_ms();
        let finished = (status != StepStatus::Started).then_some(now);
        let seq = self.conn().query_row(
            "INSERT INTO steps (run_id, seq, primitive, effect, target, status, detail, started_at, finished_at)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM steps WHERE run_id = ?1),
                     ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             RETURNING seq",
            params![
                run_id.0,
                primitive,
                effect.as_str(),
                mask(target),
                status.as_str(),
                mask(detail),
                now,
                finished
            ],
            |row| row.get(0),
        )?;
        Ok(StepRef { run_id, seq })
    }

    /// Records a step's outcome.
    pub fn finish_step(
        &self,
        step: StepRef,
        status: StepStatus,
        detail: &str,
    ) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            return shared.finish_step(step, status, detail);
        }
        self.conn().execute(
            "UPDATE steps SET status = ?3, detail = ?4, finished_at = ?5 WHERE run_id = ?1 AND seq = ?2",
            params![step.run_id.0, step.seq, status.as_str(), mask(detail), now_ms()],
        )?;
        Ok(())
    }

    /// Every step of a run, in order.
    pub fn steps(&self, run_id: RunId) -> Result<Vec<StepRecord>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.steps(run_id);
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT seq, primitive, effect, target, status, detail, started_at, finished_at
             FROM steps WHERE run_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([run_id.0], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, Option<i64>>(7)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, primitive, effect, target, status, detail, started_at, finished_at) = row?;
            Ok(StepRecord {
                seq,
                primitive,
                effect: StepEffect::parse(&effect).ok_or_else(|| StoreError::Corrupt {
                    table: "steps",
                    column: "effect",
                    value: effect.clone(),
                })?,
                target,
                status: StepStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
                    table: "steps",
                    column: "status",
                    value: status.clone(),
                })?,
                detail,
                started_at,
                finished_at,
            })
        })
        .collect()
    }
}
