//! GitHub: the credential works, its scopes (`X-OAuth-Scopes`) cover what the playbooks call,
//! and its rate limit has requests left. The token is a `Secret` from start to end.

use std::sync::Arc;

use serde_json::Value;

use super::context::Context;
use super::finding::Finding;
use crate::clients::github::{GithubClient, Idempotent};
use crate::config::TokenSource;

/// The `github credential`, `github scopes` and `github rate limit` findings.
pub async fn check(context: Arc<Context>) -> Vec<Finding> {
    let source = if context.services.is_emulated() {
        Ok(TokenSource::Env("the emulator's demo token".to_owned()))
    } else {
        context.config.github.source()
    };
    let source = match source {
        Ok(source) => source,
        Err(err) => {
            return with_rest_skipped(Finding::failed(
                "github credential",
                err,
                "complete [github] in orchestra.toml",
            ));
        }
    };
    if let TokenSource::Env(name) = &source
        && !context.services.is_emulated()
        && std::env::var_os(name).is_none_or(|v| v.is_empty())
    {
        return with_rest_skipped(if context.usage.uses_github() {
            Finding::failed(
                "github credential",
                format!("no GitHub credential: {name} is not set"),
                format!(
                    "export {name} with a token that has the repo scope, or set [github].token_env"
                ),
            )
        } else {
            Finding::skipped(
                "github credential",
                format!("{name} is not set, and no playbook calls GitHub"),
            )
        });
    }
    let built = {
        let context = Arc::clone(&context);
        tokio::task::spawn_blocking(move || {
            context.services.github(
                &context.config,
                &context.key,
                &context.runtime,
                Context::never_cancelled(),
            )
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
    };
    let client = match built {
        Ok(client) => client,
        Err(err) => {
            return with_rest_skipped(Finding::failed(
                "github credential",
                err,
                "check [github] in orchestra.toml and the secret or variable it names",
            ));
        }
    };
    let is_app = matches!(source, TokenSource::App { .. });
    let mut findings = Vec::new();
    let mut scopes = None;
    if is_app {
        findings.push(Finding::ok(
            "github credential",
            format!("{} token minted", source.kind()),
        ));
    } else {
        match get(&context, &client, "/user").await {
            Ok((body, headers)) => {
                let login = body["login"].as_str().unwrap_or("an unnamed account");
                findings.push(Finding::ok(
                    "github credential",
                    format!("token for {login}"),
                ));
                scopes = Some(
                    headers
                        .get("x-oauth-scopes")
                        .and_then(|v| v.to_str().ok())
                        .map(|v| {
                            v.split(',')
                                .map(|s| s.trim().to_owned())
                                .filter(|s| !s.is_empty())
                                .collect::<Vec<_>>()
                        }),
                );
            }
            Err(err) => {
                let fix = if err.starts_with("cannot reach") {
                    "check the network and [github].api_url in orchestra.toml"
                } else {
                    "create a new token (classic, repo scope) and put it where [github] says"
                };
                return with_rest_skipped(Finding::failed("github credential", err, fix));
            }
        }
    }
    findings.push(scope_finding(&context, is_app, scopes));
    findings.push(match get(&context, &client, "/rate_limit").await {
        Ok((body, _)) => rate_finding(&body["resources"]["core"]),
        Err(err) => Finding::failed(
            "github rate limit",
            err,
            "check the network and [github].api_url",
        ),
    });
    findings
}

fn with_rest_skipped(first: Finding) -> Vec<Finding> {
    vec![
        first,
        Finding::skipped("github scopes", "no GitHub credential to ask about"),
        Finding::skipped("github rate limit", "no GitHub credential to ask about"),
    ]
}

async fn get(
    context: &Context,
    client: &GithubClient,
    path: &str,
) -> Result<(Value, http::HeaderMap), String> {
    let answer = client
        .request(http::Method::GET, path, None, Idempotent::Yes)
        .await
        .map_err(|e| e.to_string())?;
    context.saw_date("GitHub", &answer.headers);
    let body = serde_json::from_str(&answer.body)
        .map_err(|e| format!("GitHub's answer to {path} is not JSON: {e}"))?;
    Ok((body, answer.headers))
}

/// `scopes`: `Some(None)` when GitHub sent no `X-OAuth-Scopes` (fine-grained tokens).
fn scope_finding(context: &Context, is_app: bool, scopes: Option<Option<Vec<String>>>) -> Finding {
    let needed = context.usage.github_scopes();
    if is_app {
        return Finding::skipped(
            "github scopes",
            "an App installation's permissions are set on the app, not listed per token",
        );
    }
    let Some(Some(have)) = scopes else {
        return Finding::skipped(
            "github scopes",
            "GitHub lists no scopes for this token (fine-grained): permissions are checked per call",
        );
    };
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|n| !have.iter().any(|h| h == n))
        .collect();
    let shown = if have.is_empty() {
        "none".to_owned()
    } else {
        have.join(", ")
    };
    if missing.is_empty() {
        Finding::ok(
            "github scopes",
            if needed.is_empty() {
                format!("{shown} (the playbooks need none)")
            } else {
                format!("{shown}, enough for {}", needed.join(", "))
            },
        )
    } else {
        Finding::failed(
            "github scopes",
            format!(
                "the token has {shown}; the playbooks need {}",
                missing.join(", ")
            ),
            format!(
                "create a token with the {} scope(s) and put it where [github] says",
                missing.join(", ")
            ),
        )
    }
}

fn rate_finding(core: &Value) -> Finding {
    let (Some(remaining), Some(limit)) = (core["remaining"].as_u64(), core["limit"].as_u64())
    else {
        return Finding::failed(
            "github rate limit",
            "GitHub's /rate_limit answer has no resources.core",
            "check [github].api_url points at GitHub's REST API",
        );
    };
    let reset = core["reset"]
        .as_i64()
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.format("%H:%M UTC").to_string())
        .unwrap_or_else(|| "an unknown time".to_owned());
    if remaining == 0 {
        Finding::failed(
            "github rate limit",
            format!("0 of {limit} requests left until {reset}"),
            format!("wait until {reset}, or use another credential"),
        )
    } else {
        Finding::ok(
            "github rate limit",
            format!("{remaining} of {limit} requests left (resets {reset})"),
        )
    }
}
