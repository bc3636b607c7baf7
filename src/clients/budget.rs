//! A per-credential request budget, so batches slow down before GitHub says stop.
//!
//! Every response's `x-ratelimit-*` headers update the bucket of the credential that made the
//! request; every request takes one from it first. When the bucket runs low, requests are
//! spread over the time left until the reset; when it is empty, the next request waits for the
//! reset. Buckets are keyed by a credential's fingerprint, never the credential.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Below this share of the limit, requests are spread out.
const LOW_WATER: f64 = 0.1;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    limit: u32,
    remaining: u32,
    reset_at: u64,
}

/// What the budget says before a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Go ahead now.
    Go,
    /// Wait this long first (the budget is low or empty).
    Wait(Duration),
}

/// Request budgets of every credential in use.
#[derive(Debug, Default)]
pub struct RateBudget {
    buckets: Mutex<HashMap<String, Bucket>>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl RateBudget {
    /// Records what the server said: `limit`, `remaining`, and `reset` (epoch seconds).
    pub fn observe(&self, key: &str, limit: u32, remaining: u32, reset_at: u64) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            limit,
            remaining,
            reset_at,
        });
        // Concurrent responses arrive out of order: within one window, trust the lowest count.
        if reset_at != bucket.reset_at || remaining < bucket.remaining {
            bucket.remaining = remaining;
        }
        bucket.limit = limit;
        bucket.reset_at = reset_at;
    }

    /// Takes one request from `key`'s budget and says whether to wait first.
    pub fn before_request(&self, key: &str) -> Pace {
        self.before_request_at(key, now_secs())
    }

    fn before_request_at(&self, key: &str, now: u64) -> Pace {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let Some(bucket) = buckets.get_mut(key) else {
            return Pace::Go;
        };
        if now >= bucket.reset_at {
            // A new window: the next response will tell the new numbers.
            return Pace::Go;
        }
        let left = Duration::from_secs(bucket.reset_at - now);
        if bucket.remaining == 0 {
            return Pace::Wait(left + Duration::from_secs(1));
        }
        let remaining = bucket.remaining;
        bucket.remaining -= 1;
        if f64::from(remaining) < f64::from(bucket.limit) * LOW_WATER {
            Pace::Wait(left / remaining)
        } else {
            Pace::Go
        }
    }

    /// Remaining requests and the reset time of `key`, if known.
    pub fn snapshot(&self, key: &str) -> Option<(u32, u32, u64)> {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.get(key).map(|b| (b.limit, b.remaining, b.reset_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plenty_left_goes_at_once_and_counts_down() {
        let budget = RateBudget::default();
        budget.observe("t", 5000, 4000, 1_000);
        assert_eq!(budget.before_request_at("t", 500), Pace::Go);
        assert_eq!(budget.snapshot("t"), Some((5000, 3999, 1_000)));
    }

    #[test]
    fn a_low_budget_spreads_requests_until_the_reset() {
        let budget = RateBudget::default();
        budget.observe("t", 5000, 100, 1_000);
        assert_eq!(
            budget.before_request_at("t", 500),
            Pace::Wait(Duration::from_secs(5))
        );
    }

    #[test]
    fn an_empty_budget_waits_for_the_reset() {
        let budget = RateBudget::default();
        budget.observe("t", 60, 0, 1_000);
        assert_eq!(
            budget.before_request_at("t", 990),
            Pace::Wait(Duration::from_secs(11))
        );
        assert_eq!(budget.before_request_at("t", 1_000), Pace::Go);
    }

    #[test]
    fn out_of_order_responses_keep_the_lowest_count() {
        let budget = RateBudget::default();
        budget.observe("t", 5000, 10, 1_000);
        budget.observe("t", 5000, 12, 1_000);
        assert_eq!(budget.snapshot("t"), Some((5000, 10, 1_000)));
        budget.observe("t", 5000, 4999, 4_600);
        assert_eq!(budget.snapshot("t"), Some((5000, 4999, 4_600)));
    }
}
