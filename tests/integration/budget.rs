//! Vertex AI spend watching: the real `vertex_budget` playbook against an emulator whose token
//! usage each test shapes, as of a fixed moment (15 of March's 31 days gone), so the printed
//! figures and the alert posted to Slack are exact.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::harness::{EmulatorProcess, Project, Run};

/// Half-way through March 2026: a projection is the spend so far times 31/15.
const AS_OF: &str = "2026-03-16T00:00:00Z";

/// A project with the repository's playbook and stdlib, pointed at `emulator`.
pub fn project_with(emulator: &EmulatorProcess, extra: &str) -> Project {
    let project = Project::new();
    let url = emulator.url();
    project
        .config(&format!(
            "[scope]\ngcp_projects = [\"demo-project\"]\n\n\
             [gcp]\nproject = \"demo-project\"\nsecret_manager_url = \"{url}\"\n\
             monitoring_url = \"{url}\"\ncredentials = \"anonymous\"\n\n\
             [notify.slack.ops]\nwebhook_env = \"OPS_WEBHOOK\"\n\n{extra}"
        ))
        .playbook(
            "vertex_budget.rhai",
            include_str!("../../playbooks/vertex_budget.rhai"),
        )
        .file(
            "stdlib/figures.rhai",
            include_str!("../../stdlib/figures.rhai"),
        );
    project
}

fn play(project: &Project, emulator: &EmulatorProcess, args: &[&str]) -> Run {
    // These figures are for UTC months (15 of March's 31 days gone at AS_OF); the Pacific
    // default has tests of its own in budget_month.rs.
    play_in_zone(project, emulator, args, Some("UTC"))
}

/// `orchestra play vertex_budget ARGS`, with `[budget].month_zone` set to `zone` if given.
pub fn play_in_zone(
    project: &Project,
    emulator: &EmulatorProcess,
    args: &[&str],
    zone: Option<&str>,
) -> Run {
    let mut command = project.command();
    command
        .args(["play", "vertex_budget"])
        .args(args)
        .env("OPS_WEBHOOK", format!("{}/slack/ops", emulator.url()));
    if let Some(zone) = zone {
        command.env("ORCHESTRA_BUDGET__MONTH_ZONE", zone);
    }
    Run::from(command.output().expect("run"))
}

/// Replaces the demo usage with `points` of (model, type, tokens), all on 10 March
/// (`at: None`: now).
pub fn usage(emulator: &EmulatorProcess, at: Option<&str>, points: &[(&str, &str, u64)]) {
    let answer = emulator.call("POST", "/_emulator/monitoring/usage", "{\"clear\": true}");
    assert!(answer.contains("points"), "{answer}");
    for (model, kind, tokens) in points {
        let mut body = serde_json::json!({"model": model, "type": kind, "tokens": tokens});
        if let Some(at) = at {
            body["at"] = at.into();
        }
        let answer = emulator.call("POST", "/_emulator/monitoring/usage", &body.to_string());
        assert!(answer.contains("points"), "{answer}");
    }
}

fn slack(emulator: &EmulatorProcess) -> Vec<String> {
    emulator.slack_messages("ops")
}

const MARCH_10: Option<&str> = Some("2026-03-10T12:00:00Z");

/// An emulator whose only usage is `points` on 10 March, and a project pointed at it.
fn march(points: &[(&str, &str, u64)]) -> (EmulatorProcess, Project) {
    let emulator = EmulatorProcess::start(&Project::new());
    let project = project_with(&emulator, "");
    usage(&emulator, MARCH_10, points);
    (emulator, project)
}

/// Runs the playbook as of [`AS_OF`], with `args` as extra `--arg KEY=VALUE`s.
fn play_as_of(project: &Project, emulator: &EmulatorProcess, args: &[&str]) -> Run {
    let mut all = vec!["--arg".to_owned(), format!("as_of={AS_OF}")];
    for arg in args {
        all.extend(["--arg".to_owned(), (*arg).to_owned()]);
    }
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    play(project, emulator, &all)
}

#[test]
fn spend_well_below_the_threshold_is_ok_and_posts_nothing() {
    // $12.50 of input and $20 of output at gemini-2.5-pro's list price.
    let (emulator, project) = march(&[
        ("gemini-2.5-pro", "input", 10_000_000),
        ("gemini-2.5-pro", "output", 2_000_000),
    ]);
    play_as_of(&project, &emulator, &[])
        .expect_code(0)
        .stdout_has("Vertex AI spend in demo-project, 2026-03 (as of 2026-03-16T00:00:00Z)")
        .stdout_has("gemini-2.5-pro              10.0M     2.0M     $32.50")
        .stdout_has("spent $32.50 of $500.00 (7%), projected $67.17 by the month's end; alert at 80% ($400.00)")
        .stdout_has("advice: gemini-2.5-pro drives 100% of the cost ($32.50)")
        .stdout_has("advice: the same tokens on gemini-2.0-flash-lite would have cost $1.35, $31.15 less")
        .stdout_has("level: ok");
    assert!(slack(&emulator).is_empty());
}

#[test]
fn a_projection_past_the_threshold_warns_once() {
    // $50 + $160 = $210 by the 16th: $434 by the month's end, past the $400 threshold.
    let (emulator, project) = march(&[
        ("gemini-2.5-pro", "input", 40_000_000),
        ("gemini-2.5-pro", "output", 16_000_000),
    ]);
    play_as_of(&project, &emulator, &[])
        .expect_code(0)
        .stdout_has("spent $210.00 of $500.00 (42%), projected $434.00 by the month's end")
        .stdout_has("level: warning");
    play_as_of(&project, &emulator, &[]).expect_code(0);
    assert_eq!(
        slack(&emulator),
        [
            "[WARNING] vertex-budget: Vertex AI spend $210.00 of $500.00 for 2026-03, projected $434.00"
        ]
    );
}

#[test]
fn spend_over_the_budget_is_critical_with_advice() {
    let (emulator, project) = march(&[
        ("gemini-2.5-pro", "output", 50_000_000),
        ("gemini-2.5-flash", "output", 20_000_000),
    ]);
    play_as_of(&project, &emulator, &[])
        .expect_code(0)
        .stdout_has("spent $550.00 of $500.00 (110%), projected $1136.67 by the month's end")
        .stdout_has("advice: gemini-2.5-pro drives 91% of the cost ($500.00)")
        .stdout_has("advice: the budget is spent: $50.00 over with 16 days to go")
        .stdout_has("level: critical");
    assert_eq!(
        slack(&emulator),
        [
            "[CRITICAL] vertex-budget: Vertex AI spend $550.00 of $500.00 for 2026-03, projected $1136.67"
        ]
    );
}

#[test]
fn thresholds_can_be_overridden_for_a_one_off_check() {
    let emulator = EmulatorProcess::start(&Project::new());
    let project = project_with(&emulator, "");
    usage(
        &emulator,
        MARCH_10,
        &[("gemini-2.5-pro", "output", 3_000_000)],
    );
    // $30 by the 16th projects to $62: over a $60 budget.
    play_as_of(&project, &emulator, &["budget=60", "alert_at=0.5"])
    .expect_code(0)
    .stdout_has("spent $30.00 of $60.00 (50%), projected $62.00 by the month's end; alert at 50% ($30.00)")
    .stdout_has("advice: at this rate the month ends $2.00 over budget; to stay within it, spend at most $1.88 a day")
    .stdout_has("level: critical");
}

#[test]
fn the_seeded_demo_month_is_comfortably_within_budget() {
    let emulator = EmulatorProcess::start(&Project::new());
    let project = project_with(&emulator, "");
    play(&project, &emulator, &[])
        .expect_code(0)
        .stdout_has("gemini-2.5-pro")
        .stdout_has("gemini-2.0-flash-lite")
        .stdout_has("level: ok");
    assert!(slack(&emulator).is_empty());
}

#[test]
fn a_model_without_a_price_is_reported_not_counted_as_free() {
    let (emulator, project) = march(&[
        ("gemini-2.5-flash", "input", 1_000_000),
        ("gemini-3-mystery", "input", 5_000_000),
    ]);
    play_as_of(&project, &emulator, &[])
        .expect_code(0)
        .stdout_has("gemini-3-mystery             5.0M        0   no price")
        .stdout_has("spent $0.30 of $500.00")
        .stdout_has("advice: no price for gemini-3-mystery: their cost is not counted above")
        .stdout_has("level: warning");
    assert_eq!(
        slack(&emulator),
        [
            "[WARNING] vertex-budget: Vertex AI spend $0.30 of $500.00 for 2026-03, projected $0.62; no price for gemini-3-mystery"
        ]
    );
}

#[test]
fn within_says_whether_an_estimate_still_fits_this_month() {
    let emulator = EmulatorProcess::start(&Project::new());
    let project = project_with(&emulator, "");
    // $210 spent this month (the points are written now).
    usage(
        &emulator,
        None,
        &[
            ("gemini-2.5-pro", "input", 40_000_000),
            ("gemini-2.5-pro", "output", 16_000_000),
        ],
    );
    project.playbook(
        "guard.rhai",
        "print(budget::within(100));\nprint(budget::within(290.0));\nprint(budget::within(300));\n",
    );
    project
        .run(&["play", "guard"])
        .expect_code(0)
        .stdout_has("true\ntrue\nfalse");
    usage(&emulator, None, &[("unknown-model", "output", 10)]);
    project
        .run(&["play", "guard"])
        .expect_code(0)
        .stdout_has("false\nfalse\nfalse");
}

/// Adds a secret holding `payload` to the emulator's demo project.
fn budget_secret(emulator: &EmulatorProcess, id: &str, payload: &str) {
    emulator.call(
        "POST",
        &format!("/v1/projects/demo-project/secrets?secretId={id}"),
        "{\"replication\": {\"automatic\": {}}}",
    );
    let answer = emulator.call(
        "POST",
        &format!("/v1/projects/demo-project/secrets/{id}:addVersion"),
        &serde_json::json!({"payload": {"data": STANDARD.encode(payload)}}).to_string(),
    );
    assert!(answer.contains("versions/1"), "{answer}");
}

#[test]
fn a_missing_budget_secret_names_the_secret_and_the_format() {
    let emulator = EmulatorProcess::start(&Project::new());
    let project = project_with(&emulator, "[budget]\nsecret = \"no-such-budget\"\n");
    play(&project, &emulator, &[])
        .expect_code(1)
        .stderr_has("the budget secret projects/demo-project/secrets/no-such-budget ([budget].secret) does not exist or has no enabled version")
        .stderr_has("it must hold JSON such as {\"monthly_usd\": 500, \"alert_at\": 0.8}");
}

#[test]
fn a_malformed_budget_secret_is_named_and_its_payload_shown_nowhere() {
    let emulator = EmulatorProcess::start(&Project::new());
    let payloads = [
        (
            "prose-budget",
            "five hundred dollars, ask Sam-7f3a",
            "it is not JSON",
        ),
        (
            "typed-budget",
            "{\"monthly_usd\": \"five hundred, ask Sam-9c1e\"}",
            "monthly_usd is not a number above 0",
        ),
    ];
    for (id, payload, why) in payloads {
        budget_secret(&emulator, id, payload);
        let project = project_with(&emulator, &format!("[budget]\nsecret = \"{id}\"\n"));
        let run = play(&project, &emulator, &[]);
        run.expect_code(1)
            .stderr_has(&format!(
                "the budget secret projects/demo-project/secrets/{id} ([budget].secret) is malformed: {why}"
            ))
            .stderr_has("it must hold JSON such as {\"monthly_usd\": 500");
        let needles = [
            payload.to_owned(),
            "five hundred".to_owned(),
            STANDARD.encode(payload),
        ];
        crate::leaks::assert_absent(run.stdout.as_bytes(), &needles, "stdout");
        crate::leaks::assert_absent(run.stderr.as_bytes(), &needles, "stderr");
        for file in crate::leaks::files_below(&project.path().join(".orchestra")) {
            let bytes = std::fs::read(&file).expect("read");
            crate::leaks::assert_absent(&bytes, &needles, &file.display().to_string());
        }
    }
}

#[test]
fn report_budget_lists_recorded_checks_and_plans_leave_none() {
    let (emulator, project) = march(&[("gemini-2.5-pro", "output", 3_000_000)]);
    play(
        &project,
        &emulator,
        &["--arg", &format!("as_of={AS_OF}"), "--plan"],
    )
    .expect_code(0)
    .stdout_has("would record alert vertex-budget as ok (no message)");
    let empty = project.run(&["report", "budget", "--json"]);
    empty.expect_code(0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&empty.stdout).expect("json"),
        serde_json::json!([])
    );
    play_as_of(&project, &emulator, &[]).expect_code(0);
    let report = project.run(&["report", "budget", "--json"]);
    report.expect_code(0);
    let checks: Vec<serde_json::Value> = serde_json::from_str(&report.stdout).expect("json");
    assert_eq!(checks.len(), 1);
    let check = &checks[0];
    assert_eq!(check["kind"], "status");
    assert_eq!(check["level"], "ok");
    assert_eq!(check["spent_usd"], 30.0);
    assert_eq!(check["budget_usd"], 500.0);
    assert_eq!(check["per_model"][0]["model"], "gemini-2.5-pro");
    assert_eq!(check["per_model"][0]["output_tokens"], 3_000_000);
    project
        .run(&["report", "budget"])
        .expect_code(0)
        .stdout_has("demo-project")
        .stdout_has("$30.00")
        .stdout_has("gemini-2.5-pro");
}

#[test]
fn cloud_monitorings_retry_after_is_waited_out() {
    let (emulator, project) = march(&[("gemini-2.5-pro", "output", 3_000_000)]);
    emulator.fault(r#"{"path":"/v3/**","kind":"status","status":429,"retry_after":1,"count":1}"#);
    play_as_of(&project, &emulator, &[])
        .expect_code(0)
        .stderr_has("Cloud Monitoring asked to wait (Retry-After), retrying in 1s")
        .stdout_has("spent $30.00 of $500.00");
}

#[test]
fn a_failing_monitoring_service_opens_its_breaker() {
    let (emulator, project) = march(&[("gemini-2.5-pro", "output", 3_000_000)]);
    emulator.fault(r#"{"path":"/v3/**","kind":"status","status":503}"#);
    project.config(&format!(
        "{}\n[limits]\nretry_attempts = 1\n",
        std::fs::read_to_string(project.path().join("orchestra.toml")).expect("config")
    ));
    for _ in 0..5 {
        play_as_of(&project, &emulator, &[])
            .expect_code(1)
            .stderr_has("Cloud Monitoring answered UNAVAILABLE");
    }
    play_as_of(&project, &emulator, &[])
        .expect_code(1)
        .stderr_has("the monitoring circuit breaker is open");
    project
        .run(&["breakers"])
        .expect_code(0)
        .stdout_has("service:monitoring");
}

#[test]
fn a_budget_project_outside_the_scope_is_refused() {
    let emulator = EmulatorProcess::start(&Project::new());
    let project = project_with(&emulator, "[budget]\nproject = \"prod-project\"\n");
    play(&project, &emulator, &[]).expect_code(1).stderr_has(
        "project prod-project is outside the scope: add \"prod-project\" to [scope].gcp_projects",
    );
}

#[test]
fn bad_overrides_name_the_option_and_what_was_expected() {
    let emulator = EmulatorProcess::start(&Project::new());
    let project = project_with(&emulator, "");
    project.playbook(
        "options.rhai",
        r#"
for options in [#{ as_of: "yesterday" }, #{ alert_at: 1.5 }, #{ monthly_usd: 0 }, #{ month: "2026-03" }] {
    try { budget::status(options); } catch (e) { print(e.message); }
}
try { budget::within(-5); } catch (e) { print(e.message); }
"#,
    );
    project
        .run(&["play", "options"])
        .expect_code(0)
        .stdout_has("option `as_of` must be an RFC 3339 time such as \"2026-03-16T00:00:00Z\"")
        .stdout_has("option `alert_at` must be a fraction of the budget above 0 and at most 1")
        .stdout_has("option `monthly_usd` must be a budget in USD above 0")
        .stdout_has("unknown option `month`: expected as_of, alert_at or monthly_usd")
        .stdout_has("the estimate must be a cost in USD, 0 or more");
}
