//! What a credential in a file becomes once it has moved to Secret Manager: a placeholder
//! that the consuming code reads from the environment, written in the file's own language.
//!
//! | file | the value becomes |
//! |---|---|
//! | `.env`, YAML, JSON, TOML | `${NAME}` (the interpolation dotenv, Compose and envsubst do) |
//! | shell | `"${NAME:?NAME is not set}"` |
//! | Python | `os.environ["NAME"]` (and `import os`) |
//! | JavaScript / TypeScript | `process.env.NAME` |
//!
//! Anything else, or a value this cannot place safely, is left for a hand edit with the
//! reason. Also here: the variable a value is assigned to, and the secret and variable names
//! derived from the file and that variable. Pure text work: no I/O.

use std::ops::Range;

/// The file languages a placeholder can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.env`, `.env.local`, …
    Env,
    /// `.sh`, `.bash`, `.zsh`, `.envrc`
    Shell,
    /// `.yml`, `.yaml`
    Yaml,
    /// `.json`
    Json,
    /// `.toml`
    Toml,
    /// `.py`
    Python,
    /// `.js`, `.mjs`, `.cjs`, `.jsx`, `.ts`, `.tsx`
    JavaScript,
    /// Anything else: a hand edit.
    Other,
}

impl FileKind {
    /// The kind of the file at `path` (`/`-separated), by its name.
    pub fn of(path: &str) -> Self {
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        if name == ".env" || (name.starts_with(".env.") && !is_example(&name)) {
            return Self::Env;
        }
        if name == ".envrc" {
            return Self::Shell;
        }
        match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("sh" | "bash" | "zsh") => Self::Shell,
            Some("yml" | "yaml") => Self::Yaml,
            Some("json") => Self::Json,
            Some("toml") => Self::Toml,
            Some("py") => Self::Python,
            Some("js" | "mjs" | "cjs" | "jsx" | "ts" | "tsx") => Self::JavaScript,
            _ => Self::Other,
        }
    }

    /// `env`, `shell`, `yaml`, `json`, `toml`, `python`, `javascript` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Env => "env",
            Self::Shell => "shell",
            Self::Yaml => "yaml",
            Self::Json => "json",
            Self::Toml => "toml",
            Self::Python => "python",
            Self::JavaScript => "javascript",
            Self::Other => "other",
        }
    }
}

fn is_example(name: &str) -> bool {
    ["example", "sample", "template", "dist"]
        .iter()
        .any(|w| name.ends_with(w))
}

/// The quotes around a value on its line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Literal {
    /// The quote character.
    quote: u8,
    /// The literal, quotes included.
    span: Range<usize>,
    /// Whether the literal holds exactly the value.
    exact: bool,
}

fn line_of(text: &str, range: &Range<usize>) -> Range<usize> {
    let start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[range.end..]
        .find('\n')
        .map_or(text.len(), |i| range.end + i);
    start..end
}

fn literal_around(text: &str, range: &Range<usize>) -> Option<Literal> {
    let line = line_of(text, range);
    let before = &text.as_bytes()[line.start..range.start];
    let after = &text.as_bytes()[range.end..line.end];
    for quote in [b'"', b'\'', b'`'] {
        let open = before.iter().rposition(|&b| b == quote);
        let close = after.iter().position(|&b| b == quote);
        if let (Some(open), Some(close)) = (open, close) {
            let span = line.start + open..range.end + close + 1;
            let exact = span.start + 1 == range.start && span.end - 1 == range.end;
            return Some(Literal { quote, span, exact });
        }
    }
    None
}

/// The variable (or key) the value at `range` is assigned to: `GITHUB_TOKEN` in
/// `export GITHUB_TOKEN="…"`, `token` in `"token": "…"` or `api.token: …`.
pub fn variable_at(text: &str, range: &Range<usize>) -> Option<String> {
    let start = literal_around(text, range).map_or(range.start, |l| l.span.start);
    let line = line_of(text, range);
    let prefix = text[line.start..start].trim_end();
    let prefix = prefix
        .strip_suffix(":=")
        .or_else(|| prefix.strip_suffix("=>"))
        .or_else(|| prefix.strip_suffix('='))
        .or_else(|| prefix.strip_suffix(':'))?
        .trim_end()
        .trim_end_matches(['"', '\'']);
    let name: String = prefix
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// The Secret Manager id and the environment variable a finding moves to: the id from the
/// file and the variable (`config-app-yaml-github-token`), the variable name itself when it
/// already reads like one (`GITHUB_TOKEN`), else the file's stem and the key upper-cased.
pub fn names(file: &str, variable: Option<&str>, rule: &str) -> (String, String) {
    let subject = variable.unwrap_or(rule);
    let mut secret = format!("{}-{}", slug(file), slug(subject));
    secret.truncate(255);
    let secret = secret.trim_end_matches('-').to_owned();
    let env_like = |v: &str| {
        v.starts_with(|c: char| c.is_ascii_uppercase())
            && v.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    let env = match variable {
        Some(v) if env_like(v) => v.to_owned(),
        _ => {
            let name = file.rsplit('/').next().unwrap_or(file);
            let stem = name.split('.').find(|s| !s.is_empty()).unwrap_or("file");
            format!("{}_{}", slug(stem), slug(subject))
                .replace('-', "_")
                .to_ascii_uppercase()
        }
    };
    (secret, env)
}

/// Why a value is left for a hand edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandEdit(pub String);

/// `text` with the value at `range` replaced by a placeholder reading `env`, in `kind`'s
/// language.
pub fn rewrite(
    text: &str,
    range: &Range<usize>,
    kind: FileKind,
    env: &str,
) -> Result<String, HandEdit> {
    let literal = literal_around(text, range);
    let replace = |span: &Range<usize>, with: &str| {
        format!("{}{with}{}", &text[..span.start], &text[span.end..])
    };
    let interpolation = format!("${{{env}}}");
    match kind {
        FileKind::Env | FileKind::Yaml | FileKind::Toml => Ok(replace(range, &interpolation)),
        FileKind::Json => match literal {
            Some(Literal { quote: b'"', .. }) => Ok(replace(range, &interpolation)),
            _ => Err(HandEdit("the value is not inside a JSON string".into())),
        },
        FileKind::Shell => {
            let read = format!("${{{env}:?{env} is not set}}");
            match literal {
                Some(Literal { quote: b'"', .. }) => Ok(replace(range, &read)),
                Some(Literal {
                    quote: b'\'',
                    exact: true,
                    span,
                }) => Ok(replace(&span, &format!("\"{read}\""))),
                Some(_) => Err(HandEdit(
                    "the value is part of a single-quoted string, where the shell expands nothing"
                        .into(),
                )),
                None => Ok(replace(range, &format!("\"{read}\""))),
            }
        }
        FileKind::Python => {
            let read = format!("os.environ[\"{env}\"]");
            let rewritten = code_literal(text, range, literal, &read, None)?;
            Ok(with_python_import(&rewritten))
        }
        FileKind::JavaScript => {
            let read = format!("process.env.{env}");
            code_literal(text, range, literal, &read, Some(&format!("${{{read}}}")))
        }
        FileKind::Other => Err(HandEdit(
            "orchestra does not know this file's language".into(),
        )),
    }
}

/// A code string literal holding the value becomes `read` (exactly the value) or a
/// concatenation around it; `template` is the form inside a JavaScript template literal.
fn code_literal(
    text: &str,
    range: &Range<usize>,
    literal: Option<Literal>,
    read: &str,
    template: Option<&str>,
) -> Result<String, HandEdit> {
    let Some(literal) = literal else {
        return Err(HandEdit("the value is not inside a string literal".into()));
    };
    let (head, tail) = (&text[..literal.span.start], &text[literal.span.end..]);
    if literal.exact {
        return Ok(format!("{head}{read}{tail}"));
    }
    if literal.quote == b'`' {
        return match template {
            Some(inline) => Ok(format!(
                "{}{inline}{}",
                &text[..range.start],
                &text[range.end..]
            )),
            None => Err(HandEdit("the value is inside a backtick string".into())),
        };
    }
    let quote = char::from(literal.quote);
    let before = &text[literal.span.start + 1..range.start];
    let after = &text[range.end..literal.span.end - 1];
    let mut parts = Vec::new();
    if !before.is_empty() {
        parts.push(format!("{quote}{before}{quote}"));
    }
    parts.push(read.to_owned());
    if !after.is_empty() {
        parts.push(format!("{quote}{after}{quote}"));
    }
    Ok(format!("{head}{}{tail}", parts.join(" + ")))
}

/// `text` with `import os` added after any shebang, encoding line and `__future__` imports,
/// unless it imports `os` already.
fn with_python_import(text: &str) -> String {
    let imports_os = text.lines().any(|l| {
        let l = l.trim();
        l == "import os" || l.starts_with("import os,") || l.starts_with("import os ")
    });
    if imports_os {
        return text.to_owned();
    }
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with("#!") || t.starts_with("# -*-") || t.starts_with("from __future__") {
            at += line.len();
        } else {
            break;
        }
    }
    format!("{}import os\n{}", &text[..at], &text[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "VALUE123";

    fn at(text: &str) -> Range<usize> {
        let start = text.find(V).unwrap();
        start..start + V.len()
    }

    fn rewritten(text: &str, kind: FileKind) -> String {
        rewrite(text, &at(text), kind, "API_TOKEN").unwrap()
    }

    #[test]
    fn each_language_reads_the_environment() {
        assert_eq!(
            rewritten("API_TOKEN=VALUE123\n", FileKind::Env),
            "API_TOKEN=${API_TOKEN}\n"
        );
        assert_eq!(
            rewritten("export API_TOKEN='VALUE123'\n", FileKind::Shell),
            "export API_TOKEN=\"${API_TOKEN:?API_TOKEN is not set}\"\n"
        );
        assert_eq!(
            rewritten("token: \"VALUE123\"\n", FileKind::Yaml),
            "token: \"${API_TOKEN}\"\n"
        );
        assert_eq!(
            rewritten("{\"token\": \"VALUE123\"}", FileKind::Json),
            "{\"token\": \"${API_TOKEN}\"}"
        );
        assert_eq!(
            rewritten("#!/usr/bin/env python\nT = 'VALUE123'\n", FileKind::Python),
            "#!/usr/bin/env python\nimport os\nT = os.environ[\"API_TOKEN\"]\n"
        );
        assert_eq!(
            rewritten(
                "const url = \"https://x/VALUE123/y\";\n",
                FileKind::JavaScript
            ),
            "const url = \"https://x/\" + process.env.API_TOKEN + \"/y\";\n"
        );
        assert!(rewrite("x VALUE123", &at("x VALUE123"), FileKind::Other, "A").is_err());
    }

    #[test]
    fn names_come_from_the_file_and_the_variable() {
        let text = "  export GITHUB_TOKEN=\"VALUE123\"\n";
        assert_eq!(
            variable_at(text, &at(text)).as_deref(),
            Some("GITHUB_TOKEN")
        );
        let text = "{\"api_key\": \"VALUE123\"}";
        assert_eq!(variable_at(text, &at(text)).as_deref(), Some("api_key"));
        assert_eq!(
            names("deploy/.env", Some("GITHUB_TOKEN"), "github-pat"),
            ("deploy-env-github-token".into(), "GITHUB_TOKEN".into())
        );
        assert_eq!(
            names("config/app.yaml", Some("token"), "github-pat"),
            ("config-app-yaml-token".into(), "APP_TOKEN".into())
        );
        assert_eq!(FileKind::of("a/.env.example"), FileKind::Other);
        assert_eq!(FileKind::of("a/.env.local"), FileKind::Env);
    }
}
