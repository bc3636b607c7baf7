//! The Knative-shaped v1 view gcloud reads (`gcloud run services describe|list --region R`):
//! `GET apis/serving.knative.dev/v1/namespaces/NS/services[/S]` at the regional endpoint. gcloud
//! puts the region in front of the host (`europe-west1-run.googleapis.com`), so the region is
//! read from the `Host` header; NS is the project id or number.

use serde_json::{Value, json};

use super::{Readiness, RunService, ServiceKey, denied, missing, valid_name};
use crate::http_util::{GoogleCode, Request, Response, google_error, json_response};
use crate::server::Shared;

/// Handles the segments after `apis`.
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Response {
    let [
        "serving.knative.dev",
        "v1",
        "namespaces",
        namespace,
        "services",
        rest @ ..,
    ] = segments
    else {
        return google_error(
            GoogleCode::NotFound,
            &format!("no such method: {}", request.path),
        );
    };
    if request.method != http::Method::GET {
        return google_error(
            GoogleCode::NotFound,
            &format!("no such method: {} {}", request.method, request.path),
        );
    }
    let host = request
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let Some(region) = region_of_host(host) else {
        return google_error(
            GoogleCode::InvalidArgument,
            "the namespaces API is served at a regional endpoint (REGION-run.googleapis.com)",
        );
    };
    let state = shared.state();
    let Some((id, number)) = crate::google::project(&state, namespace) else {
        return denied("run.services.get", &format!("namespaces/{namespace}"));
    };
    match rest {
        [] => {
            let prefix = format!("{id}/{region}/");
            let items: Vec<Value> = state
                .google
                .run_services
                .iter()
                .filter(|(stored, _)| stored.starts_with(&prefix))
                .filter_map(|(stored, service)| {
                    let key = ServiceKey::parse(stored)?;
                    Some(service_json(service, &key, number, &request.base))
                })
                .collect();
            json_response(
                200,
                &json!({
                    "apiVersion": "serving.knative.dev/v1",
                    "kind": "ServiceList",
                    "metadata": {},
                    "items": items,
                }),
            )
        }
        [name] if valid_name(name) => {
            let key = ServiceKey {
                project: id,
                region: region.to_owned(),
                name: (*name).to_owned(),
            };
            match state.google.run_services.get(&key.stored()) {
                Some(service) => {
                    json_response(200, &service_json(service, &key, number, &request.base))
                }
                None => missing(&key),
            }
        }
        _ => google_error(
            GoogleCode::NotFound,
            &format!("no such method: GET {}", request.path),
        ),
    }
}

/// The region a regional host starts with: `europe-west1` of `europe-west1-run.googleapis.com`
/// (a region is letters, a hyphen, letters and then digits).
fn region_of_host(host: &str) -> Option<&str> {
    let (area, rest) = host.split_once('-')?;
    let letters = rest.bytes().take_while(u8::is_ascii_lowercase).count();
    let digits = rest[letters..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let end = area.len() + 1 + letters + digits;
    let valid = !area.is_empty()
        && area.bytes().all(|b| b.is_ascii_lowercase())
        && letters > 0
        && digits > 0
        && host.as_bytes().get(end) == Some(&b'-');
    valid.then(|| &host[..end])
}

fn condition(kind: &str, readiness: &Readiness, at: &str) -> Value {
    let mut value = json!({"type": kind, "lastTransitionTime": at});
    match readiness {
        Readiness::Ready => value["status"] = json!("True"),
        Readiness::Reconciling => value["status"] = json!("Unknown"),
        Readiness::Failed { reason, message } => {
            value["status"] = json!("False");
            value["reason"] = json!(reason);
            value["message"] = json!(message);
        }
    }
    value
}

/// The Knative `Service` of `service`; its namespace is the project number, as Cloud Run
/// answers.
fn service_json(service: &RunService, key: &ServiceKey, number: u64, base: &str) -> Value {
    let revision = service.revision(&key.name);
    let uri = service.uri(base, key);
    let at = &service.update_time;
    let mut scale = json!({});
    if service.min_instances != 0 {
        scale["autoscaling.knative.dev/minScale"] = json!(service.min_instances.to_string());
    }
    if service.max_instances != 0 {
        scale["autoscaling.knative.dev/maxScale"] = json!(service.max_instances.to_string());
    }
    let mut status = json!({
        "observedGeneration": service.generation,
        "conditions": [
            condition("Ready", &service.readiness, at),
            condition("ConfigurationsReady", &service.readiness, at),
            condition("RoutesReady", &service.readiness, at),
        ],
        "latestCreatedRevisionName": revision,
        "url": uri,
        "address": {"url": uri},
    });
    if service.readiness == Readiness::Ready {
        status["latestReadyRevisionName"] = json!(revision);
        status["traffic"] =
            json!([{"revisionName": revision, "percent": 100, "latestRevision": true}]);
    }
    json!({
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {
            "name": key.name,
            "namespace": number.to_string(),
            "selfLink": format!("/apis/serving.knative.dev/v1/namespaces/{number}/services/{}", key.name),
            "uid": service.uid,
            "resourceVersion": service.etag.trim_matches('"'),
            "generation": service.generation,
            "creationTimestamp": service.create_time,
            "labels": {"cloud.googleapis.com/location": key.region},
            "annotations": {
                "serving.knative.dev/creator": service.service_account,
                "serving.knative.dev/lastModifier": service.service_account,
                "run.googleapis.com/ingress": "all",
                "run.googleapis.com/ingress-status": "all",
            },
        },
        "spec": {
            "template": {
                "metadata": {"annotations": scale},
                "spec": {
                    "containerConcurrency": service.concurrency,
                    "timeoutSeconds": service.timeout_secs,
                    "serviceAccountName": service.service_account,
                    "containers": [{
                        "image": service.image,
                        "ports": [{"name": "http1", "containerPort": 8080}],
                        "resources": {"limits": {"cpu": service.cpu, "memory": service.memory}},
                    }],
                },
            },
            "traffic": [{"percent": 100, "latestRevision": true}],
        },
        "status": status,
    })
}

#[cfg(test)]
mod tests {
    use super::region_of_host;

    #[test]
    fn the_region_is_read_from_the_front_of_the_host() {
        assert_eq!(
            region_of_host("europe-west1-run.googleapis.com"),
            Some("europe-west1")
        );
        assert_eq!(
            region_of_host("northamerica-northeast2-localhost:8080"),
            Some("northamerica-northeast2")
        );
        assert_eq!(region_of_host("run.googleapis.com"), None);
        assert_eq!(region_of_host("127.0.0.1:8080"), None);
        assert_eq!(region_of_host("europe-west1.example"), None);
    }
}
