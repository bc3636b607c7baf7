//! GitHub Apps: JWTs verified against the registered app key with GitHub's time rules,
//! installation access tokens (one hour), and revoking them.

use serde_json::{Value, json};

use super::Caller;
use crate::http_util::{Request, Response, github_error, github_time, json_response, now_secs};
use crate::keys;
use crate::server::Shared;
use crate::state::{GithubToken, Installation, State, TokenKind};

/// Clock drift GitHub tolerates on `iat`.
const DRIFT: i64 = 60;
/// Longest JWT life GitHub accepts.
const MAX_JWT_LIFE: i64 = 600;

/// Verifies an app JWT; returns the app id or GitHub's 401.
pub fn authenticate_jwt(state: &State, token: &str) -> Result<u64, Response> {
    let undecodable = || github_error(401, "A JSON web token could not be decoded");
    let (_, claims) = keys::jwt_parts(token).map_err(|_| undecodable())?;
    let app_id = match claims.get("iss") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| github_error(401, "'Issuer' claim ('iss') must be an Integer"))?;
    let app = state
        .github
        .apps
        .get(&app_id)
        .ok_or_else(|| github_error(401, &format!("Integration not found: {app_id}")))?;
    keys::verify_rs256(token, &app.public_pem).map_err(|_| undecodable())?;
    let now = now_secs();
    let iat = claims.get("iat").and_then(Value::as_i64).ok_or_else(|| {
        github_error(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        )
    })?;
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or_else(|| {
        github_error(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        )
    })?;
    if iat > now + DRIFT {
        return Err(github_error(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ));
    }
    if exp <= now {
        return Err(github_error(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ));
    }
    if exp - iat > MAX_JWT_LIFE + DRIFT || exp > now + MAX_JWT_LIFE + DRIFT {
        return Err(github_error(
            401,
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    Ok(app_id)
}

/// `GET /app`.
pub fn app(shared: &Shared, caller: &Caller) -> Response {
    let Caller::App { id } = caller else {
        return github_error(401, "A JSON web token could not be decoded");
    };
    let state = shared.state();
    match state.github.apps.get(id) {
        Some(app) => json_response(
            200,
            &json!({"id": app.id, "slug": app.slug, "name": app.slug, "owner": {"login": "acme"}}),
        ),
        None => github_error(404, "Not Found"),
    }
}

/// An installation as octocrab's `Installation` model needs it (`account` is a full user).
fn installation_json(base: &str, installation: &Installation) -> Value {
    json!({
        "id": installation.id,
        "app_id": installation.app_id,
        "account": super::account::user_json(base, &installation.account, 4242, &installation.account),
        "target_type": "Organization",
        "target_id": 4242,
        "repository_selection": "all",
        "access_tokens_url": format!("{base}/app/installations/{}/access_tokens", installation.id),
        "repositories_url": format!("{base}/installation/repositories"),
        "html_url": format!("{base}/organizations/{}/settings/installations/{}", installation.account, installation.id),
        "permissions": {"secrets": "write", "actions": "write", "metadata": "read"},
        "events": [],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    })
}

/// `GET /app/installations`: a bare JSON array, as GitHub answers it.
pub fn installations(shared: &Shared, request: &Request, caller: &Caller) -> Response {
    let Caller::App { id: app_id } = caller else {
        return github_error(401, "A JSON web token could not be decoded");
    };
    let state = shared.state();
    let list: Vec<Value> = state
        .github
        .installations
        .values()
        .filter(|i| i.app_id == *app_id)
        .map(|i| installation_json(&request.base, i))
        .collect();
    json_response(200, &Value::Array(list))
}

/// `GET /app/installations/{id}`.
pub fn installation(shared: &Shared, request: &Request, caller: &Caller, id: &str) -> Response {
    let Caller::App { id: app_id } = caller else {
        return github_error(401, "A JSON web token could not be decoded");
    };
    let state = shared.state();
    match id
        .parse::<u64>()
        .ok()
        .and_then(|id| state.github.installations.get(&id))
        .filter(|i| i.app_id == *app_id)
    {
        Some(installation) => json_response(200, &installation_json(&request.base, installation)),
        None => github_error(404, "Not Found"),
    }
}

/// `GET /repos/{owner}/{repo}/installation`, `/orgs/{org}/installation`,
/// `/users/{user}/installation`: the calling app's installation on that account (the
/// emulator's installations cover every repository of their account), or 404.
pub fn installation_of(
    shared: &Shared,
    request: &Request,
    caller: &Caller,
    account: &str,
    repo: Option<&str>,
) -> Response {
    let Caller::App { id: app_id } = caller else {
        return github_error(401, "A JSON web token could not be decoded");
    };
    let state = shared.state();
    if let Some(repo) = repo
        && !state
            .github
            .repos
            .contains_key(&format!("{account}/{repo}"))
    {
        return github_error(404, "Not Found");
    }
    match state
        .github
        .installations
        .values()
        .find(|i| i.app_id == *app_id && i.account.eq_ignore_ascii_case(account))
    {
        Some(installation) => json_response(200, &installation_json(&request.base, installation)),
        None => github_error(404, "Not Found"),
    }
}

/// `POST /app/installations/{id}/access_tokens`.
pub fn mint(shared: &Shared, request: &Request, caller: &Caller, id: &str) -> Response {
    let Caller::App { id: app_id } = caller else {
        return github_error(401, "A JSON web token could not be decoded");
    };
    let Ok(installation_id) = id.parse::<u64>() else {
        return github_error(404, "Not Found");
    };
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return github_error(400, &format!("Problems parsing JSON: {e}")),
    };
    shared.change(|state| {
        let Some(installation) = state.github.installations.get(&installation_id) else {
            return github_error(404, "Not Found");
        };
        if installation.app_id != *app_id {
            return github_error(404, "Not Found");
        }
        let token = keys::random_token("ghs_");
        let expires_at = now_secs() + 3600;
        state.github.tokens.insert(
            token.clone(),
            GithubToken {
                kind: TokenKind::Installation {
                    installation: installation_id,
                },
                scopes: Vec::new(),
                expires_at: Some(expires_at),
                revoked: false,
            },
        );
        let permissions = body
            .get("permissions")
            .cloned()
            .unwrap_or_else(|| json!({"secrets": "write", "actions": "write", "metadata": "read"}));
        json_response(
            201,
            &json!({
                "token": token,
                "expires_at": github_time(expires_at),
                "permissions": permissions,
                "repository_selection": "all",
            }),
        )
    })
}

/// `DELETE /installation/token`: revokes the installation token used to call it.
pub fn revoke(shared: &Shared, caller: &Caller) -> Response {
    let Caller::Installation { token, .. } = caller else {
        return github_error(401, "Bad credentials");
    };
    shared.change(|state| {
        if let Some(t) = state.github.tokens.get_mut(token) {
            t.revoked = true;
        }
    });
    crate::http_util::empty_response(204)
}
