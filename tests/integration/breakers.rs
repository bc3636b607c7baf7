//! `breaker::call` opens after N failures, refuses fast while open, lets one trial through
//! after the recovery time, and keeps its state across runs.

use crate::harness::Project;

const FLAKY: &str = r#"
let outcome = [];
for i in 0..4 {
    try {
        breaker::guard("flaky", #{ threshold: 3, recovery: 1 }, || { throw "service said 503"; });
    } catch (e) {
        outcome.push(if type_of(e) == "map" { e.message } else { e });
    }
}
for line in outcome { print(line); }
print(breaker::state("flaky").state);
"#;

#[test]
fn a_breaker_opens_after_the_threshold_and_refuses_fast() {
    let project = Project::new();
    project.playbook("flaky.rhai", FLAKY);
    let run = project.run(&["play", "flaky"]);
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(&lines[..3], ["service said 503"; 3]);
    assert!(
        lines[3].starts_with("breaker `flaky` is open after 3 failure(s); next trial in 1s; last error: service said 503"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], "open");
}

#[test]
fn breaker_state_survives_the_run_and_a_trial_closes_it() {
    let project = Project::new();
    project
        .playbook("flaky.rhai", FLAKY)
        .playbook(
            "again.rhai",
            r#"
try { breaker::guard("flaky", #{ threshold: 3, recovery: 1 }, || 1); print("went through"); }
catch (e) { print(`refused: ${e.message}`); }
"#,
        )
        .playbook(
            "later.rhai",
            r#"
sleep(1.2);
let answer = breaker::guard("flaky", #{ threshold: 3, recovery: 1 }, || 42);
print(`trial answered ${answer}, breaker ${breaker::state("flaky").state}`);
"#,
        );
    project.run(&["play", "flaky"]).expect_code(0);
    project
        .run(&["play", "again"])
        .expect_code(0)
        .stdout_has("refused: breaker `flaky` is open after 3 failure(s)");
    let listing = project.run(&["breakers"]);
    listing
        .expect_code(0)
        .stdout_has("flaky")
        .stdout_has("open");
    project
        .run(&["play", "later"])
        .expect_code(0)
        .stdout_has("trial answered 42, breaker closed");
    let json = project.run(&["breakers", "--json"]);
    let breakers: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(breakers[0]["state"], "closed");
    assert_eq!(breakers[0]["failures"], 0);
}

#[test]
fn reset_closes_a_breaker() {
    let project = Project::new();
    project.playbook("flaky.rhai", FLAKY);
    project.run(&["play", "flaky"]).expect_code(0);
    project.run(&["breakers", "reset", "flaky"]).expect_code(0);
    project
        .run(&["breakers"])
        .expect_code(0)
        .stdout_has("no breakers yet");
    project
        .run(&["breakers", "reset", "flaky"])
        .expect_code(2)
        .stderr_has("no breaker named 'flaky'");
}
