//! List filters as Secret Manager takes them (its "Filter lists of secrets" page, on the
//! AIP-160 grammar): comparisons `name:part`, `labels.k=v`, `labels.k:*`, `create_time>T`,
//! `state:ENABLED`, joined by `AND` (or plain whitespace) and `OR`, negated by `NOT` or `-`,
//! grouped by parentheses. As AIP-160 has it, `OR` binds tighter than `AND`: `a AND b OR c`
//! is `a AND (b OR c)`. A filter that does not parse is refused with `INVALID_ARGUMENT`.

use std::collections::BTreeMap;

use crate::http_util::{GoogleCode, Response, google_error};
use crate::state::SmSecret;

/// What a filter is matched against.
pub(super) struct Subject<'a> {
    /// The full name as answers show it.
    name: &'a str,
    labels: Option<&'a BTreeMap<String, String>>,
    create_time: &'a str,
    state: Option<&'a str>,
}

impl<'a> Subject<'a> {
    /// A secret named `name`.
    pub fn secret(name: &'a str, secret: &'a SmSecret) -> Self {
        Self {
            name,
            labels: Some(&secret.labels),
            create_time: &secret.create_time,
            state: None,
        }
    }

    /// A version named `name` in `state`.
    pub fn version(name: &'a str, create_time: &'a str, state: &'a str) -> Self {
        Self {
            name,
            labels: None,
            create_time,
            state: Some(state),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Has,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    All(Vec<Expr>),
    Any(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        field: String,
        op: Op,
        value: String,
    },
    /// A bare word: matches a name containing it.
    Word(String),
}

/// A parsed filter; the empty filter matches everything.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Filter(Expr);

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Word(String),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            _ => {
                let mut word = String::new();
                let mut quoted = false;
                while let Some(&c) = chars.peek() {
                    if !quoted && (c.is_whitespace() || c == '(' || c == ')') {
                        break;
                    }
                    if c == '"' {
                        quoted = !quoted;
                    }
                    word.push(c);
                    chars.next();
                }
                if quoted {
                    return Err(format!("unterminated quote in {word}"));
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

const OPERATORS: [(&str, Op); 7] = [
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    (":", Op::Has),
    ("=", Op::Eq),
    ("<", Op::Lt),
    (">", Op::Gt),
];

/// Splits `field OP value` at its first operator outside quotes.
fn comparison(word: &str) -> Option<(String, Op, String)> {
    let at = word.find([':', '=', '<', '>', '!'])?;
    let (field, rest) = word.split_at(at);
    let (symbol, op) = OPERATORS.iter().find(|(s, _)| rest.starts_with(s))?;
    let value = rest[symbol.len()..].trim_matches('"').to_owned();
    Some((field.to_owned(), *op, value))
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_word(&self) -> Option<&str> {
        match self.tokens.get(self.at) {
            Some(Token::Word(w)) => Some(w),
            _ => None,
        }
    }

    /// expression := sequence { AND sequence }, where a sequence is factors side by side.
    fn expression(&mut self) -> Result<Expr, String> {
        let mut all = Vec::new();
        loop {
            match self.tokens.get(self.at) {
                None | Some(Token::Close) => break,
                Some(Token::Word(w)) if w == "AND" => {
                    if all.is_empty() {
                        return Err("AND needs a term before it".into());
                    }
                    self.at += 1;
                    all.push(self.factor()?);
                }
                _ => all.push(self.factor()?),
            }
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Expr::All(all)
        })
    }

    /// factor := term { OR term }.
    fn factor(&mut self) -> Result<Expr, String> {
        let mut any = vec![self.term()?];
        while self.peek_word() == Some("OR") {
            self.at += 1;
            any.push(self.term()?);
        }
        Ok(if any.len() == 1 {
            any.remove(0)
        } else {
            Expr::Any(any)
        })
    }

    /// term := [NOT | -] ( '(' expression ')' | comparison ).
    fn term(&mut self) -> Result<Expr, String> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Word(w)) if w == "NOT" => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.term()?)))
            }
            Some(Token::Word(w)) if w.len() > 1 && w.starts_with('-') => {
                self.tokens[self.at] = Token::Word(w[1..].to_owned());
                Ok(Expr::Not(Box::new(self.term()?)))
            }
            Some(Token::Open) => {
                self.at += 1;
                let inner = self.expression()?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err("a parenthesis is not closed".into());
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Word(w)) if matches!(w.as_str(), "AND" | "OR") => {
                Err(format!("{w} needs a term before it"))
            }
            Some(Token::Word(w)) => {
                self.at += 1;
                if let Some((field, op, value)) = comparison(&w) {
                    if value.is_empty()
                        && let Some(next) = self.peek_word().map(str::to_owned)
                    {
                        // `name: foo`, with a space after the operator.
                        self.at += 1;
                        return Ok(Expr::Compare {
                            field,
                            op,
                            value: next.trim_matches('"').to_owned(),
                        });
                    }
                    return Ok(Expr::Compare { field, op, value });
                }
                // `name = foo`, spaced out.
                if let Some(symbol) = self.peek_word().map(str::to_owned)
                    && let Some((_, op)) = OPERATORS.iter().find(|(s, _)| *s == symbol)
                {
                    self.at += 1;
                    let Some(value) = self.peek_word().map(str::to_owned) else {
                        return Err(format!("{w} {symbol} needs a value"));
                    };
                    self.at += 1;
                    return Ok(Expr::Compare {
                        field: w,
                        op: *op,
                        value: value.trim_matches('"').to_owned(),
                    });
                }
                Ok(Expr::Word(w.trim_matches('"').to_owned()))
            }
            Some(Token::Close) => Err("a closing parenthesis has no opening one".into()),
            None => Err("the filter ends where a term was expected".into()),
        }
    }
}

fn compare_text(actual: &str, op: Op, value: &str) -> bool {
    match op {
        Op::Has => value == "*" || actual.contains(value),
        Op::Eq => actual == value,
        Op::Ne => actual != value,
        Op::Lt => actual < value,
        Op::Le => actual <= value,
        Op::Gt => actual > value,
        Op::Ge => actual >= value,
    }
}

fn evaluate(expr: &Expr, subject: &Subject<'_>) -> bool {
    match expr {
        Expr::All(all) => all.iter().all(|e| evaluate(e, subject)),
        Expr::Any(any) => any.iter().any(|e| evaluate(e, subject)),
        Expr::Not(inner) => !evaluate(inner, subject),
        Expr::Word(word) => subject.name.contains(word.as_str()),
        Expr::Compare { field, op, value } => {
            let short = subject.name.rsplit('/').next().unwrap_or(subject.name);
            match field.as_str() {
                "name" if *op == Op::Eq => short == value || subject.name == value,
                "name" => compare_text(short, *op, value),
                "create_time" | "createTime" => compare_text(subject.create_time, *op, value),
                "state" => subject.state.is_some_and(|s| {
                    compare_text(s, if *op == Op::Has { Op::Eq } else { *op }, value)
                }),
                "labels" if *op == Op::Has => subject.labels.is_some_and(|l| l.contains_key(value)),
                other => match other.strip_prefix("labels.") {
                    Some(key) => match subject.labels.and_then(|l| l.get(key)) {
                        Some(actual) => compare_text(actual, *op, value),
                        None => *op == Op::Ne,
                    },
                    None => false,
                },
            }
        }
    }
}

impl Filter {
    /// Parses `text`; the refusal says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, Response> {
        let refuse = |why: String| {
            google_error(
                GoogleCode::InvalidArgument,
                &format!("Invalid filter [{text}]: {why}"),
            )
        };
        let mut parser = Parser {
            tokens: tokens(text).map_err(refuse)?,
            at: 0,
        };
        let expr = parser.expression().map_err(refuse)?;
        if parser.at < parser.tokens.len() {
            return Err(refuse("a closing parenthesis has no opening one".into()));
        }
        Ok(Self(expr))
    }

    /// Whether `subject` passes.
    pub fn matches(&self, subject: &Subject<'_>) -> bool {
        evaluate(&self.0, subject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(labels: &[(&str, &str)]) -> SmSecret {
        SmSecret {
            create_time: "2026-01-02T00:00:00Z".into(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            annotations: BTreeMap::new(),
            version_aliases: BTreeMap::new(),
            replication: serde_json::Value::Null,
            etag: String::new(),
            versions: Vec::new(),
            version_destroy_ttl: None,
            expire_time: None,
        }
    }

    fn passes(filter: &str, name: &str, labels: &[(&str, &str)]) -> bool {
        let s = secret(labels);
        Filter::parse(filter)
            .unwrap_or_else(|_| panic!("{filter} did not parse"))
            .matches(&Subject::secret(&format!("projects/1/secrets/{name}"), &s))
    }

    #[test]
    fn or_joins_labels_and_names() {
        let f = "labels.team=payments OR name:db";
        assert!(passes(f, "api", &[("team", "payments")]));
        assert!(passes(f, "db-password", &[]));
        assert!(!passes(f, "api", &[("team", "search")]));
    }

    #[test]
    fn or_binds_tighter_than_and_and_parentheses_regroup() {
        // a AND (b OR c)
        assert!(!passes(
            "name:x AND labels.a:* OR labels.b:*",
            "y",
            &[("b", "1")]
        ));
        assert!(passes(
            "(name:x AND labels.a:*) OR labels.b:*",
            "y",
            &[("b", "1")]
        ));
        assert!(passes("name:x labels.b:*", "x", &[("b", "1")]));
    }

    #[test]
    fn negation_quotes_and_spaced_operators() {
        assert!(passes("NOT labels.env=prod", "a", &[("env", "dev")]));
        assert!(passes("-labels.env=prod", "a", &[]));
        assert!(passes("labels.env = \"dev\"", "a", &[("env", "dev")]));
        assert!(passes("create_time>2026-01-01", "a", &[]));
    }

    #[test]
    fn broken_filters_are_refused() {
        for bad in ["(name:a", "name:a)", "OR name:a", "name:\"a", "name:a AND"] {
            assert!(Filter::parse(bad).is_err(), "{bad} parsed");
        }
    }
}
