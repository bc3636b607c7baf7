//! GitHub REST: who is calling (a personal token, an installation token, an app JWT, or
//! nobody), their rate-limit window (headers on every answer, decremented per request), and
//! routing to the handlers. Served at `/` and `/api/v3`.

mod account;
mod apps;
mod conditional;
pub mod oidc;
mod secrets;
mod selected_repos;
mod variables;
pub(crate) mod workflows;

use http::HeaderValue;

use crate::http_util::{Request, Response, github_error, now_secs};
use crate::keys;
use crate::server::Shared;
use crate::state::{RateWindow, State, TokenKind};

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credentials.
    Anonymous,
    /// A personal access token.
    User {
        /// The login.
        login: String,
        /// Its scopes.
        scopes: Vec<String>,
        /// The token text (the rate window's key).
        token: String,
    },
    /// An installation access token.
    Installation {
        /// The installation.
        id: u64,
        /// The account it is installed on.
        account: String,
        /// The token text.
        token: String,
    },
    /// A GitHub App authenticated by JWT.
    App {
        /// The app id.
        id: u64,
    },
}

impl Caller {
    fn rate_key(&self) -> String {
        match self {
            Self::Anonymous => "anonymous".to_owned(),
            Self::User { token, .. } | Self::Installation { token, .. } => format!("token:{token}"),
            Self::App { id } => format!("app:{id}"),
        }
    }

    fn rate_subject(&self, state: &State) -> String {
        match self {
            Self::Anonymous => "for 127.0.0.1".to_owned(),
            Self::User { login, .. } => {
                let id = state.github.users.get(login).map_or(0, |u| u.id);
                format!("for user ID {id}")
            }
            Self::Installation { id, .. } => format!("for installation ID {id}"),
            Self::App { id } => format!("for app ID {id}"),
        }
    }
}

/// Handles a GitHub REST request.
pub fn handle(shared: &Shared, request: &Request) -> Response {
    let mut state = shared.state();
    let caller = match authenticate(&state, request.credential()) {
        Ok(caller) => caller,
        Err(mut response) => {
            // A failed login still counts against the address's unauthenticated window.
            let (window, _) = take_from_window(&mut state, &Caller::Anonymous, true);
            add_rate_headers(&mut response, &window);
            return response;
        }
    };
    let expires = token_expiry(&state, &caller);
    let segments = request.segments();
    let counts = segments != ["rate_limit"];
    let exhausted = counts && is_exhausted(rate_window(&mut state, &caller));
    let (mut response, window) = if exhausted {
        let subject = caller.rate_subject(&state);
        let status = state.github.primary_limit_status;
        let window = rate_window(&mut state, &caller).clone();
        (
            github_error(status, &format!("API rate limit exceeded {subject}.")),
            window,
        )
    } else {
        drop(state);
        let (response, conditional) =
            conditional::apply(request, route(shared, request, &caller, &segments));
        // GitHub: a 304 to a request made with a valid Authorization header is free.
        let free =
            conditional == conditional::Conditional::NotModified && caller != Caller::Anonymous;
        state = shared.state();
        let window = rate_window(&mut state, &caller);
        if counts && !free {
            window.used += 1;
        }
        (response, window.clone())
    };
    drop(state);
    add_rate_headers(&mut response, &window);
    if let Caller::User { scopes, .. } = &caller
        && let Ok(value) = HeaderValue::from_str(&scopes.join(", "))
    {
        response.headers_mut().insert("x-oauth-scopes", value);
    }
    if let Some(expires) = expires
        && let Ok(value) = HeaderValue::from_str(&expires)
    {
        response
            .headers_mut()
            .insert("github-authentication-token-expiration", value);
    }
    response
}

/// `GitHub-Authentication-Token-Expiration` of a personal token with an expiry, in GitHub's
/// `2026-01-01 00:00:00 UTC` form.
fn token_expiry(state: &State, caller: &Caller) -> Option<String> {
    let Caller::User { token, .. } = caller else {
        return None;
    };
    let at = state.github.tokens.get(token)?.expires_at?;
    chrono::DateTime::from_timestamp(at, 0).map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

fn route(shared: &Shared, request: &Request, caller: &Caller, segments: &[&str]) -> Response {
    use http::Method as M;
    let method = &request.method;
    match segments {
        ["rate_limit"] if method == M::GET => account::rate_limit(shared, caller),
        ["user"] if method == M::GET => account::user(shared, request, caller),
        ["credentials", "revoke"] if method == M::POST => account::revoke(shared, request),
        ["app"] if method == M::GET => apps::app(shared, caller),
        ["app", "installations"] if method == M::GET => {
            apps::installations(shared, request, caller)
        }
        ["app", "installations", id] if method == M::GET => {
            apps::installation(shared, request, caller, id)
        }
        ["app", "installations", id, "access_tokens"] if method == M::POST => {
            apps::mint(shared, request, caller, id)
        }
        ["installation", "token"] if method == M::DELETE => apps::revoke(shared, caller),
        ["repos", owner, repo] if method == M::GET => {
            account::repo(shared, request, caller, owner, repo)
        }
        ["repos", owner, repo, "environments"] if method == M::GET => {
            account::environments(shared, request, caller, &format!("{owner}/{repo}"), None)
        }
        ["repos", owner, repo, "environments", env] if method == M::GET => account::environments(
            shared,
            request,
            caller,
            &format!("{owner}/{repo}"),
            Some(env),
        ),
        ["orgs", org] if method == M::GET => account::org(shared, request, caller, org),
        ["repos", owner, repo, "installation"] if method == M::GET => {
            apps::installation_of(shared, request, caller, owner, Some(repo))
        }
        ["orgs" | "users", account, "installation"] if method == M::GET => {
            apps::installation_of(shared, request, caller, account, None)
        }
        ["repos", owner, repo, "actions", "workflows", workflow] if method == M::GET => {
            workflows::get(shared, request, caller, owner, repo, workflow)
        }
        [
            "repos",
            owner,
            repo,
            "actions",
            "workflows",
            workflow,
            "dispatches",
        ] if method == M::POST => {
            workflows::dispatch(shared, request, caller, owner, repo, workflow)
        }
        ["repos", owner, repo, "actions", "variables", rest @ ..] => variables::handle(
            shared,
            request,
            caller,
            (&format!("{owner}/{repo}"), None),
            rest,
        ),
        [
            "repos",
            owner,
            repo,
            "environments",
            env,
            "variables",
            rest @ ..,
        ] => variables::handle(
            shared,
            request,
            caller,
            (&format!("{owner}/{repo}"), Some(env)),
            rest,
        ),
        ["repos", owner, repo, "actions", "secrets", rest @ ..] => {
            let place = secrets::Place::Repo {
                repo: format!("{owner}/{repo}"),
            };
            secrets::handle(shared, request, caller, &place, rest)
        }
        [
            "repos",
            owner,
            repo,
            "environments",
            env,
            "secrets",
            rest @ ..,
        ] => {
            let place = secrets::Place::Environment {
                repo: format!("{owner}/{repo}"),
                environment: (*env).to_owned(),
            };
            secrets::handle(shared, request, caller, &place, rest)
        }
        [
            "repositories",
            repo_id,
            "environments",
            env,
            "secrets",
            rest @ ..,
        ] => {
            let Some(repo) = repo_by_id(shared, repo_id) else {
                return github_error(404, "Not Found");
            };
            let place = secrets::Place::Environment {
                repo,
                environment: (*env).to_owned(),
            };
            secrets::handle(shared, request, caller, &place, rest)
        }
        ["orgs", org, "actions", "secrets", rest @ ..] => {
            let place = secrets::Place::Org {
                org: (*org).to_owned(),
            };
            secrets::handle(shared, request, caller, &place, rest)
        }
        _ => github_error(404, "Not Found"),
    }
}

/// `owner/name` of the repository with numeric id `id` (the legacy `/repositories/{id}` routes).
fn repo_by_id(shared: &Shared, id: &str) -> Option<String> {
    let id: u64 = id.parse().ok()?;
    let state = shared.state();
    state
        .github
        .repos
        .iter()
        .find(|(_, r)| r.id == id)
        .map(|(name, _)| name.clone())
}

/// Resolves the caller, or the 401 GitHub gives for bad credentials.
fn authenticate(state: &State, credential: Option<&str>) -> Result<Caller, Response> {
    let Some(credential) = credential else {
        return Ok(Caller::Anonymous);
    };
    if credential.matches('.').count() == 2 && credential.starts_with("eyJ") {
        return apps::authenticate_jwt(state, credential).map(|id| Caller::App { id });
    }
    let bad = || github_error(401, "Bad credentials");
    let token = state.github.tokens.get(credential).ok_or_else(bad)?;
    if token.revoked || token.expires_at.is_some_and(|t| t <= now_secs()) {
        return Err(bad());
    }
    Ok(match &token.kind {
        TokenKind::Personal { login } => Caller::User {
            login: login.clone(),
            scopes: token.scopes.clone(),
            token: credential.to_owned(),
        },
        TokenKind::Installation { installation } => Caller::Installation {
            id: *installation,
            account: state
                .github
                .installations
                .get(installation)
                .map(|i| i.account.clone())
                .unwrap_or_default(),
            token: credential.to_owned(),
        },
    })
}

/// Adds the caller's rate-limit headers to an injected fault's answer (as GitHub's own errors
/// carry them), without using up a request.
pub fn add_fault_rate_headers(shared: &Shared, headers: &http::HeaderMap, response: &mut Response) {
    let mut state = shared.state();
    let caller =
        authenticate(&state, crate::http_util::credential_of(headers)).unwrap_or(Caller::Anonymous);
    let (window, _) = take_from_window(&mut state, &caller, false);
    drop(state);
    add_rate_headers(response, &window);
}

/// Takes one request from the caller's window (unless `counts` is false); returns the window
/// after it and whether it was already exhausted.
fn take_from_window(state: &mut State, caller: &Caller, counts: bool) -> (RateWindow, bool) {
    let window = rate_window(state, caller);
    let exhausted = counts && is_exhausted(window);
    if counts && !exhausted {
        window.used += 1;
    }
    (window.clone(), exhausted)
}

fn is_exhausted(window: &RateWindow) -> bool {
    window.used >= window.limit
}

/// The caller's primary window, started (or restarted, once its hour is over) as needed.
fn rate_window<'a>(state: &'a mut State, caller: &Caller) -> &'a mut RateWindow {
    let limit = match caller {
        Caller::Anonymous => state.github.anonymous_rate_limit,
        _ => state.github.rate_limit,
    };
    let now = now_secs();
    let window = state
        .github
        .rate
        .entry(caller.rate_key())
        .or_insert(RateWindow {
            limit,
            used: 0,
            reset: now + 3600,
        });
    if window.reset <= now {
        window.used = 0;
        window.reset = now + 3600;
    }
    window
}

fn add_rate_headers(response: &mut Response, window: &RateWindow) {
    let headers = response.headers_mut();
    let remaining = window.limit.saturating_sub(window.used);
    for (name, value) in [
        ("x-ratelimit-limit", window.limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-used", window.used.to_string()),
        ("x-ratelimit-reset", window.reset.to_string()),
        ("x-ratelimit-resource", "core".to_owned()),
        ("x-github-request-id", keys::random_hex(8).to_uppercase()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}
