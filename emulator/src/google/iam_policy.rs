//! IAM policies with etags, as `getIamPolicy` / `setIamPolicy` answer them: on service accounts
//! (`iam.googleapis.com/v1/projects/P/serviceAccounts/SA:getIamPolicy`) and on projects
//! (Resource Manager v1 and v3 `projects/P:getIamPolicy`). A policy never written has only the
//! etag `ACAB`; a write whose etag is not the current one is refused with `ABORTED`, as Google
//! refuses a lost read-modify-write race; a write without an etag overwrites.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::wif_state::Policy;
use crate::http_util::{GoogleCode, Request, Response, google_error, json_response};
use crate::keys;
use crate::server::Shared;

/// The etag of a policy that was never written.
pub const EMPTY_ETAG: &str = "ACAB";

const CONCURRENT: &str = "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.";

/// Which policy.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A service account's, by email.
    Account(&'a str),
    /// A project's, by id.
    Project(&'a str),
}

/// The policy as the API shows it.
pub fn policy_json(policy: Option<&Policy>) -> Value {
    match policy {
        None => json!({"etag": EMPTY_ETAG}),
        Some(p) if p.bindings.is_empty() => json!({"version": p.version, "etag": p.etag}),
        Some(p) => json!({"version": p.version, "etag": p.etag, "bindings": p.bindings}),
    }
}

/// `getIamPolicy` of `target`.
pub fn get(shared: &Shared, target: Target<'_>) -> Response {
    let state = shared.state();
    let policy = match target {
        Target::Account(email) => state.google.wif.account_policies.get(email),
        Target::Project(id) => state.google.wif.project_policies.get(id),
    };
    json_response(200, &policy_json(policy))
}

/// `setIamPolicy` of `target` from `{"policy": {...}}`.
pub fn set(shared: &Shared, request: &Request, target: Target<'_>) -> Response {
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return google_error(GoogleCode::InvalidArgument, &e),
    };
    let Some(sent) = body.get("policy") else {
        return google_error(GoogleCode::InvalidArgument, "policy is required");
    };
    let bindings: Vec<Value> = sent
        .get("bindings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for binding in &bindings {
        let role_ok = binding
            .get("role")
            .and_then(Value::as_str)
            .is_some_and(|r| r.starts_with("roles/") || r.contains("/roles/"));
        let members_ok = binding
            .get("members")
            .and_then(Value::as_array)
            .is_some_and(|m| {
                m.iter().all(|v| {
                    v.as_str().is_some_and(|s| {
                        s.contains(':') || s.starts_with("principal") || s == "allUsers"
                    })
                })
            });
        if !role_ok || !members_ok {
            return google_error(
                GoogleCode::InvalidArgument,
                &format!("Invalid policy binding: {binding}"),
            );
        }
    }
    let etag = sent.get("etag").and_then(Value::as_str).map(str::to_owned);
    let version = sent.get("version").and_then(Value::as_i64).unwrap_or(1);
    shared.change(|state| {
        let map = match target {
            Target::Account(_) => &mut state.google.wif.account_policies,
            Target::Project(_) => &mut state.google.wif.project_policies,
        };
        let key = match target {
            Target::Account(k) | Target::Project(k) => k.to_owned(),
        };
        let current = map.get(&key).map_or(EMPTY_ETAG, |p| p.etag.as_str());
        if let Some(etag) = &etag
            && etag != current
        {
            return google_error(GoogleCode::Aborted, CONCURRENT);
        }
        let fresh = Policy {
            version,
            bindings: bindings
                .into_iter()
                .filter(|b| {
                    b.get("members")
                        .and_then(Value::as_array)
                        .is_some_and(|m| !m.is_empty())
                })
                .collect(),
            etag: STANDARD.encode(keys::random_hex(8).as_bytes()),
        };
        let shown = policy_json(Some(&fresh));
        map.insert(key, fresh);
        json_response(200, &shown)
    })
}

/// Whether `member` holds `role` in `policy`.
pub fn has(policy: Option<&Policy>, role: &str, member: &str) -> bool {
    policy.is_some_and(|p| {
        p.bindings.iter().any(|b| {
            b.get("role").and_then(Value::as_str) == Some(role)
                && b.get("members")
                    .and_then(Value::as_array)
                    .is_some_and(|m| m.iter().any(|v| v.as_str() == Some(member)))
        })
    })
}
