//! Pacing under GitHub's secondary rate limits, so writes queue instead of bursting into
//! refusals: one scheduler per process, a lane per credential, every request of that
//! credential passing through it before it is sent.
//!
//! A lane holds a concurrency cap (requests in flight) and sliding windows: points a minute
//! (a GET, HEAD or OPTIONS costs `read_points`, anything else `write_points`) and
//! content-creating requests a minute and an hour (every POST; an Actions-secret or variable
//! PUT when `secret_puts_are_content`). The values are GitHub's documented ones by default
//! (`[limits]`). GitHub counts points per endpoint without defining one; a lane counts them
//! across all of a credential's requests, which stays under the limit whatever "endpoint"
//! means, at the cost of a mixed workload going slower than it might.
//!
//! Windows slide (a token bucket of the same rate would allow a full burst and then the
//! refill within one minute, over the limit). A request is counted there when it arrives,
//! which is after it leaves here: its reservation is taken when it leaves and restamped when
//! its answer is in, so it never leaves this window before the remote's. Windows are also a
//! little longer than the minute (`margin`).
//! `time_scale` shortens the minute for a rehearsal against an emulator run with the same
//! `--time-scale`. Knows nothing of Rhai or of what the requests do.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A wait at least this long (real time) is logged with its reason and an estimate.
const LONG_WAIT: Duration = Duration::from_secs(5);

/// How often one lane logs a long wait.
const LOG_EVERY: Duration = Duration::from_secs(15);

/// The limits a lane keeps under (from `[limits]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PaceSettings {
    /// Requests in flight at once per credential.
    pub concurrency: u32,
    /// Points a minute per credential.
    pub points_per_minute: u32,
    /// Points a GET, HEAD or OPTIONS costs.
    pub read_points: u32,
    /// Points any other method costs.
    pub write_points: u32,
    /// Content-creating requests a minute.
    pub content_per_minute: u32,
    /// Content-creating requests an hour.
    pub content_per_hour: u32,
    /// Whether an Actions-secret or variable PUT creates content.
    pub secret_puts_are_content: bool,
    /// The minute is `60 / time_scale` seconds long.
    pub time_scale: f64,
}

impl Default for PaceSettings {
    fn default() -> Self {
        Self {
            concurrency: 100,
            points_per_minute: 900,
            read_points: 1,
            write_points: 5,
            content_per_minute: 80,
            content_per_hour: 500,
            secret_puts_are_content: false,
            time_scale: 1.0,
        }
    }
}

impl PaceSettings {
    /// The settings `[limits]` gives, with `time_scale` as the caller decided it.
    pub fn from_limits(limits: &crate::config::Limits, time_scale: f64) -> Self {
        Self {
            concurrency: limits.github_concurrency,
            points_per_minute: limits.github_points_per_minute,
            read_points: limits.github_read_points,
            write_points: limits.github_write_points,
            content_per_minute: limits.github_content_per_minute,
            content_per_hour: limits.github_content_per_hour,
            secret_puts_are_content: limits.github_secret_puts_are_content,
            time_scale,
        }
    }

    /// The shortest time `writes` write requests can take under these limits, `content` of
    /// them content-creating: GitHub allows a window's worth at once, then another each time
    /// the window has slid past the previous one, so the last request leaves after as many
    /// whole windows as the requests fill beyond the first (requests themselves taking no
    /// time). On GitHub's minute, whatever `time_scale` says.
    pub fn shortest_time(&self, writes: u64, content: u64) -> Duration {
        let minute = Duration::from_secs(60);
        let windows = |count: u64, cost: u32, limit: u32| -> u32 {
            let per_window = (u64::from(limit) / u64::from(cost.max(1))).max(1);
            let full = count.div_ceil(per_window).saturating_sub(1);
            u32::try_from(full).unwrap_or(u32::MAX)
        };
        let points = minute * windows(writes, self.write_points, self.points_per_minute);
        let per_minute = minute * windows(content, 1, self.content_per_minute);
        let per_hour = minute * 60 * windows(content, 1, self.content_per_hour);
        points.max(per_minute).max(per_hour)
    }

    /// Whether an Actions-secret write counts as content creation here.
    pub fn secret_writes_create_content(&self) -> bool {
        self.secret_puts_are_content
    }

    fn minute(&self) -> Duration {
        Duration::from_secs_f64(60.0 / self.time_scale.max(1.0))
    }

    /// How much longer than the minute a window is: a second a minute, for a remote whose
    /// windows are not quite ours (transit is covered by restamping at the answer).
    fn margin(&self) -> Duration {
        self.minute() / 60
    }

    fn cost(&self, method: &http::Method) -> u32 {
        match *method {
            http::Method::GET | http::Method::HEAD | http::Method::OPTIONS => self.read_points,
            _ => self.write_points,
        }
    }

    fn creates_content(&self, method: &http::Method, path: &str) -> bool {
        if *method == http::Method::POST {
            return true;
        }
        let path = path.split('?').next().unwrap_or("");
        let mut segments = path.rsplit('/').filter(|s| !s.is_empty());
        let _name = segments.next();
        self.secret_puts_are_content
            && *method == http::Method::PUT
            && matches!(segments.next(), Some("secrets" | "variables"))
    }
}

/// Reservations in a sliding window.
#[derive(Debug, Default)]
struct Window {
    /// When, how much, and the reservation it belongs to; oldest first.
    log: VecDeque<(Instant, u32, u64)>,
    total: u64,
}

impl Window {
    /// How long until `weight` more fits under `limit` in `span`; `None` if it fits now.
    fn wait_for(
        &mut self,
        now: Instant,
        span: Duration,
        weight: u32,
        limit: u32,
    ) -> Option<Duration> {
        while let Some(&(at, w, _)) = self.log.front() {
            if now.duration_since(at) < span {
                break;
            }
            self.log.pop_front();
            self.total -= u64::from(w);
        }
        let limit = u64::from(limit.max(weight));
        let weight = u64::from(weight);
        if self.total + weight <= limit {
            return None;
        }
        let mut left = self.total;
        for &(at, w, _) in &self.log {
            left -= u64::from(w);
            if left + weight <= limit {
                return Some(span.saturating_sub(now.duration_since(at)));
            }
        }
        Some(span)
    }

    /// Moves reservation `id` to `now` (when its answer came in, later than every other stamp,
    /// so the log stays in order); a reservation already out of the window stays out.
    fn restamp(&mut self, id: u64, now: Instant) {
        if let Some(i) = self.log.iter().position(|&(_, _, r)| r == id)
            && let Some((_, weight, _)) = self.log.remove(i)
        {
            self.log.push_back((now, weight, id));
        }
    }

    fn add(&mut self, now: Instant, weight: u32, id: u64) {
        self.log.push_back((now, weight, id));
        self.total += u64::from(weight);
    }
}

#[derive(Debug, Default)]
struct Windows {
    points: Window,
    content_minute: Window,
    content_hour: Window,
    last_logged: Option<Instant>,
}

#[derive(Debug)]
struct Lane {
    permits: Arc<Semaphore>,
    windows: Mutex<Windows>,
    queued_points: AtomicUsize,
    next_id: std::sync::atomic::AtomicU64,
}

/// One request's place: hold it until the answer is in.
#[derive(Debug)]
pub struct Ticket {
    _permit: OwnedSemaphorePermit,
    lane: Arc<Lane>,
    id: u64,
}

impl Drop for Ticket {
    // The remote counts a request when it arrives, which is before its answer comes back:
    // restamped at the answer, the reservation cannot leave this window before it leaves the
    // remote's, however long the request spent on the way.
    fn drop(&mut self) {
        let now = Instant::now();
        let mut w = self.lane.windows.lock().unwrap_or_else(|p| p.into_inner());
        w.points.restamp(self.id, now);
        w.content_minute.restamp(self.id, now);
        w.content_hour.restamp(self.id, now);
    }
}

/// A request's wait was cut short by cancellation.
#[derive(Debug, thiserror::Error)]
#[error("cancelled while waiting for GitHub's secondary rate limits")]
pub struct PaceCancelled;

/// The scheduler every GitHub request of a process shares.
#[derive(Debug)]
pub struct GithubPacer {
    settings: PaceSettings,
    lanes: Mutex<HashMap<String, Arc<Lane>>>,
}

impl GithubPacer {
    /// A scheduler keeping every credential under `settings`.
    pub fn new(settings: PaceSettings) -> Self {
        Self {
            settings,
            lanes: Mutex::default(),
        }
    }

    /// The limits it keeps under.
    pub fn settings(&self) -> &PaceSettings {
        &self.settings
    }

    fn lane(&self, key: &str) -> Arc<Lane> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        let lane = lanes.entry(key.to_owned()).or_insert_with(|| {
            Arc::new(Lane {
                permits: Arc::new(Semaphore::new(self.settings.concurrency.max(1) as usize)),
                windows: Mutex::default(),
                queued_points: AtomicUsize::new(0),
                next_id: std::sync::atomic::AtomicU64::new(0),
            })
        });
        Arc::clone(lane)
    }

    /// Waits until `method path` by credential `key` fits under every limit, and reserves its
    /// place. `cancelled` is polled while waiting.
    pub async fn acquire(
        &self,
        key: &str,
        method: &http::Method,
        path: &str,
        cancelled: &(dyn Fn() -> bool + Send + Sync),
    ) -> Result<Ticket, PaceCancelled> {
        let lane = self.lane(key);
        let cost = self.settings.cost(method);
        let content = self.settings.creates_content(method, path);
        lane.queued_points
            .fetch_add(cost as usize, Ordering::SeqCst);
        let outcome = self
            .wait_in(Arc::clone(&lane), cost, content, method, path, cancelled)
            .await;
        lane.queued_points
            .fetch_sub(cost as usize, Ordering::SeqCst);
        outcome
    }

    async fn wait_in(
        &self,
        lane: Arc<Lane>,
        cost: u32,
        content: bool,
        method: &http::Method,
        path: &str,
        cancelled: &(dyn Fn() -> bool + Send + Sync),
    ) -> Result<Ticket, PaceCancelled> {
        let permit = Arc::clone(&lane.permits)
            .acquire_owned()
            .await
            .map_err(|_| PaceCancelled)?;
        let s = &self.settings;
        let minute = s.minute() + s.margin();
        let hour = s.minute() * 60 + s.margin();
        loop {
            let (wait, reason) = {
                let mut w = lane.windows.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let by_points = w
                    .points
                    .wait_for(now, minute, cost, s.points_per_minute)
                    .map(|d| (d, "points a minute"));
                let by_content = if content {
                    let a = w
                        .content_minute
                        .wait_for(now, minute, 1, s.content_per_minute)
                        .map(|d| (d, "content creations a minute"));
                    let b = w
                        .content_hour
                        .wait_for(now, hour, 1, s.content_per_hour)
                        .map(|d| (d, "content creations an hour"));
                    a.max(b)
                } else {
                    None
                };
                match by_points.max(by_content) {
                    None => {
                        let id = lane.next_id.fetch_add(1, Ordering::SeqCst);
                        w.points.add(now, cost, id);
                        if content {
                            w.content_minute.add(now, 1, id);
                            w.content_hour.add(now, 1, id);
                        }
                        drop(w);
                        return Ok(Ticket {
                            _permit: permit,
                            lane: Arc::clone(&lane),
                            id,
                        });
                    }
                    Some((wait, reason)) => {
                        let due = wait >= LONG_WAIT
                            && w.last_logged
                                .is_none_or(|at| now.duration_since(at) >= LOG_EVERY);
                        if due {
                            w.last_logged = Some(now);
                        }
                        (wait, due.then_some(reason))
                    }
                }
            };
            if let Some(reason) = reason {
                self.log_wait(&lane, wait, reason, method, path);
            }
            if !super::retry::sleep_unless_cancelled(wait, "GitHub's secondary limits", &cancelled)
                .await
            {
                return Err(PaceCancelled);
            }
        }
    }

    fn log_wait(
        &self,
        lane: &Lane,
        wait: Duration,
        reason: &str,
        method: &http::Method,
        path: &str,
    ) {
        let queued = lane.queued_points.load(Ordering::SeqCst);
        let per_minute = f64::from(self.settings.points_per_minute.max(1));
        let estimate = self.settings.minute().mul_f64(queued as f64 / per_minute);
        // Waiting is the plan working, not a fault: info, not warn.
        tracing::info!(
            "pacing under GitHub's secondary limit of {} {reason}: waiting {} before {method} {path}; \
             about {queued} points queued for this credential, about {} to send them all",
            match reason {
                "points a minute" => self.settings.points_per_minute,
                "content creations a minute" => self.settings.content_per_minute,
                _ => self.settings.content_per_hour,
            },
            humantime::format_duration(round_secs(wait)),
            humantime::format_duration(round_secs(estimate)),
        );
    }
}

fn round_secs(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs_f64().ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        false
    }

    #[test]
    fn the_shortest_time_counts_the_windows_beyond_the_first() {
        let github = PaceSettings::default();
        // 180 writes of 5 points fit in a minute: 500 take three windows.
        assert_eq!(github.shortest_time(500, 0), Duration::from_secs(120));
        assert_eq!(github.shortest_time(180, 0), Duration::ZERO);
        assert_eq!(github.shortest_time(181, 0), Duration::from_secs(60));
        assert_eq!(github.shortest_time(0, 0), Duration::ZERO);
        // As content: 80 a minute (seven windows, 6 minutes, for 500); 500 an hour (501 wait an hour).
        assert_eq!(github.shortest_time(500, 500), Duration::from_secs(6 * 60));
        assert_eq!(github.shortest_time(501, 501), Duration::from_secs(3600));
    }

    #[test]
    fn a_full_window_waits_for_its_oldest_reservation() {
        let start = Instant::now();
        let span = Duration::from_secs(60);
        let mut window = Window::default();
        window.add(start, 5, 0);
        window.add(start + Duration::from_secs(30), 5, 1);
        assert_eq!(window.wait_for(start, span, 5, 15), None);
        assert_eq!(
            window.wait_for(start + Duration::from_secs(40), span, 5, 10),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            window.wait_for(start + Duration::from_secs(61), span, 5, 10),
            None
        );
    }

    #[test]
    fn writes_cost_more_and_secret_puts_create_content_only_when_asked() {
        let mut s = PaceSettings::default();
        assert_eq!(s.cost(&http::Method::GET), 1);
        assert_eq!(s.cost(&http::Method::PUT), 5);
        let put = "/repos/a/b/actions/secrets/X";
        assert!(!s.creates_content(&http::Method::PUT, put));
        assert!(s.creates_content(&http::Method::POST, "/repos/a/b/dispatches"));
        s.secret_puts_are_content = true;
        assert!(s.creates_content(&http::Method::PUT, put));
        assert!(!s.creates_content(&http::Method::PUT, "/repos/a/b/actions/secrets"));
    }

    #[tokio::test]
    async fn writes_past_the_points_queue_for_the_next_minute() {
        // A 100 ms minute, 10 points: two writes fit, the third waits for the window.
        let pacer = GithubPacer::new(PaceSettings {
            points_per_minute: 10,
            time_scale: 600.0,
            ..PaceSettings::default()
        });
        let put = || pacer.acquire("t", &http::Method::PUT, "/x", &never);
        let now = |f| tokio::time::timeout(Duration::ZERO, f);
        assert!(now(put()).await.is_ok());
        assert!(now(put()).await.is_ok());
        assert!(now(put()).await.is_err(), "a third write went at once");
        // Another credential has its own lane.
        assert!(
            now(pacer.acquire("u", &http::Method::PUT, "/x", &never))
                .await
                .is_ok()
        );
        assert!(put().await.is_ok());
    }

    #[tokio::test]
    async fn the_concurrency_cap_holds_a_request_until_a_ticket_is_dropped() {
        let pacer = Arc::new(GithubPacer::new(PaceSettings {
            concurrency: 1,
            ..PaceSettings::default()
        }));
        let first = pacer
            .acquire("t", &http::Method::GET, "/x", &never)
            .await
            .unwrap();
        let second = {
            let pacer = Arc::clone(&pacer);
            tokio::spawn(async move {
                pacer
                    .acquire("t", &http::Method::GET, "/x", &never)
                    .await
                    .map(|_| ())
            })
        };
        tokio::task::yield_now().await;
        assert!(!second.is_finished());
        drop(first);
        assert!(second.await.unwrap().is_ok());
    }
}
