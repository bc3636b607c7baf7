//! The GitHub Actions OIDC issuer: the discovery document and JWKS that
//! `https://token.actions.githubusercontent.com` serves, and ID tokens signed with the
//! emulator's issuer key carrying the claims a workflow run's token carries (`sub`
//! `repo:OWNER/REPO:ref:REF`, `repository`, `repository_owner`, `ref`, `aud`, `iss`, …).
//!
//! Tokens are minted as the Actions runtime hands them out: `GET
//! /_emulator/github/oidc/token?repository=OWNER/REPO&audience=AUD[&ref=REF]` answers
//! `{"value": JWT}`, the shape of `ACTIONS_ID_TOKEN_REQUEST_URL`'s answer.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

use crate::http_util::{Request, Response, github_error, json_response, now_secs};
use crate::keys;
use crate::server::Shared;

/// The issuer every GitHub Actions ID token names.
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
const KID: &str = "emulator-actions-oidc";

static KEY: std::sync::OnceLock<Result<keys::RsaKeyPair, String>> = std::sync::OnceLock::new();

fn key() -> Result<&'static keys::RsaKeyPair, String> {
    KEY.get_or_init(keys::generate_rsa)
        .as_ref()
        .map_err(Clone::clone)
}

/// Whether `issuer` is one this emulator signs for (GitHub's, or the emulator's own URL).
pub fn is_own_issuer(issuer: &str, base: &str) -> bool {
    let issuer = issuer.trim_end_matches('/');
    issuer == ISSUER || issuer == base.trim_end_matches('/')
}

/// Checks `token`'s signature against the issuer key; returns its claims.
pub fn verify(token: &str) -> Result<Value, String> {
    let key = key()?;
    keys::verify_rs256(token, &key.public_pem).map_err(|e| e.to_string())
}

/// `/.well-known/openid-configuration` and `/.well-known/jwks`.
pub fn well_known(request: &Request) -> Response {
    match request.segments().get(1).copied() {
        Some("openid-configuration") => json_response(
            200,
            &json!({
                "issuer": ISSUER,
                "jwks_uri": format!("{}/.well-known/jwks", request.base),
                "subject_types_supported": ["public", "pairwise"],
                "response_types_supported": ["id_token"],
                "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository", "repository_id", "repository_owner", "repository_owner_id", "enterprise", "enterprise_id", "run_id", "run_number", "run_attempt", "actor", "actor_id", "workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref", "event_name", "ref_type", "ref_protected", "environment", "environment_node_id", "job_workflow_ref", "job_workflow_sha", "repository_visibility", "runner_environment", "issuer_scope"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid"],
            }),
        ),
        Some("jwks") => match jwk() {
            Ok(jwk) => json_response(200, &json!({"keys": [jwk]})),
            Err(e) => github_error(500, &e),
        },
        _ => github_error(404, "Not Found"),
    }
}

fn jwk() -> Result<Value, String> {
    let key = key()?;
    let public =
        rsa::RsaPublicKey::from_public_key_pem(&key.public_pem).map_err(|e| e.to_string())?;
    Ok(json!({
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "kid": KID,
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    }))
}

/// `GET /_emulator/github/oidc/token?repository=&audience=&ref=`: `{"value": JWT}`.
pub fn mint(shared: &Shared, request: &Request) -> Response {
    let Some(repository) = request.query("repository").filter(|r| r.contains('/')) else {
        return json_response(400, &json!({"message": "repository: expected OWNER/REPO"}));
    };
    let (owner, _) = repository.split_once('/').unwrap_or((repository, ""));
    let git_ref = request.query("ref").unwrap_or("refs/heads/main");
    let audience = request
        .query("audience")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("https://github.com/{owner}"));
    let (repository_id, owner_id) = {
        let state = shared.state();
        let repo_id = state.github.repos.get(repository).map_or(0, |r| r.id);
        let owner_id = state.github.orgs.get(owner).map_or(0, |o| o.id);
        (repo_id, owner_id)
    };
    let now = now_secs();
    let run_id = now;
    let claims = json!({
        "jti": keys::random_hex(16),
        "sub": format!("repo:{repository}:ref:{git_ref}"),
        "aud": audience,
        "ref": git_ref,
        "sha": keys::random_hex(20),
        "repository": repository,
        "repository_owner": owner,
        "repository_id": repository_id.to_string(),
        "repository_owner_id": owner_id.to_string(),
        "repository_visibility": "private",
        "run_id": run_id.to_string(),
        "run_number": "1",
        "run_attempt": "1",
        "actor": "demo-user",
        "actor_id": "1",
        "workflow": "deploy",
        "workflow_ref": format!("{repository}/.github/workflows/deploy.yml@{git_ref}"),
        "job_workflow_ref": format!("{repository}/.github/workflows/deploy.yml@{git_ref}"),
        "event_name": "push",
        "ref_type": "branch",
        "runner_environment": "github-hosted",
        "iss": ISSUER,
        "nbf": now - 5,
        "iat": now,
        "exp": now + 300,
    });
    let signed = key().and_then(|k| keys::sign_rs256(&claims, &k.private_pem, Some(KID)));
    match signed {
        Ok(jwt) => json_response(200, &json!({"count": 1, "value": jwt})),
        Err(e) => github_error(500, &e),
    }
}
