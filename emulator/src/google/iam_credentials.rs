//! IAM Service Account Credentials `generateAccessToken`
//! (`POST v1/projects/-/serviceAccounts/SA:generateAccessToken`): a federated token from STS
//! gets an access token only if the account's IAM policy grants
//! `roles/iam.workloadIdentityUser` to a principal (set) it belongs to, and only while the
//! project has `iamcredentials.googleapis.com` enabled; an account's own token needs
//! `roles/iam.serviceAccountTokenCreator`.

use serde_json::{Value, json};

use super::iam_policy;
use crate::http_util::{
    GoogleCode, Request, Response, duration_secs, google_error, json_response, now_secs,
};
use crate::keys;
use crate::server::Shared;
use crate::state::{AccessToken, State};

const SERVICE: &str = "iamcredentials.googleapis.com";
const WORKLOAD_IDENTITY_USER: &str = "roles/iam.workloadIdentityUser";
const TOKEN_CREATOR: &str = "roles/iam.serviceAccountTokenCreator";

fn denied() -> Response {
    google_error(
        GoogleCode::PermissionDenied,
        "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
    )
}

/// The members a bearer token stands for.
fn principals(state: &State, credential: &str) -> Option<Vec<String>> {
    if let Some(token) = state.google.wif.federated_tokens.get(credential) {
        if token.expires_at <= now_secs() {
            return None;
        }
        let base = format!("iam.googleapis.com/{}", token.pool);
        let mut members = vec![
            format!("principal://{base}/subject/{}", token.subject),
            format!("principalSet://{base}/*"),
        ];
        for (name, value) in &token.attributes {
            if !name.starts_with("google.") {
                members.push(format!("principalSet://{base}/attribute.{name}/{value}"));
            } else if name == "google.groups" {
                members.push(format!("principalSet://{base}/group/{value}"));
            }
        }
        return Some(members);
    }
    state
        .google
        .access_tokens
        .get(credential)
        .filter(|t| t.expires_at > now_secs())
        .map(|t| vec![format!("serviceAccount:{}", t.email)])
}

/// Handles `["projects", P, "serviceAccounts", "SA:generateAccessToken"]` (after `v1`).
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Option<Response> {
    let ["projects", project, "serviceAccounts", target] = segments else {
        return None;
    };
    let (account, "generateAccessToken") = target.split_once(':')? else {
        return None;
    };
    if request.method != http::Method::POST {
        return Some(google_error(GoogleCode::NotFound, "no such method"));
    }
    Some(generate(shared, request, project, account))
}

/// `lifetime` seconds from now on the emulator's calendar, in whole seconds.
fn expire_time(lifetime: i64) -> String {
    (crate::clock::now() + chrono::Duration::seconds(lifetime))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn generate(shared: &Shared, request: &Request, project: &str, account: &str) -> Response {
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return google_error(GoogleCode::InvalidArgument, &e),
    };
    let scopes: Vec<String> = body
        .get("scope")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if scopes.is_empty() {
        return google_error(GoogleCode::InvalidArgument, "Scope required.");
    }
    let lifetime = body
        .get("lifetime")
        .and_then(Value::as_str)
        .map_or(Some(3600), duration_secs);
    let Some(lifetime) = lifetime.filter(|l| (1..=3600).contains(l)) else {
        return google_error(
            GoogleCode::InvalidArgument,
            "The lifetime must be between 1 second and 3600 seconds.",
        );
    };
    let Some(credential) = request.credential().map(str::to_owned) else {
        return google_error(
            GoogleCode::Unauthenticated,
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        );
    };
    let mut state = shared.state();
    let email = match super::iam::account(&state, project, account) {
        Ok(email) => email,
        Err(_) => return denied(),
    };
    let Some(members) = principals(&state, &credential) else {
        return google_error(
            GoogleCode::Unauthenticated,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        );
    };
    let owner = state.google.service_accounts[&email].project.clone();
    if !super::serviceusage::enabled(&state, &owner, SERVICE) {
        let number = super::project(&state, &owner).map_or(0, |(_, n)| n);
        return google_error(
            GoogleCode::PermissionDenied,
            &format!(
                "IAM Service Account Credentials API has not been used in project {number} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/{SERVICE}/overview?project={number} then retry."
            ),
        );
    }
    let policy = state.google.wif.account_policies.get(&email);
    let federated = state.google.wif.federated_tokens.contains_key(&credential);
    let role = if federated {
        WORKLOAD_IDENTITY_USER
    } else {
        TOKEN_CREATOR
    };
    if !members.iter().any(|m| iam_policy::has(policy, role, m)) {
        return denied();
    }
    let access_token = format!("ya29.c.{}", keys::random_hex(32));
    state.google.access_tokens.insert(
        access_token.clone(),
        AccessToken {
            email,
            key_id: String::new(),
            expires_at: now_secs() + lifetime,
        },
    );
    drop(state);
    shared.save();
    json_response(
        200,
        // Whole seconds, as Google answers (`2014-10-02T15:01:23Z`): google-auth's impersonated
        // credentials parse exactly that form and refuse fractions.
        &json!({"accessToken": access_token, "expireTime": expire_time(lifetime)}),
    )
}
