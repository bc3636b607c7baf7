//! Migration phase state in `{prefix}_migration_phase_runs` and `{prefix}_migration_metrics`:
//! every execute, verify and skip of a phase and the metrics its playbooks recorded, so
//! `migrate status` on one machine shows the phases another completed.
//!
//! A phase run's id comes from its own counter document (`{prefix}_meta/phase_run_ids`,
//! `counters`), taken in the transaction that writes the run, so ids stay unique across machines and
//! ordered as SQLite's row ids are. A metric's document id is its time, the machine, the
//! process and a per-process sequence number: unique without a shared counter, and in the
//! order it was recorded. Listing filters on one field and sorts here, so no composite index
//! is needed. What a phase's status *is* stays in [`crate::migrate`], as with SQLite.

use std::sync::atomic::{AtomicU64, Ordering};

use super::fields::{document_id, float, int, map, opt_int, opt_string, string, text};
use super::{FirestoreState, padded};
use crate::clients::firestore::{Document, FieldValue, Fields, Filter, FilterOp, WriteOp};
use crate::process::ProcessIdentity;
use crate::secret::mask::mask;
use crate::store::{
    MetricRecord, NewPhaseRun, PhaseRunEnd, PhaseRunKind, PhaseRunRecord, PhaseRunStatus, RunId,
    StoreError, now_ms,
};

/// The family of phase runs.
pub(super) const PHASE_RUNS: &str = "migration_phase_runs";
/// The family of metrics.
pub(super) const METRICS: &str = "migration_metrics";

/// This process's next metric sequence number (with the time, machine and pid: a unique id).
static METRIC_SEQ: AtomicU64 = AtomicU64::new(0);

impl FirestoreState {
    /// See [`crate::store::Store::phase_run_start`]: the run and the counter in one
    /// transaction; its id.
    pub(in crate::store) fn phase_run_start(
        &self,
        run: &NewPhaseRun<'_>,
    ) -> Result<i64, StoreError> {
        self.refuse_in_plan(PHASE_RUNS)?;
        let process = ProcessIdentity::current();
        self.with_counter("phase_run_ids", |id| {
            let now = now_ms();
            let record = PhaseRunRecord {
                id,
                migration: run.migration.to_owned(),
                file: run.file.to_owned(),
                phase: run.phase.to_owned(),
                kind: run.kind,
                status: run.status,
                run_id: None,
                process: process.clone(),
                started_at: now,
                finished_at: (run.status != PhaseRunStatus::Running).then_some(now),
                error: None,
                error_at: None,
                reason: run.reason.map(|r| mask(r).into_owned()),
            };
            Ok((id + 1, vec![self.phase_run_write(&record, None)?], id))
        })
    }

    /// See [`crate::store::Store::phase_run_bind`].
    pub(in crate::store) fn phase_run_bind(
        &self,
        id: i64,
        run_id: RunId,
    ) -> Result<(), StoreError> {
        self.phase_run_update(id, map([("run_id", FieldValue::Integer(run_id.0))]))
    }

    /// See [`crate::store::Store::phase_run_finish`].
    pub(in crate::store) fn phase_run_finish(
        &self,
        id: i64,
        status: PhaseRunStatus,
        end: &PhaseRunEnd<'_>,
    ) -> Result<(), StoreError> {
        let masked = |text: Option<&str>| opt_string(text.map(|t| mask(t).into_owned()));
        self.phase_run_update(
            id,
            map([
                ("status", string(status.as_str())),
                ("finished_at", FieldValue::Integer(now_ms())),
                ("error", masked(end.error)),
                ("error_at", opt_string(end.error_at.map(str::to_owned))),
                ("reason", masked(end.reason)),
            ]),
        )
    }

    fn phase_run_update(&self, id: i64, fields: Fields) -> Result<(), StoreError> {
        self.refuse_in_plan(PHASE_RUNS)?;
        let path = self.doc(PHASE_RUNS, &padded(id))?;
        self.commit(vec![WriteOp::Update { path, fields }])
    }

    /// See [`crate::store::Store::phase_runs`]: oldest first.
    pub(in crate::store) fn phase_runs(
        &self,
        migration: &str,
    ) -> Result<Vec<PhaseRunRecord>, StoreError> {
        self.phase_runs_where("migration", string(migration))
    }

    /// See [`crate::store::Store::phase_run_of`].
    pub(in crate::store) fn phase_run_of(
        &self,
        run_id: RunId,
    ) -> Result<Option<PhaseRunRecord>, StoreError> {
        Ok(self
            .phase_runs_where("run_id", FieldValue::Integer(run_id.0))?
            .pop())
    }

    fn phase_runs_where(
        &self,
        field: &str,
        value: FieldValue,
    ) -> Result<Vec<PhaseRunRecord>, StoreError> {
        let filter = Filter {
            field: field.into(),
            op: FilterOp::Equal,
            value,
        };
        let mut records = self
            .documents(PHASE_RUNS, vec![filter])?
            .iter()
            .map(|d| self.phase_run_from(d))
            .collect::<Result<Vec<_>, _>>()?;
        records.sort_by_key(|r| r.id);
        Ok(records)
    }

    /// The write of `record` as it is; `source` marks a copy by `state migrate`.
    pub(super) fn phase_run_write(
        &self,
        record: &PhaseRunRecord,
        source: Option<&str>,
    ) -> Result<WriteOp, StoreError> {
        let masked =
            |text: &Option<String>| opt_string(text.as_deref().map(|t| mask(t).into_owned()));
        let mut fields = map([
            ("id", FieldValue::Integer(record.id)),
            ("migration", string(record.migration.as_str())),
            ("file", string(record.file.as_str())),
            ("phase", string(record.phase.as_str())),
            ("kind", string(record.kind.as_str())),
            ("status", string(record.status.as_str())),
            ("run_id", opt_int(record.run_id.map(|r| r.0))),
            ("pid", FieldValue::Integer(i64::from(record.process.pid))),
            ("host", string(record.process.host.as_str())),
            ("machine", string(self.machine.as_str())),
            (
                "process_start",
                opt_int(record.process.start_ticks.map(|t| t as i64)),
            ),
            ("started_at", FieldValue::Integer(record.started_at)),
            ("finished_at", opt_int(record.finished_at)),
            ("error", masked(&record.error)),
            ("error_at", opt_string(record.error_at.clone())),
            ("reason", masked(&record.reason)),
        ]);
        if let Some(source) = source {
            fields.insert("migrated_from".into(), string(source));
        }
        Ok(WriteOp::Set {
            path: self.doc(PHASE_RUNS, &padded(record.id))?,
            fields,
            merge: false,
        })
    }

    /// The record a phase-run document holds; a missing or unknown field is named.
    fn phase_run_from(&self, doc: &Document) -> Result<PhaseRunRecord, StoreError> {
        let f = &doc.fields;
        let corrupt = |column: &'static str, value: String| {
            self.corrupt_field("migration_phase_runs", doc, column, &value)
        };
        let missing = |column: &'static str| corrupt(column, "missing".into());
        let kind = text(f, "kind").ok_or_else(|| missing("kind"))?;
        let status = text(f, "status").ok_or_else(|| missing("status"))?;
        Ok(PhaseRunRecord {
            id: int(f, "id").ok_or_else(|| missing("id"))?,
            migration: text(f, "migration").ok_or_else(|| missing("migration"))?,
            file: text(f, "file").unwrap_or_default(),
            phase: text(f, "phase").ok_or_else(|| missing("phase"))?,
            kind: PhaseRunKind::parse(&kind).ok_or_else(|| corrupt("kind", kind.clone()))?,
            status: PhaseRunStatus::parse(&status)
                .ok_or_else(|| corrupt("status", status.clone()))?,
            run_id: int(f, "run_id").map(RunId),
            process: ProcessIdentity {
                pid: int(f, "pid")
                    .and_then(|p| u32::try_from(p).ok())
                    .unwrap_or(0),
                host: text(f, "host").unwrap_or_default(),
                start_ticks: int(f, "process_start").and_then(|t| u64::try_from(t).ok()),
            },
            started_at: int(f, "started_at").ok_or_else(|| missing("started_at"))?,
            finished_at: int(f, "finished_at"),
            error: text(f, "error"),
            error_at: text(f, "error_at"),
            reason: text(f, "reason"),
        })
    }

    /// See [`crate::store::Store::migration_metric_record`]. Recorded by a run that holds a
    /// lease, the commit is fenced on it, as `state::set` is.
    pub(in crate::store) fn migration_metric_record(
        &self,
        migration: &str,
        metric: &MetricRecord,
    ) -> Result<(), StoreError> {
        self.refuse_in_plan(METRICS)?;
        let seq = METRIC_SEQ.fetch_add(1, Ordering::Relaxed);
        let id = format!(
            "{}-{}-{}-{seq:08}",
            padded(metric.at),
            document_id(&self.machine),
            std::process::id()
        );
        let ops = vec![self.metric_write(migration, metric, &id)?];
        match metric.run_id.and_then(|run| self.lease_of(run.0)) {
            Some(lease) if lease.is_lost() => Err(self.lost(&lease, None)),
            Some(lease) => self.commit_fenced(&lease, ops),
            None => self.commit(ops),
        }
    }

    /// The write of `metric` of `migration` as document `id`.
    pub(super) fn metric_write(
        &self,
        migration: &str,
        metric: &MetricRecord,
        id: &str,
    ) -> Result<WriteOp, StoreError> {
        Ok(WriteOp::Set {
            path: self.doc(METRICS, id)?,
            fields: map([
                ("migration", string(migration)),
                ("phase", opt_string(metric.phase.clone())),
                ("name", string(metric.name.as_str())),
                ("value", FieldValue::Double(metric.value)),
                ("run_id", opt_int(metric.run_id.map(|r| r.0))),
                ("at", FieldValue::Integer(metric.at)),
                ("machine", string(self.machine.as_str())),
            ]),
            merge: false,
        })
    }

    /// See [`crate::store::Store::migration_metrics`]: oldest first.
    pub(in crate::store) fn migration_metrics(
        &self,
        migration: &str,
    ) -> Result<Vec<MetricRecord>, StoreError> {
        let filter = Filter {
            field: "migration".into(),
            op: FilterOp::Equal,
            value: string(migration),
        };
        let mut docs = self.documents(METRICS, vec![filter])?;
        // Ids begin with the time, then tell apart what one instant recorded.
        docs.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
        docs.iter()
            .map(|doc| {
                let f = &doc.fields;
                let missing = |column: &'static str| {
                    self.corrupt_field("migration_metrics", doc, column, "missing")
                };
                Ok(MetricRecord {
                    phase: text(f, "phase"),
                    name: text(f, "name").ok_or_else(|| missing("name"))?,
                    value: float(f, "value").ok_or_else(|| missing("value"))?,
                    run_id: int(f, "run_id").map(RunId),
                    at: int(f, "at").ok_or_else(|| missing("at"))?,
                })
            })
            .collect()
    }
}
