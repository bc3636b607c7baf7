//! `iam::` — service-account keys through Google's official IAM client, and `verify_key`, a
//! real token exchange that says whether a key works.
//!
//! A new key comes back as `#{id, account, json}`: the id and account are plain, the key file
//! is a Secret. The account's project must be in `[scope].gcp_projects`.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map};

use crate::clients::iam::{IamError, IamKeys, Verification, verify_key};
use crate::clients::retry::RetryPolicy;
use crate::engine::RunContext;
use crate::engine::gate::{
    Args, Change, ModuleBuilder, ParamType, Placeholder, PrimitiveError, Signature,
};
use crate::secret::{Secret, ServiceAccountKey, ShapeError};

/// The project of `email` (`NAME@PROJECT.iam.gserviceaccount.com`), scope-checked.
pub(super) fn checked_account(context: &RunContext, email: &str) -> Result<String, PrimitiveError> {
    let project = email
        .split_once('@')
        .and_then(|(name, domain)| {
            // The account id becomes a URL path segment: IAM's own characters only.
            let id_ok = (1..=30).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            id_ok.then_some(domain)?.strip_suffix(".iam.gserviceaccount.com")
        })
        .ok_or_else(|| {
            PrimitiveError::new(format!(
                "expected a service account as NAME@PROJECT.iam.gserviceaccount.com (NAME: up to 30 lowercase letters, digits and hyphens), found '{email}'"
            ))
        })?;
    if !context
        .config()
        .scope
        .gcp_projects
        .iter()
        .any(|p| p == project)
    {
        return Err(PrimitiveError::new(format!(
            "project {project} is outside the scope: add \"{project}\" to [scope].gcp_projects in orchestra.toml"
        )));
    }
    Ok(email.to_owned())
}

fn key_id(args: &Args, index: usize) -> Result<String, PrimitiveError> {
    let id = args.str(index)?.to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(PrimitiveError::new(format!(
            "expected a key id (hex digits), found '{id}'"
        )));
    }
    Ok(id)
}

fn client(context: &RunContext) -> Result<Arc<IamKeys>, PrimitiveError> {
    let runtime = context
        .runtime()
        .ok_or_else(|| PrimitiveError::new("no async runtime in this mode"))?;
    context
        .remote()
        .iam(context.config(), runtime, context.cancellation())
        .map_err(PrimitiveError::new)
}

fn shape_error(error: ShapeError) -> PrimitiveError {
    PrimitiveError::new(error.to_string())
}

fn remote(error: IamError) -> PrimitiveError {
    PrimitiveError::remote(error.to_string(), error.http_status)
}

fn key_map(id: &str, account: &str, json: Secret) -> Dynamic {
    let mut map = Map::new();
    map.insert("id".into(), id.into());
    map.insert("account".into(), account.into());
    map.insert("json".into(), Dynamic::from(json));
    map.into()
}

/// Registers `iam::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.read(
        Signature {
            name: "list_keys",
            params: &[("account", ParamType::Str)],
            returns: "array",
            doc: "The user-managed keys of `account`: [#{id, disabled, created}], oldest first.",
        },
        |args| {
            args.str(0)
                .map(|a| format!("keys of {a}"))
                .unwrap_or_default()
        },
        |context, args| {
            let account = checked_account(context, &args.str(0)?)?;
            let iam = client(context)?;
            let keys = context.block_on(iam.list(&account))?.map_err(remote)?;
            let list: Array = keys
                .into_iter()
                .map(|k| {
                    let mut map = Map::new();
                    map.insert("id".into(), k.id.into());
                    map.insert("disabled".into(), k.disabled.into());
                    map.insert("created".into(), k.created.into());
                    Dynamic::from(map)
                })
                .collect();
            Ok(list.into())
        },
    );
    module.mutate(
        Signature {
            name: "create_key",
            params: &[("account", ParamType::Str)],
            returns: "map",
            doc: "Creates a key for `account`: #{id, account, json} where json (the key file) is a\n\
                  Secret. Not idempotent: journal before, and check list_keys on a rerun.",
        },
        |context, args| {
            let account = checked_account(context, &args.str(0)?)?;
            let placeholder = Secret::new(b"(planned key file)".to_vec(), context.fingerprint_key()?);
            Ok(Change {
                target: format!("keys of {account}"),
                action: format!("create a key for {account}"),
                fields: Vec::new(),
                placeholder: key_map(Placeholder::NewKey.text(), &account, placeholder),
            })
        },
        |context, args, _| {
            let account = checked_account(context, &args.str(0)?)?;
            let iam = client(context)?;
            let (id, json) = context.block_on(iam.create(&account))?.map_err(remote)?;
            Ok(key_map(&id, &account, Secret::new(json, context.fingerprint_key()?)))
        },
    );
    for (name, doc) in [
        (
            "disable_key",
            "Disables key `id` of `account`: it stops working at once; enable_key undoes it.",
        ),
        ("enable_key", "Enables a disabled key."),
        ("delete_key", "Deletes key `id` of `account` for good."),
    ] {
        let action = name.trim_end_matches("_key");
        module.mutate(
            Signature {
                name,
                params: &[("account", ParamType::Str), ("id", ParamType::Str)],
                returns: "()",
                doc,
            },
            move |context, args| {
                let account = checked_account(context, &args.str(0)?)?;
                let id = key_id(args, 1)?;
                Ok(Change {
                    target: format!("key {id} of {account}"),
                    action: format!("{action} key {id} of {account}"),
                    fields: Vec::new(),
                    placeholder: Dynamic::UNIT,
                })
            },
            move |context, args, _| {
                let account = checked_account(context, &args.str(0)?)?;
                let id = key_id(args, 1)?;
                let iam = client(context)?;
                context
                    .block_on(iam.change(&account, &id, action))?
                    .map_err(remote)?;
                Ok(Dynamic::UNIT)
            },
        );
    }
    module.local(
        Signature {
            name: "key_id",
            params: &[("json", ParamType::Secret)],
            returns: "string",
            doc: "The key id the key file `json` names (its private_key_id; IAM lists it, so it is\n\
                  not secret): how a staged key file is matched with the account's keys.",
        },
        |_, args| {
            let key = ServiceAccountKey::parse(&args.secret(0)?).map_err(shape_error)?;
            Ok(Dynamic::from(key.private_key_id))
        },
    );
    module.read(
        Signature {
            name: "verify_key",
            params: &[("json", ParamType::Secret)],
            returns: "string",
            doc: "Whether the key file `json` works, by a real token exchange: \"works\", \"refused\"\n\
                  (the token endpoint said no) or \"unknown\" (no answer worth trusting after retries).\n\
                  Never promote a key on \"unknown\".",
        },
        |_| "token exchange".to_owned(),
        |context, args| {
            let key = match ServiceAccountKey::parse(&args.secret(0)?) {
                Ok(key) => key,
                Err(not_a_key) => {
                    // Not a key file cannot work: refused, as a token endpoint would.
                    tracing::warn!("key check refused: {not_a_key}");
                    return Ok("refused".into());
                }
            };
            let uris = context.remote().token_uris(context.config());
            let policy = RetryPolicy::from_limits(&context.config().limits);
            let outcome = context.block_on(verify_key(
                &key,
                &uris,
                &policy,
                context.cancellation(),
            ))?;
            Ok(match outcome {
                Verification::Works => "works".into(),
                Verification::Refused(why) => {
                    tracing::warn!("key check refused: {why}");
                    "refused".into()
                }
                Verification::Unknown(why) => {
                    tracing::warn!("key check gave no answer to trust: {why}");
                    "unknown".into()
                }
            })
        },
    );
    module.read(
        Signature {
            name: "project_bindings",
            params: &[("project", ParamType::Str)],
            returns: "array",
            doc: "The bindings of `project`'s IAM policy: [#{role, members, conditional}].",
        },
        |args| {
            args.str(0)
                .map(|p| format!("IAM policy of project {p}"))
                .unwrap_or_default()
        },
        |context, args| {
            let project = args.str(0)?.to_string();
            super::secrets::check_project(context, &project)?;
            let policy = context
                .block_on(super::wif::client(context)?.project_policy(&project))?
                .map_err(super::wif::remote)?;
            Ok(super::wif::bindings_array(&policy).into())
        },
    );
    module.read(
        Signature {
            name: "keys_last_used",
            params: &[("project", ParamType::Str)],
            returns: "map",
            doc: "When each service-account key of `project` last obtained a token (Activity Analyzer):\n\
                  #{KEY_ID: \"RFC 3339\"}; a key never used is absent. Google's figure lags by hours.",
        },
        |args| args.str(0).map(|p| format!("key activity of {p}")).unwrap_or_default(),
        |context, args| {
            let project = args.str(0)?.to_string();
            super::secrets::check_project(context, &project)?;
            let used = context
                .block_on(super::wif::client(context)?.keys_last_used(&project))?
                .map_err(super::wif::remote)?;
            Ok(used
                .into_iter()
                .map(|(id, at)| (id.into(), Dynamic::from(at)))
                .collect::<Map>()
                .into())
        },
    );
    super::role_advice::register(super::rotations::register(module))
}
