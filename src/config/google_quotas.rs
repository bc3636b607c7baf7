//! `[limits.google]`: the Google quotas orchestra paces under, defaulting to the documented
//! values (the Secret Manager, IAM and Cloud Run quota pages). Lower them for a project whose quota was
//! cut; raise them for one granted more.

use serde::{Deserialize, Serialize};

/// Requests a window, per project (or per secret / version where Secret Manager limits those).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GoogleQuotas {
    /// Secret Manager access requests a minute per project (90,000).
    pub secret_manager_access_per_minute: u32,
    /// Secret Manager read requests (get, list) a minute per project (600).
    pub secret_manager_read_per_minute: u32,
    /// Secret Manager write requests a minute per project (600).
    pub secret_manager_write_per_minute: u32,
    /// Version adds and updates a second per global secret (2, soft).
    pub secret_manager_secret_writes_per_second: u32,
    /// Version adds and updates a minute per global secret (120, soft).
    pub secret_manager_secret_writes_per_minute: u32,
    /// Version adds and updates a second per regional secret (80, soft).
    pub secret_manager_regional_secret_writes_per_second: u32,
    /// Version adds and updates a minute per regional secret (4,800, soft).
    pub secret_manager_regional_secret_writes_per_minute: u32,
    /// Enables, disables and destroys a second per global version (1, soft).
    pub secret_manager_version_changes_per_second: u32,
    /// Enables, disables and destroys a minute per global version (60, soft).
    pub secret_manager_version_changes_per_minute: u32,
    /// IAM read requests a minute per project (6,000).
    pub iam_read_per_minute: u32,
    /// IAM write requests a minute per project (600; key creation and deletion count here).
    pub iam_write_per_minute: u32,
    /// Cloud Run Admin API read requests (service get and list) a minute per project and
    /// region (1,000).
    pub cloud_run_read_per_minute: u32,
}

impl Default for GoogleQuotas {
    fn default() -> Self {
        Self {
            secret_manager_access_per_minute: 90_000,
            secret_manager_read_per_minute: 600,
            secret_manager_write_per_minute: 600,
            secret_manager_secret_writes_per_second: 2,
            secret_manager_secret_writes_per_minute: 120,
            secret_manager_regional_secret_writes_per_second: 80,
            secret_manager_regional_secret_writes_per_minute: 4_800,
            secret_manager_version_changes_per_second: 1,
            secret_manager_version_changes_per_minute: 60,
            iam_read_per_minute: 6_000,
            iam_write_per_minute: 600,
            cloud_run_read_per_minute: 1_000,
        }
    }
}

impl GoogleQuotas {
    /// Every quota must allow at least one request; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        let fields = [
            (
                "secret_manager_access_per_minute",
                self.secret_manager_access_per_minute,
            ),
            (
                "secret_manager_read_per_minute",
                self.secret_manager_read_per_minute,
            ),
            (
                "secret_manager_write_per_minute",
                self.secret_manager_write_per_minute,
            ),
            (
                "secret_manager_secret_writes_per_second",
                self.secret_manager_secret_writes_per_second,
            ),
            (
                "secret_manager_secret_writes_per_minute",
                self.secret_manager_secret_writes_per_minute,
            ),
            (
                "secret_manager_regional_secret_writes_per_second",
                self.secret_manager_regional_secret_writes_per_second,
            ),
            (
                "secret_manager_regional_secret_writes_per_minute",
                self.secret_manager_regional_secret_writes_per_minute,
            ),
            (
                "secret_manager_version_changes_per_second",
                self.secret_manager_version_changes_per_second,
            ),
            (
                "secret_manager_version_changes_per_minute",
                self.secret_manager_version_changes_per_minute,
            ),
            ("iam_read_per_minute", self.iam_read_per_minute),
            ("iam_write_per_minute", self.iam_write_per_minute),
            ("cloud_run_read_per_minute", self.cloud_run_read_per_minute),
        ];
        match fields.iter().find(|(_, value)| *value == 0) {
            Some((field, _)) => Err(format!(
                "limits.google.{field}: expected a number of requests of at least 1, found 0"
            )),
            None => Ok(()),
        }
    }
}
