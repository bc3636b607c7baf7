//! `github::` primitives against the emulator: secrets sealed and opened to the original value,
//! scope refused before any request, plan mode changing nothing, retries through faults.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, Project};

const SCOPE: &str = "[scope]\ngithub_repos = [\"acme/api\"]\nenv = [\"DEPLOY_VALUE\"]\n";

fn run_with_token(
    project: &Project,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> crate::harness::Run {
    let mut cmd = project.command();
    cmd.args(args)
        .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    crate::harness::Run::from(cmd.output().expect("run"))
}

fn stored(state: &serde_json::Value, name: &str) -> Option<String> {
    let value =
        state["github"]["repos"]["acme/api"]["secrets"]["secrets"][name]["value"].as_str()?;
    String::from_utf8(STANDARD.decode(value).ok()?).ok()
}

#[test]
fn a_put_secret_opens_in_the_emulator_to_the_original_value() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    project.config(&emulator.config(SCOPE)).playbook(
        "put.rhai",
        "let v = secret::from_env(\"DEPLOY_VALUE\");\nprint(github::put_secret(\"acme/api\", \"DEPLOY_VALUE\", v));\nprint(github::put_secret(\"acme/api\", \"DEPLOY_VALUE\", v));\n",
    );
    let run = run_with_token(
        &project,
        &["play", "put"],
        &[("DEPLOY_VALUE", "the-original-value-123")],
    );
    run.expect_code(0).stdout_has("created\nupdated");
    assert!(!run.stdout.contains("the-original-value-123"));
    assert_eq!(
        stored(&emulator.state(), "DEPLOY_VALUE").as_deref(),
        Some("the-original-value-123")
    );
}

#[test]
fn a_target_outside_the_scope_is_refused_before_any_request() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    project.config(&emulator.config(SCOPE)).playbook(
        "out.rhai",
        "github::put_secret(\"acme/web\", \"X\", secret::generate(16));\n",
    );
    let before = emulator.state()["github"]["rate"].clone();
    let run = run_with_token(&project, &["play", "out"], &[]);
    run.expect_code(1)
        .stderr_has("github::put_secret failed: acme/web is outside the scope: add \"acme/web\" to [scope].github_repos");
    assert_eq!(
        emulator.state()["github"]["rate"],
        before,
        "no request reached GitHub"
    );
}

#[test]
fn plan_mode_lists_the_changes_and_leaves_the_emulator_unchanged() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    project.config(&emulator.config(SCOPE)).playbook(
        "plan.rhai",
        "for s in github::list_secrets(\"acme/api\") { print(s.name); }\ngithub::put_secret(\"acme/api\", \"NEW_ONE\", secret::generate(16));\ngithub::delete_secret(\"acme/api\", \"DEPLOY_KEY\");\n",
    );
    let mut before = emulator.state();
    let run = run_with_token(&project, &["play", "plan", "--plan"], &[]);
    run.expect_code(0)
        .stdout_has("DATABASE_URL\nDEPLOY_KEY")
        .stdout_has("1. would put GitHub secret NEW_ONE in acme/api")
        .stdout_has("2. would delete GitHub secret DEPLOY_KEY in acme/api");
    let mut after = emulator.state();
    // Reads are real: the rate window moved. Everything else is byte for byte the same.
    before["github"]["rate"] = serde_json::Value::Null;
    after["github"]["rate"] = serde_json::Value::Null;
    assert_eq!(before, after);
}

#[test]
fn server_errors_and_dropped_connections_are_retried_to_success() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    emulator.fault(r#"{"method":"PUT","path":"/repos/*/*/actions/secrets/*","kind":"status","status":500,"count":2}"#);
    emulator.fault(r#"{"method":"GET","path":"/repos/*/*/actions/secrets/public-key","kind":"drop","count":1}"#);
    project.config(&emulator.config(SCOPE)).playbook(
        "retry.rhai",
        "print(github::put_secret(\"acme/api\", \"RETRIED\", secret::generate(16)));\n",
    );
    let run = run_with_token(&project, &["play", "retry"], &[]);
    run.expect_code(0)
        .stdout_has("created")
        .stderr_has("retrying in");
    assert!(stored(&emulator.state(), "RETRIED").is_some());
}

#[test]
fn a_429_with_retry_after_is_waited_out() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    emulator.fault(r#"{"method":"GET","path":"/rate_limit","kind":"status","status":429,"retry_after":2,"count":1}"#);
    project
        .config(&emulator.config(SCOPE))
        .playbook("wait.rhai", "print(github::rate_limit().core.limit);\n");
    let run = run_with_token(&project, &["play", "wait"], &[]);
    run.expect_code(0)
        .stdout_has("5000")
        .stderr_has("GitHub asked to wait (Retry-After), retrying in 2s");
}

#[test]
fn a_wait_longer_than_allowed_fails_with_a_clear_message() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    emulator.fault(r#"{"method":"GET","path":"/rate_limit","kind":"status","status":403,"retry_after":3600,"count":1}"#);
    project
        .config(&emulator.config(&format!("{SCOPE}[limits]\nmax_retry_wait = \"5s\"\n")))
        .playbook("wait.rhai", "github::rate_limit();\n");
    run_with_token(&project, &["play", "wait"], &[])
        .expect_code(1)
        .stderr_has("github::rate_limit failed (status 403)")
        .stderr_has("GitHub asked to wait (Retry-After): 1h is longer than the 5s orchestra may wait (limits.max_retry_wait)");
}

#[test]
fn emulate_runs_against_the_built_in_emulator() {
    let project = Project::new();
    project.config(SCOPE).playbook(
        "emu.rhai",
        "print(github::put_secret(\"acme/api:production\", \"EMULATED\", secret::generate(16)));\nprint(github::list_secrets(\"acme/api\").len());\n",
    );
    project
        .run(&["play", "emu", "--emulate"])
        .expect_code(0)
        .stdout_has("created\n2")
        .stderr_has("built-in emulator at http://127.0.0.1:");
}

#[test]
fn a_batch_put_creates_every_secret_and_a_second_put_updates() {
    let project = Project::new();
    project
        .config("[scope]\ngithub_owners = [\"acme\"]\n")
        .playbook(
            "batch.rhai",
            r#"
let batch = #{};
for i in 0..40 { batch[`BATCH_${i}`] = secret::generate(16); }
let outcome = github::put_secrets("org:acme", batch);
print(`${outcome.len()} ${outcome.BATCH_0}`);
let again = github::put_secrets("org:acme", #{ BATCH_0: secret::generate(16) });
print(again.BATCH_0);
print(github::list_secrets("org:acme").len());
"#,
        );
    project
        .run(&["play", "batch", "--emulate"])
        .expect_code(0)
        .stdout_has("40 created\nupdated\n40");
}

#[test]
fn a_plan_of_mutations_leaves_the_emulator_state_byte_for_byte_unchanged() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    project.config(&emulator.config(SCOPE)).playbook(
        "mutations.rhai",
        "github::put_secret(\"acme/api\", \"NEW_ONE\", secret::generate(16));\ngithub::put_secrets(\"acme/api\", #{ A: secret::generate(16), B: secret::generate(16) });\ngithub::delete_secret(\"acme/api\", \"DEPLOY_KEY\");\n",
    );
    let before = emulator.call("GET", "/_emulator/state?reveal=true", "");
    run_with_token(&project, &["play", "mutations", "--plan"], &[])
        .expect_code(0)
        .stdout_has("3 changes");
    let after = emulator.call("GET", "/_emulator/state?reveal=true", "");
    assert_eq!(before, after);
}
