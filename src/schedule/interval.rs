//! An interval such as `15m`, and the cron expression that runs something that often.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// How often a schedule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval(Duration);

impl Interval {
    /// The interval as a duration.
    pub fn duration(self) -> Duration {
        self.0
    }

    /// The interval of a cron expression [`Interval::cron_expression`] wrote; none for any
    /// other expression.
    pub fn from_cron_expression(cron: &str) -> Option<Self> {
        let minutes = match cron.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["*", "*", "*", "*", "*"] => 1,
            ["0", "*", "*", "*", "*"] => 60,
            ["0", "0", "*", "*", "*"] => 24 * 60,
            [every, "*", "*", "*", "*"] => every.strip_prefix("*/")?.parse().ok()?,
            ["0", every, "*", "*", "*"] => every.strip_prefix("*/")?.parse::<u64>().ok()? * 60,
            _ => return None,
        };
        Some(Self(Duration::from_secs(minutes * 60)))
    }

    /// The cron expression for this interval, if cron can express it: whole minutes dividing
    /// an hour, whole hours dividing a day, or one day.
    pub fn cron_expression(self) -> Result<String, String> {
        let secs = self.0.as_secs();
        let refuse = || {
            format!(
                "cron cannot run something every {self}: use whole minutes that divide 60 \
                 (1m, 5m, 15m, 30m …), whole hours that divide 24 (1h, 2h, 6h …), or 1d; \
                 `orchestra daemon` takes any interval"
            )
        };
        if secs == 0 || !secs.is_multiple_of(60) || self.0.subsec_nanos() != 0 {
            return Err(refuse());
        }
        let minutes = secs / 60;
        if minutes < 60 {
            if !60u64.is_multiple_of(minutes) {
                return Err(refuse());
            }
            return Ok(if minutes == 1 {
                "* * * * *".to_owned()
            } else {
                format!("*/{minutes} * * * *")
            });
        }
        if !minutes.is_multiple_of(60) {
            return Err(refuse());
        }
        let hours = minutes / 60;
        if hours < 24 {
            if !24u64.is_multiple_of(hours) {
                return Err(refuse());
            }
            return Ok(if hours == 1 {
                "0 * * * *".to_owned()
            } else {
                format!("0 */{hours} * * *")
            });
        }
        if hours == 24 {
            return Ok("0 0 * * *".to_owned());
        }
        Err(refuse())
    }
}

impl FromStr for Interval {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let duration = humantime::parse_duration(text).map_err(|e| {
            format!(
                "expected an interval such as \"30s\", \"15m\" or \"1h\", found \"{text}\" ({e})"
            )
        })?;
        if duration.is_zero() {
            return Err(format!(
                "an interval must be longer than zero, found \"{text}\""
            ));
        }
        Ok(Self(duration))
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let text = String::deserialize(de)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Interval {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_expressions_read_back() {
        for text in ["1m", "15m", "1h", "6h", "1d"] {
            let interval: Interval = text.parse().unwrap();
            let cron = interval.cron_expression().unwrap();
            assert_eq!(
                Interval::from_cron_expression(&cron),
                Some(interval),
                "{cron}"
            );
        }
        assert_eq!(Interval::from_cron_expression("5 4 * * sun"), None);
    }

    fn cron(text: &str) -> Result<String, String> {
        text.parse::<Interval>()?.cron_expression()
    }

    #[test]
    fn cron_expressions_for_common_intervals() {
        assert_eq!(cron("1m").unwrap(), "* * * * *");
        assert_eq!(cron("15m").unwrap(), "*/15 * * * *");
        assert_eq!(cron("1h").unwrap(), "0 * * * *");
        assert_eq!(cron("6h").unwrap(), "0 */6 * * *");
        assert_eq!(cron("1d").unwrap(), "0 0 * * *");
    }

    #[test]
    fn intervals_cron_cannot_express_are_refused_with_a_reason() {
        for text in ["7m", "90s", "5h", "2d", "30s"] {
            let err = cron(text).unwrap_err();
            assert!(
                err.contains("cron cannot run something every"),
                "{text}: {err}"
            );
        }
        assert!("0s".parse::<Interval>().is_err());
        assert!(
            "soon"
                .parse::<Interval>()
                .unwrap_err()
                .contains("found \"soon\"")
        );
    }
}
