//! One scheduled run as a child process of the same binary (`orchestra play ...` with the
//! daemon's config, state database and log flags), so a playbook that aborts the process (a
//! stack overflow, a crash in a native library) takes only its own run down, never the daemon.
//!
//! The child gets its own process group: a Ctrl-C at the terminal reaches the daemon only,
//! which decides whether to pass it on (see `daemon.rs`).

use std::ffi::OsString;
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};

use crate::config::ScheduleConfig;

/// How the daemon starts its children.
#[derive(Debug, Clone)]
pub struct ChildLauncher {
    exe: PathBuf,
    global: Vec<OsString>,
}

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildOutcome {
    /// It exited on its own with this code (it recorded its run's outcome itself).
    Exited(i32),
    /// A signal ended it before it could record anything: its run is left `running`.
    Killed {
        /// The signal's name (`SIGABRT`), or its number when it has none.
        signal: String,
        /// Whether it left a core dump.
        core_dumped: bool,
    },
}

impl ChildOutcome {
    /// Reads an exit status.
    pub fn of(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Self::Exited(code),
            (None, Some(signal)) => Self::Killed {
                signal: nix::sys::signal::Signal::try_from(signal)
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_else(|_| format!("signal {signal}")),
                core_dumped: status.core_dumped(),
            },
            (None, None) => Self::Exited(-1),
        }
    }

    /// What to record for a run this child left `running` (it always records its own outcome
    /// when it ends normally); `None` for a clean exit.
    pub fn unrecorded_reason(&self) -> Option<String> {
        match self {
            Self::Exited(0) => None,
            Self::Exited(code) => Some(format!(
                "the run's process exited with code {code} before it recorded how the run ended"
            )),
            Self::Killed {
                signal,
                core_dumped,
            } => Some(format!(
                "the run's process was killed by {signal}{} before it finished (a crash or an outside kill); the daemon went on with the next run",
                if *core_dumped { ", core dumped" } else { "" }
            )),
        }
    }
}

impl ChildLauncher {
    /// Children of `exe` with the global options `global` (`--config`, `--state-db`, log
    /// options) before the subcommand.
    pub fn new(exe: PathBuf, global: Vec<OsString>) -> Self {
        Self { exe, global }
    }

    /// The command that runs `schedule` once.
    pub fn command(&self, schedule: &ScheduleConfig) -> Command {
        let mut command = Command::new(&self.exe);
        command
            .args(&self.global)
            .arg("play")
            .arg(&schedule.playbook);
        for (key, value) in &schedule.args {
            command.arg("--arg").arg(format!("{key}={value}"));
        }
        if schedule.plan {
            command.arg("--plan");
        }
        command.process_group(0);
        command
    }

    /// Starts `schedule`.
    pub fn spawn(&self, schedule: &ScheduleConfig) -> std::io::Result<Child> {
        self.command(schedule).spawn()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_death_is_a_crash_with_its_name() {
        let killed = ChildOutcome::of(ExitStatus::from_raw(6));
        assert_eq!(
            killed,
            ChildOutcome::Killed {
                signal: "SIGABRT".into(),
                core_dumped: false
            }
        );
        assert!(
            killed
                .unrecorded_reason()
                .is_some_and(|r| r.contains("killed by SIGABRT"))
        );
        let exited = ChildOutcome::of(ExitStatus::from_raw(1 << 8));
        assert_eq!(exited, ChildOutcome::Exited(1));
        assert_eq!(
            ChildOutcome::of(ExitStatus::from_raw(0)).unrecorded_reason(),
            None
        );
    }
}
