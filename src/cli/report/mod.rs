//! `orchestra report`: compact tables of what the watching playbooks last measured.

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
  orchestra report rate-limits --checks 10 --credential ci-bot
  orchestra report rate-limits --json")]
pub struct ReportArgs {
    #[command(subcommand)]
    report: ReportCommand,

    /// Print as JSON
    #[arg(long, global = true)]
    json: bool,
}

/// The reports.
#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// GitHub rate limits of every watched credential, from monitor_rate_limits runs
    RateLimits(rate_limits::RateLimitsArgs),
}

/// Runs `orchestra report`.
pub fn run(args: &ReportArgs, host: &Host) -> Result<ExitStatus, HostError> {
    match &args.report {
        ReportCommand::RateLimits(report) => rate_limits::run(report, args.json, host),
    }
}
