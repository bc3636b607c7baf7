//! `migrate monitor`: a live view of the phases — status, elapsed time, the current step of a
//! running phase and the latest metrics — read from the store every interval, so it follows a
//! phase run by another terminal (or, with the Firestore state, another machine's journal).
//!
//! On a terminal the frame is redrawn in place by indicatif; elsewhere each frame is printed as
//! plain lines, one block per interval. Reads only.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::report::{duration_text, status_table, value_text};
use super::store::phase_views;
use super::{Migration, PhaseStatus};
use crate::store::{Store, StoreError, format_ms, now_ms};

/// One frame: the phase table, then for each running phase its run's current step and the
/// metrics it has recorded so far.
pub fn frame(store: &Store, migration: &Migration, now_ms: i64) -> Result<String, StoreError> {
    let phases = phase_views(store, migration)?;
    let mut out = format!(
        "migration {} (project {}) at {}\n",
        migration.name,
        migration.project,
        format_ms(now_ms)
    );
    out.push_str(&status_table(&phases, now_ms));
    for phase in phases
        .iter()
        .filter(|p| p.status == PhaseStatus::InProgress)
    {
        let elapsed = phase.took_ms(now_ms).map(duration_text).unwrap_or_default();
        let run = phase
            .run_id
            .map(|r| format!("run {r}"))
            .unwrap_or_else(|| "starting".into());
        out.push_str(&format!("\n{} running for {elapsed} ({run})\n", phase.name));
        let step = match phase.run_id {
            Some(run_id) => store.steps(run_id)?.pop(),
            None => None,
        };
        match step {
            Some(step) => out.push_str(&format!(
                "  current step {}: {} {} ({})\n",
                step.seq, step.primitive, step.target, step.status
            )),
            None => out.push_str("  current step: none journaled yet\n"),
        }
        if !phase.metrics.is_empty() {
            let metrics: Vec<String> = phase
                .metrics
                .iter()
                .map(|(name, value)| format!("{name}={}", value_text(*value)))
                .collect();
            out.push_str(&format!("  metrics: {}\n", metrics.join(" ")));
        }
    }
    Ok(out)
}

/// Redraws the frame every `interval` until `stop` is set (Ctrl-C) or `limit` has passed.
pub fn watch(
    store: &Store,
    migration: &Migration,
    interval: Duration,
    limit: Option<Duration>,
    stop: &AtomicBool,
    terminal: bool,
) -> Result<(), StoreError> {
    let started = Instant::now();
    let bar = terminal.then(|| {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
        if let Ok(style) = ProgressStyle::with_template("{msg}") {
            bar.set_style(style);
        }
        bar
    });
    let over = || stop.load(Ordering::SeqCst) || limit.is_some_and(|l| started.elapsed() >= l);
    loop {
        let text = frame(store, migration, now_ms())?;
        match &bar {
            Some(bar) => bar.set_message(text.trim_end().to_owned()),
            None => {
                let mut out = std::io::stdout().lock();
                // A closed pipe ends the watch like Ctrl-C does.
                if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
                    break;
                }
            }
        }
        let next = Instant::now() + interval;
        while Instant::now() < next && !over() {
            std::thread::sleep(Duration::from_millis(50).min(interval));
        }
        if over() {
            break;
        }
    }
    if let Some(bar) = bar {
        bar.abandon();
    }
    Ok(())
}
