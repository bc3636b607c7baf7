//! The families that moved to Firestore last (breakers, alerts, rate-limit and budget history)
//! seen through the binary from a second folder: a run in folder A opens a breaker, raises an
//! alert, checks the GitHub rate limits and the Vertex AI spend; folder B, sharing the state
//! (no shared file), shows them with `orchestra breakers`, `orchestra report rate-limits`,
//! `orchestra report budget` and `orchestra runs` (with A's machine name).

use orchestra::firestore_emulator::FirestoreEmulator;

use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, Project, Run};

/// A run that writes every one of those families (and playbook state), with a secret thrown
/// through the breaker and interpolated into the alert and the state.
pub const EVERY_FAMILY: &str = r#"
let s = secret::from_env("LEAK_TEST_SECRET");
try {
    breaker::guard("upstream", #{ threshold: 1, recovery: 600 }, || { throw "upstream echoed " + s; });
} catch (e) {
    print(`breaker: ${breaker::state("upstream").state}`);
}
notify::alert("leak:upstream", "warning", `upstream failed for ${s}`);
state::set("last_failure", `upstream failed for ${s}`);
let windows = monitor::github_rate_limits();
print(`rate limits: ${windows.checks.len()} checked`);
let spend = budget::usage();
print(`budget: ${spend.month}`);
"#;

/// A folder that is machine `machine` of the shared state under `prefix`, with GitHub,
/// Secret Manager, Cloud Monitoring and Slack at `emulator`.
pub fn shared_folder(emulator: &EmulatorProcess, prefix: &str, machine: &str) -> Project {
    let url = emulator.url();
    let project = Project::new();
    project
        .config(&emulator.config(&format!(
            "[scope]\ngcp_projects = [\"demo-project\"]\nenv = [\"LEAK_TEST_SECRET\"]\n\n\
             [gcp]\nproject = \"demo-project\"\nsecret_manager_url = \"{url}\"\n\
             monitoring_url = \"{url}\"\ncredentials = \"anonymous\"\n\n\
             [notify]\nalerts_channel = \"ops\"\n\n[notify.slack.ops]\nwebhook_env = \"OPS_WEBHOOK\"\n\n\
             [state]\nbackend = \"firestore\"\nproject = \"demo-project\"\nprefix = \"{prefix}\"\nmachine = \"{machine}\"\n"
        )))
        .playbook("families.rhai", EVERY_FAMILY);
    project
}

/// `orchestra ARGS` in `project`, with Firestore at `firestore`, the GitHub token and `secret`.
pub fn orchestra_in(
    project: &Project,
    firestore: &FirestoreEmulator,
    emulator: &EmulatorProcess,
    secret: &str,
    args: &[&str],
) -> Run {
    Run::from(
        project
            .command()
            .args(args)
            .env("FIRESTORE_EMULATOR_HOST", firestore.host())
            .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
            .env("OPS_WEBHOOK", format!("{}/slack/ops", emulator.url()))
            .env("LEAK_TEST_SECRET", secret)
            .output()
            .expect("run orchestra"),
    )
}

/// Plays `families` in `project` and checks it wrote every family.
pub fn record_every_family(
    project: &Project,
    firestore: &FirestoreEmulator,
    emulator: &EmulatorProcess,
    secret: &str,
) -> Run {
    let run = orchestra_in(project, firestore, emulator, secret, &["play", "families"]);
    run.expect_code(0)
        .stdout_has("breaker: open")
        .stdout_has("rate limits: ")
        .stdout_has("budget: ");
    assert!(!run.stdout.contains("rate limits: 0 "), "{}", run.stdout);
    run
}

/// The first line of `run`'s output (it succeeded) that contains `needle`.
fn line_with<'a>(run: &'a Run, needle: &str) -> &'a str {
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle}:\n{}", run.stdout))
}

#[test]
fn a_second_folder_shows_what_a_run_in_the_first_recorded() {
    let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
    let home = Project::new();
    let emulator = EmulatorProcess::start(&home);
    let secret = crate::leaks::canary();
    let a = shared_folder(&emulator, "seen", "machine-a");
    let b = shared_folder(&emulator, "seen", "machine-b");
    record_every_family(&a, &firestore, &emulator, &secret);
    let from_b = |args: &[&str]| orchestra_in(&b, &firestore, &emulator, &secret, args);

    let breakers = from_b(&["breakers"]);
    let line = line_with(&breakers, "upstream");
    assert!(line.contains("open"), "{line}");

    let limits = from_b(&["report", "rate-limits"]);
    limits.expect_code(0);
    assert!(
        limits.stdout.contains("core"),
        "B sees A's rate-limit check:\n{}",
        limits.stdout
    );
    assert!(!limits.stdout.contains("no rate-limit checks yet"));

    let budget = from_b(&["report", "budget"]);
    budget.expect_code(0).stdout_has("usage");
    assert!(!budget.stdout.contains("no budget checks yet"));

    let runs = from_b(&["runs"]);
    let families = line_with(&runs, "families");
    assert!(families.contains("machine-a"), "{families}");

    // B's own run is B's: the two machines are told apart.
    record_every_family(&b, &firestore, &emulator, &secret);
    let runs = from_b(&["runs"]);
    let machines: Vec<&str> = runs
        .stdout
        .lines()
        .filter(|l| l.contains("families"))
        .filter_map(|l| {
            ["machine-a", "machine-b"]
                .into_iter()
                .find(|m| l.contains(m))
        })
        .collect();
    assert_eq!(machines, ["machine-b", "machine-a"], "{}", runs.stdout);
}
