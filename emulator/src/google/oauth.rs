//! The OAuth token endpoint (JWT bearer grant): the assertion's RS256 signature is checked
//! against the public half of the service-account key it names, so "does the new key work"
//! is a real check. Disabled and deleted keys are refused as Google refuses them.
//!
//! As Google's endpoint does: the assertion's `aud` must be the token endpoint (this one, or
//! Google's own `https://oauth2.googleapis.com/token`), else `invalid_grant`; it must carry a
//! `scope` unless it asks for an ID token (`target_audience`), else `invalid_scope`; and an ID
//! token request is answered with `{"id_token": JWT}` (signed by a key of the emulator's own,
//! `aud` the target audience) instead of an access token.

use serde_json::{Value, json};

use crate::http_util::{Request, Response, decode_pairs, json_response, now_secs};
use crate::keys;
use crate::server::Shared;
use crate::state::AccessToken;

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Audiences Google's token endpoint accepts besides this emulator's own `/token`.
const GOOGLE_AUDIENCES: [&str; 3] = [
    "https://oauth2.googleapis.com/token",
    "https://www.googleapis.com/oauth2/v4/token",
    "https://accounts.google.com/o/oauth2/token",
];

/// The key the emulator signs ID tokens with, made on first use.
static ID_TOKEN_KEY: std::sync::OnceLock<Result<keys::RsaKeyPair, String>> =
    std::sync::OnceLock::new();

fn invalid_scope() -> Response {
    json_response(
        400,
        &json!({"error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token audience provided."}),
    )
}

fn invalid_grant(description: &str) -> Response {
    json_response(
        400,
        &json!({"error": "invalid_grant", "error_description": description}),
    )
}

/// `POST /token`.
pub fn token(shared: &Shared, request: &Request) -> Response {
    if request.method != http::Method::POST {
        return json_response(
            405,
            &json!({"error": "invalid_request", "error_description": "POST only"}),
        );
    }
    let form = decode_pairs(&request.body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if field("grant_type") != Some(JWT_BEARER) {
        return json_response(
            400,
            &json!({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}),
        );
    }
    let Some(assertion) = field("assertion") else {
        return json_response(
            400,
            &json!({"error": "invalid_request", "error_description": "Missing required parameter: assertion"}),
        );
    };
    let Ok((header, claims)) = keys::jwt_parts(assertion) else {
        return invalid_grant("Invalid JWT Signature.");
    };
    let kid = header.get("kid").and_then(Value::as_str).unwrap_or("");
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let mut state = shared.state();
    let Some((email, key)) = super::iam::find_key(&state, kid) else {
        return invalid_grant("Invalid JWT Signature.");
    };
    if email != iss || key.disabled || keys::verify_rs256(assertion, &key.public_pem).is_err() {
        return invalid_grant("Invalid JWT Signature.");
    }
    let token_uri = format!("{}/token", request.base);
    let aud = claims.get("aud").and_then(Value::as_str).unwrap_or("");
    if aud != token_uri && !GOOGLE_AUDIENCES.contains(&aud) {
        return invalid_grant(&format!(
            "Invalid JWT: Failed audience check. The right audience is {token_uri}"
        ));
    }
    let scope = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let target_audience = claims
        .get("target_audience")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty());
    if scope.is_empty() && target_audience.is_none() {
        return invalid_scope();
    }
    let now = now_secs();
    let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(0);
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if iat > now + 300 || exp <= now || exp - iat > 3600 {
        return invalid_grant(
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        );
    }
    if let Some(audience) = target_audience {
        return id_token(&email, audience, now);
    }
    let access_token = format!("ya29.{}", keys::random_hex(32));
    // What Activity Analyzer reports as the key's last authentication.
    if let Some(used) = state
        .google
        .service_accounts
        .get_mut(&email)
        .and_then(|a| a.keys.iter_mut().find(|k| k.id == kid))
    {
        used.last_authenticated = Some(crate::http_util::rfc3339_now());
    }
    state.google.access_tokens.insert(
        access_token.clone(),
        AccessToken {
            email,
            key_id: kid.to_owned(),
            expires_at: now + 3599,
        },
    );
    json_response(
        200,
        &json!({"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"}),
    )
}

/// `{"id_token": JWT}` for `email`, audience `audience`, valid an hour.
fn id_token(email: &str, audience: &str, now: i64) -> Response {
    let key = match ID_TOKEN_KEY.get_or_init(keys::generate_rsa) {
        Ok(key) => key,
        Err(e) => {
            return json_response(
                500,
                &json!({"error": "internal_failure", "error_description": e}),
            );
        }
    };
    let claims = json!({
        "iss": "https://accounts.google.com",
        "aud": audience,
        "azp": email,
        "sub": email,
        "email": email,
        "email_verified": true,
        "iat": now,
        "exp": now + 3600,
    });
    match keys::sign_rs256(&claims, &key.private_pem, Some("emulator-id-token")) {
        Ok(token) => json_response(200, &json!({"id_token": token})),
        Err(e) => json_response(
            500,
            &json!({"error": "internal_failure", "error_description": e}),
        ),
    }
}
