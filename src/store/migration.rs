//! The `migration_phase_runs` and `migration_metrics` tables: every execute, verify and skip of
//! a migration phase, and the metrics its playbooks recorded.
//!
//! With `[state] backend = "firestore"` both families live in Firestore instead
//! (`firestore/migration.rs`), so every machine sees the same phases; callers do not know
//! which. Rows name their run by id without a foreign key, as the runs may live in Firestore
//! when a copy made by `state migrate` is read back. What a phase's status *is* (a running row whose process died reads as interrupted) is decided in
//! [`crate::migrate`]; this file only reads and writes records.

use std::fmt;

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::types::text_enum;
use super::{RunId, Store, StoreError, now_ms};
use crate::process::ProcessIdentity;
use crate::secret::mask::mask;

text_enum! {
    /// What a phase run did.
    PhaseRunKind {
        /// Ran the phase's execute playbook (then its verify playbook).
        Execute => "execute",
        /// Ran the phase's verify playbook alone, in plan mode.
        Verify => "verify",
        /// Marked the phase skipped, with a reason.
        Skip => "skip",
    }
}

text_enum! {
    /// Where a phase run stands, as stored.
    PhaseRunStatus {
        /// Started; its process was alive when it last wrote.
        Running => "running",
        /// Done, and its verification found everything as declared.
        Completed => "completed",
        /// Its playbook failed, or its verification found drift.
        Failed => "failed",
        /// Stopped by a signal before it finished.
        Interrupted => "interrupted",
        /// Done, but orchestra cannot check what the phase is about.
        Unknown => "unknown",
        /// Skipped by the operator.
        Skipped => "skipped",
    }
}

/// A phase run to record.
#[derive(Debug, Clone)]
pub struct NewPhaseRun<'a> {
    /// The migration's name (`[migration].name`).
    pub migration: &'a str,
    /// The `migration.toml` it came from, so a playbook can read its phase's settings.
    pub file: &'a str,
    /// The phase's name.
    pub phase: &'a str,
    /// What it does.
    pub kind: PhaseRunKind,
    /// Its first status (`running`, or `skipped` for a skip).
    pub status: PhaseRunStatus,
    /// The skip's reason.
    pub reason: Option<&'a str>,
}

/// How a phase run ended.
#[derive(Debug, Clone, Default)]
pub struct PhaseRunEnd<'a> {
    /// The error message (redacted on the way in).
    pub error: Option<&'a str>,
    /// Where the error was raised: `playbooks/migration/x.rhai:12:5`.
    pub error_at: Option<&'a str>,
    /// Why it is unknown, or the drift it found.
    pub reason: Option<&'a str>,
}

/// One phase run as stored.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseRunRecord {
    /// Its row id.
    pub id: i64,
    /// The migration's name.
    pub migration: String,
    /// The `migration.toml` it came from.
    pub file: String,
    /// The phase's name.
    pub phase: String,
    /// What it did.
    pub kind: PhaseRunKind,
    /// Where it stands.
    pub status: PhaseRunStatus,
    /// The orchestra run of its playbook (the latest, for an execute that also verified).
    pub run_id: Option<RunId>,
    /// The process that ran it.
    #[serde(skip)]
    pub process: ProcessIdentity,
    /// Start, ms since the epoch.
    pub started_at: i64,
    /// End, ms since the epoch.
    pub finished_at: Option<i64>,
    /// The error it ended with (redacted).
    pub error: Option<String>,
    /// Where that error was raised.
    pub error_at: Option<String>,
    /// Why it was skipped, why it is unknown, or the drift found.
    pub reason: Option<String>,
}

/// One recorded metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricRecord {
    /// The phase whose run recorded it; `None` for a migration-wide metric.
    pub phase: Option<String>,
    /// Its name, e.g. `memory_round_trip_ms`.
    pub name: String,
    /// Its value.
    pub value: f64,
    /// The run that recorded it.
    pub run_id: Option<RunId>,
    /// When, ms since the epoch.
    pub at: i64,
}

const PHASE_COLUMNS: &str = "id, migration, file, phase, kind, status, run_id, pid, host, \
     process_start, started_at, finished_at, error, error_at, reason";

fn corrupt(column: &'static str, value: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        Box::new(StoreError::Corrupt {
            table: "migration_phase_runs",
            column,
            value,
        }),
    )
}

fn phase_row(row: &Row<'_>) -> rusqlite::Result<PhaseRunRecord> {
    let kind: String = row.get(4)?;
    let status: String = row.get(5)?;
    Ok(PhaseRunRecord {
        id: row.get(0)?,
        migration: row.get(1)?,
        file: row.get(2)?,
        phase: row.get(3)?,
        kind: PhaseRunKind::parse(&kind).ok_or_else(|| corrupt("kind", kind.clone()))?,
        status: PhaseRunStatus::parse(&status).ok_or_else(|| corrupt("status", status.clone()))?,
        run_id: row.get::<_, Option<i64>>(6)?.map(RunId),
        process: ProcessIdentity {
            pid: row.get(7)?,
            host: row.get(8)?,
            start_ticks: row.get::<_, Option<i64>>(9)?.map(|t| t as u64),
        },
        started_at: row.get(10)?,
        finished_at: row.get(11)?,
        error: row.get(12)?,
        error_at: row.get(13)?,
        reason: row.get(14)?,
    })
}

impl Store {
    /// Records a phase run started by this process; returns its row id.
    pub fn phase_run_start(&self, run: &NewPhaseRun<'_>) -> Result<i64, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.phase_run_start(run);
        }
        let process = ProcessIdentity::current();
        let now = now_ms();
        let finished = (run.status != PhaseRunStatus::Running).then_some(now);
        let conn = self.conn();
        conn.execute(
            "INSERT INTO migration_phase_runs (migration, file, phase, kind, status, pid, host,
                 process_start, started_at, finished_at, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                run.migration,
                run.file,
                run.phase,
                run.kind.as_str(),
                run.status.as_str(),
                process.pid,
                process.host,
                process.start_ticks.map(|t| t as i64),
                now,
                finished,
                run.reason.map(mask),
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Ties phase run `id` to the orchestra run of its playbook (the verify run, once an
    /// execute moves on to verifying).
    pub fn phase_run_bind(&self, id: i64, run_id: RunId) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            return shared.phase_run_bind(id, run_id);
        }
        self.conn().execute(
            "UPDATE migration_phase_runs SET run_id = ?2 WHERE id = ?1",
            params![id, run_id.0],
        )?;
        Ok(())
    }

    /// Records how phase run `id` ended.
    pub fn phase_run_finish(
        &self,
        id: i64,
        status: PhaseRunStatus,
        end: &PhaseRunEnd<'_>,
    ) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            return shared.phase_run_finish(id, status, end);
        }
        self.conn().execute(
            "UPDATE migration_phase_runs SET status = ?2, finished_at = ?3, error = ?4,
                 error_at = ?5, reason = ?6
             WHERE id = ?1",
            params![
                id,
                status.as_str(),
                now_ms(),
                end.error.map(mask),
                end.error_at,
                end.reason.map(mask),
            ],
        )?;
        Ok(())
    }

    /// Every phase run of `migration`, oldest first.
    pub fn phase_runs(&self, migration: &str) -> Result<Vec<PhaseRunRecord>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.phase_runs(migration);
        }
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {PHASE_COLUMNS} FROM migration_phase_runs WHERE migration = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([migration], phase_row)?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }

    /// The phase run that orchestra run `run_id` belongs to, if any.
    pub fn phase_run_of(&self, run_id: RunId) -> Result<Option<PhaseRunRecord>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.phase_run_of(run_id);
        }
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {PHASE_COLUMNS} FROM migration_phase_runs WHERE run_id = ?1
                     ORDER BY id DESC LIMIT 1"
                ),
                [run_id.0],
                phase_row,
            )
            .optional()?)
    }

    /// Records metric `name` = `value` of `migration` (of `phase`, or migration-wide).
    pub fn migration_metric_record(
        &self,
        migration: &str,
        phase: Option<&str>,
        name: &str,
        value: f64,
        run_id: Option<RunId>,
    ) -> Result<(), StoreError> {
        let metric = MetricRecord {
            phase: phase.map(str::to_owned),
            name: name.to_owned(),
            value,
            run_id,
            at: now_ms(),
        };
        if let Some(shared) = &self.shared {
            return shared.migration_metric_record(migration, &metric);
        }
        self.conn().execute(
            "INSERT INTO migration_metrics (migration, phase, name, value, run_id, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                migration,
                metric.phase,
                metric.name,
                metric.value,
                metric.run_id.map(|r| r.0),
                metric.at
            ],
        )?;
        Ok(())
    }

    /// Every metric `migration` recorded, oldest first.
    pub fn migration_metrics(&self, migration: &str) -> Result<Vec<MetricRecord>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.migration_metrics(migration);
        }
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT phase, name, value, run_id, at FROM migration_metrics
             WHERE migration = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([migration], |row| metric_row(row, 0))?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }

    /// Every phase run of every migration in the SQLite file, oldest first (what
    /// `state migrate` copies).
    pub(super) fn local_phase_runs(&self) -> Result<Vec<PhaseRunRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {PHASE_COLUMNS} FROM migration_phase_runs ORDER BY id"
        ))?;
        let rows = stmt.query_map([], phase_row)?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }

    /// Every metric in the SQLite file with its row id and migration, oldest first (what
    /// `state migrate` copies).
    pub(super) fn local_migration_metrics(
        &self,
    ) -> Result<Vec<(i64, String, MetricRecord)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, migration, phase, name, value, run_id, at FROM migration_metrics
             ORDER BY id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, metric_row(row, 2)?))
        })?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }
}

/// The metric in `row`'s columns from `first` on: phase, name, value, run id, time.
fn metric_row(row: &Row<'_>, first: usize) -> rusqlite::Result<MetricRecord> {
    Ok(MetricRecord {
        phase: row.get(first)?,
        name: row.get(first + 1)?,
        value: row.get(first + 2)?,
        run_id: row.get::<_, Option<i64>>(first + 3)?.map(RunId),
        at: row.get(first + 4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_run_is_recorded_bound_and_finished() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let id = store
            .phase_run_start(&NewPhaseRun {
                migration: "m",
                file: "migration.toml",
                phase: "CORE_INFRASTRUCTURE",
                kind: PhaseRunKind::Execute,
                status: PhaseRunStatus::Running,
                reason: None,
            })
            .unwrap();
        store.phase_run_bind(id, RunId(7)).unwrap();
        assert_eq!(
            store.phase_run_of(RunId(7)).unwrap().map(|r| r.id),
            Some(id)
        );
        store
            .phase_run_finish(
                id,
                PhaseRunStatus::Failed,
                &PhaseRunEnd {
                    error: Some("boom"),
                    error_at: Some("x.rhai:1:2"),
                    reason: None,
                },
            )
            .unwrap();
        let runs = store.phase_runs("m").unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].status, PhaseRunStatus::Failed);
        assert_eq!(runs[0].error_at.as_deref(), Some("x.rhai:1:2"));
        assert!(runs[0].finished_at.is_some());
        assert!(store.phase_runs("other").unwrap().is_empty());
    }

    #[test]
    fn metrics_are_kept_per_migration_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        store
            .migration_metric_record("m", Some("MEMORY_SYSTEM"), "latency_ms", 12.5, None)
            .unwrap();
        store
            .migration_metric_record("m", None, "phases_done", 3.0, Some(RunId(2)))
            .unwrap();
        let metrics = store.migration_metrics("m").unwrap();
        assert_eq!(metrics.len(), 2);
        assert_eq!(metrics[0].phase.as_deref(), Some("MEMORY_SYSTEM"));
        assert_eq!(metrics[1].value, 3.0);
    }
}
