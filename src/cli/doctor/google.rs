//! Google Cloud: credentials found (a key file, gcloud's user credentials, an external account)
//! and a token obtained; the project reachable; the caller holding the permissions the
//! playbooks' calls need, asked of Resource Manager's `projects.testIamPermissions`, with the
//! narrowest predefined roles granting those missing ([`crate::permissions`]).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};

use super::context::{CHECK_TIMEOUT, Context};
use super::finding::Finding;
use crate::config::GcpCredentials;
use crate::config::environment::EnvironmentKind;

/// The `google credentials`, `google project` and `google permissions` findings.
pub async fn check(context: Arc<Context>) -> Vec<Finding> {
    let (credentials, headers) = credentials(&context).await;
    let mut findings = vec![credentials];
    findings.extend(project(&context, headers).await);
    findings
}

/// The file Application Default Credentials read, as google-cloud-auth looks for it.
fn adc_file() -> Option<(PathBuf, &'static str)> {
    if let Some(path) = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS") {
        return Some((PathBuf::from(path), "GOOGLE_APPLICATION_CREDENTIALS"));
    }
    let home = std::env::var_os("HOME")?;
    let path = PathBuf::from(home).join(".config/gcloud/application_default_credentials.json");
    path.is_file()
        .then_some((path, "gcloud's application-default file"))
}

/// What a credentials file is, from its non-secret fields.
fn describe(file: &Value) -> Result<String, String> {
    let field = |name: &str| file[name].as_str().unwrap_or("?").to_owned();
    match file["type"].as_str() {
        Some("service_account") => Ok(format!("service-account key for {}", field("client_email"))),
        Some("authorized_user") => Ok("gcloud user credentials".to_owned()),
        Some("external_account") => Ok(format!(
            "external account (workload identity federation, audience {})",
            field("audience")
        )),
        Some("impersonated_service_account") => Ok("impersonated service account".to_owned()),
        Some(other) => Err(format!("unknown credentials type \"{other}\"")),
        None => Err(
            "no \"type\" field: expected service_account, authorized_user or external_account"
                .to_owned(),
        ),
    }
}

async fn credentials(context: &Context) -> (Finding, Option<http::HeaderMap>) {
    const NAME: &str = "google credentials";
    if context.services.is_emulated() {
        return (
            Finding::ok(NAME, "the emulator's (anonymous, --emulate)"),
            Some(http::HeaderMap::new()),
        );
    }
    if context.config.gcp.credentials == GcpCredentials::Anonymous {
        return (
            Finding::skipped(
                NAME,
                "anonymous ([gcp].credentials), for a local emulator only",
            ),
            Some(http::HeaderMap::new()),
        );
    }
    let wanted = context.usage.uses_google() || context.config.gcp.project.is_some();
    let found = match adc_file() {
        Some((path, how)) => {
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) => {
                    return (
                        Finding::failed(
                            NAME,
                            format!("cannot read {} (from {how}): {e}", path.display()),
                            "point GOOGLE_APPLICATION_CREDENTIALS at a readable credentials file",
                        ),
                        None,
                    );
                }
            };
            let parsed = serde_json::from_str::<Value>(&text)
                .map_err(|_| "it is not JSON: expected a credentials file".to_owned())
                .and_then(|v| describe(&v));
            match parsed {
                Ok(kind) => format!("{kind} ({})", path.display()),
                Err(err) => {
                    return (
                        Finding::failed(
                            NAME,
                            format!("{} (from {how}): {err}", path.display()),
                            "download a key file, or run `gcloud auth application-default login`",
                        ),
                        None,
                    );
                }
            }
        }
        None if matches!(
            context.environment.kind,
            EnvironmentKind::CloudRunJob | EnvironmentKind::CloudRunService
        ) =>
        {
            "the metadata server (Cloud Run)".to_owned()
        }
        None if !wanted => {
            return (
                Finding::skipped(NAME, "none found, and no playbook calls Google Cloud"),
                None,
            );
        }
        None => {
            return (
                Finding::failed(
                    NAME,
                    "none found: GOOGLE_APPLICATION_CREDENTIALS is not set and gcloud has no application-default file",
                    "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a key or external-account file",
                ),
                None,
            );
        }
    };
    match token().await {
        Ok(headers) => (
            Finding::ok(NAME, format!("{found}; token obtained")),
            Some(headers),
        ),
        Err(err) => (
            Finding::failed(
                NAME,
                format!("{found}; no token: {err}"),
                "renew the credentials (a disabled or deleted key, an expired login, an unreachable token endpoint)",
            ),
            None,
        ),
    }
}

/// The request headers Application Default Credentials give.
async fn token() -> Result<http::HeaderMap, String> {
    let credentials = google_cloud_auth::credentials::Builder::default()
        .build()
        .map_err(|e| first_line(&e.to_string()))?;
    let asked = tokio::time::timeout(CHECK_TIMEOUT, credentials.headers(http::Extensions::new()))
        .await
        .map_err(|_| format!("no answer within {}s", CHECK_TIMEOUT.as_secs()))?;
    match asked.map_err(|e| first_line(&e.to_string()))? {
        google_cloud_auth::credentials::CacheableResource::New { data, .. } => Ok(data),
        google_cloud_auth::credentials::CacheableResource::NotModified => {
            Err("the credentials gave no headers".to_owned())
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).to_owned()
}

/// Whether `id` is a project id (6 to 30 of a-z, 0-9, `-`) or number, safe in a URL path.
fn valid_project(id: &str) -> bool {
    (6..=30).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || !id.is_empty() && id.len() <= 20 && id.chars().all(|c| c.is_ascii_digit())
}

async fn project(context: &Context, headers: Option<http::HeaderMap>) -> Vec<Finding> {
    const PROJECT: &str = "google project";
    const PERMISSIONS: &str = "google permissions";
    let needed = context.usage.google_permissions();
    let skip_permissions = |why: &str| Finding::skipped(PERMISSIONS, why.to_owned());
    let Some(project) = context.project() else {
        return vec![
            if context.usage.uses_google() {
                Finding::failed(
                    PROJECT,
                    "no project, and the playbooks call Google Cloud",
                    "set [gcp].project in orchestra.toml",
                )
            } else {
                Finding::skipped(
                    PROJECT,
                    "no [gcp].project, and no playbook calls Google Cloud",
                )
            },
            skip_permissions("no project to ask about"),
        ];
    };
    if !valid_project(&project) {
        return vec![
            Finding::failed(
                PROJECT,
                format!("[gcp].project \"{project}\" is not a project id"),
                "use the id: 6 to 30 lowercase letters, digits and hyphens",
            ),
            skip_permissions("no valid project to ask about"),
        ];
    }
    let Some(headers) = headers else {
        return vec![
            Finding::skipped(
                PROJECT,
                format!("{project}: no credentials to reach it with"),
            ),
            skip_permissions("no credentials to ask with"),
        ];
    };
    // With nothing to check, ask for one permission every caller with access has.
    let asked: Vec<&str> = if needed.is_empty() {
        vec!["resourcemanager.projects.get"]
    } else {
        needed.clone()
    };
    let url = format!(
        "{}/v1/projects/{project}:testIamPermissions",
        context.resource_manager_url()
    );
    let sent = context
        .http
        .post(&url)
        .headers(headers)
        .json(&json!({ "permissions": asked }))
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(err) => {
            return vec![
                Finding::failed(
                    PROJECT,
                    format!(
                        "cannot reach Resource Manager at {url}: {}",
                        reqwest_reason(&err)
                    ),
                    "check the network, or [gcp].resource_manager_url in orchestra.toml",
                ),
                skip_permissions("Resource Manager did not answer"),
            ];
        }
    };
    context.saw_date("Resource Manager", response.headers());
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body["error"]["message"].as_str().unwrap_or("no message");
        return vec![
            Finding::failed(
                PROJECT,
                format!(
                    "{project}: Resource Manager answered {}: {message}",
                    status.as_u16()
                ),
                format!("check the project id, and that the caller has a role on {project}"),
            ),
            skip_permissions("the project is not reachable"),
        ];
    }
    let granted: Vec<&str> = body["permissions"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let reachable = Finding::ok(PROJECT, format!("{project} reachable"));
    if needed.is_empty() {
        return vec![
            reachable,
            skip_permissions("no configured playbook calls Google Cloud"),
        ];
    }
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|p| !granted.contains(p))
        .collect();
    vec![
        reachable,
        if missing.is_empty() {
            Finding::ok(
                PERMISSIONS,
                format!("all {} the playbooks need on {project}", needed.len()),
            )
        } else {
            Finding::failed(
                PERMISSIONS,
                format!("missing on {project}: {}", missing.join(", ")),
                grant_fix(&project, &missing),
            )
        },
    ]
}

/// The fix line for missing permissions: the narrowest predefined roles that grant them, and a
/// custom role for any no predefined role of the table grants.
fn grant_fix(project: &str, missing: &[&str]) -> String {
    let cover = crate::permissions::narrowest_roles(missing.iter().copied());
    let mut fix = if cover.roles.is_empty() {
        format!("grant the caller a custom role with these on {project}")
    } else {
        format!(
            "grant the caller {} on {project}, the narrowest predefined roles with these",
            cover.roles.join(", ")
        )
    };
    if !cover.roles.is_empty() && !cover.uncovered.is_empty() {
        fix.push_str(&format!(
            ", and a custom role with {}",
            cover.uncovered.join(", ")
        ));
    }
    fix.push_str(&format!(
        " (gcloud projects add-iam-policy-binding {project} --member=... --role=ROLE)"
    ));
    fix
}

/// Why a request failed, without the URL's query or anything the client echoes back.
fn reqwest_reason(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection refused or unreachable"
    } else if err.is_redirect() {
        "redirected (not followed)"
    } else {
        "the request failed"
    }
}
