//! Request parsing and response building shared by every service: JSON bodies, query strings
//! (empty values count as absent, as Google's clients send them), and the two error shapes
//! clients match on: GitHub's `{"message": ...}` and Google's `google.rpc.Status`.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};

/// The response type every handler returns.
pub type Response = http::Response<Full<Bytes>>;

/// A request with its body read and any known path prefix removed.
#[derive(Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path after the prefix (`/repos/acme/api/...`, `/v1/projects/...`).
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// `http://HOST[:PORT][/prefix]`, as the client spelled it, for absolute URLs.
    pub base: String,
}

impl Request {
    /// The first value of query parameter `name`, treating an empty value as absent.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Whether boolean query parameter `name` is set true; Google's front end reads `true`
    /// in any case (gcloud's apitools sends `True`).
    pub fn query_flag(&self, name: &str) -> bool {
        self.query(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Every value of query parameter `name`.
    pub fn query_all(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The path split into segments.
    pub fn segments(&self) -> Vec<&str> {
        self.path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The body as JSON (an empty body is `{}`).
    pub fn json(&self) -> Result<Value, String> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        serde_json::from_slice(&self.body).map_err(|e| format!("invalid JSON body: {e}"))
    }

    /// The bearer or token credential in `Authorization`, if any.
    pub fn credential(&self) -> Option<&str> {
        credential_of(&self.headers)
    }
}

/// The bearer or token credential in `Authorization`, if any.
pub fn credential_of(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" | "token" => Some(rest.trim()),
        _ => None,
    }
}

/// Decodes a query string or form body.
pub fn decode_pairs(text: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(text)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A JSON response.
pub fn json_response(status: u16, value: &Value) -> Response {
    let mut response = http::Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// A response without a body.
pub fn empty_response(status: u16) -> Response {
    let mut response = http::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
    response
}

/// GitHub's error body: `{"message", "documentation_url", "status"}`.
pub fn github_error(status: u16, message: &str) -> Response {
    json_response(
        status,
        &json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.to_string(),
        }),
    )
}

/// GitHub's 422 with an `errors` entry naming the bad field.
pub fn github_validation_error(resource: &str, field: &str, code: &str) -> Response {
    json_response(
        422,
        &json!({
            "message": "Validation Failed",
            "errors": [{"resource": resource, "field": field, "code": code}],
            "documentation_url": "https://docs.github.com/rest",
            "status": "422",
        }),
    )
}

/// The canonical `google.rpc.Status` name and HTTP status of a failure kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoogleCode {
    /// 400.
    InvalidArgument,
    /// 400.
    FailedPrecondition,
    /// 401.
    Unauthenticated,
    /// 403.
    PermissionDenied,
    /// 404.
    NotFound,
    /// 409.
    AlreadyExists,
    /// 409.
    Aborted,
    /// 429.
    ResourceExhausted,
    /// 500.
    Internal,
    /// 503.
    Unavailable,
}

impl GoogleCode {
    fn parts(self) -> (u16, &'static str) {
        match self {
            Self::InvalidArgument => (400, "INVALID_ARGUMENT"),
            Self::FailedPrecondition => (400, "FAILED_PRECONDITION"),
            Self::Unauthenticated => (401, "UNAUTHENTICATED"),
            Self::PermissionDenied => (403, "PERMISSION_DENIED"),
            Self::NotFound => (404, "NOT_FOUND"),
            Self::AlreadyExists => (409, "ALREADY_EXISTS"),
            Self::Aborted => (409, "ABORTED"),
            Self::ResourceExhausted => (429, "RESOURCE_EXHAUSTED"),
            Self::Internal => (500, "INTERNAL"),
            Self::Unavailable => (503, "UNAVAILABLE"),
        }
    }

    /// The code for an HTTP status (used by injected faults).
    pub fn for_http(status: u16) -> Self {
        match status {
            401 => Self::Unauthenticated,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            409 => Self::Aborted,
            429 => Self::ResourceExhausted,
            503 => Self::Unavailable,
            400..=499 => Self::InvalidArgument,
            _ => Self::Internal,
        }
    }
}

/// Google's error body: `{"error": {"code", "message", "status"}}`.
pub fn google_error(code: GoogleCode, message: &str) -> Response {
    let (http, status) = code.parts();
    json_response(
        http,
        &json!({"error": {"code": http, "message": message, "status": status}}),
    )
}

/// One page of `items` as `pageSize` and `pageToken` ask (the token is an offset; an empty or
/// zero size means all, up to 25,000), and the token of the next page when there is one.
pub fn page<T: Clone>(items: &[T], request: &Request) -> (Vec<T>, Option<String>) {
    let size = request
        .query("pageSize")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(25_000);
    let start = request
        .query("pageToken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let end = (start + size).min(items.len());
    let slice = items.get(start..end).map(<[T]>::to_vec).unwrap_or_default();
    let next = (end < items.len()).then(|| end.to_string());
    (slice, next)
}

/// Now on the emulator's calendar (see `clock`), as RFC 3339 with nanoseconds in UTC
/// (Google's timestamp form): what creation times are stamped with.
pub fn rfc3339_now() -> String {
    crate::clock::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// `seconds` from now on the emulator's calendar, as RFC 3339 in UTC.
pub fn rfc3339_in(seconds: i64) -> String {
    (crate::clock::now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Seconds in a protobuf `Duration` as JSON writes it (`"86400s"`, `"1.5s"`).
pub fn duration_secs(text: &str) -> Option<i64> {
    let seconds: f64 = text.strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then_some(seconds as i64)
}

/// Now, as RFC 3339 seconds (GitHub's timestamp form).
pub fn github_time(epoch_secs: i64) -> String {
    chrono::DateTime::from_timestamp(epoch_secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Seconds since the epoch.
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}
