//! `orchestra check` compiles without running and reports every problem.

use crate::harness::Project;

#[test]
fn check_reports_every_problem_in_every_file() {
    let project = Project::new();
    project
        .playbook("good.rhai", "state::set(\"k\", 1);\n")
        .playbook("bad.rhai", "let x = ;\n")
        .playbook("typos.rhai", "nosuch();\nstate::nope();\n");
    let run = project.run(&["check", "good", "bad", "typos"]);
    run.expect_code(2)
        .stderr_has("playbooks/bad.rhai:1:9")
        .stderr_has("unknown function `nosuch`")
        .stderr_has("unknown function `state::nope`")
        .stderr_has("checked 3 playbook(s): 2 with problems");
    assert!(project.runs().is_empty(), "check runs nothing");
}

#[test]
fn check_passes_a_clean_playbook() {
    let project = Project::new();
    project.playbook(
        "good.rhai",
        "let s = secret::generate(32);\nprint(s.fingerprint());\n",
    );
    project
        .run(&["check", "playbooks/good.rhai"])
        .expect_code(0)
        .stderr_has("all compile");
}

#[test]
fn check_json_lists_problems_with_positions() {
    let project = Project::new();
    project.playbook("bad.rhai", "\n  nosuch();\n");
    let run = project.run(&["check", "bad", "--json"]);
    run.expect_code(2);
    let reports: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(reports[0]["ok"], false);
    assert_eq!(reports[0]["problems"][0]["line"], 2);
    assert_eq!(reports[0]["problems"][0]["column"], 3);
}
