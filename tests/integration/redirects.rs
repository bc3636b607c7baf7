//! No HTTP client of orchestra follows a redirect: a 307 from an allowed host to a second
//! local listener is an error naming that host, and the listener is never contacted. What a
//! script sees of a failed post is the status only, never the remote's echo of its body.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::harness::{DEMO_GITHUB_TOKEN, Project};

/// A local HTTP server answering every request with `answer(request_body)`; counts requests.
pub struct Server {
    host: String,
    requests: Arc<AtomicUsize>,
}

impl Server {
    pub fn start(answer: impl Fn(&str) -> String + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let host = listener.local_addr().expect("addr").to_string();
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                let body = read_body(&mut stream);
                let _ = stream.write_all(answer(&body).as_bytes());
            }
        });
        Self { host, requests }
    }

    /// A server that answers 307 to `location`.
    pub fn redirecting_to(location: String) -> Self {
        Self::start(move |_| {
            format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        })
    }

    /// A server that answers 200 `ok`.
    pub fn accepting() -> Self {
        Self::start(|_| text(200, "ok"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.host)
    }

    /// Its `127.0.0.1:PORT`.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn contacted(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

pub fn text(status: u16, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one request's head and body; returns the body.
fn read_body(stream: &mut std::net::TcpStream) -> String {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    String::from_utf8_lossy(&body).into_owned()
}

fn refused(host: &str) -> String {
    format!("307: redirect to {host} refused: orchestra follows no redirects")
}

#[test]
fn notify_post_refuses_a_redirect_and_never_reaches_its_target() {
    let elsewhere = Server::accepting();
    let allowed = Server::redirecting_to(elsewhere.url("/collect"));
    let project = Project::new();
    project
        .config(&format!("[scope]\nhttp_hosts = [\"{}\"]\n", allowed.host))
        .playbook(
            "post.rhai",
            &format!(
                "try {{ print(`status ${{notify::post(\"{}\", #{{ text: \"report\" }})}}`); }} catch (e) {{ print(`refused: ${{e.message}}`); }}\n",
                allowed.url("/hook")
            ),
        );
    project
        .run(&["play", "post"])
        .expect_code(0)
        .stdout_has(&format!(
            "refused: {} answered {}",
            allowed.host,
            refused(&elsewhere.host)
        ));
    assert_eq!(allowed.contacted(), 1);
    assert_eq!(elsewhere.contacted(), 0, "the redirect was followed");
}

#[test]
fn notify_slack_refuses_a_redirect_and_never_reaches_its_target() {
    let elsewhere = Server::accepting();
    let webhook = Server::redirecting_to(elsewhere.url("/services/T/B/X"));
    let project = Project::new();
    project
        .config("[notify.slack.ops]\nwebhook_env = \"OPS_WEBHOOK\"\n")
        .playbook(
            "say.rhai",
            "try { notify::slack(\"ops\", \"rotated\"); print(\"delivered\"); } catch (e) { print(`refused: ${e.message}`); }\n",
        );
    let output = project
        .command()
        .args(["play", "say"])
        .env("OPS_WEBHOOK", webhook.url("/services/T/B/SECRETPATH"))
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "refused: Slack answered {}",
            refused(&elsewhere.host)
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("SECRETPATH"), "{stdout}");
    assert_eq!(elsewhere.contacted(), 0, "the redirect was followed");
}

#[test]
fn the_github_client_refuses_a_redirect_and_never_reaches_its_target() {
    let elsewhere = Server::accepting();
    let github = Server::redirecting_to(elsewhere.url("/rate_limit"));
    let project = Project::new();
    project
        .config(&format!(
            "[github]\napi_url = \"{}\"\ntoken_env = \"ORCHESTRA_TEST_GITHUB_TOKEN\"\n",
            github.url("")
        ))
        .playbook("limits.rhai", "github::rate_limit();\n");
    let output = project
        .command()
        .args(["play", "limits"])
        .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("GitHub answered {}", refused(&elsewhere.host))),
        "{stderr}"
    );
    assert_eq!(elsewhere.contacted(), 0, "the redirect was followed");
}

#[test]
fn the_secret_manager_client_refuses_a_redirect_and_never_reaches_its_target() {
    let elsewhere = Server::accepting();
    let google =
        Server::redirecting_to(elsewhere.url("/v1/projects/p/secrets/s/versions/1:access"));
    let project = Project::new();
    project
        .config(&format!(
            "[gcp]\nproject = \"demo-project\"\nsecret_manager_url = \"{}\"\ncredentials = \"anonymous\"\n\n[scope]\ngcp_projects = [\"demo-project\"]\n",
            google.url("")
        ))
        .playbook("read.rhai", "secrets::access(\"db-password\");\n");
    let run = project.run(&["play", "read"]);
    run.expect_code(1)
        .stderr_has("secrets::access failed (status 307)")
        .stderr_has(&format!(
            "redirect to {} refused: orchestra follows no redirects",
            elsewhere.host
        ));
    assert_eq!(google.contacted(), 1, "a refused redirect is not retried");
    assert_eq!(elsewhere.contacted(), 0, "the redirect was followed");
}

#[test]
fn a_failed_post_shows_the_status_and_nothing_of_the_remotes_echo() {
    let echo = Server::start(|body| text(400, &format!("you sent {body}")));
    let project = Project::new();
    let url = echo.url("/hook");
    project
        .config(&format!(
            "[scope]\nhttp_hosts = [\"{}\"]\nenv = [\"HELD\"]\n",
            echo.host
        ))
        .playbook(
            "guess.rhai",
            &format!(
                "let held = secret::from_env(\"HELD\");\nfor guess in [\"held-value-1234\", \"other-value-99\"] {{\n  try {{ notify::post(\"{url}\", #{{ text: guess }}); }} catch (e) {{ print(`answer: ${{e.message}}`); }}\n}}\n"
            ),
        );
    let output = project
        .command()
        .args(["play", "guess"])
        .env("HELD", "held-value-1234")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let answers: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("answer: "))
        .collect();
    assert_eq!(
        answers,
        vec![format!("answer: {} answered 400", echo.host); 2],
        "{stdout}"
    );
}
