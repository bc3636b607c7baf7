//! Secret versions: added with a CRC32C check, resolved by number, `latest` or alias, read
//! and accessed, and disabled, enabled or destroyed by the real state rules.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::filter::{Filter, Subject};
use super::names::{Name, Parent};
use super::{etag, etag_mismatch, int64, not_found, paged_response, read_secret, version_json};
use crate::http_util::{
    GoogleCode, Request, Response, duration_secs, google_error, json_response, rfc3339_in,
    rfc3339_now,
};
use crate::server::Shared;
use crate::state::{SmSecret, SmVersion, VersionState};

/// Largest payload accepted.
const MAX_PAYLOAD: usize = 65_536;

/// Adds a version with `data` to the secret at `key`; returns its number.
pub(super) fn push_version(secret: &mut SmSecret, data: &[u8], crc: Option<u32>) -> i64 {
    let number = secret.versions.iter().map(|v| v.number).max().unwrap_or(0) + 1;
    secret.versions.push(SmVersion {
        number,
        state: VersionState::Enabled,
        data: Some(STANDARD.encode(data)),
        crc32c: Some(crc.unwrap_or_else(|| crc32c::crc32c(data))),
        client_checksum: crc.is_some(),
        create_time: rfc3339_now(),
        destroy_time: None,
        etag: etag(),
        scheduled_destroy_time: None,
    });
    // The etag page: a change to a version leaves the secret's etag alone (and an added
    // version is a new resource with an etag of its own).
    number
}

pub(super) fn add_version(
    shared: &Shared,
    request: &Request,
    parent: &Parent<'_>,
    secret_id: &str,
) -> Response {
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return google_error(GoogleCode::InvalidArgument, &e),
    };
    let Some(payload) = body.get("payload") else {
        return google_error(GoogleCode::InvalidArgument, "Secret payload is required.");
    };
    let data = match payload.get("data").and_then(Value::as_str) {
        Some(text) => match STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
        {
            Ok(data) => data,
            Err(_) => {
                return google_error(
                    GoogleCode::InvalidArgument,
                    "Invalid value at 'payload.data' (TYPE_BYTES), Base64 decoding failed",
                );
            }
        },
        None => Vec::new(),
    };
    if data.len() > MAX_PAYLOAD {
        return google_error(
            GoogleCode::InvalidArgument,
            &format!("Secret payload data length must be at most {MAX_PAYLOAD} bytes."),
        );
    }
    let crc = match payload.get("dataCrc32c") {
        None | Some(Value::Null) => None,
        Some(v) => match int64(v).and_then(|n| u32::try_from(n).ok()) {
            Some(n) => Some(n),
            None => {
                return google_error(
                    GoogleCode::InvalidArgument,
                    "Invalid value at 'payload.data_crc32c'",
                );
            }
        },
    };
    if let Some(given) = crc
        && given != crc32c::crc32c(&data)
    {
        return google_error(
            GoogleCode::InvalidArgument,
            "Checksum mismatch: the CRC32C of the payload data does not match payload.data_crc32c.",
        );
    }
    shared.change(|state| {
        let name = match parent.secret(state, secret_id) {
            Ok(name) => name,
            Err(r) => return r,
        };
        let Some(secret) = state.google.secrets.get_mut(&name.key) else {
            return not_found(&name);
        };
        let number = push_version(secret, &data, crc);
        let version = secret.versions.iter().find(|v| v.number == number);
        match version {
            Some(v) => json_response(200, &version_json(&name.shown, v)),
            None => google_error(GoogleCode::Internal, "version vanished"),
        }
    })
}

/// Resolves `latest`, an alias or a number to an index in `versions`.
fn resolve(secret: &SmSecret, name: &Name, version: &str) -> Result<usize, Response> {
    let number = if version == "latest" {
        secret.versions.iter().map(|v| v.number).max()
    } else if let Ok(n) = version.parse::<i64>() {
        Some(n)
    } else {
        secret.version_aliases.get(version).copied()
    };
    number
        .and_then(|n| secret.versions.iter().position(|v| v.number == n))
        .ok_or_else(|| {
            if secret.versions.is_empty() {
                not_found(name)
            } else {
                google_error(
                    GoogleCode::NotFound,
                    &format!(
                        "Secret Version [{}/versions/{version}] not found.",
                        name.shown
                    ),
                )
            }
        })
}

pub(super) fn get_version(
    shared: &Shared,
    parent: &Parent<'_>,
    secret_id: &str,
    version: &str,
) -> Response {
    read_secret(shared, parent, secret_id, |name, secret| {
        match resolve(secret, name, version) {
            Ok(i) => json_response(200, &version_json(&name.shown, &secret.versions[i])),
            Err(r) => r,
        }
    })
}

pub(super) fn access(
    shared: &Shared,
    parent: &Parent<'_>,
    secret_id: &str,
    version: &str,
) -> Response {
    read_secret(shared, parent, secret_id, |name, secret| {
        access_version(name, secret, version)
    })
}

fn access_version(name: &Name, secret: &SmSecret, version: &str) -> Response {
    let v = match resolve(secret, name, version) {
        Ok(i) => &secret.versions[i],
        Err(r) => return r,
    };
    let version_name = format!("{}/versions/{}", name.shown, v.number);
    if v.state != VersionState::Enabled {
        let state_word = if v.state == VersionState::Disabled {
            "DISABLED"
        } else {
            "DESTROYED"
        };
        return google_error(
            GoogleCode::FailedPrecondition,
            &format!("Secret Version [{version_name}] is in {state_word} state."),
        );
    }
    let data = v.data.clone().unwrap_or_default();
    let crc = v.crc32c.unwrap_or(0);
    json_response(
        200,
        &json!({"name": version_name, "payload": {"data": data, "dataCrc32c": crc.to_string()}}),
    )
}

pub(super) fn change_state(
    shared: &Shared,
    request: &Request,
    parent: &Parent<'_>,
    secret_id: &str,
    version: &str,
    action: &str,
) -> Response {
    let body = request.json().unwrap_or(Value::Null);
    shared.change(|state| {
        let name = match parent.secret(state, secret_id) {
            Ok(name) => name,
            Err(r) => return r,
        };
        let Some(secret) = state.google.secrets.get_mut(&name.key) else {
            return not_found(&name);
        };
        let index = match resolve(secret, &name, version) {
            Ok(i) => i,
            Err(r) => return r,
        };
        let delay = secret
            .version_destroy_ttl
            .as_deref()
            .and_then(duration_secs);
        let v = &mut secret.versions[index];
        if let Some(given) = body.get("etag").and_then(Value::as_str)
            && given != v.etag
        {
            return etag_mismatch();
        }
        let version_name = format!("{}/versions/{}", name.shown, v.number);
        if v.state == VersionState::Destroyed {
            return google_error(
                GoogleCode::FailedPrecondition,
                &format!("Secret Version [{version_name}] is in DESTROYED state."),
            );
        }
        // Enabling or disabling cancels a scheduled destruction; with a destroy TTL,
        // destroy disables now and schedules the destruction.
        match (action, delay) {
            ("disable", _) => {
                v.state = VersionState::Disabled;
                v.scheduled_destroy_time = None;
            }
            ("enable", _) => {
                v.state = VersionState::Enabled;
                v.scheduled_destroy_time = None;
            }
            (_, Some(seconds)) if seconds > 0 => {
                v.state = VersionState::Disabled;
                v.scheduled_destroy_time = Some(rfc3339_in(seconds));
            }
            _ => {
                v.state = VersionState::Destroyed;
                v.data = None;
                v.destroy_time = Some(rfc3339_now());
                v.scheduled_destroy_time = None;
            }
        }
        v.etag = etag();
        json_response(200, &version_json(&name.shown, v))
    })
}

pub(super) fn list_versions(
    shared: &Shared,
    request: &Request,
    parent: &Parent<'_>,
    secret_id: &str,
) -> Response {
    let filter = match Filter::parse(request.query("filter").unwrap_or("")) {
        Ok(filter) => filter,
        Err(r) => return r,
    };
    read_secret(shared, parent, secret_id, |name, secret| {
        let all: Vec<Value> = secret
            .versions
            .iter()
            .rev()
            .map(|v| version_json(&name.shown, v))
            .filter(|v| {
                let text = |field: &str| v.get(field).and_then(Value::as_str).unwrap_or("");
                filter.matches(&Subject::version(
                    text("name"),
                    text("createTime"),
                    text("state"),
                ))
            })
            .collect();
        paged_response("versions", &all, request)
    })
}
