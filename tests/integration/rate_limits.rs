//! `playbooks/monitor_rate_limits.rhai` against the emulator: a window drained by real
//! requests warns, then goes critical, then clears, one Slack message each; exhaustion is
//! projected from two checks; every credential (tokens and an app installation) is checked;
//! `orchestra report rate-limits` shows the history.

use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, Project, Run};

fn messages(emulator: &EmulatorProcess) -> Vec<String> {
    emulator.slack_messages("ops")
}

/// A project with the real playbook, watching the main credential and `ci` (a PAT).
fn watching(emulator: &EmulatorProcess, extra: &str) -> Project {
    let project = Project::new();
    project
        .file(
            "playbooks/monitor_rate_limits.rhai",
            include_str!("../../playbooks/monitor_rate_limits.rhai"),
        )
        .file("stdlib/report.rhai", include_str!("../../stdlib/report.rhai"))
        .file("stdlib/fmt.rhai", include_str!("../../stdlib/fmt.rhai"))
        .config(&emulator.config(&format!(
            "[[github.credentials]]\nname = \"ci\"\ntoken_env = \"CI_TOKEN\"\n\n{extra}\n[notify.slack.ops]\nwebhook_env = \"OPS_WEBHOOK\"\n"
        )));
    project
}

fn check(project: &Project, emulator: &EmulatorProcess, ci_token: &str) -> Run {
    Run::from(
        project
            .command()
            .args(["play", "monitor_rate_limits"])
            .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
            .env("CI_TOKEN", ci_token)
            .env("OPS_WEBHOOK", format!("{}/slack/ops", emulator.url()))
            .output()
            .expect("run"),
    )
}

fn set_window(emulator: &EmulatorProcess, token: &str, limit: u32, remaining: u32) {
    let answer = emulator.call(
        "POST",
        "/_emulator/github/rate-limit",
        &format!(r#"{{"token":"{token}","limit":{limit},"remaining":{remaining}}}"#),
    );
    assert!(answer.contains("ok"), "{answer}");
}

fn drain(emulator: &EmulatorProcess, token: &str, requests: usize) {
    for _ in 0..requests {
        let answer = emulator.get_as(token, "/user");
        assert!(answer.contains("demo-user"), "{answer}");
    }
}

#[test]
fn a_drained_window_warns_then_goes_critical_then_clears_with_one_message_each() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    let ci = emulator.mint_pat();
    set_window(&emulator, &ci, 100, 100);
    let project = watching(&emulator, "");

    check(&project, &emulator, &ci)
        .expect_code(0)
        .stdout_has("2 credentials checked (warning at 25.0% left, critical at 10.0%): ok");
    assert!(messages(&emulator).is_empty());

    drain(&emulator, &ci, 80);
    check(&project, &emulator, &ci)
        .expect_code(0)
        .stdout_has("20 / 100")
        .stdout_has("<- warning")
        .stdout_has("ci: core has 20 of 100 requests left (20%)");
    assert_eq!(messages(&emulator).len(), 1);
    assert!(
        messages(&emulator)[0].starts_with("[WARNING] github-rate-limit:ci: ci (token)"),
        "{:?}",
        messages(&emulator)
    );

    check(&project, &emulator, &ci).expect_code(0);
    assert_eq!(messages(&emulator).len(), 1, "unchanged: not repeated");

    drain(&emulator, &ci, 12);
    check(&project, &emulator, &ci)
        .expect_code(0)
        .stdout_has("8 / 100")
        .stdout_has("<- critical");
    assert_eq!(messages(&emulator).len(), 2);
    assert!(messages(&emulator)[1].starts_with("[CRITICAL] github-rate-limit:ci:"));

    set_window(&emulator, &ci, 100, 100);
    check(&project, &emulator, &ci)
        .expect_code(0)
        .stdout_has("advice: none needed");
    assert_eq!(
        messages(&emulator)[2],
        "[resolved] github-rate-limit:ci: ci (token) is back within its rate limits"
    );
    assert_eq!(messages(&emulator).len(), 3);
    assert!(
        messages(&emulator)
            .iter()
            .all(|m| !m.contains(&ci) && !m.contains(DEMO_GITHUB_TOKEN)),
        "no token in an alert"
    );
}

#[test]
fn exhaustion_is_projected_from_two_checks_and_busy_work_pointed_at_the_app() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    emulator.store_app_key("github-app-key");
    let ci = emulator.mint_pat();
    set_window(&emulator, &ci, 1000, 1000);
    let project = watching(
        &emulator,
        &format!(
            "[[github.credentials]]\nname = \"deploy-app\"\napp_id = 1001\ninstallation_id = 2002\napp_key_secret = \"projects/demo-project/secrets/github-app-key\"\n\n[gcp]\nsecret_manager_url = \"{}\"\ncredentials = \"anonymous\"\n",
            emulator.url()
        ),
    );
    check(&project, &emulator, &ci)
        .expect_code(0)
        .stdout_has("app installation 2002")
        .stdout_has("3 credentials checked");
    drain(&emulator, &ci, 50);
    let second = check(&project, &emulator, &ci);
    second
        .expect_code(0)
        .stdout_has("950 / 1000")
        .stdout_has("runs out at")
        .stdout_has("before it resets")
        .stdout_has("ci: move its busiest job to deploy-app")
        .stdout_has("conditional requests");

    let report = project
        .run(&["report", "rate-limits", "--checks", "1", "--json"])
        .expect_code(0)
        .stdout
        .clone();
    let rows: serde_json::Value = serde_json::from_str(&report).expect("json report");
    let ci_core = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["credential"] == "ci" && r["resource"] == "core")
        .expect("ci core row");
    assert_eq!(ci_core["remaining"], 950);
    assert!(ci_core["burn_per_hour"].as_f64().expect("burn") > 0.0);
    assert!(ci_core["exhausts_at"].is_i64(), "{ci_core}");
    project
        .run(&["report", "rate-limits"])
        .expect_code(0)
        .stdout_has("CREDENTIAL")
        .stdout_has("deploy-app");
}

#[test]
fn a_credential_that_cannot_be_checked_is_critical_and_named() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    let project = watching(&emulator, "");
    check(
        &project,
        &emulator,
        "ghp_revokedOrNeverIssued000000000000000",
    )
    .expect_code(0)
    .stdout_has("ci: cannot be checked")
    .stdout_has(": critical");
    assert!(
        messages(&emulator)[0].starts_with("[CRITICAL] github-rate-limit:ci: ci cannot be checked")
    );
}

#[test]
fn a_bad_credentials_entry_names_the_entry_and_the_fix() {
    let project = Project::new();
    project
        .config("[[github.credentials]]\nname = \"ci\"\ntoken_env = \"A\"\ntoken_secret = \"b\"\n")
        .run(&["report", "rate-limits"])
        .expect_code(2)
        .stderr_has("github.credentials[0] (ci): set exactly one of token_env, token_secret")
        .stderr_has("orchestra.toml");
}
