//! Actions secrets for repositories, environments and organisations: the public key, PUT of a
//! sealed value (opened with the real key pair, `key_id` checked), metadata reads and deletes.
//! Values are never served back, as on GitHub.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::Caller;
use crate::http_util::{
    Request, Response, empty_response, github_error, github_time, github_validation_error,
    json_response, now_secs,
};
use crate::keys;
use crate::server::Shared;
use crate::state::{ActionsSecret, SecretStore, State};

/// Most secrets a repository or environment holds.
const REPO_CAP: usize = 100;
/// Most secrets an organisation holds.
const ORG_CAP: usize = 1000;

/// Where the secrets live.
pub enum Place {
    /// A repository.
    Repo {
        /// `owner/name`.
        repo: String,
    },
    /// An environment of a repository.
    Environment {
        /// `owner/name`.
        repo: String,
        /// The environment.
        environment: String,
    },
    /// An organisation.
    Org {
        /// The organisation.
        org: String,
    },
}

impl Place {
    fn owner(&self) -> &str {
        match self {
            Self::Repo { repo } | Self::Environment { repo, .. } => {
                repo.split('/').next().unwrap_or("")
            }
            Self::Org { org } => org,
        }
    }

    /// The secret store at this place, if the repository, environment or org exists.
    pub fn store<'a>(&self, state: &'a mut State) -> Option<&'a mut SecretStore> {
        match self {
            Self::Repo { repo } => state.github.repos.get_mut(repo).map(|r| &mut r.secrets),
            Self::Environment { repo, environment } => state
                .github
                .repos
                .get_mut(repo)
                .and_then(|r| r.environments.get_mut(environment)),
            Self::Org { org } => state.github.orgs.get_mut(org).map(|o| &mut o.secrets),
        }
    }

    fn cap(&self) -> usize {
        match self {
            Self::Org { .. } => ORG_CAP,
            _ => REPO_CAP,
        }
    }
}

/// May `caller` manage secrets at `place`?
fn allowed(caller: &Caller, place: &Place) -> Result<(), Response> {
    match caller {
        Caller::Anonymous => Err(github_error(401, "Requires authentication")),
        Caller::App { .. } => Err(github_error(403, "Resource not accessible by integration")),
        Caller::User { scopes, .. } => {
            let needed = match place {
                Place::Org { .. } => "admin:org",
                _ => "repo",
            };
            if scopes.iter().any(|s| s == needed) {
                Ok(())
            } else {
                Err(github_error(
                    403,
                    &format!(
                        "Resource not accessible by personal access token (needs the {needed} scope)"
                    ),
                ))
            }
        }
        Caller::Installation { account, .. } => {
            if account == place.owner() {
                Ok(())
            } else {
                Err(github_error(403, "Resource not accessible by integration"))
            }
        }
    }
}

/// Valid as GitHub accepts: letters, digits, `_`; not starting with a digit or `GITHUB_`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !name.to_ascii_uppercase().starts_with("GITHUB_")
}

/// The secret called `name` (case-insensitively) and its name as written.
pub fn find<'a>(store: &'a SecretStore, name: &str) -> Option<(&'a String, &'a ActionsSecret)> {
    store
        .secrets
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
}

fn meta(name: &str, secret: &ActionsSecret, place: &Place, base: &str) -> Value {
    let mut value = json!({
        "name": name,
        "created_at": github_time(secret.created_at),
        "updated_at": github_time(secret.updated_at),
    });
    if let Place::Org { org } = place {
        value["visibility"] = json!(
            secret
                .visibility
                .clone()
                .unwrap_or_else(|| "private".into())
        );
        value["selected_repositories_url"] = json!(format!(
            "{base}/orgs/{org}/actions/secrets/{name}/repositories"
        ));
    }
    value
}

/// Routes `.../secrets/{rest}`.
pub fn handle(
    shared: &Shared,
    request: &Request,
    caller: &Caller,
    place: &Place,
    rest: &[&str],
) -> Response {
    if let Err(response) = allowed(caller, place) {
        return response;
    }
    use http::Method as M;
    match (rest, &request.method) {
        (["public-key"], &M::GET) => public_key(shared, place),
        ([], &M::GET) => list(shared, request, place),
        ([name], &M::GET) => get(shared, request, place, name),
        ([name], &M::PUT) => put(shared, request, place, name),
        ([name], &M::DELETE) => delete(shared, place, name),
        ([name, "repositories", rest @ ..], _) if matches!(place, Place::Org { .. }) => {
            super::selected_repos::handle(shared, request, place, name, rest)
        }
        _ => github_error(404, "Not Found"),
    }
}

fn public_key(shared: &Shared, place: &Place) -> Response {
    let mut state = shared.state();
    match place.store(&mut state) {
        Some(store) => json_response(
            200,
            &json!({"key_id": store.key.key_id, "key": store.key.public}),
        ),
        None => github_error(404, "Not Found"),
    }
}

fn list(shared: &Shared, request: &Request, place: &Place) -> Response {
    let per_page = request
        .query("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = request
        .query("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let mut state = shared.state();
    let Some(store) = place.store(&mut state) else {
        return github_error(404, "Not Found");
    };
    let total = store.secrets.len();
    let secrets: Vec<Value> = store
        .secrets
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(name, secret)| meta(name, secret, place, &request.base))
        .collect();
    let mut response = json_response(200, &json!({"total_count": total, "secrets": secrets}));
    let last = total.div_ceil(per_page).max(1);
    let url = format!("{}{}", request.base, request.path);
    let at =
        |page: usize, rel: &str| format!("<{url}?per_page={per_page}&page={page}>; rel=\"{rel}\"");
    let mut links = Vec::new();
    if page > 1 {
        links.push(at(page - 1, "prev"));
        links.push(at(1, "first"));
    }
    if page < last {
        links.push(at(page + 1, "next"));
        links.push(at(last, "last"));
    }
    if !links.is_empty()
        && let Ok(value) = http::HeaderValue::from_str(&links.join(", "))
    {
        response.headers_mut().insert(http::header::LINK, value);
    }
    response
}

fn get(shared: &Shared, request: &Request, place: &Place, name: &str) -> Response {
    let mut state = shared.state();
    let Some(store) = place.store(&mut state) else {
        return github_error(404, "Not Found");
    };
    match find(store, name) {
        Some((name, secret)) => json_response(200, &meta(name, secret, place, &request.base)),
        None => github_error(404, "Not Found"),
    }
}

fn put(shared: &Shared, request: &Request, place: &Place, name: &str) -> Response {
    if !valid_name(name) {
        return github_validation_error("Secret", "name", "invalid");
    }
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return github_error(400, &format!("Problems parsing JSON: {e}")),
    };
    let (Some(encrypted), Some(key_id)) = (
        body.get("encrypted_value").and_then(Value::as_str),
        body.get("key_id").and_then(Value::as_str),
    ) else {
        let field = if body.get("encrypted_value").is_none() {
            "encrypted_value"
        } else {
            "key_id"
        };
        return github_validation_error("Secret", field, "missing_field");
    };
    let visibility = body
        .get("visibility")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let selected = match super::selected_repos::ids(&body) {
        Ok(ids) => ids,
        Err(response) => return response,
    };
    if let Place::Org { .. } = place {
        match visibility.as_deref() {
            Some("all" | "private" | "selected") => {}
            Some(_) => return github_validation_error("Secret", "visibility", "invalid"),
            None => return github_validation_error("Secret", "visibility", "missing_field"),
        }
    }
    if STANDARD.decode(encrypted).is_err() {
        return github_validation_error("Secret", "encrypted_value", "invalid");
    }
    shared.change(|state| {
        let cap = place.cap();
        let Some(store) = place.store(state) else {
            return github_error(404, "Not Found");
        };
        if key_id != store.key.key_id {
            return github_validation_error("Secret", "key_id", "invalid");
        }
        let plaintext = match keys::unseal(&store.key.secret, encrypted) {
            Ok(plaintext) => plaintext,
            Err(_) => return github_validation_error("Secret", "encrypted_value", "invalid"),
        };
        let existing = find(store, name).map(|(k, _)| k.clone());
        let now = now_secs();
        let value = STANDARD.encode(plaintext);
        match existing {
            Some(key) => {
                if let Some(secret) = store.secrets.get_mut(&key) {
                    secret.value = value;
                    secret.updated_at = now;
                    if visibility.is_some() {
                        secret.visibility = visibility;
                    }
                    if let Some(ids) = selected {
                        secret.selected_repository_ids = ids;
                    }
                }
                empty_response(204)
            }
            None => {
                if store.secrets.len() >= cap {
                    return github_error(
                        422,
                        &format!("Secret limit exceeded: at most {cap} secrets here"),
                    );
                }
                store.secrets.insert(
                    name.to_owned(),
                    ActionsSecret {
                        value,
                        created_at: now,
                        updated_at: now,
                        visibility,
                        selected_repository_ids: selected.unwrap_or_default(),
                    },
                );
                json_response(201, &json!({}))
            }
        }
    })
}

fn delete(shared: &Shared, place: &Place, name: &str) -> Response {
    shared.change(|state| {
        let Some(store) = place.store(state) else {
            return github_error(404, "Not Found");
        };
        match find(store, name).map(|(k, _)| k.clone()) {
            Some(key) => {
                store.secrets.remove(&key);
                empty_response(204)
            }
            None => github_error(404, "Not Found"),
        }
    })
}
