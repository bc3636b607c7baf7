//! The repositories an organisation secret with `selected` visibility is shared with:
//! `GET|PUT /orgs/{org}/actions/secrets/{name}/repositories` and
//! `PUT|DELETE .../repositories/{repository_id}`. GitHub answers 409 when the secret's
//! visibility is not `selected`.

use serde_json::{Value, json};

use super::secrets::{Place, find};
use crate::http_util::{
    Request, Response, empty_response, github_error, github_validation_error, json_response,
};
use crate::server::Shared;

/// `selected_repository_ids` of a request body, if present: a list of integers.
pub fn ids(body: &Value) -> Result<Option<Vec<u64>>, Response> {
    match body.get("selected_repository_ids") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_u64().ok_or_else(|| {
                    github_validation_error("Secret", "selected_repository_ids", "invalid")
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(github_validation_error(
            "Secret",
            "selected_repository_ids",
            "invalid",
        )),
    }
}

/// A change to the selected repositories.
enum Change {
    /// Replace the list.
    Set(Vec<u64>),
    /// Add one repository.
    Add(u64),
    /// Remove one repository.
    Remove(u64),
}

impl Change {
    fn apply(self, current: &mut Vec<u64>) {
        match self {
            Self::Set(ids) => *current = ids,
            Self::Add(id) if !current.contains(&id) => current.push(id),
            Self::Add(_) => {}
            Self::Remove(id) => current.retain(|x| *x != id),
        }
    }
}

/// Routes `.../secrets/{name}/repositories[/{id}]`.
pub fn handle(
    shared: &Shared,
    request: &Request,
    place: &Place,
    name: &str,
    rest: &[&str],
) -> Response {
    use http::Method as M;
    let change = match (rest, &request.method) {
        ([], &M::GET) => return list(shared, request, place, name),
        ([], &M::PUT) => {
            let body = match request.json() {
                Ok(body) => body,
                Err(e) => return github_error(400, &format!("Problems parsing JSON: {e}")),
            };
            match ids(&body) {
                Ok(Some(ids)) => Change::Set(ids),
                Ok(None) => {
                    return github_validation_error(
                        "Secret",
                        "selected_repository_ids",
                        "missing_field",
                    );
                }
                Err(response) => return response,
            }
        }
        ([id], method) if method == M::PUT || method == M::DELETE => {
            let Ok(id) = id.parse::<u64>() else {
                return github_error(404, "Not Found");
            };
            if method == M::PUT {
                Change::Add(id)
            } else {
                Change::Remove(id)
            }
        }
        _ => return github_error(404, "Not Found"),
    };
    shared.change(|state| {
        let Some(store) = place.store(state) else {
            return github_error(404, "Not Found");
        };
        let Some(key) = find(store, name).map(|(k, _)| k.clone()) else {
            return github_error(404, "Not Found");
        };
        let Some(secret) = store.secrets.get_mut(&key) else {
            return github_error(404, "Not Found");
        };
        if secret.visibility.as_deref() != Some("selected") {
            return github_error(
                409,
                "The visibility of this secret is not set to 'selected'",
            );
        }
        change.apply(&mut secret.selected_repository_ids);
        empty_response(204)
    })
}

fn list(shared: &Shared, request: &Request, place: &Place, name: &str) -> Response {
    let mut state = shared.state();
    let ids = {
        let Some(store) = place.store(&mut state) else {
            return github_error(404, "Not Found");
        };
        match find(store, name) {
            Some((_, secret)) if secret.visibility.as_deref() == Some("selected") => {
                secret.selected_repository_ids.clone()
            }
            Some(_) => {
                return github_error(
                    409,
                    "The visibility of this secret is not set to 'selected'",
                );
            }
            None => return github_error(404, "Not Found"),
        }
    };
    let repositories: Vec<Value> = state
        .github
        .repos
        .iter()
        .filter(|(_, r)| ids.contains(&r.id))
        .map(|(full, r)| {
            json!({
                "id": r.id,
                "node_id": format!("R_{}", r.id),
                "name": r.name,
                "full_name": full,
                "private": true,
                "url": format!("{}/repos/{full}", request.base),
                "html_url": format!("{}/{full}", request.base),
            })
        })
        .collect();
    json_response(
        200,
        &json!({"total_count": repositories.len(), "repositories": repositories}),
    )
}
