//! Google APIs under `/v1/` (Secret Manager and IAM service-account keys), `/v3/` (Cloud
//! Monitoring time series), `/v2/` and `/apis/` (Cloud Run), plus the OAuth token endpoint. Requests may be anonymous, carry an access token the token endpoint issued, or a
//! self-signed JWT of a key the IAM emulator holds; anything else gets the real 401.

pub mod cel;
pub mod iam;
pub mod iam_credentials;
pub mod iam_policy;
pub mod monitoring;
pub mod oauth;
pub mod policy_analyzer;
pub mod quota;
pub mod resource_manager;
pub mod resourcemanager;
pub mod run;
pub mod secret_manager;
pub mod serviceusage;
pub mod sts;
pub mod wif;
pub mod wif_state;

use serde_json::Value;

use crate::http_util::{GoogleCode, Request, Response, google_error, now_secs};
use crate::keys;
use crate::server::Shared;
use crate::state::State;

/// Handles `/v1/...`, `/v2/...`, `/v3/...` and `/apis/...`.
pub fn handle(shared: &Shared, request: &Request) -> Response {
    let segments = request.segments();
    // STS takes no credential: the subject token in the body is the credential.
    if segments == ["v1", "token"] {
        return sts::token(shared, request);
    }
    if let Err(response) = authenticate(&shared.state(), request) {
        return response;
    }
    if matches!(segments.first(), Some(&"v2" | &"apis")) {
        if let ["v2", "projects", given, "locations", location, ..] = segments.as_slice() {
            let charges = project(&shared.state(), given)
                .map(|(_, number)| {
                    let location = format!("projects/{number}/locations/{location}");
                    quota::run_charges(&request.method, &location, number)
                })
                .unwrap_or_default();
            if let Err(over) = shared.google_quotas().admit(&charges) {
                return quota::refusal_response(&over);
            }
        }
        return run::handle(shared, request, &segments);
    }
    if let Some(response) = keyless_ci(shared, request, &segments) {
        return response;
    }
    let charges = quota_charges(&shared.state(), request, &segments);
    if let Err(over) = shared.google_quotas().admit(&charges) {
        return quota::refusal_response(&over);
    }
    if resource_manager::handles(&segments) {
        resource_manager::handle(shared, request, &segments)
    } else if segments.first() == Some(&"v3") {
        monitoring::handle(shared, request, &segments[1..])
    } else if segments.contains(&"serviceAccounts") {
        iam::handle(shared, request, &segments[1..])
    } else if segments
        .iter()
        .any(|s| *s == "secrets" || s.starts_with("secrets"))
    {
        secret_manager::handle(shared, request, &segments[1..])
    } else {
        google_error(
            GoogleCode::NotFound,
            &format!("no such method: {}", request.path),
        )
    }
}

/// The keyless-CI surfaces: projects and their IAM policies, Service Usage, IAM Credentials,
/// service-account IAM policies and Workload Identity pools; `None` for anything else.
fn keyless_ci(shared: &Shared, request: &Request, segments: &[&str]) -> Option<Response> {
    // testIamPermissions is answered below, by resource_manager.
    if resource_manager::handles(segments) {
        return None;
    }
    if let Some(response) = resourcemanager::handle(shared, request, segments) {
        return Some(response);
    }
    let rest = segments.get(1..).unwrap_or_default();
    if segments.first() != Some(&"v1") {
        return None;
    }
    if segments.contains(&"workloadIdentityPools") {
        return Some(wif::handle(shared, request, rest));
    }
    if let Some(response) = policy_analyzer::handle(shared, request, rest) {
        return Some(response);
    }
    if let Some(response) = serviceusage::handle(shared, request, rest) {
        return Some(response);
    }
    if let Some(response) = iam_credentials::handle(shared, request, rest) {
        return Some(response);
    }
    if let ["projects", project, "serviceAccounts", target] = rest
        && let Some((account, method)) = target.split_once(':')
        && matches!(method, "getIamPolicy" | "setIamPolicy")
    {
        let email = match iam::account(&shared.state(), project, account) {
            Ok(email) => email,
            Err(response) => return Some(response),
        };
        let target = iam_policy::Target::Account(&email);
        return Some(if method == "getIamPolicy" {
            iam_policy::get(shared, target)
        } else {
            iam_policy::set(shared, request, target)
        });
    }
    None
}

/// The quotas a `/v1/` request counts against (none for Monitoring or an unknown project).
fn quota_charges(state: &State, request: &Request, segments: &[&str]) -> Vec<quota::Charge> {
    let method = &request.method;
    if segments.contains(&"workloadIdentityPools") {
        return Vec::new();
    }
    match segments {
        ["v1", "projects", given, "serviceAccounts", account, ..] => {
            let owner = if *given == "-" {
                state
                    .google
                    .service_accounts
                    .iter()
                    .find(|(email, a)| email == account || a.unique_id == *account)
                    .map(|(_, a)| a.project.clone())
            } else {
                Some((*given).to_owned())
            };
            owner
                .and_then(|p| project(state, &p))
                .map(|(_, number)| quota::iam_charges(method, number))
                .unwrap_or_default()
        }
        ["v1", "projects", given, "locations", location, rest @ ..] => project(state, given)
            .map(|(_, number)| {
                let parent = format!("projects/{number}/locations/{location}");
                quota::secret_manager_charges(method, &parent, true, rest, number)
            })
            .unwrap_or_default(),
        ["v1", "projects", given, rest @ ..] => project(state, given)
            .map(|(_, number)| {
                let parent = format!("projects/{number}");
                quota::secret_manager_charges(method, &parent, false, rest, number)
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn unauthenticated() -> Response {
    google_error(
        GoogleCode::Unauthenticated,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
    )
}

/// Accepts no credentials, an issued access token, or a valid self-signed JWT.
fn authenticate(state: &State, request: &Request) -> Result<(), Response> {
    let Some(credential) = request.credential() else {
        return Ok(());
    };
    if let Some(token) = state.google.wif.federated_tokens.get(credential) {
        return if token.expires_at > now_secs() {
            Ok(())
        } else {
            Err(unauthenticated())
        };
    }
    if let Some(token) = state.google.access_tokens.get(credential) {
        return if token.expires_at > now_secs() {
            Ok(())
        } else {
            Err(unauthenticated())
        };
    }
    let (header, claims) = keys::jwt_parts(credential).map_err(|_| unauthenticated())?;
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(unauthenticated)?;
    let (email, key) = iam::find_key(state, kid).ok_or_else(unauthenticated)?;
    if key.disabled || claims.get("iss").and_then(Value::as_str) != Some(email.as_str()) {
        return Err(unauthenticated());
    }
    keys::verify_rs256(credential, &key.public_pem).map_err(|_| unauthenticated())?;
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now_secs() {
        return Err(unauthenticated());
    }
    Ok(())
}

/// Resolves a project given by id or number; returns (id, number).
pub fn project(state: &State, given: &str) -> Option<(String, u64)> {
    if let Some(p) = state.google.projects.get(given) {
        return Some((given.to_owned(), p.number));
    }
    state
        .google
        .projects
        .iter()
        .find(|(_, p)| p.number.to_string() == given)
        .map(|(id, p)| (id.clone(), p.number))
}
