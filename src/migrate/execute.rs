//! `migrate execute`: runs pending phases in order, each its execute playbook then its verify
//! playbook in plan mode, and records what became of it. Stops at the first phase that does
//! not end completed, skipped or unknown; the next execute starts again from that phase (an
//! interrupted one resumes its run). Every playbook run of a migration holds the migration's
//! one lock, so two executes never run phases of the same migration at once.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::store::{interrupted_run, phase_views};
use super::{MigrateError, Migration, Phase, PhaseStatus, PhaseView};
use crate::engine::ScriptDiagnostic;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::{self, Host, PlayRequest, RunReport, RunStartHook};
use crate::store::{
    NewPhaseRun, PhaseRunEnd, PhaseRunKind, PhaseRunStatus, RunId, RunMode, RunStatus, Store,
    StoreError,
};

/// The event level a playbook's `migration::drift` is journaled under.
pub const DRIFT_EVENT: &str = "drift";
/// The event level a playbook's `migration::unknown` is journaled under.
pub const UNKNOWN_EVENT: &str = "unknown";

/// The lock every playbook run of `migration` holds.
pub fn lock_name(migration: &Migration) -> String {
    format!("migration:{}", migration.name)
}

/// What became of one phase in this execute.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseOutcome {
    /// The phase.
    pub phase: String,
    /// Where it stands now.
    pub status: PhaseStatus,
    /// Its execute run and its verify run.
    pub runs: Vec<RunId>,
    /// The error, drift or unknown reason, in a line.
    pub detail: Option<String>,
}

/// What one `migrate execute` did.
#[derive(Debug, Clone, Serialize)]
pub struct ExecuteOutcome {
    /// The phases it ran, in order.
    pub phases: Vec<PhaseOutcome>,
}

impl ExecuteOutcome {
    /// 0 when every phase it ran ended completed, skipped or unknown; 130 when one was
    /// interrupted; 1 when one failed.
    pub fn exit_status(&self) -> ExitStatus {
        match self.phases.last().map(|p| p.status) {
            Some(PhaseStatus::Interrupted) => ExitStatus::Interrupted,
            Some(PhaseStatus::Failed) => ExitStatus::PlaybookFailed,
            _ => ExitStatus::Success,
        }
    }
}

/// Runs `only` (again, whatever its status) or every pending phase in order.
pub fn execute(
    host: &Host,
    migration: &Migration,
    only: Option<&str>,
) -> Result<ExecuteOutcome, HostError> {
    host.store.reap_dead_runs()?;
    let chosen: Vec<&Phase> = match only {
        Some(name) => vec![migration.phase(name)?],
        None => migration.phases.iter().collect(),
    };
    let mut outcome = ExecuteOutcome { phases: Vec::new() };
    for phase in chosen {
        let views = phase_views(&host.store, migration)?;
        let Some(view) = views.iter().find(|v| v.name == phase.name) else {
            continue;
        };
        if only.is_none() && !view.status.is_pending() {
            continue;
        }
        if view.status == PhaseStatus::InProgress {
            return Err(MigrateError::Blocked {
                phase: phase.name.clone(),
                dependency: phase.name.clone(),
                status: format!(
                    "in progress in run {}",
                    view.run_id.map_or("?".to_owned(), |r| r.to_string())
                ),
            }
            .into());
        }
        check_dependencies(phase, &views)?;
        let resumes = interrupted_run(&views, &phase.name);
        let done = run_phase(host, migration, phase, resumes)?;
        let status = done.status;
        outcome.phases.push(done);
        if !status.lets_dependents_run() {
            break;
        }
    }
    Ok(outcome)
}

fn check_dependencies(phase: &Phase, views: &[PhaseView]) -> Result<(), MigrateError> {
    for dependency in &phase.depends_on {
        let status = views
            .iter()
            .find(|v| &v.name == dependency)
            .map_or(PhaseStatus::NotStarted, |v| v.status);
        if !status.lets_dependents_run() {
            return Err(MigrateError::Blocked {
                phase: phase.name.clone(),
                dependency: dependency.clone(),
                status: status.to_string(),
            });
        }
    }
    Ok(())
}

/// Marks `phase` skipped with `why`.
pub fn skip(store: &Store, migration: &Migration, phase: &str, why: &str) -> Result<(), HostError> {
    let phase = migration.phase(phase)?;
    let views = phase_views(store, migration)?;
    if let Some(view) = views.iter().find(|v| v.name == phase.name)
        && view.status == PhaseStatus::InProgress
    {
        return Err(MigrateError::Blocked {
            phase: phase.name.clone(),
            dependency: phase.name.clone(),
            status: "in progress: wait for it, or stop it, before skipping it".to_owned(),
        }
        .into());
    }
    store.phase_run_start(&NewPhaseRun {
        migration: &migration.name,
        file: &file_text(&migration.file),
        phase: &phase.name,
        kind: PhaseRunKind::Skip,
        status: PhaseRunStatus::Skipped,
        reason: Some(why),
    })?;
    Ok(())
}

pub(super) fn file_text(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string()
}

/// The phase-run row a playbook run ties itself to when it starts: made on the first run, the
/// same row for the verify run that follows.
#[derive(Clone)]
pub(super) struct PhaseRow {
    store: Store,
    migration: String,
    file: String,
    phase: String,
    kind: PhaseRunKind,
    id: Arc<Mutex<Option<i64>>>,
}

impl PhaseRow {
    pub(super) fn new(
        store: &Store,
        migration: &Migration,
        phase: &Phase,
        kind: PhaseRunKind,
    ) -> Self {
        Self {
            store: store.clone(),
            migration: migration.name.clone(),
            file: file_text(&migration.file),
            phase: phase.name.clone(),
            kind,
            id: Arc::new(Mutex::new(None)),
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<i64>> {
        self.id.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bind(&self, run_id: RunId) -> Result<(), StoreError> {
        let mut slot = self.slot();
        let id = match *slot {
            Some(id) => id,
            None => {
                let id = self.store.phase_run_start(&NewPhaseRun {
                    migration: &self.migration,
                    file: &self.file,
                    phase: &self.phase,
                    kind: self.kind,
                    status: PhaseRunStatus::Running,
                    reason: None,
                })?;
                *slot = Some(id);
                id
            }
        };
        self.store.phase_run_bind(id, run_id)
    }

    pub(super) fn hook(&self) -> RunStartHook {
        let row = self.clone();
        RunStartHook(Arc::new(move |run_id| row.bind(run_id)))
    }

    /// Records the end; a row never started (the playbook did not compile) is made first.
    pub(super) fn finish(
        &self,
        status: PhaseRunStatus,
        end: &PhaseRunEnd<'_>,
    ) -> Result<(), StoreError> {
        let existing = *self.slot();
        let id = match existing {
            Some(id) => id,
            None => self.store.phase_run_start(&NewPhaseRun {
                migration: &self.migration,
                file: &self.file,
                phase: &self.phase,
                kind: self.kind,
                status: PhaseRunStatus::Running,
                reason: None,
            })?,
        };
        self.store.phase_run_finish(id, status, end)
    }
}

/// A playbook run under the migration's lock, or the diagnostic that kept it from compiling.
pub(super) fn play_phase_playbook(
    host: &Host,
    migration: &Migration,
    playbook: &str,
    mode: RunMode,
    lock: String,
    resumes: Option<RunId>,
    row: &PhaseRow,
) -> Result<Result<RunReport, ScriptDiagnostic>, HostError> {
    let request = PlayRequest {
        playbook: migration.playbook_path(playbook).display().to_string(),
        args: vec![
            ("migration".to_owned(), migration.name.clone()),
            ("phase".to_owned(), row.phase.clone()),
        ],
        mode,
        lock: Some(lock),
        prints_to_stderr: true,
        resumes,
        on_start: Some(row.hook()),
    };
    match runner::play(host, &request) {
        Ok(report) => Ok(Ok(report)),
        Err(HostError::Compile {
            mut diagnostics, ..
        }) if !diagnostics.is_empty() => Ok(Err(diagnostics.remove(0))),
        Err(err) => Err(err),
    }
}

/// The messages of run `run_id`'s events at `level`.
pub(super) fn events_at(
    store: &Store,
    run_id: RunId,
    level: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(store
        .events(run_id)?
        .into_iter()
        .filter(|e| e.level == level)
        .map(|e| e.message)
        .collect())
}

fn failed(
    row: &PhaseRow,
    phase: &Phase,
    runs: Vec<RunId>,
    diagnostic: &ScriptDiagnostic,
) -> Result<PhaseOutcome, HostError> {
    let at = diagnostic.location();
    row.finish(
        PhaseRunStatus::Failed,
        &PhaseRunEnd {
            error: Some(&diagnostic.message),
            error_at: Some(&at),
            reason: None,
        },
    )?;
    Ok(PhaseOutcome {
        phase: phase.name.clone(),
        status: PhaseStatus::Failed,
        runs,
        detail: Some(format!("{at}: {}", diagnostic.message)),
    })
}

fn run_phase(
    host: &Host,
    migration: &Migration,
    phase: &Phase,
    resumes: Option<RunId>,
) -> Result<PhaseOutcome, HostError> {
    let row = PhaseRow::new(&host.store, migration, phase, PhaseRunKind::Execute);
    let lock = lock_name(migration);
    tracing::info!("phase {}: executing {}", phase.name, phase.execute);
    let mut runs = Vec::new();
    // One playbook of the phase under the migration's lock; one that does not compile ends
    // the phase failed (`Err`, with the runs so far).
    let play = |playbook: &str, mode: RunMode, resumes: Option<RunId>, runs: &[RunId]| {
        match play_phase_playbook(host, migration, playbook, mode, lock.clone(), resumes, &row)? {
            Ok(report) => Ok(Ok(report)),
            Err(diagnostic) => failed(&row, phase, runs.to_vec(), &diagnostic).map(Err),
        }
    };
    let report = match play(&phase.execute, RunMode::Apply, resumes, &runs)? {
        Ok(report) => report,
        Err(outcome) => return Ok(outcome),
    };
    runs.push(report.run_id);
    match (report.status, &report.error) {
        (RunStatus::Succeeded, _) => {}
        (RunStatus::Interrupted, _) | (RunStatus::Running, _) => {
            row.finish(
                PhaseRunStatus::Interrupted,
                &PhaseRunEnd {
                    error: report.error.as_ref().map(|d| d.message.as_str()),
                    ..PhaseRunEnd::default()
                },
            )?;
            return Ok(PhaseOutcome {
                phase: phase.name.clone(),
                status: PhaseStatus::Interrupted,
                runs,
                detail: Some("stopped before it finished".to_owned()),
            });
        }
        (RunStatus::Failed, Some(diagnostic)) => return failed(&row, phase, runs, diagnostic),
        (RunStatus::Failed, None) => {
            return failed(
                &row,
                phase,
                runs,
                &ScriptDiagnostic::at(
                    &report.playbook,
                    Some(""),
                    rhai::Position::NONE,
                    "the playbook failed".to_owned(),
                    "",
                ),
            );
        }
    }
    let mut unknown = events_at(&host.store, report.run_id, UNKNOWN_EVENT)?;

    tracing::info!(
        "phase {}: verifying with {} (plan mode)",
        phase.name,
        phase.verify
    );
    let verified = match play(&phase.verify, RunMode::Plan, None, &runs)? {
        Ok(report) => report,
        Err(outcome) => return Ok(outcome),
    };
    runs.push(verified.run_id);
    if let Some(diagnostic) = &verified.error {
        if verified.status == RunStatus::Interrupted {
            row.finish(PhaseRunStatus::Interrupted, &PhaseRunEnd::default())?;
            return Ok(PhaseOutcome {
                phase: phase.name.clone(),
                status: PhaseStatus::Interrupted,
                runs,
                detail: Some("stopped while verifying".to_owned()),
            });
        }
        return failed(&row, phase, runs, diagnostic);
    }
    let drift = events_at(&host.store, verified.run_id, DRIFT_EVENT)?;
    unknown.extend(events_at(&host.store, verified.run_id, UNKNOWN_EVENT)?);
    let (status, stored, reason) = if !drift.is_empty() {
        (
            PhaseStatus::Failed,
            PhaseRunStatus::Failed,
            Some(format!("drift: {}", drift.join("; "))),
        )
    } else if !unknown.is_empty() {
        unknown.dedup();
        (
            PhaseStatus::Unknown,
            PhaseRunStatus::Unknown,
            Some(unknown.join("; ")),
        )
    } else {
        (PhaseStatus::Completed, PhaseRunStatus::Completed, None)
    };
    row.finish(
        stored,
        &PhaseRunEnd {
            error: (status == PhaseStatus::Failed).then_some("its verification found drift"),
            error_at: None,
            reason: reason.as_deref(),
        },
    )?;
    Ok(PhaseOutcome {
        phase: phase.name.clone(),
        status,
        runs,
        detail: reason,
    })
}
