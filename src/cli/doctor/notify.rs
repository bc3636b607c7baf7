//! Slack: each configured channel's webhook variable is set (its value is never shown).

use super::context::Context;
use super::finding::Finding;

const NAME: &str = "slack";

/// The `slack` finding.
pub fn check(context: &Context) -> Vec<Finding> {
    let channels = &context.config.notify.slack;
    if context.services.is_emulated() {
        return vec![Finding::ok(NAME, "the emulator's webhooks (--emulate)")];
    }
    if channels.is_empty() {
        return vec![Finding::skipped(
            NAME,
            "no [notify.slack.*] channel: alerts go to the log only",
        )];
    }
    let missing: Vec<String> = channels
        .iter()
        .filter(|(_, c)| std::env::var_os(&c.webhook_env).is_none_or(|v| v.is_empty()))
        .map(|(name, c)| format!("{name} ({})", c.webhook_env))
        .collect();
    vec![if missing.is_empty() {
        Finding::ok(
            NAME,
            format!(
                "webhook set for {}",
                channels.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    } else {
        Finding::failed(
            NAME,
            format!("webhook variable not set for {}", missing.join(", ")),
            "export each variable named above with the channel's incoming-webhook URL",
        )
    }]
}
