//! `orchestra daemon`: run the schedules declared in `orchestra.toml` from one long-lived
//! process (a container, a Cloud Run job, a pod).
//!
//! Runs happen one at a time, each through the ordinary runner (lock, journal, plan mode).
//! The first SIGTERM or Ctrl-C asks the daemon to stop: a run in progress finishes, then the
//! daemon exits. A second one interrupts the run. Ticks missed while a run was busy are skipped,
//! never queued up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::config::ScheduleConfig;
use crate::runner::{self, Host, PlayRequest};
use crate::store::RunMode;

/// The longest the daemon sleeps before looking at the stop flag again.
const POLL: Duration = Duration::from_millis(100);

/// Runs `schedules` until `stop` is set; returns how many runs were started.
pub fn run(host: &Host, schedules: &[ScheduleConfig], stop: &AtomicBool) -> u64 {
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
    while !stop.load(Ordering::SeqCst) {
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
        run_one(host, schedule);
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

fn run_one(host: &Host, schedule: &ScheduleConfig) {
    let request = PlayRequest {
        playbook: schedule.playbook.clone(),
        args: schedule
            .args
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        mode: if schedule.plan {
            RunMode::Plan
        } else {
            RunMode::Apply
        },
        lock: None,
        prints_to_stderr: false,
        resumes: None,
    };
    match runner::play(host, &request) {
        Ok(report) => {
            if let Some(error) = &report.error {
                tracing::warn!(
                    "schedule {}: run {} {}: {}",
                    schedule.id(),
                    report.run_id,
                    report.status,
                    error.one_line()
                );
            } else {
                tracing::info!(
                    "schedule {}: run {} {}",
                    schedule.id(),
                    report.run_id,
                    report.status
                );
            }
        }
        Err(err) => tracing::error!("schedule {}: {err}", schedule.id()),
    }
}
