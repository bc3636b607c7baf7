//! What every check reads: the configuration (or why it did not load), the services (the
//! configured ones, or the emulator's under `--emulate`), the playbooks' calls, one HTTP
//! client with short time-outs, and the servers' `Date` headers the clock check compares.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use orchestra_emulator::RunningEmulator;

use crate::config::Config;
use crate::config::environment::Environment;
use crate::error::HostError;
use crate::permissions::Usage;
use crate::secret::FingerprintKey;
use crate::services::{Endpoints, Services};

/// How long one connection may take to open; a closed port fails at once.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one network check may take in all before it is a failure.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// What the checks share.
pub struct Context {
    /// The configuration (defaults when it did not load).
    pub config: Arc<Config>,
    /// Why the configuration did not load.
    pub config_error: Option<String>,
    /// The state database file.
    pub state_db: PathBuf,
    /// The working directory.
    pub cwd: PathBuf,
    /// Where the services are.
    pub services: Arc<Services>,
    /// The runtime blocking work hands async work to.
    pub runtime: tokio::runtime::Handle,
    /// Where this process runs.
    pub environment: Environment,
    /// What the configured playbooks call.
    pub usage: Usage,
    /// Secrets are fingerprinted under a key of this process only.
    pub key: FingerprintKey,
    /// Plain HTTP calls (Resource Manager), with short time-outs and no redirects.
    pub http: reqwest::Client,
    dates: Mutex<Vec<(String, DateTime<Utc>)>>,
    emulator: Mutex<Option<RunningEmulator>>,
}

impl Context {
    /// Loads the configuration and starts the emulator when asked.
    pub fn build(
        global: &super::Global,
        emulate: bool,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Arc<Self>, HostError> {
        let (config, config_error) = match Config::load(global.config.as_deref(), &global.cwd) {
            Ok(config) => (config, None),
            Err(err) => {
                let mut config = Config {
                    base_dir: global.cwd.clone(),
                    ..Config::default()
                };
                config.source_file = None;
                (config, Some(err.to_string()))
            }
        };
        let mut config = config;
        if let Some(state_db) = &global.state_db {
            config.paths.state_db = global.cwd.join(state_db);
        }
        // One attempt per call and no long waits: doctor reports, it does not persevere.
        config.limits.retry_attempts = 1;
        config.limits.max_retry_wait = Duration::from_secs(1);
        let emulator = if emulate {
            Some(super::super::emulated::start_emulator(
                runtime, &config, None,
            )?)
        } else {
            None
        };
        let services = Arc::new(Services::new(match &emulator {
            Some(emulator) => Endpoints::Emulated {
                base_url: emulator.base_url(),
                github_token: emulator.demo_credentials().github_token,
            },
            None => Endpoints::Configured,
        }));
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CHECK_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| HostError::Io(format!("cannot build the HTTP client: {e}")))?;
        let usage = Usage::of_playbooks(&config);
        Ok(Arc::new(Self {
            state_db: config.resolve(&config.paths.state_db),
            config: Arc::new(config),
            config_error,
            cwd: global.cwd.clone(),
            services,
            runtime: runtime.clone(),
            environment: crate::config::environment::detect(false),
            usage,
            key: FingerprintKey::ephemeral(),
            http,
            dates: Mutex::new(Vec::new()),
            emulator: Mutex::new(emulator),
        }))
    }

    /// Records the `Date` header `server` answered with, if it sent one.
    pub fn saw_date(&self, server: &str, headers: &http::HeaderMap) {
        let Some(date) = headers
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        else {
            return;
        };
        self.dates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((server.to_owned(), date.with_timezone(&Utc)));
    }

    /// The `Date` headers seen so far, by server.
    pub fn dates(&self) -> Vec<(String, DateTime<Utc>)> {
        self.dates.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The emulator `--emulate` started, to be shut down.
    pub fn take_emulator(&self) -> Option<RunningEmulator> {
        self.emulator
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// A flag the clients poll: doctor is never cancelled midway.
    pub fn never_cancelled() -> Arc<dyn Fn() -> bool + Send + Sync> {
        Arc::new(|| false)
    }

    /// The project checks address: `[gcp].project`, or the demo project under `--emulate`.
    pub fn project(&self) -> Option<String> {
        self.services.default_project(&self.config)
    }

    /// Resource Manager's base URL: the emulator's, `[gcp].resource_manager_url`, or Google's.
    pub fn resource_manager_url(&self) -> String {
        match self.services.emulator_url() {
            Some(url) => url.to_owned(),
            None => self
                .config
                .gcp
                .resource_manager_url
                .clone()
                .unwrap_or_else(|| "https://cloudresourcemanager.googleapis.com".to_owned()),
        }
        .trim_end_matches('/')
        .to_owned()
    }
}
