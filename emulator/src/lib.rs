//! A stateful local stand-in for the GitHub, Secret Manager, IAM, Cloud Monitoring and Slack APIs.
//!
//! Speaks only wire formats: it shares no request or response types with orchestra's clients,
//! so a wrong shape on either side cannot hide behind a shared struct. One HTTP server on
//! 127.0.0.1 routes by path: GitHub REST at `/` and `/api/v3`, Google APIs at `/v1/...`,
//! `/v3/...` (Monitoring), `/v2/...` and `/apis/...` (Cloud Run; a service's own URL is
//! `/run.app/P/R/N`), the
//! OAuth token endpoint at `/token`, Slack webhooks at `/slack/NAME` and `/services/T…/B…/…`, and the control surface
//! for tests at `/_emulator/`:
//!
//! | call | what it does |
//! |---|---|
//! | `GET /_emulator/state[?reveal=true]` | the whole state as JSON, secret values redacted unless revealed |
//! | `POST /_emulator/reset` | state back to how it started, faults cleared |
//! | `GET\|POST\|DELETE /_emulator/faults` | list, add (`{"method","path","status"\|"ms"\|"drop","retry_after","count"\|"fraction"}`), clear |
//! | `GET /_emulator/slack/NAME` | messages a webhook received |
//! | `POST /_emulator/slack/webhooks` | a Slack-shaped webhook for a channel (`{"name","archived"}`): `{name, url, slack_url}` |
//! | `DELETE /_emulator/slack/webhooks/NAME` | remove a channel's Slack-shaped webhooks (they answer `403 invalid_token`) |
//! | `GET /_emulator/demo` | the demo credentials |
//! | `POST /_emulator/github/rate-limit` | set a token's window (`{"token","limit","remaining","reset_in","status":403\|429}`) |
//! | `POST /_emulator/github/tokens` | mint a personal access token (`{"login","scopes","expires_in"}`) |
//! | `PUT`/`DELETE /_emulator/github/workflows/OWNER/REPO/FILE` | install or remove a workflow file (a dispatch of a missing one answers 404; acme/api has `deploy.yml` and `orchestra-export.yml`) |
//! | `POST /_emulator/monitoring/usage` | add Vertex AI token usage (`{"model","type":"input"\|"output","tokens","at"\|"from"+"to","replace","project"}`), or `{"clear":true}` |
//! | `GET\|POST /_emulator/clock` | read or move the calendar that stamps creation times (`{"now": RFC 3339}` or `{"advance_secs": N}`; see `clock`) |
//! | `GET /_emulator/limits` | GitHub's secondary limits in force (`--limits`, `--time-scale`) and the refusals each has given (`refusals.concurrency`, `.points`, `.content`, `.total`) |
//! | `GET /_emulator/google/quotas` | Google's per-project and per-secret quotas (on with `--limits`, scaled by `--time-scale`): requests admitted and refused by quota metric, `refused_total` |
//! | `PUT\|PATCH\|DELETE /_emulator/google/run/services/P/R/N` | create, change or remove a Cloud Run service by hand (`{"image","cpu","memory","min_instances","max_instances","concurrency","timeout_secs","service_account","url","ready","reason","message","reconciling"}`); a template change makes a new revision; answers the v2 `Service` |
//! | `POST /_emulator/verify` | does a credential work (`{"github_token"}`, `{"access_token"}`, `{"key_file"}`) |

// Handlers return early with the error answer itself (`Result<T, Response>`); boxing every
// answer would add noise to each handler for no gain in a local test server.
#![allow(clippy::result_large_err)]

mod admin;
mod clock;
mod faults;
mod fixtures;
mod github;
mod google;
mod http_util;
mod keys;
mod limits;
mod request_log;
mod server;
mod slack;
mod state;
mod verify;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use faults::{FaultKind, FaultRule};
pub use fixtures::DemoCredentials;
pub use keys::sign_rs256;
pub use limits::LimitSettings;

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to listen on (default `127.0.0.1:0`, a free port).
    pub bind: SocketAddr,
    /// Save state here on shutdown (and after every change), and load it at start.
    pub state_file: Option<PathBuf>,
    /// Fixtures (JSON) to seed a fresh state with; `None` seeds the built-in demo.
    pub seed: Option<PathBuf>,
    /// Faults active from the start.
    pub faults: Vec<FaultRule>,
    /// GitHub's secondary limits (on, at their documented values, by default).
    pub limits: LimitSettings,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            seed: None,
            faults: Vec::new(),
            limits: LimitSettings::default(),
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The state or seed file could not be read.
    #[error("cannot load {path}: {reason}")]
    Load {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// A running emulator.
pub struct RunningEmulator {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts an emulator on the current tokio runtime.
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    let state = state::load_or_seed(config.state_file.as_deref(), config.seed.as_deref())?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| EmulatorError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            addr: config.bind,
            source,
        })?;
    let shared = Arc::new(server::Shared::new(
        state,
        config.state_file.clone(),
        config.faults,
        config.limits,
    ));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(server::serve(listener, Arc::clone(&shared), rx));
    Ok(RunningEmulator {
        addr,
        shared,
        shutdown: Some(tx),
        task: Some(task),
    })
}

impl RunningEmulator {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The GitHub REST base URL (as octocrab and PyGithub take it).
    pub fn github_url(&self) -> String {
        self.base_url()
    }

    /// The Secret Manager and IAM endpoint (clients append `/v1/...`).
    pub fn google_url(&self) -> String {
        self.base_url()
    }

    /// The Secret Manager endpoint, as google-cloud clients take it (`with_endpoint`,
    /// `api_endpoint`); gcloud's `api_endpoint_overrides/secretmanager` wants it with a
    /// trailing `/`.
    pub fn secretmanager_url(&self) -> String {
        self.base_url()
    }

    /// The IAM endpoint, as google-cloud clients take it; gcloud's
    /// `api_endpoint_overrides/iam` wants it with a trailing `/`.
    pub fn iam_url(&self) -> String {
        self.base_url()
    }

    /// The Cloud Monitoring endpoint, as google-cloud clients take it (they append
    /// `/v3/...`); gcloud's `api_endpoint_overrides/monitoring` wants it with a trailing `/`.
    pub fn monitoring_url(&self) -> String {
        self.base_url()
    }

    /// The OAuth token endpoint the minted key files name.
    pub fn token_uri(&self) -> String {
        format!("{}/token", self.base_url())
    }

    /// The URL of Slack webhook `name`.
    pub fn slack_webhook_url(&self, name: &str) -> String {
        format!("{}/slack/{name}", self.base_url())
    }

    /// The demo credentials of the built-in fixtures.
    pub fn demo_credentials(&self) -> DemoCredentials {
        self.shared.demo_credentials()
    }

    /// Ready-to-paste settings that point clients at this emulator.
    pub fn settings_text(&self) -> String {
        let base = self.base_url();
        let demo = self.demo_credentials();
        format!(
            "orchestra emulator listening on {base}\n\
             \n\
             GitHub REST:        {base}  (also {base}/api/v3)\n\
             Secret Manager/IAM: {base}/v1/...\n\
             Cloud Monitoring:   {base}/v3/...  (Vertex AI token usage; POST /_emulator/monitoring/usage adds some)\n\
             OAuth token URI:    {base}/token\n\
             Slack webhook ops:  {base}/slack/ops\n\
             Control surface:    {base}/_emulator/state  (?reveal=true shows values)\n\
             Demo credentials:   {base}/_emulator/demo  (incl. the demo app's private key)\n\
             Faults:             POST {base}/_emulator/faults  {{\"path\":\"/v1/**\",\"status\":503,\"count\":2}}\n\
             \n\
             # environment\n\
             export GITHUB_API_URL={base}\n\
             export GITHUB_TOKEN={token}\n\
             export CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER={base}/\n\
             export CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM={base}/\n\
             export CLOUDSDK_API_ENDPOINT_OVERRIDES_MONITORING={base}/\n\
             \n\
             # gcloud\n\
             gcloud config set api_endpoint_overrides/secretmanager {base}/\n\
             gcloud config set api_endpoint_overrides/iam {base}/\n\
             gcloud config set api_endpoint_overrides/monitoring {base}/\n\
             \n\
             demo project: {project} (number {number}); service accounts: {accounts}\n\
             demo GitHub user: {user}; repo: {repo}; app id: {app}, installation {installation}\n",
            token = demo.github_token,
            project = demo.project,
            number = demo.project_number,
            accounts = demo.service_accounts.join(", "),
            user = demo.github_user,
            repo = demo.github_repo,
            app = demo.app_id,
            installation = demo.installation_id,
        )
    }

    /// Stops serving and saves state if a state file is set.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.shared.save();
    }
}
