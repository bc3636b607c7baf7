//! Progress the operator sees while a run works: a bar for a batch, a spinner for a long step,
//! a countdown for a wait. On a terminal they are indicatif bars on stderr; off one (a CI log,
//! a pipe, `--log-format json`) a batch logs one line per 10% instead, and waits rely on the
//! log line their caller already writes. Nothing here sees a value: callers pass counts and
//! names they chose.
//!
//! Owns the one [`MultiProgress`] of the process, so log lines and `print` output can be
//! written between frames ([`suspend`]) instead of tearing a bar. Knows nothing of Rhai.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bars and spinners on stderr (stderr is a terminal, logs are text).
    Bars,
    /// One log line per 10% of a batch (stderr is not a terminal, or logs are JSON).
    Lines,
    /// Nothing (`-q`).
    Hidden,
}

const HIDDEN: u8 = 0;
const LINES: u8 = 1;
const BARS: u8 = 2;

/// Hidden until [`configure`] is called: library users and tests see nothing unless asked.
static MODE: AtomicU8 = AtomicU8::new(HIDDEN);
static BARS_DRAWN: LazyLock<MultiProgress> =
    LazyLock::new(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));

/// Whether a countdown is on the terminal: one at a time, so 32 paced requests waiting at once
/// show one line, not 32.
static COUNTDOWN_SHOWN: AtomicBool = AtomicBool::new(false);

/// Waits shorter than this pass without a countdown: it would only flicker.
const COUNTDOWN_FROM: Duration = Duration::from_secs(1);

/// Sets how progress is shown, once the CLI knows where stderr goes.
pub fn configure(mode: Mode) {
    let value = match mode {
        Mode::Hidden => HIDDEN,
        Mode::Lines => LINES,
        Mode::Bars => BARS,
    };
    MODE.store(value, Ordering::Relaxed);
}

/// The mode for a run: bars only when stderr is a terminal and logs are text.
pub fn mode_for(stderr_is_terminal: bool, json_logs: bool, quiet: bool) -> Mode {
    match (quiet, stderr_is_terminal && !json_logs) {
        (true, _) => Mode::Hidden,
        (false, true) => Mode::Bars,
        (false, false) => Mode::Lines,
    }
}

fn mode() -> Mode {
    match MODE.load(Ordering::Relaxed) {
        BARS => Mode::Bars,
        LINES => Mode::Lines,
        _ => Mode::Hidden,
    }
}

/// Runs `write` with every bar lifted off the terminal, then draws them again: how log lines
/// and `print` output reach a terminal that shows bars.
pub fn suspend<R>(write: impl FnOnce() -> R) -> R {
    if mode() == Mode::Bars {
        BARS_DRAWN.suspend(write)
    } else {
        write()
    }
}

fn styled(bar: ProgressBar, template: &str) -> ProgressBar {
    match ProgressStyle::with_template(template) {
        Ok(style) => bar.with_style(style.progress_chars("=> ")),
        Err(_) => bar,
    }
}

/// Progress through `total` items of one batch ("GitHub secrets"), or through a step of unknown
/// length when `total` is 0 (a spinner). Cheap to clone; every clone advances the same count.
#[derive(Clone)]
pub struct Batch {
    inner: Arc<BatchInner>,
}

struct BatchInner {
    what: String,
    total: u64,
    done: AtomicU64,
    /// The last tenth logged in [`Mode::Lines`] (0 to 10).
    logged_tenths: AtomicU64,
    bar: Option<ProgressBar>,
}

impl Batch {
    /// Starts showing progress through `total` items named `what`.
    pub fn new(what: &str, total: u64) -> Self {
        let bar = (mode() == Mode::Bars).then(|| {
            let bar = if total == 0 {
                let spinner = styled(ProgressBar::new_spinner(), "{spinner} {msg} {elapsed}");
                spinner.enable_steady_tick(Duration::from_millis(120));
                spinner
            } else {
                styled(
                    ProgressBar::new(total),
                    "{msg} [{bar:30}] {pos}/{len} {elapsed}",
                )
            };
            bar.set_message(what.to_owned());
            BARS_DRAWN.add(bar)
        });
        if mode() == Mode::Lines && total == 0 {
            tracing::info!(target: "orchestra::progress", "{what}: started");
        }
        Self {
            inner: Arc::new(BatchInner {
                what: what.to_owned(),
                total,
                done: AtomicU64::new(0),
                logged_tenths: AtomicU64::new(0),
                bar,
            }),
        }
    }

    /// `n` more items done.
    pub fn advance(&self, n: u64) {
        let inner = &self.inner;
        let done = inner.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(bar) = &inner.bar {
            bar.inc(n);
        }
        if mode() != Mode::Lines || inner.total == 0 {
            return;
        }
        let tenths = (done.min(inner.total) * 10) / inner.total;
        let logged = inner.logged_tenths.fetch_max(tenths, Ordering::Relaxed);
        if tenths > logged {
            tracing::info!(
                target: "orchestra::progress",
                "{}: {} of {} ({}%)",
                inner.what,
                done.min(inner.total),
                inner.total,
                tenths * 10
            );
        }
    }

    /// A callback that advances this batch by one, for code that knows nothing of progress.
    pub fn ticker(&self) -> Arc<dyn Fn() + Send + Sync> {
        let batch = self.clone();
        Arc::new(move || batch.advance(1))
    }

    /// How many items are done.
    pub fn done(&self) -> u64 {
        self.inner.done.load(Ordering::Relaxed)
    }

    /// Ends the batch: the bar stays on the terminal at its final count.
    pub fn finish(&self) {
        let inner = &self.inner;
        if let Some(bar) = &inner.bar {
            bar.finish();
        }
        if mode() == Mode::Lines && inner.total == 0 {
            tracing::info!(target: "orchestra::progress", "{}: done", inner.what);
        }
    }
}

/// A countdown on the terminal for as long as a wait lasts; gone when dropped. While one is
/// shown, other waits that start are not drawn.
pub struct Countdown {
    bar: Option<ProgressBar>,
    reason: String,
}

impl Countdown {
    /// Shows "waiting 12s: REASON" for a wait of `wait` (nothing for a short wait or off a
    /// terminal).
    pub fn start(wait: Duration, reason: &str) -> Self {
        let shown = mode() == Mode::Bars
            && wait >= COUNTDOWN_FROM
            && COUNTDOWN_SHOWN
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok();
        let bar = shown.then(|| {
            let bar = styled(ProgressBar::new_spinner(), "{spinner} {msg}");
            bar.enable_steady_tick(Duration::from_millis(120));
            BARS_DRAWN.add(bar)
        });
        let countdown = Self {
            bar,
            reason: reason.to_owned(),
        };
        countdown.remaining(wait);
        countdown
    }

    /// Updates the time left.
    pub fn remaining(&self, left: Duration) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "waiting {}s: {}",
                left.as_secs_f64().ceil() as u64,
                self.reason
            ));
        }
    }
}

impl Drop for Countdown {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            COUNTDOWN_SHOWN.store(false, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_follows_the_terminal_the_log_format_and_quiet() {
        assert_eq!(mode_for(true, false, false), Mode::Bars);
        assert_eq!(mode_for(true, true, false), Mode::Lines);
        assert_eq!(mode_for(false, false, false), Mode::Lines);
        assert_eq!(mode_for(true, false, true), Mode::Hidden);
    }

    #[test]
    fn a_batch_counts_every_clone_and_never_past_its_total_in_lines() {
        let batch = Batch::new("items", 4);
        let tick = batch.ticker();
        for _ in 0..5 {
            tick();
        }
        batch.advance(2);
        assert_eq!(batch.done(), 7);
        batch.finish();
    }
}
