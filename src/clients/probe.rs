//! One GET to a URL to see whether it answers: its status, how long the answer took and a
//! short reason. No credentials are sent, no redirect is followed (a 3xx is an error naming
//! where it pointed) and no body is read beyond the status line and headers. Which URLs may
//! be probed is the caller's decision, made before this is called. Knows nothing of Rhai.

use std::time::{Duration, Instant};

/// How long a probe waits for an answer: a probe asks "does it answer now", not "eventually".
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a URL answered; `status` is 0 when nothing answered (refused, unreachable, timed out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeAnswer {
    /// The HTTP status, or 0 when no answer came.
    pub status: u16,
    /// Milliseconds from sending the request to the answer's headers (or to the failure).
    pub latency_ms: u64,
    /// The status's reason phrase (`OK`, `Service Unavailable`), or why nothing answered.
    pub reason: String,
}

impl ProbeAnswer {
    /// True for a 2xx answer.
    pub fn answers(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// GETs `url` once with `timeout`; `host` is only used to name it in messages. An `Err` is a
/// redirect (refused, never followed) or a client that cannot be built; a host that refuses
/// or does not answer is an `Ok` with status 0, so the caller can report it as a finding.
pub async fn probe(url: &str, host: &str, timeout: Duration) -> Result<ProbeAnswer, String> {
    let client = super::http::client(timeout)?;
    let started = Instant::now();
    let sent = client.get(url).send().await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            return Ok(ProbeAnswer {
                status: 0,
                latency_ms,
                reason: unanswered(&error, host, timeout),
            });
        }
    };
    let status = response.status();
    if let Some(refused) = super::http::redirect_refused(status.as_u16(), response.headers()) {
        return Err(format!("{host} answered {}: {refused}", status.as_u16()));
    }
    Ok(ProbeAnswer {
        status: status.as_u16(),
        latency_ms,
        reason: status.canonical_reason().unwrap_or("").to_owned(),
    })
}

/// Why `host` gave no answer, in a few words (never the URL's path or query).
fn unanswered(error: &reqwest::Error, host: &str, timeout: Duration) -> String {
    if error.is_timeout() {
        format!("no answer from {host} within {}s", timeout.as_secs())
    } else if error.is_connect() {
        format!("{host} refused the connection or cannot be reached")
    } else {
        format!("no answer from {host}: the request failed")
    }
}
