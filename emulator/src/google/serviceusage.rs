//! Service Usage, the calls a bootstrap and an audit make: `POST v1/projects/P/services/S:enable`
//! (a finished long-running operation), `GET v1/projects/P/services/S` (state `ENABLED` or
//! `DISABLED`) and `GET v1/projects/P/services?filter=state:ENABLED` (the enabled ones, paged
//! with `pageSize`/`pageToken`; without the filter, only the enabled ones are known here too).

use serde_json::{Value, json};

use crate::http_util::{GoogleCode, Request, Response, google_error, json_response};
use crate::keys;
use crate::server::Shared;

/// The titles Service Usage gives the APIs orchestra uses (`config.title`).
const TITLES: &[(&str, &str)] = &[
    ("aiplatform.googleapis.com", "Vertex AI API"),
    (
        "cloudresourcemanager.googleapis.com",
        "Cloud Resource Manager API",
    ),
    ("firestore.googleapis.com", "Cloud Firestore API"),
    (
        "iam.googleapis.com",
        "Identity and Access Management (IAM) API",
    ),
    (
        "iamcredentials.googleapis.com",
        "IAM Service Account Credentials API",
    ),
    ("monitoring.googleapis.com", "Cloud Monitoring API"),
    ("run.googleapis.com", "Cloud Run Admin API"),
    ("secretmanager.googleapis.com", "Secret Manager API"),
    ("serviceusage.googleapis.com", "Service Usage API"),
    ("sts.googleapis.com", "Security Token Service API"),
];

fn service_json(number: u64, service: &str, enabled: bool) -> Value {
    let mut config = json!({"name": service});
    if let Some((_, title)) = TITLES.iter().find(|(name, _)| *name == service) {
        config["title"] = json!(title);
    }
    json!({
        "name": format!("projects/{number}/services/{service}"),
        "config": config,
        "state": if enabled { "ENABLED" } else { "DISABLED" },
        "parent": format!("projects/{number}"),
    })
}

/// Whether `service` is enabled in project `id`.
pub fn enabled(state: &crate::state::State, id: &str, service: &str) -> bool {
    state
        .google
        .wif
        .enabled_services
        .contains(&format!("{id}/{service}"))
}

/// Handles `["projects", P, "services", S]` (segments after `v1`); `None` for other paths.
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Option<Response> {
    if let ["projects", project, "services"] = segments
        && request.method == http::Method::GET
    {
        return Some(list(shared, request, project));
    }
    let ["projects", project, "services", service] = segments else {
        return None;
    };
    let Some((id, number)) = super::project(&shared.state(), project) else {
        return Some(google_error(
            GoogleCode::PermissionDenied,
            &format!("Permission denied to enable service [{service}]"),
        ));
    };
    Some(match (service.split_once(':'), &request.method) {
        (Some((name, action @ ("enable" | "disable"))), &http::Method::POST) => {
            let on = action == "enable";
            shared.change(|state| {
                let key = format!("{id}/{name}");
                if on {
                    state.google.wif.enabled_services.insert(key);
                } else {
                    state.google.wif.enabled_services.remove(&key);
                }
            });
            let kind = if on {
                "EnableServiceResponse"
            } else {
                "DisableServiceResponse"
            };
            json_response(
                200,
                &json!({
                    "name": format!("operations/acat.p2-{number}-{}", keys::random_hex(8)),
                    "done": true,
                    "response": {
                        "@type": format!("type.googleapis.com/google.api.serviceusage.v1.{kind}"),
                        "service": service_json(number, name, on),
                    },
                }),
            )
        }
        (None, &http::Method::GET) => {
            let on = enabled(&shared.state(), &id, service);
            json_response(200, &service_json(number, service, on))
        }
        _ => google_error(
            GoogleCode::NotFound,
            &format!("no such method: {} {}", request.method, request.path),
        ),
    })
}

/// `GET v1/projects/P/services`: the enabled services, in name order.
fn list(shared: &Shared, request: &Request, project: &str) -> Response {
    let state = shared.state();
    let Some((id, number)) = super::project(&state, project) else {
        return google_error(
            GoogleCode::PermissionDenied,
            &format!(
                "Permission denied to list services for consumer container [projects/{project}]"
            ),
        );
    };
    if let Some(filter) = request.query("filter")
        && !filter.is_empty()
        && filter != "state:ENABLED"
    {
        return google_error(
            GoogleCode::InvalidArgument,
            &format!(
                "Invalid filter: {filter}. Only 'state:ENABLED' and 'state:DISABLED' are supported."
            ),
        );
    }
    let prefix = format!("{id}/");
    let services: Vec<Value> = state
        .google
        .wif
        .enabled_services
        .iter()
        .filter_map(|key| key.strip_prefix(&prefix))
        .map(|name| service_json(number, name, true))
        .collect();
    let (page, next) = crate::http_util::page(&services, request);
    let mut answer = json!({"services": page});
    if let Some(next) = next {
        answer["nextPageToken"] = json!(next);
    }
    json_response(200, &answer)
}
