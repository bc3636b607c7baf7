//! The one failure shape of Google's APIs (Secret Manager, IAM): which service, the canonical
//! code (`NOT_FOUND`, `RESOURCE_EXHAUSTED`, …), the HTTP status and Google's message; and
//! which of them are worth another attempt.

use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::error::rpc::Code;

use std::sync::Arc;

use super::retry::{self, Retry, RetryError, RetryPolicy};

/// A Google API call that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{service} answered {code}: {message}")]
pub struct GoogleError {
    /// `Secret Manager` or `IAM`.
    pub service: &'static str,
    /// The canonical code name, or `UNAVAILABLE` for transport failures.
    pub code: String,
    /// The HTTP status, when there was an answer.
    pub http_status: Option<u16>,
    /// Google's message.
    pub message: String,
}

impl GoogleError {
    /// The failure of `service` that the official client reported.
    pub fn from_gax(service: &'static str, error: &GaxError) -> Self {
        // The clients follow no redirects (`google_redirects`): a 3xx is refused, not retried.
        if let (Some(status), Some(headers)) = (error.http_status_code(), error.http_headers())
            && let Some(refused) = super::http::redirect_refused(status, headers)
        {
            return Self {
                service,
                code: "FAILED_PRECONDITION".into(),
                http_status: Some(status),
                message: refused,
            };
        }
        match error.status() {
            Some(status) => Self {
                service,
                code: code_name(status.code),
                http_status: error.http_status_code(),
                message: status.message.clone(),
            },
            None => Self {
                service,
                code: "UNAVAILABLE".into(),
                http_status: error.http_status_code(),
                message: error.to_string(),
            },
        }
    }

    /// A failure of orchestra's own around a call (`INTERNAL`).
    pub fn internal(service: &'static str, message: String) -> Self {
        Self {
            service,
            code: "INTERNAL".into(),
            http_status: None,
            message,
        }
    }

    /// Whether a request that carried an etag was refused because the resource changed since
    /// it was read. Secret Manager answers `FAILED_PRECONDITION` (HTTP 400), as its etag page
    /// documents; `ABORTED` (HTTP 409) is what AIP-154 asks of other Google APIs.
    pub fn is_etag_conflict(&self) -> bool {
        matches!(self.code.as_str(), "FAILED_PRECONDITION" | "ABORTED")
            // A refused redirect is spelled FAILED_PRECONDITION too (`from_gax`).
            && !self.http_status.is_some_and(|s| (300..400).contains(&s))
    }

    /// Whether to try again: a quota refusal (the request was turned away before it did
    /// anything) always; a server or transport failure only when the call is idempotent.
    pub fn retry(&self, idempotent: bool) -> Retry {
        match self.code.as_str() {
            "RESOURCE_EXHAUSTED" => Retry::Backoff,
            "UNAVAILABLE" | "INTERNAL" | "DEADLINE_EXCEEDED" if idempotent => Retry::Backoff,
            _ => Retry::No,
        }
    }
}

/// Runs `call` under `policy`, retrying what [`GoogleError::retry`] allows.
pub async fn retried<T, F, Fut>(
    policy: &RetryPolicy,
    cancelled: &Arc<dyn Fn() -> bool + Send + Sync>,
    what: &str,
    idempotent: bool,
    call: F,
) -> Result<T, GoogleError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, GoogleError>>,
{
    let cancelled = Arc::clone(cancelled);
    retry::with_retries(
        policy,
        what,
        call,
        |e: &GoogleError| e.retry(idempotent),
        move || cancelled(),
    )
    .await
    .map_err(RetryError::into_inner)
}

/// `FailedPrecondition` → `FAILED_PRECONDITION`, as Google's JSON spells it.
fn code_name(code: Code) -> String {
    let mut name = String::new();
    for (i, c) in format!("{code:?}").chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_spelled_as_google_spells_them() {
        assert_eq!(code_name(Code::FailedPrecondition), "FAILED_PRECONDITION");
        assert_eq!(code_name(Code::NotFound), "NOT_FOUND");
        assert_eq!(code_name(Code::Internal), "INTERNAL");
    }

    #[test]
    fn an_etag_conflict_is_known_by_secret_managers_code() {
        let conflict = GoogleError {
            service: "Secret Manager",
            code: "FAILED_PRECONDITION".into(),
            http_status: Some(400),
            message: "The etag provided in the request does not match the resource's current etag."
                .into(),
        };
        assert!(conflict.is_etag_conflict());
        assert!(
            GoogleError {
                code: "ABORTED".into(),
                http_status: Some(409),
                ..conflict.clone()
            }
            .is_etag_conflict()
        );
        assert!(
            !GoogleError {
                code: "NOT_FOUND".into(),
                ..conflict
            }
            .is_etag_conflict()
        );
    }

    #[test]
    fn a_quota_refusal_is_retried_even_when_not_idempotent() {
        let refused = GoogleError::internal("IAM", String::new());
        assert_eq!(refused.retry(false), Retry::No);
        assert_eq!(refused.retry(true), Retry::Backoff);
        let quota = GoogleError {
            code: "RESOURCE_EXHAUSTED".into(),
            ..refused
        };
        assert_eq!(quota.retry(false), Retry::Backoff);
    }
}
