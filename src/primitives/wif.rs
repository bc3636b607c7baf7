//! `wif::` — Workload Identity Federation for GitHub Actions: pools and providers (read,
//! create, undelete), the project number, the `roles/iam.workloadIdentityUser` binding on a
//! service account (a read-modify-write under the policy's etag), and `verify`, the whole
//! token exchange a workflow makes. The ensure protocols (get, undelete, else create) are in
//! `stdlib/keyless.rhai`, so a plan lists only what would change.
//!
//! Projects must be in `[scope].gcp_projects`, accounts' projects too.

use std::collections::BTreeMap;
use std::sync::Arc;

use rhai::{Dynamic, Map};

use crate::clients::google_error::GoogleError;
use crate::clients::iam::Verification;
use crate::clients::wif::{
    ExchangeRequest, Found, IdTokenSource, Oidc, Policy, Pool, Provider, ProviderSpec, WifClient,
    exchange, id_token,
};
use crate::engine::RunContext;
use crate::engine::gate::{Args, ModuleBuilder, ParamType, PrimitiveError, Signature};

/// The issuer of GitHub Actions ID tokens.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The role that lets a federated identity impersonate a service account.
pub const WORKLOAD_IDENTITY_USER: &str = "roles/iam.workloadIdentityUser";
/// Read-modify-write rounds a binding makes before an etag conflict is final.
const MAX_ETAG_CONFLICTS: u32 = 5;

/// The run's Workload Identity client.
pub(super) fn client(context: &RunContext) -> Result<Arc<WifClient>, PrimitiveError> {
    context
        .remote()
        .wif(context.config(), context.cancellation())
        .map_err(PrimitiveError::new)
}

/// A Google failure as the script sees it.
pub(super) fn remote(error: GoogleError) -> PrimitiveError {
    PrimitiveError::remote(error.to_string(), error.http_status)
}

/// A pool or provider id: 4-32 lowercase letters, digits and hyphens, not `gcp-`.
pub(super) fn checked_id(what: &str, id: &str) -> Result<String, PrimitiveError> {
    let ok = (4..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with("gcp-")
        && !id.starts_with('-')
        && !id.ends_with('-');
    if ok {
        Ok(id.to_owned())
    } else {
        Err(PrimitiveError::new(format!(
            "expected a {what} id of 4 to 32 lowercase letters, digits and hyphens (not starting with gcp-), found '{id}'"
        )))
    }
}

/// A project argument, scope-checked.
pub(super) fn project_arg(
    context: &RunContext,
    args: &Args,
    index: usize,
) -> Result<String, PrimitiveError> {
    let project = args.str(index)?.to_string();
    super::secrets::check_project(context, &project)?;
    Ok(project)
}

/// A provider's full name (`projects/NUMBER/locations/global/workloadIdentityPools/P/providers/X`),
/// checked segment by segment.
fn provider_name(text: &str) -> Result<String, PrimitiveError> {
    let parts: Vec<&str> = text.split('/').collect();
    let valid = matches!(
        parts.as_slice(),
        ["projects", number, "locations", "global", "workloadIdentityPools", pool, "providers", provider]
            if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
                && checked_id("pool", pool).is_ok() && checked_id("provider", provider).is_ok()
    );
    if valid {
        Ok(text.to_owned())
    } else {
        Err(PrimitiveError::new(format!(
            "expected a provider as projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/ID, found '{text}'"
        )))
    }
}

/// A policy's bindings as the script sees them: [#{role, members}].
pub(super) fn bindings_array(policy: &Policy) -> rhai::Array {
    policy
        .bindings
        .iter()
        .map(|b| {
            let mut map = Map::new();
            map.insert("role".into(), b.role.clone().into());
            let members: rhai::Array = b.members.iter().map(|m| m.clone().into()).collect();
            map.insert("members".into(), members.into());
            map.insert("conditional".into(), b.condition.is_some().into());
            Dynamic::from(map)
        })
        .collect()
}

pub(super) fn pool_map(pool: &Pool) -> Map {
    let mut map = Map::new();
    map.insert("name".into(), pool.name.clone().into());
    map.insert("state".into(), pool.state.clone().into());
    map.insert("disabled".into(), pool.disabled.into());
    map
}

pub(super) fn provider_map(provider: &Provider) -> Map {
    let mut map = Map::new();
    map.insert("name".into(), provider.name.clone().into());
    map.insert("state".into(), provider.state.clone().into());
    map.insert("disabled".into(), provider.disabled.into());
    map.insert("issuer".into(), provider.oidc.issuer_uri.clone().into());
    map.insert(
        "condition".into(),
        provider.attribute_condition.clone().into(),
    );
    let mapping: Map = provider
        .attribute_mapping
        .iter()
        .map(|(k, v)| (k.as_str().into(), v.clone().into()))
        .collect();
    map.insert("mapping".into(), mapping.into());
    map
}

fn found_map<T>(found: Found<T>, shown: impl Fn(&T) -> Map) -> Dynamic {
    match found {
        Found::Active(item) | Found::Deleted(item) => shown(&item).into(),
        Found::Missing => Dynamic::UNIT,
    }
}

/// What a provider is created with, from the script's `#{mapping, condition[, issuer,
/// audiences]}`: refused without a mapping of `google.subject` and a condition.
pub(super) fn provider_spec(id: &str, options: &Map) -> Result<ProviderSpec, PrimitiveError> {
    let text = |key: &str| options.get(key).and_then(|v| v.clone().into_string().ok());
    let mapping: BTreeMap<String, String> = options
        .get("mapping")
        .and_then(|m| m.read_lock::<Map>().map(|m| m.clone()))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.into_string().ok().map(|v| (k.to_string(), v)))
        .collect();
    if !mapping.contains_key("google.subject") {
        return Err(PrimitiveError::new(format!(
            "provider {id}: mapping must map google.subject (e.g. \"google.subject\": \"assertion.sub\")"
        )));
    }
    let condition = text("condition").unwrap_or_default();
    if condition.trim().is_empty() {
        return Err(PrimitiveError::new(format!(
            "provider {id}: refusing a provider without a condition: any repository could impersonate through it; set condition, e.g. \"assertion.repository == 'acme/api'\""
        )));
    }
    let audiences = options
        .get("audiences")
        .and_then(|a| a.read_lock::<rhai::Array>().map(|a| a.clone()))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|a| a.into_string().ok())
        .collect();
    Ok(ProviderSpec {
        display_name: text("display_name").unwrap_or_else(|| "GitHub Actions".to_owned()),
        attribute_mapping: mapping,
        attribute_condition: condition,
        oidc: Oidc {
            issuer_uri: text("issuer").unwrap_or_else(|| GITHUB_ISSUER.to_owned()),
            allowed_audiences: audiences,
        },
    })
}

/// Grants `role` to `member` on `account`'s policy: read, add, write with the etag read, again
/// from the read when someone wrote in between. Whether it changed anything.
pub async fn bind(
    wif: &WifClient,
    account: &str,
    role: &str,
    member: &str,
) -> Result<bool, GoogleError> {
    let mut conflicts = 0;
    loop {
        let mut policy: Policy = wif.account_policy(account).await?;
        if !policy.grant(role, member) {
            return Ok(false);
        }
        match wif.set_account_policy(account, &policy).await {
            Ok(_) => return Ok(true),
            Err(e) if e.is_etag_conflict() && conflicts < MAX_ETAG_CONFLICTS => {
                conflicts += 1;
                tracing::info!(
                    "the IAM policy of {account} changed while it was read: reading it again ({conflicts})"
                );
            }
            Err(e) => return Err(e),
        }
    }
}

/// Where `verify` gets the workflow's ID token: the emulator's issuer under `--emulate`, the
/// Actions runtime inside a workflow run of `repo`; otherwise why it cannot.
fn token_source<'a>(
    context: &'a RunContext,
    repo: &str,
    actions: &'a (String, String),
) -> Result<IdTokenSource<'a>, String> {
    if let Some(base) = context.remote().emulator_url() {
        return Ok(IdTokenSource::Emulator(base));
    }
    let running_in = std::env::var("GITHUB_REPOSITORY").unwrap_or_default();
    if actions.0.is_empty() || running_in != repo {
        return Err(format!(
            "no GitHub ID token for {repo}: one is minted only against the emulator (--emulate) or inside a workflow run of {repo} with `permissions: id-token: write`"
        ));
    }
    Ok(IdTokenSource::Actions {
        url: &actions.0,
        bearer: &actions.1,
    })
}

/// The verification of `repo` impersonating `account` through `provider`, as a word.
fn verify(
    context: &RunContext,
    repo: &str,
    provider: &str,
    account: &str,
) -> Result<&'static str, PrimitiveError> {
    let wif = client(context)?;
    let actions = (
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL").unwrap_or_default(),
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN").unwrap_or_default(),
    );
    let outcome = match token_source(context, repo, &actions) {
        Err(why) => Verification::Unknown(why),
        Ok(source) => context.block_on(async {
            let audience = format!("https://iam.googleapis.com/{provider}");
            match id_token(&wif, &source, repo, &audience).await {
                Ok(token) => {
                    let request = ExchangeRequest {
                        provider,
                        account,
                        id_token: &token,
                    };
                    exchange(&wif, &request).await
                }
                Err(outcome) => outcome,
            }
        })?,
    };
    Ok(match outcome {
        Verification::Works => "works",
        Verification::Refused(why) => {
            tracing::warn!("keyless check of {repo} as {account} refused: {why}");
            "refused"
        }
        Verification::Unknown(why) => {
            tracing::warn!("keyless check of {repo} as {account} gave no answer to trust: {why}");
            "unknown"
        }
    })
}

/// Registers `wif::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.read(
        Signature {
            name: "pool",
            params: &[("project", ParamType::Str), ("id", ParamType::Str)],
            returns: "map or ()",
            doc: "Workload Identity pool `id` of `project`: #{name, state (ACTIVE|DELETED), disabled},\n\
                  or () when there is none. A DELETED pool can be undeleted for 30 days.",
        },
        |args| args.str(1).map(|id| format!("pool {id}")).unwrap_or_default(),
        |context, args| {
            let project = project_arg(context, args, 0)?;
            let id = checked_id("pool", &args.str(1)?)?;
            let found = context.block_on(client(context)?.pool(&project, &id))?.map_err(remote)?;
            Ok(found_map(found, pool_map))
        },
    );
    module.read(
        Signature {
            name: "provider",
            params: &[("project", ParamType::Str), ("pool", ParamType::Str), ("id", ParamType::Str)],
            returns: "map or ()",
            doc: "Provider `id` of `pool`: #{name, state, disabled, issuer, condition, mapping}, or ().",
        },
        |args| args.str(2).map(|id| format!("provider {id}")).unwrap_or_default(),
        |context, args| {
            let project = project_arg(context, args, 0)?;
            let pool = checked_id("pool", &args.str(1)?)?;
            let id = checked_id("provider", &args.str(2)?)?;
            let found = context
                .block_on(client(context)?.provider(&project, &pool, &id))?
                .map_err(remote)?;
            Ok(found_map(found, provider_map))
        },
    );
    module.read(
        Signature {
            name: "project_number",
            params: &[("project", ParamType::Str)],
            returns: "string",
            doc: "The number of `project` (principal sets name the number, never the id).",
        },
        |args| {
            args.str(0)
                .map(|p| format!("project {p}"))
                .unwrap_or_default()
        },
        |context, args| {
            let project = project_arg(context, args, 0)?;
            let number = context
                .block_on(client(context)?.project_number(&project))?
                .map_err(remote)?;
            Ok(number.into())
        },
    );
    module.read(
        Signature {
            name: "account_bindings",
            params: &[("account", ParamType::Str)],
            returns: "array",
            doc: "The IAM policy of service account `account` (who may act as it): [#{role, members}].",
        },
        |args| args.str(0).map(|a| format!("IAM policy of {a}")).unwrap_or_default(),
        |context, args| {
            let account = super::iam::checked_account(context, &args.str(0)?)?;
            let policy = context
                .block_on(client(context)?.account_policy(&account))?
                .map_err(remote)?;
            Ok(bindings_array(&policy).into())
        },
    );
    module.read(
        Signature {
            name: "verify",
            params: &[("repo", ParamType::Str), ("provider", ParamType::Str), ("account", ParamType::Str)],
            returns: "string",
            doc: "Whether a workflow of `repo` gets a token of `account` through `provider` (its full\n\
                  name), by the exchange google-github-actions/auth makes: the repository's OIDC ID\n\
                  token to STS, the federated token to generateAccessToken. \"works\", \"refused\" (a\n\
                  service said no) or \"unknown\" (no answer to trust, or no ID token to be had).",
        },
        |args| args.str(0).map(|r| format!("keyless exchange for {r}")).unwrap_or_default(),
        |context, args| {
            let repo = args.str(0)?.to_string();
            super::github::parse_target(&repo)?;
            let provider = provider_name(&args.str(1)?)?;
            let account = super::iam::checked_account(context, &args.str(2)?)?;
            verify(context, &repo, &provider, &account).map(Dynamic::from)
        },
    );
    module.local(
        Signature {
            name: "cloud_run",
            params: &[],
            returns: "map",
            doc: "The desired Cloud Run settings of `[cloud_run]`: #{service, region, cpu, memory,\n\
                  min_instances, max_instances, concurrency}, () for each one not set.",
        },
        |context, _| {
            let run = &context.config().cloud_run;
            let text = |v: &Option<String>| v.clone().map_or(Dynamic::UNIT, Dynamic::from);
            let number = |v: Option<i64>| v.map_or(Dynamic::UNIT, Dynamic::from);
            let mut map = Map::new();
            map.insert("service".into(), text(&run.service));
            map.insert("region".into(), text(&run.region));
            map.insert("cpu".into(), text(&run.cpu));
            map.insert("memory".into(), text(&run.memory));
            map.insert("min_instances".into(), number(run.min_instances));
            map.insert("max_instances".into(), number(run.max_instances));
            map.insert("concurrency".into(), number(run.concurrency));
            Ok(map.into())
        },
    );
    super::wif_changes::register(module)
}
