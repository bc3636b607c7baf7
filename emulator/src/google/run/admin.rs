//! Changing a Cloud Run service by hand, as a person in the console would, under whatever
//! reads it: `PUT` (create or replace), `PATCH` (change the fields given) and `DELETE`
//! `/_emulator/google/run/services/PROJECT/REGION/NAME`, with a body of any of `image`, `cpu`,
//! `memory`, `min_instances`, `max_instances`, `concurrency`, `timeout_secs`,
//! `service_account`, `url` (null: the emulator's own), `ready` (false: failed, with `reason`
//! and `message`) and `reconciling`. A change of the template makes a new revision. Also the
//! service's own URL, `/run.app/P/R/N`, which answers 200 while it is ready and 503 otherwise.

use serde_json::{Value, json};

use super::{COMMON_REASONS, Readiness, RunService, ServiceKey, valid_name, valid_region};
use crate::http_util::{Request, Response, empty_response, github_error, json_response};
use crate::server::Shared;

/// Handles `PUT|PATCH|DELETE /_emulator/google/run/services/PROJECT/REGION/NAME`.
pub fn change(
    shared: &Shared,
    request: &Request,
    (project, region, name): (&str, &str, &str),
) -> Response {
    if !valid_region(region) || !valid_name(name) {
        return github_error(
            400,
            &format!(
                "expected a region such as europe-west1 and a Cloud Run service name, found '{region}' and '{name}'"
            ),
        );
    }
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return github_error(400, &e),
    };
    shared.change(|state| {
        let Some((id, number)) = crate::google::project(state, project) else {
            return github_error(404, &format!("no project {project}"));
        };
        let key = ServiceKey {
            project: id,
            region: region.to_owned(),
            name: name.to_owned(),
        };
        let stored = key.stored();
        let services = &mut state.google.run_services;
        let mut service = match (&request.method, services.get(&stored)) {
            (&http::Method::DELETE, found) => {
                return match found {
                    Some(_) => {
                        services.remove(&stored);
                        json_response(200, &json!({"deleted": stored}))
                    }
                    None => github_error(404, &format!("no service {stored}")),
                };
            }
            (&http::Method::PATCH, Some(found)) => found.clone(),
            (&http::Method::PATCH, None) => {
                return github_error(404, &format!("no service {stored} (PUT creates one)"));
            }
            _ => RunService::new(
                "us-docker.pkg.dev/cloudrun/container/hello",
                &format!("{number}-compute@developer.gserviceaccount.com"),
            ),
        };
        let created = request.method == http::Method::PUT;
        let changed = apply(&mut service, &body).and_then(|template_changed| {
            if !created {
                service.touch(template_changed);
            }
            service.readiness = readiness(&service, &body, name)?;
            Ok(())
        });
        match changed {
            Ok(()) => {
                let answer = super::v2::service_json(&service, &key, &request.base);
                services.insert(stored, service);
                json_response(200, &answer)
            }
            Err(message) => github_error(400, &message),
        }
    })
}

/// Applies the fields of `body` but readiness; whether the template (and so the revision)
/// changed.
fn apply(service: &mut RunService, body: &Value) -> Result<bool, String> {
    let before = service.clone();
    let text = |field: &str| -> Result<Option<String>, String> {
        match body.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(other) => Err(format!(
                "{field}: expected a non-empty string, found {other}"
            )),
        }
    };
    let count = |field: &str| -> Result<Option<i32>, String> {
        match body.get(field) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .filter(|n| *n >= 0)
                .map(Some)
                .ok_or_else(|| {
                    format!("{field}: expected a whole number of at least 0, found {v}")
                }),
        }
    };
    if let Some(image) = text("image")? {
        service.image = image;
    }
    if let Some(cpu) = text("cpu")? {
        service.cpu = cpu;
    }
    if let Some(memory) = text("memory")? {
        service.memory = memory;
    }
    if let Some(account) = text("service_account")? {
        service.service_account = account;
    }
    if let Some(n) = count("min_instances")? {
        service.min_instances = n;
    }
    if let Some(n) = count("max_instances")? {
        service.max_instances = n;
    }
    if let Some(n) = count("concurrency")? {
        service.concurrency = n;
    }
    if let Some(n) = count("timeout_secs")? {
        service.timeout_secs = i64::from(n);
    }
    if service.max_instances != 0 && service.min_instances > service.max_instances {
        return Err(format!(
            "min_instances ({}) is more than max_instances ({})",
            service.min_instances, service.max_instances
        ));
    }
    match body.get("url") {
        None => {}
        Some(Value::Null) => service.url = None,
        Some(Value::String(url)) => service.url = Some(url.clone()),
        Some(other) => return Err(format!("url: expected a string or null, found {other}")),
    }
    let template_changed = RunService {
        url: before.url.clone(),
        ..service.clone()
    } != before;
    Ok(template_changed)
}

/// The readiness `body` asks for (`reconciling`, `ready`, `reason`, `message`); as it was
/// when it names none.
fn readiness(service: &RunService, body: &Value, name: &str) -> Result<Readiness, String> {
    if body.get("reconciling").and_then(Value::as_bool) == Some(true) {
        return Ok(Readiness::Reconciling);
    }
    match body.get("ready") {
        None => Ok(service.readiness.clone()),
        Some(Value::Bool(true)) => Ok(Readiness::Ready),
        Some(Value::Bool(false)) => {
            let reason = body
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("REVISION_FAILED");
            if !COMMON_REASONS.contains(&reason) {
                return Err(format!(
                    "reason: expected one of {}, found '{reason}'",
                    COMMON_REASONS.join(", ")
                ));
            }
            let message = body.get("message").and_then(Value::as_str).map_or_else(
                || {
                    format!(
                        "Revision '{}' is not ready and cannot serve traffic.",
                        service.revision(name)
                    )
                },
                str::to_owned,
            );
            Ok(Readiness::Failed {
                reason: reason.to_owned(),
                message,
            })
        }
        Some(other) => Err(format!("ready: expected true or false, found {other}")),
    }
}

/// `GET /run.app/PROJECT/REGION/NAME[/...]`: what the service's URL answers.
pub fn serve(shared: &Shared, segments: &[&str]) -> Response {
    let [project, region, name, ..] = segments else {
        return text_response(404, "Page not found");
    };
    let state = shared.state();
    let Some((id, _)) = crate::google::project(&state, project) else {
        return text_response(404, "Page not found");
    };
    let key = ServiceKey {
        project: id,
        region: (*region).to_owned(),
        name: (*name).to_owned(),
    };
    match state.google.run_services.get(&key.stored()) {
        Some(service) if service.readiness == Readiness::Ready => text_response(
            200,
            &format!(
                "{} is serving (revision {})\n",
                key.name,
                service.revision(&key.name)
            ),
        ),
        Some(_) => text_response(503, "Service Unavailable"),
        None => text_response(404, "Page not found"),
    }
}

fn text_response(status: u16, text: &str) -> Response {
    let mut response = empty_response(status);
    *response.body_mut() = http_body_util::Full::new(bytes::Bytes::from(text.to_owned()));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
