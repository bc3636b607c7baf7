//! What a person reads: an error rendered once (the snippet on a terminal, one line off it),
//! plans that list what changes out there and count orchestra's own records, summaries without
//! Rhai literals, and a demo whose plan and apply see the same emulator.

use std::process::Command;

use crate::harness::Project;

const BAD: &str = "let a = 1;\nlet b = ;\n";

fn on_a_terminal(project: &Project, args: &[&str]) -> String {
    project.on_a_terminal(args, &[])
}

#[test]
fn off_a_terminal_an_error_is_one_line_and_no_snippet() {
    let project = Project::new();
    project.playbook("bad.rhai", BAD);
    let run = project.run(&["play", "bad"]);
    run.expect_code(2)
        .stderr_has("error: playbooks/bad.rhai:2:9: syntax error");
    assert_eq!(
        run.stderr.matches("syntax error").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("╭─"), "{}", run.stderr);
}

#[test]
fn on_a_terminal_an_error_is_the_snippet_alone() {
    let project = Project::new();
    project.playbook("bad.rhai", BAD);
    let shown = on_a_terminal(&project, &["play", "bad"]);
    assert!(shown.contains("╭─[playbooks/bad.rhai:2:9]"), "{shown}");
    assert!(shown.contains("let b = ;"), "{shown}");
    assert_eq!(shown.matches("syntax error").count(), 1, "{shown}");
    assert!(!shown.contains("error: playbooks/bad.rhai:2:9"), "{shown}");
}

#[test]
fn json_log_lines_keep_the_one_line_form_even_on_a_terminal() {
    let project = Project::new();
    project.playbook("bad.rhai", BAD);
    let shown = on_a_terminal(&project, &["--log-format", "json", "play", "bad"]);
    assert!(
        shown.contains("error: playbooks/bad.rhai:2:9: syntax error"),
        "{shown}"
    );
    assert!(!shown.contains("╭─"), "{shown}");
}

const MIXED: &str = "state::set(\"seen\", 1);\n\
    github::put_secret(\"acme/api\", \"NEW_ONE\", secret::generate(16));\n\
    state::set(\"posted\", true);\n";

#[test]
fn a_plan_lists_changes_out_there_and_counts_run_state_records() {
    let project = Project::new();
    project
        .config("[scope]\ngithub_owners = [\"acme\"]\n")
        .playbook("mixed.rhai", MIXED);
    let run = project.run(&["play", "mixed", "--plan", "--emulate"]);
    run.expect_code(0)
        .stdout_has("1 change\n")
        .stdout_has("  GitHub secret NEW_ONE in acme/api\n    1. would put GitHub secret NEW_ONE in acme/api\n       value: Secret(fp:")
        .stdout_has("  and 2 run-state records (-v lists them)\n");
    assert!(!run.stdout.contains("state key"), "{}", run.stdout);

    let verbose = project.run(&["play", "mixed", "--plan", "--emulate", "-v"]);
    verbose
        .expect_code(0)
        .stdout_has("  and 2 run-state records:\n")
        .stdout_has("would set state key `seen`")
        .stdout_has("would set state key `posted`");

    let json = project.run(&["play", "mixed", "--plan", "--emulate", "--json"]);
    json.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("--json parses");
    let scopes: Vec<&str> = report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["scope"].as_str().expect("scope"))
        .collect();
    assert_eq!(scopes, ["run_state", "world", "run_state"]);
}

#[test]
fn a_plan_prints_what_a_placeholder_stands_for() {
    let project = Project::new();
    project
        .config("[scope]\ngithub_owners = [\"acme\"]\ngcp_projects = [\"demo-project\"]\n")
        .playbook(
            "placeholders.rhai",
            r#"
let key = iam::create_key("deployer@demo-project.iam.gserviceaccount.com");
print(`new key: ${key.id}`);
let put = github::put_secret("acme/api", "NEW_ONE", secret::generate(16));
print(`put: ${put}`);
"#,
        );
    let run = project.run(&["play", "placeholders", "--plan", "--emulate"]);
    run.expect_code(0)
        .stdout_has("new key: (the new key)\n")
        .stdout_has("put: (written by this run)\n");
    assert!(!run.stdout.contains("planned"), "{}", run.stdout);
}

#[test]
fn fmt_writes_lists_durations_and_times_for_a_person() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let project = Project::new();
    project
        .file(
            "stdlib/fmt.rhai",
            &std::fs::read_to_string(format!("{repo}/stdlib/fmt.rhai")).expect("stdlib/fmt.rhai"),
        )
        .playbook(
            "show.rhai",
            "import \"fmt\" as fmt;\n\
             print(fmt::list([]));\n\
             print(fmt::list([\"a\"]));\n\
             print(fmt::list([\"a\", \"b\", \"c\"]));\n\
             print(fmt::bullets([\"x\", \"y\"], \"  \"));\n\
             print(fmt::duration(30 * 86400));\n\
             print(fmt::duration(86400 + 7200 + 5));\n\
             print(fmt::duration(90));\n\
             print(fmt::duration(1));\n\
             print(fmt::duration(0));\n\
             print(fmt::when(0));\n",
        );
    let run = project
        .command()
        .env("TZ", "Asia/Kolkata")
        .args(["play", "show"])
        .output()
        .expect("play");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.starts_with(
            "none\na\na, b and c\n  • x\n  • y\n30 days\n1 day 2 hours\n1 minute 30 seconds\n1 second\n0 seconds\n"
        ),
        "{stdout}"
    );
    // The epoch in the operator's zone; /etc/localtime is used when TZ names no zone file.
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last == "1970-01-01 05:30 (UTC+05:30)" || last.starts_with("1970-01-01 00:00 (UTC+00:00)"),
        "{last}"
    );
}

#[test]
fn the_demo_plan_names_the_key_its_apply_then_retires() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("emulator.json");
    let db = dir.path().join("state.db");
    let play = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_orchestra"))
            .current_dir(repo)
            .env("NO_COLOR", "1")
            .arg("--state-db")
            .arg(&db)
            .args(["play", "rotate_keys.rhai", "--emulate", "--emulate-state"])
            .arg(&state)
            .args(extra)
            .output()
            .expect("play");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let plan = play(&["--plan"]);
    let planned = plan
        .lines()
        .find_map(|l| l.split("would disable key ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the plan disables the old key")
        .to_owned();
    assert!(!plan.contains("version 0"), "{plan}");
    assert!(!plan.contains("key planned"), "{plan}");
    let apply = play(&[]);
    assert!(
        apply.contains(&format!("keys disabled: {planned}")),
        "the plan named {planned}; the apply said:\n{apply}"
    );
}

/// The demo's plan, apply and `runs show`, off a terminal, with ids, times, ports and durations
/// redacted so the snapshot shows only what a reader sees change.
#[test]
fn the_demo_reads_as_a_person_expects() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("emulator.json");
    let db = dir.path().join("state.db");
    let orchestra = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_orchestra"))
            .current_dir(repo)
            .env("NO_COLOR", "1")
            .env("TZ", "UTC")
            .arg("--state-db")
            .arg(&db)
            .args(args)
            .output()
            .expect("orchestra");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let emulated = [
        "--emulate",
        "--emulate-state",
        state.to_str().expect("utf-8 path"),
    ];
    let plan = orchestra(&[&["play", "rotate_keys.rhai", "--plan"], &emulated[..]].concat());
    let apply = orchestra(&[&["play", "rotate_keys.rhai"], &emulated[..]].concat());
    let show = orchestra(&["runs", "show", "2"]);
    let error = Project::new();
    error.playbook("bad.rhai", BAD);
    let failed = error
        .command()
        .args(["play", "bad"])
        .output()
        .expect("play");
    let failed = String::from_utf8_lossy(&failed.stderr).into_owned();
    insta::with_settings!({filters => demo_redactions()}, {
        insta::assert_snapshot!("demo_plan", plan);
        insta::assert_snapshot!("demo_apply", apply);
        insta::assert_snapshot!("demo_runs_show", show);
        insta::assert_snapshot!("demo_error", failed);
    });
}

/// What the demo's readers would see change from run to run, replaced by placeholders; and,
/// for a terminal's output, the escape codes that only move the cursor.
fn demo_redactions() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\x1b\[[0-9;?]*[A-Za-z]", ""),
        (r"\b[0-9a-f]{40}\b", "[KEY ID]"),
        (r"fp:[0-9a-f]{8}", "fp:[FP]"),
        (r"value=\d{9,}", "value=[EPOCH SECONDS]"),
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?",
            "[TIME]",
        ),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"duration: .*", "duration: [DURATION]"),
        (r"pid \d+ on \S+", "pid [PID] on [HOST]"),
        (r"/tmp/\.tmp\w+", "[TEMP]"),
        (r"\d+s \d+ms|\d+ms|\d+s", "[DURATION]"),
    ]
}

/// The same demo on a pseudo-terminal: what an operator at a shell sees, stdout and stderr
/// together, with the snippet form of an error.
#[test]
fn the_demo_on_a_terminal_reads_as_a_person_expects() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("emulator.json");
    let db = dir.path().join("state.db");
    let (state, db) = (
        state.to_str().expect("utf-8 path"),
        db.to_str().expect("utf-8 path"),
    );
    let orchestra = |args: &[&str]| {
        crate::harness::on_a_terminal_in(repo, &[&["--state-db", db], args].concat(), &[])
    };
    let emulated = ["--emulate", "--emulate-state", state];
    let plan = orchestra(&[&["play", "rotate_keys.rhai", "--plan"], &emulated[..]].concat());
    let apply = orchestra(&[&["play", "rotate_keys.rhai"], &emulated[..]].concat());
    let show = orchestra(&["runs", "show", "2"]);
    let error = Project::new();
    error.playbook("bad.rhai", BAD);
    let failed = on_a_terminal(&error, &["play", "bad"]);
    insta::with_settings!({filters => demo_redactions()}, {
        insta::assert_snapshot!("demo_plan_on_a_terminal", plan);
        insta::assert_snapshot!("demo_apply_on_a_terminal", apply);
        insta::assert_snapshot!("demo_runs_show_on_a_terminal", show);
        insta::assert_snapshot!("demo_error_on_a_terminal", failed);
    });
}
