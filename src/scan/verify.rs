//! Asks each credential's own issuer whether it still works, through orchestra's clients
//! (their retry policy, Retry-After handling and refusal of redirects):
//!
//! - GitHub tokens: `GET /user` at the configured GitHub (owner login, `X-OAuth-Scopes`);
//! - Google service-account key files: a JWT-bearer token exchange at the file's `token_uri`,
//!   only when that is Google's or a configured one (the emulator's under `--emulate`), and
//!   whether IAM still lists the key id;
//! - Slack webhooks: an empty message to the same path on the configured Slack hooks host,
//!   which Slack rejects (`400 no_text`) without posting when the hook is live;
//! - everything else: unknown.
//!
//! A value is never sent anywhere but its issuer, and never appears in a [`Verification`].

use std::sync::Arc;

use super::value::SERVICE_ACCOUNT_KEY_RULE;
use super::verification::{Outcome, Verification};
use crate::clients::github as gh;
use crate::clients::iam::{self, IamKeys};
use crate::clients::retry::RetryPolicy;
use crate::clients::slack;
use crate::secret::{FingerprintKey, Secret, ServiceAccountKey};

/// Slack's webhook host, the only place a Slack webhook found in code is sent.
pub const SLACK_HOOKS_URL: &str = "https://hooks.slack.com";

/// Where the issuers are and how to reach them.
pub struct Verifier {
    /// GitHub's REST base URL (`[github].api_url`, or the emulator's).
    pub github_api_url: String,
    /// Token endpoints a key file may name (Google's and `[gcp].token_uris`, or the emulator's).
    pub token_uris: Vec<String>,
    /// Where Slack webhooks are checked (`[scan].slack_hooks_url`, or the emulator's).
    pub slack_hooks_url: String,
    /// The IAM client, or why there is none.
    pub iam: Result<Arc<IamKeys>, String>,
    /// The shared retry policy.
    pub policy: RetryPolicy,
    /// True once the run is asked to stop.
    pub cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    /// The fingerprint key, for the URLs derived from a webhook (masked like the webhook).
    pub key: Arc<FingerprintKey>,
}

/// Which issuer a rule's findings belong to.
enum Provider {
    Github,
    Google,
    Slack,
    None,
}

fn provider(rule: &str) -> Provider {
    match rule {
        "github-refresh-token" => Provider::None,
        r if r.starts_with("github-") => Provider::Github,
        SERVICE_ACCOUNT_KEY_RULE => Provider::Google,
        "slack-webhook" => Provider::Slack,
        _ => Provider::None,
    }
}

impl Verifier {
    /// What `value`'s issuer says of it (`rule` says which issuer that is).
    pub async fn verify(&self, rule: &str, value: &Secret) -> Verification {
        match provider(rule) {
            Provider::Github => self.github(value).await,
            Provider::Google => self.google(value).await,
            Provider::Slack => self.slack(value).await,
            Provider::None => Verification::unknown(format!("orchestra has no check for {rule}")),
        }
    }

    async fn github(&self, token: &Secret) -> Verification {
        let checked = gh::check_token(
            &self.github_api_url,
            token,
            gh::Retrying {
                policy: &self.policy,
                cancelled: &*self.cancelled,
            },
        )
        .await;
        match checked {
            Ok(check) if check.works => {
                let detail = if check.login.is_some() {
                    "GitHub answered /user"
                } else {
                    "GitHub accepted it but refused /user to it (an app installation token)"
                };
                Verification {
                    owner: check.login,
                    scopes: check.scopes,
                    ..Verification::new(Outcome::Live, detail)
                }
            }
            Ok(_) => Verification::new(Outcome::Refused, "GitHub answered 401 Bad credentials"),
            Err(e) => Verification::unknown(format!("GitHub gave no answer to trust: {e}")),
        }
    }

    async fn google(&self, value: &Secret) -> Verification {
        let Ok(file) = ServiceAccountKey::parse(value) else {
            return Verification::unknown(
                "only a private key was found, not a whole key file: it cannot be checked alone",
            );
        };
        let facts = |v: Verification| Verification {
            account: Some(file.client_email.clone()),
            key_id: Some(file.private_key_id.clone()),
            ..v
        };
        if !self.token_uris.contains(&file.token_uri) {
            return facts(Verification::unknown(format!(
                "its token_uri {} is neither Google's nor one of [gcp].token_uris, so the key was not sent",
                file.token_uri
            )));
        }
        let exchanged = iam::verify_key(
            &file,
            &self.token_uris,
            &self.policy,
            Arc::clone(&self.cancelled),
        )
        .await;
        let key_in_iam = match &self.iam {
            Ok(iam) => iam
                .list(&file.client_email)
                .await
                .ok()
                .map(|keys| keys.iter().any(|k| k.id == file.private_key_id)),
            Err(_) => None,
        };
        let mut verdict = match exchanged {
            iam::Verification::Works => {
                Verification::new(Outcome::Live, "the token endpoint issued a token")
            }
            iam::Verification::Refused(why) => Verification::new(
                Outcome::Refused,
                format!("the token endpoint refused it: {why}"),
            ),
            iam::Verification::Unknown(why) => Verification::unknown(why),
        };
        if verdict.outcome == Outcome::Unknown && key_in_iam == Some(false) {
            verdict.outcome = Outcome::Refused;
        }
        facts(Verification {
            key_in_iam,
            ..verdict
        })
    }

    async fn slack(&self, webhook: &Secret) -> Verification {
        let url = String::from_utf8_lossy(webhook.expose_for_request()).into_owned();
        let Some(path) = url
            .strip_prefix("https://hooks.slack.com/services/")
            .filter(|p| p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'/'))
        else {
            return Verification::unknown("not a hooks.slack.com webhook URL, so it was not sent");
        };
        let target = Secret::new(
            format!(
                "{}/services/{path}",
                self.slack_hooks_url.trim_end_matches('/')
            )
            .into_bytes(),
            &self.key,
        );
        match slack::probe_webhook(&target, &self.policy, Arc::clone(&self.cancelled)).await {
            Ok(probe) => classify_slack(&probe),
            Err(e) => Verification::unknown(format!("Slack gave no answer to trust: {e}")),
        }
    }
}

/// How many checks run at once.
const CONCURRENT_CHECKS: usize = 8;

/// Verifies every `(rule, value)` concurrently (a few at a time); the verifications in the
/// same order.
pub async fn verify_all(
    verifier: Arc<Verifier>,
    items: Vec<(String, Secret)>,
) -> Vec<Verification> {
    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_CHECKS));
    let mut tasks = tokio::task::JoinSet::new();
    let count = items.len();
    for (index, (rule, value)) in items.into_iter().enumerate() {
        let verifier = Arc::clone(&verifier);
        let permits = Arc::clone(&permits);
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (index, verifier.verify(&rule, &value).await)
        });
    }
    let mut out = vec![None; count];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, verification)) = joined {
            out[index] = Some(verification);
        }
    }
    out.into_iter()
        .map(|v| v.unwrap_or_else(|| Verification::unknown("the check stopped before it answered")))
        .collect()
}

/// Live: Slack got past the hook to the payload. Refused: Slack's codes for a hook, team or
/// channel that cannot take messages.
fn classify_slack(probe: &slack::Probe) -> Verification {
    let said = format!(
        "Slack answered {} {} to an empty message",
        probe.status, probe.code
    );
    let outcome = match (probe.status, probe.code.as_str()) {
        (
            200..=299 | 400,
            "ok" | "no_text" | "invalid_payload" | "missing_text_or_fallback_or_attachments",
        ) => Outcome::Live,
        (
            403 | 404 | 410,
            "invalid_token"
            | "no_service"
            | "no_team"
            | "team_disabled"
            | "channel_not_found"
            | "channel_is_archived"
            | "action_prohibited"
            | "posting_to_general_channel_denied",
        ) => Outcome::Refused,
        _ => Outcome::Unknown,
    };
    Verification::new(outcome, said)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(status: u16, code: &str) -> slack::Probe {
        slack::Probe {
            status,
            code: code.to_owned(),
        }
    }

    #[test]
    fn slack_answers_map_to_three_outcomes() {
        let cases = [
            (400, "no_text", Outcome::Live),
            (403, "invalid_token", Outcome::Refused),
            (404, "no_service", Outcome::Refused),
            (410, "channel_is_archived", Outcome::Refused),
            (418, "", Outcome::Unknown),
        ];
        for (status, code, outcome) in cases {
            let said = classify_slack(&probe(status, code));
            assert_eq!(said.outcome, outcome, "{status} {code}");
        }
    }
}
