//! Secret Manager v1: secrets with labels, annotations, version aliases and etags; versions
//! added with a CRC32C check, read by number, `latest` or alias, and disabled, enabled or
//! destroyed by the real state rules. Responses name resources by project number, as Google's
//! do. Regional secrets (`projects/p/locations/l/secrets/s`) are a namespace of their own
//! (`names`). An etag that does not match is refused with `FAILED_PRECONDITION` (HTTP 400), as
//! Secret Manager's etag page documents (AIP-154's general advice of `ABORTED` does not apply).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::http_util::{
    GoogleCode, Request, Response, google_error, json_response, page, rfc3339_now,
};
use crate::keys;
use crate::server::Shared;
use crate::state::{SmSecret, SmVersion, State, VersionState};

mod expiry;
mod export;
mod filter;
mod labels;
mod names;
mod versions;

pub use export::export_from_actions;
use names::{Name, Parent};
use versions::{access, add_version, change_state, get_version, list_versions};

fn etag() -> String {
    format!("\"{}\"", keys::random_hex(7))
}

/// The refusal of an etag that does not match, as Secret Manager sends it: `FAILED_PRECONDITION`
/// with HTTP 400 (its etag page); the message is the one Google's own test fakes use.
fn etag_mismatch() -> Response {
    google_error(
        GoogleCode::FailedPrecondition,
        "The etag provided in the request does not match the resource's current etag. Please retry the whole read-modify-write with exponential backoff.",
    )
}

fn secret_json(name: &str, secret: &SmSecret) -> Value {
    let aliases: BTreeMap<&String, String> = secret
        .version_aliases
        .iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    let mut value = json!({
        "name": name,
        "createTime": secret.create_time,
        "labels": secret.labels,
        "annotations": secret.annotations,
        "versionAliases": aliases,
        "etag": secret.etag,
    });
    if !secret.replication.is_null() {
        value["replication"] = secret.replication.clone();
    }
    if let Some(ttl) = &secret.version_destroy_ttl {
        value["versionDestroyTtl"] = json!(ttl);
    }
    if let Some(at) = &secret.expire_time {
        value["expireTime"] = json!(at);
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
    let Some((parent, rest)) = names::split_parent(segments) else {
        return google_error(
            GoogleCode::NotFound,
            &format!("no such method: {}", request.path),
        );
    };
    let parent = &parent;
    // Expired secrets go before anything can see them (saved with the next change).
    expiry::purge(&mut shared.state());
    let method = &request.method;
    match rest {
        ["secrets"] if method == M::POST => create(shared, request, parent),
        ["secrets"] if method == M::GET => list(shared, request, parent),
        ["secrets", secret] => match secret.split_once(':') {
            Some((secret, "addVersion")) if method == M::POST => {
                add_version(shared, request, parent, secret)
            }
            None if method == M::GET => get(shared, parent, secret),
            None if method == M::PATCH => patch(shared, request, parent, secret),
            None if method == M::DELETE => delete(shared, request, parent, secret),
            _ => google_error(GoogleCode::NotFound, "no such method"),
        },
        ["secrets", secret, "versions"] if method == M::GET => {
            list_versions(shared, request, parent, secret)
        }
        ["secrets", secret, "versions", version] => match version.split_once(':') {
            Some((v, "access")) if method == M::GET => access(shared, parent, secret, v),
            Some((v, action @ ("disable" | "enable" | "destroy"))) if method == M::POST => {
                change_state(shared, request, parent, secret, v, action)
            }
            None if method == M::GET => get_version(shared, parent, secret, version),
            _ => google_error(GoogleCode::NotFound, "no such method"),
        },
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

fn create(shared: &Shared, request: &Request, parent: &Parent<'_>) -> Response {
    let secret_id = request.query("secretId").unwrap_or("");
    if !names::valid_secret_id(secret_id) {
        return names::bad_secret_id(secret_id);
    }
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return google_error(GoogleCode::InvalidArgument, &e),
    };
    // Regional secrets live in one location: they take no replication policy.
    let replication = match body.get("replication").filter(|r| r.is_object()).cloned() {
        Some(replication) => Some(replication),
        None if parent.location.is_some() => None,
        None => {
            return google_error(
                GoogleCode::InvalidArgument,
                "Secret.replication is required.",
            );
        }
    };
    let labels = match string_map(body.get("labels"), "labels").and_then(|m| {
        labels::check(&m)?;
        Ok(m)
    }) {
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
    let expire_time = match expiry::requested(&body) {
        Ok(at) => at,
        Err(r) => return r,
    };
    shared.change(|state| {
        let name = match parent.secret(state, secret_id) {
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
            replication: replication.unwrap_or(Value::Null),
            etag: etag(),
            versions: Vec::new(),
            version_destroy_ttl,
            expire_time,
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
        expire_time: None,
    });
    versions::push_version(secret, data, None);
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
    parent: &Parent<'_>,
    secret_id: &str,
    read: impl FnOnce(&Name, &SmSecret) -> Response,
) -> Response {
    let state = shared.state();
    let name = match parent.secret(&state, secret_id) {
        Ok(name) => name,
        Err(r) => return r,
    };
    match state.google.secrets.get(&name.key) {
        Some(secret) => read(&name, secret),
        None => not_found(&name),
    }
}

fn list(shared: &Shared, request: &Request, parent: &Parent<'_>) -> Response {
    let filter = match filter::Filter::parse(request.query("filter").unwrap_or("")) {
        Ok(filter) => filter,
        Err(r) => return r,
    };
    let state = shared.state();
    let (prefix, shown_prefix) = match parent.key_prefix(&state) {
        Ok(prefixes) => prefixes,
        Err(r) => return r,
    };
    let all: Vec<Value> = state
        .google
        .secrets
        .iter()
        .filter_map(|(key, secret)| {
            let short = key.strip_prefix(&prefix)?;
            let shown = format!("{shown_prefix}{short}");
            filter
                .matches(&filter::Subject::secret(&shown, secret))
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

fn get(shared: &Shared, parent: &Parent<'_>, secret: &str) -> Response {
    read_secret(shared, parent, secret, |name, s| {
        json_response(200, &secret_json(&name.shown, s))
    })
}

fn patch(shared: &Shared, request: &Request, parent: &Parent<'_>, secret_id: &str) -> Response {
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
        let name = match parent.secret(state, secret_id) {
            Ok(name) => name,
            Err(r) => return r,
        };
        let Some(secret) = state.google.secrets.get_mut(&name.key) else {
            return not_found(&name);
        };
        if let Some(given) = body.get("etag").and_then(Value::as_str)
            && given != secret.etag
        {
            return etag_mismatch();
        }
        for field in &fields {
            match field.as_str() {
                "labels" => match string_map(body.get("labels"), "labels").and_then(|m| {
                    labels::check(&m)?;
                    Ok(m)
                }) {
                    Ok(m) => secret.labels = m,
                    Err(r) => return r,
                },
                "ttl" | "expiretime" => match expiry::requested(&body) {
                    Ok(at) => secret.expire_time = at,
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
                        &format!("update_mask path '{other}' is not supported (labels, annotations, version_aliases, version_destroy_ttl, ttl, expire_time)"),
                    );
                }
            }
        }
        secret.etag = etag();
        json_response(200, &secret_json(&name.shown, secret))
    })
}

fn delete(shared: &Shared, request: &Request, parent: &Parent<'_>, secret_id: &str) -> Response {
    shared.change(|state| {
        let name = match parent.secret(state, secret_id) {
            Ok(name) => name,
            Err(r) => return r,
        };
        let Some(secret) = state.google.secrets.get(&name.key) else {
            return not_found(&name);
        };
        if let Some(given) = request.query("etag")
            && given != secret.etag
        {
            return etag_mismatch();
        }
        state.google.secrets.remove(&name.key);
        json_response(200, &json!({}))
    })
}
