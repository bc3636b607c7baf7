//! What two observations of one rate-limit window say about where it is heading: requests
//! per hour since the previous check, and when the window runs out at that rate if that comes
//! before it resets.

use crate::store::RateLimitCheck;

/// One window as just observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Requests left.
    pub remaining: i64,
    /// Requests used.
    pub used: i64,
    /// When the window resets (seconds since the epoch).
    pub reset_at: i64,
}

/// The burn rate and the exhaustion it projects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    /// Requests per hour since the previous check; none without one.
    pub burn_per_hour: Option<f64>,
    /// When the window runs out at that rate (seconds since the epoch), only if before it
    /// resets.
    pub exhausts_at: Option<i64>,
}

/// Projects `now` against the `previous` observation of the same credential and resource.
///
/// Within one window the burn is what `remaining` fell by; across a reset it is what the new
/// window has used so far, over the time since the previous check (an underestimate when the
/// reset came late in that time, never an overestimate).
pub fn project(previous: Option<&RateLimitCheck>, now: Observation) -> Projection {
    let none = Projection {
        burn_per_hour: None,
        exhausts_at: None,
    };
    let Some(previous) = previous else {
        return none;
    };
    let elapsed_secs = (now.at_ms - previous.checked_at) as f64 / 1000.0;
    if elapsed_secs <= 0.0 {
        return none;
    }
    let consumed = if previous.reset_at == now.reset_at {
        (previous.remaining - now.remaining).max(0)
    } else {
        now.used.max(0)
    };
    let burn_per_hour = consumed as f64 / elapsed_secs * 3600.0;
    let now_secs = now.at_ms.div_euclid(1000);
    let exhausts_at = if now.remaining <= 0 {
        Some(now_secs)
    } else if burn_per_hour > 0.0 {
        let secs_left = now.remaining as f64 / burn_per_hour * 3600.0;
        Some(now_secs.saturating_add(secs_left.ceil() as i64))
    } else {
        None
    };
    Projection {
        burn_per_hour: Some(burn_per_hour),
        exhausts_at: exhausts_at.filter(|at| *at < now.reset_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn previous(at_ms: i64, remaining: i64, reset_at: i64) -> RateLimitCheck {
        RateLimitCheck {
            run_id: None,
            checked_at: at_ms,
            credential: "main".into(),
            kind: "token".into(),
            resource: "core".into(),
            limit: 5000,
            remaining,
            used: 5000 - remaining,
            reset_at,
            burn_per_hour: None,
            exhausts_at: None,
        }
    }

    fn now(at_ms: i64, remaining: i64, reset_at: i64) -> Observation {
        Observation {
            at_ms,
            remaining,
            used: 5000 - remaining,
            reset_at,
        }
    }

    #[test]
    fn no_previous_check_projects_nothing() {
        let p = project(None, now(0, 100, 3600));
        assert_eq!(p.burn_per_hour, None);
        assert_eq!(p.exhausts_at, None);
    }

    #[test]
    fn a_fast_burn_runs_out_before_the_reset() {
        // 1000 requests in 10 minutes: 6000/h; 3000 left last 30 minutes; reset in 50.
        let before = previous(0, 4000, 3600);
        let p = project(Some(&before), now(600_000, 3000, 3600));
        assert_eq!(p.burn_per_hour, Some(6000.0));
        assert_eq!(p.exhausts_at, Some(600 + 1800));
    }

    #[test]
    fn a_slow_burn_resets_first() {
        let before = previous(0, 4000, 3600);
        let p = project(Some(&before), now(600_000, 3990, 3600));
        assert_eq!(p.burn_per_hour, Some(60.0));
        assert_eq!(p.exhausts_at, None);
    }

    #[test]
    fn across_a_reset_the_new_window_usage_counts() {
        let before = previous(0, 10, 3600);
        let p = project(Some(&before), now(3_600_000, 4500, 7200));
        assert_eq!(p.burn_per_hour, Some(500.0));
    }

    #[test]
    fn an_empty_window_is_exhausted_now() {
        let before = previous(0, 5, 3600);
        let p = project(Some(&before), now(60_000, 0, 3600));
        assert_eq!(p.exhausts_at, Some(60));
    }
}
