//! Conditional requests, as GitHub's REST API answers them ("Best practices for using the REST
//! API", *Use conditional requests if appropriate*): a successful GET carries an `ETag` (and a
//! `Last-Modified` when the resource says when it last changed), and a GET that sends one of
//! them back (`If-None-Match`, `If-Modified-Since`) for an unchanged resource gets `304 Not
//! Modified` with no body. A 304 to a correctly authenticated request does not count against
//! the primary rate limit; the caller of [`apply`] decides that from [`Conditional::NotModified`].
//!
//! The tag is GitHub's weak form, `W/"<64 hex digits>"`, here the SHA-256 of the body, so the
//! same body always has the same tag and any change to it gives a new one. `If-None-Match` is
//! compared weakly (RFC 9110 §13.1.2: `W/` ignored, a list of tags, `*`); when it is present
//! `If-Modified-Since` is ignored, as the RFC says. Knows nothing of the routes.

use bytes::Bytes;
use http::HeaderValue;
use http_body_util::Full;
use sha2::{Digest, Sha256};

use crate::http_util::{Request, Response};

/// What [`apply`] made of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conditional {
    /// The full answer (validators added to a successful GET).
    Full,
    /// `304 Not Modified`: the client's copy is current.
    NotModified,
}

/// Adds `ETag`, `Last-Modified`, `Cache-Control` and `Vary` to a successful GET's `response`,
/// and turns it into a 304 when `request`'s validators match.
pub fn apply(request: &Request, response: Response) -> (Response, Conditional) {
    if request.method != http::Method::GET || response.status() != http::StatusCode::OK {
        return (response, Conditional::Full);
    }
    let (mut parts, body) = response.into_parts();
    let bytes = full_bytes(body);
    let etag = format!("W/\"{}\"", hex(&Sha256::digest(&bytes)));
    let last_modified = last_modified(&bytes);
    let matches = match request.headers.get(http::header::IF_NONE_MATCH) {
        Some(sent) => sent.to_str().is_ok_and(|sent| none_match_hits(sent, &etag)),
        None => match (
            &last_modified,
            request.headers.get(http::header::IF_MODIFIED_SINCE),
        ) {
            (Some((_, changed)), Some(since)) => since
                .to_str()
                .ok()
                .and_then(|s| chrono::DateTime::parse_from_rfc2822(s.trim()).ok())
                .is_some_and(|since| *changed <= since.timestamp()),
            _ => false,
        },
    };
    let headers = &mut parts.headers;
    for (name, value) in [
        (http::header::ETAG, Some(etag)),
        (
            http::header::LAST_MODIFIED,
            last_modified.map(|(text, _)| text),
        ),
        (
            http::header::CACHE_CONTROL,
            Some("private, max-age=60, s-maxage=60".to_owned()),
        ),
        (
            http::header::VARY,
            Some("Accept, Authorization, Cookie, X-GitHub-OTP".to_owned()),
        ),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, value);
        }
    }
    if matches {
        parts.status = http::StatusCode::NOT_MODIFIED;
        parts.headers.remove(http::header::CONTENT_TYPE);
        parts.headers.remove(http::header::CONTENT_LENGTH);
        let response = http::Response::from_parts(parts, Full::new(Bytes::new()));
        return (response, Conditional::NotModified);
    }
    (
        http::Response::from_parts(parts, Full::new(bytes)),
        Conditional::Full,
    )
}

/// The bytes of a body the emulator built in memory (a `Full` yields one frame, at once).
fn full_bytes(body: Full<Bytes>) -> Bytes {
    use http_body::Body as _;
    let mut body = std::pin::pin!(body);
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    match body.as_mut().poll_frame(&mut context) {
        std::task::Poll::Ready(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
        _ => Bytes::new(),
    }
}

/// Whether `If-None-Match: sent` names `etag`, compared weakly.
fn none_match_hits(sent: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(etag);
    sent.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || opaque(tag) == ours)
}

/// `Last-Modified` (HTTP date, and epoch seconds) of a single resource that says when it last
/// changed (a top-level `updated_at`); lists and resources without one get none.
fn last_modified(body: &[u8]) -> Option<(String, i64)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = value.as_object()?.get("updated_at")?.as_str()?;
    let at = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    let http_date = at
        .with_timezone(&chrono::Utc)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    Some((http_date, at.timestamp()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(headers: &[(&str, &str)]) -> Request {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        Request {
            method: http::Method::GET,
            path: "/x".into(),
            query: Vec::new(),
            headers: map,
            body: Bytes::new(),
            base: String::new(),
        }
    }

    fn answer(body: &str) -> Response {
        crate::http_util::json_response(200, &serde_json::from_str(body).unwrap())
    }

    #[test]
    fn a_get_gets_a_weak_tag_and_a_matching_one_gets_304() {
        let (first, outcome) = apply(&get(&[]), answer(r#"{"a":1}"#));
        assert_eq!(outcome, Conditional::Full);
        let tag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert!(tag.starts_with("W/\"") && tag.len() == 64 + 4, "{tag}");
        let strong = tag.trim_start_matches("W/");
        let (again, outcome) = apply(
            &get(&[("if-none-match", &format!("\"other\", {strong}"))]),
            answer(r#"{"a":1}"#),
        );
        assert_eq!(outcome, Conditional::NotModified);
        assert_eq!(again.status(), 304);
        assert_eq!(again.headers()["etag"], tag.as_str());
        let (changed, outcome) = apply(&get(&[("if-none-match", &tag)]), answer(r#"{"a":2}"#));
        assert_eq!(
            (changed.status().as_u16(), outcome),
            (200, Conditional::Full)
        );
    }

    #[test]
    fn if_modified_since_is_compared_with_updated_at() {
        let body = r#"{"name":"X","updated_at":"2026-01-02T03:04:05Z"}"#;
        let (first, _) = apply(&get(&[]), answer(body));
        let date = first.headers()["last-modified"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(date, "Fri, 02 Jan 2026 03:04:05 GMT");
        let (same, outcome) = apply(&get(&[("if-modified-since", &date)]), answer(body));
        assert_eq!(
            (same.status().as_u16(), outcome),
            (304, Conditional::NotModified)
        );
        let earlier = "Thu, 01 Jan 2026 00:00:00 GMT";
        let (_, outcome) = apply(&get(&[("if-modified-since", earlier)]), answer(body));
        assert_eq!(outcome, Conditional::Full);
        let (list, _) = apply(
            &get(&[]),
            answer(r#"[{"updated_at":"2026-01-02T03:04:05Z"}]"#),
        );
        assert!(list.headers().get("last-modified").is_none());
    }

    #[test]
    fn errors_and_writes_carry_no_validators() {
        let missing = crate::http_util::github_error(404, "Not Found");
        let (response, _) = apply(&get(&[("if-none-match", "*")]), missing);
        assert_eq!(response.status(), 404);
        assert!(response.headers().get("etag").is_none());
    }
}
