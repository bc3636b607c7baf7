//! Google's request quotas, enforced per consumer project and per method (and per secret or
//! version where Secret Manager limits those), so a rehearsal sees the refusals a burst would
//! get from the real services. Values from the quota pages:
//!
//! - Secret Manager ("Secret Manager quotas and limits"): 90,000 access requests, 600 read
//!   requests and 600 write requests a minute per project; `AddSecretVersion` and
//!   `UpdateSecret` soft-limited to 2 a second and 120 a minute per global secret (80 and
//!   4,800 per regional secret); enable, disable and destroy to 1 a second and 60 a minute per
//!   global version (50 and 3,000 regional).
//! - IAM ("IAM quotas and limits", IAM v1 API): 6,000 read and 600 write requests a minute per
//!   project. The page names no quota of its own for service-account keys, so key creation,
//!   deletion, disabling and enabling count as writes and listing and reading as reads.
//! - Cloud Run ("Cloud Run quotas and limits", Admin API v2): 1,000 read requests (service
//!   get and list) a minute per project and region.
//!
//! Where the pages are silent this module decides: the consumer is the project in the resource
//! name (the real consumer is the caller's quota project), and windows slide and are counted
//! when a request arrives. The per-secret and per-version limits are soft ("served beyond
//! quota as long as the backend can handle the load"): by default a request over one is
//! served and counted in `soft_exceeded`; `--google-soft-limits enforce` (`orchestra emulator
//! --enforce-google-soft-limits`) refuses it like a hard one. A refusal is Google's 429
//! `RESOURCE_EXHAUSTED` with an `ErrorInfo` (reason `RATE_LIMIT_EXCEEDED`, domain
//! `googleapis.com`, metadata `quota_metric`, `quota_limit`, `quota_limit_value`,
//! `quota_location`, `service`, `consumer`) and a `Help` link, as production sends them.
//! `--time-scale` shortens the second and the minute alike; `--limits off` turns all of it off.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::http_util::{Response, json_response};

/// One quota a request counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// `secretmanager.googleapis.com` or `iam.googleapis.com`.
    pub service: &'static str,
    /// The metric, e.g. `secretmanager.googleapis.com/write_requests`.
    pub metric: &'static str,
    /// The limit's name, e.g. `WriteRequestsPerMinutePerProject`.
    pub limit_name: &'static str,
    /// What the message calls the metric and the limit.
    pub words: (&'static str, &'static str),
    /// Requests allowed in one window.
    pub limit: u32,
    /// The window, in real seconds before scaling.
    pub span_secs: u64,
    /// Project number of the consumer.
    pub consumer: u64,
    /// A soft limit (per secret or version), refused only when soft limits are enforced.
    pub soft: bool,
    /// What is counted apart: the project, or a secret or version name.
    pub scope: String,
}

const SM: &str = "secretmanager.googleapis.com";
const IAM: &str = "iam.googleapis.com";
const RUN: &str = "run.googleapis.com";

fn per_project(
    service: &'static str,
    metric: &'static str,
    limit_name: &'static str,
    words: (&'static str, &'static str),
    limit: u32,
    consumer: u64,
) -> Charge {
    Charge {
        service,
        metric,
        limit_name,
        words,
        limit,
        span_secs: 60,
        consumer,
        soft: false,
        scope: format!("projects/{consumer}"),
    }
}

/// Per-resource soft limits: (per second, per minute) for a global and a regional resource.
fn per_resource(
    metric: &'static str,
    names: (&'static str, &'static str),
    limits: [(u32, u32); 2],
    regional: bool,
    consumer: u64,
    scope: &str,
) -> [Charge; 2] {
    let (second, minute) = limits[usize::from(regional)];
    let charge = |limit_name, limit, span_secs| Charge {
        service: SM,
        metric,
        limit_name,
        words: ("Modify requests", limit_name),
        limit,
        span_secs,
        consumer,
        soft: true,
        scope: scope.to_owned(),
    };
    [charge(names.0, second, 1), charge(names.1, minute, 60)]
}

/// The quotas a Secret Manager request counts against. `rest` is the path after the parent
/// (`secrets/s/versions/1:disable`), `parent` the parent as a string.
pub fn secret_manager_charges(
    method: &http::Method,
    parent: &str,
    regional: bool,
    rest: &[&str],
    consumer: u64,
) -> Vec<Charge> {
    let last = rest.last().copied().unwrap_or("");
    let (_, verb) = last.split_once(':').unwrap_or((last, ""));
    let mut charges = Vec::new();
    if verb == "access" {
        charges.push(per_project(
            SM,
            "secretmanager.googleapis.com/access_requests",
            "AccessRequestsPerMinutePerProject",
            ("Access requests", "Access requests per minute"),
            90_000,
            consumer,
        ));
        return charges;
    }
    if *method == http::Method::GET {
        charges.push(per_project(
            SM,
            "secretmanager.googleapis.com/read_requests",
            "ReadRequestsPerMinutePerProject",
            ("Read requests", "Read requests per minute"),
            600,
            consumer,
        ));
        return charges;
    }
    charges.push(per_project(
        SM,
        "secretmanager.googleapis.com/write_requests",
        "WriteRequestsPerMinutePerProject",
        ("Write requests", "Write requests per minute"),
        600,
        consumer,
    ));
    let secret = rest.get(1).map(|s| s.split(':').next().unwrap_or(s));
    match (rest, verb) {
        (["secrets", _], "addVersion") | (["secrets", _], "")
            if *method != http::Method::DELETE =>
        {
            let scope = format!("{parent}/secrets/{}", secret.unwrap_or(""));
            charges.extend(per_resource(
                "secretmanager.googleapis.com/secret_modify_requests",
                (
                    "ModifyRequestsPerSecondPerSecret",
                    "ModifyRequestsPerMinutePerSecret",
                ),
                [(2, 120), (80, 4_800)],
                regional,
                consumer,
                &scope,
            ));
        }
        (["secrets", _, "versions", version], "disable" | "enable" | "destroy") => {
            let version = version.split(':').next().unwrap_or(version);
            let scope = format!(
                "{parent}/secrets/{}/versions/{version}",
                secret.unwrap_or("")
            );
            charges.extend(per_resource(
                "secretmanager.googleapis.com/version_modify_requests",
                (
                    "ModifyRequestsPerSecondPerVersion",
                    "ModifyRequestsPerMinutePerVersion",
                ),
                [(1, 60), (50, 3_000)],
                regional,
                consumer,
                &scope,
            ));
        }
        _ => {}
    }
    charges
}

/// The quota an IAM request counts against.
pub fn iam_charges(method: &http::Method, consumer: u64) -> Vec<Charge> {
    vec![if *method == http::Method::GET {
        per_project(
            IAM,
            "iam.googleapis.com/read_requests",
            "ReadRequestsPerMinutePerProject",
            ("Read requests", "Read requests per minute"),
            6_000,
            consumer,
        )
    } else {
        per_project(
            IAM,
            "iam.googleapis.com/write_requests",
            "WriteRequestsPerMinutePerProject",
            ("Write requests", "Write requests per minute"),
            600,
            consumer,
        )
    }]
}

/// The quota a Cloud Run Admin v2 request under `location` (`projects/N/locations/R`) counts
/// against: reads alone (orchestra sends no write), per project and region.
pub fn run_charges(method: &http::Method, location: &str, consumer: u64) -> Vec<Charge> {
    if *method != http::Method::GET {
        return Vec::new();
    }
    vec![Charge {
        scope: location.to_owned(),
        ..per_project(
            RUN,
            "run.googleapis.com/read_requests",
            "ReadRequestsPerMinutePerProjectPerRegion",
            ("Read requests", "Read requests per minute per region"),
            1_000,
            consumer,
        )
    }]
}

#[derive(Debug, Default)]
struct Inner {
    windows: HashMap<(String, &'static str), VecDeque<Instant>>,
    admitted: BTreeMap<&'static str, u64>,
    refused: BTreeMap<&'static str, u64>,
    soft_exceeded: BTreeMap<&'static str, u64>,
}

/// The quota counters every connection shares.
#[derive(Debug)]
pub struct GoogleQuotas {
    enabled: bool,
    enforce_soft: bool,
    time_scale: f64,
    inner: Mutex<Inner>,
}

impl GoogleQuotas {
    /// Quotas on (or off) with the second and the minute `time_scale` times shorter; soft
    /// limits refuse only when `enforce_soft`.
    pub fn new(enabled: bool, enforce_soft: bool, time_scale: f64) -> Self {
        Self {
            enabled,
            enforce_soft,
            time_scale: time_scale.max(1.0),
            inner: Mutex::default(),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a request against every quota in `charges`, or names the first it is over
    /// (counting nothing then).
    pub fn admit(&self, charges: &[Charge]) -> Result<(), Charge> {
        if !self.enabled {
            return Ok(());
        }
        let now = Instant::now();
        let mut inner = self.inner();
        let mut soft_over = Vec::new();
        for charge in charges {
            let span = Duration::from_secs_f64(charge.span_secs as f64 / self.time_scale);
            let window = inner
                .windows
                .entry((charge.scope.clone(), charge.limit_name))
                .or_default();
            while window
                .front()
                .is_some_and(|at| now.duration_since(*at) >= span)
            {
                window.pop_front();
            }
            if window.len() >= charge.limit as usize {
                if charge.soft && !self.enforce_soft {
                    soft_over.push(charge.limit_name);
                    continue;
                }
                *inner.refused.entry(charge.metric).or_default() += 1;
                return Err(charge.clone());
            }
        }
        for limit_name in soft_over {
            *inner.soft_exceeded.entry(limit_name).or_default() += 1;
        }
        for charge in charges {
            if let Some(window) = inner
                .windows
                .get_mut(&(charge.scope.clone(), charge.limit_name))
            {
                window.push_back(now);
            }
            *inner.admitted.entry(charge.metric).or_default() += 1;
        }
        Ok(())
    }

    /// Forgets every window and count (`POST /_emulator/reset`).
    pub fn reset(&self) {
        *self.inner() = Inner::default();
    }

    /// `{"enabled", "soft_limits_enforced", "time_scale", "admitted": {metric: n}, "refused":
    /// {metric: n}, "refused_total", "soft_exceeded": {limit: n}, "soft_exceeded_total"}`.
    pub fn report(&self) -> serde_json::Value {
        let inner = self.inner();
        json!({
            "enabled": self.enabled,
            "time_scale": self.time_scale,
            "admitted": inner.admitted,
            "refused": inner.refused,
            "refused_total": inner.refused.values().sum::<u64>(),
            "soft_limits_enforced": self.enforce_soft,
            "soft_exceeded": inner.soft_exceeded,
            "soft_exceeded_total": inner.soft_exceeded.values().sum::<u64>(),
        })
    }
}

/// Google's answer to a request over `charge`.
pub fn refusal_response(charge: &Charge) -> Response {
    let message = format!(
        "Quota exceeded for quota metric '{}' and limit '{}' of service '{}' for consumer 'project_number:{}'.",
        charge.words.0, charge.words.1, charge.service, charge.consumer
    );
    json_response(
        429,
        &json!({"error": {
            "code": 429,
            "message": message,
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "googleapis.com",
                    "metadata": {
                        "quota_metric": charge.metric,
                        "quota_limit": charge.limit_name,
                        "quota_limit_value": charge.limit.to_string(),
                        "quota_location": "global",
                        "service": charge.service,
                        "consumer": format!("projects/{}", charge.consumer),
                    },
                },
                {
                    "@type": "type.googleapis.com/google.rpc.Help",
                    "links": [{
                        "description": "Request a higher quota limit.",
                        "url": "https://cloud.google.com/docs/quotas/help/request_increase",
                    }],
                },
            ],
        }}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_version_counts_as_a_write_and_against_its_secret() {
        let charges = secret_manager_charges(
            &http::Method::POST,
            "projects/1",
            false,
            &["secrets", "s:addVersion"],
            1,
        );
        let limits: Vec<_> = charges.iter().map(|c| (c.limit_name, c.limit)).collect();
        assert_eq!(
            limits,
            [
                ("WriteRequestsPerMinutePerProject", 600),
                ("ModifyRequestsPerSecondPerSecret", 2),
                ("ModifyRequestsPerMinutePerSecret", 120)
            ]
        );
        assert_eq!(charges[1].scope, "projects/1/secrets/s");
        let access = secret_manager_charges(
            &http::Method::GET,
            "projects/1",
            false,
            &["secrets", "s", "versions", "latest:access"],
            1,
        );
        assert_eq!(access[0].limit, 90_000);
    }

    #[test]
    fn a_third_version_in_one_second_is_refused_and_counted() {
        let quotas = GoogleQuotas::new(true, true, 1.0);
        let add = secret_manager_charges(
            &http::Method::POST,
            "projects/1",
            false,
            &["secrets", "s:addVersion"],
            1,
        );
        assert!(quotas.admit(&add).is_ok());
        assert!(quotas.admit(&add).is_ok());
        let refused = quotas.admit(&add).unwrap_err();
        assert_eq!(refused.limit_name, "ModifyRequestsPerSecondPerSecret");
        assert_eq!(quotas.report()["refused_total"], 1);
        // Nothing was counted for the refused request.
        assert_eq!(
            quotas.report()["admitted"]["secretmanager.googleapis.com/write_requests"],
            2
        );
        assert!(GoogleQuotas::new(false, true, 1.0).admit(&add).is_ok());
        // Soft limits only counted: the third is served, and counted as over.
        let counting = GoogleQuotas::new(true, false, 1.0);
        for _ in 0..3 {
            assert!(counting.admit(&add).is_ok());
        }
        assert_eq!(counting.report()["soft_exceeded_total"], 1);
    }
}
