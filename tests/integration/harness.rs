//! A small test harness: a temporary project folder, the real binary, and helpers to read
//! what a run left behind. Each test reads as a story: write files, run, assert.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen quickly before giving up.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A temporary project: `playbooks/`, `stdlib/`, an optional `orchestra.toml`.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("playbooks")).expect("playbooks dir");
        std::fs::create_dir(dir.path().join("stdlib")).expect("stdlib dir");
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `relative` (creating folders).
    pub fn file(&self, relative: &str, text: &str) -> &Self {
        let path = self.dir.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(path, text).expect("write file");
        self
    }

    /// Writes `playbooks/NAME`.
    pub fn playbook(&self, name: &str, text: &str) -> &Self {
        self.file(&format!("playbooks/{name}"), text)
    }

    pub fn config(&self, toml: &str) -> &Self {
        self.file("orchestra.toml", toml)
    }

    /// The real binary, run in the project folder with a clean environment.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orchestra"));
        in_a_clean_environment(&mut cmd, self.dir.path());
        cmd
    }

    /// Runs `orchestra ARGS` with `env` under a pseudo-terminal in this project (see
    /// [`on_a_terminal_in`]).
    pub fn on_a_terminal(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        on_a_terminal_in(self.dir.path(), args, env)
    }

    /// Runs `orchestra ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command().args(args).output().expect("run orchestra");
        Run::from(output)
    }

    /// Starts `orchestra ARGS` in the background, with stdout and stderr read line by line.
    pub fn spawn(&self, args: &[&str]) -> Background {
        self.spawn_with(args, &[])
    }

    /// Like `spawn`, with `env` set for the process.
    pub fn spawn_with(&self, args: &[&str], env: &[(&str, &str)]) -> Background {
        let mut child = self
            .command()
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn orchestra");
        let (tx, rx) = mpsc::channel();
        for (stream, name) in [
            (
                child
                    .stdout
                    .take()
                    .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
                "stdout",
            ),
            (
                child
                    .stderr
                    .take()
                    .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
                "stderr",
            ),
        ] {
            let tx = tx.clone();
            if let Some(stream) = stream {
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).lines().map_while(Result::ok) {
                        if tx.send(format!("{name}: {line}")).is_err() {
                            break;
                        }
                    }
                });
            }
        }
        Background {
            child,
            lines: rx,
            seen: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// `orchestra runs --json`, parsed.
    pub fn runs(&self) -> Vec<serde_json::Value> {
        let run = self.run(&["runs", "--json"]);
        assert_eq!(run.code, 0, "runs --json failed: {}", run.stderr);
        serde_json::from_str(&run.stdout).expect("runs JSON")
    }

    /// Waits until `orchestra runs` shows a run with `status`; returns it.
    pub fn wait_for_run_status(&self, status: &str) -> serde_json::Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(run) = self.runs().into_iter().find(|r| r["status"] == status) {
                return run;
            }
            assert!(Instant::now() < deadline, "no run reached status {status}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A finished command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts the exit code, showing the output when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn stderr_has(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }

    pub fn stdout_has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}\n--- stdout\n{}",
            self.stdout
        );
        self
    }
}

/// A command running in the background.
pub struct Background {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    pending: Vec<String>,
}

impl Background {
    /// Waits for a line (prefixed `stdout: ` or `stderr: `) containing `text`, taking it.
    /// stdout and stderr arrive in no fixed order between them, so a line that came while
    /// waiting for another stays available to the next wait.
    pub fn wait_for(&mut self, text: &str) -> String {
        if let Some(i) = self.pending.iter().position(|l| l.contains(text)) {
            return self.pending.remove(i);
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                    self.pending.push(line);
                }
                Err(_) => panic!(
                    "never saw {text:?}; output so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(self.pid(), signal).expect("send signal");
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the process to exit; its exit code (None when killed by a signal).
    pub fn wait(&mut self) -> Option<i32> {
        self.child.wait().expect("wait").code()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A separate `orchestra emulator` process, for tests that inspect its state.
pub struct EmulatorProcess {
    pub port: String,
    _process: Background,
}

/// The demo GitHub token of the emulator's built-in fixtures.
pub const DEMO_GITHUB_TOKEN: &str = "ghp_orchestraDemoToken0000000000000000";

impl EmulatorProcess {
    /// Starts `orchestra emulator --port 0` in `project`.
    pub fn start(project: &Project) -> Self {
        Self::start_with(project, &[])
    }

    /// Starts `orchestra emulator --port 0` with `extra` arguments (`--time-scale 30`).
    pub fn start_with(project: &Project, extra: &[&str]) -> Self {
        let mut args = vec!["emulator", "--port", "0"];
        args.extend_from_slice(extra);
        let mut process = project.spawn(&args);
        let line = process.wait_for("listening on http://127.0.0.1:");
        let port = line.rsplit(':').next().expect("port").trim().to_owned();
        Self {
            port,
            _process: process,
        }
    }

    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends one HTTP/1.1 request and returns the body of the answer.
    pub fn call(&self, method: &str, path: &str, body: &str) -> String {
        self.send(method, path, "", body)
    }

    /// Sends one GET with `token` as the GitHub credential; the body of the answer.
    pub fn get_as(&self, token: &str, path: &str) -> String {
        self.send(
            "GET",
            path,
            &format!("Authorization: Bearer {token}\r\n"),
            "",
        )
    }

    /// Sends one request with `token` as the GitHub credential; the body of the answer.
    pub fn send_as(&self, token: &str, method: &str, path: &str, body: &str) -> String {
        self.send(
            method,
            path,
            &format!("Authorization: Bearer {token}\r\n"),
            body,
        )
    }

    fn send(&self, method: &str, path: &str, headers: &str, body: &str) -> String {
        use std::io::{Read, Write};
        let mut stream =
            std::net::TcpStream::connect(format!("127.0.0.1:{}", self.port)).expect("connect");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )
        .expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }

    /// The emulator's state, with secret values revealed.
    pub fn state(&self) -> serde_json::Value {
        serde_json::from_str(&self.call("GET", "/_emulator/state?reveal=true", "")).expect("state")
    }

    /// Stores the demo GitHub App's private key as Secret Manager secret `id` of the demo
    /// project (version 1).
    pub fn store_app_key(&self, id: &str) {
        use base64::Engine as _;
        let demo: serde_json::Value =
            serde_json::from_str(&self.call("GET", "/_emulator/demo", "")).expect("demo");
        let app_key = demo["app_private_key"].as_str().expect("app key");
        self.call(
            "POST",
            &format!("/v1/projects/demo-project/secrets?secretId={id}"),
            r#"{"replication":{"automatic":{}}}"#,
        );
        let added = self.call(
            "POST",
            &format!("/v1/projects/demo-project/secrets/{id}:addVersion"),
            &format!(
                r#"{{"payload":{{"data":"{}"}}}}"#,
                base64::engine::general_purpose::STANDARD.encode(app_key)
            ),
        );
        assert!(added.contains("versions/1"), "{added}");
    }

    /// The texts of the messages the emulated Slack channel `name` received.
    pub fn slack_messages(&self, name: &str) -> Vec<String> {
        let body: serde_json::Value =
            serde_json::from_str(&self.call("GET", &format!("/_emulator/slack/{name}"), ""))
                .expect("json");
        body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// A new personal access token of demo-user.
    pub fn mint_pat(&self) -> String {
        let minted: serde_json::Value = serde_json::from_str(&self.call(
            "POST",
            "/_emulator/github/tokens",
            r#"{"login":"demo-user","scopes":["repo"]}"#,
        ))
        .expect("minted");
        minted["token"].as_str().expect("token").to_owned()
    }

    /// Adds a fault rule.
    pub fn fault(&self, rule: &str) {
        let answer = self.call("POST", "/_emulator/faults", rule);
        assert!(answer.contains("faults"), "fault refused: {answer}");
    }

    /// A project config that points GitHub at this emulator, plus `extra` TOML.
    pub fn config(&self, extra: &str) -> String {
        format!(
            "[github]\napi_url = \"{}\"\ntoken_env = \"ORCHESTRA_TEST_GITHUB_TOKEN\"\n\n{extra}",
            self.url()
        )
    }
}

/// Runs `orchestra ARGS` with `env` in `dir` under a pseudo-terminal (util-linux `script`), in
/// the same clean environment as [`Project::command`], and returns everything the terminal
/// showed (carriage returns dropped).
pub fn on_a_terminal_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let line = std::iter::once(env!("CARGO_BIN_EXE_orchestra"))
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = Command::new("script");
    script.args(["-qec", &line, "/dev/null"]);
    in_a_clean_environment(&mut script, dir);
    for (name, value) in env {
        script.env(name, value);
    }
    let out = script.output().expect("script (util-linux) runs");
    String::from_utf8_lossy(&out.stdout).replace('\r', "")
}

/// Runs `cmd` in `dir` with no colour, one time zone (playbooks print times in the local zone:
/// one zone for every machine), none of the caller's orchestra settings, and no stdin.
fn in_a_clean_environment(cmd: &mut Command, dir: &Path) {
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .env_remove("RUST_LOG")
        .env_remove("ORCHESTRA_CONFIG")
        .env_remove("ORCHESTRA_STATE_DB")
        .env_remove("ORCHESTRA_ENV")
        .env_remove("ORCHESTRA_PROFILE")
        .stdin(Stdio::null());
}

/// `127.0.0.1:PORT` of a port that was just free and is closed again: nothing listens there,
/// so a connection to it is refused.
pub fn closed_host() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").to_string()
}
