//! `orchestra resume` reruns a failed run with its arguments, and refuses a changed playbook
//! unless --force.

use crate::harness::Project;

const FLAKY: &str = r#"
let attempts = state::get("attempts", 0) + 1;
state::set("attempts", attempts);
if attempts == 1 { throw "first attempt fails on purpose"; }
print(`done for ${args.who} after ${attempts} attempts`);
"#;

#[test]
fn a_failed_run_resumes_with_its_arguments() {
    let project = Project::new();
    project.playbook("flaky.rhai", FLAKY);
    project
        .run(&["play", "flaky", "--arg", "who=ops"])
        .expect_code(1);
    project
        .run(&["resume", "1"])
        .expect_code(0)
        .stderr_has("resuming run 1")
        .stdout_has("done for ops after 2 attempts");
    project
        .run(&["resume", "2"])
        .expect_code(2)
        .stderr_has("run 2 succeeded: there is nothing to resume");
}

#[test]
fn a_changed_playbook_is_refused_unless_forced() {
    let project = Project::new();
    project.playbook("flaky.rhai", FLAKY);
    project
        .run(&["play", "flaky", "--arg", "who=ops"])
        .expect_code(1);
    project.playbook("flaky.rhai", &format!("// edited\n{FLAKY}"));
    project
        .run(&["resume", "1"])
        .expect_code(2)
        .stderr_has("playbooks/flaky.rhai changed since run 1 started (its source hash differs)");
    project
        .run(&["resume", "1", "--force"])
        .expect_code(0)
        .stdout_has("done for ops after 2 attempts");
}
