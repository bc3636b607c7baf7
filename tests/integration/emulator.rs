//! `orchestra emulator` serves on 127.0.0.1, prints how to point clients at it, and keeps its
//! state across a restart.

use std::io::{Read, Write};

use nix::sys::signal::Signal;

use crate::harness::Project;

fn get(port: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[test]
fn the_emulator_serves_prints_settings_and_saves_state_on_sigterm() {
    let project = Project::new();
    let mut emulator = project.spawn(&["emulator", "--port", "0", "--state", "emu.json"]);
    let line = emulator.wait_for("listening on http://127.0.0.1:");
    let port = line.rsplit(':').next().expect("port").trim().to_owned();
    emulator.wait_for("gcloud config set api_endpoint_overrides/secretmanager");
    let answer = get(&port, "/rate_limit");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("x-ratelimit-limit: 60"), "{answer}");
    let secret = get(&port, "/v1/projects/demo-project/secrets");
    assert!(secret.contains("\"totalSize\":1"), "{secret}");
    assert!(secret.contains("secrets/vertex-budget"), "{secret}");
    emulator.signal(Signal::SIGTERM);
    assert_eq!(emulator.wait(), Some(0));
    let saved = std::fs::read_to_string(project.path().join("emu.json")).expect("state file");
    assert!(saved.contains("deployer@demo-project.iam.gserviceaccount.com"));
}
