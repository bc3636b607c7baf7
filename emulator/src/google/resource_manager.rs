//! Resource Manager's `projects.testIamPermissions` (v1 `POST /v1/projects/P:testIamPermissions`,
//! v3 `POST /v3/projects/P:testIamPermissions`): the subset of the asked permissions the caller
//! holds on the project. Every permission is granted unless a test narrowed the set with
//! `POST /_emulator/google/permissions` (`{"project": "P", "granted": [...]}`).

use serde_json::{Value, json};

use crate::http_util::{GoogleCode, Request, Response, google_error, json_response};
use crate::server::Shared;

/// Whether `segments` address `projects/P:testIamPermissions`.
pub fn handles(segments: &[&str]) -> bool {
    matches!(segments, ["v1" | "v3", "projects", last] if last.ends_with(":testIamPermissions"))
}

/// Answers `projects.testIamPermissions`.
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Response {
    let Some(project) = segments
        .get(2)
        .and_then(|s| s.strip_suffix(":testIamPermissions"))
    else {
        return google_error(GoogleCode::NotFound, "no such method");
    };
    if request.method != http::Method::POST {
        return google_error(GoogleCode::NotFound, "no such method");
    }
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => {
            return google_error(
                GoogleCode::InvalidArgument,
                &format!("Invalid JSON payload received. {e}"),
            );
        }
    };
    let asked: Vec<String> = match &body["permissions"] {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Value::Null => Vec::new(),
        _ => {
            return google_error(
                GoogleCode::InvalidArgument,
                "Invalid value at 'permissions'",
            );
        }
    };
    if let Some(wild) = asked.iter().find(|p| p.contains('*')) {
        return google_error(
            GoogleCode::InvalidArgument,
            &format!(
                "Permissions ({wild}) with wildcards (such as '*' or 'storage.*') are not allowed in testIamPermissions requests."
            ),
        );
    }
    let state = shared.state();
    let Some((id, _)) = super::project(&state, project) else {
        // Google does not tell a missing project from one the caller may not see.
        return google_error(
            GoogleCode::PermissionDenied,
            "The caller does not have permission",
        );
    };
    let granted: Vec<&String> = match state.google.granted_permissions.get(&id) {
        Some(set) => asked.iter().filter(|p| set.contains(*p)).collect(),
        None => asked.iter().collect(),
    };
    // Google leaves an empty list out of the answer.
    if granted.is_empty() {
        json_response(200, &json!({}))
    } else {
        json_response(200, &json!({ "permissions": granted }))
    }
}

/// `POST /_emulator/google/permissions`: narrows what `project` grants to `granted`
/// (`null` grants everything again).
pub fn set_granted(shared: &Shared, request: &Request) -> Response {
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return json_response(400, &json!({"message": e})),
    };
    let Some(project) = body["project"].as_str() else {
        return json_response(
            400,
            &json!({"message": "expected {\"project\": ID, \"granted\": [...]}"}),
        );
    };
    let mut state = shared.state();
    match body["granted"].as_array() {
        Some(items) => {
            let set = items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            state
                .google
                .granted_permissions
                .insert(project.to_owned(), set);
        }
        None => {
            state.google.granted_permissions.remove(project);
        }
    }
    json_response(200, &json!({"project": project}))
}
