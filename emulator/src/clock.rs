//! The emulator's calendar: the clock that stamps what it creates (a key's `validAfterTime`, a
//! secret's and a version's `createTime`, a scheduled destroy time), so a test can live
//! through months of daily rotations in minutes. `POST /_emulator/clock` moves it
//! (`{"now": RFC 3339}` or `{"advance_secs": N}`), `GET` reads it, `POST /_emulator/reset`
//! puts it back on the system clock.
//!
//! Token lifetimes, JWT `iat`/`exp` checks and rate-limit windows keep the system clock: the
//! clients that sign those assertions use theirs. One calendar per process: tests that move
//! it run the emulator as its own process.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// Seconds the calendar runs ahead of (or behind) the system clock.
static OFFSET_SECS: AtomicI64 = AtomicI64::new(0);

/// The calendar's now.
pub fn now() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::seconds(OFFSET_SECS.load(Ordering::SeqCst))
}

/// Sets the calendar to `at` (it runs on from there at the normal pace).
pub fn set(at: DateTime<Utc>) {
    OFFSET_SECS.store((at - Utc::now()).num_seconds(), Ordering::SeqCst);
}

/// Moves the calendar forward by `seconds` (back, when negative).
pub fn advance(seconds: i64) {
    OFFSET_SECS.fetch_add(seconds, Ordering::SeqCst);
}

/// Puts the calendar back on the system clock.
pub fn reset() {
    OFFSET_SECS.store(0, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_moves_and_comes_back() {
        let target = Utc::now() + chrono::Duration::days(30);
        set(target);
        assert!((now() - target).num_seconds().abs() <= 1);
        advance(86_400);
        assert!(
            (now() - target - chrono::Duration::days(1))
                .num_seconds()
                .abs()
                <= 1
        );
        reset();
        assert!((now() - Utc::now()).num_seconds().abs() <= 1);
    }
}
