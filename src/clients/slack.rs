//! Slack incoming webhooks (and plain JSON posts) over reqwest: Slack's plain-text answers turned into errors, its
//! `429 Retry-After` honoured through the shared retry policy. Knows nothing of Rhai.

use std::sync::Arc;
use std::time::Duration;

use super::retry::{self, Retry, RetryError, RetryPolicy};
use crate::engine::Secret;

/// A webhook post that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("Slack answered {status}: {body}")]
pub struct SlackError {
    /// HTTP status (0: no answer).
    pub status: u16,
    /// Slack's text (`invalid_payload`, `no_service`, …) or the transport error.
    pub body: String,
    retry_after: Option<u64>,
}

impl SlackError {
    fn retry(&self) -> Retry {
        match (self.status, self.retry_after) {
            (429, Some(seconds)) => Retry::After {
                wait: Duration::from_secs(seconds),
                reason: "Slack asked to wait (Retry-After)".into(),
            },
            (429, None) | (0, _) | (500..=599, _) => Retry::Backoff,
            _ => Retry::No,
        }
    }
}

/// Posts `payload` (JSON with `text` and/or `blocks`) to the webhook URL in `webhook`.
pub async fn post(
    webhook: &Secret,
    payload: &serde_json::Value,
    policy: &RetryPolicy,
    cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
) -> Result<(), SlackError> {
    let url = String::from_utf8_lossy(webhook.expose_for_request()).into_owned();
    let http = reqwest::Client::new();
    let result = retry::with_retries(
        policy,
        "Slack webhook",
        || async {
            let response = http
                .post(&url)
                .json(payload)
                .send()
                .await
                .map_err(|e| SlackError {
                    status: 0,
                    // reqwest errors quote the URL, which holds the webhook's secret path.
                    body: format!("no answer from Slack ({})", e.without_url()),
                    retry_after: None,
                })?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            let body = response.text().await.unwrap_or_default();
            if status == 200 {
                Ok(())
            } else {
                Err(SlackError {
                    status,
                    body: body.chars().take(200).collect(),
                    retry_after,
                })
            }
        },
        SlackError::retry,
        move || cancelled(),
    )
    .await;
    result.map_err(|e| match e {
        RetryError::Failed { error, .. }
        | RetryError::Cancelled { error }
        | RetryError::WaitTooLong { error, .. } => error,
    })
}

/// Posts JSON `body` to `url` (a host the caller checked against the scope); returns the
/// status. Only a 429 with `Retry-After` is retried: a POST may not be safe to send twice.
pub async fn post_json(
    url: &str,
    body: &serde_json::Value,
    policy: &RetryPolicy,
    cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
) -> Result<u16, SlackError> {
    let http = reqwest::Client::new();
    let result = retry::with_retries(
        policy,
        "HTTP POST",
        || async {
            let response = http
                .post(url)
                .json(body)
                .send()
                .await
                .map_err(|e| SlackError {
                    status: 0,
                    body: format!("no answer ({})", e.without_url()),
                    retry_after: None,
                })?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            if (200..300).contains(&status) {
                Ok(status)
            } else {
                Err(SlackError {
                    status,
                    body: response
                        .text()
                        .await
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect(),
                    retry_after,
                })
            }
        },
        |e: &SlackError| match (e.status, e.retry_after) {
            (429, Some(seconds)) => Retry::After {
                wait: Duration::from_secs(seconds),
                reason: "the server asked to wait (Retry-After)".into(),
            },
            _ => Retry::No,
        },
        move || cancelled(),
    )
    .await;
    result.map_err(|e| match e {
        RetryError::Failed { error, .. }
        | RetryError::Cancelled { error }
        | RetryError::WaitTooLong { error, .. } => error,
    })
}
