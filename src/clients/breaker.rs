//! Named circuit breakers with state persisted in SQLite.
//!
//! Closed: calls go through and consecutive failures are counted; at the threshold the breaker
//! opens. Open: calls are refused at once until the recovery time has passed; then one trial is
//! let through (half-open). The trial's success closes the breaker, its failure reopens it. A
//! half-open trial whose process died is given up after another recovery period.

use std::time::Duration;

use crate::store::{BreakerRecord, BreakerState, Store, StoreError};

/// When a breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open it.
    pub threshold: u32,
    /// How long it stays open before a trial.
    pub recovery: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            threshold: 5,
            recovery: Duration::from_secs(30),
        }
    }
}

/// Whether a call may go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Closed: go ahead.
    Allowed,
    /// Half-open: this call is the one trial.
    Trial,
    /// Open: refused; a trial is allowed after `retry_in`.
    Refused {
        /// Time until the next trial.
        retry_in: Duration,
        /// Failures that opened it.
        failures: u32,
        /// The last failure's message.
        last_error: Option<String>,
    },
}

/// What [`Breakers::admit_call`] decided, and what it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// Whether the call may go ahead.
    pub admission: Admission,
    /// The breaker was on record as closed with no failure: a success changes nothing.
    clean: bool,
}

/// The breakers of one state database.
#[derive(Clone)]
pub struct Breakers {
    store: Store,
    writes: bool,
}

impl Breakers {
    /// Breakers persisted in `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            writes: true,
        }
    }

    /// A plan's view of the breakers in `store`: every decision is made as a real run would
    /// make it, and nothing is written, so a plan cannot open (or close) a breaker that the
    /// next real run would then obey.
    pub fn observing(store: Store) -> Self {
        Self {
            store,
            writes: false,
        }
    }

    /// The breakers a run in this mode may use: written in a real run, only read in a plan.
    pub fn for_run(store: Store, plan: bool) -> Self {
        if plan {
            Self::observing(store)
        } else {
            Self::new(store)
        }
    }

    /// Runs `decide` over the current record of `name`, writing what it returns unless this
    /// is an observing view.
    fn update<T>(
        &self,
        name: &str,
        mut decide: impl FnMut(Option<BreakerRecord>, i64) -> (T, Option<BreakerRecord>),
    ) -> Result<T, StoreError> {
        let writes = self.writes;
        self.store.update_breaker(name, |current, now| {
            let (answer, next) = decide(current, now);
            (answer, next.filter(|_| writes))
        })
    }

    /// Asks whether a call through breaker `name` may go ahead.
    pub fn admit(&self, name: &str, policy: BreakerPolicy) -> Result<Admission, StoreError> {
        self.admit_call(name, policy)
            .map(|admitted| admitted.admission)
    }

    /// Asks whether one call through breaker `name` may go ahead, remembering what the
    /// breaker looked like so that [`Self::record_success_after`] need not read it again.
    pub fn admit_call(&self, name: &str, policy: BreakerPolicy) -> Result<Admitted, StoreError> {
        self.update(name, |current, now| {
            let clean = current
                .as_ref()
                .is_some_and(|c| c.state == BreakerState::Closed && c.failures == 0);
            let (admission, next) = admit(current, policy, now);
            (Admitted { admission, clean }, next)
        })
    }

    /// Records that the call `admitted` let through succeeded. When the breaker was clean
    /// at admission, nothing is read or written: the success would leave it as it was. (A
    /// failure another process recorded in between then stays counted instead of being
    /// reset, which errs toward opening.)
    pub fn record_success_after(
        &self,
        name: &str,
        policy: BreakerPolicy,
        admitted: &Admitted,
    ) -> Result<(), StoreError> {
        if admitted.clean {
            return Ok(());
        }
        self.record_success(name, policy)
    }

    /// Records that a call through `name` succeeded: the breaker closes.
    pub fn record_success(&self, name: &str, policy: BreakerPolicy) -> Result<(), StoreError> {
        self.update(name, |current, now| {
            let closed = fresh(name, policy, now);
            let changed = current.is_none_or(|c| c.state != BreakerState::Closed || c.failures > 0);
            ((), changed.then_some(closed))
        })
    }

    /// Records that a call through `name` failed with `error`; returns the new state.
    pub fn record_failure(
        &self,
        name: &str,
        policy: BreakerPolicy,
        error: &str,
    ) -> Result<BreakerState, StoreError> {
        self.update(name, |current, now| {
            let mut next = current.unwrap_or_else(|| fresh(name, policy, now));
            next.threshold = policy.threshold;
            next.recovery_ms = millis(policy.recovery);
            next.failures = next.failures.saturating_add(1);
            next.last_error = Some(error.to_owned());
            next.updated_at = now;
            if next.state == BreakerState::HalfOpen || next.failures >= policy.threshold {
                next.state = BreakerState::Open;
                next.opened_at = Some(now);
            }
            (next.state, Some(next))
        })
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn fresh(name: &str, policy: BreakerPolicy, now: i64) -> BreakerRecord {
    BreakerRecord {
        name: name.to_owned(),
        state: BreakerState::Closed,
        failures: 0,
        threshold: policy.threshold,
        recovery_ms: millis(policy.recovery),
        opened_at: None,
        last_error: None,
        updated_at: now,
    }
}

/// The admission decision, and the record to write (None: unchanged).
fn admit(
    current: Option<BreakerRecord>,
    policy: BreakerPolicy,
    now: i64,
) -> (Admission, Option<BreakerRecord>) {
    let Some(record) = current else {
        return (Admission::Allowed, None);
    };
    let recovery = millis(policy.recovery);
    match record.state {
        BreakerState::Closed => (Admission::Allowed, None),
        BreakerState::Open | BreakerState::HalfOpen => {
            // An open breaker waits from when it opened; a half-open one from when its trial
            // started (a trial that never reported back is given up after the same time).
            let since = match record.state {
                BreakerState::Open => record.opened_at.unwrap_or(record.updated_at),
                _ => record.updated_at,
            };
            let waited = now.saturating_sub(since);
            if waited >= recovery {
                let trial = BreakerRecord {
                    state: BreakerState::HalfOpen,
                    updated_at: now,
                    ..record
                };
                (Admission::Trial, Some(trial))
            } else {
                let retry_in = Duration::from_millis(u64::try_from(recovery - waited).unwrap_or(0));
                (
                    Admission::Refused {
                        retry_in,
                        failures: record.failures,
                        last_error: record.last_error,
                    },
                    None,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breakers() -> (tempfile::TempDir, Breakers) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        (dir, Breakers::new(store))
    }

    const POLICY: BreakerPolicy = BreakerPolicy {
        threshold: 3,
        recovery: Duration::from_millis(200),
    };

    #[test]
    fn opens_after_the_threshold_and_refuses() {
        let (_dir, b) = breakers();
        for i in 1..=3 {
            assert_eq!(b.admit("svc", POLICY).unwrap(), Admission::Allowed);
            let state = b.record_failure("svc", POLICY, "503").unwrap();
            let expected = if i < 3 {
                BreakerState::Closed
            } else {
                BreakerState::Open
            };
            assert_eq!(state, expected);
        }
        assert!(matches!(
            b.admit("svc", POLICY).unwrap(),
            Admission::Refused { failures: 3, .. }
        ));
    }

    #[test]
    fn one_trial_after_recovery_then_closes_on_success() {
        let (_dir, b) = breakers();
        for _ in 0..3 {
            b.record_failure("svc", POLICY, "503").unwrap();
        }
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(b.admit("svc", POLICY).unwrap(), Admission::Trial);
        assert!(matches!(
            b.admit("svc", POLICY).unwrap(),
            Admission::Refused { .. }
        ));
        b.record_success("svc", POLICY).unwrap();
        assert_eq!(b.admit("svc", POLICY).unwrap(), Admission::Allowed);
    }

    #[test]
    fn a_failed_trial_reopens() {
        let (_dir, b) = breakers();
        for _ in 0..3 {
            b.record_failure("svc", POLICY, "503").unwrap();
        }
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(b.admit("svc", POLICY).unwrap(), Admission::Trial);
        assert_eq!(
            b.record_failure("svc", POLICY, "still 503").unwrap(),
            BreakerState::Open
        );
        assert!(matches!(
            b.admit("svc", POLICY).unwrap(),
            Admission::Refused { .. }
        ));
    }

    #[test]
    fn a_success_after_a_clean_admission_writes_nothing_and_after_a_failure_resets() {
        let (_dir, b) = breakers();
        let first = b.admit_call("svc", POLICY).unwrap();
        assert_eq!(first.admission, Admission::Allowed);
        // No record yet: the success writes the closed record, as record_success does.
        b.record_success_after("svc", POLICY, &first).unwrap();
        let record = b.store.breakers().unwrap();
        assert_eq!(record.len(), 1);
        let clean = b.admit_call("svc", POLICY).unwrap();
        b.record_failure("svc", POLICY, "503").unwrap();
        // Admitted clean: the failure recorded meanwhile stays counted.
        b.record_success_after("svc", POLICY, &clean).unwrap();
        assert_eq!(b.store.breakers().unwrap()[0].failures, 1);
        // Admitted with a failure on record: the success resets it.
        let dirty = b.admit_call("svc", POLICY).unwrap();
        b.record_success_after("svc", POLICY, &dirty).unwrap();
        assert_eq!(b.store.breakers().unwrap()[0].failures, 0);
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let (_dir, b) = breakers();
        b.record_failure("svc", POLICY, "503").unwrap();
        b.record_failure("svc", POLICY, "503").unwrap();
        b.record_success("svc", POLICY).unwrap();
        b.record_failure("svc", POLICY, "503").unwrap();
        assert_eq!(b.admit("svc", POLICY).unwrap(), Admission::Allowed);
    }
}
