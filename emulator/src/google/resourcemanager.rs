//! Cloud Resource Manager projects: `GET v1/projects/P` (`projectNumber`, `projectId`) and
//! `GET v3/projects/P` (`name: projects/NUMBER`), by id or number, and the project IAM policy
//! (`projects/P:getIamPolicy` / `:setIamPolicy` on both versions).

use serde_json::json;

use super::iam_policy::{self, Target};
use crate::http_util::{GoogleCode, Request, Response, google_error, json_response};
use crate::server::Shared;

/// Handles `[v1|v3, "projects", P]` and `[v1|v3, "projects", "P:method"]`; `None` when the
/// path is not one of these.
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Option<Response> {
    let [version @ ("v1" | "v3"), "projects", given] = segments else {
        return None;
    };
    let (project, method) = match given.split_once(':') {
        Some((p, m)) => (p, Some(m)),
        None => (*given, None),
    };
    let found = super::project(&shared.state(), project);
    let Some((id, number)) = found else {
        return Some(google_error(
            GoogleCode::PermissionDenied,
            &format!("Permission denied on resource project {project}."),
        ));
    };
    Some(match (method, &request.method) {
        (None, &http::Method::GET) if *version == "v1" => json_response(
            200,
            &json!({"projectNumber": number.to_string(), "projectId": id, "lifecycleState": "ACTIVE", "name": id}),
        ),
        (None, &http::Method::GET) => json_response(
            200,
            &json!({"name": format!("projects/{number}"), "projectId": id, "state": "ACTIVE", "displayName": id}),
        ),
        (Some("getIamPolicy"), &http::Method::POST) => {
            iam_policy::get(shared, Target::Project(&id))
        }
        (Some("setIamPolicy"), &http::Method::POST) => {
            iam_policy::set(shared, request, Target::Project(&id))
        }
        _ => google_error(
            GoogleCode::NotFound,
            &format!("no such method: {} {}", request.method, request.path),
        ),
    })
}
