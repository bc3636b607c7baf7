//! GitHub App installation tokens (minted with the app's key, revoked with the token itself),
//! token checks, and workflow dispatch.

use std::time::Duration;

use octocrab::Octocrab;
use serde::Deserialize;

use super::{
    GithubClient, GithubError, Idempotent, RepoSlug, Workflow, error::describe_octocrab, repo_path,
};
use crate::clients::retry::{self, RetryError, RetryPolicy};
use crate::secret::Secret;

/// How the App and token calls are retried: the shared policy, and whether the run was
/// cancelled (a long `Retry-After` wait stops then).
#[derive(Clone, Copy)]
pub struct Retrying<'a> {
    /// Attempts and longest wait.
    pub policy: &'a RetryPolicy,
    /// True once the run is asked to stop.
    pub cancelled: &'a (dyn Fn() -> bool + Send + Sync),
}

impl Retrying<'_> {
    /// Runs `call`, retrying what GitHub's answer allows for a call of `idempotent`.
    async fn run<T, Op, Fut>(
        self,
        what: &str,
        idempotent: Idempotent,
        call: Op,
    ) -> Result<T, GithubError>
    where
        Op: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, GithubError>>,
    {
        retry::with_retries(
            self.policy,
            what,
            call,
            |e: &GithubError| e.retry(idempotent),
            self.cancelled,
        )
        .await
        .map_err(RetryError::into_inner)
    }
}

/// A freshly minted installation token.
pub struct InstallationToken {
    /// The token text.
    pub token: String,
    /// RFC 3339 expiry (one hour ahead on GitHub).
    pub expires_at: String,
}

/// What GitHub says of a token.
#[derive(Debug, Clone)]
pub struct TokenCheck {
    /// Whether `/user` (or, for an installation token, `/installation/repositories`) answered.
    pub works: bool,
    /// The login it acts as, when it is a user token.
    pub login: Option<String>,
    /// `X-OAuth-Scopes` of a classic token.
    pub scopes: Vec<String>,
    /// `github-authentication-token-expiration`, when GitHub sends it.
    pub expires_at: Option<String>,
}

fn text(secret: &Secret) -> Result<String, GithubError> {
    super::token_text(secret)
}

async fn answer(
    octocrab: &Octocrab,
    response: Result<
        http::Response<http_body_util::combinators::BoxBody<bytes::Bytes, octocrab::Error>>,
        octocrab::Error,
    >,
) -> Result<super::Answer, GithubError> {
    let response = response.map_err(|e| GithubError::Transport(describe_octocrab(&e)))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = octocrab
        .body_to_string(response)
        .await
        .map_err(|e| GithubError::Transport(describe_octocrab(&e)))?;
    super::error::checked(super::Answer {
        status,
        headers,
        body,
    })
}

/// Mints an installation token for `installation_id` of app `app_id` with the app's private
/// key (PEM). Retried only when GitHub turned the request away (429, `Retry-After`): a lost
/// answer would mint a second token.
pub async fn mint_installation_token(
    base_url: &str,
    app_id: u64,
    installation_id: u64,
    app_key: &Secret,
    retrying: Retrying<'_>,
) -> Result<InstallationToken, GithubError> {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(app_key.expose_for_request())
        // jsonwebtoken's error describes the PEM it could not read: a fixed sentence instead.
        .map_err(|_| {
            GithubError::Config("the app key is not an RSA private key in PEM form".into())
        })?;
    let app = Octocrab::builder()
        .base_uri(base_url)
        .map_err(|e| GithubError::Config(format!("bad GitHub URL {base_url}: {e}")))?
        .app(octocrab::models::AppId(app_id), key)
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .build()
        .map_err(|e| GithubError::Config(format!("cannot build the GitHub App client: {e}")))?;
    let path = super::ApiPath::of(&["app", "installations"])
        .number(installation_id)
        .word("access_tokens");
    let answer = retrying
        .run(
            &format!("mint a token for installation {installation_id}"),
            Idempotent::No,
            || async { answer(&app, app._post(path.as_str(), None::<&()>).await).await },
        )
        .await?;
    #[derive(Deserialize)]
    struct Minted {
        token: String,
        expires_at: String,
    }
    let minted: Minted = serde_json::from_str(&answer.body)
        .map_err(|e| GithubError::Malformed(format!("installation token: {e}")))?;
    Ok(InstallationToken {
        token: minted.token,
        expires_at: minted.expires_at,
    })
}

/// Revokes an installation token (`DELETE /installation/token`, authenticated by itself).
pub async fn revoke_installation_token(
    base_url: &str,
    token: &Secret,
    retrying: Retrying<'_>,
) -> Result<(), GithubError> {
    let client = Octocrab::builder()
        .base_uri(base_url)
        .map_err(|e| GithubError::Config(format!("bad GitHub URL {base_url}: {e}")))?
        .personal_token(text(token)?)
        .build()
        .map_err(|e| GithubError::Config(format!("cannot build the GitHub client: {e}")))?;
    retrying
        .run("revoke an installation token", Idempotent::Yes, || async {
            answer(
                &client,
                client._delete("/installation/token", None::<&()>).await,
            )
            .await
        })
        .await?;
    Ok(())
}

/// Asks GitHub who `token` is: `/user` for user tokens (scopes and expiry from the headers).
pub async fn check_token(
    base_url: &str,
    token: &Secret,
    retrying: Retrying<'_>,
) -> Result<TokenCheck, GithubError> {
    let client = Octocrab::builder()
        .base_uri(base_url)
        .map_err(|e| GithubError::Config(format!("bad GitHub URL {base_url}: {e}")))?
        .personal_token(text(token)?)
        .build()
        .map_err(|e| GithubError::Config(format!("cannot build the GitHub client: {e}")))?;
    let asked = retrying
        .run("check a token", Idempotent::Yes, || async {
            answer(&client, client._get("/user").await).await
        })
        .await;
    match asked {
        Ok(answer) => {
            let header = |name: &str| {
                answer
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let login = serde_json::from_str::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|v| v["login"].as_str().map(str::to_owned));
            Ok(TokenCheck {
                works: true,
                login,
                scopes: header("x-oauth-scopes")
                    .map(|s| {
                        s.split(',')
                            .map(|x| x.trim().to_owned())
                            .filter(|x| !x.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
                expires_at: header("github-authentication-token-expiration"),
            })
        }
        Err(GithubError::Api { status: 401, .. }) => Ok(TokenCheck {
            works: false,
            login: None,
            scopes: Vec::new(),
            expires_at: None,
        }),
        // An installation token cannot read /user but does work.
        Err(GithubError::Api { status: 403, .. }) => Ok(TokenCheck {
            works: true,
            login: None,
            scopes: Vec::new(),
            expires_at: None,
        }),
        Err(e) => Err(e),
    }
}

/// `/repos/OWNER/NAME/actions/workflows/WORKFLOW/dispatches`.
pub fn dispatch_path(repo: &RepoSlug, workflow: &Workflow) -> super::ApiPath {
    repo_path(repo)
        .word("actions")
        .word("workflows")
        .name(workflow.as_str())
        .word("dispatches")
}

impl GithubClient {
    /// Dispatches workflow `workflow` of `repo` on `git_ref` with `inputs`. Not retried.
    pub async fn dispatch_workflow(
        &self,
        repo: &RepoSlug,
        workflow: &Workflow,
        git_ref: &str,
        inputs: &serde_json::Value,
    ) -> Result<(), GithubError> {
        let path = dispatch_path(repo, workflow);
        let body = serde_json::json!({"ref": git_ref, "inputs": inputs});
        self.request(
            http::Method::POST,
            path.as_str(),
            Some(&body),
            Idempotent::No,
        )
        .await?;
        Ok(())
    }

    /// Revokes personal tokens through `POST /credentials/revoke` (no authentication needed).
    pub async fn revoke_credentials(&self, tokens: &[Secret]) -> Result<(), GithubError> {
        let credentials: Vec<String> = tokens.iter().map(text).collect::<Result<_, _>>()?;
        let body = serde_json::json!({ "credentials": credentials });
        self.request(
            http::Method::POST,
            "/credentials/revoke",
            Some(&body),
            Idempotent::Yes,
        )
        .await?;
        Ok(())
    }
}
