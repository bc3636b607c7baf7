//! The export workflow's effect, as it would act inside Actions: the named repository secrets
//! become new Secret Manager versions.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::add_version_creating;
use crate::state::{Repo, SecretStore, State};

/// What the export workflow does inside Actions: writes the named secrets into Secret Manager
/// as new versions, all or none. Inputs: `project`, `secrets` (`GITHUB_NAME=secret-id,...`)
/// and optionally `environment`. A name resolves as a job sees it: the environment's secret,
/// else the repository's, else an organisation secret visible to the repository.
pub fn export_from_actions(state: &mut State, repo: &Repo, inputs: &Value) -> Result<(), String> {
    let project = inputs
        .get("project")
        .and_then(Value::as_str)
        .ok_or("inputs.project is missing")?;
    let mapping = inputs
        .get("secrets")
        .and_then(Value::as_str)
        .ok_or("inputs.secrets is missing (GITHUB_NAME=secret-id,...)")?;
    let environment = inputs.get("environment").and_then(Value::as_str);
    let (project_id, _) =
        crate::google::project(state, project).ok_or(format!("unknown project {project}"))?;
    let mut writes = Vec::new();
    for pair in mapping.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (github_name, secret_id) = pair.split_once('=').ok_or(format!(
            "bad mapping '{pair}', expected GITHUB_NAME=secret-id"
        ))?;
        let value = visible_secret(state, repo, environment, github_name.trim())
            .ok_or(format!("the workflow sees no secret {github_name}"))?;
        let data = STANDARD.decode(value).map_err(|e| e.to_string())?;
        writes.push((
            format!("projects/{project_id}/secrets/{}", secret_id.trim()),
            data,
        ));
    }
    for (key, data) in writes {
        add_version_creating(state, key, &[("managed-by", "orchestra")], &data);
    }
    Ok(())
}

/// The base64 value of the secret `name` as a job of `repo` (in `environment`) sees it.
fn visible_secret<'a>(
    state: &'a State,
    repo: &'a Repo,
    environment: Option<&str>,
    name: &str,
) -> Option<&'a str> {
    let lookup = |store: &'a SecretStore| {
        store
            .secrets
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, s)| s)
    };
    let from_environment = environment
        .and_then(|env| repo.environments.get(env))
        .and_then(lookup);
    let from_org = || {
        state
            .github
            .orgs
            .get(&repo.owner)
            .and_then(|org| lookup(&org.secrets))
            .filter(|s| match s.visibility.as_deref() {
                Some("selected") => s.selected_repository_ids.contains(&repo.id),
                _ => true,
            })
    };
    from_environment
        .or_else(|| lookup(&repo.secrets))
        .or_else(from_org)
        .map(|s| s.value.as_str())
}
