//! "Does this credential work?" from outside, for tests and rehearsals:
//! `POST /_emulator/verify` with one of `{"github_token": "..."}`, `{"access_token": "..."}`
//! or `{"key_file": {...} | "<base64 of the key file>"}`. The answer is
//! `{"works": bool, "reason": "..."}`, decided by the same rules the APIs apply: a GitHub token
//! must be known, unrevoked and unexpired; an access token issued and unexpired; a key file's
//! private key must be the private half of an enabled key of the account it names.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::http_util::{Request, Response, json_response, now_secs};
use crate::keys;
use crate::server::Shared;
use crate::state::State;

/// Handles `POST /_emulator/verify`.
pub fn handle(shared: &Shared, request: &Request) -> Response {
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return json_response(400, &json!({"message": e})),
    };
    let state = shared.state();
    let verdict = if let Some(token) = body.get("github_token").and_then(Value::as_str) {
        github_token(&state, token)
    } else if let Some(token) = body.get("access_token").and_then(Value::as_str) {
        access_token(&state, token)
    } else if let Some(file) = body.get("key_file") {
        key_file(&state, file)
    } else {
        return json_response(
            400,
            &json!({"message": "expected one of github_token, access_token, key_file"}),
        );
    };
    let (works, reason) = match verdict {
        Ok(reason) => (true, reason),
        Err(reason) => (false, reason),
    };
    json_response(200, &json!({"works": works, "reason": reason}))
}

fn github_token(state: &State, token: &str) -> Result<String, String> {
    let known = state
        .github
        .tokens
        .get(token)
        .ok_or("GitHub does not know this token")?;
    if known.revoked {
        return Err("the token was revoked".into());
    }
    if known.expires_at.is_some_and(|t| t <= now_secs()) {
        return Err("the token has expired".into());
    }
    Ok("GitHub accepts this token".into())
}

fn access_token(state: &State, token: &str) -> Result<String, String> {
    let issued = state.google.access_tokens.get(token).ok_or(
        "the token endpoint did not issue this token (or its key was disabled or deleted)",
    )?;
    if issued.expires_at <= now_secs() {
        return Err("the access token has expired".into());
    }
    Ok(format!("access token of {}", issued.email))
}

fn key_file(state: &State, file: &Value) -> Result<String, String> {
    let file = match file {
        Value::String(text) => {
            let bytes = STANDARD
                .decode(text.trim())
                .map_err(|_| "key_file is neither a JSON object nor base64".to_owned())?;
            serde_json::from_slice(&bytes).map_err(|e| format!("key file is not JSON: {e}"))?
        }
        other => other.clone(),
    };
    let field = |name: &str| {
        file.get(name)
            .and_then(Value::as_str)
            .ok_or(format!("key file has no {name}"))
    };
    let key_id = field("private_key_id")?;
    let email = field("client_email")?;
    let private_pem = field("private_key")?;
    let (owner, key) = crate::google::iam::find_key(state, key_id)
        .ok_or(format!("key {key_id} does not exist (deleted?)"))?;
    if owner != email {
        return Err(format!("key {key_id} belongs to {owner}, not {email}"));
    }
    if keys::public_pem_of(private_pem)? != key.public_pem {
        return Err(format!(
            "the private key is not the private half of key {key_id}"
        ));
    }
    if key.disabled {
        return Err(format!("key {key_id} is disabled"));
    }
    Ok(format!("key {key_id} of {email} is enabled"))
}
