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
        if !repo_state.workflows.contains(workflow) {
            return github_error(404, "Not Found");
        }
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
