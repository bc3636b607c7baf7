//! A reader that goes away (`orchestra doc | head -1`): orchestra ends like a Unix tool, quietly,
//! instead of reporting an internal error.

use std::io::Read;
use std::process::Stdio;

use crate::harness::Project;

/// The status of a process that wrote to a closed pipe (128 + SIGPIPE).
const CLOSED_STDOUT_STATUS: i32 = 141;

/// Runs `orchestra ARGS` with its stdout closed before it writes a byte (the reader went
/// away); gives its exit code and what it wrote to stderr.
fn with_stdout_closed(project: &Project, args: &[&str]) -> (Option<i32>, String) {
    let mut child = project
        .command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start orchestra");
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("wait for orchestra");
    (status.code(), stderr)
}

#[test]
fn a_closed_stdout_ends_the_listing_quietly() {
    let project = Project::new();
    // `doc` writes more than a pipe's buffer, so the write fails whatever the timing.
    let (code, stderr) = with_stdout_closed(&project, &["doc"]);
    assert_eq!(code, Some(CLOSED_STDOUT_STATUS), "stderr: {stderr}");
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
    let (_, stderr) = with_stdout_closed(&project, &["play", "chatty"]);
    assert!(!stderr.contains("internal error"), "{stderr}");
    let runs = project.runs();
    assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
}
