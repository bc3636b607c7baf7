//! The token exchange a GitHub workflow makes with `google-github-actions/auth`: the
//! workflow's OIDC ID token to STS (`/v1/token`, RFC 8693, the provider as audience) for a
//! federated token, then IAM Credentials `generateAccessToken` for the service account with
//! it. Works, refused (a service said no), or unknown (no answer to trust after retries).
//! The tokens live in this function only: never logged, never returned.

use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::super::iam::{CheckFailure, Verification, verdict};
use super::super::retry::{self, RetryError};
use super::WifClient;

const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";

/// What to exchange.
pub struct ExchangeRequest<'a> {
    /// The provider's full name, `projects/NUMBER/locations/global/workloadIdentityPools/P/providers/X`.
    pub provider: &'a str,
    /// The service account to impersonate.
    pub account: &'a str,
    /// The workflow's OIDC ID token.
    pub id_token: &'a str,
}

/// The message of an error body: OAuth's `error`/`error_description`, or Google's
/// `error.status`/`error.message`.
fn reason(body: &Value) -> String {
    match (&body["error"], &body["error_description"]) {
        (Value::String(code), Value::String(description)) => format!("{code}: {description}"),
        (Value::String(code), _) => code.clone(),
        (Value::Object(error), _) => format!(
            "{}: {}",
            error
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("refused"),
            error.get("message").and_then(Value::as_str).unwrap_or("")
        ),
        _ => "refused".to_owned(),
    }
}

/// One POST; the answer's JSON on 200, refused on 400/401/403/404, transient otherwise.
async fn post(
    client: &WifClient,
    what: &str,
    url: &str,
    bearer: Option<&str>,
    body: &Value,
) -> Result<Value, CheckFailure> {
    let mut request = client.http().post(url).json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| {
        CheckFailure::Transient(format!("no answer from {what} ({})", e.without_url()))
    })?;
    let status = response.status().as_u16();
    if let Some(refused) = super::super::http::redirect_refused(status, response.headers()) {
        return Err(CheckFailure::Refused(format!("{what}: {refused}")));
    }
    let answer: Value = response.json().await.unwrap_or_default();
    match status {
        200 => Ok(answer),
        400 | 401 | 403 | 404 => Err(CheckFailure::Refused(format!(
            "{what} answered {status} {}",
            reason(&answer)
        ))),
        _ => Err(CheckFailure::Transient(format!("{what} answered {status}"))),
    }
}

async fn retried<F, Fut>(
    client: &WifClient,
    what: &str,
    send: F,
) -> Result<Value, RetryError<CheckFailure>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Value, CheckFailure>>,
{
    let cancelled = client.calls().cancelled().clone();
    retry::with_retries(
        client.calls().policy(),
        what,
        send,
        CheckFailure::retry,
        move || cancelled(),
    )
    .await
}

/// Exchanges `request.id_token` for an access token of `request.account`, as the GitHub auth
/// action does.
pub async fn exchange(client: &WifClient, request: &ExchangeRequest<'_>) -> Verification {
    let endpoints = client.endpoints();
    let sts_url = format!("{}/v1/token", endpoints.sts);
    let sts_body = json!({
        "audience": format!("//iam.googleapis.com/{}", request.provider),
        "grantType": "urn:ietf:params:oauth:grant-type:token-exchange",
        "requestedTokenType": "urn:ietf:params:oauth:token-type:access_token",
        "scope": CLOUD_PLATFORM,
        "subjectTokenType": "urn:ietf:params:oauth:token-type:jwt",
        "subjectToken": request.id_token,
    });
    let sts = verdict(
        retried(client, "the STS token exchange", || {
            post(client, "STS", &sts_url, None, &sts_body)
        })
        .await,
    );
    let federated = match sts {
        Ok(answer) => match answer["access_token"].as_str() {
            Some(token) => Zeroizing::new(token.to_owned()),
            None => {
                return Verification::Unknown("STS answered 200 without an access_token".into());
            }
        },
        Err(verdict) => return verdict,
    };
    let url = format!(
        "{}/v1/projects/-/serviceAccounts/{}:generateAccessToken",
        endpoints.iam_credentials,
        super::account_segment(request.account)
    );
    let body = json!({"scope": [CLOUD_PLATFORM], "lifetime": "600s"});
    let generated = verdict(
        retried(client, "generateAccessToken", || {
            post(
                client,
                "IAM Credentials generateAccessToken",
                &url,
                Some(federated.as_str()),
                &body,
            )
        })
        .await,
    );
    match generated {
        Ok(answer) if answer["accessToken"].is_string() => Verification::Works,
        Ok(_) => {
            Verification::Unknown("generateAccessToken answered 200 without an accessToken".into())
        }
        Err(verdict) => verdict,
    }
}

/// Where a workflow's ID token comes from.
pub enum IdTokenSource<'a> {
    /// The emulator's Actions OIDC issuer at this base URL, minting for any repository.
    Emulator(&'a str),
    /// The Actions runtime of a workflow run (`ACTIONS_ID_TOKEN_REQUEST_URL` and its bearer
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`), minting for its own repository only.
    Actions {
        /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
        url: &'a str,
        /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
        bearer: &'a str,
    },
}

/// An ID token for `repo` with audience `audience`, as the Actions runtime hands it out
/// (`{"value": JWT}`); a failure is the verification's outcome.
pub async fn id_token(
    client: &WifClient,
    source: &IdTokenSource<'_>,
    repo: &str,
    audience: &str,
) -> Result<Zeroizing<String>, Verification> {
    let request = match source {
        IdTokenSource::Emulator(base) => client
            .http()
            .get(format!(
                "{}/_emulator/github/oidc/token",
                base.trim_end_matches('/')
            ))
            .query(&[("repository", repo), ("audience", audience)]),
        IdTokenSource::Actions { url, bearer } => client
            .http()
            .get(*url)
            .query(&[("audience", audience)])
            .bearer_auth(bearer),
    };
    let response = request.send().await.map_err(|e| {
        Verification::Unknown(format!(
            "no answer from the OIDC token endpoint ({})",
            e.without_url()
        ))
    })?;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or_default();
    match (status, answer["value"].as_str()) {
        (200, Some(token)) => Ok(Zeroizing::new(token.to_owned())),
        _ => Err(Verification::Unknown(format!(
            "the OIDC token endpoint answered {status} without a token"
        ))),
    }
}
