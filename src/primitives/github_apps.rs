//! The `github::` functions about credentials and workflows: installation tokens minted with a
//! GitHub App's key (held in Secret Manager, passed in as a Secret), token checks, credential
//! revocation, and workflow dispatch. Registered into the `github` module.

use rhai::{Dynamic, Map};

use super::github::{client, remote};
use crate::clients::github::{self as gh, RepoSlug, Workflow};
use crate::clients::retry::RetryPolicy;
use crate::engine::RunContext;
use crate::engine::gate::{
    Change, ModuleBuilder, ParamType, Placeholder, PrimitiveError, Signature,
};
use crate::engine::values::to_json;
use crate::secret::Secret;

fn base_url(context: &RunContext) -> Result<String, PrimitiveError> {
    Ok(client(context)?.base_url().to_owned())
}

/// The repository and workflow of a dispatch, parsed, with the dispatch path checked against
/// `[scope]`.
fn dispatch_target(
    context: &RunContext,
    args: &crate::engine::gate::Args,
) -> Result<(RepoSlug, Workflow), PrimitiveError> {
    let repo = RepoSlug::parse(&args.str(0)?).map_err(|e| PrimitiveError::new(e.to_string()))?;
    let workflow =
        Workflow::parse(&args.str(1)?).map_err(|e| PrimitiveError::new(e.to_string()))?;
    super::github::check_path(context.config(), &gh::dispatch_path(&repo, &workflow))?;
    Ok((repo, workflow))
}

fn positive(value: i64, what: &str) -> Result<u64, PrimitiveError> {
    u64::try_from(value).ok().filter(|v| *v > 0).ok_or_else(|| {
        PrimitiveError::new(format!("{what} must be a positive number, found {value}"))
    })
}

/// Registers the credential and workflow functions of `github::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.mutate(
        Signature {
            name: "mint_installation_token",
            params: &[
                ("app_id", ParamType::Int),
                ("installation_id", ParamType::Int),
                ("app_key", ParamType::Secret),
            ],
            returns: "map",
            doc: "Mints an installation token with the app's private key: #{token: Secret,\n\
                  expires_at}. Tokens live one hour: a schedule that stores one must run at least\n\
                  every 30 minutes.",
        },
        |context, args| {
            let app = positive(args.int(0)?, "app_id")?;
            let installation = positive(args.int(1)?, "installation_id")?;
            let mut placeholder = Map::new();
            placeholder.insert(
                "token".into(),
                Dynamic::from(Secret::new(
                    b"(planned installation token)".to_vec(),
                    context.fingerprint_key()?,
                )),
            );
            placeholder.insert("expires_at".into(), Placeholder::NewTokenExpiry.value());
            Ok(Change {
                target: format!("installation {installation} of app {app}"),
                action: format!("mint a token for installation {installation} of app {app}"),
                fields: Vec::new(),
                placeholder: placeholder.into(),
            })
        },
        |context, args, _| {
            let app = positive(args.int(0)?, "app_id")?;
            let installation = positive(args.int(1)?, "installation_id")?;
            let key = args.secret(2)?;
            let url = base_url(context)?;
            let policy = RetryPolicy::from_limits(&context.config().limits);
            let cancelled = context.cancellation();
            let minted = context
                .block_on(gh::mint_installation_token(
                    &url,
                    app,
                    installation,
                    &key,
                    gh::Retrying {
                        policy: &policy,
                        cancelled: &*cancelled,
                    },
                ))?
                .map_err(remote)?;
            let mut map = Map::new();
            map.insert(
                "token".into(),
                Dynamic::from(Secret::new(
                    minted.token.into_bytes(),
                    context.fingerprint_key()?,
                )),
            );
            map.insert("expires_at".into(), minted.expires_at.into());
            Ok(map.into())
        },
    );
    module.mutate(
        Signature {
            name: "revoke_installation_token",
            params: &[("token", ParamType::Secret)],
            returns: "()",
            doc: "Revokes an installation token (it stops working at once).",
        },
        |_, args| {
            let token = args.secret(0)?;
            Ok(Change {
                target: format!("installation token {}", token.redacted()),
                action: format!("revoke installation token {}", token.redacted()),
                fields: Vec::new(),
                placeholder: Dynamic::UNIT,
            })
        },
        |context, args, _| {
            let token = args.secret(0)?;
            let url = base_url(context)?;
            let policy = RetryPolicy::from_limits(&context.config().limits);
            let cancelled = context.cancellation();
            context
                .block_on(gh::revoke_installation_token(
                    &url,
                    &token,
                    gh::Retrying {
                        policy: &policy,
                        cancelled: &*cancelled,
                    },
                ))?
                .map_err(remote)?;
            Ok(Dynamic::UNIT)
        },
    );
    module.read(
        Signature {
            name: "check_token",
            params: &[("token", ParamType::Secret)],
            returns: "map",
            doc: "What GitHub says of `token`: #{works, login, scopes, expires_at}.",
        },
        |args| {
            args.secret(0)
                .map(|t| format!("token {}", t.redacted()))
                .unwrap_or_default()
        },
        |context, args| {
            let token = args.secret(0)?;
            let url = base_url(context)?;
            let policy = RetryPolicy::from_limits(&context.config().limits);
            let cancelled = context.cancellation();
            let check = context
                .block_on(gh::check_token(
                    &url,
                    &token,
                    gh::Retrying {
                        policy: &policy,
                        cancelled: &*cancelled,
                    },
                ))?
                .map_err(remote)?;
            let mut map = Map::new();
            map.insert("works".into(), check.works.into());
            map.insert(
                "login".into(),
                check.login.map_or(Dynamic::UNIT, Dynamic::from),
            );
            map.insert(
                "scopes".into(),
                check
                    .scopes
                    .into_iter()
                    .map(Dynamic::from)
                    .collect::<rhai::Array>()
                    .into(),
            );
            map.insert(
                "expires_at".into(),
                check.expires_at.map_or(Dynamic::UNIT, Dynamic::from),
            );
            Ok(map.into())
        },
    );
    module.mutate(
        Signature {
            name: "revoke_token",
            params: &[("token", ParamType::Secret)],
            returns: "()",
            doc: "Revokes a personal access token through GitHub's credential revocation endpoint.",
        },
        |_, args| {
            let token = args.secret(0)?;
            Ok(Change {
                target: format!("token {}", token.redacted()),
                action: format!(
                    "revoke token {} through /credentials/revoke",
                    token.redacted()
                ),
                fields: Vec::new(),
                placeholder: Dynamic::UNIT,
            })
        },
        |context, args, _| {
            let token = args.secret(0)?;
            let github = client(context)?;
            context
                .block_on(github.revoke_credentials(&[token]))?
                .map_err(remote)?;
            Ok(Dynamic::UNIT)
        },
    );
    module.mutate(
        Signature {
            name: "dispatch_workflow",
            params: &[("repo", ParamType::Str), ("workflow", ParamType::Str), ("ref", ParamType::Str), ("inputs", ParamType::Map)],
            returns: "()",
            doc: "Dispatches workflow `workflow` (file name or id) of `repo` on `ref` with `inputs`.",
        },
        |context, args| {
            let (repo, workflow) = dispatch_target(context, args)?;
            let inputs = to_json(&args.map(3)?.into(), "inputs").map_err(|e| PrimitiveError::new(e.to_string()))?;
            Ok(Change {
                target: format!("workflow {workflow} of {repo}"),
                action: format!("dispatch workflow {workflow} of {repo} on {}", args.str(2)?),
                fields: vec![("inputs".into(), inputs.to_string())],
                placeholder: Dynamic::UNIT,
            })
        },
        |context, args, _| {
            let (repo, workflow) = dispatch_target(context, args)?;
            let inputs = to_json(&args.map(3)?.into(), "inputs").map_err(|e| PrimitiveError::new(e.to_string()))?;
            let github = client(context)?;
            context
                .block_on(github.dispatch_workflow(&repo, &workflow, &args.str(2)?, &inputs))?
                .map_err(remote)?;
            Ok(Dynamic::UNIT)
        },
    );
    module
}
