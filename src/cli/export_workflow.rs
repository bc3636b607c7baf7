//! `orchestra export-workflow`: prints the GitHub Actions workflow that github-to-gcp syncs
//! dispatch, since GitHub secrets can only be read inside Actions.

use clap::Args;

use crate::exit::ExitStatus;

/// The workflow, as committed to `.github/workflows/orchestra-export.yml`.
pub const EXPORT_WORKFLOW_YAML: &str = include_str!("export_workflow.yml");

/// Arguments of `orchestra export-workflow`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra export-workflow > .github/workflows/orchestra-export.yml

playbooks/sync_secrets.rhai dispatches it (direction=github-to-gcp or both) with inputs
project, secrets (GITHUB_NAME=secret-id,...) and environment. Its header says which
repository variables and Google roles it needs.")]
pub struct ExportWorkflowArgs {}

/// Runs `orchestra export-workflow`.
pub fn run(_args: &ExportWorkflowArgs) -> ExitStatus {
    print!("{EXPORT_WORKFLOW_YAML}");
    ExitStatus::Success
}
