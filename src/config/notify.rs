//! `[notify]`: Slack channels and how alerts are paced.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Notification channels.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// Slack incoming webhooks by channel name.
    pub slack: std::collections::BTreeMap<String, SlackChannel>,
    /// The channel `notify::alert` posts to.
    pub alerts_channel: String,
    /// An unchanged condition is announced again after this long, e.g. "1h".
    #[serde(
        deserialize_with = "super::duration_from_text",
        serialize_with = "super::duration_to_text"
    )]
    pub realert_after: Duration,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            slack: std::collections::BTreeMap::new(),
            alerts_channel: "ops".into(),
            realert_after: Duration::from_secs(3600),
        }
    }
}

/// One Slack incoming webhook. The URL is a credential, so it is read from the environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackChannel {
    /// The environment variable holding the webhook URL.
    pub webhook_env: String,
}
