//! Slack incoming webhooks, and plain JSON posts, over reqwest: a non-2xx answer becomes an
//! error carrying the status and the body (Slack answers in plain text: `invalid_payload`,
//! `no_service`, …), and a `429 Retry-After` is waited out through the shared retry policy.
//! Knows nothing of Rhai.

use std::sync::Arc;
use std::time::Duration;

use super::retry::{self, Retry, RetryError, RetryPolicy};
use crate::secret::Secret;

/// A post that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{service} answered {status}: {body}")]
pub struct SlackError {
    /// Who answered (`Slack`, or the host of a plain post).
    pub service: &'static str,
    /// HTTP status (0: no answer).
    pub status: u16,
    /// The answer's text, or the transport error.
    pub body: String,
    retry_after: Option<u64>,
}

/// One POST of `payload` to `url`; the status of a 2xx answer.
async fn send_once(
    http: &reqwest::Client,
    service: &'static str,
    url: &str,
    payload: &serde_json::Value,
) -> Result<u16, SlackError> {
    let response = http
        .post(url)
        .json(payload)
        .send()
        .await
        .map_err(|e| SlackError {
            service,
            status: 0,
            // reqwest errors quote the URL, and a webhook's path is its secret.
            body: format!("no answer ({})", e.without_url()),
            retry_after: None,
        })?;
    let status = response.status().as_u16();
    let retry_after = retry::retry_after_secs(response.headers());
    if (200..300).contains(&status) {
        return Ok(status);
    }
    let body = response.text().await.unwrap_or_default();
    Err(SlackError {
        service,
        status,
        body: body.chars().take(200).collect(),
        retry_after,
    })
}

fn waited_out(error: &SlackError) -> Option<Retry> {
    match (error.status, error.retry_after) {
        (429, Some(seconds)) => Some(Retry::After {
            wait: Duration::from_secs(seconds),
            reason: format!("{} asked to wait (Retry-After)", error.service),
        }),
        _ => None,
    }
}

/// Posts `payload` (JSON with `text` and/or `blocks`) to the webhook URL in `webhook`. Slack
/// has not taken a message it did not answer 200 to, so 5xx and no answer are retried too.
pub async fn post(
    webhook: &Secret,
    payload: &serde_json::Value,
    policy: &RetryPolicy,
    cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
) -> Result<(), SlackError> {
    let url = String::from_utf8_lossy(webhook.expose_for_request()).into_owned();
    let http = reqwest::Client::new();
    retry::with_retries(
        policy,
        "Slack webhook",
        || send_once(&http, "Slack", &url, payload),
        |e: &SlackError| {
            waited_out(e).unwrap_or(match e.status {
                0 | 429 | 500..=599 => Retry::Backoff,
                _ => Retry::No,
            })
        },
        move || cancelled(),
    )
    .await
    .map(|_| ())
    .map_err(RetryError::into_inner)
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
    retry::with_retries(
        policy,
        "HTTP POST",
        || send_once(&http, "the server", url, body),
        |e: &SlackError| waited_out(e).unwrap_or(Retry::No),
        move || cancelled(),
    )
    .await
    .map_err(RetryError::into_inner)
}
