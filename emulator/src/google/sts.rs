//! Security Token Service `POST /v1/token`: the RFC 8693 token exchange Workload Identity
//! Federation performs. The subject token (an OIDC ID token) is checked as Google checks it:
//! the audience names an active provider of an active pool by project NUMBER, the token is
//! signed by the provider's issuer (this emulator's GitHub Actions issuer), unexpired, its
//! `aud` is one the provider allows, the attribute mapping yields a `google.subject`, and the
//! attribute condition holds. The answer is a federated access token that IAM Credentials
//! accepts. Form-encoded (google-auth) and JSON (google-github-actions/auth) bodies both work.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::cel;
use super::wif_state::{FederatedToken, LifeState};
use crate::http_util::{Request, Response, decode_pairs, json_response, now_secs};
use crate::keys;
use crate::server::Shared;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT_TYPES: [&str; 2] = [
    "urn:ietf:params:oauth:token-type:jwt",
    "urn:ietf:params:oauth:token-type:id_token",
];

fn error(code: &str, description: &str) -> Response {
    json_response(
        400,
        &json!({"error": code, "error_description": description}),
    )
}

fn invalid_target() -> Response {
    error(
        "invalid_target",
        "The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist.",
    )
}

/// The request's fields, from a form or a JSON body, by their snake_case names.
fn fields(request: &Request) -> BTreeMap<String, String> {
    let is_json = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if !is_json {
        return decode_pairs(&request.body).into_iter().collect();
    }
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let mut out = BTreeMap::new();
    if let Some(map) = body.as_object() {
        for (key, value) in map {
            let mut snake = String::new();
            for c in key.chars() {
                if c.is_ascii_uppercase() {
                    snake.push('_');
                    snake.push(c.to_ascii_lowercase());
                } else {
                    snake.push(c);
                }
            }
            if let Some(text) = value.as_str() {
                out.insert(snake, text.to_owned());
            }
        }
    }
    out
}

/// `POST /v1/token`.
pub fn token(shared: &Shared, request: &Request) -> Response {
    if request.method != http::Method::POST {
        return error("invalid_request", "POST only");
    }
    let form = fields(request);
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if field("grant_type") != TOKEN_EXCHANGE {
        return error(
            "unsupported_grant_type",
            "Invalid value for \"grant_type\".",
        );
    }
    if field("requested_token_type") != ACCESS_TOKEN_TYPE {
        return error(
            "invalid_request",
            "Invalid value for \"requested_token_type\".",
        );
    }
    if !JWT_TYPES.contains(&field("subject_token_type")) {
        return error(
            "invalid_request",
            "Invalid value for \"subject_token_type\".",
        );
    }
    let audience = field("audience");
    // A malformed audience is a bad request; a well-formed one naming nothing usable is an
    // invalid target, as STS tells them apart.
    let Some((pool_name, provider_id)) = audience
        .strip_prefix("//iam.googleapis.com/")
        .and_then(|name| name.split_once("/providers/"))
        .filter(|(pool, id)| pool.starts_with("projects/") && !id.is_empty())
    else {
        return error(
            "invalid_request",
            "Invalid value for \"audience\". This value should be the full resource name of the Identity Provider. See https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token for the list of possible formats.",
        );
    };
    let provider_name = audience
        .strip_prefix("//iam.googleapis.com/")
        .unwrap_or_default();
    let state = shared.state();
    let Some(pool) = state.google.wif.pools.get(pool_name) else {
        return invalid_target();
    };
    let Some(provider) = pool.providers.get(provider_id) else {
        return invalid_target();
    };
    if pool.disabled
        || provider.disabled
        || pool.state != LifeState::Active
        || provider.state != LifeState::Active
    {
        return invalid_target();
    }
    let subject_token = field("subject_token");
    let Ok((_, unverified)) = keys::jwt_parts(subject_token) else {
        return error("invalid_grant", "Unable to parse the ID Token.");
    };
    let iss = unverified.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss.trim_end_matches('/') != provider.issuer_uri.trim_end_matches('/') {
        return error(
            "invalid_grant",
            &format!(
                "The issuer in ID Token {iss} does not match the expected ones: {}.",
                provider.issuer_uri
            ),
        );
    }
    if !crate::github::oidc::is_own_issuer(iss, &request.base) {
        return error(
            "invalid_grant",
            &format!("Failed to fetch the JWKS of issuer {iss}."),
        );
    }
    let claims = match crate::github::oidc::verify(subject_token) {
        Ok(claims) => claims,
        Err(_) => return error("invalid_grant", "Invalid JWT Signature."),
    };
    let now = now_secs();
    if claims.get("exp").and_then(Value::as_i64).unwrap_or(0) <= now {
        return error("invalid_grant", "ID Token has expired.");
    }
    let aud = claims.get("aud").and_then(Value::as_str).unwrap_or("");
    let default_audience = format!("https://iam.googleapis.com/{provider_name}");
    let accepted = if provider.allowed_audiences.is_empty() {
        aud == default_audience || aud == audience
    } else {
        provider.allowed_audiences.iter().any(|a| a == aud)
    };
    if !accepted {
        let expected = if provider.allowed_audiences.is_empty() {
            default_audience
        } else {
            provider.allowed_audiences.join(", ")
        };
        return error(
            "invalid_grant",
            &format!(
                "The audience in ID Token [{aud}] does not match the expected audience {expected}."
            ),
        );
    }
    let Some(assertion) = claims.as_object() else {
        return error("invalid_grant", "Unable to parse the ID Token.");
    };
    let empty = BTreeMap::new();
    let mut attributes = BTreeMap::new();
    for (key, expression) in &provider.attribute_mapping {
        let scope = cel::Scope {
            assertion,
            attribute: &empty,
        };
        match cel::eval(expression, &scope) {
            Ok(cel::Value::Str(value)) => {
                let name = key.strip_prefix("attribute.").unwrap_or(key);
                attributes.insert(name.to_owned(), value);
            }
            Ok(_) => {}
            Err(e) => {
                return error(
                    "invalid_request",
                    &format!("The attribute mapping for {key} could not be evaluated: {e}"),
                );
            }
        }
    }
    let Some(subject) = attributes.get("google.subject").cloned() else {
        return error(
            "invalid_request",
            "The mapped attribute google.subject must not be empty.",
        );
    };
    let scope = cel::Scope {
        assertion,
        attribute: &attributes,
    };
    match cel::eval(&provider.attribute_condition, &scope) {
        Ok(cel::Value::Bool(true)) => {}
        _ => {
            return error(
                "unauthorized_client",
                "The given credential is rejected by the attribute condition.",
            );
        }
    }
    let pool_name = pool_name.to_owned();
    drop(state);
    let access_token = format!("ya29.d.{}", keys::random_hex(32));
    shared.change(|state| {
        state.google.wif.federated_tokens.insert(
            access_token.clone(),
            FederatedToken {
                pool: pool_name,
                subject,
                attributes,
                expires_at: now + 3599,
            },
        );
    });
    json_response(
        200,
        &json!({
            "access_token": access_token,
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": 3599,
        }),
    )
}
