//! Workload Identity Federation over plain REST (no Rust client exists for the pool API):
//! pools and providers (get, create, undelete, list, their long-running operations polled to
//! done), the project number from Resource Manager, service-account and project IAM policies
//! read and written under their etag, Service Usage (list enabled, enable), and the token
//! exchange a workflow makes (`exchange`). reqwest with google-cloud-auth credentials, every
//! call through [`GoogleCalls`] (the shared pacing and retry policy). Knows nothing of Rhai.

mod exchange;
mod pools;
mod projects;
mod wire;

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use exchange::{ExchangeRequest, IdTokenSource, exchange, id_token};
pub use wire::{Binding, Oidc, Policy, Pool, Provider, ProviderSpec};

use super::google_calls::GoogleCalls;
use super::google_error::GoogleError;
use super::google_pacing::Call;
use super::google_rest::{GoogleRest, RestCall};
pub(crate) use super::google_rest::{get, post};
use super::http::encode_component as enc;
use wire::{Operation, code_name};

/// Where each API is; Google's by default, all at one base URL for the emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WifEndpoints {
    /// IAM (pools, providers, service-account policies).
    pub iam: String,
    /// Cloud Resource Manager (project number, project policy).
    pub resource_manager: String,
    /// Service Usage.
    pub service_usage: String,
    /// Security Token Service.
    pub sts: String,
    /// IAM Service Account Credentials.
    pub iam_credentials: String,
    /// Policy Analyzer (keys' last authentication).
    pub policy_analyzer: String,
}

impl WifEndpoints {
    /// Google's endpoints.
    pub fn google() -> Self {
        Self {
            iam: "https://iam.googleapis.com".into(),
            resource_manager: "https://cloudresourcemanager.googleapis.com".into(),
            service_usage: "https://serviceusage.googleapis.com".into(),
            sts: "https://sts.googleapis.com".into(),
            iam_credentials: "https://iamcredentials.googleapis.com".into(),
            policy_analyzer: "https://policyanalyzer.googleapis.com".into(),
        }
    }

    /// Every API at `base` (the emulator).
    pub fn all_at(base: &str) -> Self {
        let base = base.trim_end_matches('/').to_owned();
        Self {
            iam: base.clone(),
            resource_manager: base.clone(),
            service_usage: base.clone(),
            sts: base.clone(),
            iam_credentials: base.clone(),
            policy_analyzer: base,
        }
    }
}

/// A pool or provider as a GET finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found<T> {
    /// It exists and is active.
    Active(T),
    /// It was soft-deleted (undeletable; its id cannot be reused until then).
    Deleted(T),
    /// There is none.
    Missing,
}

/// The longest an operation is polled before orchestra gives up on it.
const OPERATION_DEADLINE: Duration = Duration::from_secs(600);

const IAM: &str = "IAM";
const RESOURCE_MANAGER: &str = "Resource Manager";
const SERVICE_USAGE: &str = "Service Usage";
const POLICY_ANALYZER: &str = "Policy Analyzer";

/// The Workload Identity client of a run.
pub struct WifClient {
    endpoints: WifEndpoints,
    rest: GoogleRest,
}

/// A service-account email as one path segment: encoded, but with its `@` kept (a valid path
/// character, and how Google's own clients send it).
pub(crate) fn account_segment(email: &str) -> String {
    enc(email).replace("%40", "@")
}

fn pools_url(base: &str, project: &str) -> String {
    format!(
        "{base}/v1/projects/{}/locations/global/workloadIdentityPools",
        enc(project)
    )
}

impl WifClient {
    /// A client for `endpoints` with `credentials`, its calls made through `calls`.
    pub fn new(
        endpoints: WifEndpoints,
        credentials: google_cloud_auth::credentials::Credentials,
        calls: GoogleCalls,
    ) -> Result<Self, String> {
        Ok(Self {
            endpoints,
            rest: GoogleRest::new(credentials, calls, Duration::from_secs(60))?,
        })
    }

    /// The endpoints this client calls.
    pub fn endpoints(&self) -> &WifEndpoints {
        &self.endpoints
    }

    /// The HTTP client (no redirects followed), for the token exchange.
    pub fn http(&self) -> &reqwest::Client {
        self.rest.http()
    }

    /// The calls' retry policy and cancellation.
    pub fn calls(&self) -> &GoogleCalls {
        self.rest.calls()
    }

    /// One call under the shared pacing and retry policy, its answer parsed as `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        service: &'static str,
        what: &str,
        idempotent: bool,
        pacing: Call<'_>,
        request: RestCall<'_>,
    ) -> Result<T, GoogleError> {
        self.rest
            .call(service, what, idempotent, pacing, request)
            .await
    }

    /// Polls `operation` (at `base`) until it is done; its `response`.
    async fn finished(&self, base: &str, mut operation: Operation) -> Result<Value, GoogleError> {
        let started = tokio::time::Instant::now();
        let mut wait = Duration::from_millis(100);
        while !operation.done {
            if started.elapsed() > OPERATION_DEADLINE {
                return Err(GoogleError {
                    service: IAM,
                    code: "DEADLINE_EXCEEDED".into(),
                    http_status: None,
                    message: format!(
                        "operation {} not done after {}",
                        operation.name,
                        humantime::format_duration(OPERATION_DEADLINE)
                    ),
                });
            }
            if operation.name.is_empty() {
                return Err(GoogleError::internal(
                    IAM,
                    "an unfinished operation came without a name to poll".into(),
                ));
            }
            // The operation name is Google's own resource path: its segments are sent as given.
            let url = format!("{base}/v1/{}", operation.name);
            operation = self
                .call(
                    IAM,
                    &format!("poll {}", operation.name),
                    true,
                    Call::Unmetered,
                    get(&url),
                )
                .await?;
            if !operation.done {
                let cancelled = self.calls().cancelled().clone();
                if !super::retry::sleep_unless_cancelled(
                    wait,
                    "a long-running operation",
                    &move || cancelled(),
                )
                .await
                {
                    return Err(GoogleError::internal(
                        IAM,
                        "cancelled while polling an operation".into(),
                    ));
                }
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
        match operation.error {
            Some(error) => Err(GoogleError {
                service: IAM,
                code: code_name(error.code).into(),
                http_status: None,
                message: error.message,
            }),
            None => Ok(operation.response.unwrap_or_default()),
        }
    }

    async fn found<T: DeserializeOwned>(
        &self,
        what: &str,
        project: &str,
        url: &str,
        state_of: impl Fn(&T) -> &str,
    ) -> Result<Found<T>, GoogleError> {
        let project = format!("projects/{project}");
        match self
            .call::<T>(IAM, what, true, Call::IamRead(&project), get(url))
            .await
        {
            Ok(item) if state_of(&item) == "DELETED" => Ok(Found::Deleted(item)),
            Ok(item) => Ok(Found::Active(item)),
            Err(e) if e.code == "NOT_FOUND" => Ok(Found::Missing),
            Err(e) => Err(e),
        }
    }

    /// A mutation on a pool or provider: the call, then its operation polled to done, then
    /// the resource read back as `T`.
    async fn changed<T: DeserializeOwned>(
        &self,
        what: &str,
        project: &str,
        url: &str,
        body: Value,
    ) -> Result<T, GoogleError> {
        let name = format!("projects/{project}");
        let operation: Operation = self
            .call(IAM, what, false, Call::IamWrite(&name), post(url, body))
            .await?;
        let response = self.finished(&self.endpoints.iam, operation).await?;
        serde_json::from_value(response).map_err(|e| {
            GoogleError::internal(IAM, format!("the result of '{what}' is malformed: {e}"))
        })
    }

    /// Every page of the list at `base` (a URL with or without a query): `take` keeps a page's
    /// items and gives its next page token (empty at the end).
    async fn every_page<P: DeserializeOwned, T>(
        &self,
        (service, what, pacing): (&'static str, &str, Call<'_>),
        base: &str,
        take: impl Fn(P, &mut Vec<T>) -> String,
    ) -> Result<Vec<T>, GoogleError> {
        let separator = if base.contains('?') { '&' } else { '?' };
        let mut all = Vec::new();
        let mut token = String::new();
        loop {
            let url = if token.is_empty() {
                base.to_owned()
            } else {
                format!("{base}{separator}pageToken={}", enc(&token))
            };
            let page: P = self.call(service, what, true, pacing, get(&url)).await?;
            token = take(page, &mut all);
            if token.is_empty() {
                return Ok(all);
            }
        }
    }
}

#[cfg(test)]
mod tests;
