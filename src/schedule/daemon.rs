//! `orchestra daemon`: run the schedules declared in `orchestra.toml` from one long-lived
//! process (a container, a Cloud Run job, a pod).
//!
//! Runs happen one at a time, each in a child process of the same binary (`child.rs`), which
//! goes through the ordinary runner (lock, journal, plan mode): a playbook that crashes or
//! aborts its process ends its own run, which the daemon then records as failed with the
//! signal, and the daemon goes on with the next tick. The first SIGTERM or Ctrl-C asks the
//! daemon to stop: a run in progress finishes, then the daemon exits. A second one is passed
//! to the child, which interrupts its run. Ticks missed while a run was busy are skipped,
//! never queued up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::child::{ChildLauncher, ChildOutcome};
use crate::config::ScheduleConfig;
use crate::store::Store;

/// The longest the daemon sleeps before looking at the stop flag or its child again.
const POLL: Duration = Duration::from_millis(100);

/// What the daemon needs besides its schedules.
pub struct Daemon<'a> {
    /// Starts each run's process.
    pub launcher: ChildLauncher,
    /// Where a crashed child's run is marked failed.
    pub store: &'a Store,
    /// Set by the first signal: finish the run in progress, then stop.
    pub stop: &'a AtomicBool,
    /// Set by the second signal: interrupt the run in progress.
    pub interrupt: &'a AtomicBool,
}

impl Daemon<'_> {
    /// Runs `schedules` until `stop` is set; returns how many runs were started.
    pub fn run(&self, schedules: &[ScheduleConfig]) -> u64 {
        let start = Instant::now();
        let mut next_due: Vec<Instant> = schedules.iter().map(|_| start).collect();
        let mut started = 0;
        for schedule in schedules {
            tracing::info!(
                "schedule {}: {} every {}",
                schedule.id(),
                schedule.playbook,
                schedule.every
            );
        }
        while !self.stop.load(Ordering::SeqCst) {
            let Some((index, due)) = next_due
                .iter()
                .copied()
                .enumerate()
                .min_by_key(|(_, due)| *due)
            else {
                return started;
            };
            let now = Instant::now();
            if now < due {
                std::thread::sleep((due - now).min(POLL));
                continue;
            }
            let schedule = &schedules[index];
            started += 1;
            self.run_one(schedule);
            let every = schedule.every.duration();
            let mut next = due + every;
            let now = Instant::now();
            while next <= now {
                next += every;
            }
            next_due[index] = next;
        }
        tracing::info!("daemon stopping: no run in progress");
        started
    }

    /// Runs `schedule` once in a child and waits for it, passing an interrupt on.
    fn run_one(&self, schedule: &ScheduleConfig) {
        let mut child = match self.launcher.spawn(schedule) {
            Ok(child) => child,
            Err(e) => {
                tracing::error!("schedule {}: cannot start its run: {e}", schedule.id());
                return;
            }
        };
        let pid = child.id();
        let mut interrupted = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => {
                    tracing::error!("schedule {}: cannot wait for pid {pid}: {e}", schedule.id());
                    match child.wait() {
                        Ok(status) => break status,
                        Err(_) => return,
                    }
                }
            }
            if !interrupted && self.interrupt.load(Ordering::SeqCst) {
                interrupted = true;
                forward_interrupt(pid);
            }
            std::thread::sleep(POLL);
        };
        let outcome = ChildOutcome::of(status);
        let Some(reason) = outcome.unrecorded_reason() else {
            tracing::info!("schedule {}: run succeeded", schedule.id());
            return;
        };
        match self.store.fail_runs_of_dead_child(pid, &reason) {
            Ok(runs) if runs.is_empty() => match outcome {
                ChildOutcome::Exited(code) => tracing::warn!(
                    "schedule {}: run ended with exit code {code} (`orchestra runs` has the details)",
                    schedule.id()
                ),
                ChildOutcome::Killed { .. } => tracing::error!(
                    "schedule {}: its process (pid {pid}) died before starting a run: {reason}",
                    schedule.id()
                ),
            },
            Ok(runs) => {
                for run in runs {
                    tracing::error!("schedule {}: run {run} failed: {reason}", schedule.id());
                }
            }
            Err(e) => tracing::error!(
                "schedule {}: its process (pid {pid}) ended ({reason}) and its run could not be marked failed: {e}",
                schedule.id()
            ),
        }
    }
}

/// Passes the operator's second signal on to the child, whose run then stops at its next step
/// and is recorded as interrupted.
fn forward_interrupt(pid: u32) {
    let Ok(raw) = i32::try_from(pid) else {
        return;
    };
    let pid = nix::unistd::Pid::from_raw(raw);
    if let Err(e) = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM) {
        tracing::warn!("cannot pass the interrupt on to pid {pid}: {e}");
    }
}
