//! Secret Manager v1: secrets with labels, annotations, version aliases and etags; versions
//! added with a CRC32C check, read by number, `latest` or alias, and disabled, enabled or
//! destroyed by the real state rules. Responses name resources by project number, as Google's
//! do. Regional names (`projects/p/locations/l/...`) share the same store.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::http_util::{
    GoogleCode, Request, Response, google_error, json_response, page, rfc3339_now,
};
use crate::keys;
use crate::server::Shared;
use crate::state::{SmSecret, SmVersion, State, VersionState};

mod export;
mod versions;

pub use export::export_from_actions;
use versions::{access, add_version, change_state, get_version, list_versions};

fn etag() -> String {
    format!("\"{}\"", keys::random_hex(7))
}

fn valid_secret_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A resolved `projects/{p}/secrets/{s}`.
struct Name {
    /// Key in the store: `projects/{id}/secrets/{s}`.
    key: String,
    /// As responses show it: `projects/{number}/secrets/{s}`.
    shown: String,
}

fn secret_name(state: &State, project: &str, secret: &str) -> Result<Name, Response> {
    let (id, number) = super::project(state, project).ok_or_else(|| {
        google_error(
            GoogleCode::NotFound,
            &format!("Project {project} not found or permission denied."),
        )
    })?;
    Ok(Name {
        key: format!("projects/{id}/secrets/{secret}"),
        shown: format!("projects/{number}/secrets/{secret}"),
    })
}

fn secret_json(name: &str, secret: &SmSecret) -> Value {
    let aliases: BTreeMap<&String, String> = secret
        .version_aliases
        .iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    let mut value = json!({
        "name": name,
        "replication": secret.replication,
        "createTime": secret.create_time,
        "labels": secret.labels,
        "annotations": secret.annotations,
        "versionAliases": aliases,
        "etag": secret.etag,
    });
    if let Some(ttl) = &secret.version_destroy_ttl {
        value["versionDestroyTtl"] = json!(ttl);
    }
    value
}

fn version_json(secret_name: &str, version: &SmVersion) -> Value {
    let state = match version.state {
        VersionState::Enabled => "ENABLED",
        VersionState::Disabled => "DISABLED",
        VersionState::Destroyed => "DESTROYED",
    };
    let mut value = json!({
        "name": format!("{secret_name}/versions/{}", version.number),
        "createTime": version.create_time,
        "state": state,
        "etag": version.etag,
        "clientSpecifiedPayloadChecksum": version.client_checksum,
        "replicationStatus": {"automatic": {}},
    });
    if let Some(t) = &version.destroy_time {
        value["destroyTime"] = json!(t);
    }
    if let Some(t) = &version.scheduled_destroy_time {
        value["scheduledDestroyTime"] = json!(t);
    }
    value
}

/// Routes the segments after `v1`.
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Response {
    use http::Method as M;
    // Regional names share the store: drop `locations/{l}`.
    let mut segments: Vec<&str> = segments.to_vec();
    if segments.get(2) == Some(&"locations") && segments.len() > 3 {
        segments.drain(2..4);
    }
    let method = &request.method;
    match segments.as_slice() {
        ["projects", project, "secrets"] if method == M::POST => create(shared, request, project),
        ["projects", project, "secrets"] if method == M::GET => list(shared, request, project),
        ["projects", project, "secrets", secret] => match secret.split_once(':') {
            Some((secret, "addVersion")) if method == M::POST => {
                add_version(shared, request, project, secret)
            }
            None if method == M::GET => get(shared, project, secret),
            None if method == M::PATCH => patch(shared, request, project, secret),
            None if method == M::DELETE => delete(shared, request, project, secret),
            _ => google_error(GoogleCode::NotFound, "no such method"),
        },
        ["projects", project, "secrets", secret, "versions"] if method == M::GET => {
            list_versions(shared, request, project, secret)
        }
        ["projects", project, "secrets", secret, "versions", version] => {
            match version.split_once(':') {
                Some((v, "access")) if method == M::GET => access(shared, project, secret, v),
                Some((v, action @ ("disable" | "enable" | "destroy"))) if method == M::POST => {
                    change_state(shared, request, project, secret, v, action)
                }
                None if method == M::GET => get_version(shared, project, secret, version),
                _ => google_error(GoogleCode::NotFound, "no such method"),
            }
        }
        _ => google_error(
            GoogleCode::NotFound,
            &format!("no such method: {}", request.path),
        ),
    }
}

fn string_map(value: Option<&Value>, field: &str) -> Result<BTreeMap<String, String>, Response> {
    match value {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(google_error(
                    GoogleCode::InvalidArgument,
                    &format!("Invalid value at 'secret.{field}[{k}]': expected a string"),
                )),
            })
            .collect(),
        Some(_) => Err(google_error(
            GoogleCode::InvalidArgument,
            &format!("Invalid value at 'secret.{field}': expected a map"),
        )),
    }
}

/// `versionDestroyTtl` of a Secret body, checked to be a protobuf duration.
fn destroy_ttl(body: &Value) -> Result<Option<String>, Response> {
    match body.get("versionDestroyTtl") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if crate::http_util::duration_secs(text).is_some() => {
            Ok(Some(text.clone()))
        }
        Some(other) => Err(google_error(
            GoogleCode::InvalidArgument,
            &format!(
                "Invalid value at 'secret.version_destroy_ttl' (google.protobuf.Duration), {other}"
            ),
        )),
    }
}

fn int64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn create(shared: &Shared, request: &Request, project: &str) -> Response {
    let Some(secret_id) = request.query("secretId") else {
        return google_error(GoogleCode::InvalidArgument, "secretId is required");
    };
    if !valid_secret_id(secret_id) {
        return google_error(
            GoogleCode::InvalidArgument,
            &format!("Secret id [{secret_id}] must match [a-zA-Z0-9_-]{{1,255}}"),
        );
    }
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return google_error(GoogleCode::InvalidArgument, &e),
    };
    let Some(replication) = body.get("replication").filter(|r| r.is_object()).cloned() else {
        return google_error(
            GoogleCode::InvalidArgument,
            "Secret.replication is required.",
        );
    };
    let labels = match string_map(body.get("labels"), "labels") {
        Ok(m) => m,
        Err(r) => return r,
    };
    let annotations = match string_map(body.get("annotations"), "annotations") {
        Ok(m) => m,
        Err(r) => return r,
    };
    let version_destroy_ttl = match destroy_ttl(&body) {
        Ok(ttl) => ttl,
        Err(r) => return r,
    };
    shared.change(|state| {
        let name = match secret_name(state, project, secret_id) {
            Ok(name) => name,
            Err(r) => return r,
        };
        if state.google.secrets.contains_key(&name.key) {
            return google_error(
                GoogleCode::AlreadyExists,
                &format!("Secret [{}] already exists.", name.shown),
            );
        }
        let secret = SmSecret {
            create_time: rfc3339_now(),
            labels,
            annotations,
            version_aliases: BTreeMap::new(),
            replication,
            etag: etag(),
            versions: Vec::new(),
            version_destroy_ttl,
        };
        let response = json_response(200, &secret_json(&name.shown, &secret));
        state.google.secrets.insert(name.key, secret);
        response
    })
}

/// Adds `data` as a new version of the secret stored under `key` (`projects/{id}/secrets/{s}`),
/// creating it first (automatic replication, with `labels`) when it is missing.
pub fn add_version_creating(state: &mut State, key: String, labels: &[(&str, &str)], data: &[u8]) {
    let secret = state.google.secrets.entry(key).or_insert_with(|| SmSecret {
        create_time: rfc3339_now(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        annotations: BTreeMap::new(),
        version_aliases: BTreeMap::new(),
        replication: json!({"automatic": {}}),
        etag: etag(),
        versions: Vec::new(),
        version_destroy_ttl: None,
    });
    versions::push_version(secret, data, None);
}

/// `filter` terms joined by AND: `name:prefix`, `labels.k=v`, `labels.k:*`, `state:ENABLED`.
fn filter_matches(
    filter: &str,
    name: &str,
    labels: Option<&BTreeMap<String, String>>,
    state: Option<&str>,
) -> bool {
    filter
        .split(" AND ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some(prefix) = term.strip_prefix("name:") {
                let short = name.rsplit('/').next().unwrap_or(name);
                return short.contains(prefix.trim_matches('"'));
            }
            if let Some(rest) = term.strip_prefix("labels.") {
                let labels = labels.cloned().unwrap_or_default();
                if let Some((k, v)) = rest.split_once('=') {
                    return labels.get(k).is_some_and(|x| x == v.trim_matches('"'));
                }
                if let Some((k, _)) = rest.split_once(':') {
                    return labels.contains_key(k);
                }
            }
            if let Some(s) = term
                .strip_prefix("state:")
                .or_else(|| term.strip_prefix("state="))
            {
                return state.is_some_and(|x| x == s);
            }
            true
        })
}

/// The paged list answer: `{FIELD: [...], "totalSize": N, "nextPageToken"?: "..."}`.
fn paged_response(field: &str, all: &[Value], request: &Request) -> Response {
    let (items, next) = page(all, request);
    let mut body = json!({ field: items, "totalSize": all.len() });
    if let Some(next) = next {
        body["nextPageToken"] = json!(next);
    }
    json_response(200, &body)
}

/// Runs `read` on secret `secret_id` of `project`, or answers its 404 (or the project's).
fn read_secret(
    shared: &Shared,
    project: &str,
    secret_id: &str,
    read: impl FnOnce(&Name, &SmSecret) -> Response,
) -> Response {
    let state = shared.state();
    let name = match secret_name(&state, project, secret_id) {
        Ok(name) => name,
        Err(r) => return r,
    };
    match state.google.secrets.get(&name.key) {
        Some(secret) => read(&name, secret),
        None => not_found(&name),
    }
}

fn list(shared: &Shared, request: &Request, project: &str) -> Response {
    let state = shared.state();
    let Some((id, number)) = super::project(&state, project) else {
        return google_error(
            GoogleCode::NotFound,
            &format!("Project {project} not found or permission denied."),
        );
    };
    let prefix = format!("projects/{id}/secrets/");
    let filter = request.query("filter").unwrap_or("");
    let all: Vec<Value> = state
        .google
        .secrets
        .iter()
        .filter_map(|(key, secret)| {
            let short = key.strip_prefix(&prefix)?;
            let shown = format!("projects/{number}/secrets/{short}");
            filter_matches(filter, &shown, Some(&secret.labels), None)
                .then(|| secret_json(&shown, secret))
        })
        .collect();
    paged_response("secrets", &all, request)
}

fn not_found(name: &Name) -> Response {
    google_error(
        GoogleCode::NotFound,
        &format!("Secret [{}] not found or has no versions.", name.shown),
    )
}

fn get(shared: &Shared, project: &str, secret: &str) -> Response {
    read_secret(shared, project, secret, |name, s| {
        json_response(200, &secret_json(&name.shown, s))
    })
}

fn patch(shared: &Shared, request: &Request, project: &str, secret_id: &str) -> Response {
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return google_error(GoogleCode::InvalidArgument, &e),
    };
    let Some(mask) = request.query("updateMask") else {
        return google_error(GoogleCode::InvalidArgument, "update_mask is required");
    };
    let fields: Vec<String> = mask
        .split(',')
        .map(|f| f.trim().replace('_', "").to_lowercase())
        .collect();
    shared.change(|state| {
        let name = match secret_name(state, project, secret_id) {
            Ok(name) => name,
            Err(r) => return r,
        };
        let Some(secret) = state.google.secrets.get_mut(&name.key) else {
            return not_found(&name);
        };
        if let Some(given) = body.get("etag").and_then(Value::as_str)
            && given != secret.etag
        {
            return google_error(GoogleCode::Aborted, "The etag provided in the request does not match the current etag of the resource.");
        }
        for field in &fields {
            match field.as_str() {
                "labels" => match string_map(body.get("labels"), "labels") {
                    Ok(m) => secret.labels = m,
                    Err(r) => return r,
                },
                "annotations" => match string_map(body.get("annotations"), "annotations") {
                    Ok(m) => secret.annotations = m,
                    Err(r) => return r,
                },
                "versiondestroyttl" => match destroy_ttl(&body) {
                    Ok(ttl) => secret.version_destroy_ttl = ttl,
                    Err(r) => return r,
                },
                "versionaliases" => {
                    let mut aliases = BTreeMap::new();
                    if let Some(Value::Object(map)) = body.get("versionAliases") {
                        for (alias, v) in map {
                            let Some(number) = int64(v) else {
                                return google_error(GoogleCode::InvalidArgument, &format!("alias {alias} must name a version number"));
                            };
                            if !secret.versions.iter().any(|x| x.number == number) {
                                return google_error(
                                    GoogleCode::InvalidArgument,
                                    &format!("Alias {alias} refers to version {number}, which does not exist."),
                                );
                            }
                            aliases.insert(alias.clone(), number);
                        }
                    }
                    secret.version_aliases = aliases;
                }
                other => {
                    return google_error(
                        GoogleCode::InvalidArgument,
                        &format!("update_mask path '{other}' is not supported (labels, annotations, version_aliases)"),
                    );
                }
            }
        }
        secret.etag = etag();
        json_response(200, &secret_json(&name.shown, secret))
    })
}

fn delete(shared: &Shared, request: &Request, project: &str, secret_id: &str) -> Response {
    shared.change(|state| {
        let name = match secret_name(state, project, secret_id) {
            Ok(name) => name,
            Err(r) => return r,
        };
        let Some(secret) = state.google.secrets.get(&name.key) else {
            return not_found(&name);
        };
        if let Some(given) = request.query("etag")
            && given != secret.etag
        {
            return google_error(
                GoogleCode::Aborted,
                "The etag provided in the request does not match the current etag of the resource.",
            );
        }
        state.google.secrets.remove(&name.key);
        json_response(200, &json!({}))
    })
}
