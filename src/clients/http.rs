//! Plain HTTP clients as orchestra builds them: no redirect is ever followed. A 3xx could send
//! a request, its body and its credentials to a host outside `[scope]`, so it is returned as
//! an answer and turned into an error naming where it pointed. Also the one percent-encoder
//! for names put into URLs. Knows nothing of Rhai.

use std::time::Duration;

/// A reqwest client builder that follows no redirects.
pub fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())
}

/// A reqwest client that follows no redirects, with `timeout` per request.
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    builder()
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))
}

/// For a 3xx answer, the message saying the redirect was refused and to which host; `None`
/// for any other status.
pub fn redirect_refused(status: u16, headers: &http::HeaderMap) -> Option<String> {
    if !(300..400).contains(&status) {
        return None;
    }
    let location = headers
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok());
    let host = location.map(|l| match host_of(l) {
        Some(host) => host.to_owned(),
        None => "a path on the same host".to_owned(),
    });
    Some(match host {
        Some(host) => {
            format!("redirect to {host} refused: orchestra follows no redirects")
        }
        None => "redirect refused: orchestra follows no redirects".to_owned(),
    })
}

/// Characters a path segment keeps as they are (RFC 3986 unreserved).
fn unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// `text` percent-encoded for use as one path segment or query value: it can add no segment,
/// query or fragment to the URL it is put in.
pub fn encode_component(text: &str) -> String {
    use std::fmt::Write as _;
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if unreserved(byte) {
            encoded.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

/// The `host[:port]` of an absolute http(s) URL (credentials before `@` left out).
fn host_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .or_else(|| url.strip_prefix("//"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(value: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::LOCATION,
            http::HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn a_redirect_names_its_host_and_never_its_path() {
        assert_eq!(
            redirect_refused(307, &location("http://user:pw@127.0.0.1:9/hook/T0KEN")).as_deref(),
            Some("redirect to 127.0.0.1:9 refused: orchestra follows no redirects")
        );
        assert_eq!(
            redirect_refused(302, &location("/elsewhere")).as_deref(),
            Some("redirect to a path on the same host refused: orchestra follows no redirects")
        );
        assert_eq!(
            redirect_refused(301, &http::HeaderMap::new()).as_deref(),
            Some("redirect refused: orchestra follows no redirects")
        );
        assert_eq!(redirect_refused(200, &location("http://x/")), None);
        assert_eq!(redirect_refused(404, &location("http://x/")), None);
    }
}
