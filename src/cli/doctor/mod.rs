//! `orchestra doctor`: what works, what is missing and how to fix it. One file per group of
//! checks; [`runner`] runs the groups concurrently, each under a time-out, and [`finding`]
//! renders what they found. Nothing here prints a credential: tokens are [`Secret`]s and every
//! line goes through the redaction layer.
//!
//! [`Secret`]: crate::secret::Secret

mod clock;
mod config_checks;
mod context;
mod finding;
mod github;
mod google;
mod local;
mod notify;
mod runner;
mod schedules;
mod tools;

use std::path::PathBuf;

use clap::Args;

use crate::error::HostError;
use crate::exit::ExitStatus;

/// Arguments of `orchestra doctor`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra doctor                 # every check, one line each, a fix under each failure
  orchestra doctor --json          # the same as JSON, for CI
  orchestra doctor --emulate       # against the built-in emulator, as `play --emulate` runs

Each line is ✓ (works), ✗ (broken: the fix follows) or – (not needed by this setup).
Exit code 0 when nothing is ✗, 1 otherwise.")]
pub struct DoctorArgs {
    /// Print the findings as JSON on stdout
    #[arg(long)]
    json: bool,

    /// Check against the built-in emulator (started in this process, as `play --emulate` does)
    #[arg(long)]
    emulate: bool,
}

/// The global options doctor needs: it loads the configuration itself, so a broken one is a
/// finding instead of an error.
pub struct Global {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--state-db`.
    pub state_db: Option<PathBuf>,
    /// The working directory.
    pub cwd: PathBuf,
}

/// Runs `orchestra doctor`.
pub fn run(args: &DoctorArgs, global: &Global) -> Result<ExitStatus, HostError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| HostError::Io(format!("cannot start the async runtime: {e}")))?;
    let context = context::Context::build(global, args.emulate, runtime.handle())?;
    let findings = runtime.block_on(runner::run_all(std::sync::Arc::clone(&context)));
    if let Some(emulator) = context.take_emulator() {
        runtime.block_on(emulator.shutdown());
    }
    runtime.shutdown_background();
    let failed = findings.iter().any(|f| f.status == finding::Status::Failed);
    if args.json {
        finding::print_json(&findings, &context.environment);
    } else {
        finding::print_text(&findings);
    }
    Ok(if failed {
        ExitStatus::PlaybookFailed
    } else {
        ExitStatus::Success
    })
}
