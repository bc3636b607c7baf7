//! Secret Manager through Google's official `google-cloud-secretmanager-v1` client, with the
//! shared retry policy in place of the client's own. Knows nothing of Rhai.

use std::sync::Arc;

use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model::{
    Replication, Secret as SmSecret, SecretPayload, replication::Automatic, secret_version::State,
};

use super::google_calls::GoogleCalls;
use super::google_error::GoogleError;
use super::google_pacing::{Call, GooglePacer};
use super::retry::RetryPolicy;

/// A Secret Manager call that failed.
pub type SecretManagerError = GoogleError;

const SERVICE: &str = "Secret Manager";

/// Read-modify-write rounds an alias update makes before an etag conflict is final.
const MAX_ETAG_CONFLICTS: u32 = 5;

/// A version's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// The version number.
    pub number: i64,
    /// `ENABLED`, `DISABLED` or `DESTROYED`.
    pub state: String,
    /// RFC 3339.
    pub create_time: String,
}

/// A secret's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretInfo {
    /// Labels.
    pub labels: Vec<(String, String)>,
    /// Aliases to version numbers.
    pub aliases: Vec<(String, i64)>,
    /// The etag of the secret as read (for a guarded update).
    pub etag: String,
}

/// A secret as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSecret {
    /// The secret id (the last part of its name).
    pub id: String,
    /// Its labels and aliases.
    pub info: SecretInfo,
}

/// The Secret Manager client of a run.
pub struct SecretManager {
    client: SecretManagerService,
    calls: GoogleCalls,
}

/// `projects/{project}` for a bare project id; a full parent as given.
fn parent_of(project: &str) -> String {
    if project.starts_with("projects/") {
        project.to_owned()
    } else {
        format!("projects/{project}")
    }
}

fn version_number(name: &str) -> i64 {
    name.rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

impl SecretManager {
    /// A client for `endpoint` (None: Google's) with `credentials`.
    pub async fn new(
        endpoint: Option<String>,
        credentials: google_cloud_auth::credentials::Credentials,
        policy: RetryPolicy,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
        pacer: Arc<GooglePacer>,
    ) -> Result<Self, String> {
        let mut builder = super::google_redirects::never_followed(
            SecretManagerService::builder()
                .with_credentials(credentials)
                .with_retry_policy(google_cloud_gax::retry_policy::NeverRetry),
        );
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let client = builder
            .build()
            .await
            .map_err(|e| format!("cannot build the Secret Manager client: {e}"))?;
        Ok(Self {
            client,
            calls: GoogleCalls::new(SERVICE, policy, cancelled, pacer),
        })
    }

    /// The payload of `version_name` (`projects/p/secrets/s/versions/v`) and the concrete
    /// version number it resolved to.
    pub async fn access(&self, version_name: &str) -> Result<(Vec<u8>, i64), SecretManagerError> {
        self.calls
            .retried(
                &format!("access {version_name}"),
                true,
                Call::SecretAccess(version_name),
                || async {
                    let response = self
                        .client
                        .access_secret_version()
                        .set_name(version_name)
                        .send()
                        .await
                        .map_err(|e| GoogleError::from_gax(SERVICE, &e))?;
                    let data = response
                        .payload
                        .map(|p| p.data.to_vec())
                        .unwrap_or_default();
                    Ok((data, version_number(&response.name)))
                },
            )
            .await
    }

    /// Reads every version in `version_names` (`projects/p/secrets/s/versions/latest`, or an
    /// alias or number) concurrently (at most `concurrency` in flight): the payload and the
    /// version number it resolved to, in the order given.
    pub async fn access_many(
        self: &Arc<Self>,
        version_names: Vec<String>,
        concurrency: usize,
        on_done: Arc<dyn Fn() + Send + Sync>,
    ) -> Vec<(String, Result<(Vec<u8>, i64), SecretManagerError>)> {
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, name) in version_names.into_iter().enumerate() {
            let (client, permits, on_done) =
                (Arc::clone(self), Arc::clone(&permits), Arc::clone(&on_done));
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let outcome = client.access(&name).await;
                on_done();
                (index, name, outcome)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(result) => results.push(result),
                Err(e) => results.push((
                    usize::MAX,
                    String::new(),
                    Err(GoogleError::internal(
                        SERVICE,
                        format!("a batch task failed: {e}"),
                    )),
                )),
            }
        }
        results.sort_by_key(|(index, _, _)| *index);
        results
            .into_iter()
            .map(|(_, name, outcome)| (name, outcome))
            .collect()
    }

    /// The secrets of `project` (an id, or a parent `projects/P[/locations/L]` for regional
    /// ones) with ids, labels and aliases, following pages; `filter` as Secret Manager takes it
    /// (`labels.managed-by=orchestra`), empty for all.
    pub async fn list(
        &self,
        project: &str,
        filter: &str,
    ) -> Result<Vec<ListedSecret>, SecretManagerError> {
        self.calls
            .retried(
                &format!("list secrets of {project}"),
                true,
                Call::SecretRead(project),
                || async {
                    let mut all = Vec::new();
                    let mut token = String::new();
                    loop {
                        let page = self
                            .client
                            .list_secrets()
                            .set_parent(parent_of(project))
                            .set_filter(filter)
                            .set_page_token(token.clone())
                            .send()
                            .await
                            .map_err(|e| GoogleError::from_gax(SERVICE, &e))?;
                        all.extend(page.secrets.into_iter().map(|s| ListedSecret {
                            id: s.name.rsplit('/').next().unwrap_or_default().to_owned(),
                            info: SecretInfo {
                                labels: s.labels.into_iter().collect(),
                                aliases: s.version_aliases.into_iter().collect(),
                                etag: s.etag,
                            },
                        }));
                        if page.next_page_token.is_empty() {
                            break;
                        }
                        token = page.next_page_token;
                    }
                    Ok(all)
                },
            )
            .await
    }

    /// Creates secret `secret_id` in `project` (an id, or a parent `projects/P[/locations/L]`)
    /// with `labels`: automatic replication for a global secret, none for a regional one
    /// (it lives in its location).
    pub async fn create(
        &self,
        project: &str,
        secret_id: &str,
        labels: &[(String, String)],
    ) -> Result<(), SecretManagerError> {
        self.calls
            .retried(
                &format!("create {secret_id}"),
                false,
                Call::SecretWrite(project),
                || async {
                    self.client
                        .create_secret()
                        .set_parent(parent_of(project))
                        .set_secret_id(secret_id)
                        .set_secret(if project.contains("/locations/") {
                            SmSecret::new().set_labels(labels.iter().cloned())
                        } else {
                            SmSecret::new()
                                .set_replication(Replication::new().set_automatic(Automatic::new()))
                                .set_labels(labels.iter().cloned())
                        })
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| GoogleError::from_gax(SERVICE, &e))
                },
            )
            .await
    }

    /// Labels and aliases of `secret_name` (`projects/p/secrets/s`).
    pub async fn get(&self, secret_name: &str) -> Result<SecretInfo, SecretManagerError> {
        self.calls
            .retried(
                &format!("get {secret_name}"),
                true,
                Call::SecretRead(secret_name),
                || async {
                    let secret = self
                        .client
                        .get_secret()
                        .set_name(secret_name)
                        .send()
                        .await
                        .map_err(|e| GoogleError::from_gax(SERVICE, &e))?;
                    Ok(SecretInfo {
                        labels: secret.labels.into_iter().collect(),
                        aliases: secret.version_aliases.into_iter().collect(),
                        etag: secret.etag,
                    })
                },
            )
            .await
    }

    /// Adds a version with `data`; returns its number. Retried only when Secret Manager turned
    /// the request away (quota): a lost answer could leave a version behind, and a second one
    /// would be a second copy of the secret.
    pub async fn add_version(
        &self,
        secret_name: &str,
        data: &[u8],
    ) -> Result<i64, SecretManagerError> {
        let crc = crc32c::crc32c(data);
        let version = self
            .calls
            .retried(
                &format!("add a version to {secret_name}"),
                false,
                Call::SecretModify(secret_name),
                || async {
                    self.client
                        .add_secret_version()
                        .set_parent(secret_name)
                        .set_payload(
                            SecretPayload::new()
                                .set_data(bytes::Bytes::copy_from_slice(data))
                                .set_data_crc32c(i64::from(crc)),
                        )
                        .send()
                        .await
                        .map_err(|e| GoogleError::from_gax(SERVICE, &e))
                },
            )
            .await?;
        Ok(version_number(&version.name))
    }

    /// Points `alias` at `version` (keeping the other aliases). The update carries the etag
    /// of the read it is based on, so an alias another writer moved in between is not lost:
    /// on an etag conflict the secret is read again and the update redone.
    pub async fn set_alias(
        &self,
        secret_name: &str,
        alias: &str,
        version: i64,
    ) -> Result<(), SecretManagerError> {
        let mut conflicts = 0;
        loop {
            let info = self.get(secret_name).await?;
            let mut aliases = info.aliases;
            aliases.retain(|(a, _)| a != alias);
            aliases.push((alias.to_owned(), version));
            let outcome = self
                .calls
                .retried(
                    &format!("alias {secret_name}"),
                    true,
                    Call::SecretModify(secret_name),
                    || async {
                        self.client
                            .update_secret()
                            .set_secret(
                                SmSecret::new()
                                    .set_name(secret_name)
                                    .set_etag(info.etag.clone())
                                    .set_version_aliases(aliases.clone()),
                            )
                            .set_update_mask(
                                google_cloud_wkt::FieldMask::default()
                                    .set_paths(["version_aliases"]),
                            )
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|e| GoogleError::from_gax(SERVICE, &e))
                    },
                )
                .await;
            match outcome {
                Err(e) if e.is_etag_conflict() && conflicts < MAX_ETAG_CONFLICTS => {
                    conflicts += 1;
                    tracing::info!(
                        "{secret_name} changed while its aliases were being updated; reading it again"
                    );
                }
                other => return other,
            }
        }
    }

    /// Disables, enables or destroys `version_name`.
    pub async fn change_state(
        &self,
        version_name: &str,
        action: &str,
    ) -> Result<String, SecretManagerError> {
        self.calls
            .retried(
                &format!("{action} {version_name}"),
                true,
                Call::VersionChange(version_name),
                || async {
                    let result = match action {
                        "disable" => {
                            self.client
                                .disable_secret_version()
                                .set_name(version_name)
                                .send()
                                .await
                        }
                        "enable" => {
                            self.client
                                .enable_secret_version()
                                .set_name(version_name)
                                .send()
                                .await
                        }
                        _ => {
                            self.client
                                .destroy_secret_version()
                                .set_name(version_name)
                                .send()
                                .await
                        }
                    };
                    let version = result.map_err(|e| GoogleError::from_gax(SERVICE, &e))?;
                    Ok(state_name(&version.state))
                },
            )
            .await
    }

    /// Every version of `secret_name`, newest first.
    pub async fn versions(
        &self,
        secret_name: &str,
    ) -> Result<Vec<VersionInfo>, SecretManagerError> {
        self.calls
            .retried(
                &format!("list versions of {secret_name}"),
                true,
                Call::SecretRead(secret_name),
                || async {
                    let mut all = Vec::new();
                    let mut token = String::new();
                    loop {
                        let page = self
                            .client
                            .list_secret_versions()
                            .set_parent(secret_name)
                            .set_page_token(token.clone())
                            .send()
                            .await
                            .map_err(|e| GoogleError::from_gax(SERVICE, &e))?;
                        all.extend(page.versions.iter().map(|v| {
                            VersionInfo {
                                number: version_number(&v.name),
                                state: state_name(&v.state),
                                create_time: v
                                    .create_time
                                    .and_then(|t| chrono::DateTime::from_timestamp(t.seconds(), 0))
                                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                                    .unwrap_or_default(),
                            }
                        }));
                        if page.next_page_token.is_empty() {
                            break;
                        }
                        token = page.next_page_token;
                    }
                    Ok(all)
                },
            )
            .await
    }
}

fn state_name(state: &State) -> String {
    match state {
        State::Enabled => "ENABLED",
        State::Disabled => "DISABLED",
        State::Destroyed => "DESTROYED",
        _ => "UNKNOWN",
    }
    .to_owned()
}
