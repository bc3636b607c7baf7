//! `scan::` — the credential scanner for playbooks: `tree` and `history` return findings as
//! maps without values (rule, place, masked preview, keyed fingerprint, what the issuer said,
//! and the secret and variable names the finding would move to); `value` hands a finding's
//! value over as an opaque `Secret`, for `secrets::` and the like. File rewrites are in
//! `scan_files.rs`.
//!
//! Every path is confined to the project folder (the one orchestra.toml is in), and the state
//! folder is never scanned.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rhai::{Array, Dynamic, Map};

use crate::engine::RunContext;
use crate::engine::gate::{ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::engine::values::{from_json, to_json};
use crate::scan::placeholder::{FileKind, names, variable_at};
use crate::scan::value::{self, Origin, Recovered, SERVICE_ACCOUNT_KEY_RULE};
use crate::scan::{Finding, Matcher, RuleSet, git, verify, walker};
use crate::secret::{Secret, ServiceAccountKey};

/// The scanned root `path` names, inside the project folder.
pub(super) fn confined_root(context: &RunContext, path: &str) -> Result<PathBuf, PrimitiveError> {
    let config = context.config();
    let project = std::fs::canonicalize(&config.base_dir).map_err(|e| {
        PrimitiveError::new(format!(
            "cannot read the project folder {}: {e}",
            config.base_dir.display()
        ))
    })?;
    let root = std::fs::canonicalize(config.resolve(Path::new(path)))
        .map_err(|e| PrimitiveError::new(format!("cannot scan '{path}': {e}")))?;
    if !root.starts_with(&project) {
        return Err(PrimitiveError::new(format!(
            "'{path}' is outside the project folder {}: scan:: reads only below it",
            project.display()
        )));
    }
    Ok(root)
}

pub(super) fn matcher(context: &RunContext) -> Result<Matcher, PrimitiveError> {
    let key = context.fingerprint_key().map_err(PrimitiveError::new)?;
    let rules = RuleSet::from_config(context.config()).map_err(|e| e.to_string())?;
    Matcher::new(rules, Arc::new(key.clone())).map_err(|e| PrimitiveError::new(e.to_string()))
}

/// The finding a script hands back (a map `tree` returned) and the root it is under.
pub(super) fn finding_of(
    context: &RunContext,
    map: &Map,
) -> Result<(PathBuf, Finding), PrimitiveError> {
    let root = map
        .get("root")
        .and_then(|r| r.clone().into_string().ok())
        .ok_or_else(|| PrimitiveError::new("expected a finding from scan::tree (no root)"))?;
    let root = confined_root(context, &root)?;
    let json = to_json(&Dynamic::from_map(map.clone()), "finding")
        .map_err(|e| PrimitiveError::new(e.to_string()))?;
    let finding: Finding = serde_json::from_value(json).map_err(|e| {
        PrimitiveError::new(format!(
            "expected a finding from scan::tree (rule, file, line, column, preview, fingerprint): {e}"
        ))
    })?;
    if finding.file.split('/').any(|s| s == "..") {
        return Err(PrimitiveError::new(format!(
            "finding file '{}' leaves its root",
            finding.file
        )));
    }
    Ok((root, finding))
}

/// `finding`'s value found again under `root`, or an error saying it is gone.
pub(super) fn recovered(
    context: &RunContext,
    root: &Path,
    finding: &Finding,
) -> Result<Option<Recovered>, PrimitiveError> {
    let matcher = matcher(context)?;
    let key = context.fingerprint_key().map_err(PrimitiveError::new)?;
    let origin = if finding.commit.is_some() {
        Origin::History
    } else {
        Origin::Tree
    };
    value::recover(root, origin, &matcher, key, finding)
        .map_err(|e| PrimitiveError::new(e.to_string()))
}

/// A finding as the script sees it: its fields, the root, the file's kind, the variable it is
/// assigned to, the names it would move to, and a key file's account and key id.
fn finding_map(root: &Path, finding: &Finding, found: Option<&Recovered>) -> Map {
    let json = serde_json::to_value(finding).unwrap_or_default();
    let mut map = from_json(&json).cast::<Map>();
    map.insert("root".into(), root.display().to_string().into());
    map.insert("kind".into(), FileKind::of(&finding.file).as_str().into());
    let variable = found.and_then(|f| variable_at(&f.text, &f.range));
    let (secret_name, env_name) = names(&finding.file, variable.as_deref(), &finding.rule);
    map.insert(
        "variable".into(),
        variable.map_or(Dynamic::UNIT, Dynamic::from),
    );
    map.insert("secret_name".into(), secret_name.into());
    map.insert("env_name".into(), env_name.into());
    if !map.contains_key("commit") {
        map.insert("commit".into(), Dynamic::UNIT);
    }
    if !map.contains_key("verification") {
        map.insert("verification".into(), Dynamic::UNIT);
    }
    let key_file = found
        .filter(|_| finding.rule == SERVICE_ACCOUNT_KEY_RULE)
        .and_then(|f| ServiceAccountKey::parse(&f.value).ok());
    map.insert("key_file".into(), key_file.is_some().into());
    if let Some(key) = key_file {
        map.insert("account".into(), key.client_email.into());
        map.insert("key_id".into(), key.private_key_id.into());
    }
    map
}

/// Scans `root` (the tree, or its history), verifying when asked.
fn scan(
    context: &RunContext,
    root: &Path,
    history: bool,
    verify_them: bool,
) -> Result<Array, PrimitiveError> {
    let matcher = matcher(context)?;
    let config = context.config();
    let state_dir = config
        .resolve(&config.paths.state_db)
        .parent()
        .map(Path::to_path_buf);
    let (mut findings, _) = if history {
        git::scan_history(root, &matcher, None)
    } else {
        walker::scan_tree(
            root,
            &matcher,
            config.scan.max_file_size,
            state_dir.as_slice(),
        )
    }
    .map_err(|e| PrimitiveError::new(e.to_string()))?;
    let key = context.fingerprint_key().map_err(PrimitiveError::new)?;
    let origin = if history {
        Origin::History
    } else {
        Origin::Tree
    };
    let found: Vec<Option<Recovered>> = findings
        .iter()
        .map(|f| value::recover(root, origin, &matcher, key, f))
        .collect::<Result<_, _>>()
        .map_err(|e| PrimitiveError::new(e.to_string()))?;
    if verify_them {
        let runtime = context
            .runtime()
            .cloned()
            .ok_or_else(|| PrimitiveError::new("no async runtime in this mode"))?;
        let verifier = context.remote().scan_verifier(
            config,
            Arc::new(key.clone()),
            &runtime,
            context.cancellation(),
        );
        let (indices, work): (Vec<usize>, Vec<(String, Secret)>) = found
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                f.as_ref()
                    .map(|f| (i, (findings[i].rule.clone(), f.value.clone())))
            })
            .unzip();
        let verdicts = context.block_on(verify::verify_all(Arc::new(verifier), work))?;
        for (index, verdict) in indices.into_iter().zip(verdicts) {
            findings[index].verification = Some(verdict);
        }
    }
    Ok(findings
        .iter()
        .zip(&found)
        .map(|(f, r)| Dynamic::from_map(finding_map(root, f, r.as_ref())))
        .collect())
}

fn verify_option(opts: &Map) -> bool {
    opts.get("verify")
        .and_then(|v| v.as_bool().ok())
        .unwrap_or(false)
}

/// Registers `scan::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.read(
        Signature {
            name: "tree",
            params: &[("path", ParamType::Str), ("opts", ParamType::Map)],
            returns: "array",
            doc: "Scans the working tree at `path` (inside the project): an array of findings\n\
                  #{root, file, line, column, rule, preview, fingerprint, kind, variable,\n\
                  secret_name, env_name, key_file, account, key_id, verification}, no values.\n\
                  opts: #{verify: true} asks each issuer (verification: #{outcome: \"live\"|\n\
                  \"refused\"|\"unknown\", detail, owner, scopes, key_in_iam}).",
        },
        |args| {
            args.str(0)
                .map(|p| format!("files under {p}"))
                .unwrap_or_default()
        },
        |context, args| {
            let root = confined_root(context, &args.str(0)?)?;
            scan(context, &root, false, verify_option(&args.map(1)?)).map(Dynamic::from_array)
        },
    );
    module.read(
        Signature {
            name: "history",
            params: &[("path", ParamType::Str)],
            returns: "array",
            doc: "Scans the lines every commit of the repository at `path` added: findings as\n\
                  scan::tree gives them, each with its commit.",
        },
        |args| {
            args.str(0)
                .map(|p| format!("git history of {p}"))
                .unwrap_or_default()
        },
        |context, args| {
            let root = confined_root(context, &args.str(0)?)?;
            scan(context, &root, true, false).map(Dynamic::from_array)
        },
    );
    module.local(
        Signature {
            name: "value",
            params: &[("finding", ParamType::Map)],
            returns: "Secret",
            doc: "The value of a finding from scan::tree, as a Secret (a service-account key:\n\
                  the whole key file). Fails when the file no longer holds it.",
        },
        |context, args| {
            let (root, finding) = finding_of(context, &args.map(0)?)?;
            match recovered(context, &root, &finding)? {
                Some(found) => Ok(Dynamic::from(found.value)),
                None => Err(PrimitiveError::new(format!(
                    "{}:{} no longer holds the {} it was found with",
                    finding.file, finding.line, finding.rule
                ))),
            }
        },
    );
    module
}
