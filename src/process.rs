//! Who this process is, and whether a process recorded earlier is still alive.
//!
//! Locks and running runs record the pid, host and (on Linux) the process start time, so a
//! lock left by a killed process is recognised as dead even if its pid has been reused.

use std::fs;

/// The identity of a process, as recorded beside a lock or a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessIdentity {
    /// The process id.
    pub pid: u32,
    /// The host name the process runs on.
    pub host: String,
    /// The process start time in clock ticks since boot (Linux), to tell a reused pid apart.
    pub start_ticks: Option<u64>,
}

/// What can be said of a recorded process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// It is running.
    Alive,
    /// It has exited (or its pid now belongs to another process).
    Dead,
    /// It runs on another host, so nothing can be said from here.
    Unknown,
}

impl ProcessIdentity {
    /// The identity of the current process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            host: host_name(),
            start_ticks: start_ticks(pid),
        }
    }

    /// Whether the recorded process is still running.
    pub fn liveness(&self) -> Liveness {
        if self.host != host_name() {
            return Liveness::Unknown;
        }
        let Ok(pid) = i32::try_from(self.pid) else {
            return Liveness::Dead;
        };
        let pid = nix::unistd::Pid::from_raw(pid);
        match nix::sys::signal::kill(pid, None) {
            Ok(()) | Err(nix::errno::Errno::EPERM) => {}
            Err(_) => return Liveness::Dead,
        }
        match (self.start_ticks, start_ticks(self.pid)) {
            (Some(recorded), Some(now)) if recorded != now => Liveness::Dead,
            _ => {
                if is_zombie(self.pid) {
                    Liveness::Dead
                } else {
                    Liveness::Alive
                }
            }
        }
    }
}

fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Field 22 of `/proc/PID/stat`: the start time in clock ticks after boot.
fn start_ticks(pid: u32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

/// A killed child that its parent has not reaped yet still answers `kill(pid, 0)`.
fn is_zombie(pid: u32) -> bool {
    stat_fields(pid)
        .and_then(|fields| fields.first().map(|state| state == "Z"))
        .unwrap_or(false)
}

/// The fields of `/proc/PID/stat` after the command name (which may itself hold spaces).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    Some(after_name.split_whitespace().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive() {
        assert_eq!(ProcessIdentity::current().liveness(), Liveness::Alive);
    }

    #[test]
    fn a_reused_pid_is_dead() {
        let mut me = ProcessIdentity::current();
        if me.start_ticks.is_none() {
            return; // no /proc on this system: nothing to compare
        }
        me.start_ticks = me.start_ticks.map(|t| t + 1);
        assert_eq!(me.liveness(), Liveness::Dead);
    }

    #[test]
    fn another_host_is_unknown() {
        let mut me = ProcessIdentity::current();
        me.host = "elsewhere.invalid".into();
        assert_eq!(me.liveness(), Liveness::Unknown);
    }
}
