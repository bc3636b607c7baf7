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

#[test]
fn a_failing_service_opens_its_breaker_across_runs_without_further_requests() {
    use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess};
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    emulator.fault(r#"{"method":"GET","path":"/rate_limit","kind":"status","status":503}"#);
    project
        .config(&emulator.config("[limits]\nretry_attempts = 1\n"))
        .playbook(
            "poll.rhai",
            "for i in 0..6 { try { github::rate_limit(); } catch (e) { print(e.message); } }\n",
        );
    let run = |project: &Project| {
        crate::harness::Run::from(
            project
                .command()
                .args(["play", "poll"])
                .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
                .output()
                .expect("run"),
        )
    };
    let first = run(&project);
    first.expect_code(0);
    let lines: Vec<&str> = first.stdout.lines().collect();
    assert!(
        lines[..5].iter().all(|l| l.contains("GitHub answered 503")),
        "{lines:?}"
    );
    assert!(
        lines[5].starts_with(
            "the github circuit breaker is open after 5 failure(s), so no request was sent"
        ),
        "{}",
        lines[5]
    );

    let used_before = emulator.state()["github"]["rate"].to_string();
    let second = run(&project);
    second.expect_code(0);
    assert!(
        second
            .stdout
            .lines()
            .all(|l| l.starts_with("the github circuit breaker is open")),
        "{}",
        second.stdout
    );
    assert_eq!(
        emulator.state()["github"]["rate"].to_string(),
        used_before,
        "no request reached GitHub"
    );
    project
        .run(&["breakers"])
        .expect_code(0)
        .stdout_has("service:github")
        .stdout_has("open");
}
