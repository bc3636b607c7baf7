//! Where a GitHub token comes from: the main credential of `[github]`, and the further ones
//! `[[github.credentials]]` names for watching (rate limits of every token and installation
//! the team uses).

use serde::{Deserialize, Serialize};

/// The name the `[github]` credential goes by in reports and alerts.
pub const MAIN_CREDENTIAL: &str = "main";

/// Where one GitHub token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// The environment variable of this name.
    Env(String),
    /// The latest version of this Secret Manager secret.
    SecretManager(String),
    /// An installation token minted as a GitHub App.
    App {
        /// The app's id.
        app_id: u64,
        /// The installation whose token is minted.
        installation_id: u64,
        /// The Secret Manager secret holding the app's private key (PEM).
        key_secret: String,
    },
}

impl TokenSource {
    /// The App source the three App settings name: none when all are unset, an error naming
    /// `app_id_field` (how the section spells `app_id`) when only some are set.
    pub fn app(
        app_id: Option<u64>,
        installation_id: Option<u64>,
        key_secret: Option<&String>,
        app_id_field: &str,
    ) -> Result<Option<Self>, String> {
        match (app_id, installation_id, key_secret) {
            (Some(app_id), Some(installation_id), Some(key_secret)) => Ok(Some(Self::App {
                app_id,
                installation_id,
                key_secret: key_secret.clone(),
            })),
            (None, None, None) => Ok(None),
            _ => Err(format!(
                "a GitHub App needs all of {app_id_field}, installation_id and app_key_secret"
            )),
        }
    }

    /// `token` or `app installation N`, for reports.
    pub fn kind(&self) -> String {
        match self {
            TokenSource::Env(_) | TokenSource::SecretManager(_) => "token".to_owned(),
            TokenSource::App {
                installation_id, ..
            } => format!("app installation {installation_id}"),
        }
    }
}

/// A further GitHub credential, `[[github.credentials]]`: a name, and exactly one of
/// `token_env`, `token_secret`, or `app_id` + `installation_id` + `app_key_secret`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedCredential {
    /// How reports and alerts name it.
    pub name: String,
    /// The environment variable holding the token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// The Secret Manager secret holding the token.
    #[serde(default)]
    pub token_secret: Option<String>,
    /// A GitHub App's id (with `installation_id` and `app_key_secret`).
    #[serde(default)]
    pub app_id: Option<u64>,
    /// The app installation whose token is minted.
    #[serde(default)]
    pub installation_id: Option<u64>,
    /// The Secret Manager secret holding the app's private key.
    #[serde(default)]
    pub app_key_secret: Option<String>,
}

impl NamedCredential {
    /// Its token source, or what is wrong with the entry.
    pub fn source(&self) -> Result<TokenSource, String> {
        let exactly_one = "set exactly one of token_env, token_secret, or app_id + installation_id + app_key_secret";
        let app_set = self.app_id.is_some()
            || self.installation_id.is_some()
            || self.app_key_secret.is_some();
        let sources = [
            self.token_env.is_some(),
            self.token_secret.is_some(),
            app_set,
        ];
        if sources.iter().filter(|set| **set).count() != 1 {
            return Err(exactly_one.into());
        }
        if let Some(env) = &self.token_env {
            return Ok(TokenSource::Env(env.clone()));
        }
        if let Some(secret) = &self.token_secret {
            return Ok(TokenSource::SecretManager(secret.clone()));
        }
        TokenSource::app(
            self.app_id,
            self.installation_id,
            self.app_key_secret.as_ref(),
            "app_id",
        )?
        .ok_or_else(|| exactly_one.into())
    }
}

/// Checks every `[[github.credentials]]` entry: a usable source, a unique name that is not
/// the main credential's.
pub fn validate(credentials: &[NamedCredential]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for (index, credential) in credentials.iter().enumerate() {
        let at = format!("github.credentials[{index}] ({})", credential.name);
        if credential.name.trim().is_empty() {
            return Err(format!(
                "github.credentials[{index}]: name must not be empty"
            ));
        }
        if credential.name == MAIN_CREDENTIAL {
            return Err(format!(
                "{at}: the name \"{MAIN_CREDENTIAL}\" is the [github] credential's; choose another"
            ));
        }
        if !seen.insert(credential.name.as_str()) {
            return Err(format!("{at}: the name is used twice"));
        }
        credential.source().map_err(|e| format!("{at}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> NamedCredential {
        NamedCredential {
            name: name.into(),
            token_env: None,
            token_secret: None,
            app_id: None,
            installation_id: None,
            app_key_secret: None,
        }
    }

    #[test]
    fn exactly_one_source() {
        let mut both = named("ci");
        both.token_env = Some("A".into());
        both.token_secret = Some("b".into());
        assert!(validate(&[both]).unwrap_err().contains("exactly one"));
        let mut half_app = named("bot");
        half_app.app_id = Some(1);
        assert!(validate(&[half_app]).unwrap_err().contains("app_id"));
        assert!(validate(&[named("none")]).is_err());
    }

    #[test]
    fn names_are_unique_and_not_main() {
        let mut a = named("ci");
        a.token_env = Some("A".into());
        let mut main = a.clone();
        main.name = MAIN_CREDENTIAL.into();
        assert!(validate(&[main]).unwrap_err().contains("[github]"));
        assert!(
            validate(&[a.clone(), a])
                .unwrap_err()
                .contains("used twice")
        );
    }
}
