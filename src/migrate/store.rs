//! Where each phase stands, read from its records in the run store: the latest execute or skip
//! of the phase decides, a `running` record whose process has died reads as interrupted, and
//! the latest value of each metric the phase recorded rides along.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Migration;
use crate::process::Liveness;
use crate::store::{
    MetricRecord, PhaseRunKind, PhaseRunRecord, PhaseRunStatus, RunId, Store, StoreError,
};

/// Where a phase stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    /// Never executed nor skipped.
    NotStarted,
    /// Its playbook is running now.
    InProgress,
    /// Executed, and its verification found everything as declared.
    Completed,
    /// Its playbook failed, or its verification found drift.
    Failed,
    /// Its process was stopped or died before it finished.
    Interrupted,
    /// Skipped by the operator, with a reason.
    Skipped,
    /// Executed, but orchestra cannot check what it is about: never reported as completed.
    Unknown,
}

impl PhaseStatus {
    /// The word shown in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
            Self::Skipped => "skipped",
            Self::Unknown => "unknown",
        }
    }

    /// Whether phases depending on this one may run: it is done, or deliberately set aside.
    pub fn lets_dependents_run(self) -> bool {
        matches!(self, Self::Completed | Self::Skipped | Self::Unknown)
    }

    /// Whether `migrate execute` (without `--phase`) runs this phase.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::NotStarted | Self::Failed | Self::Interrupted)
    }
}

impl std::fmt::Display for PhaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One phase with its state, for `status`, `report` and `monitor`.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseView {
    /// The phase's name.
    pub name: String,
    /// What it achieves.
    pub description: String,
    /// Where it stands.
    pub status: PhaseStatus,
    /// When its latest execute or skip started, ms since the epoch.
    pub started_at: Option<i64>,
    /// When that ended.
    pub finished_at: Option<i64>,
    /// The orchestra run of its playbook (the one running now, while one runs).
    pub run_id: Option<RunId>,
    /// The execute and verify runs of the phase, oldest first.
    pub attempts: usize,
    /// The error it failed with.
    pub error: Option<String>,
    /// Where that error was raised (`file:line:col`).
    pub error_at: Option<String>,
    /// Why it was skipped, why it is unknown, or the drift its verification found.
    pub reason: Option<String>,
    /// The latest value of each metric it recorded.
    pub metrics: BTreeMap<String, f64>,
}

impl PhaseView {
    /// How long its latest execute took (or has taken so far), in ms.
    pub fn took_ms(&self, now_ms: i64) -> Option<i64> {
        self.started_at
            .map(|start| self.finished_at.unwrap_or(now_ms) - start)
    }
}

fn status_of(record: &PhaseRunRecord) -> PhaseStatus {
    match record.status {
        PhaseRunStatus::Running => match record.process.liveness() {
            Liveness::Dead => PhaseStatus::Interrupted,
            Liveness::Alive | Liveness::Unknown => PhaseStatus::InProgress,
        },
        PhaseRunStatus::Completed => PhaseStatus::Completed,
        PhaseRunStatus::Failed => PhaseStatus::Failed,
        PhaseRunStatus::Interrupted => PhaseStatus::Interrupted,
        PhaseRunStatus::Unknown => PhaseStatus::Unknown,
        PhaseRunStatus::Skipped => PhaseStatus::Skipped,
    }
}

/// The latest value of every metric in `metrics`, by phase (`None`: migration-wide).
pub fn latest_metrics(metrics: &[MetricRecord]) -> BTreeMap<Option<String>, BTreeMap<String, f64>> {
    let mut latest: BTreeMap<Option<String>, BTreeMap<String, f64>> = BTreeMap::new();
    for metric in metrics {
        latest
            .entry(metric.phase.clone())
            .or_default()
            .insert(metric.name.clone(), metric.value);
    }
    latest
}

/// Every phase of `migration` with its state, in the file's order.
pub fn phase_views(store: &Store, migration: &Migration) -> Result<Vec<PhaseView>, StoreError> {
    let runs = store.phase_runs(&migration.name)?;
    let mut metrics = latest_metrics(&store.migration_metrics(&migration.name)?);
    Ok(migration
        .phases
        .iter()
        .map(|phase| {
            let of_phase: Vec<&PhaseRunRecord> =
                runs.iter().filter(|r| r.phase == phase.name).collect();
            let decisive = of_phase
                .iter()
                .rev()
                .find(|r| matches!(r.kind, PhaseRunKind::Execute | PhaseRunKind::Skip));
            let running = of_phase
                .iter()
                .rev()
                .find(|r| status_of(r) == PhaseStatus::InProgress);
            // A verify of its own never changes a phase's status; it only shows as the
            // phase's current run while it works.
            let status = decisive.map_or(PhaseStatus::NotStarted, |r| status_of(r));
            let shown = running.or(decisive);
            PhaseView {
                name: phase.name.clone(),
                description: phase.description.clone(),
                status,
                started_at: shown.map(|r| r.started_at),
                finished_at: shown.and_then(|r| r.finished_at),
                run_id: shown.and_then(|r| r.run_id),
                attempts: of_phase
                    .iter()
                    .filter(|r| r.kind != PhaseRunKind::Skip)
                    .count(),
                error: shown.and_then(|r| r.error.clone()),
                error_at: shown.and_then(|r| r.error_at.clone()),
                reason: shown.and_then(|r| r.reason.clone()),
                metrics: metrics
                    .remove(&Some(phase.name.clone()))
                    .unwrap_or_default(),
            }
        })
        .collect())
}

/// The latest interrupted execute of `phase`'s run, which a new execute resumes.
pub fn interrupted_run(views: &[PhaseView], phase: &str) -> Option<RunId> {
    views
        .iter()
        .find(|v| v.name == phase && v.status == PhaseStatus::Interrupted)
        .and_then(|v| v.run_id)
}
