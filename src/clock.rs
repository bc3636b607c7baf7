//! The time playbooks see: `run::now()`, the age of a credential, the budget month.
//!
//! Test builds honour `ORCHESTRA_TEST_NOW` (RFC 3339): this process's clock starts at that
//! moment and runs at the normal pace from there, so a test can run a daily schedule over
//! simulated months against an emulator whose clock it moves the same way
//! (`POST /_emulator/clock`). Release builds ignore the variable; nothing else reads it.

use std::sync::OnceLock;

/// The variable test builds read.
pub const TEST_NOW_VAR: &str = "ORCHESTRA_TEST_NOW";

fn system_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Milliseconds to add to the system clock: 0 unless a test build was given
/// `ORCHESTRA_TEST_NOW`.
fn offset_ms() -> i64 {
    static OFFSET: OnceLock<i64> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        if !cfg!(debug_assertions) {
            return 0;
        }
        let Ok(text) = std::env::var(TEST_NOW_VAR) else {
            return 0;
        };
        match chrono::DateTime::parse_from_rfc3339(&text) {
            Ok(at) => at.timestamp_millis() - system_ms(),
            Err(e) => {
                tracing::warn!(
                    "{TEST_NOW_VAR}: expected an RFC 3339 time such as 2026-03-01T00:00:00Z, found \"{text}\" ({e}); using the system clock"
                );
                0
            }
        }
    })
}

/// Now, in milliseconds since the epoch (UTC).
pub fn now_ms() -> i64 {
    system_ms().saturating_add(offset_ms())
}

/// Now, in whole seconds since the epoch (UTC).
pub fn now_secs() -> i64 {
    now_ms().div_euclid(1000)
}

/// Now, as a chrono time (UTC).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(now_ms()).unwrap_or_else(chrono::Utc::now)
}
