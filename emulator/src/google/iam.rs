//! IAM service-account keys: create (a real RSA key, returned once as a JSON key file whose
//! `token_uri` points at this emulator), list, get, delete, disable, enable, and the limit of
//! 10 user-managed keys per account.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::fixtures;
use crate::http_util::{GoogleCode, Request, Response, google_error, json_response};
use crate::server::Shared;
use crate::state::{SaKey, State};

/// Most user-managed keys one account may have.
pub const KEY_LIMIT: usize = 10;

/// The key with id `kid` and its account's email.
pub fn find_key(state: &State, kid: &str) -> Option<(String, SaKey)> {
    state
        .google
        .service_accounts
        .iter()
        .find_map(|(email, account)| {
            account
                .keys
                .iter()
                .find(|k| k.id == kid)
                .map(|k| (email.clone(), k.clone()))
        })
}

/// Resolves `{email|uniqueId}` under project `project` (`-` infers it) to the email.
pub fn account(state: &State, project: &str, given: &str) -> Result<String, Response> {
    let found = state
        .google
        .service_accounts
        .iter()
        .find(|(email, a)| *email == given || a.unique_id == given)
        .map(|(email, a)| (email.clone(), a.project.clone()));
    match found {
        Some((email, owner))
            if project == "-"
                || super::project(state, project).is_some_and(|(id, _)| id == owner) =>
        {
            Ok(email)
        }
        _ if project == "-" => Err(google_error(
            GoogleCode::PermissionDenied,
            &format!(
                "Permission 'iam.serviceAccountKeys.list' denied on resource (or it may not exist): projects/-/serviceAccounts/{given}"
            ),
        )),
        _ => Err(google_error(
            GoogleCode::NotFound,
            &format!("Unknown service account {given}"),
        )),
    }
}

fn key_json(project: &str, email: &str, key: &SaKey) -> Value {
    let mut value = json!({
        "name": format!("projects/{project}/serviceAccounts/{email}/keys/{}", key.id),
        "validAfterTime": key.valid_after,
        "validBeforeTime": "9999-12-31T23:59:59Z",
        "keyAlgorithm": "KEY_ALG_RSA_2048",
        "keyOrigin": "GOOGLE_PROVIDED",
        "keyType": key.key_type,
    });
    if key.disabled {
        value["disabled"] = json!(true);
        value["disableReason"] = json!("SERVICE_ACCOUNT_KEY_DISABLE_REASON_USER_INITIATED");
    }
    value
}

/// Routes `projects/{p}/serviceAccounts/{sa}/keys[...]` (segments after `v1`).
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Response {
    use http::Method as M;
    let method = &request.method;
    match segments {
        ["projects", project, "serviceAccounts", sa, "keys"] if method == M::POST => {
            create(shared, request, project, sa)
        }
        ["projects", project, "serviceAccounts", sa, "keys"] if method == M::GET => {
            list(shared, request, project, sa)
        }
        ["projects", project, "serviceAccounts", sa, "keys", key] => match key.split_once(':') {
            Some((id, "disable")) if method == M::POST => {
                set_disabled(shared, project, sa, id, true)
            }
            Some((id, "enable")) if method == M::POST => {
                set_disabled(shared, project, sa, id, false)
            }
            None if method == M::GET => get(shared, request, project, sa, key),
            None if method == M::DELETE => delete(shared, project, sa, key),
            _ => google_error(GoogleCode::NotFound, "no such method"),
        },
        _ => google_error(
            GoogleCode::NotFound,
            &format!("no such method: {}", request.path),
        ),
    }
}

fn enum_name(value: Option<&Value>, names: &[&str]) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => n
            .as_u64()
            .and_then(|i| names.get(i as usize))
            .map(|s| (*s).to_owned()),
        _ => None,
    }
}

fn create(shared: &Shared, request: &Request, project: &str, sa: &str) -> Response {
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return google_error(GoogleCode::InvalidArgument, &e),
    };
    let key_type = enum_name(
        body.get("privateKeyType"),
        &[
            "TYPE_UNSPECIFIED",
            "TYPE_PKCS12_FILE",
            "TYPE_GOOGLE_CREDENTIALS_FILE",
        ],
    )
    .unwrap_or_else(|| "TYPE_GOOGLE_CREDENTIALS_FILE".into());
    if key_type == "TYPE_PKCS12_FILE" {
        return google_error(
            GoogleCode::InvalidArgument,
            "the emulator mints TYPE_GOOGLE_CREDENTIALS_FILE keys only",
        );
    }
    let email = match account(&shared.state(), project, sa) {
        Ok(email) => email,
        Err(response) => return response,
    };
    // Generate outside the lock: an RSA key takes a moment.
    let (key, private_pem) = match fixtures::new_sa_key(&email) {
        Ok(pair) => pair,
        Err(e) => return google_error(GoogleCode::Internal, &e),
    };
    let token_uri = format!("{}/token", request.base);
    shared.change(|state| {
        let Some(account) = state.google.service_accounts.get_mut(&email) else {
            return google_error(GoogleCode::NotFound, "service account vanished");
        };
        let user_managed = account.keys.iter().filter(|k| k.key_type == "USER_MANAGED").count();
        if user_managed >= KEY_LIMIT {
            return google_error(GoogleCode::FailedPrecondition, "Precondition check failed.");
        }
        let project_id = account.project.clone();
        let file = json!({
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": key.id,
            "private_key": private_pem,
            "client_email": email,
            "client_id": account.unique_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": format!("https://www.googleapis.com/robot/v1/metadata/x509/{}", email.replace('@', "%40")),
            "universe_domain": "googleapis.com",
        });
        account.keys.push(key.clone());
        let mut value = key_json(&project_id, &email, &key);
        value["privateKeyType"] = json!("TYPE_GOOGLE_CREDENTIALS_FILE");
        value["privateKeyData"] = json!(STANDARD.encode(file.to_string()));
        json_response(200, &value)
    })
}

fn list(shared: &Shared, request: &Request, project: &str, sa: &str) -> Response {
    let state = shared.state();
    let email = match account(&state, project, sa) {
        Ok(email) => email,
        Err(response) => return response,
    };
    let types: Vec<String> = request
        .query_all("keyTypes")
        .iter()
        .map(|t| match *t {
            "1" => "USER_MANAGED".to_owned(),
            "2" => "SYSTEM_MANAGED".to_owned(),
            other => other.to_owned(),
        })
        .collect();
    let Some(account) = state.google.service_accounts.get(&email) else {
        return google_error(GoogleCode::NotFound, "service account vanished");
    };
    let keys: Vec<Value> = account
        .keys
        .iter()
        .filter(|k| types.is_empty() || types.contains(&k.key_type))
        .map(|k| key_json(&account.project, &email, k))
        .collect();
    json_response(200, &json!({"keys": keys}))
}

fn get(shared: &Shared, request: &Request, project: &str, sa: &str, id: &str) -> Response {
    let state = shared.state();
    let email = match account(&state, project, sa) {
        Ok(email) => email,
        Err(response) => return response,
    };
    let Some(account) = state.google.service_accounts.get(&email) else {
        return google_error(GoogleCode::NotFound, "service account vanished");
    };
    match account.keys.iter().find(|k| k.id == id) {
        Some(key) => {
            let mut value = key_json(&account.project, &email, key);
            // Google's publicKeyType: TYPE_NONE (the default) returns no public key,
            // TYPE_X509_PEM_FILE the key's self-signed certificate, TYPE_RAW_PUBLIC_KEY the
            // bare public key (here as SPKI PEM).
            match request.query("publicKeyType") {
                None | Some("TYPE_NONE" | "0") => {}
                Some("TYPE_RAW_PUBLIC_KEY" | "2") => {
                    value["publicKeyData"] = json!(STANDARD.encode(&key.public_pem));
                }
                Some("TYPE_X509_PEM_FILE" | "1") => match &key.x509_pem {
                    Some(pem) => value["publicKeyData"] = json!(STANDARD.encode(pem)),
                    None => {
                        return google_error(
                            GoogleCode::FailedPrecondition,
                            "this key was stored without its certificate (an older state file)",
                        );
                    }
                },
                Some(other) => {
                    return google_error(
                        GoogleCode::InvalidArgument,
                        &format!(
                            "Invalid value at 'public_key_type' (type.googleapis.com/google.iam.admin.v1.ServiceAccountPublicKeyType), \"{other}\""
                        ),
                    );
                }
            }
            json_response(200, &value)
        }
        None => google_error(
            GoogleCode::NotFound,
            &format!(
                "Service account key projects/{project}/serviceAccounts/{email}/keys/{id} does not exist."
            ),
        ),
    }
}

fn delete(shared: &Shared, project: &str, sa: &str, id: &str) -> Response {
    let email = match account(&shared.state(), project, sa) {
        Ok(email) => email,
        Err(response) => return response,
    };
    shared.change(|state| {
        let Some(account) = state.google.service_accounts.get_mut(&email) else {
            return google_error(GoogleCode::NotFound, "service account vanished");
        };
        let before = account.keys.len();
        account.keys.retain(|k| k.id != id);
        if account.keys.len() == before {
            return google_error(
                GoogleCode::NotFound,
                &format!("Service account key projects/{project}/serviceAccounts/{email}/keys/{id} does not exist."),
            );
        }
        state.google.access_tokens.retain(|_, t| t.key_id != id);
        json_response(200, &json!({}))
    })
}

fn set_disabled(shared: &Shared, project: &str, sa: &str, id: &str, disabled: bool) -> Response {
    let email = match account(&shared.state(), project, sa) {
        Ok(email) => email,
        Err(response) => return response,
    };
    shared.change(|state| {
        let Some(key) = state
            .google
            .service_accounts
            .get_mut(&email)
            .and_then(|a| a.keys.iter_mut().find(|k| k.id == id))
        else {
            return google_error(
                GoogleCode::NotFound,
                &format!("Service account key projects/{project}/serviceAccounts/{email}/keys/{id} does not exist."),
            );
        };
        key.disabled = disabled;
        if disabled {
            state.google.access_tokens.retain(|_, t| t.key_id != id);
        }
        json_response(200, &json!({}))
    })
}
