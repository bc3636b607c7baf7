//! `[rate_limits]`: when a GitHub rate-limit window is low enough to warn about.

use serde::{Deserialize, Serialize};

/// Thresholds for `playbooks/monitor_rate_limits.rhai`, as the share of a window left.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// A warning when this percentage of a window or less is left.
    pub warning_percent: f64,
    /// Critical when this percentage or less is left.
    pub critical_percent: f64,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            warning_percent: 25.0,
            critical_percent: 10.0,
        }
    }
}

impl RateLimitSettings {
    /// Checks the thresholds are percentages with critical below warning.
    pub fn validate(&self) -> Result<(), String> {
        for (field, value) in [
            ("warning_percent", self.warning_percent),
            ("critical_percent", self.critical_percent),
        ] {
            if !(0.0..=100.0).contains(&value) {
                return Err(format!(
                    "rate_limits.{field}: expected a percentage between 0 and 100, found {value}"
                ));
            }
        }
        if self.critical_percent >= self.warning_percent {
            return Err(format!(
                "rate_limits.critical_percent ({}) must be below rate_limits.warning_percent ({})",
                self.critical_percent, self.warning_percent
            ));
        }
        Ok(())
    }
}
