//! Progress as the operator sees it: a bar on a terminal that reaches the batch's count, one
//! line per 10% with no escape codes off a terminal, nothing of it in `--json` output, and the
//! `progress::` primitive for a playbook's own long steps.

use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, Project};

/// GitHub's secondary limits on a one-second minute: 500 paced writes take a few seconds.
const SCALE: &str = "60";

fn batch_of(count: usize) -> (Project, EmulatorProcess) {
    let project = Project::new();
    let emulator = EmulatorProcess::start_with(&project, &["--time-scale", SCALE]);
    project
        .config(&emulator.config(&format!(
            "[scope]\ngithub_owners = [\"acme\"]\n[limits]\ntime_scale = {SCALE}\n"
        )))
        .playbook(
            "batch.rhai",
            &format!(
                r#"
let batch = #{{}};
for i in 0..{count} {{ batch[`BAR_${{i}}`] = secret::generate(16); }}
let outcome = github::put_secrets("org:acme", batch);
print(`${{outcome.len()}} secrets written`);
"#
            ),
        );
    (project, emulator)
}

fn percent_lines(text: &str, what: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(&format!("{what}: ")) && l.contains("%)"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn five_hundred_secrets_on_a_terminal_show_a_bar_that_reaches_500() {
    let (project, _emulator) = batch_of(500);
    let shown = project.on_a_terminal(
        &["play", "batch"],
        &[("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)],
    );
    assert!(shown.contains("500 secrets written"), "{shown}");
    assert!(shown.contains("GitHub secrets ["), "no bar drawn:\n{shown}");
    assert!(
        shown.contains("500/500"),
        "the bar never reached 500:\n{shown}"
    );
    assert!(
        percent_lines(&shown, "GitHub secrets").is_empty(),
        "a terminal gets the bar, not the lines:\n{shown}"
    );
}

#[test]
fn five_hundred_secrets_piped_print_a_line_per_tenth_and_no_escape_codes() {
    let (project, _emulator) = batch_of(500);
    let run = project
        .command()
        .args(["play", "batch"])
        .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
        .output()
        .expect("run orchestra");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("500 secrets written"), "{stdout}");
    let lines = percent_lines(&stderr, "GitHub secrets");
    let expected: Vec<String> = (1..=10)
        .map(|tenth| format!("GitHub secrets: {} of 500 ({}%)", tenth * 50, tenth * 10))
        .collect();
    assert_eq!(lines.len(), 10, "{stderr}");
    for (line, want) in lines.iter().zip(&expected) {
        assert!(line.ends_with(want.as_str()), "{line} is not {want}");
    }
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(!text.contains('\u{1b}'), "escape code in {name}:\n{text}");
    }
}

#[test]
fn json_output_of_a_batch_parses_and_holds_no_progress() {
    let (project, _emulator) = batch_of(40);
    let run = project
        .command()
        .args(["play", "batch", "--json"])
        .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
        .output()
        .expect("run orchestra");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("--json output parses");
    assert!(report.is_object(), "{report}");
    assert!(!stdout.contains("GitHub secrets:"), "{stdout}");
}

#[test]
fn a_playbook_shows_its_own_steps_and_a_bad_handle_names_the_line() {
    let project = Project::new();
    project.playbook(
        "steps.rhai",
        r#"
let bar = progress::start("repositories checked", 20);
for i in 0..20 { progress::advance(bar, 1); }
progress::finish(bar);
let wait = progress::spinner("waiting for propagation");
progress::finish(wait);
progress::advance("not a bar", 1);
"#,
    );
    let run = project.run(&["play", "steps"]);
    run.expect_code(1)
        .stderr_has("repositories checked: 2 of 20 (10%)")
        .stderr_has("repositories checked: 20 of 20 (100%)")
        .stderr_has("waiting for propagation: started")
        .stderr_has("waiting for propagation: done")
        .stderr_has("expected the value progress::start or progress::spinner returned")
        .stderr_has("steps.rhai:7:");
    let shown = project.on_a_terminal(&["play", "steps"], &[]);
    assert!(shown.contains("20/20"), "{shown}");
}
