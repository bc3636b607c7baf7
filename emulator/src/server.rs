//! The HTTP server: accepts connections on 127.0.0.1, reads each request (with a body limit),
//! applies injected faults, and routes by path to the service that owns it. A dropped-connection
//! fault makes the service fail, which closes the connection without an answer, as a real
//! network failure would.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use crate::faults::{self, FaultKind, FaultRule, Faults};
use crate::fixtures::DemoCredentials;
use crate::http_util::{self, GoogleCode, Request, Response};
use crate::limits::{LimitSettings, Limiter};
use crate::request_log::RequestLog;
use crate::state::State;

/// Largest request body accepted (Secret Manager's payload limit is 64 KiB; this leaves room).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every connection shares.
pub struct Shared {
    state: Mutex<State>,
    initial: State,
    state_file: Option<PathBuf>,
    faults: Mutex<Faults>,
    requests: Mutex<RequestLog>,
    limiter: Limiter,
    google_quotas: crate::google::quota::GoogleQuotas,
}

/// A request the emulator drops on purpose.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

impl Shared {
    /// State, its file, the faults active from the start, and the secondary limits.
    pub fn new(
        state: State,
        state_file: Option<PathBuf>,
        faults: Vec<FaultRule>,
        limits: LimitSettings,
    ) -> Self {
        Self {
            initial: state.clone(),
            state: Mutex::new(state),
            state_file,
            faults: Mutex::new(Faults::new(faults)),
            requests: Mutex::new(RequestLog::new(if limits.enabled {
                limits.time_scale
            } else {
                1.0
            })),
            google_quotas: crate::google::quota::GoogleQuotas::new(
                limits.enabled,
                limits.google_soft_limits_enforced,
                limits.time_scale,
            ),
            limiter: Limiter::new(limits),
        }
    }

    /// Locks the state for reading or changing.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `change` on the state and saves it (if a state file is set).
    pub fn change<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state();
        let result = change(&mut state);
        if let Some(path) = &self.state_file
            && let Err(e) = crate::state::save(&state, path)
        {
            tracing::error!("cannot save emulator state to {}: {e}", path.display());
        }
        result
    }

    /// Puts the state back as it was at start, clears every fault, and puts the calendar
    /// back on the system clock.
    pub fn reset(&self) {
        let initial = self.initial.clone();
        self.change(|current| *current = initial);
        self.faults().clear();
        self.requests().clear();
        self.limiter.reset();
        self.google_quotas.reset();
        crate::clock::reset();
    }

    /// The requests that reached the emulator (its own `/_emulator/` surface left out).
    pub fn requests(&self) -> MutexGuard<'_, RequestLog> {
        self.requests.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// GitHub's secondary limits and their refusal counts.
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// Google's request quotas and their counts.
    pub fn google_quotas(&self) -> &crate::google::quota::GoogleQuotas {
        &self.google_quotas
    }

    /// The fault rules.
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Saves the state now.
    pub fn save(&self) {
        self.change(|_| ());
    }

    /// The demo credentials as they stand.
    pub fn demo_credentials(&self) -> DemoCredentials {
        DemoCredentials::from_state(&self.state())
    }
}

/// Serves `listener` until `shutdown` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => return,
        };
        let (stream, _) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        let port = stream.local_addr().map(|a| a.port()).unwrap_or(0);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { handle(&shared, request, port).await }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
}

/// The host for absolute URLs: as the client spelled it in `Host`, with the port the connection
/// came in on when `Host` has none (google-cloud-rust sends `Host: 127.0.0.1` without the port
/// when given a custom endpoint).
fn url_host(headers: &http::HeaderMap, port: u16) -> String {
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or("127.0.0.1");
    let has_port = match host.rsplit_once(':') {
        Some((name, digits)) => {
            !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (!name.contains(':') || name.ends_with(']'))
        }
        None => false,
    };
    if has_port || port == 0 || port == 80 {
        host.to_owned()
    } else {
        format!("{host}:{port}")
    }
}

async fn handle(
    shared: &Shared,
    request: hyper::Request<Incoming>,
    port: u16,
) -> Result<Response, Dropped> {
    let (response, seq) = answer(shared, request, port).await;
    if let (Some(seq), Ok(response)) = (seq, &response) {
        shared.requests().answered(seq, response.status().as_u16());
    }
    response
}

/// The answer to `request`, and its place in the request log (the emulator's own surface is
/// not logged).
async fn answer(
    shared: &Shared,
    request: hyper::Request<Incoming>,
    port: u16,
) -> (Result<Response, Dropped>, Option<u64>) {
    let (parts, body) = request.into_parts();
    let host = url_host(&parts.headers, port);
    let raw_path = parts.uri.path().to_owned();
    let (prefix, path) = match raw_path.strip_prefix("/api/v3") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => ("/api/v3", rest.to_owned()),
        _ => ("", raw_path.clone()),
    };
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        path
    };
    let method = parts.method.clone();
    let seq = (!path.starts_with("/_emulator/")).then(|| {
        let sent = parts
            .uri
            .path_and_query()
            .map_or(raw_path.as_str(), |p| p.as_str());
        shared.requests().record(method.as_str(), sent)
    });
    (
        serve_one(shared, parts, body, host, prefix, path).await,
        seq,
    )
}

async fn serve_one(
    shared: &Shared,
    parts: http::request::Parts,
    body: Incoming,
    host: String,
    prefix: &str,
    path: String,
) -> Result<Response, Dropped> {
    let method = parts.method.clone();

    // Held until the answer is ready: GitHub's concurrency limit counts requests in flight.
    let _in_flight = if faults::is_github_path(&path) {
        let credential = http_util::credential_of(&parts.headers).unwrap_or("anonymous");
        match shared.limiter().admit(credential, &method, &path) {
            Ok(guard) => guard,
            Err(refused) => return Ok(crate::limits::refusal_response(refused)),
        }
    } else {
        None
    };

    let fault = shared.faults().take(method.as_str(), &path);
    match fault {
        Some(FaultKind::Drop) => return Err(Dropped),
        Some(FaultKind::Latency { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        Some(FaultKind::Status {
            status,
            retry_after,
            message,
        }) => {
            let mut response =
                faults::error_response(&path, status, retry_after, message.as_deref());
            if faults::is_github_path(&path) {
                crate::github::add_fault_rate_headers(shared, &parts.headers, &mut response);
            }
            return Ok(response);
        }
        None => {}
    }

    let body = match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(too_large(&path)),
    };
    let request = Request {
        method,
        query: parts
            .uri
            .query()
            .map(|q| http_util::decode_pairs(q.as_bytes()))
            .unwrap_or_default(),
        headers: parts.headers,
        body,
        base: format!("http://{host}{prefix}"),
        path,
    };
    Ok(route(shared, &request))
}

fn route(shared: &Shared, request: &Request) -> Response {
    let first = request.segments().first().copied().unwrap_or("");
    match first {
        "_emulator" => crate::admin::handle(shared, request),
        ".well-known" => crate::github::oidc::well_known(request),
        "v1" | "v2" | "v3" | "apis" => crate::google::handle(shared, request),
        "run.app" => crate::google::run::admin::serve(shared, &request.segments()[1..]),
        "token" => crate::google::oauth::token(shared, request),
        "slack" => crate::slack::handle(shared, request),
        "services" => crate::slack::handle_services(shared, request),
        _ => crate::github::handle(shared, request),
    }
}

fn too_large(path: &str) -> Response {
    let message = format!("request body larger than {BODY_LIMIT} bytes");
    if faults::is_google_path(path) {
        http_util::google_error(GoogleCode::InvalidArgument, &message)
    } else if faults::is_slack_path(path) {
        let mut r = http_util::empty_response(413);
        *r.body_mut() = Full::new(Bytes::from_static(b"request_too_large"));
        r
    } else {
        http_util::github_error(413, &message)
    }
}

#[cfg(test)]
mod tests {
    use super::url_host;

    fn host(value: &str, port: u16) -> String {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::HOST,
            http::HeaderValue::from_str(value).unwrap(),
        );
        url_host(&headers, port)
    }

    #[test]
    fn a_host_without_a_port_gets_the_connections_port() {
        assert_eq!(host("127.0.0.1", 8900), "127.0.0.1:8900");
        assert_eq!(host("127.0.0.1:8900", 8900), "127.0.0.1:8900");
        assert_eq!(host("localhost:1234", 8900), "localhost:1234");
        assert_eq!(host("[::1]", 8900), "[::1]:8900");
        assert_eq!(host("[::1]:5", 8900), "[::1]:5");
        assert_eq!(url_host(&http::HeaderMap::new(), 8900), "127.0.0.1:8900");
    }
}
