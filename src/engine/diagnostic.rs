//! Errors that point at the script: file, line, column, a snippet with a caret, and for an
//! error inside a module, the chain of calls back to the playbook line.
//!
//! Rhai's positions carry no file name; the host knows which file each position belongs to by
//! following the `ErrorInFunctionCall` / `ErrorInModule` wrappers from the playbook inwards.

use std::path::Path;

use miette::{NamedSource, SourceSpan};
use rhai::{Dynamic, EvalAltResult, ParseError, ParseErrorType, Position};

use serde::Serialize;

use crate::config::Limits;
use crate::secret::Secret;

/// A diagnostic about a script, ready for miette to render.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic, Serialize)]
#[error("{message}")]
pub struct ScriptDiagnostic {
    /// What went wrong.
    pub message: String,
    /// The file, as shown.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The calls that led here, innermost first: `called from playbooks/x.rhai:10:5 (stage)`.
    pub chain: Vec<String>,
    /// A suggestion, when there is an obvious fix.
    #[help]
    pub help: Option<String>,
    #[source_code]
    #[serde(skip)]
    source_code: Option<NamedSource<String>>,
    #[label("{label}")]
    #[serde(skip)]
    span: Option<SourceSpan>,
    #[serde(skip)]
    label: String,
}

impl ScriptDiagnostic {
    /// A diagnostic at `pos` in `file` (whose text is read again for the snippet).
    pub fn at(file: &str, text: Option<&str>, pos: Position, message: String, label: &str) -> Self {
        let text = text
            .map(str::to_owned)
            .or_else(|| std::fs::read_to_string(Path::new(file)).ok());
        let (line, column) = (pos.line(), pos.position());
        let span = match (&text, line) {
            (Some(text), Some(line)) => Some(span_at(text, line, column.unwrap_or(1))),
            _ => None,
        };
        Self {
            message,
            file: file.to_owned(),
            line,
            column,
            chain: Vec::new(),
            help: None,
            source_code: text.map(|t| NamedSource::new(file, t)),
            span,
            label: label.to_owned(),
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:col`, or as much of it as is known.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }

    /// One line for logs and the run record: `file:line:col: message`, then the chain.
    pub fn one_line(&self) -> String {
        let mut text = format!("{}: {}", self.location(), self.message);
        for frame in &self.chain {
            text.push_str("; ");
            text.push_str(frame);
        }
        text
    }

    fn push_chain(&mut self) {
        if self.chain.is_empty() {
            return;
        }
        let chain = self.chain.join("\n");
        self.help = Some(match self.help.take() {
            Some(help) => format!("{chain}\n{help}"),
            None => chain,
        });
    }
}

/// Byte span of the token at 1-based `line`, `column`.
fn span_at(text: &str, line: usize, column: usize) -> SourceSpan {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_offset: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            let start = offset + col_offset;
            let rest = &l[col_offset.min(l.len())..];
            let len = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .map(char::len_utf8)
                .sum::<usize>()
                .max(1);
            return SourceSpan::new(start.into(), len.min(rest.trim_end().len().max(1)));
        }
        offset += l.len();
    }
    SourceSpan::new(text.len().saturating_sub(1).into(), 0)
}

/// A compile error in `file`.
pub fn from_parse_error(file: &str, text: &str, err: &ParseError) -> ScriptDiagnostic {
    let kind = err.err_type();
    let (message, help) = describe_parse_error(kind);
    let diagnostic = ScriptDiagnostic::at(file, Some(text), err.position(), message, "here");
    match help {
        Some(help) => diagnostic.with_help(help),
        None => diagnostic,
    }
}

fn describe_parse_error(kind: &ParseErrorType) -> (String, Option<String>) {
    match kind {
        ParseErrorType::BadInput(rhai::LexError::ImproperSymbol(word, _)) if word == "eval" => (
            "`eval` is disabled in playbooks".to_owned(),
            Some("playbooks cannot run code built at run time; call a function instead".into()),
        ),
        ParseErrorType::VariableUndefined(name) => (
            format!("undefined variable `{name}`"),
            Some("declare it with `let` first; playbook arguments are in `args`".into()),
        ),
        other => (format!("syntax error: {other}"), None),
    }
}

/// A runtime error raised while running `playbook` (shown as `playbook_shown`).
pub fn from_runtime_error(
    playbook_shown: &str,
    playbook_text: &str,
    err: &EvalAltResult,
    limits: &Limits,
) -> ScriptDiagnostic {
    let mut file = playbook_shown.to_owned();
    let mut frames: Vec<(String, Position, String)> = Vec::new();
    let mut current = err;
    loop {
        match current {
            EvalAltResult::ErrorInFunctionCall(name, source, inner, pos) => {
                let what = if name.starts_with("anon$") {
                    "a closure".to_owned()
                } else {
                    format!("`{name}`")
                };
                frames.push((file.clone(), *pos, what));
                if !source.is_empty() {
                    file = source.clone();
                }
                current = inner;
            }
            EvalAltResult::ErrorInModule(module, inner, pos) => {
                frames.push((file.clone(), *pos, format!("import of {module}")));
                file = module.clone();
                current = inner;
            }
            _ => break,
        }
    }
    let text = (file == playbook_shown).then_some(playbook_text);
    let mut diagnostic = match current {
        EvalAltResult::ErrorParsing(kind, pos) => {
            let (message, help) = describe_parse_error(kind);
            let d = ScriptDiagnostic::at(&file, text, *pos, message, "here");
            match help {
                Some(help) => d.with_help(help),
                None => d,
            }
        }
        leaf => {
            let (message, help) = describe_leaf(leaf, limits);
            let d = ScriptDiagnostic::at(&file, text, leaf.position(), message, "failed here");
            match help {
                Some(help) => d.with_help(help),
                None => d,
            }
        }
    };
    diagnostic.chain = frames
        .iter()
        .rev()
        .map(|(file, pos, what)| {
            let place = match (pos.line(), pos.position()) {
                (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
                (Some(l), None) => format!("{file}:{l}"),
                _ => file.clone(),
            };
            format!("called from {place} ({what})")
        })
        .collect();
    diagnostic.push_chain();
    diagnostic
}

fn describe_leaf(err: &EvalAltResult, limits: &Limits) -> (String, Option<String>) {
    match err {
        EvalAltResult::ErrorRuntime(value, _) => (describe_thrown(value), None),
        EvalAltResult::ErrorTerminated(reason, _) => (format!("stopped: {reason}"), None),
        EvalAltResult::ErrorTooManyOperations(_) => (
            format!(
                "stopped: the run passed its limit of {} operations (limits.max_operations)",
                limits.max_operations
            ),
            Some("is there a loop that never ends?".into()),
        ),
        EvalAltResult::ErrorStackOverflow(_) => (
            format!(
                "stopped: calls nested deeper than {} levels (limits.max_call_levels)",
                limits.max_call_levels
            ),
            Some("is there a recursion that never ends?".into()),
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => (
            format!(
                "stopped: {what} grew past its limit (limits.max_string_size is {} bytes, \
                 max_array_size {}, max_map_size {})",
                limits.max_string_size, limits.max_array_size, limits.max_map_size
            ),
            None,
        ),
        EvalAltResult::ErrorFunctionNotFound(signature, _) => (
            format!("no function {signature}"),
            Some("`orchestra doc` lists every primitive and its argument types".into()),
        ),
        EvalAltResult::ErrorTooManyModules(_) => (
            format!(
                "stopped: more than {} modules imported (limits.max_modules)",
                limits.max_modules
            ),
            None,
        ),
        other => (strip_position(&other.to_string()), None),
    }
}

/// What a thrown value says, without ever showing a secret.
pub fn describe_thrown(value: &Dynamic) -> String {
    if let Some(secret) = value.read_lock::<Secret>() {
        return format!("thrown: {}", secret.redacted());
    }
    if let Some(map) = value.read_lock::<rhai::Map>()
        && let (Some(primitive), Some(message)) = (map.get("primitive"), map.get("message"))
    {
        let status = map
            .get("status")
            .and_then(|s| s.as_int().ok())
            .map(|s| format!(" (status {s})"))
            .unwrap_or_default();
        return format!("{primitive} failed{status}: {message}");
    }
    if let Ok(text) = value.as_immutable_string_ref() {
        return text.to_string();
    }
    super::values::render(value)
}

fn strip_position(text: &str) -> String {
    let first = text.lines().next().unwrap_or(text);
    match first.rfind(" (line ") {
        Some(at) if first.ends_with(')') => first[..at].to_owned(),
        _ => first.to_owned(),
    }
}
