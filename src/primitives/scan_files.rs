//! The `scan::` functions that change files: `placeholder` (what a rewrite would be, or why
//! it is a hand edit), `rewrite` (the value replaced by a placeholder reading the environment)
//! and `ensure_line` (a line added to `.env.example` or `.gitignore` once). Writes are atomic
//! (temporary file, then rename) and journaled; a plan shows each rewrite as a diff whose
//! removed line carries the masked preview, never the value. Registered into `scan`.

use std::path::Path;

use rhai::{Dynamic, Map};

use super::scan::{confined_root, finding_of, recovered};
use crate::engine::RunContext;
use crate::engine::gate::{Change, ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::scan::atomic;
use crate::scan::placeholder::{FileKind, HandEdit, rewrite};
use crate::scan::{Finding, value::SERVICE_ACCOUNT_KEY_RULE};
use crate::secret::ServiceAccountKey;

/// What rewriting one finding comes to.
enum Plan {
    /// The new text, and the diff a person reads.
    Rewrite { text: String, diff: String },
    /// The file no longer holds the value, and reads the variable: nothing to do.
    Done,
    /// Left for a hand edit, with why.
    ByHand(String),
}

fn env_name(name: &str) -> Result<String, PrimitiveError> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(name.to_owned())
    } else {
        Err(PrimitiveError::new(format!(
            "expected an environment variable name (letters, digits and _), found '{name}'"
        )))
    }
}

/// Lines that differ between `old` and `new`, as `-`/`+` lines under an `@@ line N @@` header.
fn diff(file: &str, old: &str, new: &str) -> String {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let head = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = format!("--- {file}\n+++ {file}\n@@ line {} @@\n", head + 1);
    for line in &old[head..old.len() - tail] {
        out.push_str(&format!("-{line}\n"));
    }
    for line in &new[head..new.len() - tail] {
        out.push_str(&format!("+{line}\n"));
    }
    out
}

fn plan(
    context: &RunContext,
    root: &Path,
    finding: &Finding,
    env: &str,
) -> Result<Plan, PrimitiveError> {
    let kind = FileKind::of(&finding.file);
    let Some(found) = recovered(context, root, finding)? else {
        let now = std::fs::read_to_string(root.join(&finding.file)).unwrap_or_default();
        return if now.contains(env) {
            Ok(Plan::Done)
        } else {
            Err(PrimitiveError::new(format!(
                "{} no longer holds the {} found at line {}, and does not read {env} either",
                finding.file, finding.rule, finding.line
            )))
        };
    };
    if finding.rule == SERVICE_ACCOUNT_KEY_RULE && ServiceAccountKey::parse(&found.value).is_ok() {
        return Ok(Plan::ByHand(
            "the whole file is a service-account key file: delete it and give its consumers the key from Secret Manager".into(),
        ));
    }
    match rewrite(&found.text, &found.range, kind, env) {
        Ok(text) => {
            let masked = format!(
                "{}{}{}",
                &found.text[..found.range.start],
                finding.preview,
                &found.text[found.range.end..]
            );
            let diff = diff(&finding.file, &masked, &text);
            Ok(Plan::Rewrite { text, diff })
        }
        Err(HandEdit(reason)) => Ok(Plan::ByHand(reason)),
    }
}

fn outcome(file: &str, status: &str, detail: &str) -> Dynamic {
    let mut map = Map::new();
    map.insert("file".into(), file.into());
    map.insert("status".into(), status.into());
    map.insert(
        if status == "hand_edit" {
            "reason"
        } else {
            "diff"
        }
        .into(),
        detail.into(),
    );
    map.into()
}

/// Registers the file-changing functions of `scan::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "placeholder",
            params: &[("finding", ParamType::Map), ("env", ParamType::Str)],
            returns: "map",
            doc: "What scan::rewrite would do to a finding's file: #{file, status: \"rewrite\",\n\
                  diff} | #{status: \"done\"} (already reads `env`) | #{status: \"hand_edit\", reason}.",
        },
        |context, args| {
            let (root, finding) = finding_of(context, &args.map(0)?)?;
            let env = env_name(&args.str(1)?)?;
            Ok(match plan(context, &root, &finding, &env)? {
                Plan::Rewrite { diff, .. } => outcome(&finding.file, "rewrite", &diff),
                Plan::Done => outcome(&finding.file, "done", ""),
                Plan::ByHand(reason) => outcome(&finding.file, "hand_edit", &reason),
            })
        },
    );
    module.mutate(
        Signature {
            name: "rewrite",
            params: &[("finding", ParamType::Map), ("env", ParamType::Str)],
            returns: "map",
            doc: "Replaces a finding's value in its file by a placeholder that reads environment\n\
                  variable `env` (atomic: temporary file, then rename): #{file, status:\n\
                  \"rewritten\"|\"done\", diff}. Fails for a hand edit (see scan::placeholder).",
        },
        |context, args| {
            let (root, finding) = finding_of(context, &args.map(0)?)?;
            let env = env_name(&args.str(1)?)?;
            let (action, diff) = match plan(context, &root, &finding, &env)? {
                Plan::Rewrite { diff, .. } => (
                    format!(
                        "rewrite {} to read {env} from the environment",
                        finding.file
                    ),
                    diff,
                ),
                Plan::Done => (
                    format!("leave {} (it reads {env} already)", finding.file),
                    String::new(),
                ),
                Plan::ByHand(reason) => {
                    return Err(PrimitiveError::new(format!(
                        "{} needs a hand edit: {reason}",
                        finding.file
                    )));
                }
            };
            Ok(Change {
                target: format!("file {}", finding.file),
                action,
                fields: vec![("diff".into(), diff.clone())],
                placeholder: outcome(&finding.file, "planned", &diff),
            })
        },
        |context, args, _| {
            let (root, finding) = finding_of(context, &args.map(0)?)?;
            let env = env_name(&args.str(1)?)?;
            match plan(context, &root, &finding, &env)? {
                Plan::Rewrite { text, diff } => {
                    atomic::write(&root.join(&finding.file), &text)
                        .map_err(|e| PrimitiveError::new(e.to_string()))?;
                    Ok(outcome(&finding.file, "rewritten", &diff))
                }
                Plan::Done => Ok(outcome(&finding.file, "done", "")),
                Plan::ByHand(reason) => Err(PrimitiveError::new(format!(
                    "{} needs a hand edit: {reason}",
                    finding.file
                ))),
            }
        },
    );
    module.mutate(
        Signature {
            name: "ensure_line",
            params: &[("path", ParamType::Str), ("line", ParamType::Str)],
            returns: "bool",
            doc: "Adds `line` to the file at `path` (inside the project; made if missing) unless a\n\
                  line of it already reads so; whether it was added. For .env.example, .gitignore.",
        },
        |context, args| {
            let (path, line) = line_target(context, &args.str(0)?, &args.str(1)?)?;
            let present = has_line(&path, &line);
            Ok(Change {
                target: format!("file {}", args.str(0)?),
                action: if present {
                    format!("leave {} (it has the line {line})", args.str(0)?)
                } else {
                    format!("add the line {line} to {}", args.str(0)?)
                },
                fields: Vec::new(),
                placeholder: (!present).into(),
            })
        },
        |context, args, _| {
            let (path, line) = line_target(context, &args.str(0)?, &args.str(1)?)?;
            if has_line(&path, &line) {
                return Ok(false.into());
            }
            let mut text = std::fs::read_to_string(&path).unwrap_or_default();
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&line);
            text.push('\n');
            atomic::write(&path, &text).map_err(|e| PrimitiveError::new(e.to_string()))?;
            Ok(true.into())
        },
    );
    module
}

fn line_target(
    context: &RunContext,
    path: &str,
    line: &str,
) -> Result<(std::path::PathBuf, String), PrimitiveError> {
    if line.contains('\n') || line.trim().is_empty() {
        return Err(PrimitiveError::new(
            "expected one non-empty line, without a newline",
        ));
    }
    let relative = Path::new(path);
    let (Some(parent), Some(name)) = (relative.parent(), relative.file_name()) else {
        return Err(PrimitiveError::new(format!(
            "expected a file path, found '{path}'"
        )));
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let folder = confined_root(context, &parent.to_string_lossy())?;
    Ok((folder.join(name), line.trim_end().to_owned()))
}

fn has_line(path: &Path, line: &str) -> bool {
    std::fs::read_to_string(path)
        .map(|text| text.lines().any(|l| l.trim_end() == line))
        .unwrap_or(false)
}
