//! `orchestra migrate`: init, execute phase by phase against the emulator, failures that stop
//! the migration and the execute that resumes from them, a killed phase, skip.

use nix::sys::signal::Signal;

use crate::migrate_fixture::Migration;

#[test]
fn init_writes_seven_phases_that_all_start_not_started() {
    let migration = Migration::new();
    let phases = migration.phases();
    let names: Vec<&str> = phases.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "CORE_INFRASTRUCTURE",
            "WORKSTATION_CONFIG",
            "MEMORY_SYSTEM",
            "HYBRID_CONFIG",
            "AI_CODING",
            "API_DEPLOYMENT",
            "VALIDATION"
        ]
    );
    assert!(phases.iter().all(|p| p["status"] == "not_started"));
    let mut check = vec!["check".to_owned()];
    for entry in
        std::fs::read_dir(migration.project.path().join("playbooks/migration")).expect("dir")
    {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        check.push(format!("playbooks/migration/{name}"));
    }
    assert_eq!(check.len(), 15, "{check:?}");
    let check: Vec<&str> = check.iter().map(String::as_str).collect();
    migration
        .run(&check)
        .expect_code(0)
        .stderr_has("checked 14 playbook(s): all compile");
    migration
        .run(&["migrate", "init", "--project", "demo-project"])
        .expect_code(2)
        .stderr_has("exists already");
}

#[test]
fn execute_phase_by_phase_does_the_work_and_records_metrics() {
    let migration = Migration::new();
    migration
        .run(&["migrate", "execute", "--phase", "CORE_INFRASTRUCTURE"])
        .expect_code(0)
        .stdout_has("CORE_INFRASTRUCTURE: completed");
    let enabled = migration.emulator.call(
        "GET",
        "/v1/projects/demo-project/services?filter=state:ENABLED",
        "",
    );
    assert!(enabled.contains("run.googleapis.com"), "{enabled}");
    let core = migration.phase("CORE_INFRASTRUCTURE");
    assert_eq!(core["metrics"]["apis_enabled"], 5.0);
    assert_eq!(migration.status_of("MEMORY_SYSTEM"), "not_started");

    migration
        .run(&["migrate", "execute", "--phase", "MEMORY_SYSTEM"])
        .expect_code(0)
        .stdout_has("MEMORY_SYSTEM: completed");
    assert!(migration.phase("MEMORY_SYSTEM")["metrics"]["memory_round_trip_ms"].is_number());

    // The rest: what orchestra cannot check ends unknown, never completed; VALIDATION checks
    // the targets the earlier phases' metrics met.
    let rest = migration.run(&["migrate", "execute"]);
    rest.expect_code(0);
    assert!(
        !rest.stdout.contains("CORE_INFRASTRUCTURE"),
        "{}",
        rest.stdout
    );
    for phase in ["WORKSTATION_CONFIG", "HYBRID_CONFIG", "AI_CODING"] {
        assert_eq!(migration.status_of(phase), "unknown", "{phase}");
        assert!(
            migration.phase(phase)["reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty())
        );
    }
    assert_eq!(migration.status_of("VALIDATION"), "completed");
    migration
        .run(&["migrate", "execute"])
        .expect_code(0)
        .stdout_has("nothing to execute");
}

#[test]
fn a_failing_phase_leaves_the_next_pending_and_execute_resumes_from_it() {
    let migration = Migration::new();
    // A required secret that is not there: the core phase fails, naming it and the line.
    migration.edit(|text| text.replace("secrets = []", "secrets = [\"api-token\"]"));
    let failed = migration.run(&["migrate", "execute"]);
    failed
        .expect_code(1)
        .stdout_has("CORE_INFRASTRUCTURE: failed")
        .stdout_has("playbooks/migration/core_infrastructure.rhai:")
        .stdout_has("secret api-token is missing");
    let core = migration.phase("CORE_INFRASTRUCTURE");
    assert_eq!(core["status"], "failed");
    assert!(
        core["error_at"]
            .as_str()
            .is_some_and(|at| at.starts_with("playbooks/migration/core_infrastructure.rhai:")),
        "{core}"
    );
    for phase in ["WORKSTATION_CONFIG", "MEMORY_SYSTEM", "VALIDATION"] {
        assert_eq!(migration.status_of(phase), "not_started", "{phase}");
    }
    migration
        .run(&["migrate", "execute", "--phase", "MEMORY_SYSTEM"])
        .expect_code(2)
        .stderr_has("depends on CORE_INFRASTRUCTURE, which is failed");

    // The operator adds the secret; execute starts again from the failed phase.
    migration.emulator.call(
        "POST",
        "/v1/projects/demo-project/secrets?secretId=api-token",
        r#"{"replication":{"automatic":{}}}"#,
    );
    let resumed = migration.run(&["migrate", "execute"]);
    resumed.expect_code(0);
    assert!(
        resumed.stdout.starts_with("CORE_INFRASTRUCTURE: completed"),
        "{}",
        resumed.stdout
    );
    assert_eq!(migration.status_of("MEMORY_SYSTEM"), "completed");
}

#[test]
fn a_killed_phase_shows_interrupted_and_the_next_execute_resumes_it() {
    let migration = Migration::new();
    migration.slow_service_listing(30_000);
    let mut execute = migration.project.spawn(&["migrate", "execute"]);
    let running = migration.wait_for_status("CORE_INFRASTRUCTURE", "in_progress");
    assert!(running["run_id"].is_number(), "{running}");
    execute.signal(Signal::SIGKILL);
    execute.wait();

    let interrupted = migration.phase("CORE_INFRASTRUCTURE");
    assert_eq!(interrupted["status"], "interrupted", "{interrupted}");
    let killed_run = interrupted["run_id"].clone();
    assert_eq!(migration.status_of("WORKSTATION_CONFIG"), "not_started");

    let resumed = migration.run(&["migrate", "execute", "--phase", "CORE_INFRASTRUCTURE"]);
    resumed
        .expect_code(0)
        .stdout_has("CORE_INFRASTRUCTURE: completed");
    // The new run is recorded as the resume of the killed one.
    let runs = migration.project.runs();
    let resume = runs
        .iter()
        .find(|r| r["resumes"] == killed_run)
        .unwrap_or_else(|| panic!("no run resumes {killed_run}: {runs:?}"));
    assert_eq!(resume["status"], "succeeded");
}

#[test]
fn skip_with_a_reason_shows_it_and_lets_dependents_run() {
    let migration = Migration::new();
    migration
        .run(&[
            "migrate",
            "skip",
            "CORE_INFRASTRUCTURE",
            "--why",
            "set up by the platform team",
        ])
        .expect_code(0);
    let core = migration.phase("CORE_INFRASTRUCTURE");
    assert_eq!(core["status"], "skipped");
    assert_eq!(core["reason"], "set up by the platform team");
    migration
        .run(&["migrate", "execute", "--phase", "MEMORY_SYSTEM"])
        .expect_code(0)
        .stdout_has("MEMORY_SYSTEM: completed");
    migration
        .run(&["migrate", "skip", "NO_SUCH_PHASE", "--why", "x"])
        .expect_code(2)
        .stderr_has("there is no phase 'NO_SUCH_PHASE'");
    migration
        .run(&["migrate", "skip", "AI_CODING", "--why", " "])
        .expect_code(2)
        .stderr_has("--why: expected a reason");
}
