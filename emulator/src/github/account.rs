//! `/rate_limit`, `/user`, `/repos/{owner}/{repo}` (and its environments), `/orgs/{org}` and
//! `/credentials/revoke`.

use serde_json::{Value, json};

use super::Caller;
use crate::http_util::{Request, Response, github_error, json_response, now_secs};
use crate::server::Shared;

/// `GET /rate_limit`: the caller's core window, and fixed windows for the other resources.
pub fn rate_limit(shared: &Shared, caller: &Caller) -> Response {
    let state = shared.state();
    let core = state.github.rate.get(&caller.rate_key()).map_or_else(
        || {
            let limit = match caller {
                Caller::Anonymous => state.github.anonymous_rate_limit,
                _ => state.github.rate_limit,
            };
            json!({"limit": limit, "used": 0, "remaining": limit, "reset": now_secs() + 3600})
        },
        |w| {
            json!({
                "limit": w.limit,
                "used": w.used,
                "remaining": w.limit.saturating_sub(w.used),
                "reset": w.reset,
            })
        },
    );
    let fixed = |limit: u32, reset_in: i64| json!({"limit": limit, "used": 0, "remaining": limit, "reset": now_secs() + reset_in});
    json_response(
        200,
        &json!({
            "resources": {
                "core": core,
                "search": fixed(30, 60),
                "graphql": fixed(5000, 3600),
                "integration_manifest": fixed(5000, 3600),
                "code_search": fixed(10, 60),
                "actions_runner_registration": fixed(10000, 3600),
            },
            "rate": core,
        }),
    )
}

/// A user as octocrab's `Author` model needs it.
pub fn user_json(base: &str, login: &str, id: u64, name: &str) -> Value {
    let url = format!("{base}/users/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_{id}"),
        "avatar_url": format!("{base}/avatars/{login}"),
        "gravatar_id": "",
        "url": url,
        "html_url": format!("{base}/{login}"),
        "followers_url": format!("{url}/followers"),
        "following_url": format!("{url}/following{{/other_user}}"),
        "gists_url": format!("{url}/gists{{/gist_id}}"),
        "starred_url": format!("{url}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{url}/subscriptions"),
        "organizations_url": format!("{url}/orgs"),
        "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events{{/privacy}}"),
        "received_events_url": format!("{url}/received_events"),
        "type": "User",
        "site_admin": false,
        "name": name,
    })
}

/// `GET /user`.
pub fn user(shared: &Shared, request: &Request, caller: &Caller) -> Response {
    match caller {
        Caller::User { login, .. } => {
            let state = shared.state();
            match state.github.users.get(login) {
                Some(u) => json_response(200, &user_json(&request.base, &u.login, u.id, &u.name)),
                None => github_error(404, "Not Found"),
            }
        }
        Caller::Anonymous => github_error(401, "Requires authentication"),
        _ => github_error(403, "Resource not accessible by integration"),
    }
}

/// `GET /repos/{owner}/{repo}`: enough of a repository for clients that fetch it first.
pub fn repo(
    shared: &Shared,
    request: &Request,
    caller: &Caller,
    owner: &str,
    name: &str,
) -> Response {
    if *caller == Caller::Anonymous {
        return github_error(401, "Requires authentication");
    }
    let state = shared.state();
    let Some(repo) = state.github.repos.get(&format!("{owner}/{name}")) else {
        return github_error(404, "Not Found");
    };
    let url = format!("{}/repos/{owner}/{name}", request.base);
    json_response(
        200,
        &json!({
            "id": repo.id,
            "node_id": format!("R_{}", repo.id),
            "name": repo.name,
            "full_name": format!("{owner}/{name}"),
            "private": true,
            "owner": user_json(&request.base, owner, 4242, owner),
            "html_url": format!("{}/{owner}/{name}", request.base),
            "url": url,
            "default_branch": "main",
            "permissions": {"admin": true, "push": true, "pull": true},
        }),
    )
}

/// `GET /orgs/{org}`.
pub fn org(shared: &Shared, request: &Request, caller: &Caller, login: &str) -> Response {
    if *caller == Caller::Anonymous {
        return github_error(401, "Requires authentication");
    }
    let state = shared.state();
    let Some(org) = state.github.orgs.get(login) else {
        return github_error(404, "Not Found");
    };
    let url = format!("{}/orgs/{login}", request.base);
    json_response(
        200,
        &json!({
            "login": login,
            "id": org.id,
            "node_id": format!("O_{}", org.id),
            "url": url,
            "repos_url": format!("{url}/repos"),
            "html_url": format!("{}/{login}", request.base),
            "type": "Organization",
        }),
    )
}

fn environment_json(base: &str, repo: &str, name: &str, id: usize) -> Value {
    json!({
        "id": id,
        "node_id": format!("EN_{id}"),
        "name": name,
        "url": format!("{base}/repos/{repo}/environments/{name}"),
        "html_url": format!("{base}/{repo}/deployments/activity_log?environments_filter={name}"),
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "protection_rules": [],
    })
}

/// `GET /repos/{owner}/{repo}/environments[/{name}]`.
pub fn environments(
    shared: &Shared,
    request: &Request,
    caller: &Caller,
    repo: &str,
    name: Option<&str>,
) -> Response {
    if *caller == Caller::Anonymous {
        return github_error(401, "Requires authentication");
    }
    let state = shared.state();
    let Some(found) = state.github.repos.get(repo) else {
        return github_error(404, "Not Found");
    };
    let all: Vec<Value> = found
        .environments
        .keys()
        .enumerate()
        .map(|(i, env)| environment_json(&request.base, repo, env, 1000 + i))
        .collect();
    match name {
        None => json_response(200, &json!({"total_count": all.len(), "environments": all})),
        Some(name) => match all.into_iter().find(|e| e["name"] == name) {
            Some(env) => json_response(200, &env),
            None => github_error(404, "Not Found"),
        },
    }
}

/// `POST /credentials/revoke`: unauthenticated, revokes every listed token GitHub knows.
pub fn revoke(shared: &Shared, request: &Request) -> Response {
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return github_error(400, &format!("Problems parsing JSON: {e}")),
    };
    let Some(credentials) = body.get("credentials").and_then(Value::as_array) else {
        return crate::http_util::github_validation_error(
            "Credentials",
            "credentials",
            "missing_field",
        );
    };
    let credentials: Vec<String> = credentials
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    if credentials.is_empty() || credentials.len() > 1000 {
        return crate::http_util::github_validation_error("Credentials", "credentials", "invalid");
    }
    shared.change(|state| {
        for credential in &credentials {
            if let Some(token) = state.github.tokens.get_mut(credential) {
                token.revoked = true;
            }
        }
    });
    json_response(202, &json!({}))
}
