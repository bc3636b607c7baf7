//! `orchestra daemon`: run the schedules in `orchestra.toml` until SIGTERM, each run in a
//! child process of this binary.

use std::ffi::OsString;
use std::sync::atomic::AtomicBool;

use clap::{Args, Parser as _};

use crate::config::LogFormat;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;
use crate::schedule::child::ChildLauncher;
use crate::schedule::daemon::Daemon;

/// Arguments of `orchestra daemon`.
#[derive(Debug, Args)]
#[command(after_help = "\
Schedules come from orchestra.toml:

  [[schedules]]
  playbook = \"monitor_rate_limits\"
  every = \"15m\"
  args = { warning = \"20\" }

Each run is a child process (`orchestra play ...` with the same config, state database and
log options), so a playbook that crashes ends only its own run, recorded as failed.

The first SIGTERM (or Ctrl-C) lets a run in progress finish, then exits; a second one
interrupts the run.")]
pub struct DaemonArgs {}

/// Runs `orchestra daemon`; `stop` is set by the first SIGTERM, the host's cancel flag by the
/// second.
pub fn run(_args: &DaemonArgs, host: &Host, stop: &AtomicBool) -> Result<ExitStatus, HostError> {
    let schedules = host.config.schedules.clone();
    if schedules.is_empty() {
        return Err(HostError::Usage(
            "no schedules: add [[schedules]] entries (playbook, every) to orchestra.toml".into(),
        ));
    }
    let exe = std::env::current_exe()
        .map_err(|e| HostError::Io(format!("cannot find orchestra's own executable: {e}")))?;
    let daemon = Daemon {
        launcher: ChildLauncher::new(exe, child_options(host)),
        store: &host.store,
        stop,
        interrupt: &host.cancel,
    };
    let started = daemon.run(&schedules);
    eprintln!("daemon stopped after {started} run(s)");
    Ok(ExitStatus::Success)
}

/// The global options a child gets: the daemon's config file and state database as resolved,
/// and its log options as given on its own command line.
fn child_options(host: &Host) -> Vec<OsString> {
    let mut options = Vec::new();
    if let Some(file) = &host.config.source_file {
        options.push("--config".into());
        options.push(file.clone().into_os_string());
    }
    options.push("--state-db".into());
    options.push(
        host.config
            .resolve(&host.config.paths.state_db)
            .into_os_string(),
    );
    // The command line already parsed once, so it parses again; the fallback is no log flags.
    if let Ok(cli) = super::Cli::try_parse_from(std::env::args_os()) {
        if cli.quiet {
            options.push("--quiet".into());
        }
        if cli.verbose > 0 {
            options.push(format!("-{}", "v".repeat(usize::from(cli.verbose))).into());
        }
        if let Some(format) = cli.log_format {
            options.push("--log-format".into());
            options.push(
                match format {
                    LogFormat::Text => "text",
                    LogFormat::Json => "json",
                }
                .into(),
            );
        }
        if let Some(file) = cli.log_file {
            options.push("--log-file".into());
            options.push(host.cwd.join(file).into_os_string());
        }
    }
    options
}
