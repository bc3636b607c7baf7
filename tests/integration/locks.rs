//! One run per lock; a lock left by a killed process is taken over; a dead run shows as
//! interrupted, never running forever.

use nix::sys::signal::Signal;

use crate::harness::Project;

const WAITS: &str = "print(\"holding\");\nsleep(30);\n";

#[test]
fn a_second_run_of_the_same_playbook_is_refused_with_the_holder() {
    let project = Project::new();
    project.playbook("wait.rhai", WAITS);
    let mut first = project.spawn(&["play", "wait"]);
    first.wait_for("holding");
    let holder = project.wait_for_run_status("running");
    let run = project.run(&["play", "wait"]);
    run.expect_code(3).stderr_has(&format!(
        "is held by run {} (pid {}",
        holder["id"],
        first.child.id()
    ));
    first.signal(Signal::SIGKILL);
    first.wait();
}

#[test]
fn a_shared_lock_name_serialises_different_playbooks() {
    let project = Project::new();
    project
        .playbook("a.rhai", WAITS)
        .playbook("b.rhai", "print(\"b ran\");\n");
    let mut first = project.spawn(&["play", "a", "--lock", "deploy"]);
    first.wait_for("holding");
    project
        .run(&["play", "b", "--lock", "deploy"])
        .expect_code(3)
        .stderr_has("lock 'deploy' is held");
    project
        .run(&["play", "b"])
        .expect_code(0)
        .stdout_has("b ran");
    first.signal(Signal::SIGKILL);
    first.wait();
}

#[test]
fn a_killed_run_shows_as_interrupted_and_the_next_run_proceeds() {
    let project = Project::new();
    project.playbook(
        "mid.rhai",
        "state::set(\"before\", 1);\nprint(\"holding\");\nsleep(30);\nstate::set(\"after\", 1);\n",
    );
    let mut first = project.spawn(&["play", "mid"]);
    first.wait_for("holding");
    first.signal(Signal::SIGKILL);
    first.wait();

    let runs = project.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "interrupted");

    project.playbook("mid.rhai", "print(state::get(\"before\") ?? \"missing\");\nprint(state::get(\"after\") ?? \"missing\");\n");
    project
        .run(&["play", "mid"])
        .expect_code(0)
        .stdout_has("1\nmissing");
}

#[test]
fn a_lock_left_by_a_killed_run_is_taken_over() {
    let project = Project::new();
    project.playbook("mid.rhai", WAITS);
    let mut first = project.spawn(&["play", "mid"]);
    first.wait_for("holding");
    first.signal(Signal::SIGKILL);
    first.wait();
    project.playbook("mid.rhai", "print(\"second\");\n");
    // `play` reaps the dead run and takes its lock before starting.
    project
        .run(&["play", "mid"])
        .expect_code(0)
        .stdout_has("second");
    let runs = project.runs();
    assert_eq!(runs[0]["status"], "succeeded");
    assert_eq!(runs[1]["status"], "interrupted");
}

#[test]
fn sigterm_stops_the_run_cleanly_as_interrupted() {
    let project = Project::new();
    project.playbook("mid.rhai", WAITS);
    let mut first = project.spawn(&["play", "mid"]);
    first.wait_for("holding");
    project.wait_for_run_status("running");
    first.signal(Signal::SIGTERM);
    assert_eq!(first.wait(), Some(130));
    let runs = project.runs();
    assert_eq!(runs[0]["status"], "interrupted");
    project
        .run(&["play", "mid", "--timeout", "1s"])
        .expect_code(1);
}
