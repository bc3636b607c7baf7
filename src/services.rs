//! The remote services a run talks to: where they are, with which credentials, and the one
//! rate budget they share. Built lazily on first use, so a playbook that touches no service
//! never reads a credential.
//!
//! Under `--emulate` every endpoint is the in-process emulator and every credential its demo
//! one; nothing else can be reached.

use std::sync::{Arc, OnceLock};

use crate::clients::budget::RateBudget;
use crate::clients::firestore::{Endpoint as FirestoreEndpoint, Firestore, FirestoreSettings};
use crate::clients::github::GithubClient;
use crate::clients::google_pacing::GooglePacer;
use crate::clients::iam::{GOOGLE_TOKEN_URI, IamKeys};
use crate::clients::monitoring::Monitoring;
use crate::clients::pacing::{GithubPacer, PaceSettings};
use crate::clients::retry::RetryPolicy;
use crate::clients::run::{CloudRun, GOOGLE_RUN_URL};
use crate::clients::secret_manager::SecretManager;
use crate::clients::wif::{WifClient, WifEndpoints};
use crate::config::{Config, MAIN_CREDENTIAL, TokenSource};
use crate::secret::FingerprintKey;
use crate::secret::Secret;

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
    pacer: OnceLock<Arc<GithubPacer>>,
    google_pacer: OnceLock<Arc<GooglePacer>>,
    github: std::sync::Mutex<Option<(Arc<GithubClient>, Option<std::time::Instant>)>>,
    secret_manager: OnceLock<Result<Arc<SecretManager>, String>>,
    iam: OnceLock<Result<Arc<IamKeys>, String>>,
    wif: OnceLock<Result<Arc<WifClient>, String>>,
    cloud_run: OnceLock<Result<Arc<CloudRun>, String>>,
    monitoring: OnceLock<Result<Arc<Monitoring>, String>>,
    memory: OnceLock<Result<Arc<crate::memory::Memory>, String>>,
    firestore_emulator: Option<String>,
    firestore: std::sync::Mutex<Option<Arc<Firestore>>>,
}

impl Services {
    /// Services at `endpoints`.
    pub fn new(endpoints: Endpoints) -> Self {
        Self {
            endpoints,
            budget: Arc::new(RateBudget::default()),
            pacer: OnceLock::new(),
            google_pacer: OnceLock::new(),
            github: std::sync::Mutex::new(None),
            secret_manager: OnceLock::new(),
            iam: OnceLock::new(),
            wif: OnceLock::new(),
            cloud_run: OnceLock::new(),
            monitoring: OnceLock::new(),
            memory: OnceLock::new(),
            firestore_emulator: None,
            firestore: std::sync::Mutex::new(None),
        }
    }

    /// These services with Firestore at the emulator on `host` (`127.0.0.1:PORT`), as
    /// `--emulate` starts it.
    pub fn with_firestore_emulator(mut self, host: String) -> Self {
        self.firestore_emulator = Some(host);
        self
    }

    /// The Firestore client, built on first use: the emulator `--emulate` started, else
    /// `FIRESTORE_EMULATOR_HOST`, else `[gcp].firestore_url` or Google's with the run's
    /// credentials. One per process: gRPC multiplexes every call on its connection, which the
    /// client's own runtime drives (`Firestore::open`, so a call crosses no thread). A failed
    /// connection is not kept: the next call tries again (memory degrades, then recovers).
    pub fn firestore(
        &self,
        config: &Config,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Arc<Firestore>, String> {
        let mut client = self.firestore.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = client.as_ref() {
            return Ok(Arc::clone(client));
        }
        let settings = self.firestore_settings(config)?;
        let connected = Firestore::open(
            &settings,
            RetryPolicy::from_limits(&config.limits),
            cancelled,
        )
        .map(Arc::new)
        .map_err(|e| e.to_string())?;
        *client = Some(Arc::clone(&connected));
        Ok(connected)
    }

    /// What the Firestore memory backend calls for its client: [`Self::firestore`] of these
    /// services (held weakly: the memory they keep holds this, and must not keep them alive).
    pub fn firestore_connector(
        self: &Arc<Self>,
        config: Arc<Config>,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> crate::memory::FirestoreConnector {
        let services = Arc::downgrade(self);
        Arc::new(move || {
            services
                .upgrade()
                .ok_or_else(|| "the run that opened memory has ended".to_owned())?
                .firestore(&config, Arc::clone(&cancelled))
        })
    }

    /// Which Firestore database, and where.
    pub fn firestore_settings(&self, config: &Config) -> Result<FirestoreSettings, String> {
        let project = self
            .default_project(config)
            .ok_or("no project for Firestore: set [gcp].project in orchestra.toml")?;
        let database = config
            .gcp
            .firestore_database
            .clone()
            .unwrap_or_else(|| "(default)".to_owned());
        let emulator = self.firestore_emulator.clone().or_else(|| {
            std::env::var("FIRESTORE_EMULATOR_HOST")
                .ok()
                .filter(|h| !h.is_empty())
        });
        let endpoint = match emulator {
            Some(host) => FirestoreEndpoint::Emulator(host),
            None => {
                let (url, credentials) =
                    self.google_endpoint(config, config.gcp.firestore_url.clone())?;
                FirestoreEndpoint::Remote { url, credentials }
            }
        };
        Ok(FirestoreSettings {
            project,
            database,
            endpoint,
        })
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
        let pacer = self.google_pacer(config);
        self.google_client(
            &self.secret_manager,
            config,
            config.gcp.secret_manager_url.clone(),
            |endpoint, credentials, policy| {
                runtime.block_on(SecretManager::new(
                    endpoint,
                    credentials,
                    policy,
                    cancelled,
                    pacer,
                ))
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
        let pacer = self.google_pacer(config);
        self.google_client(
            &self.iam,
            config,
            config.gcp.iam_url.clone(),
            |endpoint, credentials, policy| {
                runtime.block_on(IamKeys::new(
                    endpoint,
                    credentials,
                    policy,
                    cancelled,
                    pacer,
                ))
            },
        )
    }

    /// The Workload Identity client (pools, policies, Service Usage, the token exchange), built
    /// on first use: every API at the emulator under `--emulate`, else Google's or the
    /// `[gcp]` overrides.
    pub fn wif(
        &self,
        config: &Config,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Arc<WifClient>, String> {
        let pacer = self.google_pacer(config);
        let endpoints = match &self.endpoints {
            Endpoints::Emulated { base_url, .. } => WifEndpoints::all_at(base_url),
            Endpoints::Configured => {
                let google = WifEndpoints::google();
                let or = |configured: &Option<String>, default: String| {
                    configured
                        .as_deref()
                        .map_or(default, |url| url.trim_end_matches('/').to_owned())
                };
                let gcp = &config.gcp;
                WifEndpoints {
                    iam: or(&gcp.iam_url, google.iam),
                    resource_manager: or(&gcp.resource_manager_url, google.resource_manager),
                    service_usage: or(&gcp.service_usage_url, google.service_usage),
                    sts: or(&gcp.sts_url, google.sts),
                    iam_credentials: or(&gcp.iam_credentials_url, google.iam_credentials),
                    policy_analyzer: or(&gcp.policy_analyzer_url, google.policy_analyzer),
                }
            }
        };
        self.google_client(&self.wif, config, None, |_, credentials, policy| {
            WifClient::new(
                endpoints,
                credentials,
                crate::clients::google_calls::GoogleCalls::new("IAM", policy, cancelled, pacer),
            )
        })
    }

    /// The Cloud Run Admin client, built on first use (`[gcp].run_url`, Google's, or the
    /// emulator under `--emulate`).
    pub fn cloud_run(
        &self,
        config: &Config,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Arc<CloudRun>, String> {
        let pacer = self.google_pacer(config);
        self.google_client(
            &self.cloud_run,
            config,
            config.gcp.run_url.clone(),
            |endpoint, credentials, policy| {
                CloudRun::new(
                    endpoint.as_deref().unwrap_or(GOOGLE_RUN_URL),
                    credentials,
                    crate::clients::google_calls::GoogleCalls::new(
                        "Cloud Run",
                        policy,
                        cancelled,
                        pacer,
                    ),
                )
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

    /// The memory of this process (`[memory]`: its backend, cache and outbox), opened on first
    /// use by `open`; every run of the process shares its cache.
    pub fn memory(
        &self,
        open: impl FnOnce() -> Result<crate::memory::Memory, crate::memory::MemoryError>,
    ) -> Result<Arc<crate::memory::Memory>, String> {
        self.memory
            .get_or_init(|| open().map(Arc::new).map_err(|e| e.to_string()))
            .clone()
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

    /// The token URIs a key check may call: Google's and `[gcp].token_uris`, or the
    /// emulator's under `--emulate`.
    pub fn token_uris(&self, config: &Config) -> Vec<String> {
        match &self.endpoints {
            Endpoints::Emulated { base_url, .. } => vec![format!("{base_url}/token")],
            Endpoints::Configured => std::iter::once(GOOGLE_TOKEN_URI.to_owned())
                .chain(config.gcp.token_uris.iter().cloned())
                .collect(),
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

    /// The verifier of found credentials: this run's GitHub, token endpoints and IAM, and
    /// `[scan].slack_hooks_url` (each the emulator's under `--emulate`).
    pub fn scan_verifier(
        &self,
        config: &Config,
        key: Arc<FingerprintKey>,
        runtime: &tokio::runtime::Handle,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> crate::scan::verify::Verifier {
        crate::scan::verify::Verifier {
            github_api_url: self.github_api_url(config),
            token_uris: self.token_uris(config),
            slack_hooks_url: self
                .emulator_url()
                .map_or_else(|| config.scan.slack_hooks_url.clone(), str::to_owned),
            iam: self.iam(config, runtime, Arc::clone(&cancelled)),
            policy: RetryPolicy::from_limits(&config.limits),
            cancelled,
            key,
        }
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
        let (token, fresh_until) = match &self.endpoints {
            Endpoints::Emulated { github_token, .. } => {
                (Secret::new(github_token.clone().into_bytes(), key), None)
            }
            Endpoints::Configured => {
                let source = config.github.source()?;
                self.github_token(config, &source, key, runtime, Arc::clone(&cancelled))?
            }
        };
        let client = self.github_client(config, &token, cancelled)?;
        *cached = Some((Arc::clone(&client), fresh_until));
        Ok(client)
    }

    /// A token from `source`, and until when it may be used (installation tokens live an
    /// hour; one is used for at most 55 minutes).
    fn github_token(
        &self,
        config: &Config,
        source: &TokenSource,
        key: &FingerprintKey,
        runtime: &tokio::runtime::Handle,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<(Secret, Option<std::time::Instant>), String> {
        let from_secret_manager = |name: &str| -> Result<Secret, String> {
            let sm = self.secret_manager(config, runtime, Arc::clone(&cancelled))?;
            let (data, _) = runtime
                .block_on(sm.access(&format!("{name}/versions/latest")))
                .map_err(|e| format!("cannot read {name}: {e}"))?;
            Ok(Secret::new(data, key))
        };
        match source {
            TokenSource::App {
                app_id,
                installation_id,
                key_secret,
            } => {
                let app_key = from_secret_manager(key_secret)?;
                let policy = RetryPolicy::from_limits(&config.limits);
                let minted = runtime
                    .block_on(crate::clients::github::mint_installation_token(
                        &self.github_api_url(config),
                        *app_id,
                        *installation_id,
                        &app_key,
                        crate::clients::github::Retrying {
                            policy: &policy,
                            cancelled: &*cancelled,
                        },
                    ))
                    .map_err(|e| {
                        format!("cannot mint an installation token for app {app_id}: {e}")
                    })?;
                let fresh_until =
                    std::time::Instant::now() + std::time::Duration::from_secs(55 * 60);
                Ok((
                    Secret::new(minted.token.into_bytes(), key),
                    Some(fresh_until),
                ))
            }
            TokenSource::SecretManager(name) => Ok((from_secret_manager(name)?, None)),
            TokenSource::Env(name) => {
                let value = std::env::var_os(name).ok_or_else(|| {
                    format!(
                        "no GitHub credential: set {name} (or choose another variable with [github].token_env)"
                    )
                })?;
                Ok((Secret::new(value.into_encoded_bytes(), key), None))
            }
        }
    }

    /// GitHub's REST base URL: the emulator's under `--emulate`.
    fn github_api_url(&self, config: &Config) -> String {
        match &self.endpoints {
            Endpoints::Emulated { base_url, .. } => base_url.clone(),
            Endpoints::Configured => config.github.api_url.clone(),
        }
    }

    /// One client per watched GitHub credential: the main one (`[github]`, named
    /// [`MAIN_CREDENTIAL`]) and each of `[[github.credentials]]`, with its kind (`token`,
    /// `app installation N`); a credential that cannot be had gives its reason instead.
    pub fn watched_github(
        &self,
        config: &Config,
        key: &FingerprintKey,
        runtime: &tokio::runtime::Handle,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Vec<WatchedCredential> {
        let main_kind = match &self.endpoints {
            Endpoints::Emulated { .. } => Ok("token".to_owned()),
            Endpoints::Configured => config.github.source().map(|s| s.kind()),
        };
        let mut watched = vec![WatchedCredential {
            name: MAIN_CREDENTIAL.to_owned(),
            kind: main_kind.clone().unwrap_or_else(|_| "token".to_owned()),
            client: main_kind
                .and_then(|_| self.github(config, key, runtime, Arc::clone(&cancelled))),
        }];
        // The first client's connection pool and TLS setup serve the others.
        let mut shared = watched[0].client.as_ref().ok().cloned();
        for named in &config.github.credentials {
            let source = named.source();
            let client = source.clone().and_then(|source| {
                let (token, _) =
                    self.github_token(config, &source, key, runtime, Arc::clone(&cancelled))?;
                match &shared {
                    Some(base) => base
                        .sharing(&token, format!("github:{}", token.fingerprint()))
                        .map(Arc::new)
                        .map_err(|e| e.to_string()),
                    None => self.github_client(config, &token, Arc::clone(&cancelled)),
                }
            });
            if shared.is_none() {
                shared = client.as_ref().ok().cloned();
            }
            watched.push(WatchedCredential {
                name: named.name.clone(),
                kind: source
                    .map(|s| s.kind())
                    .unwrap_or_else(|_| "token".to_owned()),
                client,
            });
        }
        watched
    }

    /// The one GitHub pacer of this run, from `[limits]`. `time_scale` applies only to a
    /// GitHub on a loopback address (the emulator): pacing a real GitHub on a short minute
    /// would burst into its limits.
    fn github_pacer(&self, config: &Config) -> Arc<GithubPacer> {
        let pacer = self.pacer.get_or_init(|| {
            let url = self.github_api_url(config);
            let scale = config.limits.time_scale;
            let scale = if scale != 1.0 && !is_loopback_url(&url) {
                tracing::warn!(
                    "limits.time_scale = {scale} ignored: GitHub at {url} is not on a loopback address, so orchestra paces on the real minute"
                );
                1.0
            } else {
                scale
            };
            Arc::new(GithubPacer::new(PaceSettings::from_limits(
                &config.limits,
                scale,
            )))
        });
        Arc::clone(pacer)
    }

    /// The one Google pacer of this run (Secret Manager and IAM share it), from
    /// `[limits.google]`. `time_scale` applies only against the emulator or a Google endpoint
    /// on a loopback address.
    fn google_pacer(&self, config: &Config) -> Arc<GooglePacer> {
        let pacer = self.google_pacer.get_or_init(|| {
            let local = self.is_emulated()
                || [&config.gcp.secret_manager_url, &config.gcp.iam_url]
                    .into_iter()
                    .flatten()
                    .all(|url| is_loopback_url(url))
                    && (config.gcp.secret_manager_url.is_some() || config.gcp.iam_url.is_some());
            let scale = if local { config.limits.time_scale } else { 1.0 };
            Arc::new(GooglePacer::new(config.limits.google.clone(), scale))
        });
        Arc::clone(pacer)
    }

    fn github_client(
        &self,
        config: &Config,
        token: &Secret,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Arc<GithubClient>, String> {
        let budget_key = format!("github:{}", token.fingerprint());
        GithubClient::new(
            &self.github_api_url(config),
            token,
            Arc::clone(&self.budget),
            RetryPolicy::from_limits(&config.limits),
            cancelled,
        )
        .map(|client| {
            let scope = crate::clients::github::GithubScope::new(
                &config.scope.github_owners,
                &config.scope.github_repos,
            );
            Arc::new(
                client
                    .with_budget_key(budget_key)
                    .with_scope(scope)
                    .with_pacer(self.github_pacer(config)),
            )
        })
        .map_err(|e| e.to_string())
    }
}

/// Whether `url`'s host is 127.0.0.1, `::1` or `localhost`.
fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// One GitHub credential being watched.
pub struct WatchedCredential {
    /// Its name in reports and alerts.
    pub name: String,
    /// `token` or `app installation N`.
    pub kind: String,
    /// A client using it, or why there is none.
    pub client: Result<Arc<GithubClient>, String>,
}

#[cfg(test)]
mod tests {
    use super::is_loopback_url;

    #[test]
    fn only_loopback_hosts_take_a_time_scale() {
        assert!(is_loopback_url("http://127.0.0.1:8900"));
        assert!(is_loopback_url("http://localhost:8900/api/v3"));
        assert!(is_loopback_url("http://[::1]:80"));
        assert!(!is_loopback_url("https://api.github.com"));
        assert!(!is_loopback_url("https://github.acme.example/api/v3"));
        assert!(!is_loopback_url("http://127.0.0.1.example.com"));
    }
}
