//! Vertex AI token counts from Cloud Monitoring (`projects.timeSeries.list`), over reqwest
//! with google-cloud-auth credentials and the shared retry policy: one GET per page, summed
//! per model and token type. Knows nothing of Rhai or prices.
//!
//! Google's generated `google-cloud-monitoring-v3` client was measured and not taken: it is the
//! whole Monitoring API (about 19 s of CPU to compile, three times Secret Manager's client, and
//! adding it changed shared features enough to rebuild octocrab and rhai) for this one GET.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

mod wire;

use super::retry::{self, Retry, RetryError, RetryPolicy};
use wire::{GoogleErrorBody, ListAnswer, model_name, tokens_of};

/// Google's Cloud Monitoring endpoint.
pub const GOOGLE_MONITORING_URL: &str = "https://monitoring.googleapis.com";
/// The metric Vertex AI counts tokens in (DELTA, INT64; metric label `type`).
pub const TOKEN_COUNT_METRIC: &str =
    "aiplatform.googleapis.com/publisher/online_serving/token_count";
const PUBLISHER_MODEL: &str = "aiplatform.googleapis.com/PublisherModel";
/// Series asked for per page.
const PAGE_SIZE: usize = 500;

/// Tokens one model used, by type, over an interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelTokens {
    /// Input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
}

/// A Cloud Monitoring call that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("Cloud Monitoring answered {code}: {message}")]
pub struct MonitoringError {
    /// Google's status name (`INVALID_ARGUMENT`, `PERMISSION_DENIED`, …), or `UNAVAILABLE`
    /// when there was no answer.
    pub code: String,
    /// The HTTP status, when there was an answer.
    pub http_status: Option<u16>,
    /// Google's message.
    pub message: String,
    retry_after: Option<Duration>,
}

impl MonitoringError {
    fn retry(&self) -> Retry {
        match (self.http_status, self.retry_after) {
            (Some(429 | 503), Some(wait)) => Retry::After {
                wait,
                reason: "Cloud Monitoring asked to wait (Retry-After)".into(),
            },
            (None | Some(429 | 500 | 502 | 503 | 504), _) => Retry::Backoff,
            _ => Retry::No,
        }
    }

    fn malformed(what: impl std::fmt::Display) -> Self {
        Self {
            code: "MALFORMED_ANSWER".into(),
            http_status: Some(200),
            message: format!("the answer is not a timeSeries list: {what}"),
            retry_after: None,
        }
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The Cloud Monitoring client of a run.
pub struct Monitoring {
    http: reqwest::Client,
    base_url: String,
    credentials: google_cloud_auth::credentials::Credentials,
    policy: RetryPolicy,
    cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    page_size: usize,
}

impl Monitoring {
    /// A client for `endpoint` (None: Google's) with `credentials`.
    pub fn new(
        endpoint: Option<String>,
        credentials: google_cloud_auth::credentials::Credentials,
        policy: RetryPolicy,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Self, String> {
        let http = crate::clients::http::client(Duration::from_secs(60))
            .map_err(|e| format!("cannot build the Cloud Monitoring client: {e}"))?;
        Ok(Self {
            http,
            base_url: endpoint
                .unwrap_or_else(|| GOOGLE_MONITORING_URL.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            credentials,
            policy,
            cancelled,
            page_size: PAGE_SIZE,
        })
    }

    /// The same client asking for `page_size` series per page (tests walk the pages).
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Tokens per model used in project `project` between `start` and `end`, every page read.
    pub async fn token_counts(
        &self,
        project: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, ModelTokens>, MonitoringError> {
        let url = format!(
            "{}/v3/projects/{}/timeSeries",
            self.base_url,
            crate::clients::http::encode_component(project)
        );
        // One alignment period over the whole interval: one summed point per series.
        let period = (end - start).num_seconds().max(60);
        let filter = format!(
            "metric.type = \"{TOKEN_COUNT_METRIC}\" AND resource.type = \"{PUBLISHER_MODEL}\""
        );
        let mut query: Vec<(&str, String)> = vec![
            ("filter", filter),
            ("interval.startTime", rfc3339(start)),
            ("interval.endTime", rfc3339(end)),
            ("aggregation.alignmentPeriod", format!("{period}s")),
            ("aggregation.perSeriesAligner", "ALIGN_SUM".into()),
            ("aggregation.crossSeriesReducer", "REDUCE_SUM".into()),
            (
                "aggregation.groupByFields",
                "resource.label.model_user_id".into(),
            ),
            ("aggregation.groupByFields", "metric.label.type".into()),
            ("pageSize", self.page_size.to_string()),
        ];
        let mut totals: BTreeMap<String, ModelTokens> = BTreeMap::new();
        let mut page_token = String::new();
        loop {
            query.retain(|(k, _)| *k != "pageToken");
            if !page_token.is_empty() {
                query.push(("pageToken", page_token.clone()));
            }
            let answer = self.page(&url, &query).await?;
            for series in &answer.time_series {
                let Some(model) = series.resource.labels.get("model_user_id") else {
                    continue;
                };
                let tokens = series
                    .points
                    .iter()
                    .map(tokens_of)
                    .sum::<Result<u64, _>>()?;
                let entry = totals.entry(model_name(model)).or_default();
                match series.metric.labels.get("type").map(String::as_str) {
                    Some("input") => entry.input += tokens,
                    Some("output") => entry.output += tokens,
                    _ => {}
                }
            }
            if answer.next_page_token.is_empty() {
                return Ok(totals);
            }
            page_token = answer.next_page_token;
        }
    }

    async fn page(
        &self,
        url: &str,
        query: &[(&str, String)],
    ) -> Result<ListAnswer, MonitoringError> {
        let cancelled = Arc::clone(&self.cancelled);
        retry::with_retries(
            &self.policy,
            "Cloud Monitoring timeSeries.list",
            || self.send(url, query),
            MonitoringError::retry,
            move || cancelled(),
        )
        .await
        .map_err(RetryError::into_inner)
    }

    async fn auth_headers(&self) -> Result<http::HeaderMap, MonitoringError> {
        use google_cloud_auth::credentials::CacheableResource;
        let unauthenticated = |message: String| MonitoringError {
            code: "UNAUTHENTICATED".into(),
            // Not the service failing: keep it off the service's breaker.
            http_status: Some(401),
            message,
            retry_after: None,
        };
        match self.credentials.headers(http::Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => Ok(data),
            Ok(CacheableResource::NotModified) => {
                Err(unauthenticated("the credentials gave no headers".into()))
            }
            Err(e) => Err(unauthenticated(format!("no Google credentials: {e}"))),
        }
    }

    async fn send(
        &self,
        url: &str,
        query: &[(&str, String)],
    ) -> Result<ListAnswer, MonitoringError> {
        let headers = self.auth_headers().await?;
        let response = self
            .http
            .get(url)
            .headers(headers)
            .query(query)
            .send()
            .await
            .map_err(|e| MonitoringError {
                code: "UNAVAILABLE".into(),
                http_status: None,
                message: format!("no answer ({})", e.without_url()),
                retry_after: None,
            })?;
        let status = response.status().as_u16();
        if let Some(refused) = crate::clients::http::redirect_refused(status, response.headers()) {
            return Err(MonitoringError {
                code: "FAILED_PRECONDITION".into(),
                http_status: Some(status),
                message: refused,
                retry_after: None,
            });
        }
        let retry_after = retry::retry_after_secs(response.headers()).map(Duration::from_secs);
        let body = response.bytes().await.map_err(|e| MonitoringError {
            code: "UNAVAILABLE".into(),
            http_status: Some(status),
            message: format!("the answer was cut off ({})", e.without_url()),
            retry_after: None,
        })?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(MonitoringError::malformed);
        }
        let (code, message) = match serde_json::from_slice::<GoogleErrorBody>(&body) {
            Ok(parsed) => (parsed.error.status, parsed.error.message),
            Err(_) => (
                format!("HTTP {status}"),
                String::from_utf8_lossy(&body).chars().take(200).collect(),
            ),
        };
        Err(MonitoringError {
            code,
            http_status: Some(status),
            message,
            retry_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_is_read_and_summed_per_model() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let emulator = orchestra_emulator::start(orchestra_emulator::EmulatorConfig::default())
                .await
                .unwrap();
            let push = |body: serde_json::Value| {
                let url = format!("{}/_emulator/monitoring/usage", emulator.base_url());
                async move {
                    let answer = reqwest::Client::new().post(url).json(&body).send().await;
                    assert_eq!(answer.unwrap().status(), 200);
                }
            };
            push(serde_json::json!({"clear": true})).await;
            for (model, kind, tokens) in [
                ("a", "input", 5),
                ("publishers/google/models/a", "input", 1),
                ("b", "output", 7),
                ("c", "input", 11),
                ("c", "output", 13),
            ] {
                push(
                    serde_json::json!({"model": model, "type": kind, "tokens": tokens,
                    "at": "2026-03-10T00:00:00Z"}),
                )
                .await;
            }
            let client = Monitoring::new(
                Some(emulator.monitoring_url()),
                google_cloud_auth::credentials::anonymous::Builder::new().build(),
                RetryPolicy::default(),
                Arc::new(|| false),
            )
            .unwrap()
            .with_page_size(2);
            let start = "2026-03-01T00:00:00Z".parse().unwrap();
            let end = "2026-03-20T00:00:00Z".parse().unwrap();
            let totals = client
                .token_counts("demo-project", start, end)
                .await
                .unwrap();
            let flat: Vec<(&str, u64, u64)> = totals
                .iter()
                .map(|(m, t)| (m.as_str(), t.input, t.output))
                .collect();
            assert_eq!(flat, [("a", 6, 0), ("b", 0, 7), ("c", 11, 13)]);
            let refused = client
                .token_counts("no-such-project", start, end)
                .await
                .unwrap_err();
            assert_eq!(refused.http_status, Some(404));
            assert_eq!(refused.code, "NOT_FOUND");
        });
    }
}
