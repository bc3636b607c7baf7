//! `orchestra migrate report` and `monitor`: the Markdown report as a person reads it
//! (snapshot, times and ids redacted), its JSON, and the live view in a pseudo-terminal.

use crate::migrate_fixture::Migration;

fn redactions() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]"),
        (r"\d+ min \d+ s|\d+\.\d s|\d+ ms", "[DURATION]"),
        (r"\(run \d+\)", "(run [ID])"),
    ]
}

/// A migration with one phase completed, one skipped and one failed: everything a report has.
fn migration_with_a_history() -> Migration {
    let migration = Migration::new();
    migration
        .run(&[
            "migrate",
            "skip",
            "WORKSTATION_CONFIG",
            "--why",
            "workstations are set up by IT",
        ])
        .expect_code(0);
    // The migration expects Firestore memory; this project runs the local backend.
    migration.edit(|text| text.replace("backend = \"local\"", "backend = \"firestore\""));
    migration
        .run(&["migrate", "execute"])
        .expect_code(1)
        .stdout_has("MEMORY_SYSTEM: failed");
    migration
}

#[test]
fn the_report_lists_phases_timeline_metrics_failures_skipped_and_next_steps() {
    let migration = migration_with_a_history();
    let report = migration.run(&["migrate", "report", "--out", "migration-report.md"]);
    report
        .expect_code(0)
        .stderr_has("wrote migration-report.md");
    let text = std::fs::read_to_string(migration.project.path().join("migration-report.md"))
        .expect("report file");
    insta::with_settings!({filters => redactions()}, {
        insta::assert_snapshot!("migration_report", text);
    });
    // Without --out it goes to stdout, the same report.
    let shown = migration.run(&["migrate", "report"]);
    shown.expect_code(0).stdout_has("## Failures");
}

#[test]
fn the_json_report_has_a_format_version_and_the_failure_place() {
    let migration = migration_with_a_history();
    let run = migration.run(&["migrate", "report", "--json"]);
    run.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["failures"][0]["phase"], "MEMORY_SYSTEM");
    assert!(
        report["failures"][0]["at"]
            .as_str()
            .is_some_and(|at| at.starts_with("playbooks/migration/memory_system.rhai:")),
        "{report}"
    );
    assert_eq!(
        report["skipped"][0]["reason"],
        "workstations are set up by IT"
    );
    assert_eq!(report["phases"].as_array().map(Vec::len), Some(7));
}

#[test]
fn monitor_on_a_terminal_shows_the_running_phase_its_current_step_and_metrics() {
    let migration = Migration::new();
    // A phase that records a metric, then waits on a slow read: the monitor catches it there.
    migration.project.playbook(
        "migration/warm_up.rhai",
        "// warm_up: records a metric, then reads the enabled services (slow on purpose)\n\
         migration::phase();\nmigration::metric(\"warm_up_ms\", 42);\nservices::enabled(\"demo-project\");\n",
    );
    migration.edit(|text| {
        text.replace(
            "[[phases]]\nname = \"CORE_INFRASTRUCTURE\"",
            "[[phases]]\nname = \"WARM_UP\"\nexecute = \"playbooks/migration/warm_up.rhai\"\n\
             verify = \"playbooks/migration/warm_up.rhai\"\n\n[[phases]]\nname = \"CORE_INFRASTRUCTURE\"",
        )
    });
    migration.slow_service_listing(30_000);
    let _execute = migration
        .project
        .spawn(&["migrate", "execute", "--phase", "WARM_UP"]);
    migration.wait_for_status("WARM_UP", "in_progress");
    let deadline = std::time::Instant::now() + crate::harness::PATIENCE;
    let screen = loop {
        let screen = migration.project.on_a_terminal(
            &["migrate", "monitor", "--every", "200ms", "--for", "1s"],
            &[],
        );
        if screen.contains("services::enabled services of demo-project (started)")
            || std::time::Instant::now() > deadline
        {
            break screen;
        }
    };
    assert!(screen.contains("WARM_UP running for"), "{screen}");
    assert!(
        screen.contains("current step 2: services::enabled services of demo-project (started)"),
        "{screen}"
    );
    assert!(screen.contains("metrics: warm_up_ms=42"), "{screen}");
    assert!(
        screen.contains("CORE_INFRASTRUCTURE  not_started"),
        "{screen}"
    );
}

#[test]
fn monitor_off_a_terminal_prints_plain_frames() {
    let migration = Migration::new();
    migration
        .run(&["migrate", "execute", "--phase", "CORE_INFRASTRUCTURE"])
        .expect_code(0);
    let run = migration.run(&["migrate", "monitor", "--every", "100ms", "--for", "1s"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .matches("migration demo-project (project demo-project) at")
            .count()
            >= 2,
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\x1b'), "{:?}", run.stdout);
    run.stdout_has("CORE_INFRASTRUCTURE  completed");
}
