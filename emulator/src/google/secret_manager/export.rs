//! The export workflow's effect, as it would act inside Actions: the named repository secrets
//! become new Secret Manager versions.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::etag;
use super::versions::push_version;
use crate::http_util::rfc3339_now;
use crate::state::{Repo, SmSecret, State};

/// What the export workflow does inside Actions: writes the named repository secrets into
/// Secret Manager as new versions.
pub fn export_from_actions(state: &mut State, repo: &Repo, inputs: &Value) -> Result<(), String> {
    let project = inputs
        .get("project")
        .and_then(Value::as_str)
        .ok_or("inputs.project is missing")?;
    let mapping = inputs
        .get("secrets")
        .and_then(Value::as_str)
        .ok_or("inputs.secrets is missing (GITHUB_NAME=secret-id,...)")?;
    let (project_id, _) =
        crate::google::project(state, project).ok_or(format!("unknown project {project}"))?;
    for pair in mapping.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (github_name, secret_id) = pair.split_once('=').ok_or(format!(
            "bad mapping '{pair}', expected GITHUB_NAME=secret-id"
        ))?;
        let Some((_, actions_secret)) = repo
            .secrets
            .secrets
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(github_name))
        else {
            return Err(format!("the workflow has no secret {github_name}"));
        };
        let data = STANDARD
            .decode(&actions_secret.value)
            .map_err(|e| e.to_string())?;
        let key = format!("projects/{project_id}/secrets/{secret_id}");
        let secret = state.google.secrets.entry(key).or_insert_with(|| SmSecret {
            create_time: rfc3339_now(),
            labels: BTreeMap::from([("managed-by".to_owned(), "orchestra".to_owned())]),
            annotations: BTreeMap::new(),
            version_aliases: BTreeMap::new(),
            replication: json!({"automatic": {}}),
            etag: etag(),
            versions: Vec::new(),
            version_destroy_ttl: None,
        });
        push_version(secret, &data, None);
    }
    Ok(())
}
