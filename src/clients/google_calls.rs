//! How every Google client of a run sends one call: paced under the quotas it counts against
//! (a quota refusal is waited out there, not spent as an attempt), then retried by the shared
//! policy. One place, so Secret Manager, IAM and the Workload Identity client cannot drift
//! apart. Knows nothing of what the calls do.

use std::sync::Arc;

use super::google_error::GoogleError;
use super::google_pacing::{Call, GooglePacer};
use super::retry::RetryPolicy;

/// The retry policy, the run's cancellation and the process's pacer, for one Google service.
pub struct GoogleCalls {
    service: &'static str,
    policy: RetryPolicy,
    cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    pacer: Arc<GooglePacer>,
}

impl GoogleCalls {
    /// Calls to `service` (`IAM`, `Secret Manager`, …) under `policy` and `pacer`.
    pub fn new(
        service: &'static str,
        policy: RetryPolicy,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
        pacer: Arc<GooglePacer>,
    ) -> Self {
        Self {
            service,
            policy,
            cancelled,
            pacer,
        }
    }

    /// Calls to `service` for a unit test against the emulator: two attempts, short backoff,
    /// never cancelled, Google's default quotas.
    #[cfg(test)]
    pub fn for_tests(service: &'static str) -> Self {
        let policy = RetryPolicy {
            max_attempts: 2,
            initial_backoff: std::time::Duration::from_millis(10),
            max_backoff: std::time::Duration::from_millis(20),
            max_wait: std::time::Duration::from_secs(1),
        };
        let pacer = GooglePacer::new(crate::config::GoogleQuotas::default(), 1.0);
        Self::new(service, policy, Arc::new(|| false), Arc::new(pacer))
    }

    /// The service these calls go to.
    pub fn service(&self) -> &'static str {
        self.service
    }

    /// The retry policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Whether the run was stopped.
    pub fn cancelled(&self) -> &Arc<dyn Fn() -> bool + Send + Sync> {
        &self.cancelled
    }

    /// Runs `send` under the shared retry policy, each attempt paced under the quotas `call`
    /// counts against.
    pub async fn retried<T, F, Fut>(
        &self,
        what: &str,
        idempotent: bool,
        call: Call<'_>,
        send: F,
    ) -> Result<T, GoogleError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, GoogleError>>,
    {
        let quotas = self.pacer.quotas(call);
        let (quotas, send) = (&quotas, &send);
        super::google_error::retried(&self.policy, &self.cancelled, what, idempotent, || {
            self.pacer
                .paced(self.service, quotas, &*self.cancelled, send)
        })
        .await
    }
}
