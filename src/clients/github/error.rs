//! GitHub's errors, and which of them are worth retrying.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Answer, Idempotent};
use crate::clients::retry::Retry;

/// A GitHub call that failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GithubError {
    /// GitHub answered with an error status.
    #[error("GitHub answered {status}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// GitHub's `message`.
        message: String,
        /// `retry-after`, in seconds.
        retry_after: Option<u64>,
        /// `x-ratelimit-remaining`.
        remaining: Option<u64>,
        /// `x-ratelimit-reset`, epoch seconds.
        reset: Option<u64>,
    },
    /// No answer: connection refused or dropped, time-out.
    #[error("cannot reach GitHub: {0}")]
    Transport(String),
    /// An answer orchestra could not read.
    #[error("unexpected answer from GitHub: {0}")]
    Malformed(String),
    /// Bad client configuration.
    #[error("{0}")]
    Config(String),
    /// GitHub asked for a longer wait than allowed.
    #[error(
        "{message}; {reason}: {} is longer than the {} orchestra may wait (limits.max_retry_wait)",
        humantime::format_duration(*.wait), humantime::format_duration(*.max_wait)
    )]
    WaitTooLong {
        /// The status of the answer that asked for the wait.
        status: Option<u16>,
        /// The error that asked for the wait.
        message: String,
        /// The wait asked.
        wait: Duration,
        /// The wait allowed.
        max_wait: Duration,
        /// Why.
        reason: String,
    },
    /// The run was stopped while waiting.
    #[error("stopped while waiting: {0}")]
    Cancelled(String),
    /// A request addressed a repository or organisation outside `[scope]`, or its path was
    /// malformed; nothing was sent.
    #[error("{0}")]
    OutOfScope(String),
    /// GitHub answered with a redirect, which orchestra never follows.
    #[error("GitHub answered {status}: {message}")]
    Redirect {
        /// The 3xx status.
        status: u16,
        /// Where it pointed, and that it was refused.
        message: String,
    },
}

/// `answer` when it is a 2xx; else the error it stands for (a 3xx is a refused redirect).
pub fn checked(answer: Answer) -> Result<Answer, GithubError> {
    if (200..300).contains(&answer.status) {
        return Ok(answer);
    }
    match crate::clients::http::redirect_refused(answer.status, &answer.headers) {
        Some(message) => Err(GithubError::Redirect {
            status: answer.status,
            message,
        }),
        None => Err(GithubError::from_answer(&answer)),
    }
}

impl GithubError {
    /// Builds the error for a non-2xx answer.
    pub fn from_answer(answer: &Answer) -> Self {
        let header = |name: &str| {
            answer
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let message = serde_json::from_str::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_else(|| answer.body.chars().take(200).collect());
        Self::Api {
            status: answer.status,
            message,
            retry_after: header("retry-after"),
            remaining: header("x-ratelimit-remaining"),
            reset: header("x-ratelimit-reset"),
        }
    }

    /// The HTTP status, when GitHub answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::WaitTooLong { status, .. } => *status,
            Self::Redirect { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How this failure should be retried, following GitHub's guidance: honour `retry-after`;
    /// else wait for the reset when the quota is spent; else a secondary limit waits a minute;
    /// 5xx and dropped connections are retried only for idempotent calls.
    pub fn retry(&self, idempotent: Idempotent) -> Retry {
        match self {
            Self::Transport(_) if idempotent == Idempotent::Yes => Retry::Backoff,
            Self::Api {
                status,
                message,
                retry_after,
                remaining,
                reset,
            } => {
                if *status == 403 || *status == 429 {
                    if let Some(seconds) = retry_after {
                        return Retry::After {
                            wait: Duration::from_secs(*seconds),
                            reason: "GitHub asked to wait (Retry-After)".into(),
                        };
                    }
                    if *remaining == Some(0)
                        && let Some(reset) = reset
                    {
                        let now = SystemTime::now()
                            .duration_since(UNIX_EPOCH)
                            .map(|d| d.as_secs())
                            .unwrap_or(0);
                        return Retry::After {
                            wait: Duration::from_secs(reset.saturating_sub(now).max(1)),
                            reason: "the rate limit resets".into(),
                        };
                    }
                    if message.starts_with("You have exceeded a secondary rate limit") {
                        return Retry::After {
                            wait: Duration::from_secs(60),
                            reason: "GitHub's secondary rate limit".into(),
                        };
                    }
                    if *status == 429 {
                        return Retry::Backoff;
                    }
                }
                if *status >= 500 && idempotent == Idempotent::Yes {
                    return Retry::Backoff;
                }
                Retry::No
            }
            _ => Retry::No,
        }
    }
}

/// octocrab's error, in one line without its backtrace.
pub fn describe_octocrab(error: &octocrab::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(
        status: u16,
        message: &str,
        retry_after: Option<u64>,
        remaining: Option<u64>,
    ) -> GithubError {
        GithubError::Api {
            status,
            message: message.into(),
            retry_after,
            remaining,
            reset: Some(0),
        }
    }

    #[test]
    fn retry_after_is_honoured_for_403_and_429() {
        for status in [403, 429] {
            assert!(matches!(
                api(status, "slow down", Some(2), None).retry(Idempotent::No),
                Retry::After { wait, .. } if wait == Duration::from_secs(2)
            ));
        }
    }

    #[test]
    fn a_spent_quota_waits_for_the_reset() {
        assert!(matches!(
            api(403, "API rate limit exceeded for user ID 1.", None, Some(0))
                .retry(Idempotent::Yes),
            Retry::After { .. }
        ));
    }

    #[test]
    fn server_errors_are_retried_only_when_idempotent() {
        assert_eq!(
            api(502, "bad gateway", None, None).retry(Idempotent::Yes),
            Retry::Backoff
        );
        assert_eq!(
            api(502, "bad gateway", None, None).retry(Idempotent::No),
            Retry::No
        );
        assert_eq!(
            api(404, "Not Found", None, None).retry(Idempotent::Yes),
            Retry::No
        );
        assert_eq!(
            GithubError::Transport("reset".into()).retry(Idempotent::Yes),
            Retry::Backoff
        );
    }

    #[test]
    fn a_plain_403_is_not_retried() {
        assert_eq!(
            api(
                403,
                "Resource not accessible by integration",
                None,
                Some(4000)
            )
            .retry(Idempotent::Yes),
            Retry::No
        );
    }
}
