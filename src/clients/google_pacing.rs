//! Pacing under Google's request quotas, so Secret Manager, IAM and Cloud Run calls queue
//! instead of bursting into `RESOURCE_EXHAUSTED`: one pacer per process shared by every
//! client, a sliding window per project and method (per secret or version where Secret
//! Manager limits those, per region for Cloud Run), sized from `[limits.google]` (the documented quotas by default).
//!
//! Windows slide rather than refill like a token bucket (a bucket allows a full burst and its
//! refill within one minute, twice the quota) and are a little longer than their span, since a
//! request is counted here when it leaves and there when it arrives. A 429 that still comes
//! (another process spending the same project's quota) is waited out: the windows it names
//! are treated as full for one span, and the call is sent again; it never uses up the
//! retry attempts meant for failures. `time_scale` shortens every span for a rehearsal
//! against an emulator run with the same `--time-scale`. Knows nothing of what the calls do.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::google_error::GoogleError;
use crate::config::GoogleQuotas;

/// A wait at least this long (real time) is logged with its reason.
const LONG_WAIT: Duration = Duration::from_secs(2);

/// Quota refusals one call waits out before the refusal is final.
const MAX_QUOTA_WAITS: u32 = 20;

/// One window a call counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    /// What is counted apart: `sm-write projects/p`, `sm-secret/s projects/p/secrets/s`, …
    key: String,
    /// Requests allowed per span.
    limit: u32,
    /// The span before scaling.
    span: Duration,
    /// For the log: `Secret Manager write requests a minute`.
    what: &'static str,
}

/// The project a resource name (`projects/P/...`) or service-account email belongs to.
fn project_of(name: &str) -> &str {
    if let Some(rest) = name.strip_prefix("projects/") {
        return rest.split('/').next().unwrap_or(rest);
    }
    name.split_once('@')
        .and_then(|(_, domain)| domain.strip_suffix(".iam.gserviceaccount.com"))
        .unwrap_or(name)
}

const MINUTE: Duration = Duration::from_secs(60);
const SECOND: Duration = Duration::from_secs(1);

/// What kind of call, for [`GooglePacer::quotas`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call<'a> {
    /// `AccessSecretVersion` of a version name.
    SecretAccess(&'a str),
    /// A Secret Manager read (get, list) under a name.
    SecretRead(&'a str),
    /// A Secret Manager write that is not per-secret limited (create, delete) under a name.
    SecretWrite(&'a str),
    /// `AddSecretVersion` or `UpdateSecret` of a secret name.
    SecretModify(&'a str),
    /// Enable, disable or destroy of a version name.
    VersionChange(&'a str),
    /// An IAM read for a service account.
    IamRead(&'a str),
    /// An IAM write for a service account.
    IamWrite(&'a str),
    /// A Cloud Run Admin read (service get or list) under a location,
    /// `projects/P/locations/R`: Cloud Run counts them per project and region.
    RunRead(&'a str),
    /// A call to an API whose quotas orchestra does not model (Resource Manager, Service
    /// Usage, STS, IAM Credentials): its few calls a run makes are sent as they come.
    Unmetered,
}

/// Reservations in a sliding window.
#[derive(Debug, Default)]
struct Window {
    log: VecDeque<Instant>,
}

impl Window {
    fn wait_for(&mut self, now: Instant, span: Duration, limit: u32) -> Option<Duration> {
        while self
            .log
            .front()
            .is_some_and(|at| now.duration_since(*at) >= span)
        {
            self.log.pop_front();
        }
        let limit = limit.max(1) as usize;
        if self.log.len() < limit {
            return None;
        }
        let oldest_needed = self.log.len() - limit;
        self.log
            .get(oldest_needed)
            .map(|at| span.saturating_sub(now.duration_since(*at)))
    }
}

/// The pacer every Google call of a process shares.
#[derive(Debug)]
pub struct GooglePacer {
    quotas: GoogleQuotas,
    time_scale: f64,
    windows: Mutex<HashMap<String, Window>>,
}

impl GooglePacer {
    /// A pacer keeping under `quotas`, on spans `time_scale` times shorter.
    pub fn new(quotas: GoogleQuotas, time_scale: f64) -> Self {
        Self {
            quotas,
            time_scale: time_scale.max(1.0),
            windows: Mutex::default(),
        }
    }

    /// The windows `call` counts against.
    pub fn quotas(&self, call: Call<'_>) -> Vec<Quota> {
        let q = &self.quotas;
        let per_project = |kind: &str, name: &str, limit, what| Quota {
            key: format!("{kind} {}", project_of(name)),
            limit,
            span: MINUTE,
            what,
        };
        let per_resource = |kind: &str, name: &str, (second, minute): (u32, u32), what| {
            [
                Quota {
                    key: format!("{kind}/s {name}"),
                    limit: second,
                    span: SECOND,
                    what,
                },
                Quota {
                    key: format!("{kind}/m {name}"),
                    limit: minute,
                    span: MINUTE,
                    what,
                },
            ]
        };
        let write = |name| {
            per_project(
                "sm-write",
                name,
                q.secret_manager_write_per_minute,
                "Secret Manager write requests a minute",
            )
        };
        match call {
            Call::SecretAccess(name) => vec![per_project(
                "sm-access",
                name,
                q.secret_manager_access_per_minute,
                "Secret Manager access requests a minute",
            )],
            Call::SecretRead(name) => vec![per_project(
                "sm-read",
                name,
                q.secret_manager_read_per_minute,
                "Secret Manager read requests a minute",
            )],
            Call::SecretWrite(name) => vec![write(name)],
            Call::SecretModify(name) => {
                let limits = if name.contains("/locations/") {
                    (
                        q.secret_manager_regional_secret_writes_per_second,
                        q.secret_manager_regional_secret_writes_per_minute,
                    )
                } else {
                    (
                        q.secret_manager_secret_writes_per_second,
                        q.secret_manager_secret_writes_per_minute,
                    )
                };
                let mut all = vec![write(name)];
                all.extend(per_resource(
                    "sm-secret",
                    name,
                    limits,
                    "Secret Manager version adds and updates per secret",
                ));
                all
            }
            Call::VersionChange(name) => {
                // Regional versions allow 50 a second and 3,000 a minute; the global figures
                // are the stricter, so they serve both.
                let mut all = vec![write(name)];
                all.extend(per_resource(
                    "sm-version",
                    name,
                    (
                        q.secret_manager_version_changes_per_second,
                        q.secret_manager_version_changes_per_minute,
                    ),
                    "Secret Manager state changes per version",
                ));
                all
            }
            Call::IamRead(email) => vec![per_project(
                "iam-read",
                email,
                q.iam_read_per_minute,
                "IAM read requests a minute",
            )],
            Call::IamWrite(email) => vec![per_project(
                "iam-write",
                email,
                q.iam_write_per_minute,
                "IAM write requests a minute",
            )],
            Call::RunRead(location) => vec![Quota {
                key: format!("run-read {location}"),
                limit: q.cloud_run_read_per_minute,
                span: MINUTE,
                what: "Cloud Run read requests a minute per region",
            }],
            Call::Unmetered => Vec::new(),
        }
    }

    /// A span as this pacer counts it: scaled, plus a margin for the time a request spends
    /// between leaving and arriving (a second a minute, at least 100 ms).
    fn span(&self, span: Duration) -> Duration {
        let scaled = span.div_f64(self.time_scale);
        scaled + (scaled / 60).max(Duration::from_millis(100))
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until a call fits under every window in `quotas`, and reserves its place; false
    /// if `cancelled` turned true while waiting.
    pub async fn acquire(
        &self,
        quotas: &[Quota],
        cancelled: &(dyn Fn() -> bool + Send + Sync),
    ) -> bool {
        loop {
            let wait = {
                let mut windows = self.windows();
                let now = Instant::now();
                let wait = quotas
                    .iter()
                    .filter_map(|q| {
                        windows
                            .entry(q.key.clone())
                            .or_default()
                            .wait_for(now, self.span(q.span), q.limit)
                            .map(|wait| (wait, q))
                    })
                    .max_by_key(|(wait, _)| *wait);
                match wait {
                    None => {
                        for q in quotas {
                            windows.entry(q.key.clone()).or_default().log.push_back(now);
                        }
                        return true;
                    }
                    Some((wait, quota)) => {
                        if wait >= LONG_WAIT {
                            tracing::warn!(
                                "pacing under Google's quota of {} {}: waiting {}",
                                quota.limit,
                                quota.what,
                                humantime::format_duration(Duration::from_secs(
                                    wait.as_secs_f64().ceil() as u64
                                )),
                            );
                        }
                        wait
                    }
                }
            };
            if !super::retry::sleep_unless_cancelled(wait, "Google's quota", &cancelled).await {
                return false;
            }
        }
    }

    /// A quota refusal came anyway: every window in `quotas` counts as full for one span.
    fn exhausted(&self, quotas: &[Quota]) {
        let mut windows = self.windows();
        let now = Instant::now();
        for q in quotas {
            let window = windows.entry(q.key.clone()).or_default();
            while window.log.len() < q.limit as usize {
                window.log.push_back(now);
            }
        }
    }

    /// Sends `call` when `quotas` allow, and waits out a `RESOURCE_EXHAUSTED` answer before
    /// sending it again (up to twenty times); any other outcome is returned as it came.
    pub async fn paced<T, F, Fut>(
        &self,
        service: &'static str,
        quotas: &[Quota],
        cancelled: &(dyn Fn() -> bool + Send + Sync),
        mut call: F,
    ) -> Result<T, GoogleError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, GoogleError>>,
    {
        let mut refusals = 0;
        loop {
            if !self.acquire(quotas, cancelled).await {
                return Err(GoogleError::internal(
                    service,
                    "cancelled while waiting for Google's quotas".into(),
                ));
            }
            match call().await {
                Err(e) if e.code == "RESOURCE_EXHAUSTED" && refusals < MAX_QUOTA_WAITS => {
                    refusals += 1;
                    tracing::warn!("{e}; waiting for the quota to refill (refusal {refusals})");
                    self.exhausted(quotas);
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        false
    }

    #[test]
    fn names_and_emails_give_their_project() {
        assert_eq!(project_of("projects/p1/secrets/s/versions/2"), "p1");
        assert_eq!(
            project_of("deployer@demo-project.iam.gserviceaccount.com"),
            "demo-project"
        );
    }

    #[test]
    fn add_version_counts_per_project_and_per_secret() {
        let pacer = GooglePacer::new(GoogleQuotas::default(), 1.0);
        let q = pacer.quotas(Call::SecretModify("projects/p/secrets/s"));
        let limits: Vec<u32> = q.iter().map(|q| q.limit).collect();
        assert_eq!(limits, [600, 2, 120]);
        let regional = pacer.quotas(Call::SecretModify(
            "projects/p/locations/us-east1/secrets/s",
        ));
        assert_eq!(regional[1].limit, 80);
    }

    #[tokio::test]
    async fn cloud_run_reads_wait_once_their_region_used_its_minute() {
        let quotas = GoogleQuotas {
            cloud_run_read_per_minute: 2,
            ..GoogleQuotas::default()
        };
        let pacer = GooglePacer::new(quotas, 1.0);
        let here = pacer.quotas(Call::RunRead("projects/p/locations/europe-west1"));
        assert_eq!(here.len(), 1);
        assert_eq!(here[0].limit, 2);
        let now = |f| tokio::time::timeout(Duration::ZERO, f);
        assert!(now(pacer.acquire(&here, &never)).await.is_ok());
        assert!(now(pacer.acquire(&here, &never)).await.is_ok());
        assert!(
            now(pacer.acquire(&here, &never)).await.is_err(),
            "a third read in the minute went at once"
        );
        // Another region of the project, and another project, count apart.
        for other in [
            "projects/p/locations/us-central1",
            "projects/q/locations/europe-west1",
        ] {
            let quotas = pacer.quotas(Call::RunRead(other));
            let at_once = tokio::time::timeout(Duration::ZERO, pacer.acquire(&quotas, &never));
            assert!(at_once.await.is_ok(), "{other}");
        }
    }

    #[tokio::test]
    async fn a_third_add_on_one_secret_waits_for_the_second_window() {
        let pacer = GooglePacer::new(GoogleQuotas::default(), 60.0);
        let q = pacer.quotas(Call::SecretModify("projects/p/secrets/s"));
        let now = |f| tokio::time::timeout(Duration::ZERO, f);
        assert!(now(pacer.acquire(&q, &never)).await.is_ok());
        assert!(now(pacer.acquire(&q, &never)).await.is_ok());
        assert!(
            now(pacer.acquire(&q, &never)).await.is_err(),
            "a third add went at once"
        );
        let other = pacer.quotas(Call::SecretModify("projects/p/secrets/t"));
        assert!(now(pacer.acquire(&other, &never)).await.is_ok());
        assert!(pacer.acquire(&q, &never).await);
    }

    #[tokio::test]
    async fn a_quota_refusal_is_waited_out_and_sent_again() {
        let pacer = GooglePacer::new(GoogleQuotas::default(), 600.0);
        let q = pacer.quotas(Call::SecretRead("projects/p"));
        let mut answers = vec![
            Ok(7),
            Err(GoogleError {
                service: "Secret Manager",
                code: "RESOURCE_EXHAUSTED".into(),
                http_status: Some(429),
                message: "Quota exceeded".into(),
            }),
        ];
        let got = pacer
            .paced("Secret Manager", &q, &never, || {
                let next = answers.pop().unwrap_or(Ok(0));
                async move { next }
            })
            .await;
        assert_eq!(got.unwrap(), 7);
    }
}
