//! `[[rotations.service_accounts]]`: which service accounts `rotate_service_account_keys`
//! rotates, where each key goes, and how long old keys and versions are kept;
//! `[[rotations.github_tokens]]`: the GitHub tokens `rotate_github_tokens` rotates.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The rotations orchestra.toml declares.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RotationSettings {
    /// Service accounts whose keys are rotated.
    pub service_accounts: Vec<ServiceAccountRotation>,
    /// GitHub tokens that are rotated.
    pub github_tokens: Vec<GithubTokenRotation>,
}

/// One GitHub token's rotation: an App installation token orchestra mints, or a personal
/// access token the operator supplies (GitHub cannot mint those by API).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubTokenRotation {
    /// How the summary and the state name it.
    pub name: String,
    /// `installation` or `pat`.
    pub kind: GithubTokenKind,
    /// The Secret Manager secret that holds the token (aliases `pending`, `current`).
    pub secret: String,
    /// Where the token goes: GitHub Actions secrets.
    #[serde(default)]
    pub consumers: Vec<Consumer>,
    /// installation: the App's id.
    #[serde(default)]
    pub app_id: Option<u64>,
    /// installation: the installation whose token is minted.
    #[serde(default)]
    pub installation_id: Option<u64>,
    /// installation: the Secret Manager secret holding the App's private key.
    #[serde(default)]
    pub app_key_secret: Option<String>,
    /// pat: where the new token comes from: `env:VAR`, `stdin`, or `pending` (a version the
    /// operator staged in `secret` under the alias `pending`).
    #[serde(default)]
    pub source: Option<String>,
    /// pat: the scopes the new token must carry.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// pat: revoke the old token through GitHub's credential revocation endpoint (otherwise
    /// the summary lists it as a step by hand).
    #[serde(default)]
    pub revoke_old: bool,
}

/// What kind of GitHub token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GithubTokenKind {
    /// An App installation token (lives one hour).
    Installation,
    /// A personal access token.
    Pat,
}

impl GithubTokenRotation {
    fn validate(&self, at: &str) -> Result<(), String> {
        match self.kind {
            GithubTokenKind::Installation => {
                if self.app_id.is_none()
                    || self.installation_id.is_none()
                    || self.app_key_secret.is_none()
                {
                    return Err(format!(
                        "{at}: an installation token needs app_id, installation_id and app_key_secret"
                    ));
                }
            }
            GithubTokenKind::Pat => {
                let source = self.source.as_deref().unwrap_or("");
                let valid = source == "stdin"
                    || source == "pending"
                    || source.strip_prefix("env:").is_some_and(|v| !v.is_empty());
                if !valid {
                    return Err(format!(
                        "{at}.source: expected \"env:VAR\", \"stdin\" or \"pending\", found \"{source}\""
                    ));
                }
            }
        }
        Ok(())
    }
}

/// One service account's rotation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountRotation {
    /// The account's email.
    pub account: String,
    /// The Secret Manager secret that holds its current key file (aliases `pending`,
    /// `current`).
    pub secret: String,
    /// Where the key file goes: GitHub Actions secrets.
    #[serde(default)]
    pub consumers: Vec<Consumer>,
    /// Keys kept, the current one included; older disabled keys are deleted once their grace
    /// period is over.
    #[serde(default = "default_keep_keys")]
    pub keep_keys: u32,
    /// How long a disabled key (or version) is kept before it may be deleted, e.g. "7d".
    #[serde(
        default = "default_grace",
        deserialize_with = "super::duration_from_text",
        serialize_with = "super::duration_to_text"
    )]
    pub grace: Duration,
    /// What happens to old secret versions after the grace period: `disable` (kept, disabled)
    /// or `destroy`.
    #[serde(default)]
    pub old_versions: OldVersions,
}

/// One consumer of a rotated key file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    /// `owner/repo`, `owner/repo:environment` or `org:NAME`.
    pub target: String,
    /// The Actions secret's name.
    pub name: String,
}

/// The fate of old Secret Manager versions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OldVersions {
    /// Disabled at once, kept.
    #[default]
    Disable,
    /// Disabled at once, destroyed after the grace period.
    Destroy,
}

impl OldVersions {
    /// `disable` or `destroy`.
    pub fn as_str(self) -> &'static str {
        match self {
            OldVersions::Disable => "disable",
            OldVersions::Destroy => "destroy",
        }
    }
}

fn default_keep_keys() -> u32 {
    2
}

fn default_grace() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

impl RotationSettings {
    /// Checks every entry: an account email, a secret, at least one key kept.
    pub fn validate(&self) -> Result<(), String> {
        for (index, rotation) in self.github_tokens.iter().enumerate() {
            rotation.validate(&format!("rotations.github_tokens[{index}]"))?;
        }
        for (index, rotation) in self.service_accounts.iter().enumerate() {
            let at = format!("rotations.service_accounts[{index}]");
            if !rotation.account.contains('@') {
                return Err(format!(
                    "{at}.account: expected a service account email, found \"{}\"",
                    rotation.account
                ));
            }
            if rotation.secret.trim().is_empty() {
                return Err(format!("{at}.secret: expected a Secret Manager secret id"));
            }
            if !(1..=10).contains(&rotation.keep_keys) {
                return Err(format!(
                    "{at}.keep_keys: expected 1 to 10 (IAM allows 10 keys), found {}",
                    rotation.keep_keys
                ));
            }
        }
        Ok(())
    }
}
