//! Slack incoming webhooks, and plain JSON posts, over reqwest that follows no redirect: a
//! non-2xx answer becomes an error carrying the status, and a `429 Retry-After` is waited out
//! through the shared retry policy. Knows nothing of Rhai.
//!
//! What a script sees of a failure is never derived from the body it sent nor from the
//! remote's echo of it: the body went out masked, so an echo would tell the script whether a
//! string it chose equals a held secret. A plain post reports only the status; a Slack post
//! adds Slack's error code only when it is one of Slack's documented codes.

use std::sync::Arc;
use std::time::Duration;

use super::http;
use super::retry::{self, Retry, RetryError, RetryPolicy};
use crate::secret::Secret;

/// The error codes Slack's incoming webhooks answer in plain text.
const SLACK_CODES: &[&str] = &[
    "invalid_payload",
    "invalid_token",
    "invalid_blocks",
    "invalid_blocks_format",
    "no_text",
    "no_service",
    "no_service_id",
    "no_team",
    "team_disabled",
    "user_not_found",
    "channel_not_found",
    "channel_is_archived",
    "action_prohibited",
    "posting_to_general_channel_denied",
    "too_many_attachments",
    "missing_text_or_fallback_or_attachments",
    "request_too_large",
    "rollup_error",
];

/// How long one post may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A post that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{service} answered {status}{}", detail_suffix(.detail))]
pub struct SlackError {
    /// Who answered (`Slack`, or the host of a plain post).
    pub service: String,
    /// HTTP status (0: no answer).
    pub status: u16,
    /// Slack's documented error code, a refused redirect, or the transport error; never text
    /// from the body sent or echoed.
    pub detail: String,
    retry_after: Option<u64>,
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// Which part of an error answer's body may be shown.
#[derive(Clone, Copy)]
enum Shown {
    /// Slack's code, when it is a documented one.
    SlackCode,
    /// Nothing but the status.
    StatusOnly,
}

/// A client that follows no redirects, for posts to `service`.
fn client_for(service: &str) -> Result<reqwest::Client, SlackError> {
    http::client(TIMEOUT).map_err(|detail| SlackError {
        service: service.to_owned(),
        status: 0,
        detail,
        retry_after: None,
    })
}

/// One POST of `payload` to `url`; the status of a 2xx answer.
async fn send_once(
    http: &reqwest::Client,
    service: &str,
    shown: Shown,
    url: &str,
    payload: &serde_json::Value,
) -> Result<u16, SlackError> {
    let failed = |status: u16, detail: String, retry_after: Option<u64>| SlackError {
        service: service.to_owned(),
        status,
        detail,
        retry_after,
    };
    let response = http.post(url).json(payload).send().await.map_err(|e| {
        // reqwest errors quote the URL, and a webhook's path is its secret.
        failed(0, format!("no answer ({})", e.without_url()), None)
    })?;
    let status = response.status().as_u16();
    let retry_after = retry::retry_after_secs(response.headers());
    if (200..300).contains(&status) {
        return Ok(status);
    }
    if let Some(refused) = http::redirect_refused(status, response.headers()) {
        return Err(failed(status, refused, None));
    }
    let detail = match shown {
        Shown::SlackCode => {
            let body = response.text().await.unwrap_or_default();
            SLACK_CODES
                .iter()
                .find(|code| **code == body.trim())
                .map(|code| (*code).to_owned())
                .unwrap_or_default()
        }
        Shown::StatusOnly => String::new(),
    };
    Err(failed(status, detail, retry_after))
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
    let client = client_for("Slack")?;
    retry::with_retries(
        policy,
        "Slack webhook",
        || send_once(&client, "Slack", Shown::SlackCode, &url, payload),
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

/// Posts JSON `body` to `url` on `host` (which the caller checked against the scope);
/// returns the status. Only a 429 with `Retry-After` is retried: a POST may not be safe to
/// send twice.
pub async fn post_json(
    host: &str,
    url: &str,
    body: &serde_json::Value,
    policy: &RetryPolicy,
    cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
) -> Result<u16, SlackError> {
    let client = client_for(host)?;
    retry::with_retries(
        policy,
        "HTTP POST",
        || send_once(&client, host, Shown::StatusOnly, url, body),
        |e: &SlackError| waited_out(e).unwrap_or(Retry::No),
        move || cancelled(),
    )
    .await
    .map_err(RetryError::into_inner)
}

/// What a webhook answered to an empty message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// HTTP status.
    pub status: u16,
    /// Slack's documented code in the body (`ok`, `no_text`, `invalid_token`, …), or empty.
    pub code: String,
}

/// Posts an empty JSON object to the webhook at `webhook`. Slack checks the hook before the
/// payload, so a live hook answers `400 no_text` (nothing is posted) and a dead one its own
/// code. Retried on no answer, 5xx and 429: an empty message is never posted, so a resend is
/// harmless.
pub async fn probe_webhook(
    webhook: &Secret,
    policy: &RetryPolicy,
    cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
) -> Result<Probe, SlackError> {
    let url = String::from_utf8_lossy(webhook.expose_for_request()).into_owned();
    let client = client_for("Slack")?;
    let empty = serde_json::json!({});
    let answer = retry::with_retries(
        policy,
        "Slack webhook check",
        || async {
            match send_once(&client, "Slack", Shown::SlackCode, &url, &empty).await {
                Ok(status) => Ok(Probe {
                    status,
                    code: "ok".to_owned(),
                }),
                Err(e) if matches!(e.status, 0 | 429 | 500..=599) => Err(e),
                Err(e) => Ok(Probe {
                    status: e.status,
                    code: e.detail,
                }),
            }
        },
        |e: &SlackError| waited_out(e).unwrap_or(Retry::Backoff),
        move || cancelled(),
    )
    .await;
    answer.map_err(RetryError::into_inner)
}
