//! The run context: what every primitive consults while a playbook runs.
//!
//! It holds the run's id and mode (apply or plan), the state store, the configuration, the
//! tokio handle for async work, the deadline and the cancel flag, the list of planned changes,
//! and where `print` output goes. Primitives never reach past it into the engine.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::Config;
use crate::secret::FingerprintKey;
use crate::secret::mask::mask;
use crate::services::{Endpoints, Services};
use crate::store::{RunId, RunMode, StepEffect, StepRef, StepStatus, Store};

/// Where a change lands: out there, or in orchestra's own run state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeScope {
    /// A remote service or a file: what the operator approves.
    World,
    /// orchestra's own bookkeeping (playbook state, the sync ledger).
    RunState,
}

/// One change a plan-mode run would have made.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedChange {
    /// The primitive that would make it, e.g. `state::set`.
    pub primitive: String,
    /// Out there, or orchestra's own run state.
    pub scope: ChangeScope,
    /// What it would act on.
    pub target: String,
    /// A sentence: "would set state key `last_run`".
    pub summary: String,
    /// The fields it would change, name and new value (redacted).
    pub fields: Vec<(String, String)>,
}

/// Why a run was stopped from outside the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// The wall-clock time-out passed.
    TimedOut,
    /// Ctrl-C or SIGTERM.
    Cancelled,
}

/// Where the playbook's `print` lines go.
pub enum PrintSink {
    /// Standard output (the normal case).
    Stdout,
    /// Standard error (when stdout carries `--json` output).
    Stderr,
    /// Kept in memory (tests and benchmarks).
    Capture(Mutex<Vec<String>>),
}

/// Everything a running playbook's primitives may consult.
pub struct RunContext {
    run_id: OnceLock<RunId>,
    mode: RunMode,
    store: Option<Store>,
    config: Arc<Config>,
    runtime: Option<tokio::runtime::Handle>,
    started: OnceLock<Instant>,
    timeout: Duration,
    cancel: Arc<AtomicBool>,
    termination: Mutex<Option<Termination>>,
    planned: Mutex<Vec<PlannedChange>>,
    fingerprint_key: OnceLock<Result<FingerprintKey, String>>,
    fingerprint_key_source: KeySource,
    print_sink: PrintSink,
    services: Arc<Services>,
    resumes: Option<RunId>,
}

/// Builds a [`RunContext`].
pub struct RunContextBuilder {
    context: RunContext,
}

impl RunContextBuilder {
    /// The state store this run journals to (none for `check` and `doc`).
    pub fn store(mut self, store: Store) -> Self {
        if !matches!(self.context.fingerprint_key_source, KeySource::Shared(_)) {
            self.context.fingerprint_key_source =
                KeySource::File(fingerprint_key_path(store.path()));
        }
        self.context.store = Some(store);
        self
    }

    /// Take the fingerprint key from `load` (a shared state's key, kept in Secret Manager)
    /// instead of the file beside the state database; called once, on first use.
    pub fn shared_fingerprint_key(mut self, load: SharedKeyLoader) -> Self {
        self.context.fingerprint_key_source = KeySource::Shared(load);
        self
    }

    /// Plan or apply.
    pub fn mode(mut self, mode: RunMode) -> Self {
        self.context.mode = mode;
        self
    }

    /// The tokio runtime primitives hand async work to.
    pub fn runtime(mut self, handle: tokio::runtime::Handle) -> Self {
        self.context.runtime = Some(handle);
        self
    }

    /// The flag that Ctrl-C and SIGTERM set.
    pub fn cancel_flag(mut self, cancel: Arc<AtomicBool>) -> Self {
        self.context.cancel = cancel;
        self
    }

    /// Send `print` output to stderr, keeping stdout for machine-readable output.
    pub fn prints_to_stderr(mut self) -> Self {
        self.context.print_sink = PrintSink::Stderr;
        self
    }

    /// The run this one resumes (`orchestra resume RUN_ID`).
    pub fn resumes(mut self, run: Option<RunId>) -> Self {
        self.context.resumes = run;
        self
    }

    /// The remote services this run talks to.
    pub fn services(mut self, services: Arc<Services>) -> Self {
        self.context.services = services;
        self
    }

    /// Keep `print` output in memory instead of writing it to stdout.
    pub fn capture_prints(mut self) -> Self {
        self.context.print_sink = PrintSink::Capture(Mutex::new(Vec::new()));
        self
    }

    /// Use a throwaway fingerprint key (tests and benchmarks).
    pub fn ephemeral_fingerprints(self) -> Self {
        let _ = self
            .context
            .fingerprint_key
            .set(Ok(FingerprintKey::ephemeral()));
        self
    }

    /// The finished context.
    pub fn build(self) -> Arc<RunContext> {
        Arc::new(self.context)
    }
}

/// Loads a shared state's fingerprint key for a run (a plan creates nothing: with no key yet,
/// it fingerprints under a throwaway one).
pub type SharedKeyLoader = Arc<dyn Fn(&RunContext) -> Result<FingerprintKey, String> + Send + Sync>;

/// Where a run's fingerprint key comes from.
enum KeySource {
    /// A throwaway key (no store).
    Ephemeral,
    /// The file beside the SQLite database.
    File(PathBuf),
    /// The shared state's key.
    Shared(SharedKeyLoader),
}

/// The fingerprint key lives beside the state database, never inside it.
pub fn fingerprint_key_path(state_db: &std::path::Path) -> PathBuf {
    state_db.with_file_name("fingerprint.key")
}

impl RunContext {
    /// Starts building a context for `config`.
    pub fn builder(config: Arc<Config>) -> RunContextBuilder {
        let timeout = config.limits.timeout;
        RunContextBuilder {
            context: RunContext {
                run_id: OnceLock::new(),
                mode: RunMode::Apply,
                store: None,
                config,
                runtime: None,
                started: OnceLock::new(),
                timeout,
                cancel: Arc::new(AtomicBool::new(false)),
                termination: Mutex::new(None),
                planned: Mutex::new(Vec::new()),
                fingerprint_key: OnceLock::new(),
                fingerprint_key_source: KeySource::Ephemeral,
                print_sink: PrintSink::Stdout,
                services: Arc::new(Services::new(Endpoints::Configured)),
                resumes: None,
            },
        }
    }

    /// The run id, once the run is recorded.
    pub fn run_id(&self) -> Option<RunId> {
        self.run_id.get().copied()
    }

    /// Binds the context to its recorded run (after the playbook compiled and the lock was
    /// taken), starting the clock if the runner has not already. The first binding wins.
    pub fn bind_run(&self, run_id: RunId) {
        let _ = self.run_id.set(run_id);
        self.start_clock();
    }

    /// Starts the time-out clock (binding a run does this; unrecorded runs call it directly).
    pub fn start_clock(&self) {
        let _ = self.started.set(Instant::now());
    }

    fn elapsed(&self) -> Duration {
        self.started.get().map(Instant::elapsed).unwrap_or_default()
    }

    /// The run this one resumes, if it is a resume.
    pub fn resumes(&self) -> Option<RunId> {
        self.resumes
    }

    /// Plan or apply.
    pub fn mode(&self) -> RunMode {
        self.mode
    }

    /// Whether mutations are only to be listed.
    pub fn is_plan(&self) -> bool {
        self.mode == RunMode::Plan
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The state store, if this context belongs to a run.
    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// The tokio handle for async work, if any.
    pub fn runtime(&self) -> Option<&tokio::runtime::Handle> {
        self.runtime.as_ref()
    }

    /// The remote services of this run.
    pub fn remote(&self) -> &Services {
        &self.services
    }

    /// The remote services of this run, shared (for what outlives one call, e.g. memory).
    pub fn shared_services(&self) -> Arc<Services> {
        Arc::clone(&self.services)
    }

    /// The configuration, shared.
    pub fn shared_config(&self) -> Arc<Config> {
        Arc::clone(&self.config)
    }

    /// Runs async client work to completion on the runtime (the script thread waits).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> Result<F::Output, String> {
        match &self.runtime {
            Some(handle) => Ok(handle.block_on(future)),
            None => Err("no async runtime in this mode".to_owned()),
        }
    }

    /// A check that turns true when the run must stop (Ctrl-C, SIGTERM or its time-out), for
    /// clients that wait.
    pub fn cancellation(&self) -> Arc<dyn Fn() -> bool + Send + Sync> {
        let cancel = Arc::clone(&self.cancel);
        let deadline = self.started.get().map(|s| *s + self.timeout);
        Arc::new(move || {
            cancel.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d)
        })
    }

    /// Time left before the run's time-out.
    pub fn remaining(&self) -> Duration {
        self.timeout.saturating_sub(self.elapsed())
    }

    /// The configured time-out.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether the run must stop now, and why; records the reason the first time.
    pub fn termination(&self) -> Option<Termination> {
        let reason = if self.cancel.load(Ordering::Relaxed) {
            Termination::Cancelled
        } else if self.started.get().is_some() && self.elapsed() >= self.timeout {
            Termination::TimedOut
        } else {
            return None;
        };
        let mut recorded = self.termination.lock().unwrap_or_else(|p| p.into_inner());
        Some(*recorded.get_or_insert(reason))
    }

    /// The reason recorded when the run was stopped from outside, if it was.
    pub fn recorded_termination(&self) -> Option<Termination> {
        *self.termination.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key secrets are fingerprinted under, loaded (or created) on first use.
    pub fn fingerprint_key(&self) -> Result<&FingerprintKey, String> {
        self.fingerprint_key
            .get_or_init(|| match &self.fingerprint_key_source {
                KeySource::File(path) => {
                    FingerprintKey::load_or_create(path).map_err(|e| e.to_string())
                }
                KeySource::Shared(load) => load(self),
                KeySource::Ephemeral => Ok(FingerprintKey::ephemeral()),
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Writes a `print` line (redacted) and records it as an event.
    pub fn print(&self, text: &str) {
        let text = mask(text);
        match &self.print_sink {
            // Between frames of any progress bar, so a bar never tears a line.
            PrintSink::Stdout => crate::progress::suspend(|| {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                // A closed stdout (e.g. `| head`) must not fail the run.
                let _ = writeln!(out, "{text}");
            }),
            PrintSink::Stderr => crate::progress::suspend(|| eprintln!("{text}")),
            PrintSink::Capture(lines) => lines
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(text.to_string()),
        }
        self.event("print", &text);
    }

    /// The captured `print` lines (empty unless built with `capture_prints`).
    pub fn captured_prints(&self) -> Vec<String> {
        match &self.print_sink {
            PrintSink::Capture(lines) => lines.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            PrintSink::Stdout | PrintSink::Stderr => Vec::new(),
        }
    }

    /// Records an event for this run (a no-op outside a run).
    pub fn event(&self, level: &str, message: &str) {
        if let (Some(store), Some(run_id)) = (&self.store, self.run_id())
            && let Err(err) = store.append_event(run_id, level, message)
        {
            tracing::warn!("could not record an event of run {run_id}: {err}");
        }
    }

    /// Journals a step (a no-op outside a run).
    pub fn begin_step(
        &self,
        primitive: &str,
        effect: StepEffect,
        target: &str,
        status: StepStatus,
        detail: &str,
    ) -> Result<Option<StepRef>, String> {
        match (&self.store, self.run_id()) {
            (Some(store), Some(run_id)) => store
                .begin_step(run_id, primitive, effect, target, status, detail)
                .map(Some)
                .map_err(|e| format!("cannot journal the step: {e}")),
            _ => Ok(None),
        }
    }

    /// Records a journaled step's outcome.
    pub fn finish_step(&self, step: Option<StepRef>, status: StepStatus, detail: &str) {
        if let (Some(store), Some(step)) = (&self.store, step)
            && let Err(err) = store.finish_step(step, status, detail)
        {
            tracing::error!(
                "could not journal the outcome of step {} of run {}: {err}",
                step.seq,
                step.run_id
            );
        }
    }

    /// Adds a would-be change to the plan.
    pub fn record_planned(&self, change: PlannedChange) {
        self.planned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(change);
    }

    /// The plan so far.
    pub fn planned(&self) -> Vec<PlannedChange> {
        self.planned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
