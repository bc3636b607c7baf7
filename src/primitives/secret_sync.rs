//! `secret_sync::` — what `playbooks/sync_secrets.rhai` reads besides the two stores' own primitives:
//! the `[[sync.secrets]]` mapping (read-only), the export workflow's settings, and the source
//! values of many Secret Manager secrets at once with their fingerprints and versions.
//!
//! Knows nothing of the ledger (that is `ledger::`) and writes nothing.

use std::collections::BTreeMap;

use rhai::{Array, Dynamic, Map};

use super::secrets::{SecretRef, client, reads_failed, remote, resolve, secret_names};
use crate::clients::secret_manager::SecretInfo;
use crate::engine::RunContext;
use crate::engine::gate::{ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::secret::Secret;

/// The export workflow's file name, as `orchestra export-workflow` writes it.
pub const EXPORT_WORKFLOW_FILE: &str = "orchestra-export.yml";

/// How many reads `read_sources` keeps in flight.
const READ_CONCURRENCY: usize = 8;

/// The configured mapping, each secret resolved to its full name.
fn mapping(context: &RunContext) -> Result<Array, PrimitiveError> {
    let mut list = Array::new();
    for (index, entry) in context.config().sync.secrets.iter().enumerate() {
        let secret = resolve(context, &entry.gcp).map_err(|e| {
            PrimitiveError::new(format!("sync.secrets[{index}].gcp: {}", e.message))
        })?;
        let mut map = Map::new();
        map.insert("gcp".into(), secret.name().into());
        map.insert("project".into(), secret.project.clone().into());
        map.insert("secret_id".into(), secret.id.clone().into());
        map.insert("github".into(), entry.github.clone().into());
        map.insert(
            "targets".into(),
            entry
                .targets
                .iter()
                .cloned()
                .map(Dynamic::from)
                .collect::<Array>()
                .into(),
        );
        map.insert(
            "export_repo".into(),
            entry
                .export_repo
                .clone()
                .map_or(Dynamic::UNIT, Dynamic::from),
        );
        list.push(map.into());
    }
    Ok(list)
}

/// Whether a read failure means "there is no value to sync" rather than "the read failed".
fn means_no_value(code: &str) -> bool {
    matches!(code, "NOT_FOUND" | "FAILED_PRECONDITION")
}

fn source(info: Option<&SecretInfo>) -> Map {
    let mut map = Map::new();
    map.insert("exists".into(), info.is_some().into());
    let labelled = info.is_some_and(|i| {
        i.labels
            .iter()
            .any(|(k, v)| k == "managed-by" && v == "orchestra")
    });
    map.insert("managed".into(), labelled.into());
    map.insert("value".into(), Dynamic::UNIT);
    map.insert("fingerprint".into(), Dynamic::UNIT);
    map.insert("version".into(), Dynamic::UNIT);
    let problem = match info {
        Some(_) => Dynamic::UNIT,
        None => "it does not exist in Secret Manager".into(),
    };
    map.insert("problem".into(), problem);
    map
}

/// Reads the value of every secret in `names`: the version its `current` alias points at when
/// there is one, else the latest. One listing per project, then the reads concurrently.
fn read_sources(context: &RunContext, names: &[String]) -> Result<Map, PrimitiveError> {
    let refs: Vec<SecretRef> = names
        .iter()
        .map(|n| resolve(context, n))
        .collect::<Result<_, _>>()?;
    let sm = client(context)?;
    let mut listed: BTreeMap<String, BTreeMap<String, SecretInfo>> = BTreeMap::new();
    for secret in &refs {
        // Regional secrets are listed under their location: a namespace of their own.
        let parent = secret.parent();
        if let std::collections::btree_map::Entry::Vacant(slot) = listed.entry(parent) {
            let secrets = context.block_on(sm.list(slot.key(), ""))?.map_err(remote)?;
            slot.insert(secrets.into_iter().map(|s| (s.id, s.info)).collect());
        }
    }
    let info = |secret: &SecretRef| listed.get(&secret.parent()).and_then(|p| p.get(&secret.id));
    let mut sources: BTreeMap<String, Map> = BTreeMap::new();
    let mut to_read = Vec::new();
    for (name, secret) in names.iter().zip(&refs) {
        let found = info(secret);
        sources.insert(name.clone(), source(found));
        if let Some(found) = found {
            let alias = if found.aliases.iter().any(|(a, _)| a == "current") {
                "current"
            } else {
                "latest"
            };
            to_read.push((name.clone(), secret.version(alias)));
        }
    }
    let bar = super::progress::batch("Secret Manager reads", to_read.len());
    let versions = to_read.iter().map(|(_, v)| v.clone()).collect();
    let outcomes = context.block_on(sm.access_many(versions, READ_CONCURRENCY, bar.ticker()))?;
    bar.finish();
    let key = context.fingerprint_key()?;
    let mut failures = Vec::new();
    for ((name, _), (_, outcome)) in to_read.iter().zip(outcomes) {
        let Some(entry) = sources.get_mut(name) else {
            continue;
        };
        match outcome {
            Ok((data, _)) if data.is_empty() => {
                entry.insert("problem".into(), "its value is empty".into());
            }
            Ok((data, version)) => {
                let secret = Secret::new(data, key);
                entry.insert("fingerprint".into(), secret.fingerprint().to_owned().into());
                entry.insert("version".into(), Dynamic::from_int(version));
                entry.insert("value".into(), Dynamic::from(secret));
            }
            Err(e) if means_no_value(&e.code) => {
                let problem = format!("no readable version ({})", e.code);
                entry.insert("problem".into(), problem.into());
            }
            Err(e) => failures.push(format!("{name} ({e})")),
        }
    }
    reads_failed(&failures, to_read.len())?;
    Ok(sources
        .into_iter()
        .map(|(name, entry)| (name.into(), entry.into()))
        .collect())
}

/// Registers `secret_sync::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "mapping",
            params: &[],
            returns: "array",
            doc: "The [[sync.secrets]] entries of orchestra.toml, read-only: [#{gcp (full name),\n\
                  project, secret_id, github, targets, export_repo}].",
        },
        |context, _| Ok(mapping(context)?.into()),
    );
    module.local(
        Signature {
            name: "export_workflow",
            params: &[],
            returns: "map",
            doc: "The export workflow github-to-gcp dispatches: #{file, ref}.",
        },
        |context, _| {
            let mut map = Map::new();
            map.insert("file".into(), EXPORT_WORKFLOW_FILE.into());
            map.insert(
                "ref".into(),
                context.config().sync.export_ref.clone().into(),
            );
            Ok(map.into())
        },
    );
    module.read(
        Signature {
            name: "read_sources",
            params: &[("secrets", ParamType::Array)],
            returns: "map",
            doc: "The value of each Secret Manager secret in `secrets` (its `current` alias, else\n\
                  latest), read concurrently: #{NAME: #{exists, managed, value: Secret or (),\n\
                  fingerprint, version, problem}}. A missing secret, one with no readable version\n\
                  or an empty value has value () and a `problem`; other failures raise an error.",
        },
        |args| {
            args.any(0)
                .map(|a| {
                    format!(
                        "{} Secret Manager secrets",
                        a.clone().into_array().map_or(0, |a| a.len())
                    )
                })
                .unwrap_or_default()
        },
        |context, args| {
            let names = secret_names(args, 0)?;
            Ok(read_sources(context, &names)?.into())
        },
    );
    module
}
