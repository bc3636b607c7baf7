//! GitHub REST through octocrab: one client per credential, every request paced by the
//! credential's rate budget, retried by the shared policy, and answered as status, headers and
//! body so rate-limit headers are never lost. Knows nothing of Rhai.

mod apps;
mod batch;
mod conditional;
mod error;
mod names;
mod path;
mod scope;
mod seal;
mod variables;

use std::sync::Arc;
use std::time::Duration;

use octocrab::Octocrab;
use serde::Deserialize;
use serde_json::Value;

pub use apps::{
    InstallationToken, Retrying, TokenCheck, check_token, dispatch_path, mint_installation_token,
    revoke_installation_token,
};
pub use batch::put_secrets;
pub use conditional::{CachedAnswer, ConditionalCache};
pub use error::GithubError;
pub use names::{EnvironmentName, Login, NameError, RepoName, RepoSlug, SecretName, Workflow};
pub use path::ApiPath;
pub use scope::{Addressed, GithubScope, PathRefused, SecretScope, addressed, repo_path};
pub use seal::seal_for_github;
pub use variables::{Variable, VariableWrite, variables_path};

use super::budget::{Pace, RateBudget};
use super::pacing::GithubPacer;
use super::retry::{self, RetryError, RetryPolicy};
use crate::secret::Secret;

/// A response: status, headers and body text.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// Body text (JSON for GitHub).
    pub body: String,
}

impl Answer {
    fn json<T: for<'de> Deserialize<'de>>(&self, what: &str) -> Result<T, GithubError> {
        serde_json::from_str(&self.body).map_err(|e| GithubError::Malformed(format!("{what}: {e}")))
    }
}

/// Whether a request may be sent twice without changing the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotent {
    /// GET, PUT of the same value, DELETE.
    Yes,
    /// POST that creates something (a token, a dispatch).
    No,
}

/// A GitHub client for one credential.
pub struct GithubClient {
    octocrab: Octocrab,
    base_url: String,
    credential: String,
    budget: Arc<RateBudget>,
    policy: RetryPolicy,
    cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    scope: Option<Arc<GithubScope>>,
    pacer: Option<Arc<GithubPacer>>,
    conditional: Arc<std::sync::OnceLock<Arc<dyn ConditionalCache>>>,
}

/// The repository public key that secrets are sealed to.
#[derive(Debug, Clone, Deserialize)]
pub struct PublicKey {
    /// The key's id, sent back with each secret.
    pub key_id: String,
    /// The X25519 public key, standard base64.
    pub key: String,
}

/// An Actions secret's metadata (GitHub never returns values).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct SecretMeta {
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created_at: String,
    /// When it was last updated.
    pub updated_at: String,
}

/// Whether a PUT created or replaced a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// 201: a new secret.
    Created,
    /// 204: an existing one replaced.
    Updated,
}

/// A credential as header text; anything else is refused with a fixed message before an HTTP
/// client sees it (octocrab panics on a header value it cannot encode).
pub(crate) fn token_text(token: &Secret) -> Result<String, GithubError> {
    crate::secret::shape::header_token(token, TOKEN_SHAPE)
        .map(|text| text.as_str().to_owned())
        .map_err(|e| GithubError::Config(e.to_string()))
}

/// What a GitHub credential must look like.
const TOKEN_SHAPE: &str = "a GitHub token (visible ASCII characters, no spaces or line breaks)";

impl GithubClient {
    /// A client for `base_url` (e.g. `https://api.github.com`, a GitHub Enterprise `/api/v3`
    /// URL, or the emulator) authenticated with `token`.
    pub fn new(
        base_url: &str,
        token: &Secret,
        budget: Arc<RateBudget>,
        policy: RetryPolicy,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Self, GithubError> {
        let token = token_text(token)?;
        let octocrab = Octocrab::builder()
            .base_uri(base_url)
            .map_err(|e| GithubError::Config(format!("bad GitHub URL {base_url}: {e}")))?
            .personal_token(token)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| GithubError::Config(format!("cannot build the GitHub client: {e}")))?;
        Ok(Self {
            octocrab,
            base_url: base_url.to_owned(),
            credential: format!("github:{}", base_url),
            budget,
            policy,
            cancelled,
            scope: None,
            pacer: None,
            conditional: Arc::default(),
        })
    }

    /// A client for `token` that shares this one's connection pool and TLS setup (building a
    /// client loads the trust store, milliseconds of CPU each), its budget and retry policy;
    /// its budget is keyed by `budget_key`.
    pub fn sharing(&self, token: &Secret, budget_key: String) -> Result<Self, GithubError> {
        let token = token_text(token)?;
        let octocrab = self
            .octocrab
            .user_access_token(token)
            .map_err(|e| GithubError::Config(format!("cannot build the GitHub client: {e}")))?;
        Ok(Self {
            octocrab,
            base_url: self.base_url.clone(),
            credential: budget_key,
            budget: Arc::clone(&self.budget),
            policy: self.policy,
            cancelled: Arc::clone(&self.cancelled),
            scope: self.scope.clone(),
            pacer: self.pacer.clone(),
            conditional: Arc::default(),
        })
    }

    /// The REST base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Refuses every request whose path addresses a repository or organisation outside
    /// `scope` (the check runs on the path as sent, before the budget or the network).
    pub fn with_scope(mut self, scope: GithubScope) -> Self {
        self.scope = Some(Arc::new(scope));
        self
    }

    /// Paces every request under GitHub's secondary limits with `pacer` (shared by every client
    /// of the process; each credential has its own lane in it, keyed like the budget).
    pub fn with_pacer(mut self, pacer: Arc<GithubPacer>) -> Self {
        self.pacer = Some(pacer);
        self
    }

    /// Keeps GET answers in `cache` and sends their ETags back, so unchanged resources cost
    /// no rate limit (the first cache given wins; later calls change nothing).
    pub fn keep_answers_in(&self, cache: Arc<dyn ConditionalCache>) {
        let _ = self.conditional.set(cache);
    }

    /// Keys this client's budget by a credential fingerprint (never the credential itself).
    pub fn with_budget_key(mut self, key: String) -> Self {
        self.credential = key;
        self
    }

    /// Sends one request, paced by the budget and retried by the policy.
    pub async fn request(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&Value>,
        idempotent: Idempotent,
    ) -> Result<Answer, GithubError> {
        match &self.scope {
            Some(scope) => scope.check_path(path).map(|_| ()),
            None => addressed(path).map(|_| ()).map_err(|e| e.to_string()),
        }
        .map_err(GithubError::OutOfScope)?;
        let what = format!("GitHub {method} {path}");
        let cancelled = Arc::clone(&self.cancelled);
        let result = retry::with_retries(
            &self.policy,
            &what,
            || self.send_once(method.clone(), path, body),
            |e: &GithubError| e.retry(idempotent),
            move || cancelled(),
        )
        .await;
        result.map_err(|e| match e {
            RetryError::Failed { error, .. } => error,
            RetryError::WaitTooLong {
                error,
                wait,
                max_wait,
                reason,
            } => GithubError::WaitTooLong {
                status: error.status(),
                message: error.to_string(),
                wait,
                max_wait,
                reason,
            },
            RetryError::Cancelled { error } => GithubError::Cancelled(error.to_string()),
        })
    }

    async fn send_once(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, GithubError> {
        if let Pace::Wait(wait) = self.budget.before_request(&self.credential) {
            tracing::warn!(
                "GitHub quota for this credential is low: waiting {} before {method} {path}",
                humantime::format_duration(Duration::from_secs(wait.as_secs().max(1)))
            );
            let cancelled = Arc::clone(&self.cancelled);
            if !retry::sleep_unless_cancelled(wait, "GitHub quota low", &move || cancelled()).await
            {
                return Err(GithubError::Cancelled("waiting for GitHub quota".into()));
            }
        }
        // Held until the answer is in: the concurrency cap counts requests in flight.
        let _ticket = match &self.pacer {
            Some(pacer) => Some(
                pacer
                    .acquire(&self.credential, &method, path, &*self.cancelled)
                    .await
                    .map_err(|e| GithubError::Cancelled(e.to_string()))?,
            ),
            None => None,
        };
        let cached = match (&method, self.conditional.get()) {
            (&http::Method::GET, Some(cache)) if conditional::is_cacheable(path) => {
                cache.cached(&self.credential, path)
            }
            _ => None,
        };
        let response = match method {
            http::Method::GET => {
                let headers = cached.as_ref().and_then(|c| {
                    let value = http::HeaderValue::from_str(&c.etag).ok()?;
                    Some(http::HeaderMap::from_iter([(
                        http::header::IF_NONE_MATCH,
                        value,
                    )]))
                });
                self.octocrab._get_with_headers(path, headers).await
            }
            http::Method::PUT => self.octocrab._put(path, body).await,
            http::Method::POST => self.octocrab._post(path, body).await,
            http::Method::PATCH => self.octocrab._patch(path, body).await,
            http::Method::DELETE => self.octocrab._delete(path, body).await,
            other => return Err(GithubError::Config(format!("unsupported method {other}"))),
        }
        .map_err(|e| GithubError::Transport(error::describe_octocrab(&e)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.observe(&headers);
        let body = self
            .octocrab
            .body_to_string(response)
            .await
            .map_err(|e| GithubError::Transport(error::describe_octocrab(&e)))?;
        let answer = match cached {
            Some(copy) if status == 304 => {
                tracing::debug!("GitHub GET {path}: not modified, answered from the kept copy");
                Answer {
                    status: 200,
                    headers,
                    body: copy.body,
                }
            }
            _ => Answer {
                status,
                headers,
                body,
            },
        };
        if method == http::Method::GET
            && answer.status == 200
            && answer.body.len() <= conditional::MAX_BODY
            && conditional::is_cacheable(path)
            && let Some(cache) = self.conditional.get()
            && let Some(etag) = answer.headers.get(http::header::ETAG)
            && let Ok(etag) = etag.to_str()
            && status != 304
        {
            cache.keep(
                &self.credential,
                path,
                &CachedAnswer {
                    etag: etag.to_owned(),
                    body: answer.body.clone(),
                },
            );
        }
        error::checked(answer)
    }

    fn observe(&self, headers: &http::HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        if let (Some(limit), Some(remaining), Some(reset)) = (
            number("x-ratelimit-limit"),
            number("x-ratelimit-remaining"),
            number("x-ratelimit-reset"),
        ) {
            self.budget.observe(
                &self.credential,
                u32::try_from(limit).unwrap_or(u32::MAX),
                u32::try_from(remaining).unwrap_or(u32::MAX),
                reset,
            );
        }
    }

    /// `GET /rate_limit`: every resource's limit, remaining, used and reset.
    pub async fn rate_limit(&self) -> Result<Value, GithubError> {
        let answer = self
            .request(http::Method::GET, "/rate_limit", None, Idempotent::Yes)
            .await?;
        answer.json("rate limit")
    }

    /// The public key secrets in `scope` are sealed to.
    pub async fn public_key(&self, scope: &SecretScope) -> Result<PublicKey, GithubError> {
        let path = scope.secrets_path().word("public-key");
        let answer = self
            .request(http::Method::GET, path.as_str(), None, Idempotent::Yes)
            .await?;
        answer.json("public key")
    }

    /// Seals `value` to `scope`'s public key and writes it as secret `name`.
    pub async fn put_secret(
        &self,
        scope: &SecretScope,
        name: &SecretName,
        value: &Secret,
    ) -> Result<PutOutcome, GithubError> {
        let key = self.public_key(scope).await?;
        self.put_sealed(scope, name, &key, value).await
    }

    /// Writes secret `name`, sealed to `key` (fetched once by batch callers).
    pub async fn put_sealed(
        &self,
        scope: &SecretScope,
        name: &SecretName,
        key: &PublicKey,
        value: &Secret,
    ) -> Result<PutOutcome, GithubError> {
        let encrypted_value = seal_for_github(&key.key, value.expose_for_request())?;
        let mut body = serde_json::json!({
            "encrypted_value": encrypted_value,
            "key_id": key.key_id,
        });
        if let Some(visibility) = scope.visibility() {
            body["visibility"] = Value::String(visibility.to_owned());
        }
        let path = scope.secrets_path().name(name.as_str());
        let answer = self
            .request(
                http::Method::PUT,
                path.as_str(),
                Some(&body),
                Idempotent::Yes,
            )
            .await?;
        Ok(if answer.status == 201 {
            PutOutcome::Created
        } else {
            PutOutcome::Updated
        })
    }

    /// Every secret's metadata in `scope`, following pagination.
    pub async fn list_secrets(&self, scope: &SecretScope) -> Result<Vec<SecretMeta>, GithubError> {
        #[derive(Deserialize)]
        struct Page {
            total_count: usize,
            secrets: Vec<SecretMeta>,
        }
        let mut all = Vec::new();
        for page in 1..=100 {
            let path = scope
                .secrets_path()
                .with_query(&[("per_page", "100".into()), ("page", page.to_string())]);
            let answer = self
                .request(http::Method::GET, &path, None, Idempotent::Yes)
                .await?;
            let batch: Page = answer.json("secret list")?;
            let done =
                batch.secrets.is_empty() || all.len() + batch.secrets.len() >= batch.total_count;
            all.extend(batch.secrets);
            if done {
                break;
            }
        }
        Ok(all)
    }

    /// Deletes secret `name` from `scope`; false if it did not exist.
    pub async fn delete_secret(
        &self,
        scope: &SecretScope,
        name: &SecretName,
    ) -> Result<bool, GithubError> {
        self.delete_if_present(&scope.secrets_path().name(name.as_str()))
            .await
    }

    /// DELETEs `path`; false when there was nothing there (404).
    pub(crate) async fn delete_if_present(&self, path: &ApiPath) -> Result<bool, GithubError> {
        match self
            .request(http::Method::DELETE, path.as_str(), None, Idempotent::Yes)
            .await
        {
            Ok(_) => Ok(true),
            Err(GithubError::Api { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod wire_tests;
