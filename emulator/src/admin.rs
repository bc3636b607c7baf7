//! The control surface for tests and rehearsals, under `/_emulator/`: a state dump (secret
//! values redacted unless `?reveal=true`), reset, faults, recorded Slack messages, the demo
//! credentials, rate-limit windows, minting personal access tokens, Vertex AI token usage for
//! Cloud Monitoring, the calendar that stamps creation times, `verify` (does this credential
//! work), GitHub Actions OIDC ID tokens (`GET github/oidc/token`), Cloud Run services changed
//! by hand (`PUT|PATCH|DELETE google/run/services/P/R/N`), and the log of requests that reached the other routes (`GET`/`DELETE
//! /_emulator/requests`: method and raw path).

use serde_json::{Value, json};

use crate::faults::FaultRule;
use crate::http_util::{Request, Response, github_error, json_response, now_secs};
use crate::server::Shared;
use crate::state::{GithubToken, RateWindow, TokenKind};

const REDACTED: &str = "<redacted>";

/// Handles `/_emulator/...`.
pub fn handle(shared: &Shared, request: &Request) -> Response {
    use http::Method as M;
    let segments = request.segments();
    match (&request.method, &segments[1..]) {
        (&M::GET, ["state"]) => state(shared, request.query("reveal") == Some("true")),
        (&M::POST, ["reset"]) => {
            shared.reset();
            json_response(200, &json!({"reset": true}))
        }
        (&M::GET, ["faults"]) => json_response(200, &json!({"faults": shared.faults().list()})),
        (&M::POST, ["faults"]) => match FaultRule::parse(&String::from_utf8_lossy(&request.body)) {
            Ok(rule) => {
                shared.faults().add(rule);
                json_response(200, &json!({"faults": shared.faults().list()}))
            }
            Err(e) => json_response(400, &json!({"message": e})),
        },
        (&M::DELETE, ["faults"]) => {
            shared.faults().clear();
            json_response(200, &json!({"faults": []}))
        }
        (&M::POST, ["slack", "webhooks"]) => crate::slack::create_hook(shared, request),
        (&M::DELETE, ["slack", "webhooks", name]) => crate::slack::remove_hooks(shared, name),
        (&M::GET, ["slack", name]) => {
            let state = shared.state();
            match state.slack.webhooks.get(*name) {
                Some(messages) => json_response(200, &json!({"messages": messages})),
                None => github_error(404, "no such webhook"),
            }
        }
        (&M::GET, ["requests"]) => {
            json_response(200, &json!({"requests": shared.requests().list()}))
        }
        (&M::DELETE, ["requests"]) => {
            shared.requests().clear();
            json_response(200, &json!({"requests": []}))
        }
        (&M::GET, ["demo"]) => json_response(
            200,
            &serde_json::to_value(shared.demo_credentials()).unwrap_or(Value::Null),
        ),
        (&M::POST, ["github", "rate-limit"]) => set_rate(shared, request),
        (&M::POST, ["github", "tokens"]) => mint_pat(shared, request),
        (&M::GET, ["github", "oidc", "token"]) => crate::github::oidc::mint(shared, request),
        (&M::PUT, ["github", "workflows", owner, repo, file]) => {
            set_workflow(shared, owner, repo, file, true)
        }
        (&M::DELETE, ["github", "workflows", owner, repo, file]) => {
            set_workflow(shared, owner, repo, file, false)
        }
        (&M::GET, ["clock"]) => clock_answer(),
        (&M::POST, ["clock"]) => set_clock(request),
        (&M::GET, ["limits"]) => limits(shared),
        (&M::POST, ["google", "permissions"]) => {
            crate::google::resource_manager::set_granted(shared, request)
        }
        (&M::GET, ["google", "quotas"]) => json_response(200, &shared.google_quotas().report()),
        (
            &M::PUT | &M::PATCH | &M::DELETE,
            ["google", "run", "services", project, region, name],
        ) => crate::google::run::admin::change(shared, request, (project, region, name)),
        (&M::POST, ["verify"]) => crate::verify::handle(shared, request),
        (&M::POST, ["monitoring", "usage"]) => {
            crate::google::monitoring::usage::control(shared, request)
        }
        _ => github_error(404, "Not Found"),
    }
}

/// The secondary limits in force and how often each has refused.
fn limits(shared: &Shared) -> Response {
    let limiter = shared.limiter();
    let refusals = limiter.refusals();
    json_response(
        200,
        &json!({
            "settings": limiter.settings(),
            "refusals": {
                "concurrency": refusals.concurrency,
                "points": refusals.points,
                "content": refusals.content,
                "total": refusals.concurrency + refusals.points + refusals.content,
            },
        }),
    )
}

fn clock_answer() -> Response {
    let now = crate::clock::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json_response(200, &json!({ "now": now }))
}

/// `{"now": RFC 3339}` sets the calendar, `{"advance_secs": N}` moves it.
fn set_clock(request: &Request) -> Response {
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(e) => return json_response(400, &json!({"message": format!("expected JSON: {e}")})),
    };
    if let Some(text) = body.get("now").and_then(Value::as_str) {
        match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(at) => crate::clock::set(at.with_timezone(&chrono::Utc)),
            Err(_) => {
                return json_response(
                    400,
                    &json!({"message": format!("now: expected an RFC 3339 time such as 2026-03-01T00:00:00Z, found \"{text}\"")}),
                );
            }
        }
    } else if let Some(seconds) = body.get("advance_secs").and_then(Value::as_i64) {
        crate::clock::advance(seconds);
    } else {
        return json_response(
            400,
            &json!({"message": "expected {\"now\": RFC 3339} or {\"advance_secs\": N}"}),
        );
    }
    clock_answer()
}

fn state(shared: &Shared, reveal: bool) -> Response {
    let mut value = serde_json::to_value(&*shared.state()).unwrap_or(Value::Null);
    if !reveal {
        redact(&mut value);
    }
    json_response(200, &value)
}

/// Replaces secret values, private keys and tokens with a marker.
fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if matches!(
                    key.as_str(),
                    "value" | "secret" | "data" | "demo_private_pem"
                ) && inner.is_string()
                {
                    *inner = Value::String(REDACTED.into());
                } else {
                    redact(inner);
                }
            }
            for field in ["tokens", "access_tokens"] {
                if let Some(Value::Object(tokens)) = map.get_mut(field) {
                    let renamed: serde_json::Map<String, Value> = std::mem::take(tokens)
                        .into_iter()
                        .enumerate()
                        .map(|(i, (_, v))| (format!("{REDACTED}-{i}"), v))
                        .collect();
                    *tokens = renamed;
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// `POST /_emulator/github/rate-limit {"token": "...", "limit": 100, "remaining": 3}`: sets a
/// credential's window (or, without `token`, the default limit for new windows); `"status":
/// 429` makes an exhausted primary limit answer 429 instead of 403.
fn set_rate(shared: &Shared, request: &Request) -> Response {
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return json_response(400, &json!({"message": e})),
    };
    let limit = body.get("limit").and_then(Value::as_u64).map(|n| n as u32);
    let remaining = body
        .get("remaining")
        .and_then(Value::as_u64)
        .map(|n| n as u32);
    let token = body.get("token").and_then(Value::as_str).map(str::to_owned);
    let status = body.get("status").and_then(Value::as_u64);
    if let Some(status) = status
        && status != 403
        && status != 429
    {
        return json_response(400, &json!({"message": "status must be 403 or 429"}));
    }
    shared.change(|state| {
        if let Some(status) = status {
            state.github.primary_limit_status = status as u16;
        }
        match token {
            Some(token) => {
                let limit = limit.unwrap_or(state.github.rate_limit);
                let used = limit.saturating_sub(remaining.unwrap_or(limit));
                state.github.rate.insert(
                    format!("token:{token}"),
                    RateWindow {
                        limit,
                        used,
                        reset: now_secs()
                            + body.get("reset_in").and_then(Value::as_i64).unwrap_or(3600),
                    },
                );
            }
            None => {
                if let Some(limit) = limit {
                    state.github.rate_limit = limit;
                }
            }
        }
        json_response(200, &json!({"ok": true}))
    })
}

/// `PUT` (install) or `DELETE` (remove) `/_emulator/github/workflows/OWNER/REPO/FILE`: which
/// workflow files a repository has, so a dispatch of a missing one gets GitHub's 404.
fn set_workflow(shared: &Shared, owner: &str, repo: &str, file: &str, present: bool) -> Response {
    shared.change(|state| {
        let Some(repo) = state.github.repos.get_mut(&format!("{owner}/{repo}")) else {
            return github_error(404, &format!("no repository {owner}/{repo}"));
        };
        if present {
            repo.workflows.insert(file.to_owned());
        } else {
            repo.workflows.remove(file);
        }
        json_response(200, &json!({"workflows": repo.workflows}))
    })
}

/// `POST /_emulator/github/tokens {"login": "demo-user", "scopes": ["repo"], "expires_in": 3600}`:
/// a new personal access token (no `expires_in`: it never expires).
fn mint_pat(shared: &Shared, request: &Request) -> Response {
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return json_response(400, &json!({"message": e})),
    };
    let login = body
        .get("login")
        .and_then(Value::as_str)
        .unwrap_or("demo-user")
        .to_owned();
    let scopes: Vec<String> = body
        .get("scopes")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let expires_at = body
        .get("expires_in")
        .and_then(Value::as_i64)
        .map(|s| now_secs() + s);
    shared.change(|state| {
        if !state.github.users.contains_key(&login) {
            return github_error(404, &format!("no user {login}"));
        }
        let token = crate::keys::random_token("ghp_");
        state.github.tokens.insert(
            token.clone(),
            GithubToken {
                kind: TokenKind::Personal { login },
                scopes,
                expires_at,
                revoked: false,
            },
        );
        json_response(200, &json!({"token": token, "expires_at": expires_at}))
    })
}
