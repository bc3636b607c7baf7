//! Where orchestra runs, told from the signals each platform leaves, in this order:
//! `ORCHESTRA_ENV` (an explicit name wins), GitHub Actions (`GITHUB_ACTIONS=true`), a Cloud Run
//! job (`CLOUD_RUN_JOB`) or service (`K_SERVICE`), GitHub Codespaces (`CODESPACES=true`; it sets
//! `GITHUB_TOKEN` too, which is never taken for Actions), Cloud Workstations
//! (`GOOGLE_CLOUD_WORKSTATIONS`, before any metadata probe: a workstation is a GCE VM), Cloud
//! Shell (`CLOUD_SHELL=true`), the GCE metadata server (a short-timeout probe, only when asked),
//! else local. Each answer carries the signals that decided it; no signal's value is a secret
//! (a token's presence is named, never its value). Knows nothing of the rest of the config.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde::Serialize;

/// The kind of place orchestra runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvironmentKind {
    /// Named by `ORCHESTRA_ENV`.
    Named,
    /// A GitHub Actions runner.
    GithubActions,
    /// A Cloud Run job's task.
    CloudRunJob,
    /// A Cloud Run service's instance.
    CloudRunService,
    /// A GitHub Codespace.
    Codespaces,
    /// A Cloud Workstation.
    CloudWorkstations,
    /// Cloud Shell.
    CloudShell,
    /// A Compute Engine VM (its metadata server answered).
    Gce,
    /// A person's machine, or nothing above.
    Local,
}

impl EnvironmentKind {
    /// Its name, as `[profiles.NAME]` and `[endpoints.X].NAME` use it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Named => "named",
            Self::GithubActions => "github-actions",
            Self::CloudRunJob => "cloud-run-job",
            Self::CloudRunService => "cloud-run",
            Self::Codespaces => "codespaces",
            Self::CloudWorkstations => "cloud-workstations",
            Self::CloudShell => "cloud-shell",
            Self::Gce => "gce",
            Self::Local => "local",
        }
    }
}

/// The environment found, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Environment {
    /// Its kind.
    pub kind: EnvironmentKind,
    /// Its name: the kind's, or the one `ORCHESTRA_ENV` gave.
    pub name: String,
    /// What decided it, e.g. `GITHUB_ACTIONS=true`, `GITHUB_TOKEN is set`.
    pub signals: Vec<String>,
}

impl Default for Environment {
    fn default() -> Self {
        Self {
            kind: EnvironmentKind::Local,
            name: "local".into(),
            signals: Vec::new(),
        }
    }
}

impl Environment {
    /// How a person names it: `GitHub Actions`, `Cloud Run service`, `local machine`, or the
    /// name `ORCHESTRA_ENV` gave.
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            EnvironmentKind::Named => return format!("{} (named by ORCHESTRA_ENV)", self.name),
            EnvironmentKind::GithubActions => "GitHub Actions",
            EnvironmentKind::CloudRunJob => "Cloud Run job",
            EnvironmentKind::CloudRunService => "Cloud Run service",
            EnvironmentKind::Codespaces => "GitHub Codespaces",
            EnvironmentKind::CloudWorkstations => "Cloud Workstations",
            EnvironmentKind::CloudShell => "Cloud Shell",
            EnvironmentKind::Gce => "Compute Engine",
            EnvironmentKind::Local => "local machine",
        };
        kind.to_owned()
    }
}

/// How long the metadata probe waits for an answer.
pub const METADATA_TIMEOUT: Duration = Duration::from_millis(300);

/// The environment from `lookup` (the process environment in production); `probe` is asked
/// only when no variable decided, and only when given (the GCE metadata server).
pub fn detect_with(
    lookup: impl Fn(&str) -> Option<String>,
    probe: Option<&dyn Fn() -> Option<String>>,
) -> Environment {
    let value = |name: &str| lookup(name).filter(|v| !v.is_empty());
    let is_true = |name: &str| value(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let found = |kind: EnvironmentKind, signals: Vec<String>| Environment {
        kind,
        name: kind.name().to_owned(),
        signals,
    };
    if let Some(name) = value("ORCHESTRA_ENV") {
        return Environment {
            kind: EnvironmentKind::Named,
            signals: vec![format!("ORCHESTRA_ENV={name}")],
            name,
        };
    }
    if is_true("GITHUB_ACTIONS") {
        let mut signals = vec!["GITHUB_ACTIONS=true".to_owned()];
        signals.extend(value("GITHUB_REPOSITORY").map(|r| format!("GITHUB_REPOSITORY={r}")));
        return found(EnvironmentKind::GithubActions, signals);
    }
    if let Some(job) = value("CLOUD_RUN_JOB") {
        return found(
            EnvironmentKind::CloudRunJob,
            vec![format!("CLOUD_RUN_JOB={job}")],
        );
    }
    if let Some(service) = value("K_SERVICE") {
        let mut signals = vec![format!("K_SERVICE={service}")];
        signals.extend(value("K_REVISION").map(|r| format!("K_REVISION={r}")));
        return found(EnvironmentKind::CloudRunService, signals);
    }
    if is_true("CODESPACES") {
        let mut signals = vec!["CODESPACES=true".to_owned()];
        signals.extend(value("CODESPACE_NAME").map(|n| format!("CODESPACE_NAME={n}")));
        if value("GITHUB_TOKEN").is_some() {
            signals.push("GITHUB_TOKEN is set (a Codespace's own, not Actions)".to_owned());
        }
        return found(EnvironmentKind::Codespaces, signals);
    }
    if let Some(workstation) = value("GOOGLE_CLOUD_WORKSTATIONS") {
        return found(
            EnvironmentKind::CloudWorkstations,
            vec![format!("GOOGLE_CLOUD_WORKSTATIONS={workstation}")],
        );
    }
    if is_true("CLOUD_SHELL") {
        return found(EnvironmentKind::CloudShell, vec!["CLOUD_SHELL=true".into()]);
    }
    if let Some(answer) = probe.and_then(|probe| probe()) {
        return found(EnvironmentKind::Gce, vec![answer]);
    }
    Environment::default()
}

/// The environment of this process; the metadata server is probed only with `probe_metadata`.
pub fn detect(probe_metadata: bool) -> Environment {
    let lookup = |name: &str| std::env::var(name).ok();
    let probe = || probe_metadata_server(&metadata_host(lookup), METADATA_TIMEOUT);
    detect_with(
        lookup,
        probe_metadata.then_some(&probe as &dyn Fn() -> Option<String>),
    )
}

/// Where the metadata server is: `GCE_METADATA_HOST` (as Google's libraries read it), else
/// `metadata.google.internal`.
fn metadata_host(lookup: impl Fn(&str) -> Option<String>) -> String {
    lookup("GCE_METADATA_HOST")
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "metadata.google.internal".to_owned())
}

/// Asks `host` (`NAME[:PORT]`) for `/computeMetadata/v1/` with `Metadata-Flavor: Google`; the
/// signal when it answers as the metadata server does (that header back), else none.
pub fn probe_metadata_server(host: &str, timeout: Duration) -> Option<String> {
    let target = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:80")
    };
    let address = target.to_socket_addrs().ok()?.next()?;
    let mut stream = TcpStream::connect_timeout(&address, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    write!(
        stream,
        "GET /computeMetadata/v1/ HTTP/1.1\r\nHost: {target}\r\nMetadata-Flavor: Google\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = Vec::new();
    stream.take(1024).read_to_end(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    (text.starts_with("http/1.1 200") && text.contains("metadata-flavor: google"))
        .then(|| format!("the metadata server at {target} answered"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Environment {
        detect_with(
            |name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            },
            Some(&|| Some("metadata answered".to_owned())),
        )
    }

    #[test]
    fn each_environment_is_told_by_its_signals_alone() {
        // (the variables set, the environment's name, the signal that decided it)
        type Row<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let table: &[Row] = &[
            (
                &[("ORCHESTRA_ENV", "staging")],
                "staging",
                "ORCHESTRA_ENV=staging",
            ),
            (
                &[("GITHUB_ACTIONS", "true")],
                "github-actions",
                "GITHUB_ACTIONS=true",
            ),
            (
                &[("CLOUD_RUN_JOB", "nightly")],
                "cloud-run-job",
                "CLOUD_RUN_JOB=nightly",
            ),
            (&[("K_SERVICE", "api")], "cloud-run", "K_SERVICE=api"),
            (&[("CODESPACES", "true")], "codespaces", "CODESPACES=true"),
            (
                &[("GOOGLE_CLOUD_WORKSTATIONS", "true")],
                "cloud-workstations",
                "GOOGLE_CLOUD_WORKSTATIONS=true",
            ),
            (
                &[("CLOUD_SHELL", "true")],
                "cloud-shell",
                "CLOUD_SHELL=true",
            ),
            (&[], "gce", "metadata answered"),
        ];
        for (signals, name, why) in table {
            let found = with(signals);
            assert_eq!(found.name, *name, "{signals:?}");
            assert_eq!(found.signals[0], *why, "{signals:?}");
        }
    }

    #[test]
    fn without_signals_or_a_probe_it_is_local() {
        let found = detect_with(|_| None, None);
        assert_eq!(found, Environment::default());
        let unanswered = detect_with(|_| None, Some(&|| None));
        assert_eq!(unanswered.kind, EnvironmentKind::Local);
    }

    #[test]
    fn a_codespace_with_a_github_token_is_not_actions_and_the_token_stays_unsaid() {
        let found = with(&[
            ("CODESPACES", "true"),
            ("GITHUB_TOKEN", "codespace-token-value"),
            ("CI", "true"),
        ]);
        assert_eq!(found.kind, EnvironmentKind::Codespaces);
        assert!(
            found
                .signals
                .iter()
                .any(|s| s.starts_with("GITHUB_TOKEN is set"))
        );
        assert!(!format!("{found:?}").contains("codespace-token-value"));
    }

    #[test]
    fn the_override_wins_over_every_platform_and_order_holds() {
        let named = with(&[("ORCHESTRA_ENV", "local"), ("GITHUB_ACTIONS", "true")]);
        assert_eq!(
            (named.kind, named.name.as_str()),
            (EnvironmentKind::Named, "local")
        );
        let job = with(&[("CLOUD_RUN_JOB", "j"), ("K_SERVICE", "s")]);
        assert_eq!(job.kind, EnvironmentKind::CloudRunJob);
        let workstation = with(&[
            ("GOOGLE_CLOUD_WORKSTATIONS", "true"),
            ("CLOUD_SHELL", "true"),
        ]);
        assert_eq!(workstation.kind, EnvironmentKind::CloudWorkstations);
        assert_eq!(
            with(&[("GITHUB_ACTIONS", "false")]).kind,
            EnvironmentKind::Gce
        );
    }

    #[test]
    fn the_probe_needs_the_metadata_flavor_header_back() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            for answer in [
                "HTTP/1.1 200 OK\r\nMetadata-Flavor: Google\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            ] {
                let (mut stream, _) = listener.accept().unwrap();
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                    request.push(byte[0]);
                }
                stream.write_all(answer.as_bytes()).unwrap();
            }
        });
        let timeout = Duration::from_secs(5);
        assert!(probe_metadata_server(&host, timeout).is_some());
        assert!(probe_metadata_server(&host, timeout).is_none());
        server.join().unwrap();
    }
}
