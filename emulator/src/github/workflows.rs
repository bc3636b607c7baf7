//! Workflow dispatch, recorded; and the export workflow simulated as the real one would act.
//!
//! `orchestra-export.yml` (the workflow orchestra generates for github-to-gcp syncs) runs
//! inside Actions with the repository's secrets and writes them to Secret Manager. Its inputs:
//! `project` (a project id), `secrets` (`GITHUB_NAME=secret-id,OTHER=other-id`) and optionally
//! `environment`. The emulator adds a version to each named Secret Manager secret, creating it
//! (labelled `managed-by=orchestra`) if needed; the run's outcome is recorded with the dispatch
//! (`success`, or `failure: why`) in the state dump.

use serde_json::{Value, json};

use super::Caller;
use crate::http_util::{
    Request, Response, empty_response, github_error, github_validation_error, json_response,
    now_secs,
};
use crate::server::Shared;
use crate::state::Dispatch;

/// The workflow file the emulator runs as an export.
pub const EXPORT_WORKFLOW: &str = "orchestra-export.yml";

/// A workflow's id: stable for its file name (GitHub's are opaque numbers).
pub fn workflow_id(file: &str) -> u64 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(file.as_bytes());
    let mut first = [0u8; 4];
    first.copy_from_slice(&digest[..4]);
    100_000_000 + u64::from(u32::from_be_bytes(first) % 900_000_000)
}

/// The workflow file `workflow` names: its file name or its numeric id.
fn find_workflow<'a>(repo: &'a crate::state::Repo, workflow: &str) -> Option<&'a String> {
    repo.workflows
        .iter()
        .find(|f| f.as_str() == workflow || workflow_id(f).to_string() == workflow)
}

/// `GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}`: `workflow_id` is the numeric id
/// or the file name (`deploy.yml`), as GitHub accepts both.
pub fn get(
    shared: &Shared,
    request: &Request,
    caller: &Caller,
    owner: &str,
    repo: &str,
    workflow: &str,
) -> Response {
    if *caller == Caller::Anonymous {
        return github_error(401, "Requires authentication");
    }
    let full = format!("{owner}/{repo}");
    let state = shared.state();
    let Some(repo_state) = state.github.repos.get(&full) else {
        return github_error(404, "Not Found");
    };
    let Some(file) = find_workflow(repo_state, workflow) else {
        return github_error(404, "Not Found");
    };
    let id = workflow_id(file);
    let path = format!(".github/workflows/{file}");
    let name = file.trim_end_matches(".yml").trim_end_matches(".yaml");
    json_response(
        200,
        &json!({
            "id": id,
            "node_id": format!("W_kwDO{id}"),
            "name": name,
            "path": path,
            "state": "active",
            "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.000Z",
            "url": format!("{}/repos/{full}/actions/workflows/{id}", request.base),
            "html_url": format!("{}/{full}/blob/main/{path}", request.base),
            "badge_url": format!("{}/{full}/workflows/{name}/badge.svg", request.base),
        }),
    )
}

/// `POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches`.
pub fn dispatch(
    shared: &Shared,
    request: &Request,
    caller: &Caller,
    owner: &str,
    repo: &str,
    workflow: &str,
) -> Response {
    if *caller == Caller::Anonymous {
        return github_error(401, "Requires authentication");
    }
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return github_error(400, &format!("Problems parsing JSON: {e}")),
    };
    let Some(git_ref) = body.get("ref").and_then(Value::as_str) else {
        return github_validation_error("Workflow", "ref", "missing_field");
    };
    let inputs = body.get("inputs").cloned().unwrap_or(Value::Null);
    let details = body.get("return_run_details") == Some(&Value::Bool(true));
    let full = format!("{owner}/{repo}");
    shared.change(|state| {
        let Some(repo_state) = state.github.repos.get(&full).cloned() else {
            return github_error(404, "Not Found");
        };
        // GitHub takes the numeric id or the file name.
        let Some(workflow) = find_workflow(&repo_state, workflow).cloned() else {
            return github_error(404, "Not Found");
        };
        let workflow = workflow.as_str();
        let outcome = (workflow == EXPORT_WORKFLOW).then(|| {
            match crate::google::secret_manager::export_from_actions(state, &repo_state, &inputs) {
                Ok(()) => "success".to_owned(),
                Err(message) => {
                    tracing::warn!("export workflow run failed: {message}");
                    format!("failure: {message}")
                }
            }
        });
        state.github.dispatches.push(Dispatch {
            repo: full.clone(),
            workflow: workflow.to_owned(),
            git_ref: git_ref.to_owned(),
            inputs: inputs.clone(),
            at: now_secs(),
            outcome,
        });
        if details {
            let run_id = state.id() + 9_000_000;
            let api = format!("{}/repos/{full}/actions/runs/{run_id}", request.base);
            let html = format!("{}/{full}/actions/runs/{run_id}", request.base);
            return json_response(
                200,
                &json!({"workflow_run_id": run_id, "run_url": api, "html_url": html}),
            );
        }
        empty_response(204)
    })
}
