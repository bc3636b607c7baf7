//! `orchestra daemon`: run the schedules in `orchestra.toml` until SIGTERM.

use std::sync::atomic::AtomicBool;

use clap::Args;

use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;

/// Arguments of `orchestra daemon`.
#[derive(Debug, Args)]
#[command(after_help = "\
Schedules come from orchestra.toml:

  [[schedules]]
  playbook = \"monitor_rate_limits\"
  every = \"15m\"
  args = { warning = \"20\" }

The first SIGTERM (or Ctrl-C) lets a run in progress finish, then exits; a second one
interrupts the run.")]
pub struct DaemonArgs {}

/// Runs `orchestra daemon`; `stop` is set by the first SIGTERM.
pub fn run(_args: &DaemonArgs, host: &Host, stop: &AtomicBool) -> Result<ExitStatus, HostError> {
    let schedules = host.config.schedules.clone();
    if schedules.is_empty() {
        return Err(HostError::Usage(
            "no schedules: add [[schedules]] entries (playbook, every) to orchestra.toml".into(),
        ));
    }
    let started = crate::schedule::daemon::run(host, &schedules, stop);
    eprintln!("daemon stopped after {started} run(s)");
    Ok(ExitStatus::Success)
}
