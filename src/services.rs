//! The remote services a run talks to: where they are, with which credentials, and the one
//! rate budget they share. Built lazily on first use, so a playbook that touches no service
//! never reads a credential.
//!
//! Under `--emulate` every endpoint is the in-process emulator and every credential its demo
//! one; nothing else can be reached.

use std::sync::{Arc, OnceLock};

use crate::clients::budget::RateBudget;
use crate::clients::github::GithubClient;
use crate::clients::iam::{GOOGLE_TOKEN_URI, IamKeys};
use crate::clients::monitoring::Monitoring;
use crate::clients::retry::RetryPolicy;
use crate::clients::secret_manager::SecretManager;
use crate::config::Config;
use crate::engine::Secret;
use crate::engine::fingerprint::FingerprintKey;

/// Where the services are.
#[derive(Debug, Clone)]
pub enum Endpoints {
    /// The real services, as configured.
    Configured,
    /// The built-in emulator.
    Emulated {
        /// Its base URL.
        base_url: String,
        /// The demo GitHub token.
        github_token: String,
    },
}

/// The services of one run.
pub struct Services {
    endpoints: Endpoints,
    budget: Arc<RateBudget>,
    github: std::sync::Mutex<Option<(Arc<GithubClient>, Option<std::time::Instant>)>>,
    secret_manager: OnceLock<Result<Arc<SecretManager>, String>>,
    iam: OnceLock<Result<Arc<IamKeys>, String>>,
    monitoring: OnceLock<Result<Arc<Monitoring>, String>>,
}

impl Services {
    /// Services at `endpoints`.
    pub fn new(endpoints: Endpoints) -> Self {
        Self {
            endpoints,
            budget: Arc::new(RateBudget::default()),
            github: std::sync::Mutex::new(None),
            secret_manager: OnceLock::new(),
            iam: OnceLock::new(),
            monitoring: OnceLock::new(),
        }
    }

    /// The emulator's base URL under `--emulate`.
    pub fn emulator_url(&self) -> Option<&str> {
        match &self.endpoints {
            Endpoints::Emulated { base_url, .. } => Some(base_url),
            Endpoints::Configured => None,
        }
    }

    /// Whether this run talks to the emulator.
    pub fn is_emulated(&self) -> bool {
        matches!(self.endpoints, Endpoints::Emulated { .. })
    }

    /// The project short secret names belong to: `[gcp].project`, or the demo project under
    /// `--emulate`.
    pub fn default_project(&self, config: &Config) -> Option<String> {
        match (&config.gcp.project, &self.endpoints) {
            (Some(project), _) => Some(project.clone()),
            (None, Endpoints::Emulated { .. }) => Some("demo-project".to_owned()),
            (None, Endpoints::Configured) => None,
        }
    }

    /// The Secret Manager client, built on first use (Application Default Credentials, or
    /// anonymous against the emulator).
    pub fn secret_manager(
        &self,
        config: &Config,
        runtime: &tokio::runtime::Handle,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Arc<SecretManager>, String> {
        self.google_client(
            &self.secret_manager,
            config,
            config.gcp.secret_manager_url.clone(),
            |endpoint, credentials, policy| {
                runtime.block_on(SecretManager::new(endpoint, credentials, policy, cancelled))
            },
        )
    }

    /// The IAM client, built on first use.
    pub fn iam(
        &self,
        config: &Config,
        runtime: &tokio::runtime::Handle,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Arc<IamKeys>, String> {
        self.google_client(
            &self.iam,
            config,
            config.gcp.iam_url.clone(),
            |endpoint, credentials, policy| {
                runtime.block_on(IamKeys::new(endpoint, credentials, policy, cancelled))
            },
        )
    }

    /// The Cloud Monitoring client, built on first use (`[gcp].monitoring_url`, or the
    /// emulator under `--emulate`).
    pub fn monitoring(
        &self,
        config: &Config,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Arc<Monitoring>, String> {
        self.google_client(
            &self.monitoring,
            config,
            config.gcp.monitoring_url.clone(),
            |endpoint, credentials, policy| {
                Monitoring::new(endpoint, credentials, policy, cancelled)
            },
        )
    }

    /// The Google client kept in `cell`, built on first use by `build` from the endpoint
    /// (`configured_url`, or the emulator's), the credentials and the retry policy.
    fn google_client<T>(
        &self,
        cell: &OnceLock<Result<Arc<T>, String>>,
        config: &Config,
        configured_url: Option<String>,
        build: impl FnOnce(
            Option<String>,
            google_cloud_auth::credentials::Credentials,
            RetryPolicy,
        ) -> Result<T, String>,
    ) -> Result<Arc<T>, String> {
        cell.get_or_init(|| {
            let (endpoint, credentials) = self.google_endpoint(config, configured_url)?;
            build(
                endpoint,
                credentials,
                RetryPolicy::from_limits(&config.limits),
            )
            .map(Arc::new)
        })
        .clone()
    }

    /// The token URIs a key check may call: Google's, or the emulator's under `--emulate`.
    pub fn token_uris(&self) -> Vec<String> {
        match &self.endpoints {
            Endpoints::Emulated { base_url, .. } => vec![format!("{base_url}/token")],
            Endpoints::Configured => vec![GOOGLE_TOKEN_URI.to_owned()],
        }
    }

    fn google_endpoint(
        &self,
        config: &Config,
        configured: Option<String>,
    ) -> Result<(Option<String>, google_cloud_auth::credentials::Credentials), String> {
        Ok(match &self.endpoints {
            Endpoints::Emulated { base_url, .. } => (
                Some(base_url.clone()),
                google_cloud_auth::credentials::anonymous::Builder::new().build(),
            ),
            Endpoints::Configured => match config.gcp.credentials {
                crate::config::GcpCredentials::Anonymous => (
                    configured,
                    google_cloud_auth::credentials::anonymous::Builder::new().build(),
                ),
                crate::config::GcpCredentials::Adc => (
                    configured,
                    google_cloud_auth::credentials::Builder::default()
                        .build()
                        .map_err(|e| {
                            format!("no Google credentials (application default credentials): {e}")
                        })?,
                ),
            },
        })
    }

    /// The webhook URL of Slack channel `name`, as a Secret: the emulator's under `--emulate`,
    /// else read from the variable `[notify.slack.NAME].webhook_env` names.
    pub fn slack_webhook(
        &self,
        config: &Config,
        key: &FingerprintKey,
        name: &str,
    ) -> Result<Secret, String> {
        match &self.endpoints {
            Endpoints::Emulated { base_url, .. } => Ok(Secret::new(
                format!("{base_url}/slack/{name}").into_bytes(),
                key,
            )),
            Endpoints::Configured => {
                let channel = config.notify.slack.get(name).ok_or_else(|| {
                    format!("no Slack channel '{name}': add [notify.slack.{name}] webhook_env = \"VAR\" to orchestra.toml")
                })?;
                let value = std::env::var_os(&channel.webhook_env).ok_or_else(|| {
                    format!(
                        "the Slack webhook for '{name}' is not set: export {}",
                        channel.webhook_env
                    )
                })?;
                Ok(Secret::new(value.into_encoded_bytes(), key))
            }
        }
    }

    /// The GitHub client, built on first use.
    ///
    /// The credential is, in order: the emulator's demo token under `--emulate`; an
    /// installation token minted with the app key from Secret Manager (`[github].app_id`,
    /// `installation_id`, `app_key_secret`), kept until five minutes before it expires; a token
    /// from Secret Manager (`[github].token_secret`); the variable `[github].token_env` names.
    pub fn github(
        &self,
        config: &Config,
        key: &FingerprintKey,
        runtime: &tokio::runtime::Handle,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Arc<GithubClient>, String> {
        let mut cached = self.github.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((client, fresh_until)) = cached.as_ref()
            && fresh_until.is_none_or(|t| std::time::Instant::now() < t)
        {
            return Ok(Arc::clone(client));
        }
        let (url, token, fresh_until) = match &self.endpoints {
            Endpoints::Emulated {
                base_url,
                github_token,
            } => (
                base_url.clone(),
                Secret::new(github_token.clone().into_bytes(), key),
                None,
            ),
            Endpoints::Configured => {
                let (token, fresh_until) =
                    self.configured_github_token(config, key, runtime, Arc::clone(&cancelled))?;
                (config.github.api_url.clone(), token, fresh_until)
            }
        };
        let budget_key = format!("github:{}", token.fingerprint());
        let client = GithubClient::new(
            &url,
            &token,
            Arc::clone(&self.budget),
            RetryPolicy::from_limits(&config.limits),
            cancelled,
        )
        .map(|client| Arc::new(client.with_budget_key(budget_key)))
        .map_err(|e| e.to_string())?;
        *cached = Some((Arc::clone(&client), fresh_until));
        Ok(client)
    }

    fn configured_github_token(
        &self,
        config: &Config,
        key: &FingerprintKey,
        runtime: &tokio::runtime::Handle,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<(Secret, Option<std::time::Instant>), String> {
        let github = &config.github;
        let from_secret_manager = |name: &str| -> Result<Secret, String> {
            let sm = self.secret_manager(config, runtime, Arc::clone(&cancelled))?;
            let (data, _) = runtime
                .block_on(sm.access(&format!("{name}/versions/latest")))
                .map_err(|e| format!("cannot read {name}: {e}"))?;
            Ok(Secret::new(data, key))
        };
        match (
            github.app_id,
            github.installation_id,
            &github.app_key_secret,
        ) {
            (Some(app), Some(installation), Some(key_secret)) => {
                let app_key = from_secret_manager(key_secret)?;
                let minted = runtime
                    .block_on(crate::clients::github::mint_installation_token(
                        &github.api_url,
                        app,
                        installation,
                        &app_key,
                    ))
                    .map_err(|e| format!("cannot mint an installation token for app {app}: {e}"))?;
                // Installation tokens live an hour; use one for at most 55 minutes.
                let fresh_until =
                    std::time::Instant::now() + std::time::Duration::from_secs(55 * 60);
                Ok((
                    Secret::new(minted.token.into_bytes(), key),
                    Some(fresh_until),
                ))
            }
            (None, None, None) => match &github.token_secret {
                Some(name) => Ok((from_secret_manager(name)?, None)),
                None => {
                    let name = &github.token_env;
                    let value = std::env::var_os(name).ok_or_else(|| {
                        format!(
                            "no GitHub credential: set {name} (or choose another variable with [github].token_env)"
                        )
                    })?;
                    Ok((Secret::new(value.into_encoded_bytes(), key), None))
                }
            },
            _ => Err(
                "a GitHub App needs all of [github].app_id, installation_id and app_key_secret"
                    .into(),
            ),
        }
    }
}
