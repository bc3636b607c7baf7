//! `orchestra report`: compact tables of what the watching playbooks last measured, one
//! subcommand per history.

mod budget;
mod rate_limits;

use clap::{Args, Subcommand};

use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;

/// Arguments of `orchestra report`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra report rate-limits
  orchestra report rate-limits --checks 10 --credential ci-bot --json
  orchestra report budget
  orchestra report budget --limit 50 --json")]
pub struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

/// The histories `orchestra report` shows.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// GitHub rate limits of every watched credential, from monitor_rate_limits runs
    RateLimits(rate_limits::RateLimitsArgs),
    /// The last Vertex AI budget checks: spend, projection, level
    Budget(budget::BudgetArgs),
}

/// Runs `orchestra report`.
pub fn run(args: &ReportArgs, host: &Host) -> Result<ExitStatus, HostError> {
    match &args.command {
        ReportCommand::RateLimits(args) => rate_limits::run(args, host),
        ReportCommand::Budget(args) => budget::run(args, host),
    }
}
