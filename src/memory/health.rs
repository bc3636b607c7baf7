//! Whether the configured backend answers, and the one log line that says when it stops (and
//! the one that says when it answers again).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What is known of the backend's reachability in this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reachability {
    /// Not asked yet.
    Untried,
    /// It answered the last call.
    Answering,
    /// It did not; `reason` says why.
    Unreachable {
        /// Why, in words a person acts on.
        reason: String,
    },
}

struct State {
    reachability: Reachability,
    retry_at: Option<Instant>,
}

/// The backend's health, shared by every call of the process.
pub struct Health {
    state: Mutex<State>,
    retry_after: Duration,
}

impl Health {
    /// Health that leaves an unreachable backend alone for `retry_after` before trying again.
    pub fn new(retry_after: Duration) -> Self {
        Self {
            state: Mutex::new(State {
                reachability: Reachability::Untried,
                retry_at: None,
            }),
            retry_after,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a call may be tried now (the backend was not found unreachable less than
    /// `retry_after` ago).
    pub fn may_try(&self) -> bool {
        self.lock().retry_at.is_none_or(|at| Instant::now() >= at)
    }

    /// What is known now.
    pub fn reachability(&self) -> Reachability {
        self.lock().reachability.clone()
    }

    /// Records that `backend` did not answer; logs it once per outage.
    pub fn failed(&self, backend: &str, reason: &str) {
        let mut state = self.lock();
        state.retry_at = Some(Instant::now() + self.retry_after);
        if !matches!(state.reachability, Reachability::Unreachable { .. }) {
            tracing::warn!(
                "memory backend {backend} is unreachable ({reason}): reads are served from the cache and the local store, writes wait in the outbox until it answers (next call after {} or next run)",
                humantime::format_duration(self.retry_after)
            );
        } else {
            tracing::debug!("memory backend {backend} still unreachable: {reason}");
        }
        state.reachability = Reachability::Unreachable {
            reason: reason.to_owned(),
        };
    }

    /// Records that `backend` answered; logs the recovery when it had not.
    pub fn answered(&self, backend: &str) {
        let mut state = self.lock();
        if matches!(state.reachability, Reachability::Unreachable { .. }) {
            tracing::info!("memory backend {backend} answers again");
        }
        state.reachability = Reachability::Answering;
        state.retry_at = None;
    }
}
