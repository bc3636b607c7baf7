//! Cloud Run Admin API v2: `GET v2/projects/P/locations/L/services/S` and
//! `GET v2/projects/P/locations/L/services` (name order, `pageSize`/`pageToken`; location `-`
//! lists every region), in the JSON google-cloud-run and orchestra read: `template` with its
//! containers' `resources.limits`, `scaling` and `maxInstanceRequestConcurrency`,
//! `terminalCondition` and `conditions`, `uri`/`urls`, `reconciling`, `etag`. int64 fields are
//! strings and zero values are left out, as proto3 JSON writes them.

use serde_json::{Value, json};

use super::{Readiness, RunService, ServiceKey, denied, missing, valid_name, valid_region};
use crate::http_util::{GoogleCode, Request, Response, google_error, json_response};
use crate::server::Shared;

/// Handles the segments after `v2`.
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Response {
    if request.method != http::Method::GET {
        return google_error(
            GoogleCode::NotFound,
            &format!("no such method: {} {}", request.method, request.path),
        );
    }
    match segments {
        ["projects", project, "locations", region, "services"] => {
            list(shared, request, project, region)
        }
        ["projects", project, "locations", region, "services", name] => {
            get(shared, request, project, region, name)
        }
        _ => google_error(
            GoogleCode::NotFound,
            &format!("no such method: GET {}", request.path),
        ),
    }
}

fn get(shared: &Shared, request: &Request, project: &str, region: &str, name: &str) -> Response {
    let resource = format!("projects/{project}/locations/{region}/services/{name}");
    if !valid_region(region) || !valid_name(name) {
        return google_error(
            GoogleCode::InvalidArgument,
            &format!("Invalid resource name '{resource}'."),
        );
    }
    let state = shared.state();
    let Some((id, _)) = crate::google::project(&state, project) else {
        return denied("run.services.get", &resource);
    };
    let key = ServiceKey {
        project: id,
        region: region.to_owned(),
        name: name.to_owned(),
    };
    match state.google.run_services.get(&key.stored()) {
        Some(service) => json_response(200, &service_json(service, &key, &request.base)),
        None => missing(&key),
    }
}

fn list(shared: &Shared, request: &Request, project: &str, region: &str) -> Response {
    let parent = format!("projects/{project}/locations/{region}");
    if region != "-" && !valid_region(region) {
        return google_error(
            GoogleCode::InvalidArgument,
            &format!("Invalid parent '{parent}'."),
        );
    }
    let state = shared.state();
    let Some((id, _)) = crate::google::project(&state, project) else {
        return denied("run.services.list", &parent);
    };
    let mut found: Vec<(ServiceKey, &RunService)> = state
        .google
        .run_services
        .iter()
        .filter_map(|(stored, service)| Some((ServiceKey::parse(stored)?, service)))
        .filter(|(key, _)| key.project == id && (region == "-" || key.region == region))
        .collect();
    found.sort_by(|(a, _), (b, _)| (&a.region, &a.name).cmp(&(&b.region, &b.name)));
    let services: Vec<Value> = found
        .iter()
        .map(|(key, service)| service_json(service, key, &request.base))
        .collect();
    let (page, next) = crate::http_util::page(&services, request);
    let mut answer = json!({});
    if !page.is_empty() {
        answer["services"] = json!(page);
    }
    if let Some(next) = next {
        answer["nextPageToken"] = json!(next);
    }
    json_response(200, &answer)
}

/// One `Condition`: `state` is `CONDITION_SUCCEEDED`, `CONDITION_FAILED` or
/// `CONDITION_RECONCILING`.
fn condition(kind: &str, readiness: &Readiness, at: &str) -> Value {
    let mut value = json!({"type": kind, "lastTransitionTime": at});
    match readiness {
        Readiness::Ready => value["state"] = json!("CONDITION_SUCCEEDED"),
        Readiness::Reconciling => value["state"] = json!("CONDITION_RECONCILING"),
        Readiness::Failed { reason, message } => {
            value["state"] = json!("CONDITION_FAILED");
            value["reason"] = json!(reason);
            value["message"] = json!(message);
            value["severity"] = json!("ERROR");
        }
    }
    value
}

/// The v2 `Service` of `service`, stored under `key`.
pub fn service_json(service: &RunService, key: &ServiceKey, base: &str) -> Value {
    let name = format!(
        "projects/{}/locations/{}/services/{}",
        key.project, key.region, key.name
    );
    let revision = format!("{name}/revisions/{}", service.revision(&key.name));
    let uri = service.uri(base, key);
    let at = &service.update_time;
    let mut scaling = json!({});
    if service.min_instances != 0 {
        scaling["minInstanceCount"] = json!(service.min_instances);
    }
    if service.max_instances != 0 {
        scaling["maxInstanceCount"] = json!(service.max_instances);
    }
    let latest = json!([{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]);
    let mut value = json!({
        "name": name,
        "uid": service.uid,
        "generation": service.generation.to_string(),
        "createTime": service.create_time,
        "updateTime": service.update_time,
        "creator": service.service_account,
        "lastModifier": service.service_account,
        "ingress": "INGRESS_TRAFFIC_ALL",
        "launchStage": "GA",
        "template": {
            "scaling": scaling,
            "timeout": format!("{}s", service.timeout_secs),
            "serviceAccount": service.service_account,
            "containers": [{
                "image": service.image,
                "ports": [{"name": "http1", "containerPort": 8080}],
                "resources": {
                    "limits": {"cpu": service.cpu, "memory": service.memory},
                    "cpuIdle": true,
                    "startupCpuBoost": true,
                },
            }],
            "maxInstanceRequestConcurrency": service.concurrency,
            "executionEnvironment": "EXECUTION_ENVIRONMENT_GEN2",
        },
        "traffic": latest,
        "observedGeneration": service.generation.to_string(),
        "terminalCondition": condition("Ready", &service.readiness, at),
        "conditions": [
            condition("RoutesReady", &service.readiness, at),
            condition("ConfigurationsReady", &service.readiness, at),
        ],
        "latestCreatedRevision": revision,
        "uri": uri,
        "urls": [uri],
        "etag": service.etag,
    });
    if service.readiness == Readiness::Ready {
        value["latestReadyRevision"] = json!(revision);
        value["trafficStatuses"] = latest;
    }
    if service.readiness == Readiness::Reconciling {
        value["reconciling"] = json!(true);
    }
    value
}
