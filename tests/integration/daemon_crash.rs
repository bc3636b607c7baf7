//! `orchestra daemon` runs each scheduled playbook in a child process: a run whose process
//! aborts is recorded as failed with the signal, the daemon stays up and the other schedules
//! keep running; the second SIGTERM still interrupts the run in progress.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::harness::Project;

const TWO_SCHEDULES: &str = "[[schedules]]\nplaybook = \"crash\"\nevery = \"1h\"\n\n[[schedules]]\nplaybook = \"tick\"\nevery = \"1s\"\n";

#[test]
fn a_run_whose_process_aborts_is_failed_and_the_daemon_keeps_running_the_others() {
    let project = Project::new();
    project
        .config(TWO_SCHEDULES)
        .playbook("crash.rhai", "print(\"crash started\");\nsleep(60);\n")
        .playbook("tick.rhai", "print(`tick ${run::id()}`);\n");
    let mut daemon = project.spawn(&["daemon"]);
    daemon.wait_for("stdout: crash started");
    let running = project.wait_for_run_status("running");
    let child = running["pid"].as_i64().expect("pid") as i32;
    assert_ne!(
        child as u32,
        daemon.child.id(),
        "the run is not in the daemon"
    );
    kill(Pid::from_raw(child), Signal::SIGABRT).expect("abort the run's process");

    daemon.wait_for("stdout: tick 2");
    daemon.wait_for("stdout: tick 3");
    assert!(daemon.is_running(), "the daemon died with its child");
    let runs = project.runs();
    let crashed = runs.iter().find(|r| r["id"] == 1).expect("run 1");
    assert_eq!(crashed["status"], "failed", "{crashed}");
    let error = crashed["error"].as_str().unwrap_or_default();
    assert!(error.contains("killed by SIGABRT"), "{error}");
    assert!(
        runs.iter()
            .filter(|r| r["id"] != 1)
            .all(|r| r["status"] == "succeeded"),
        "{runs:?}"
    );

    daemon.signal(Signal::SIGTERM);
    assert_eq!(daemon.wait(), Some(0));
}

#[test]
fn the_second_sigterm_interrupts_the_run_in_its_child_process() {
    let project = Project::new();
    project
        .config("[[schedules]]\nplaybook = \"slow\"\nevery = \"1h\"\n")
        .playbook(
            "slow.rhai",
            "print(\"started\");\nsleep(60);\nprint(\"finished\");\n",
        );
    let mut daemon = project.spawn(&["daemon"]);
    daemon.wait_for("stdout: started");
    daemon.signal(Signal::SIGTERM);
    daemon.wait_for("stderr: stopping");
    daemon.signal(Signal::SIGTERM);
    assert_eq!(daemon.wait(), Some(0));
    let runs = project.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "interrupted", "{runs:?}");
    assert!(!daemon.seen.iter().any(|l| l.contains("finished")));
}
