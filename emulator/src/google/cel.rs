//! The subset of CEL that Workload Identity attribute mappings and conditions use: string
//! literals, `assertion.x` / `attribute.x` / `assertion['x']` fields, `==`, `!=`, `&&`, `||`,
//! `!`, parentheses, `.startsWith('…')`, `.endsWith('…')`, `in ['…', …]` and `+` on strings.
//! Anything else is a parse error, which the caller reports as Google reports a bad
//! expression.

use std::collections::BTreeMap;

/// A value in an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string (missing fields are absent, not empty).
    Str(String),
    /// A boolean.
    Bool(bool),
    /// A list of strings.
    List(Vec<String>),
    /// A field that the token does not carry.
    Absent,
}

/// What the expression may read: `assertion` (the token's claims, as strings) and
/// `attribute` (mapped attributes, without their prefix).
pub struct Scope<'a> {
    /// Claims of the subject token.
    pub assertion: &'a serde_json::Map<String, serde_json::Value>,
    /// Mapped attributes.
    pub attribute: &'a BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Op(&'static str),
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let mut value = String::new();
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
            if i >= chars.len() {
                return Err("unterminated string literal".into());
            }
            i += 1;
            tokens.push(Token::Str(value));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = ["==", "!=", "&&", "||"]
                .into_iter()
                .find(|o| *o == two)
                .map(|o| (o, 2))
                .or_else(|| {
                    ["!", "(", ")", "[", "]", ".", ",", "+"]
                        .into_iter()
                        .find(|o| o.starts_with(c))
                        .map(|o| (o, 1))
                })
                .ok_or_else(|| format!("unexpected character '{c}'"))?;
            tokens.push(Token::Op(op.0));
            i += op.1;
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    scope: &'a Scope<'a>,
}

impl Parser<'_> {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Op(o)) if *o == op)
    }

    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.peek_op(op) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected '{op}'"))
        }
    }

    fn or(&mut self) -> Result<Value, String> {
        let mut left = self.and()?;
        while self.peek_op("||") {
            self.at += 1;
            let right = self.and()?;
            left = Value::Bool(truthy(&left)? || truthy(&right)?);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Value, String> {
        let mut left = self.comparison()?;
        while self.peek_op("&&") {
            self.at += 1;
            let right = self.comparison()?;
            left = Value::Bool(truthy(&left)? && truthy(&right)?);
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Value, String> {
        let left = self.sum()?;
        if self.peek_op("==") || self.peek_op("!=") {
            let equal = self.peek_op("==");
            self.at += 1;
            let right = self.sum()?;
            let same = left == right && left != Value::Absent;
            return Ok(Value::Bool(same == equal));
        }
        if matches!(self.tokens.get(self.at), Some(Token::Ident(w)) if w == "in") {
            self.at += 1;
            let list = self.sum()?;
            return match (left, list) {
                (Value::Str(s), Value::List(items)) => Ok(Value::Bool(items.contains(&s))),
                (Value::Absent, Value::List(_)) => Ok(Value::Bool(false)),
                _ => Err("'in' expects a string and a list".into()),
            };
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Value, String> {
        let mut left = self.unary()?;
        while self.peek_op("+") {
            self.at += 1;
            let right = self.unary()?;
            left = match (left, right) {
                (Value::Str(a), Value::Str(b)) => Value::Str(a + &b),
                _ => Value::Absent,
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Value, String> {
        if self.peek_op("!") {
            self.at += 1;
            let value = self.unary()?;
            return Ok(Value::Bool(!truthy(&value)?));
        }
        let mut value = self.primary()?;
        while self.peek_op(".") {
            self.at += 1;
            let Some(Token::Ident(method)) = self.tokens.get(self.at).cloned() else {
                return Err("expected a method name after '.'".into());
            };
            self.at += 1;
            self.expect("(")?;
            let argument = self.or()?;
            self.expect(")")?;
            value = match (method.as_str(), value, argument) {
                ("startsWith", Value::Str(s), Value::Str(p)) => Value::Bool(s.starts_with(&p)),
                ("endsWith", Value::Str(s), Value::Str(p)) => Value::Bool(s.ends_with(&p)),
                ("startsWith" | "endsWith", Value::Absent, _) => Value::Bool(false),
                (other, _, _) => return Err(format!("unsupported function '{other}'")),
            };
        }
        Ok(value)
    }

    fn primary(&mut self) -> Result<Value, String> {
        let token = self
            .tokens
            .get(self.at)
            .cloned()
            .ok_or("unexpected end of expression")?;
        self.at += 1;
        match token {
            Token::Str(s) => Ok(Value::Str(s)),
            Token::Op("(") => {
                let value = self.or()?;
                self.expect(")")?;
                Ok(value)
            }
            Token::Op("[") => {
                let mut items = Vec::new();
                while !self.peek_op("]") {
                    match self.or()? {
                        Value::Str(s) => items.push(s),
                        _ => return Err("list items must be strings".into()),
                    }
                    if !self.peek_op("]") {
                        self.expect(",")?;
                    }
                }
                self.at += 1;
                Ok(Value::List(items))
            }
            Token::Ident(word) if word == "true" || word == "false" => {
                Ok(Value::Bool(word == "true"))
            }
            Token::Ident(root) if root == "assertion" || root == "attribute" => {
                let field = if self.peek_op(".") {
                    self.at += 1;
                    match self.tokens.get(self.at).cloned() {
                        Some(Token::Ident(f)) => f,
                        _ => return Err(format!("expected a field name after '{root}.'")),
                    }
                } else if self.peek_op("[") {
                    self.at += 1;
                    match self.tokens.get(self.at).cloned() {
                        Some(Token::Str(f)) => {
                            self.at += 1;
                            if !self.peek_op("]") {
                                return Err("expected ']'".into());
                            }
                            f
                        }
                        _ => return Err("expected a quoted field name".into()),
                    }
                } else {
                    return Err(format!("expected a field of '{root}'"));
                };
                self.at += 1;
                Ok(self.field(&root, &field))
            }
            Token::Ident(other) => Err(format!("undeclared reference to '{other}'")),
            Token::Op(op) => Err(format!("unexpected '{op}'")),
        }
    }

    fn field(&self, root: &str, field: &str) -> Value {
        if root == "attribute" {
            return self
                .scope
                .attribute
                .get(field)
                .map_or(Value::Absent, |v| Value::Str(v.clone()));
        }
        match self.scope.assertion.get(field) {
            Some(serde_json::Value::String(s)) => Value::Str(s.clone()),
            Some(serde_json::Value::Bool(b)) => Value::Bool(*b),
            Some(serde_json::Value::Number(n)) => Value::Str(n.to_string()),
            _ => Value::Absent,
        }
    }
}

fn truthy(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Absent => Ok(false),
        _ => Err("expected a boolean".into()),
    }
}

/// Evaluates `text` in `scope`.
pub fn eval(text: &str, scope: &Scope<'_>) -> Result<Value, String> {
    let mut parser = Parser {
        tokens: lex(text)?,
        at: 0,
        scope,
    };
    let value = parser.or()?;
    if parser.at != parser.tokens.len() {
        return Err("unexpected text after the expression".into());
    }
    Ok(value)
}

/// Whether `text` reads any `assertion.` or `attribute.` field (Google refuses a condition
/// that does not).
pub fn references_claims(text: &str) -> bool {
    lex(text).is_ok_and(|tokens| {
        tokens
            .iter()
            .any(|t| matches!(t, Token::Ident(w) if w == "assertion" || w == "attribute"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Value {
        let claims = serde_json::json!({"repository": "acme/api", "repository_owner": "acme", "ref": "refs/heads/main"});
        let attrs = BTreeMap::from([("repository".to_owned(), "acme/api".to_owned())]);
        let scope = Scope {
            assertion: claims.as_object().unwrap(),
            attribute: &attrs,
        };
        eval(text, &scope).unwrap()
    }

    #[test]
    fn conditions_real_providers_use_evaluate() {
        assert_eq!(
            check("assertion.repository == 'acme/api'"),
            Value::Bool(true)
        );
        assert_eq!(
            check("assertion.repository_owner != 'acme'"),
            Value::Bool(false)
        );
        assert_eq!(
            check(
                "attribute.repository in ['acme/web', 'acme/api'] && assertion.ref.startsWith('refs/heads/')"
            ),
            Value::Bool(true)
        );
        assert_eq!(
            check("assertion['missing'] == 'x' || !(assertion.ref == 'x')"),
            Value::Bool(true)
        );
        assert_eq!(
            check("assertion.repository_owner + '/' + 'api'"),
            Value::Str("acme/api".into())
        );
    }

    #[test]
    fn unknown_names_are_errors() {
        let claims = serde_json::Map::new();
        let attrs = BTreeMap::new();
        let scope = Scope {
            assertion: &claims,
            attribute: &attrs,
        };
        assert!(eval("request.time == 'x'", &scope).is_err());
        assert!(!references_claims("true"));
    }
}
