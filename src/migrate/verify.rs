//! `migrate verify`: every phase's verify playbook in plan mode (reads real, nothing changed),
//! with Terraform's detailed exit code: 0 everything as declared, 2 drift found, 1 an error.
//! Skipped phases are not verified; a phase whose checks orchestra cannot make says unknown.

use serde::Serialize;

use super::execute::{
    DRIFT_EVENT, PhaseRow, UNKNOWN_EVENT, events_at, lock_name, play_phase_playbook,
};
use super::store::phase_views;
use super::{Migration, Phase, PhaseStatus};
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;
use crate::store::{PhaseRunEnd, PhaseRunKind, PhaseRunStatus, RunId, RunMode, RunStatus};

/// What a phase's verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Everything as declared.
    AsDeclared,
    /// Something differs: see `drift`.
    Drift,
    /// orchestra cannot check this phase.
    Unknown,
    /// Skipped by the operator: not verified.
    Skipped,
    /// The verify playbook failed (or did not compile).
    Error,
}

impl Verdict {
    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AsDeclared => "as declared",
            Self::Drift => "drift",
            Self::Unknown => "unknown",
            Self::Skipped => "skipped",
            Self::Error => "error",
        }
    }
}

/// One phase's verification.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseVerification {
    /// The phase.
    pub phase: String,
    /// What it found.
    pub verdict: Verdict,
    /// Each difference found: `what: expected X, found Y`.
    pub drift: Vec<String>,
    /// Why it is unknown, or the error (`file:line:col: message`).
    pub detail: Option<String>,
    /// The plan run that checked it.
    pub run_id: Option<RunId>,
}

/// Every verification of one `migrate verify`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyOutcome {
    /// In the file's order.
    pub phases: Vec<PhaseVerification>,
}

impl VerifyOutcome {
    /// 1 if any verification failed, else 2 if any found drift, else 0.
    pub fn exit_status(&self) -> ExitStatus {
        if self.phases.iter().any(|p| p.verdict == Verdict::Error) {
            ExitStatus::PlaybookFailed
        } else if self.phases.iter().any(|p| p.verdict == Verdict::Drift) {
            ExitStatus::Drift
        } else {
            ExitStatus::Success
        }
    }
}

/// Verifies `only`, or every phase that is not skipped.
pub fn verify(
    host: &Host,
    migration: &Migration,
    only: Option<&str>,
) -> Result<VerifyOutcome, HostError> {
    let chosen: Vec<&Phase> = match only {
        Some(name) => vec![migration.phase(name)?],
        None => migration.phases.iter().collect(),
    };
    let views = phase_views(&host.store, migration)?;
    let mut phases = Vec::new();
    for phase in chosen {
        let view = views.iter().find(|v| v.name == phase.name);
        if only.is_none()
            && let Some(view) = view.filter(|v| v.status == PhaseStatus::Skipped)
        {
            phases.push(PhaseVerification {
                phase: phase.name.clone(),
                verdict: Verdict::Skipped,
                drift: Vec::new(),
                detail: view.reason.clone(),
                run_id: None,
            });
            continue;
        }
        phases.push(verify_phase(host, migration, phase)?);
    }
    Ok(VerifyOutcome { phases })
}

fn verify_phase(
    host: &Host,
    migration: &Migration,
    phase: &Phase,
) -> Result<PhaseVerification, HostError> {
    let row = PhaseRow::new(&host.store, migration, phase, PhaseRunKind::Verify);
    let lock = format!("{}:verify", lock_name(migration));
    let report = match play_phase_playbook(
        host,
        migration,
        &phase.verify,
        RunMode::Plan,
        lock,
        None,
        &row,
    )? {
        Ok(report) => report,
        Err(diagnostic) => {
            let detail = diagnostic.one_line();
            row.finish(
                PhaseRunStatus::Failed,
                &PhaseRunEnd {
                    error: Some(&diagnostic.message),
                    error_at: Some(&diagnostic.location()),
                    reason: None,
                },
            )?;
            return Ok(PhaseVerification {
                phase: phase.name.clone(),
                verdict: Verdict::Error,
                drift: Vec::new(),
                detail: Some(detail),
                run_id: None,
            });
        }
    };
    let drift = events_at(&host.store, report.run_id, DRIFT_EVENT)?;
    let unknown = events_at(&host.store, report.run_id, UNKNOWN_EVENT)?;
    let (verdict, stored, detail) = match (&report.error, report.status) {
        (Some(diagnostic), RunStatus::Interrupted) => (
            Verdict::Error,
            PhaseRunStatus::Interrupted,
            Some(diagnostic.one_line()),
        ),
        (Some(diagnostic), _) => (
            Verdict::Error,
            PhaseRunStatus::Failed,
            Some(diagnostic.one_line()),
        ),
        (None, _) if !drift.is_empty() => (Verdict::Drift, PhaseRunStatus::Failed, None),
        (None, _) if !unknown.is_empty() => (
            Verdict::Unknown,
            PhaseRunStatus::Unknown,
            Some(unknown.join("; ")),
        ),
        (None, _) => (Verdict::AsDeclared, PhaseRunStatus::Completed, None),
    };
    let drift_text = (!drift.is_empty()).then(|| format!("drift: {}", drift.join("; ")));
    row.finish(
        stored,
        &PhaseRunEnd {
            error: report.error.as_ref().map(|d| d.message.as_str()),
            error_at: report.error.as_ref().map(|d| d.location()).as_deref(),
            reason: drift_text.as_deref().or(detail.as_deref()),
        },
    )?;
    Ok(PhaseVerification {
        phase: phase.name.clone(),
        verdict,
        drift,
        detail,
        run_id: Some(report.run_id),
    })
}
