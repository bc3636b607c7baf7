//! The one retry policy every client shares: jittered exponential backoff for transient
//! failures, and waits the server asks for (`Retry-After`, a rate-limit reset) honoured up to a
//! configured maximum, with a progress message, then a clear error.
//!
//! Primitives never loop with `sleep`; they hand an operation and a classifier to
//! [`with_retries`].

use std::future::Future;
use std::time::Duration;

/// How a failure should be retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// Not retryable (a 4xx, a refused credential, a non-idempotent call).
    No,
    /// Transient (5xx, dropped connection): back off and try again.
    Backoff,
    /// The server said when: wait this long, then try again.
    After {
        /// How long.
        wait: Duration,
        /// Why, for the progress message ("rate limit resets", "Retry-After").
        reason: String,
    },
}

/// Retry limits, from `[limits]` / defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt (doubles each time, with full jitter).
    pub initial_backoff: Duration,
    /// Longest single backoff.
    pub max_backoff: Duration,
    /// Longest wait accepted when a server asks for one; longer is an error.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_wait: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The policy for `limits` (defaults, with `[limits].max_retry_wait`).
    pub fn from_limits(limits: &crate::config::Limits) -> Self {
        Self {
            max_wait: limits.max_retry_wait,
            max_attempts: limits.retry_attempts.max(1),
            ..Self::default()
        }
    }
}

/// Why retrying stopped.
#[derive(Debug, thiserror::Error)]
pub enum RetryError<E: std::fmt::Display> {
    /// The last attempt failed and no retry was allowed or left.
    #[error("{error}{}", if *.attempts > 1 { format!(" (after {} attempts)", .attempts) } else { String::new() })]
    Failed {
        /// The last error.
        error: E,
        /// Attempts made.
        attempts: u32,
    },
    /// The server asked for a wait longer than allowed.
    #[error(
        "{error}; {reason}: {} is longer than the {} orchestra may wait (limits.max_retry_wait)",
        humantime::format_duration(*.wait), humantime::format_duration(*.max_wait)
    )]
    WaitTooLong {
        /// The error that asked for the wait.
        error: E,
        /// What the server asked.
        wait: Duration,
        /// What is allowed.
        max_wait: Duration,
        /// Why it asked.
        reason: String,
    },
    /// The run was stopped while waiting.
    #[error("stopped while waiting to retry: {error}")]
    Cancelled {
        /// The error being retried.
        error: E,
    },
}

impl<E: std::fmt::Display> RetryError<E> {
    /// The error retrying stopped on, for callers whose own error type already says enough.
    pub fn into_inner(self) -> E {
        match self {
            Self::Failed { error, .. }
            | Self::WaitTooLong { error, .. }
            | Self::Cancelled { error } => error,
        }
    }
}

/// The seconds a `Retry-After` header asks to wait, when it is a number of seconds.
pub fn retry_after_secs(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The backoff before attempt `attempt + 1` (attempt counts from 1): full jitter over an
/// exponentially growing ceiling.
pub fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let ceiling = policy
        .initial_backoff
        .saturating_mul(1u32 << exponent)
        .min(policy.max_backoff);
    let mut bytes = [0u8; 8];
    let fraction = match getrandom::fill(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    };
    // Never zero: a retry storm at the same instant is what jitter is for.
    ceiling.mul_f64(fraction).max(Duration::from_millis(10))
}

/// Runs `operation` until it succeeds, `classify` says not to retry, attempts run out, or
/// `cancelled` turns true during a wait. `what` names the call in progress messages.
pub async fn with_retries<T, E, Op, Fut>(
    policy: &RetryPolicy,
    what: &str,
    mut operation: Op,
    classify: impl Fn(&E) -> Retry,
    cancelled: impl Fn() -> bool,
) -> Result<T, RetryError<E>>
where
    E: std::fmt::Display,
    Op: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let error = match operation().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let (wait, reason) = match classify(&error) {
            Retry::No => {
                return Err(RetryError::Failed {
                    error,
                    attempts: attempt,
                });
            }
            _ if attempt >= policy.max_attempts => {
                return Err(RetryError::Failed {
                    error,
                    attempts: attempt,
                });
            }
            Retry::Backoff => (backoff(policy, attempt), "transient failure".to_owned()),
            Retry::After { wait, reason } => {
                if wait > policy.max_wait {
                    return Err(RetryError::WaitTooLong {
                        error,
                        wait,
                        max_wait: policy.max_wait,
                        reason,
                    });
                }
                (wait, reason)
            }
        };
        tracing::warn!(
            "{what}: {error}; {reason}, retrying in {} (attempt {} of {})",
            humantime::format_duration(Duration::from_millis(wait.as_millis() as u64)),
            attempt + 1,
            policy.max_attempts
        );
        if !sleep_unless_cancelled(wait, &format!("{reason} ({what})"), &cancelled).await {
            return Err(RetryError::Cancelled { error });
        }
    }
}

/// Sleeps `total`, waking every 100 ms to check `cancelled`; false if it was. `reason` is
/// what the operator's countdown says the wait is for ("Retry-After", "rate limit resets").
pub async fn sleep_unless_cancelled(
    total: Duration,
    reason: &str,
    cancelled: &impl Fn() -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + total;
    let countdown = crate::progress::Countdown::start(total, reason);
    loop {
        if cancelled() {
            return false;
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return true;
        }
        countdown.remaining(deadline - now);
        tokio::time::sleep((deadline - now).min(Duration::from_millis(100))).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    const FAST: RetryPolicy = RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_wait: Duration::from_millis(200),
    };

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn transient_failures_are_retried_to_success() {
        let calls = AtomicU32::new(0);
        let result = runtime().block_on(with_retries(
            &FAST,
            "test",
            || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err("503")
                } else {
                    Ok(42)
                }
            },
            |_| Retry::Backoff,
            || false,
        ));
        assert_eq!(result.unwrap(), 42);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_permanent_failure_is_not_retried() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = runtime().block_on(with_retries(
            &FAST,
            "test",
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err("404 Not Found")
            },
            |_| Retry::No,
            || false,
        ));
        assert_eq!(result.unwrap_err().to_string(), "404 Not Found");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn attempts_run_out_with_a_count() {
        let result: Result<(), _> = runtime().block_on(with_retries(
            &FAST,
            "test",
            || async { Err("500") },
            |_| Retry::Backoff,
            || false,
        ));
        assert_eq!(result.unwrap_err().to_string(), "500 (after 4 attempts)");
    }

    #[test]
    fn a_server_asked_wait_is_honoured_and_a_long_one_refused() {
        let calls = AtomicU32::new(0);
        let started = std::time::Instant::now();
        let result = runtime().block_on(with_retries(
            &FAST,
            "test",
            || async {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err("429")
                } else {
                    Ok(())
                }
            },
            |_| Retry::After {
                wait: Duration::from_millis(50),
                reason: "Retry-After".into(),
            },
            || false,
        ));
        assert!(result.is_ok());
        assert!(started.elapsed() >= Duration::from_millis(50));

        let too_long: Result<(), _> = runtime().block_on(with_retries(
            &FAST,
            "test",
            || async { Err("403 rate limited") },
            |_| Retry::After {
                wait: Duration::from_secs(3600),
                reason: "rate limit resets".into(),
            },
            || false,
        ));
        let message = too_long.unwrap_err().to_string();
        assert!(
            message.contains("rate limit resets: 1h is longer than"),
            "{message}"
        );
    }

    #[test]
    fn cancellation_stops_a_wait() {
        let result: Result<(), _> = runtime().block_on(with_retries(
            &FAST,
            "test",
            || async { Err("429") },
            |_| Retry::After {
                wait: Duration::from_millis(150),
                reason: "Retry-After".into(),
            },
            || true,
        ));
        assert!(matches!(result, Err(RetryError::Cancelled { .. })));
    }

    #[test]
    fn backoff_grows_but_stays_under_the_ceiling() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
            ..RetryPolicy::default()
        };
        for attempt in 1..10 {
            assert!(backoff(&policy, attempt) <= Duration::from_millis(400));
        }
    }
}
