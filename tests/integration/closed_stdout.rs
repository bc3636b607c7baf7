//! A reader that goes away (`orchestra doc | head -1`): orchestra ends like a Unix tool, quietly,
//! instead of reporting an internal error.

use std::io::Read;
use std::process::Stdio;

use crate::harness::Project;

/// The status of a process that wrote to a closed pipe (128 + SIGPIPE).
const CLOSED_STDOUT_STATUS: i32 = 141;

#[test]
fn a_closed_stdout_ends_the_listing_quietly() {
    let project = Project::new();
    let mut child = project
        .command()
        .arg("doc")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start orchestra doc");
    // The reader goes away before reading a byte; `doc` writes more than a pipe's buffer, so
    // the write fails whatever the timing.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("wait for orchestra");
    assert_eq!(
        status.code(),
        Some(CLOSED_STDOUT_STATUS),
        "stderr: {stderr}"
    );
    assert!(
        !stderr.contains("internal error") && !stderr.contains("panicked"),
        "a closed stdout is not an internal error: {stderr}"
    );
}

#[test]
fn a_playbook_run_with_a_closed_stdout_still_finishes_and_is_recorded() {
    let project = Project::new();
    project.playbook(
        "chatty.rhai",
        "for i in 0..20000 { print(`line ${i} of a playbook that talks a lot`); }\n",
    );
    let mut child = project
        .command()
        .args(["play", "chatty"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start orchestra play");
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    child.wait().expect("wait for orchestra");
    assert!(!stderr.contains("internal error"), "{stderr}");
    let runs = project.runs();
    assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
}
