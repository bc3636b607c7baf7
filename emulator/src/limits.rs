//! GitHub's secondary rate limits, enforced per credential on the GitHub routes, so a rehearsal
//! sees the refusals a burst would get from the real service.
//!
//! From GitHub's "Rate limits for the REST API" page (section "About secondary rate limits"):
//! at most 100 concurrent requests; at most 900 points a minute to one REST endpoint, a GET,
//! HEAD or OPTIONS costing 1 point and a POST, PATCH, PUT or DELETE 5; at most 80
//! content-creating requests a minute and 500 an hour. A refusal is a 403 with GitHub's
//! secondary-limit message and a `retry-after` header (in real seconds, rounded up).
//!
//! Where the page is silent this module decides, and says so:
//! - "an endpoint" is the route with its identifiers (owner, repo, secret name, ids) replaced
//!   by `*`: a segment is kept when it is one of GitHub's fixed path words, else it is an
//!   identifier. Every secret PUT of one repository is then one endpoint.
//! - windows slide over the last minute (hour), counted when a request arrives.
//! - every POST creates content; an Actions-secret or variable PUT does only when
//!   `secret_puts_are_content` is set (GitHub does not say; off by default, because then 500
//!   secret PUTs take the 2m47s the points limit implies rather than an hour).
//!
//! `time_scale` makes the minute and the hour N times shorter. Knows nothing of the services
//! it guards: it sees a credential, a method and a path.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

/// GitHub's documented secondary limits, and how fast the emulator's clock runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitSettings {
    /// Enforce them at all (`--limits off` clears this).
    pub enabled: bool,
    /// The minute is `60 / time_scale` seconds long (1 is real time).
    pub time_scale: f64,
    /// Requests in flight at once per credential.
    pub concurrency: u32,
    /// Points a minute per credential and endpoint.
    pub points_per_minute: u32,
    /// Points a GET, HEAD or OPTIONS costs.
    pub read_points: u32,
    /// Points a POST, PATCH, PUT or DELETE costs.
    pub write_points: u32,
    /// Content-creating requests a minute per credential.
    pub content_per_minute: u32,
    /// Content-creating requests an hour per credential.
    pub content_per_hour: u32,
    /// Whether an Actions-secret or variable PUT creates content.
    pub secret_puts_are_content: bool,
    /// Refuse requests over Secret Manager's soft per-secret and per-version limits
    /// (`--google-soft-limits enforce`); by default they are only counted (`google::quota`).
    pub google_soft_limits_enforced: bool,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            time_scale: 1.0,
            concurrency: 100,
            points_per_minute: 900,
            read_points: 1,
            write_points: 5,
            content_per_minute: 80,
            content_per_hour: 500,
            secret_puts_are_content: false,
            google_soft_limits_enforced: false,
        }
    }
}

impl LimitSettings {
    /// Validates `time_scale` (`--time-scale N`): a finite number of at least 1.
    pub fn with_time_scale(mut self, text: &str) -> Result<Self, String> {
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 1.0 => {
                self.time_scale = n;
                Ok(self)
            }
            _ => Err(format!(
                "--time-scale expects a number of at least 1 (how many times shorter the minute is), found '{text}'"
            )),
        }
    }

    /// `--limits on|off`.
    pub fn with_enabled(mut self, text: &str) -> Result<Self, String> {
        self.enabled = match text {
            "on" => true,
            "off" => false,
            _ => return Err(format!("--limits expects 'on' or 'off', found '{text}'")),
        };
        Ok(self)
    }

    fn minute(&self) -> Duration {
        Duration::from_secs_f64(60.0 / self.time_scale)
    }
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many requests in flight.
    Concurrency,
    /// The endpoint's points for the minute are spent.
    Points,
    /// Too much content created in the minute or the hour.
    Content,
}

/// Refusals so far, by limit.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RefusalCounts {
    /// By the concurrency limit.
    pub concurrency: u64,
    /// By the points limit.
    pub points: u64,
    /// By the content-creation limit.
    pub content: u64,
}

/// Arrivals in a sliding window: when, and how much each weighed.
#[derive(Debug, Default)]
struct Window {
    log: VecDeque<(Instant, u32)>,
    total: u32,
}

impl Window {
    fn prune(&mut self, now: Instant, span: Duration) {
        while let Some(&(at, weight)) = self.log.front() {
            if now.duration_since(at) < span {
                break;
            }
            self.log.pop_front();
            self.total -= weight;
        }
    }

    /// How long until `weight` more fits under `limit`, or `None` if it fits now.
    fn wait_for(&self, now: Instant, span: Duration, weight: u32, limit: u32) -> Option<Duration> {
        if self.total + weight <= limit {
            return None;
        }
        let mut freed = 0;
        for &(at, w) in &self.log {
            freed += w;
            if self.total - freed + weight <= limit {
                return Some(span.saturating_sub(now.duration_since(at)));
            }
        }
        Some(span)
    }

    fn add(&mut self, now: Instant, weight: u32) {
        self.log.push_back((now, weight));
        self.total += weight;
    }
}

#[derive(Debug, Default)]
struct Inner {
    in_flight: HashMap<String, u32>,
    points: HashMap<(String, String), Window>,
    content_minute: HashMap<String, Window>,
    content_hour: HashMap<String, Window>,
    refusals: RefusalCounts,
}

/// The limiter every connection shares.
#[derive(Debug)]
pub struct Limiter {
    settings: LimitSettings,
    inner: Arc<Mutex<Inner>>,
}

/// A request in flight; dropping it frees its place.
#[derive(Debug)]
pub struct InFlight {
    key: String,
    inner: Arc<Mutex<Inner>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = inner.in_flight.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                inner.in_flight.remove(&self.key);
            }
        }
    }
}

/// A refused request: which limit, and how long to wait (real time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// The limit.
    pub limit: Refusal,
    /// Until the request would fit.
    pub retry_after: Duration,
}

/// GitHub's fixed path words; any other segment is an identifier.
const PATH_WORDS: &[&str] = &[
    "access_tokens",
    "actions",
    "app",
    "collaborators",
    "dispatches",
    "environments",
    "git",
    "hooks",
    "installation",
    "installations",
    "issues",
    "orgs",
    "public-key",
    "pulls",
    "rate_limit",
    "repos",
    "repositories",
    "secrets",
    "user",
    "users",
    "variables",
    "workflows",
];

/// The endpoint a path belongs to: identifiers replaced by `*`, the query left out.
pub fn endpoint_of(path: &str) -> String {
    let path = path.split('?').next().unwrap_or("");
    let mut endpoint = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        endpoint.push('/');
        endpoint.push_str(if PATH_WORDS.contains(&segment) {
            segment
        } else {
            "*"
        });
    }
    endpoint
}

impl Limiter {
    /// A limiter with `settings`.
    pub fn new(settings: LimitSettings) -> Self {
        Self {
            settings,
            inner: Arc::default(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &LimitSettings {
        &self.settings
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refusals so far.
    pub fn refusals(&self) -> RefusalCounts {
        self.inner().refusals
    }

    /// Forgets every window and count (`POST /_emulator/reset`); requests in flight stay.
    pub fn reset(&self) {
        let mut inner = self.inner();
        let in_flight = std::mem::take(&mut inner.in_flight);
        *inner = Inner {
            in_flight,
            ..Inner::default()
        };
    }

    fn creates_content(&self, method: &http::Method, path: &str) -> bool {
        if method == http::Method::POST {
            return true;
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.settings.secret_puts_are_content
            && method == http::Method::PUT
            && segments.len() >= 2
            && matches!(segments[segments.len() - 2], "secrets" | "variables")
    }

    /// Admits a request by `credential` (a token, or `anonymous`), or says which limit refuses
    /// it. An admitted request holds its place until the returned guard is dropped.
    pub fn admit(
        &self,
        credential: &str,
        method: &http::Method,
        path: &str,
    ) -> Result<Option<InFlight>, Refused> {
        if !self.settings.enabled {
            return Ok(None);
        }
        let now = Instant::now();
        let minute = self.settings.minute();
        let hour = minute * 60;
        let key = credential.to_owned();
        let cost = match *method {
            http::Method::GET | http::Method::HEAD | http::Method::OPTIONS => {
                self.settings.read_points
            }
            _ => self.settings.write_points,
        };
        let content = self.creates_content(method, path);
        let settings = &self.settings;
        let mut inner = self.inner();
        let inner = &mut *inner;

        let flying = inner.in_flight.get(&key).copied().unwrap_or(0);
        if flying >= settings.concurrency {
            inner.refusals.concurrency += 1;
            // Another request ends soon; GitHub gives no figure, so one second.
            return Err(Refused {
                limit: Refusal::Concurrency,
                retry_after: Duration::from_secs(1),
            });
        }
        let points = inner
            .points
            .entry((key.clone(), endpoint_of(path)))
            .or_default();
        points.prune(now, minute);
        if let Some(wait) = points.wait_for(now, minute, cost, settings.points_per_minute) {
            inner.refusals.points += 1;
            return Err(Refused {
                limit: Refusal::Points,
                retry_after: wait,
            });
        }
        if content {
            let per_minute = inner.content_minute.entry(key.clone()).or_default();
            per_minute.prune(now, minute);
            let by_minute = per_minute.wait_for(now, minute, 1, settings.content_per_minute);
            let per_hour = inner.content_hour.entry(key.clone()).or_default();
            per_hour.prune(now, hour);
            let by_hour = per_hour.wait_for(now, hour, 1, settings.content_per_hour);
            if let Some(wait) = by_minute.max(by_hour) {
                inner.refusals.content += 1;
                return Err(Refused {
                    limit: Refusal::Content,
                    retry_after: wait,
                });
            }
            if let Some(w) = inner.content_minute.get_mut(&key) {
                w.add(now, 1);
            }
            if let Some(w) = inner.content_hour.get_mut(&key) {
                w.add(now, 1);
            }
        }
        if let Some(w) = inner.points.get_mut(&(key.clone(), endpoint_of(path))) {
            w.add(now, cost);
        }
        *inner.in_flight.entry(key.clone()).or_default() += 1;
        Ok(Some(InFlight {
            key,
            inner: Arc::clone(&self.inner),
        }))
    }
}

/// What GitHub says when a secondary limit refuses a request.
const MESSAGE: &str = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.";

/// GitHub's answer to a request over a secondary limit: 403, its message, `retry-after` in
/// whole seconds (at least one).
pub fn refusal_response(refused: Refused) -> crate::http_util::Response {
    let seconds = refused.retry_after.as_secs_f64().ceil().max(1.0) as u64;
    crate::faults::error_response("/", 403, Some(seconds), Some(MESSAGE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_become_stars_and_words_stay() {
        assert_eq!(
            endpoint_of("/repos/acme/api/actions/secrets/TOKEN_1?x=1"),
            "/repos/*/*/actions/secrets/*"
        );
        assert_eq!(endpoint_of("/rate_limit"), "/rate_limit");
    }

    #[test]
    fn a_window_frees_its_oldest_weight_first() {
        let start = Instant::now();
        let span = Duration::from_secs(60);
        let mut window = Window::default();
        window.add(start, 5);
        window.add(start + Duration::from_secs(10), 5);
        assert_eq!(window.wait_for(start, span, 5, 15), None);
        assert_eq!(
            window.wait_for(start + Duration::from_secs(20), span, 5, 10),
            Some(Duration::from_secs(40))
        );
        window.prune(start + Duration::from_secs(61), span);
        assert_eq!(window.total, 5);
    }

    #[test]
    fn off_admits_everything_without_a_guard() {
        let limiter = Limiter::new(LimitSettings {
            enabled: false,
            concurrency: 0,
            ..LimitSettings::default()
        });
        assert!(matches!(
            limiter.admit("t", &http::Method::PUT, "/x"),
            Ok(None)
        ));
    }

    #[test]
    fn bad_flags_say_what_is_expected() {
        let err = LimitSettings::default().with_time_scale("0.5").unwrap_err();
        assert!(err.contains("at least 1"), "{err}");
        let err = LimitSettings::default().with_enabled("maybe").unwrap_err();
        assert!(err.contains("'on' or 'off'"), "{err}");
    }
}
