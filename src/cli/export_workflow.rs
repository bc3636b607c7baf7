//! `orchestra export-workflow`: prints the GitHub Actions workflow that github-to-gcp syncs
//! dispatch, since GitHub secrets can only be read inside Actions; with `--schedule`, a
//! workflow that plays a playbook on a cron schedule against the shared Firestore state.

use clap::Args;

use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::schedule::Interval;

/// The workflow, as committed to `.github/workflows/orchestra-export.yml`.
pub const EXPORT_WORKFLOW_YAML: &str = include_str!("export_workflow.yml");

/// Arguments of `orchestra export-workflow`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra export-workflow > .github/workflows/orchestra-export.yml
  orchestra export-workflow --schedule rotate_keys --every 6h > .github/workflows/orchestra-rotate.yml

Without --schedule: the export workflow. playbooks/sync_secrets.rhai dispatches it
(direction=github-to-gcp or both) with inputs project, secrets (GITHUB_NAME=secret-id,...) and
environment. With --schedule: a workflow that plays PLAYBOOK on a cron schedule, authenticated
through Workload Identity, with run state in Firestore. Each header says which repository
variables and Google roles it needs.")]
pub struct ExportWorkflowArgs {
    /// Print a workflow that plays this playbook on a schedule instead
    #[arg(long, value_name = "PLAYBOOK")]
    schedule: Option<String>,

    /// How often the scheduled workflow runs: minutes dividing an hour (at least 5m), hours
    /// dividing a day, or 1d
    #[arg(
        long,
        value_name = "INTERVAL",
        requires = "schedule",
        default_value = "6h"
    )]
    every: Interval,
}

/// Runs `orchestra export-workflow`.
pub fn run(args: &ExportWorkflowArgs) -> Result<ExitStatus, HostError> {
    match &args.schedule {
        None => print!("{EXPORT_WORKFLOW_YAML}"),
        Some(playbook) => print!(
            "{}",
            super::schedule_workflow::scheduled_workflow(playbook, args.every)
                .map_err(HostError::Usage)?
        ),
    }
    Ok(ExitStatus::Success)
}
