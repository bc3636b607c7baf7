//! Range checks for the numbers scripts hand to the host: a duration in seconds, a count.
//!
//! A number from a script can be anything Rhai holds — negative, NaN, infinite, `1e30` — and
//! `Duration::from_secs_f64` panics on most of those. Every number that becomes a duration or
//! a size is checked here first, with an error naming the argument and the range it takes.

use std::time::Duration;

use rhai::Dynamic;

/// The longest wait any script argument may ask for: a day.
pub const MAX_SCRIPT_SECONDS: u64 = 24 * 60 * 60;

/// `value` (an integer or a float) as a duration of 0 to `max_secs` seconds; `what` names the
/// argument in the error.
pub fn seconds(value: &Dynamic, what: &str, max_secs: u64) -> Result<Duration, String> {
    let expected = || format!("{what} must be a number of seconds from 0 to {max_secs}");
    let seconds = if let Ok(n) = value.as_int() {
        u64::try_from(n)
            .ok()
            .filter(|n| *n <= max_secs)
            .map(Duration::from_secs)
    } else if let Ok(f) = value.as_float() {
        // `max_secs` is at most a day here, far inside what an f64 holds exactly.
        (f.is_finite() && (0.0..=max_secs as f64).contains(&f)).then(|| Duration::from_secs_f64(f))
    } else {
        return Err(format!("{}, found {}", expected(), value.type_name()));
    };
    seconds.ok_or_else(|| format!("{}, found {value}", expected()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_range_numbers_become_durations() {
        assert_eq!(
            seconds(&Dynamic::from_int(2), "s", 10),
            Ok(Duration::from_secs(2))
        );
        assert_eq!(
            seconds(&Dynamic::from_float(0.5), "s", 10),
            Ok(Duration::from_millis(500))
        );
    }

    #[test]
    fn everything_else_is_refused_by_name() {
        for value in [
            Dynamic::from_int(-1),
            Dynamic::from_int(11),
            Dynamic::from_float(1e30),
            Dynamic::from_float(f64::NAN),
            Dynamic::from_float(f64::INFINITY),
            Dynamic::from_float(-0.5),
            Dynamic::from("3"),
        ] {
            let err = seconds(&value, "seconds", 10).unwrap_err();
            assert!(
                err.starts_with("seconds must be a number of seconds from 0 to 10"),
                "{err}"
            );
        }
    }
}
