//! The OAuth token endpoint (JWT bearer grant): the assertion's RS256 signature is checked
//! against the public half of the service-account key it names, so "does the new key work"
//! is a real check. Disabled and deleted keys are refused as Google refuses them.

use serde_json::{Value, json};

use crate::http_util::{Request, Response, decode_pairs, json_response, now_secs};
use crate::keys;
use crate::server::Shared;
use crate::state::AccessToken;

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

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
    let now = now_secs();
    let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(0);
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if iat > now + 300 || exp <= now || exp - iat > 3600 {
        return invalid_grant(
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        );
    }
    let access_token = format!("ya29.{}", keys::random_hex(32));
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
