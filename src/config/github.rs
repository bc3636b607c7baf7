//! `[github]`: where GitHub is and the credential orchestra acts with.

use serde::{Deserialize, Serialize};

use super::{NamedCredential, TokenSource};

/// GitHub's endpoint and credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GithubSettings {
    /// REST base URL (GitHub Enterprise: `https://HOST/api/v3`).
    pub api_url: String,
    /// The environment variable holding a token (a PAT or an installation token).
    pub token_env: String,
    /// Read the token from this Secret Manager secret instead (`projects/P/secrets/ID`).
    pub token_secret: Option<String>,
    /// Authenticate as this GitHub App instead (with `installation_id` and `app_key_secret`).
    pub app_id: Option<u64>,
    /// The app's installation whose tokens orchestra uses.
    pub installation_id: Option<u64>,
    /// The Secret Manager secret holding the app's private key (PEM).
    pub app_key_secret: Option<String>,
    /// Further credentials whose rate limits are watched (`[[github.credentials]]`).
    pub credentials: Vec<NamedCredential>,
}

impl GithubSettings {
    /// Where the main credential's token comes from: an App when `app_id`, `installation_id`
    /// and `app_key_secret` are all set, else `token_secret`, else `token_env`.
    pub fn source(&self) -> Result<TokenSource, String> {
        let app = TokenSource::app(
            self.app_id,
            self.installation_id,
            self.app_key_secret.as_ref(),
            "[github].app_id",
        )?;
        Ok(app.unwrap_or_else(|| match &self.token_secret {
            Some(name) => TokenSource::SecretManager(name.clone()),
            None => TokenSource::Env(self.token_env.clone()),
        }))
    }
}

impl Default for GithubSettings {
    fn default() -> Self {
        Self {
            api_url: "https://api.github.com".into(),
            token_env: "GITHUB_TOKEN".into(),
            token_secret: None,
            app_id: None,
            installation_id: None,
            app_key_secret: None,
            credentials: Vec::new(),
        }
    }
}
