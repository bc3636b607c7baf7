//! Repository and environment Actions variables (`/repos/{owner}/{repo}/actions/variables`,
//! `/repos/{owner}/{repo}/environments/{env}/variables`), as GitHub's REST reference describes
//! them (an environment that does not exist is 404): names are case-insensitive and stored in upper case, a create of
//! an existing name is 409, an update or delete answers 204, values are returned in the clear
//! (variables are not secrets).

use serde_json::{Value, json};

use super::Caller;
use crate::http_util::{
    Request, Response, empty_response, github_error, github_time, github_validation_error,
    json_response, now_secs,
};
use crate::server::Shared;
use crate::state::ActionsVariable;

fn variable_json(name: &str, variable: &ActionsVariable) -> Value {
    json!({
        "name": name,
        "value": variable.value,
        "created_at": github_time(variable.created_at),
        "updated_at": github_time(variable.updated_at),
    })
}

/// Handles `/repos/{owner}/{repo}/actions/variables[/{name}]` (`place` is the repository and
/// no environment) and `/repos/{owner}/{repo}/environments/{env}/variables[/{name}]`; `rest`
/// is what follows `variables`.
pub fn handle(
    shared: &Shared,
    request: &Request,
    caller: &Caller,
    (repo, environment): (&str, Option<&str>),
    rest: &[&str],
) -> Response {
    use http::Method as M;
    if *caller == Caller::Anonymous {
        return github_error(401, "Requires authentication");
    }
    let body = match request.method {
        M::POST | M::PATCH => match request.json() {
            Ok(body) => body,
            Err(e) => return github_error(400, &format!("Problems parsing JSON: {e}")),
        },
        _ => Value::Null,
    };
    shared.change(|state| {
        let Some(repo) = state.github.repos.get_mut(repo) else {
            return github_error(404, "Not Found");
        };
        let variables = match environment {
            None => &mut repo.variables,
            Some(env) if repo.environments.contains_key(env) => repo
                .environment_variables
                .entry(env.to_owned())
                .or_default(),
            Some(_) => return github_error(404, "Not Found"),
        };
        match (&request.method, rest) {
            (&M::GET, []) => {
                let per_page = request
                    .query("per_page")
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(10)
                    .clamp(1, 30);
                let page = request
                    .query("page")
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(1)
                    .max(1);
                let list: Vec<Value> = variables
                    .iter()
                    .skip((page - 1) * per_page)
                    .take(per_page)
                    .map(|(name, v)| variable_json(name, v))
                    .collect();
                json_response(
                    200,
                    &json!({"total_count": variables.len(), "variables": list}),
                )
            }
            (&M::POST, []) => {
                let (Some(name), Some(value)) = (
                    body.get("name").and_then(Value::as_str),
                    body.get("value").and_then(Value::as_str),
                ) else {
                    return github_validation_error("Variable", "name", "missing_field");
                };
                let name = name.to_ascii_uppercase();
                if variables.contains_key(&name) {
                    return github_error(409, "Already exists - Variable already exists");
                }
                let now = now_secs();
                variables.insert(
                    name,
                    ActionsVariable {
                        value: value.to_owned(),
                        created_at: now,
                        updated_at: now,
                    },
                );
                json_response(201, &json!({}))
            }
            (&M::GET, [name]) => match variables.get(&name.to_ascii_uppercase()) {
                Some(v) => json_response(200, &variable_json(&name.to_ascii_uppercase(), v)),
                None => github_error(404, "Not Found"),
            },
            (&M::PATCH, [name]) => match variables.get_mut(&name.to_ascii_uppercase()) {
                Some(v) => {
                    if let Some(value) = body.get("value").and_then(Value::as_str) {
                        v.value = value.to_owned();
                    }
                    v.updated_at = now_secs();
                    empty_response(204)
                }
                None => github_error(404, "Not Found"),
            },
            (&M::DELETE, [name]) => match variables.remove(&name.to_ascii_uppercase()) {
                Some(_) => empty_response(204),
                None => github_error(404, "Not Found"),
            },
            _ => github_error(404, "Not Found"),
        }
    })
}
