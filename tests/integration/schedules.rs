//! `orchestra schedule` edits only its own crontab lines; `orchestra daemon` runs schedules
//! and stops cleanly on SIGTERM, letting a run in progress finish.

use nix::sys::signal::Signal;

use crate::harness::Project;

const OTHER_LINES: &str =
    "MAILTO=ops@example.com\n# nightly backup\n0 3 * * * /usr/local/bin/backup --all\n";

#[test]
fn installing_twice_gives_one_line_and_remove_keeps_the_others() {
    let project = Project::new();
    project
        .playbook("tick.rhai", "print(\"tick\");\n")
        .file("crontab", OTHER_LINES);
    for _ in 0..2 {
        project
            .run(&[
                "schedule",
                "install",
                "tick",
                "--every",
                "15m",
                "--crontab",
                "crontab",
            ])
            .expect_code(0);
    }
    let text = std::fs::read_to_string(project.path().join("crontab")).expect("crontab");
    assert!(text.starts_with(OTHER_LINES), "{text}");
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("# orchestra-schedule:"))
        .collect();
    assert_eq!(ours.len(), 1, "{text}");
    assert!(ours[0].starts_with("*/15 * * * * cd "), "{}", ours[0]);
    assert!(ours[0].contains(" play tick "), "{}", ours[0]);
    assert!(
        ours[0].ends_with("# orchestra-schedule:tick"),
        "{}",
        ours[0]
    );

    let list = project.run(&["schedule", "list", "--json", "--crontab", "crontab"]);
    let entries: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
    assert_eq!(entries[0]["id"], "tick");
    assert_eq!(entries[0]["cron"], "*/15 * * * *");

    project
        .run(&["schedule", "remove", "tick", "--crontab", "crontab"])
        .expect_code(0);
    let after = std::fs::read_to_string(project.path().join("crontab")).expect("crontab");
    assert_eq!(after, OTHER_LINES);
    project
        .run(&["schedule", "remove", "tick", "--crontab", "crontab"])
        .expect_code(2)
        .stderr_has("no schedule with id 'tick'");
}

#[test]
fn the_installed_line_runs_the_playbook() {
    let project = Project::new();
    project.playbook("tick.rhai", "state::set(\"ticked\", true);\n");
    project
        .command()
        .args([
            "schedule",
            "install",
            "tick",
            "--every",
            "5m",
            "--arg",
            "who=it's me",
        ])
        .env("ORCHESTRA_CRONTAB", project.path().join("crontab"))
        .status()
        .expect("install");
    let text = std::fs::read_to_string(project.path().join("crontab")).expect("crontab");
    let line = text.lines().next().expect("one line");
    let command: String = line.splitn(6, ' ').nth(5).expect("command").to_owned();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .status()
        .expect("sh");
    assert!(status.success(), "{command}");
    let runs = project.runs();
    assert_eq!(runs[0]["status"], "succeeded");
    assert_eq!(runs[0]["args"]["who"], "it's me");
}

#[test]
fn an_interval_cron_cannot_express_or_a_broken_playbook_is_refused() {
    let project = Project::new();
    project
        .playbook("tick.rhai", "print(\"tick\");\n")
        .playbook("broken.rhai", "let = ;\n");
    project
        .run(&[
            "schedule",
            "install",
            "tick",
            "--every",
            "7m",
            "--crontab",
            "c",
        ])
        .expect_code(2)
        .stderr_has("cron cannot run something every 7m");
    project
        .run(&[
            "schedule",
            "install",
            "broken",
            "--every",
            "5m",
            "--crontab",
            "c",
        ])
        .expect_code(2)
        .stderr_has("playbooks/broken.rhai:1:");
    assert!(!project.path().join("c").exists());
}

#[test]
fn the_daemon_runs_a_one_second_schedule_repeatedly_and_stops_on_sigterm() {
    let project = Project::new();
    project
        .config("[[schedules]]\nplaybook = \"tick\"\nevery = \"1s\"\n")
        .playbook("tick.rhai", "print(`tick ${run::id()}`);\n");
    let mut daemon = project.spawn(&["daemon"]);
    daemon.wait_for("stdout: tick 1");
    daemon.wait_for("stdout: tick 2");
    daemon.signal(Signal::SIGTERM);
    assert_eq!(daemon.wait(), Some(0));
    let runs = project.runs();
    assert!(runs.len() >= 2);
    assert!(runs.iter().all(|r| r["status"] == "succeeded"), "{runs:?}");
}

#[test]
fn sigterm_lets_the_daemons_run_in_progress_finish() {
    let project = Project::new();
    project
        .config("[[schedules]]\nplaybook = \"slow\"\nevery = \"1h\"\n")
        .playbook(
            "slow.rhai",
            "print(\"started\");\nsleep(1.5);\nstate::set(\"finished\", true);\nprint(\"finished\");\n",
        );
    let mut daemon = project.spawn(&["daemon"]);
    daemon.wait_for("stdout: started");
    daemon.signal(Signal::SIGTERM);
    daemon.wait_for("stdout: finished");
    assert_eq!(daemon.wait(), Some(0));
    let runs = project.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "succeeded");
}

#[test]
fn the_daemon_without_schedules_says_how_to_add_them() {
    let project = Project::new();
    project
        .run(&["daemon"])
        .expect_code(2)
        .stderr_has("add [[schedules]] entries");
}
