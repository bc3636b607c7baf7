//! `orchestra state migrate --to firestore`: copies a folder's SQLite runs, steps, events,
//! playbook state, sync ledger, circuit breakers, rate-limit history, alert conditions, budget
//! history and migration phase state into the shared collections, keeping run and phase-run
//! ids.
//!
//! Idempotent: every document id is derived from the SQLite row (a run's id, a step's run
//! and seq, an event's run and position, a state key, a ledger pair, a breaker's name, an
//! alert's key, a budget check's row id, a phase run's id, a metric's time and row id with
//! the source), so a second copy writes the same documents again and adds none. A run or
//! phase-run id already used in Firestore by another source is refused before anything is
//! written, and both counters are moved past the copied ids so new runs and phase runs never
//! reuse one. Sealed state and fingerprints are copied as they
//! are: the caller makes sure the fingerprint key they were made under is the shared one.

use serde::Serialize;

use super::fields::{document_id, map, opt_int, opt_string, string, text};
use super::migration::PHASE_RUNS;
use super::{FirestoreState, padded};
use crate::clients::firestore::{CommitLimits, FieldValue, WriteOp};
use crate::secret::mask::mask;
use crate::store::{RunStatus, Store, StoreError};

/// What a copy wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Runs copied.
    pub runs: usize,
    /// Steps copied.
    pub steps: usize,
    /// Events copied.
    pub events: usize,
    /// Playbook state entries copied.
    pub state: usize,
    /// Ledger rows copied.
    pub ledger: usize,
    /// Circuit breakers copied (a breaker's document is its name: a second copy replaces it).
    pub breakers: usize,
    /// Rate-limit observations copied (a document per check time, machine, credential and
    /// resource: a second copy from this machine replaces them).
    pub rate_limits: usize,
    /// Alert conditions copied (a condition's document is its key).
    pub alerts: usize,
    /// Budget checks copied (a document per check time, machine and SQLite row id: a second
    /// copy from this machine replaces them).
    pub budget: usize,
    /// Migration phase runs copied (with their ids).
    pub phase_runs: usize,
    /// Migration metrics copied.
    pub metrics: usize,
    /// The run id new runs start from.
    pub next_run_id: i64,
}

impl FirestoreState {
    /// Copies `local`'s SQLite families into Firestore; `source` names it in each run
    /// (`migrated_from`) so that a second copy recognises its own runs.
    pub(in crate::store) fn import(
        &self,
        local: &Store,
        source: &str,
    ) -> Result<ImportReport, StoreError> {
        let runs = local.recent_runs(u32::MAX)?;
        if let Some(running) = runs.iter().find(|r| r.status == RunStatus::Running) {
            return Err(self.refused(format!(
                "run {} is still running (pid {} on {}): migrate once no run is",
                running.id, running.pid, running.host
            )));
        }
        for run in &runs {
            self.refuse_taken_id("runs", run.id.0, "run", source)?;
        }
        let phase_runs = local.local_phase_runs()?;
        for phase_run in &phase_runs {
            self.refuse_taken_id(PHASE_RUNS, phase_run.id, "migration phase run", source)?;
        }

        let mut report = ImportReport::default();
        let mut ops = Vec::new();
        for run in &runs {
            ops.push(WriteOp::Set {
                path: self.doc("runs", &padded(run.id.0))?,
                fields: map([
                    ("id", FieldValue::Integer(run.id.0)),
                    ("playbook", string(run.playbook.clone())),
                    ("source_hash", string(run.source_hash.clone())),
                    ("args", string(mask(&run.args.to_string()).into_owned())),
                    ("mode", string(run.mode.as_str())),
                    ("status", string(run.status.as_str())),
                    ("pid", FieldValue::Integer(i64::from(run.pid))),
                    ("machine", string(run.host.clone())),
                    ("started_at", FieldValue::Integer(run.started_at)),
                    ("finished_at", opt_int(run.finished_at)),
                    (
                        "error",
                        opt_string(run.error.as_ref().map(|e| mask(e).into_owned())),
                    ),
                    ("resumes", opt_int(run.resumes.map(|r| r.0))),
                    ("migrated_from", string(source)),
                ]),
                merge: false,
            });
            report.runs += 1;
            for step in local.steps(run.id)? {
                ops.push(WriteOp::Set {
                    path: self.doc("steps", &Self::step_id(run.id, step.seq))?,
                    fields: map([
                        ("run", FieldValue::Integer(run.id.0)),
                        ("seq", FieldValue::Integer(step.seq)),
                        ("primitive", string(step.primitive)),
                        ("effect", string(step.effect.as_str())),
                        ("target", string(mask(&step.target).into_owned())),
                        ("status", string(step.status.as_str())),
                        ("detail", string(mask(&step.detail).into_owned())),
                        ("started_at", FieldValue::Integer(step.started_at)),
                        ("finished_at", opt_int(step.finished_at)),
                    ]),
                    merge: false,
                });
                report.steps += 1;
            }
            for (n, event) in local.events(run.id)?.into_iter().enumerate() {
                let n = i64::try_from(n).unwrap_or(i64::MAX);
                ops.push(WriteOp::Set {
                    path: self.doc("events", &format!("{}-{}-m{n}", padded(run.id.0), event.at))?,
                    fields: map([
                        ("run", FieldValue::Integer(run.id.0)),
                        ("n", FieldValue::Integer(n)),
                        ("at", FieldValue::Integer(event.at)),
                        ("level", string(event.level)),
                        ("message", string(mask(&event.message).into_owned())),
                    ]),
                    merge: false,
                });
                report.events += 1;
            }
        }
        for (key, value) in local.state_rows()? {
            ops.push(WriteOp::Set {
                path: self.doc("kv", &document_id(&key))?,
                fields: map([
                    ("key", string(key)),
                    ("value", string(value)),
                    ("updated_at", FieldValue::Integer(crate::store::now_ms())),
                    ("updated_by_run", FieldValue::Null),
                ]),
                merge: false,
            });
            report.state += 1;
        }
        for entry in local.ledger_entries()? {
            ops.push(self.ledger_import(&entry)?);
            report.ledger += 1;
        }
        for breaker in local.breakers()? {
            ops.push(self.breaker_write(&breaker)?);
            report.breakers += 1;
        }
        for check in local.recent_rate_limits(usize::MAX)? {
            ops.extend(self.rate_limit_writes(&check, &self.machine)?);
            report.rate_limits += 1;
        }
        for alert in local.alerts()? {
            ops.push(self.alert_write(&alert)?);
            report.alerts += 1;
        }
        for (row, check) in local.budget_check_rows()? {
            ops.push(self.budget_write(&check, &format!("m{}", padded(row)))?);
            report.budget += 1;
        }
        for phase_run in &phase_runs {
            ops.push(self.phase_run_write(phase_run, Some(source))?);
            report.phase_runs += 1;
        }
        let origin = document_id(source);
        for (row, migration, metric) in local.local_migration_metrics()? {
            let id = format!("{}-{origin}-m{row}", padded(metric.at));
            ops.push(self.metric_write(&migration, &metric, &id)?);
            report.metrics += 1;
        }
        self.block(self.client.batch(&ops, CommitLimits::default()))
            .map_err(|e| self.failed(e))?;
        let highest = runs.iter().map(|r| r.id.0).max().unwrap_or(0);
        report.next_run_id = self.move_counter_past("run_ids", highest)?;
        let highest_phase_run = phase_runs.iter().map(|r| r.id).max().unwrap_or(0);
        self.move_counter_past("phase_run_ids", highest_phase_run)?;
        Ok(report)
    }

    /// Sets the counter `{prefix}_meta/{counter}` to at least `highest + 1`, in a
    /// transaction; the value it has.
    fn move_counter_past(&self, counter: &str, highest: i64) -> Result<i64, StoreError> {
        self.with_counter(counter, |next| {
            let next = next.max(highest + 1);
            Ok((next, Vec::new(), next))
        })
    }

    /// Refuses the copy when document `{prefix}_{family}/{id}` exists from another source
    /// than `source` (`what` names the record): ids are kept, so they must be free or ours.
    fn refuse_taken_id(
        &self,
        family: &str,
        id: i64,
        what: &str,
        source: &str,
    ) -> Result<(), StoreError> {
        let path = self.doc(family, &padded(id))?;
        let found = self
            .block(self.client.get(&path, None))
            .map_err(|e| self.failed(e))?;
        match found {
            Some(doc) if text(&doc.fields, "migrated_from").as_deref() != Some(source) => {
                Err(self.refused(format!(
                    "{what} {id} already exists there (from machine {}), so this state's {what} ids cannot be kept: migrate into an empty [state].prefix",
                    text(&doc.fields, "machine").unwrap_or_default()
                )))
            }
            _ => Ok(()),
        }
    }

    /// A refusal of the copy, named with the database.
    fn refused(&self, reason: String) -> StoreError {
        StoreError::Shared {
            place: self.place.clone(),
            reason,
        }
    }
}
