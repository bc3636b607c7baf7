//! `--plan` runs reads for real and lists every change without making it.

use crate::harness::Project;

const SETS: &str = "\
let n = state::get(\"count\", 0);
state::set(\"count\", n + 1);
state::set(\"owner\", #{ team: \"ops\", on_call: [\"ana\", \"bo\"] });
let existed = state::delete(\"old\");
print(`plan mode: ${run::is_plan()}, delete answered ${existed}`);
";

#[test]
fn plan_lists_every_change_and_makes_none() {
    let project = Project::new();
    project.playbook("sets.rhai", SETS);
    let run = project.run(&["play", "sets", "--plan", "-v"]);
    run.expect_code(0).stdout_has("plan mode: true");
    let listing = run
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Plan for"))
        .map(|l| l.replace(&format!("(run {})", 1), "(run N)"))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(listing);

    project.playbook("peek.rhai", "print(state::get(\"count\") ?? \"missing\");\nprint(state::get(\"owner\") ?? \"missing\");\n");
    project
        .run(&["play", "peek"])
        .expect_code(0)
        .stdout_has("missing\nmissing");
}

#[test]
fn plan_reads_are_real() {
    let project = Project::new();
    project
        .playbook("seed.rhai", "state::set(\"count\", 41);\n")
        .playbook("sets.rhai", SETS);
    project.run(&["play", "seed"]).expect_code(0);
    project
        .run(&["play", "sets", "--plan", "-v"])
        .expect_code(0)
        .stdout_has("would set state key `count`\n       value: 42");
}

#[test]
fn plan_json_is_machine_readable_and_prints_go_to_stderr() {
    let project = Project::new();
    project.playbook("sets.rhai", SETS);
    let run = project.run(&["play", "sets", "--plan", "--json"]);
    run.expect_code(0).stderr_has("plan mode: true");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(report["mode"], "plan");
    assert_eq!(report["status"], "succeeded");
    let changes = report["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 3);
    assert_eq!(changes[0]["primitive"], "state::set");
    assert_eq!(changes[0]["target"], "state key `count`");
    assert_eq!(changes[2]["summary"], "would delete state key `old`");
}

#[test]
fn a_plan_run_is_journaled_with_planned_steps() {
    let project = Project::new();
    project.playbook("sets.rhai", SETS);
    project.run(&["play", "sets", "--plan"]).expect_code(0);
    let run = project.run(&["runs", "show", "1", "--json"]);
    run.expect_code(0);
    let detail: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(detail["run"]["mode"], "plan");
    let steps = detail["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 3);
    assert!(steps.iter().all(|s| s["status"] == "planned"));
}
