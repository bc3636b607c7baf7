//! Fault injection: for requests matching a method and path pattern, for the next N requests or
//! a fraction of them, answer with an error status (with `Retry-After`), add latency, or drop
//! the connection without an answer.
//!
//! Path patterns match segment by segment: `*` is any one segment (or any text within one, as
//! in `*:access`), `**` any number of segments. Faults never apply to `/_emulator/`.

use serde::{Deserialize, Serialize};

use crate::http_util::{self, GoogleCode, Response};

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status (and `Retry-After` seconds, if given) in the service's error
    /// shape; `message` overrides the default text (Slack: the error body, e.g. `no_service`).
    Status {
        /// HTTP status.
        status: u16,
        /// `Retry-After` seconds.
        #[serde(default)]
        retry_after: Option<u64>,
        /// The error text.
        #[serde(default)]
        message: Option<String>,
    },
    /// Wait this long, then answer normally.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// Close the connection without an answer.
    Drop,
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Only this method (`PUT`), or any.
    #[serde(default)]
    pub method: Option<String>,
    /// Path pattern, e.g. `/repos/*/*/actions/secrets/*` or `/v1/**`.
    pub path: String,
    /// What happens.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Apply to the next N matching requests (default: every one, until cleared).
    #[serde(default)]
    pub count: Option<u32>,
    /// Apply to this fraction (0..1) of matching requests.
    #[serde(default)]
    pub fraction: Option<f64>,
}

impl FaultRule {
    /// Parses a rule from JSON (the `--fault` flag and the admin endpoint).
    ///
    /// `kind` may be left out: `"status": 503` means a status fault, `"ms": 200` (or
    /// `"latency_ms"`) latency, `"drop": true` a dropped connection.
    pub fn parse(text: &str) -> Result<Self, String> {
        let explain = |e: &dyn std::fmt::Display| {
            format!(
                "a fault is JSON such as {{\"method\":\"PUT\",\"path\":\"/repos/**\",\"status\":500,\"count\":2}}: {e}"
            )
        };
        let mut value: serde_json::Value = serde_json::from_str(text).map_err(|e| explain(&e))?;
        if let Some(object) = value.as_object_mut()
            && !object.contains_key("kind")
        {
            if let Some(ms) = object.remove("latency_ms") {
                object.insert("ms".into(), ms);
            }
            let kind = if object.get("drop") == Some(&serde_json::Value::Bool(true)) {
                Some("drop")
            } else if object.contains_key("ms") {
                Some("latency")
            } else if object.contains_key("status") {
                Some("status")
            } else {
                None
            };
            object.remove("drop");
            if let Some(kind) = kind {
                object.insert("kind".into(), kind.into());
            }
        }
        let rule: Self = serde_json::from_value(value).map_err(|e| explain(&e))?;
        if let Some(f) = rule.fraction
            && !(0.0..=1.0).contains(&f)
        {
            return Err(format!("fraction must be between 0 and 1, found {f}"));
        }
        Ok(rule)
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        let pattern: Vec<&str> = self.path.split('/').filter(|s| !s.is_empty()).collect();
        let path: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        segments_match(&pattern, &path)
    }
}

fn segments_match(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(&"**"), _) => {
            segments_match(&pattern[1..], path)
                || (!path.is_empty() && segments_match(pattern, &path[1..]))
        }
        (Some(p), Some(s)) => wildcard(p, s) && segments_match(&pattern[1..], &path[1..]),
        _ => false,
    }
}

/// `*` within one segment matches any text.
fn wildcard(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            let Some(text) = text.strip_prefix(prefix) else {
                return false;
            };
            (0..=text.len())
                .filter(|i| text.is_char_boundary(*i))
                .any(|i| wildcard(rest, &text[i..]))
        }
    }
}

/// The active rules and how many uses each has left.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<(FaultRule, Option<u32>)>,
}

impl Faults {
    /// Rules active from the start.
    pub fn new(rules: Vec<FaultRule>) -> Self {
        let mut faults = Self::default();
        for rule in rules {
            faults.add(rule);
        }
        faults
    }

    /// Adds a rule.
    pub fn add(&mut self, rule: FaultRule) {
        let left = rule.count;
        self.rules.push((rule, left));
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The active rules.
    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.iter().map(|(r, _)| r.clone()).collect()
    }

    /// The fault to apply to this request, if any (using up one of a counted rule).
    pub fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        if path.starts_with("/_emulator") {
            return None;
        }
        let index = self.rules.iter().position(|(rule, left)| {
            left.is_none_or(|n| n > 0)
                && rule.matches(method, path)
                && rule.fraction.is_none_or(|f| random_fraction() < f)
        })?;
        let (rule, left) = &mut self.rules[index];
        let kind = rule.kind.clone();
        if let Some(n) = left {
            *n -= 1;
            if *n == 0 {
                self.rules.remove(index);
            }
        }
        Some(kind)
    }
}

fn random_fraction() -> f64 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
}

/// Whether `path` belongs to a Google API (`/v1/` Secret Manager and IAM, `/v3/` Monitoring,
/// `/v2/` and `/apis/` Cloud Run).
pub fn is_google_path(path: &str) -> bool {
    ["/v1/", "/v2/", "/v3/", "/apis/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// Whether `path` is a Slack webhook's (`/slack/NAME` or `/services/T…/B…/…`).
pub fn is_slack_path(path: &str) -> bool {
    path.starts_with("/slack/") || path.starts_with("/services/")
}

/// Whether `path` (prefix removed) belongs to GitHub: everything the other services do not own.
pub fn is_github_path(path: &str) -> bool {
    !(is_google_path(path)
        || is_slack_path(path)
        || path == "/token"
        || path.starts_with("/run.app/")
        || path.starts_with("/_emulator"))
}

/// The error answer a `Status` fault gives on `path`, in that service's shape.
pub fn error_response(
    path: &str,
    status: u16,
    retry_after: Option<u64>,
    message: Option<&str>,
) -> Response {
    let mut response = if is_slack_path(path) {
        let text = message.unwrap_or(match status {
            429 => "rate_limited",
            404 => "no_service",
            400 => "invalid_payload",
            _ => "internal_error",
        });
        let mut r = http_util::empty_response(status);
        *r.body_mut() = http_body_util::Full::new(bytes::Bytes::from(text.to_owned()));
        r
    } else if is_google_path(path) {
        let default = match status {
            503 => "The service is currently unavailable.",
            429 => "Quota exceeded.",
            _ => "Internal error encountered.",
        };
        http_util::google_error(GoogleCode::for_http(status), message.unwrap_or(default))
    } else if path == "/token" {
        http_util::json_response(
            status,
            &serde_json::json!({"error": "internal_failure", "error_description": message.unwrap_or("injected fault")}),
        )
    } else {
        let default = match status {
            403 | 429 if retry_after.is_some() => {
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
            }
            502 => "Server Error",
            503 => "Service Unavailable",
            _ => "Server Error",
        };
        http_util::github_error(status, message.unwrap_or(default))
    };
    if let Some(seconds) = retry_after
        && let Ok(value) = http::HeaderValue::from_str(&seconds.to_string())
    {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str, count: Option<u32>) -> FaultRule {
        FaultRule {
            method: Some("PUT".into()),
            path: path.into(),
            kind: FaultKind::Drop,
            count,
            fraction: None,
        }
    }

    #[test]
    fn patterns_match_segments() {
        let r = rule("/repos/*/*/actions/secrets/*", None);
        assert!(r.matches("PUT", "/repos/acme/api/actions/secrets/X"));
        assert!(!r.matches("GET", "/repos/acme/api/actions/secrets/X"));
        assert!(!r.matches("PUT", "/repos/acme/api/actions/secrets"));
        assert!(rule("/v1/**", None).matches("PUT", "/v1/projects/p/secrets/s:addVersion"));
        assert!(
            rule("/v1/**/*:access", None)
                .matches("PUT", "/v1/projects/p/secrets/s/versions/1:access")
        );
        assert!(!rule("/v1/**/*:access", None).matches("PUT", "/v1/projects/p/secrets/s"));
    }

    #[test]
    fn counted_rules_run_out() {
        let mut faults = Faults::new(vec![rule("/x", Some(2))]);
        assert!(faults.take("PUT", "/x").is_some());
        assert!(faults.take("PUT", "/x").is_some());
        assert!(faults.take("PUT", "/x").is_none());
    }

    #[test]
    fn bad_rules_say_what_is_expected() {
        assert!(
            FaultRule::parse("{}")
                .unwrap_err()
                .contains("a fault is JSON such as")
        );
        assert!(FaultRule::parse(r#"{"path":"/x","kind":"drop","fraction":2}"#).is_err());
        assert_eq!(
            FaultRule::parse(r#"{"path":"/x","status":500,"count":2}"#)
                .unwrap()
                .kind,
            FaultKind::Status {
                status: 500,
                retry_after: None,
                message: None
            }
        );
        assert_eq!(
            FaultRule::parse(r#"{"path":"/x","latency_ms":50}"#)
                .unwrap()
                .kind,
            FaultKind::Latency { ms: 50 }
        );
        assert_eq!(
            FaultRule::parse(r#"{"path":"/x","drop":true}"#)
                .unwrap()
                .kind,
            FaultKind::Drop
        );
        assert_eq!(
            FaultRule::parse(r#"{"path":"/x","kind":"status","status":503,"retry_after":2}"#)
                .unwrap()
                .kind,
            FaultKind::Status {
                status: 503,
                retry_after: Some(2),
                message: None
            }
        );
    }
}
