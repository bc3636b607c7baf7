//! `secrets::` — Google Secret Manager through the official client: read versions as Secrets,
//! add versions (optionally under an alias such as `pending`), move aliases, and disable,
//! enable or destroy versions.
//!
//! A secret is named by its id in the default project (`[gcp].project`), or in full as
//! `projects/PROJECT/secrets/ID`. The project must be in `[scope].gcp_projects`.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map};

use crate::clients::secret_manager::{SecretManager, SecretManagerError};
use crate::engine::RunContext;
use crate::engine::gate::{Args, Change, ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::secret::Secret;

/// How many reads a batch keeps in flight.
const BATCH_CONCURRENCY: usize = 8;

/// A secret's full name, parsed and scope-checked: global (`projects/P/secrets/ID`) or
/// regional (`projects/P/locations/L/secrets/ID`, a namespace of its own).
pub(super) struct SecretRef {
    pub(super) project: String,
    pub(super) location: Option<String>,
    pub(super) id: String,
}

impl SecretRef {
    /// `projects/P` or `projects/P/locations/L`: where the secret is created and listed.
    pub(super) fn parent(&self) -> String {
        match &self.location {
            Some(location) => format!("projects/{}/locations/{location}", self.project),
            None => format!("projects/{}", self.project),
        }
    }

    pub(super) fn name(&self) -> String {
        format!("{}/secrets/{}", self.parent(), self.id)
    }

    pub(super) fn version(&self, version: &str) -> String {
        format!("{}/versions/{version}", self.name())
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub(super) fn resolve(context: &RunContext, text: &str) -> Result<SecretRef, PrimitiveError> {
    let (project, location, id) = match text.strip_prefix("projects/") {
        Some(rest) => match rest.split('/').collect::<Vec<_>>().as_slice() {
            [project, "secrets", id] => ((*project).to_owned(), None, (*id).to_owned()),
            [project, "locations", location, "secrets", id]
                if crate::config::valid_location(location) =>
            {
                (
                    (*project).to_owned(),
                    Some((*location).to_owned()),
                    (*id).to_owned(),
                )
            }
            _ => {
                return Err(PrimitiveError::new(format!(
                    "expected projects/PROJECT/secrets/ID, projects/PROJECT/locations/LOCATION/secrets/ID or a secret id, found '{text}'"
                )));
            }
        },
        None => {
            let project = context.remote().default_project(context.config()).ok_or_else(|| {
                PrimitiveError::new(format!(
                    "'{text}' names no project: set [gcp].project in orchestra.toml or write projects/PROJECT/secrets/{text}"
                ))
            })?;
            (project, None, text.to_owned())
        }
    };
    check_project(context, &project)?;
    if !valid_id(&id) {
        return Err(PrimitiveError::new(format!(
            "a secret id is 1-255 letters, digits, - and _, found '{id}'"
        )));
    }
    Ok(SecretRef {
        project,
        location,
        id,
    })
}

/// Refuses `project` unless it is in `[scope].gcp_projects`.
pub(super) fn check_project(context: &RunContext, project: &str) -> Result<(), PrimitiveError> {
    if context
        .config()
        .scope
        .gcp_projects
        .iter()
        .any(|p| p == project)
    {
        Ok(())
    } else {
        Err(PrimitiveError::new(format!(
            "project {project} is outside the scope: add \"{project}\" to [scope].gcp_projects in orchestra.toml"
        )))
    }
}

/// The default project (`[gcp].project`, or the demo one under `--emulate`), scope-checked.
fn default_project(context: &RunContext) -> Result<String, PrimitiveError> {
    let project = context
        .remote()
        .default_project(context.config())
        .ok_or_else(|| PrimitiveError::new("no project: set [gcp].project in orchestra.toml"))?;
    check_project(context, &project)?;
    Ok(project)
}

pub(super) fn client(context: &RunContext) -> Result<Arc<SecretManager>, PrimitiveError> {
    let runtime = context
        .runtime()
        .ok_or_else(|| PrimitiveError::new("no async runtime in this mode"))?;
    context
        .remote()
        .secret_manager(context.config(), runtime, context.cancellation())
        .map_err(PrimitiveError::new)
}

pub(super) fn remote(error: SecretManagerError) -> PrimitiveError {
    PrimitiveError::remote(error.to_string(), error.http_status)
}

fn version_arg(args: &Args, index: usize) -> Result<String, PrimitiveError> {
    let value = args.any(index)?;
    if let Ok(n) = value.as_int() {
        return Ok(n.to_string());
    }
    let text = args.str(index)?.to_string();
    if text.is_empty()
        || !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(PrimitiveError::new(format!(
            "a version is a number, \"latest\" or an alias, found '{text}'"
        )));
    }
    Ok(text)
}

fn access(
    context: &RunContext,
    secret: &SecretRef,
    version: &str,
) -> Result<Dynamic, PrimitiveError> {
    let sm = client(context)?;
    let (data, _) = context
        .block_on(sm.access(&secret.version(version)))?
        .map_err(remote)?;
    Ok(Dynamic::from(Secret::new(data, context.fingerprint_key()?)))
}

fn add_version(context: &RunContext, args: &Args) -> Result<Dynamic, PrimitiveError> {
    let secret = resolve(context, &args.str(0)?)?;
    let value = args.secret(1)?;
    let options = args.map(2)?;
    let sm = client(context)?;
    let number = context
        .block_on(sm.add_version(&secret.name(), value.expose_for_request()))?
        .map_err(remote)?;
    if let Some(alias) = options.get("alias") {
        let alias = alias.to_string();
        context
            .block_on(sm.set_alias(&secret.name(), &alias, number))?
            .map_err(remote)?;
    }
    Ok(Dynamic::from_int(number))
}

/// Argument `index` as an array of secret names.
pub(super) fn secret_names(args: &Args, index: usize) -> Result<Vec<String>, PrimitiveError> {
    Ok(args
        .any(index)?
        .clone()
        .into_typed_array::<rhai::ImmutableString>()
        .map_err(|_| PrimitiveError::new("expected an array of secret names"))?
        .into_iter()
        .map(|s| s.to_string())
        .collect())
}

/// Fails a batch read when any of its `total` reads failed, listing them.
pub(super) fn reads_failed(failures: &[String], total: usize) -> Result<(), PrimitiveError> {
    if failures.is_empty() {
        return Ok(());
    }
    Err(PrimitiveError::new(format!(
        "{} of {total} reads failed: {}",
        failures.len(),
        failures.join("; ")
    )))
}

fn options_check(options: &Map) -> Result<Option<String>, PrimitiveError> {
    for key in options.keys() {
        if key.as_str() != "alias" {
            return Err(PrimitiveError::new(format!(
                "unknown option `{key}`: expected alias"
            )));
        }
    }
    Ok(options.get("alias").map(|a| a.to_string()))
}

/// managed-by=orchestra and the labels a `create` call adds, checked against Google's rules.
fn create_labels(
    args: &crate::engine::gate::Args,
) -> Result<Vec<(String, String)>, PrimitiveError> {
    let mut labels = vec![("managed-by".to_owned(), "orchestra".to_owned())];
    let Ok(extra) = args.map(1) else {
        return Ok(labels);
    };
    let allowed = |t: &str| {
        t.len() <= 63
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    };
    for (key, value) in extra {
        let value = value.into_string().unwrap_or_default();
        if key.is_empty() || !allowed(&key) || !allowed(&value) || key == "managed-by" {
            return Err(PrimitiveError::new(format!(
                "label {key}={value}: expected lowercase letters, digits, _ and - (up to 63), and not managed-by"
            )));
        }
        labels.push((key.to_string(), value));
    }
    Ok(labels)
}

/// Registers `secrets::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.read(
        Signature {
            name: "access",
            params: &[("secret", ParamType::Str)],
            returns: "Secret",
            doc: "The latest version of `secret` (an id in [gcp].project, or projects/P/secrets/ID), as a Secret.",
        },
        |args| args.str(0).map(|s| format!("secret {s} (latest)")).unwrap_or_default(),
        |context, args| {
            let secret = resolve(context, &args.str(0)?)?;
            access(context, &secret, "latest")
        },
    );
    module.read(
        Signature {
            name: "access",
            params: &[("secret", ParamType::Str), ("version", ParamType::Any)],
            returns: "Secret",
            doc: "Version `version` of `secret` (a number, \"latest\" or an alias such as \"current\"), as a Secret.",
        },
        |args| {
            let version = args.any(1).map(|v| v.to_string()).unwrap_or_default();
            args.str(0).map(|s| format!("secret {s} version {version}")).unwrap_or_default()
        },
        |context, args| {
            let secret = resolve(context, &args.str(0)?)?;
            access(context, &secret, &version_arg(args, 1)?)
        },
    );
    module.read(
        Signature {
            name: "access_many",
            params: &[("secrets", ParamType::Array)],
            returns: "map",
            doc: "The latest version of each secret in `secrets`, read concurrently: #{NAME: Secret}.\n\
                  Any failure raises an error listing them.",
        },
        |args| args.any(0).map(|a| format!("{} secrets", a.to_string().matches(',').count() + 1)).unwrap_or_default(),
        |context, args| {
            let texts = secret_names(args, 0)?;
            let refs: Vec<SecretRef> = texts.iter().map(|t| resolve(context, t)).collect::<Result<_, _>>()?;
            let sm = client(context)?;
            let bar = super::progress::batch("Secret Manager reads", refs.len());
            let names = refs.iter().map(|r| r.version("latest")).collect();
            let outcomes = context.block_on(sm.access_many(names, BATCH_CONCURRENCY, bar.ticker()))?;
            bar.finish();
            let key = context.fingerprint_key()?;
            let mut map = Map::new();
            let mut failures = Vec::new();
            for (text, (_, outcome)) in texts.iter().zip(outcomes) {
                match outcome {
                    Ok((data, _)) => {
                        map.insert(text.as_str().into(), Dynamic::from(Secret::new(data, key)));
                    }
                    Err(e) => failures.push(format!("{text} ({e})")),
                }
            }
            reads_failed(&failures, texts.len())?;
            Ok(map.into())
        },
    );
    module.read(
        Signature {
            name: "list",
            params: &[("filter", ParamType::Str)],
            returns: "array",
            doc: "The secrets of [gcp].project matching `filter` (Secret Manager's syntax, e.g.\n\
                  \"labels.managed-by=orchestra\"; \"\" for all): [#{id, labels}].",
        },
        |args| {
            args.str(0)
                .map(|f| format!("secrets matching '{f}'"))
                .unwrap_or_default()
        },
        |context, args| {
            let project = default_project(context)?;
            let sm = client(context)?;
            let listed = context
                .block_on(sm.list(&project, &args.str(0)?))?
                .map_err(remote)?;
            let list: Array = listed
                .into_iter()
                .map(|listed| {
                    let mut map = Map::new();
                    map.insert("id".into(), listed.id.into());
                    map.insert(
                        "labels".into(),
                        listed
                            .info
                            .labels
                            .into_iter()
                            .map(|(k, v)| (k.into(), Dynamic::from(v)))
                            .collect::<Map>()
                            .into(),
                    );
                    Dynamic::from(map)
                })
                .collect();
            Ok(list.into())
        },
    );
    module.read(
        Signature {
            name: "versions",
            params: &[("secret", ParamType::Str)],
            returns: "array",
            doc: "Every version of `secret`, newest first: [#{version, state, created}].",
        },
        |args| {
            args.str(0)
                .map(|s| format!("versions of secret {s}"))
                .unwrap_or_default()
        },
        |context, args| {
            let secret = resolve(context, &args.str(0)?)?;
            let sm = client(context)?;
            let versions = context
                .block_on(sm.versions(&secret.name()))?
                .map_err(remote)?;
            let list: Array = versions
                .into_iter()
                .map(|v| {
                    let mut map = Map::new();
                    map.insert("version".into(), Dynamic::from_int(v.number));
                    map.insert("state".into(), v.state.into());
                    map.insert("created".into(), v.create_time.into());
                    Dynamic::from(map)
                })
                .collect();
            Ok(list.into())
        },
    );
    module.read(
        Signature {
            name: "aliases",
            params: &[("secret", ParamType::Str)],
            returns: "map",
            doc: "The aliases of `secret` and the versions they point at: #{current: 3, pending: 4}.",
        },
        |args| args.str(0).map(|s| format!("aliases of secret {s}")).unwrap_or_default(),
        |context, args| {
            let secret = resolve(context, &args.str(0)?)?;
            let sm = client(context)?;
            let info = context.block_on(sm.get(&secret.name()))?.map_err(remote)?;
            Ok(info
                .aliases
                .into_iter()
                .map(|(k, v)| (k.into(), Dynamic::from_int(v)))
                .collect::<Map>()
                .into())
        },
    );
    for (params, doc) in [
        (
            &[("secret", ParamType::Str)][..],
            "Creates `secret` (automatic replication) labelled managed-by=orchestra.",
        ),
        (
            &[("secret", ParamType::Str), ("labels", ParamType::Map)][..],
            "Creates `secret` labelled managed-by=orchestra and with `labels` (Google's label\n\
             rules: lowercase letters, digits, _ and -, up to 63 characters).",
        ),
    ] {
        module.mutate(
            Signature {
                name: "create",
                params,
                returns: "()",
                doc,
            },
            |context, args| {
                let secret = resolve(context, &args.str(0)?)?;
                let labels = create_labels(args)?;
                let shown: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                Ok(Change {
                    target: format!("Secret Manager secret {}", secret.name()),
                    action: format!("create Secret Manager secret {}", secret.name()),
                    fields: vec![("labels".into(), shown.join(","))],
                    placeholder: Dynamic::UNIT,
                })
            },
            |context, args, _| {
                let secret = resolve(context, &args.str(0)?)?;
                let labels = create_labels(args)?;
                let sm = client(context)?;
                context
                    .block_on(sm.create(&secret.parent(), &secret.id, &labels))?
                    .map_err(remote)?;
                Ok(Dynamic::UNIT)
            },
        );
    }
    module.mutate(
        Signature {
            name: "add_version",
            params: &[("secret", ParamType::Str), ("value", ParamType::Secret), ("options", ParamType::Map)],
            returns: "int",
            doc: "Adds `value` as a new version of `secret`; returns its number. Options: alias (point\n\
                  this alias, e.g. \"pending\", at the new version).",
        },
        |context, args| {
            let secret = resolve(context, &args.str(0)?)?;
            let value = args.secret(1)?;
            if value.is_empty() {
                return Err(PrimitiveError::new("refusing to add an empty version"));
            }
            let alias = options_check(&args.map(2)?)?;
            let mut fields = vec![("value".into(), value.redacted())];
            if let Some(alias) = alias {
                fields.push(("alias".into(), alias));
            }
            Ok(Change {
                target: format!("Secret Manager secret {}", secret.name()),
                action: format!("add a version to {}", secret.name()),
                fields,
                placeholder: Dynamic::from_int(super::secrets_versions::PLANNED_VERSION),
            })
        },
        |context, args, _| add_version(context, args),
    );
    super::secrets_versions::register(module)
}
