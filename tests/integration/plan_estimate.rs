//! `--plan` says how long its GitHub changes take at least under GitHub's secondary limits
//! (as `[limits]` sets them), so a large sync is not a surprise; nothing is sent.

use crate::harness::Project;

const BATCH: &str = r#"
let batch = #{};
for i in 0..499 { batch[`PLANNED_${i}`] = secret::generate(16); }
github::put_secrets("org:acme", batch);
github::delete_secret("org:acme", "OLD_ONE");
"#;

#[test]
fn a_plan_of_500_secret_writes_says_how_long_they_take_at_least() {
    let project = Project::new();
    project
        .config("[scope]\ngithub_owners = [\"acme\"]\n")
        .playbook("batch.rhai", BATCH);
    // 900 points a minute at 5 a write: 180 a minute, so three windows for 500.
    project
        .run(&["play", "batch", "--plan", "--emulate"])
        .expect_code(0)
        .stdout_has("2 changes")
        .stdout_has("GitHub: 500 secret writes: at least 2m under GitHub's secondary limits");
}

#[test]
fn the_estimate_follows_the_configured_limits() {
    let project = Project::new();
    project
        .config(
            "[scope]\ngithub_owners = [\"acme\"]\n\n[limits]\ngithub_points_per_minute = 450\n\
             github_secret_puts_are_content = true\n",
        )
        .playbook("batch.rhai", BATCH);
    // 90 writes a minute (5m for 500), and 499 content creations at 80 a minute (6m).
    project
        .run(&["play", "batch", "--plan", "--emulate"])
        .expect_code(0)
        .stdout_has("at least 6m under GitHub's secondary limits (450 points a minute");
}

#[test]
fn a_plan_without_github_changes_has_no_estimate() {
    let project = Project::new();
    project.playbook("local.rhai", "state::set(\"k\", \"v\");\n");
    let run = project.run(&["play", "local", "--plan"]);
    run.expect_code(0)
        .stdout_has("0 changes")
        .stdout_has("and 1 run-state record (-v lists them)");
    assert!(
        !run.stdout.contains("GitHub:"),
        "an estimate without GitHub changes: {}",
        run.stdout
    );
}
