//! `github::` — GitHub rate limits and Actions secrets, through the shared GitHub client.
//!
//! A target names where secrets live: `owner/repo`, `owner/repo:environment`, or `org:NAME`.
//! Every target is checked against `[scope]` (github_owners, github_repos) before any request
//! leaves.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map};

use crate::clients::github::{
    ApiPath, GithubClient, GithubError, GithubScope, PutOutcome, SecretName, SecretScope,
    put_secrets,
};
use crate::config::Config;
use crate::engine::RunContext;
use crate::engine::gate::{
    Change, ModuleBuilder, ParamType, Placeholder, PrimitiveError, Signature,
};
use crate::engine::values::from_json;
use crate::secret::Secret;

/// Parses a target: `owner/repo`, `owner/repo:environment` or `org:NAME`.
pub fn parse_target(text: &str) -> Result<SecretScope, PrimitiveError> {
    SecretScope::parse(text).map_err(|e| {
        PrimitiveError::new(format!(
            "target {e}; a target is owner/repo, owner/repo:environment or org:NAME"
        ))
    })
}

/// The GitHub part of `[scope]`.
pub fn github_scope(config: &Config) -> GithubScope {
    GithubScope::new(&config.scope.github_owners, &config.scope.github_repos)
}

/// Refuses a request path that addresses a repository or organisation outside `[scope]`:
/// the check reads the path as it will be sent.
pub fn check_path(config: &Config, path: &ApiPath) -> Result<(), PrimitiveError> {
    github_scope(config)
        .check_path(path.as_str())
        .map(|_| ())
        .map_err(PrimitiveError::new)
}

/// Refuses a secrets target outside `[scope]`.
pub fn check_scope(config: &Config, scope: &SecretScope) -> Result<(), PrimitiveError> {
    check_path(config, &scope.secrets_path())
}

/// The run's GitHub client.
pub fn client(context: &RunContext) -> Result<Arc<GithubClient>, PrimitiveError> {
    let key = context.fingerprint_key()?;
    // octocrab starts its request buffer on the current runtime.
    let runtime = context
        .runtime()
        .ok_or_else(|| PrimitiveError::new("no async runtime in this mode"))?;
    let _entered = runtime.enter();
    let github = context
        .remote()
        .github(context.config(), key, runtime, context.cancellation())
        .map_err(PrimitiveError::new)?;
    if let Some(store) = context.store() {
        github.keep_answers_in(Arc::new(store.clone()));
    }
    Ok(github)
}

/// A GitHub failure as the script sees it.
pub fn remote(error: GithubError) -> PrimitiveError {
    PrimitiveError::remote(error.to_string(), error.status())
}

fn scoped_target(context: &RunContext, text: &str) -> Result<SecretScope, PrimitiveError> {
    let scope = parse_target(text)?;
    check_scope(context.config(), &scope)?;
    Ok(scope)
}

/// How many PUTs a batch keeps in flight: enough that a minute's worth of writes the pacer
/// lets through (180) goes out in a few round trips, well under GitHub's 100 concurrent.
const BATCH_CONCURRENCY: usize = 32;

fn batch_items(
    args: &crate::engine::gate::Args,
) -> Result<Vec<(SecretName, Secret)>, PrimitiveError> {
    args.map(1)?
        .into_iter()
        .map(|(name, value)| {
            let name = secret_name(&name)?;
            let value = value.try_cast::<Secret>().ok_or_else(|| {
                PrimitiveError::new(format!("the value of {} must be a Secret", name.as_str()))
            })?;
            if value.is_empty() {
                return Err(PrimitiveError::new(format!(
                    "refusing to write an empty value over GitHub secret {}",
                    name.as_str()
                )));
            }
            Ok((name, value))
        })
        .collect()
}

fn secret_name(text: &str) -> Result<SecretName, PrimitiveError> {
    SecretName::parse(text).map_err(|e| PrimitiveError::new(e.to_string()))
}

/// Registers `github::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.read(
        Signature {
            name: "rate_limit",
            params: &[],
            returns: "map",
            doc: "The rate limits of the configured credential: #{core: #{limit, remaining, used,\n\
                  reset}, search: …, graphql: …}. Does not count against the limit.",
        },
        |_| "GitHub /rate_limit".to_owned(),
        |context, _| {
            let github = client(context)?;
            let answer = context.block_on(github.rate_limit())?.map_err(remote)?;
            let resources = answer.get("resources").cloned().unwrap_or_default();
            Ok(from_json(&resources))
        },
    );
    module.read(
        Signature {
            name: "list_secrets",
            params: &[("target", ParamType::Str)],
            returns: "array",
            doc: "The Actions secrets at `target` (owner/repo, owner/repo:environment or org:NAME):\n\
                  [#{name, created_at, updated_at}]. GitHub never returns values.",
        },
        |args| args.str(0).map(|t| format!("secrets of {t}")).unwrap_or_default(),
        |context, args| {
            let scope = scoped_target(context, &args.str(0)?)?;
            let github = client(context)?;
            let secrets = context.block_on(github.list_secrets(&scope))?.map_err(remote)?;
            let list: Array = secrets
                .iter()
                .map(|s| {
                    let mut map = Map::new();
                    map.insert("name".into(), s.name.clone().into());
                    map.insert("created_at".into(), s.created_at.clone().into());
                    map.insert("updated_at".into(), s.updated_at.clone().into());
                    Dynamic::from(map)
                })
                .collect();
            Ok(list.into())
        },
    );
    module.mutate(
        Signature {
            name: "put_secret",
            params: &[
                ("target", ParamType::Str),
                ("name", ParamType::Str),
                ("value", ParamType::Secret),
            ],
            returns: "string",
            doc: "Seals `value` to the target's public key and writes Actions secret `name`;\n\
                  \"created\" or \"updated\". Re-putting the same value is harmless.",
        },
        |context, args| {
            let target = args.str(0)?;
            let scope = scoped_target(context, &target)?;
            let name = secret_name(&args.str(1)?)?;
            let value = args.secret(2)?;
            if value.is_empty() {
                return Err(PrimitiveError::new(
                    "refusing to write an empty value over a GitHub secret",
                ));
            }
            Ok(Change {
                target: format!("GitHub secret {} in {scope}", name.as_str()),
                action: format!("put GitHub secret {} in {scope}", name.as_str()),
                fields: vec![("value".into(), value.redacted())],
                placeholder: Placeholder::WriteOutcome.value(),
            })
        },
        |context, args, _| {
            let scope = scoped_target(context, &args.str(0)?)?;
            let name = secret_name(&args.str(1)?)?;
            let value = args.secret(2)?;
            let github = client(context)?;
            let outcome = context
                .block_on(github.put_secret(&scope, &name, &value))?
                .map_err(remote)?;
            Ok(match outcome {
                PutOutcome::Created => "created",
                PutOutcome::Updated => "updated",
            }
            .into())
        },
    );
    module.mutate(
        Signature {
            name: "put_secrets",
            params: &[("target", ParamType::Str), ("secrets", ParamType::Map)],
            returns: "map",
            doc: "Puts every NAME: Secret of `secrets` to `target` concurrently (within the rate\n\
                  budget), the public key fetched once; #{NAME: \"created\"|\"updated\"}. Any failure\n\
                  raises an error listing them, after the others are done.",
        },
        |context, args| {
            let scope = scoped_target(context, &args.str(0)?)?;
            let items = batch_items(args)?;
            let names: Vec<String> = items.iter().map(|(n, _)| n.as_str().to_owned()).collect();
            Ok(Change {
                target: format!("{} GitHub secrets in {scope}", items.len()),
                action: format!("put {} GitHub secrets in {scope}", items.len()),
                fields: vec![("names".into(), names.join(", "))],
                placeholder: names
                    .iter()
                    .map(|n| (n.as_str().into(), Placeholder::WriteOutcome.value()))
                    .collect::<Map>()
                    .into(),
            })
        },
        |context, args, _| {
            let scope = scoped_target(context, &args.str(0)?)?;
            let items = batch_items(args)?;
            let github = client(context)?;
            let bar = super::progress::batch("GitHub secrets", items.len());
            let outcomes = context
                .block_on(put_secrets(github, scope, items, BATCH_CONCURRENCY, bar.ticker()))?
                .map_err(remote)?;
            bar.finish();
            let mut map = Map::new();
            let mut failures = Vec::new();
            for (name, outcome) in outcomes {
                match outcome {
                    Ok(PutOutcome::Created) => {
                        map.insert(name.as_str().into(), "created".into());
                    }
                    Ok(PutOutcome::Updated) => {
                        map.insert(name.as_str().into(), "updated".into());
                    }
                    Err(e) => failures.push(format!("{} ({e})", name.as_str())),
                }
            }
            if !failures.is_empty() {
                return Err(PrimitiveError::new(format!(
                    "{} of {} secrets failed, the others were written: {}",
                    failures.len(),
                    failures.len() + map.len(),
                    failures.join("; ")
                )));
            }
            Ok(map.into())
        },
    );
    module.mutate(
        Signature {
            name: "delete_secret",
            params: &[("target", ParamType::Str), ("name", ParamType::Str)],
            returns: "bool",
            doc: "Deletes Actions secret `name` at `target`; false if it did not exist.",
        },
        |context, args| {
            let scope = scoped_target(context, &args.str(0)?)?;
            let name = secret_name(&args.str(1)?)?;
            Ok(Change {
                target: format!("GitHub secret {} in {scope}", name.as_str()),
                action: format!("delete GitHub secret {} in {scope}", name.as_str()),
                fields: Vec::new(),
                placeholder: Dynamic::TRUE,
            })
        },
        |context, args, _| {
            let scope = scoped_target(context, &args.str(0)?)?;
            let name = secret_name(&args.str(1)?)?;
            let github = client(context)?;
            let existed = context
                .block_on(github.delete_secret(&scope, &name))?
                .map_err(remote)?;
            Ok(existed.into())
        },
    );
    super::rotations::register_github(super::github_variables::register(
        super::github_apps::register(module),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert!(matches!(parse_target("acme/api"), Ok(SecretScope::Repo(_))));
        assert!(matches!(
            parse_target("acme/api:production"),
            Ok(SecretScope::Environment(_, _))
        ));
        assert!(matches!(parse_target("org:acme"), Ok(SecretScope::Org(_))));
        assert!(parse_target("acme").is_err());
        let err = parse_target("acme/api:../../../repos/evil/x").unwrap_err();
        assert!(
            err.message.starts_with("target environment: expected"),
            "{}",
            err.message
        );
    }

    #[test]
    fn scope_refusal_names_what_to_add() {
        let config = Config::default();
        let err = check_scope(&config, &parse_target("acme/api").unwrap()).unwrap_err();
        assert!(
            err.message
                .contains("add \"acme/api\" to [scope].github_repos"),
            "{}",
            err.message
        );
        let mut allowed = Config::default();
        allowed.scope.github_owners.push("acme".into());
        assert!(check_scope(&allowed, &parse_target("acme/api:production").unwrap()).is_ok());
    }
}
