//! The changes of `wif::`: pools and providers created or undeleted (each operation polled to
//! done), and the `roles/iam.workloadIdentityUser` binding. Each is planned ("would …") and
//! journaled by the gate; `stdlib/keyless.rhai` calls them only when a read says they are
//! needed.

use rhai::{Dynamic, Map};

use super::wif::{
    WORKLOAD_IDENTITY_USER, bind, checked_id, client, pool_map, project_arg, provider_map,
    provider_spec, remote,
};
use crate::engine::gate::{Change, ModuleBuilder, ParamType, PrimitiveError, Signature};

/// A member the binding may name: a federated principal (set), never a user or `allUsers`.
fn checked_member(member: &str) -> Result<String, PrimitiveError> {
    let federated = [
        "principalSet://iam.googleapis.com/",
        "principal://iam.googleapis.com/",
    ]
    .iter()
    .any(|p| member.starts_with(p))
        && !member.chars().any(char::is_whitespace);
    if federated {
        Ok(member.to_owned())
    } else {
        Err(PrimitiveError::new(format!(
            "expected a federated member (principalSet://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/attribute.repository/OWNER/REPO), found '{member}'"
        )))
    }
}

/// The (project, pool, provider) arguments, checked.
fn provider_args(
    context: &crate::engine::RunContext,
    args: &crate::engine::gate::Args,
) -> Result<(String, String, String), PrimitiveError> {
    Ok((
        project_arg(context, args, 0)?,
        checked_id("pool", &args.str(1)?)?,
        checked_id("provider", &args.str(2)?)?,
    ))
}

fn planned(name: String) -> Dynamic {
    let mut map = Map::new();
    map.insert("name".into(), name.into());
    map.insert("state".into(), "ACTIVE".into());
    map.into()
}

/// Registers the changes of `wif::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    for (name, undelete) in [("create_pool", false), ("undelete_pool", true)] {
        module.mutate(
            Signature {
                name,
                params: &[("project", ParamType::Str), ("id", ParamType::Str)],
                returns: "map",
                doc: if undelete {
                    "Undeletes soft-deleted pool `id`; the pool once the operation is done."
                } else {
                    "Creates Workload Identity pool `id` in `project`; the pool once the operation\n\
                     is done. Fails if it exists (also soft-deleted: undelete it instead)."
                },
            },
            move |context, args| {
                let project = project_arg(context, args, 0)?;
                let id = checked_id("pool", &args.str(1)?)?;
                let verb = if undelete { "undelete" } else { "create" };
                Ok(Change {
                    target: format!("pool {id} of {project}"),
                    action: format!("{verb} Workload Identity pool {id} in {project}"),
                    fields: Vec::new(),
                    placeholder: planned(format!("projects/{project}/locations/global/workloadIdentityPools/{id}")),
                })
            },
            move |context, args, _| {
                let project = project_arg(context, args, 0)?;
                let id = checked_id("pool", &args.str(1)?)?;
                let wif = client(context)?;
                let pool = if undelete {
                    context.block_on(wif.undelete_pool(&project, &id))?
                } else {
                    context.block_on(wif.create_pool(&project, &id, "GitHub Actions"))?
                }
                .map_err(remote)?;
                Ok(pool_map(&pool).into())
            },
        );
    }
    module.mutate(
        Signature {
            name: "create_provider",
            params: &[
                ("project", ParamType::Str),
                ("pool", ParamType::Str),
                ("id", ParamType::Str),
                ("options", ParamType::Map),
            ],
            returns: "map",
            doc: "Creates OIDC provider `id` in `pool` from #{mapping, condition[, issuer, audiences,\n\
                  display_name]} (issuer: GitHub Actions'); refused without a google.subject\n\
                  mapping and a condition. The provider once the operation is done.",
        },
        |context, args| {
            let (project, pool, id) = provider_args(context, args)?;
            let spec = provider_spec(&id, &args.map(3)?)?;
            Ok(Change {
                target: format!("provider {id} of pool {pool}"),
                action: format!("create provider {id} in pool {pool} of {project}"),
                fields: vec![
                    ("issuer".into(), spec.oidc.issuer_uri.clone()),
                    ("condition".into(), spec.attribute_condition.clone()),
                ],
                placeholder: planned(format!(
                    "projects/{project}/locations/global/workloadIdentityPools/{pool}/providers/{id}"
                )),
            })
        },
        |context, args, _| {
            let (project, pool, id) = provider_args(context, args)?;
            let spec = provider_spec(&id, &args.map(3)?)?;
            let provider = context
                .block_on(client(context)?.create_provider(&project, &pool, &id, &spec))?
                .map_err(remote)?;
            Ok(provider_map(&provider).into())
        },
    );
    module.mutate(
        Signature {
            name: "undelete_provider",
            params: &[("project", ParamType::Str), ("pool", ParamType::Str), ("id", ParamType::Str)],
            returns: "map",
            doc: "Undeletes soft-deleted provider `id` of `pool`; the provider once done.",
        },
        |context, args| {
            let (project, pool, id) = provider_args(context, args)?;
            Ok(Change {
                target: format!("provider {id} of pool {pool}"),
                action: format!("undelete provider {id} in pool {pool} of {project}"),
                fields: Vec::new(),
                placeholder: planned(format!(
                    "projects/{project}/locations/global/workloadIdentityPools/{pool}/providers/{id}"
                )),
            })
        },
        |context, args, _| {
            let (project, pool, id) = provider_args(context, args)?;
            let provider = context
                .block_on(client(context)?.undelete_provider(&project, &pool, &id))?
                .map_err(remote)?;
            Ok(provider_map(&provider).into())
        },
    );
    module.mutate(
        Signature {
            name: "bind_workload_identity_user",
            params: &[("account", ParamType::Str), ("member", ParamType::Str)],
            returns: "bool",
            doc: "Grants roles/iam.workloadIdentityUser on service account `account` to `member` (a\n\
                  principalSet:// of a repository): a read-modify-write of the account's IAM policy\n\
                  under its etag, read again when someone wrote in between. False if already bound.",
        },
        |context, args| {
            let account = super::iam::checked_account(context, &args.str(0)?)?;
            let member = checked_member(&args.str(1)?)?;
            Ok(Change {
                target: format!("IAM policy of {account}"),
                action: format!("grant {WORKLOAD_IDENTITY_USER} on {account}"),
                fields: vec![("member".into(), member)],
                placeholder: Dynamic::TRUE,
            })
        },
        |context, args, _| {
            let account = super::iam::checked_account(context, &args.str(0)?)?;
            let member = checked_member(&args.str(1)?)?;
            let wif = client(context)?;
            let changed = context
                .block_on(bind(&wif, &account, WORKLOAD_IDENTITY_USER, &member))?
                .map_err(remote)?;
            Ok(changed.into())
        },
    );
    module
}
