//! `orchestra report`: tables of what runs have recorded, one subcommand per history.

mod budget;

use clap::{Args, Subcommand};

use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;

/// Arguments of `orchestra report`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra report budget
  orchestra report budget --limit 50 --json")]
pub struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

/// The histories `orchestra report` shows.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The last Vertex AI budget checks: spend, projection, level
    Budget(budget::BudgetArgs),
}

/// Runs `orchestra report`.
pub fn run(args: &ReportArgs, host: &Host) -> Result<ExitStatus, HostError> {
    match &args.command {
        ReportCommand::Budget(args) => budget::run(args, host),
    }
}
