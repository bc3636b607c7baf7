//! Pacing under Google's quotas, against an emulator that enforces them (soft per-secret
//! limits included) on a minute and a second 30 times shorter: a storm of version adds on one
//! secret ends with every version written and no refusal; the same burst sent unpaced is
//! refused. Assertions are on the emulator's counters and state, never on wall time.

use crate::harness::{EmulatorProcess, Project};

fn quotas(emulator: &EmulatorProcess) -> serde_json::Value {
    serde_json::from_str(&emulator.call("GET", "/_emulator/google/quotas", "")).expect("quotas")
}

fn config(emulator: &EmulatorProcess, limits: &str) -> String {
    format!(
        "[gcp]\nproject = \"demo-project\"\nsecret_manager_url = \"{url}\"\niam_url = \"{url}\"\ncredentials = \"anonymous\"\n\n\
         [scope]\ngcp_projects = [\"demo-project\"]\n\n[limits]\n{limits}",
        url = emulator.url()
    )
}

#[test]
fn a_storm_of_50_version_adds_on_one_secret_is_paced_under_its_soft_limit() {
    let project = Project::new();
    let emulator = EmulatorProcess::start_with(
        &project,
        &["--time-scale", "30", "--enforce-google-soft-limits"],
    );
    project
        .config(&config(&emulator, "time_scale = 30\n"))
        .playbook(
            "storm.rhai",
            r#"
secrets::create("storm");
let last = 0;
for i in 0..50 { last = secrets::add_version("storm", secret::generate(16), #{}); }
print(`last version ${last}`);
"#,
        );
    project
        .run(&["play", "storm"])
        .expect_code(0)
        .stdout_has("last version 50");
    let counts = quotas(&emulator);
    assert_eq!(counts["refused_total"], 0, "{counts}");
    assert_eq!(counts["soft_exceeded_total"], 0, "{counts}");
    assert_eq!(
        counts["admitted"]["secretmanager.googleapis.com/secret_modify_requests"], 100,
        "each add counts against the per-second and the per-minute window: {counts}"
    );
    let state = emulator.state();
    let versions = state["google"]["secrets"]["projects/demo-project/secrets/storm"]["versions"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(versions, 50);
}

#[test]
fn the_same_storm_unpaced_is_refused_by_the_per_secret_limit() {
    let project = Project::new();
    let emulator = EmulatorProcess::start_with(&project, &["--enforce-google-soft-limits"]);
    emulator.call(
        "POST",
        "/v1/projects/demo-project/secrets?secretId=storm",
        r#"{"replication":{"automatic":{}}}"#,
    );
    let refused = (0..10)
        .map(|_| {
            emulator.call(
                "POST",
                "/v1/projects/demo-project/secrets/storm:addVersion",
                r#"{"payload":{"data":"eA=="}}"#,
            )
        })
        .filter(|answer| answer.contains("RESOURCE_EXHAUSTED"))
        .count();
    assert!(refused > 0, "ten adds in a row were all admitted");
    assert_eq!(quotas(&emulator)["refused_total"], refused as u64);
}

#[test]
fn a_zero_quota_in_the_config_is_refused_naming_the_field() {
    let project = Project::new();
    project
        .config("[limits.google]\nsecret_manager_write_per_minute = 0\n")
        .playbook("noop.rhai", "print(1);\n");
    project
        .run(&["play", "noop"])
        .expect_code(2)
        .stderr_has("limits.google.secret_manager_write_per_minute: expected a number of requests of at least 1, found 0");
}
