//! What the GitHub client puts on the wire, against tiny local servers: a path outside the
//! client's scope never leaves, and a redirect is never followed.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{GithubClient, GithubError, GithubScope, Idempotent};
use crate::clients::budget::RateBudget;
use crate::clients::retry::RetryPolicy;
use crate::secret::FingerprintKey;
use crate::secret::Secret;

/// A server on 127.0.0.1 that answers every request with `answer` and counts connections.
fn server(answer: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let contacted = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&contacted);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (url, contacted)
}

fn client(url: &str, scope: GithubScope) -> GithubClient {
    let policy = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    GithubClient::new(
        url,
        &Secret::new(b"ghp_test".to_vec(), &FingerprintKey::ephemeral()),
        Arc::new(RateBudget::default()),
        policy,
        Arc::new(|| false),
    )
    .unwrap()
    .with_scope(scope)
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";

#[tokio::test]
async fn a_path_outside_the_scope_never_leaves() {
    let (url, contacted) = server(OK.to_owned());
    let github = client(&url, GithubScope::new(&[], &["acme/api".into()]));
    for path in [
        "/repos/evil/x/actions/secrets/A",
        "/repos/acme/api/environments/../../../repos/evil/x/secrets",
        "/repos/acme/api/environments/%2e%2e/secrets",
        "/orgs/evil/actions/secrets",
    ] {
        let err = github
            .request(http::Method::GET, path, None, Idempotent::Yes)
            .await
            .unwrap_err();
        assert!(matches!(err, GithubError::OutOfScope(_)), "{path}: {err}");
    }
    github
        .request(
            http::Method::GET,
            "/repos/acme/api/actions/secrets",
            None,
            Idempotent::Yes,
        )
        .await
        .unwrap();
    assert_eq!(
        contacted.load(Ordering::SeqCst),
        1,
        "only the in-scope call"
    );
}

#[tokio::test]
async fn a_redirect_is_refused_and_its_target_never_contacted() {
    let (elsewhere, contacted) = server(OK.to_owned());
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere}/repos/acme/api/actions/secrets/A\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (url, _) = server(redirect);
    let github = client(&url, GithubScope::new(&["acme".into()], &[]));
    let body = serde_json::json!({"encrypted_value": "x", "key_id": "1"});
    let err = github
        .request(
            http::Method::PUT,
            "/repos/acme/api/actions/secrets/A",
            Some(&body),
            Idempotent::Yes,
        )
        .await
        .unwrap_err();
    let host = elsewhere.trim_start_matches("http://");
    assert_eq!(
        err.to_string(),
        format!("GitHub answered 307: redirect to {host} refused: orchestra follows no redirects")
    );
    assert_eq!(contacted.load(Ordering::SeqCst), 0);
}
