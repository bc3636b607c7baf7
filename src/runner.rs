//! One run of one playbook, start to finish: find and compile it, take its lock, record the
//! run, execute, record the outcome, release the lock.
//!
//! Compile problems are reported before any run is recorded or any lock taken, so a typo
//! never leaves a trace in `orchestra runs` nor blocks another run.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use rhai::Map;
use serde::Serialize;

use crate::clients::shared_key::{self, SharedKeyPlace};
use crate::config::{Config, StateBackendKind};
use crate::engine::context::SharedKeyLoader;
use crate::engine::{self, PlannedChange, RunContext, ScriptDiagnostic, Termination};
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::secret::FingerprintKey;
use crate::store::{NewRun, RunId, RunMode, RunStatus, SharedSettings, Store};

/// What every command shares: configuration, state, the runtime and the cancel flag.
pub struct Host {
    /// Loaded configuration.
    pub config: Arc<Config>,
    /// The state database.
    pub store: Store,
    /// The tokio runtime handle primitives use.
    pub runtime: tokio::runtime::Handle,
    /// Set by Ctrl-C or SIGTERM.
    pub cancel: Arc<AtomicBool>,
    /// The working directory.
    pub cwd: PathBuf,
    /// The remote services (configured, or the in-process emulator under `--emulate`).
    pub services: Arc<crate::services::Services>,
}

/// What to run and how.
#[derive(Debug, Clone)]
pub struct PlayRequest {
    /// The playbook as the operator named it.
    pub playbook: String,
    /// `--arg` pairs, in order.
    pub args: Vec<(String, String)>,
    /// Apply or plan.
    pub mode: RunMode,
    /// A lock name shared with other playbooks (default: one lock per playbook file).
    pub lock: Option<String>,
    /// Send the playbook's `print` lines to stderr (stdout carries JSON).
    pub prints_to_stderr: bool,
    /// The run this one resumes (`orchestra resume`).
    pub resumes: Option<RunId>,
    /// Called once the run is recorded and holds its lock, before the script starts.
    pub on_start: Option<RunStartHook>,
}

/// A callback told the id of a run as soon as it is recorded (a migration phase ties itself
/// to its run there, so `migrate monitor` can follow the run's journal while it works).
#[derive(Clone)]
pub struct RunStartHook(
    pub Arc<dyn Fn(RunId) -> Result<(), crate::store::StoreError> + Send + Sync>,
);

impl std::fmt::Debug for RunStartHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RunStartHook")
    }
}

/// How a run ended, for the terminal and `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run's id.
    pub run_id: RunId,
    /// The playbook, as shown.
    pub playbook: String,
    /// Apply or plan.
    pub mode: RunMode,
    /// Its final status.
    pub status: RunStatus,
    /// Wall time of the run.
    pub duration_ms: u128,
    /// The changes a plan run would make (empty in apply mode).
    pub changes: Vec<PlannedChange>,
    /// The error it failed with.
    pub error: Option<ScriptDiagnostic>,
    /// A run whose dead process had left the lock behind.
    pub took_over_from: Option<RunId>,
    /// Every file the run read (playbook and modules), for `--watch`.
    #[serde(skip)]
    pub files: Vec<PathBuf>,
    #[serde(skip)]
    termination: Option<Termination>,
}

impl RunReport {
    /// The exit code this outcome maps to.
    pub fn exit_status(&self) -> ExitStatus {
        match (self.status, self.termination) {
            (RunStatus::Succeeded, _) => ExitStatus::Success,
            (_, Some(Termination::Cancelled)) => ExitStatus::Interrupted,
            _ => ExitStatus::PlaybookFailed,
        }
    }
}

/// Parses `--arg` pairs into the map the script sees as `args`, and its JSON for the record.
pub fn args_map(pairs: &[(String, String)]) -> (Map, String) {
    let mut map = Map::new();
    let mut json = serde_json::Map::new();
    for (key, value) in pairs {
        map.insert(key.as_str().into(), value.clone().into());
        json.insert(key.clone(), value.clone().into());
    }
    (map, serde_json::Value::Object(json).to_string())
}

/// Opens the run state `config` names: the SQLite file, and with `[state] backend =
/// "firestore"` the shared Firestore database for runs, the journal and locks.
pub fn open_store(
    config: &Config,
    services: &crate::services::Services,
) -> Result<Store, HostError> {
    let store = Store::open(&config.resolve(&config.paths.state_db))?;
    if config.state.backend != StateBackendKind::Firestore {
        return Ok(store);
    }
    let mut named = config.clone();
    if let Some(project) = &config.state.project {
        named.gcp.project = Some(project.clone());
    }
    named.gcp.firestore_database = Some(config.state.database.clone());
    let firestore = services.firestore_settings(&named).map_err(|e| {
        HostError::Config(crate::config::ConfigError::Invalid(format!(
            "[state] backend = \"firestore\": {e}"
        )))
    })?;
    let machine = config
        .state
        .machine
        .clone()
        .unwrap_or_else(|| crate::process::ProcessIdentity::current().host);
    Ok(store.with_shared(SharedSettings {
        firestore,
        prefix: config.state.prefix.clone(),
        machine,
        lease: config.state.lease,
        policy: crate::clients::retry::RetryPolicy::from_limits(&config.limits),
    })?)
}

/// Where the fingerprint key of the shared state `config` names is kept (`[state].project`,
/// else the default project, and `[state].prefix`); `None` when the state is SQLite's alone.
pub fn shared_key_place(
    config: &Config,
    services: &crate::services::Services,
) -> Result<Option<SharedKeyPlace>, HostError> {
    if config.state.backend != StateBackendKind::Firestore {
        return Ok(None);
    }
    let project = config
        .state
        .project
        .clone()
        .or_else(|| services.default_project(config))
        .ok_or_else(|| {
            HostError::Config(crate::config::ConfigError::Invalid(
                "[state] backend = \"firestore\": no project for the shared fingerprint key: set [state].project or [gcp].project in orchestra.toml".into(),
            ))
        })?;
    Ok(Some(SharedKeyPlace::new(&project, &config.state.prefix)))
}

/// The shared state's fingerprint key at `place`, from Secret Manager: created there on first
/// use, unless `plan` (a plan creates nothing and, with no key yet, fingerprints under a
/// throwaway one).
pub fn load_shared_key(
    services: &crate::services::Services,
    config: &Config,
    runtime: &tokio::runtime::Handle,
    cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    place: &SharedKeyPlace,
    plan: bool,
) -> Result<FingerprintKey, String> {
    // Building Google credentials spawns their token refresh onto the current runtime.
    let _entered = runtime.enter();
    let client = services.secret_manager(config, runtime, cancelled)?;
    let key = if plan {
        runtime
            .block_on(shared_key::read(&client, place))
            .map_err(|e| e.to_string())?
            .unwrap_or_else(FingerprintKey::ephemeral)
    } else {
        runtime
            .block_on(shared_key::read_or_create(&client, place, None))
            .map_err(|e| e.to_string())?
    };
    Ok(key)
}

/// Loads a run's shared fingerprint key with [`load_shared_key`], on the run's runtime.
fn shared_key_loader(place: SharedKeyPlace) -> SharedKeyLoader {
    Arc::new(move |context: &RunContext| {
        let runtime = context
            .runtime()
            .ok_or("the shared fingerprint key needs the async runtime")?;
        load_shared_key(
            context.remote(),
            context.config(),
            runtime,
            context.cancellation(),
            &place,
            context.is_plan(),
        )
    })
}

/// The default lock of a playbook: its path relative to the working directory (or the
/// config's folder) when it is inside, so that machines sharing a Firestore state agree on
/// it wherever their checkout lives; its absolute path otherwise.
fn playbook_lock(path: &std::path::Path, host: &Host) -> String {
    let shown = path
        .strip_prefix(&host.cwd)
        .or_else(|_| path.strip_prefix(&host.config.base_dir))
        .unwrap_or(path);
    format!("playbook:{}", shown.display())
}

/// Runs `request` once.
pub fn play(host: &Host, request: &PlayRequest) -> Result<RunReport, HostError> {
    for reaped in host.store.reap_dead_runs()? {
        tracing::warn!("run {reaped} was left running by a process that died; marked interrupted");
    }
    let path = engine::playbook::locate(&request.playbook, &host.cwd, &host.config)?;
    let source = engine::playbook::read(&path)?;

    let mut builder = RunContext::builder(Arc::clone(&host.config))
        .store(host.store.clone())
        .mode(request.mode)
        .runtime(host.runtime.clone())
        .cancel_flag(Arc::clone(&host.cancel))
        .services(Arc::clone(&host.services))
        .resumes(request.resumes);
    if request.prints_to_stderr {
        builder = builder.prints_to_stderr();
    }
    if let Some((project, prefix)) = host.store.shared_project_and_prefix() {
        builder =
            builder.shared_fingerprint_key(shared_key_loader(SharedKeyPlace::new(project, prefix)));
    }
    let context = builder.build();
    // The time-out covers the whole run: checking and compiling the playbook and its modules
    // count, not only the script's execution.
    context.start_clock();

    let (args, args_json) = args_map(&request.args);
    let prepared =
        engine::prepare(source, &context, args).map_err(|diagnostics| HostError::Compile {
            file: engine::playbook::display_path(&path),
            diagnostics,
        })?;

    let shown = prepared.source.shown.clone();
    let lock = request
        .lock
        .clone()
        .unwrap_or_else(|| playbook_lock(&prepared.source.path, host));
    let acquired = host.store.start_run_with_lock(
        &lock,
        &NewRun {
            playbook: shown.clone(),
            source_hash: prepared.source.hash.clone(),
            args_json,
            mode: request.mode,
            resumes: request.resumes,
        },
    )?;
    if let Some(previous) = acquired.took_over_from {
        tracing::warn!(
            "took over lock '{lock}' left by run {previous}, whose process died; run {previous} is marked interrupted"
        );
    }
    let run_id = acquired.run_id;
    context.bind_run(run_id);
    if let Some(hook) = &request.on_start
        && let Err(err) = (hook.0)(run_id)
    {
        host.store
            .finish_run(run_id, RunStatus::Failed, Some(&err.to_string()))?;
        host.store.release_lock(&lock, run_id)?;
        return Err(err.into());
    }
    tracing::info!("run {run_id} started: {shown} ({})", request.mode);

    let started = Instant::now();
    let confinement = (request.mode == RunMode::Plan).then(|| host.store.confine_to_run_records());
    let execution = prepared.execute();
    drop(confinement);
    let duration = started.elapsed();
    let termination = context.recorded_termination();
    let (status, error) = match &execution.result {
        Ok(_) => (RunStatus::Succeeded, None),
        Err(diagnostic) => {
            let status = if termination == Some(Termination::Cancelled) {
                RunStatus::Interrupted
            } else {
                RunStatus::Failed
            };
            (status, Some(diagnostic.clone()))
        }
    };
    let error_line = error.as_ref().map(ScriptDiagnostic::one_line);
    host.store
        .finish_run(run_id, status, error_line.as_deref())?;
    host.store.release_lock(&lock, run_id)?;
    tracing::info!(
        "run {run_id} {status} in {}",
        humantime::format_duration(Duration::from_millis(duration.as_millis() as u64))
    );

    let mut files = execution.files;
    if let Some(config_file) = &host.config.source_file {
        files.push(config_file.clone());
    }
    Ok(RunReport {
        run_id,
        playbook: shown,
        mode: request.mode,
        status,
        duration_ms: duration.as_millis(),
        changes: context.planned(),
        error,
        took_over_from: acquired.took_over_from,
        files,
        termination,
    })
}
