//! One JSON call to a Google REST API for the hand-written clients (Workload Identity, Cloud
//! Run): the credentials' headers, no redirect followed, Google's error body read into a
//! [`GoogleError`], every attempt through [`GoogleCalls`] (the shared pacing and retry policy),
//! the answer parsed as the caller's type. Knows nothing of what the calls do.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::google_calls::GoogleCalls;
use super::google_error::GoogleError;
use super::google_pacing::Call;

/// What one call sends.
pub struct RestCall<'a> {
    method: http::Method,
    url: &'a str,
    body: Option<Value>,
}

/// A GET of `url`.
pub fn get(url: &str) -> RestCall<'_> {
    RestCall {
        method: http::Method::GET,
        url,
        body: None,
    }
}

/// A POST of `body` to `url`.
pub fn post(url: &str, body: Value) -> RestCall<'_> {
    RestCall {
        method: http::Method::POST,
        url,
        body: Some(body),
    }
}

/// An HTTP client, credentials and the shared call policy.
pub struct GoogleRest {
    http: reqwest::Client,
    credentials: google_cloud_auth::credentials::Credentials,
    calls: GoogleCalls,
}

impl GoogleRest {
    /// Calls made with `credentials` through `calls`, each given up after `timeout`.
    pub fn new(
        credentials: google_cloud_auth::credentials::Credentials,
        calls: GoogleCalls,
        timeout: Duration,
    ) -> Result<Self, String> {
        let http = super::http::client(timeout)
            .map_err(|e| format!("cannot build the {} client: {e}", calls.service()))?;
        Ok(Self {
            http,
            credentials,
            calls,
        })
    }

    /// The HTTP client (no redirects followed).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The calls' retry policy and cancellation.
    pub fn calls(&self) -> &GoogleCalls {
        &self.calls
    }

    async fn auth_headers(&self, service: &'static str) -> Result<http::HeaderMap, GoogleError> {
        use google_cloud_auth::credentials::CacheableResource;
        let unauthenticated = |message: String| GoogleError {
            service,
            code: "UNAUTHENTICATED".into(),
            http_status: Some(401),
            message,
        };
        match self.credentials.headers(http::Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => Ok(data),
            Ok(CacheableResource::NotModified) => {
                Err(unauthenticated("the credentials gave no headers".into()))
            }
            Err(e) => Err(unauthenticated(format!("no Google credentials: {e}"))),
        }
    }

    /// One request, its answer's JSON (`{}` for an empty body) or Google's error.
    async fn send_once(
        &self,
        service: &'static str,
        request: &RestCall<'_>,
    ) -> Result<Value, GoogleError> {
        let headers = self.auth_headers(service).await?;
        let mut sent = self
            .http
            .request(request.method.clone(), request.url)
            .headers(headers);
        if let Some(body) = &request.body {
            sent = sent.json(body);
        }
        let transport = |e: reqwest::Error| GoogleError {
            service,
            code: "UNAVAILABLE".into(),
            http_status: None,
            message: format!("no answer ({})", e.without_url()),
        };
        let response = sent.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        if let Some(refused) = super::http::redirect_refused(status, response.headers()) {
            return Err(GoogleError {
                service,
                code: "FAILED_PRECONDITION".into(),
                http_status: Some(status),
                message: refused,
            });
        }
        let bytes = response.bytes().await.map_err(transport)?;
        answer_of(service, status, &bytes)
    }

    /// `request` to `service` under the shared pacing and retry policy (`what` names it in
    /// errors; `pacing` is the quota it counts against), its answer parsed as `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        service: &'static str,
        what: &str,
        idempotent: bool,
        pacing: Call<'_>,
        request: RestCall<'_>,
    ) -> Result<T, GoogleError> {
        let value = self
            .calls
            .retried(what, idempotent, pacing, || {
                self.send_once(service, &request)
            })
            .await?;
        serde_json::from_value(value).map_err(|e| {
            GoogleError::internal(service, format!("the answer to '{what}' is malformed: {e}"))
        })
    }
}

/// Google's error body.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

/// Google's error.
#[derive(Debug, Deserialize)]
struct ErrorDetail {
    /// `NOT_FOUND`, `ABORTED`, …
    #[serde(default)]
    status: String,
    /// Google's message.
    #[serde(default)]
    message: String,
}

/// Google's answer as JSON, or the error it spelled.
pub fn answer_of(service: &'static str, status: u16, bytes: &[u8]) -> Result<Value, GoogleError> {
    if (200..300).contains(&status) {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        return serde_json::from_slice(bytes)
            .map_err(|e| GoogleError::internal(service, format!("the answer is not JSON: {e}")));
    }
    let (code, message) = match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) if !body.error.status.is_empty() => (body.error.status, body.error.message),
        Ok(body) => (code_of_status(status).to_owned(), body.error.message),
        Err(_) => (
            code_of_status(status).to_owned(),
            String::from_utf8_lossy(bytes).chars().take(200).collect(),
        ),
    };
    Err(GoogleError {
        service,
        code,
        http_status: Some(status),
        message,
    })
}

/// The canonical code an HTTP status stands for, when the body does not say.
fn code_of_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_googles_json_or_the_error_it_spells() {
        assert_eq!(answer_of("IAM", 200, b"").unwrap(), serde_json::json!({}));
        let spelled = answer_of(
            "IAM",
            409,
            br#"{"error":{"code":409,"status":"ABORTED","message":"There were concurrent policy changes."}}"#,
        )
        .unwrap_err();
        assert!(spelled.is_etag_conflict());
        assert_eq!(spelled.message, "There were concurrent policy changes.");
        let proxy = answer_of("IAM", 503, b"<html>upstream down</html>").unwrap_err();
        assert_eq!(
            (proxy.code.as_str(), proxy.http_status),
            ("UNAVAILABLE", Some(503))
        );
        assert_eq!(proxy.retry(true), crate::clients::retry::Retry::Backoff);
        let cut = answer_of("IAM", 200, b"{\"name\": ").unwrap_err();
        assert_eq!(cut.code, "INTERNAL");
    }
}
