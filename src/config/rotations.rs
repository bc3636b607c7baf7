//! `[[rotations.service_accounts]]`: which service accounts `rotate_service_account_keys`
//! rotates, where each key goes, and how long old keys and versions are kept;
//! `[[rotations.github_tokens]]`: the GitHub tokens `rotate_github_tokens` rotates.
//!
//! Each entry has a `max_age`: a run rotates a credential only once the current one is that
//! old (or `--arg force=…` names it), so a daily schedule, a rerun or a second machine all
//! converge on one rotation per period.

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
    /// How old the current token (its Secret Manager version's create time) may get before a
    /// run rotates it; default [`GithubTokenKind::default_max_age`].
    #[serde(
        default,
        deserialize_with = "super::optional_duration_from_text",
        serialize_with = "super::optional_duration_to_text"
    )]
    pub max_age: Option<Duration>,
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

impl GithubTokenKind {
    /// The `max_age` when none is configured: 30 minutes for an installation token (it lives
    /// one hour, so a token rotated at 30 minutes always has half an hour left), 90 days for a
    /// personal access token (which the operator supplies by hand).
    pub fn default_max_age(self) -> Duration {
        match self {
            GithubTokenKind::Installation => Duration::from_secs(30 * 60),
            GithubTokenKind::Pat => Duration::from_secs(90 * 24 * 3600),
        }
    }
}

/// How long GitHub lets an installation token live.
pub const INSTALLATION_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

impl GithubTokenRotation {
    /// The configured `max_age`, or the default for its kind.
    pub fn max_age(&self) -> Duration {
        self.max_age.unwrap_or_else(|| self.kind.default_max_age())
    }

    fn validate(&self, at: &str) -> Result<(), String> {
        if let Some(max_age) = self.max_age {
            if max_age.is_zero() {
                return Err(format!(
                    "{at}.max_age: expected a duration above zero, such as \"30m\" or \"90d\""
                ));
            }
            if self.kind == GithubTokenKind::Installation && max_age >= INSTALLATION_TOKEN_LIFETIME
            {
                return Err(format!(
                    "{at}.max_age: an installation token lives one hour, expected less than \"1h\" (such as \"30m\"), found \"{}\"",
                    humantime::format_duration(max_age)
                ));
            }
        }
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
    /// How old the account's newest enabled key (IAM's `validAfterTime`) may get before a run
    /// rotates it, e.g. "30d" (the default).
    #[serde(
        default = "default_key_max_age",
        deserialize_with = "super::duration_from_text",
        serialize_with = "super::duration_to_text"
    )]
    pub max_age: Duration,
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

fn default_key_max_age() -> Duration {
    Duration::from_secs(30 * 24 * 3600)
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
            if rotation.max_age.is_zero() {
                return Err(format!(
                    "{at}.max_age: expected a duration above zero, such as \"30d\""
                ));
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::Config;

    fn load(toml: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("orchestra.toml"), toml).map_err(|e| e.to_string())?;
        Config::load(None, dir.path()).map_err(|e| e.to_string())
    }

    const ACCOUNT: &str = "[[rotations.service_accounts]]\naccount = \"a@p.iam.gserviceaccount.com\"\nsecret = \"a-key\"\n";
    const INSTALLATION: &str = "[[rotations.github_tokens]]\nname = \"bot\"\nkind = \"installation\"\nsecret = \"bot-token\"\napp_id = 1\ninstallation_id = 2\napp_key_secret = \"app-key\"\n";

    #[test]
    fn max_age_defaults_to_30_days_for_keys_and_30_minutes_for_installation_tokens() {
        let config = load(&format!("{ACCOUNT}{INSTALLATION}")).unwrap();
        let rotations = &config.rotations;
        assert_eq!(
            rotations.service_accounts[0].max_age,
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(
            rotations.github_tokens[0].max_age(),
            Duration::from_secs(1800)
        );
    }

    #[test]
    fn max_age_is_read_as_a_duration() {
        let config = load(&format!(
            "{ACCOUNT}max_age = \"7d\"\n{INSTALLATION}max_age = \"20m\"\n"
        ))
        .unwrap();
        assert_eq!(
            config.rotations.service_accounts[0].max_age,
            Duration::from_secs(7 * 86_400)
        );
        assert_eq!(
            config.rotations.github_tokens[0].max_age(),
            Duration::from_secs(1200)
        );
    }

    #[test]
    fn an_installation_token_max_age_of_an_hour_or_more_names_the_field() {
        let err = load(&format!("{INSTALLATION}max_age = \"2h\"\n")).unwrap_err();
        assert!(err.contains("rotations.github_tokens[0].max_age"), "{err}");
        assert!(err.contains("lives one hour"), "{err}");
        let err = load(&format!("{ACCOUNT}max_age = \"soon\"\n")).unwrap_err();
        assert!(err.contains("max_age"), "{err}");
        assert!(err.contains("expected a duration"), "{err}");
    }
}
