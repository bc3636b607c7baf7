//! Errors point at the script: file, line, column, a snippet, and the call chain.

use crate::harness::Project;

#[test]
fn syntax_error_names_file_line_and_column() {
    let project = Project::new();
    project.playbook("bad.rhai", "let a = 1;\nlet b = ;\n");
    let run = project.run(&["play", "bad"]);
    run.expect_code(2)
        .stderr_has("error: playbooks/bad.rhai:2:9: syntax error");
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn syntax_error_in_a_module_names_the_module_and_the_import() {
    let project = Project::new();
    project
        .file("stdlib/broken.rhai", "fn ok() { 1 }\nfn bad( { }\n")
        .playbook("uses.rhai", "import \"broken\" as b;\nb::ok();\n");
    project
        .run(&["play", "uses"])
        .expect_code(2)
        .stderr_has("stdlib/broken.rhai:2:")
        .stderr_has("imported from playbooks/uses.rhai:1:1");
}

#[test]
fn runtime_error_in_a_module_shows_the_call_chain() {
    let project = Project::new();
    project
        .file(
            "stdlib/math.rhai",
            "fn ratio(n) {\n    let zero = 0;\n    n / zero\n}\n",
        )
        .playbook(
            "chain.rhai",
            "import \"math\" as m;\nfn step() {\n    m::ratio(3)\n}\nstep();\n",
        );
    let run = project.run(&["play", "chain"]);
    run.expect_code(1)
        .stderr_has("error: stdlib/math.rhai:3:7: Division by zero")
        .stderr_has("called from playbooks/chain.rhai:3:8 (`ratio`)")
        .stderr_has("called from playbooks/chain.rhai:5:1 (`step`)");
    insta::assert_snapshot!(without_log_lines(&run.stderr));
}

#[test]
fn unknown_function_is_reported_before_anything_runs() {
    let project = Project::new();
    project.playbook(
        "typo.rhai",
        "state::set(\"touched\", true);\nstate::sett(\"x\", 1);\nprnt(\"hi\");\n",
    );
    let run = project.run(&["play", "typo"]);
    run.expect_code(2)
        .stderr_has("playbooks/typo.rhai:2:8: unknown function `state::sett`")
        .stderr_has("playbooks/typo.rhai:3:1: unknown function `prnt`");
    assert!(project.runs().is_empty());
    project.playbook(
        "peek.rhai",
        "print(state::get(\"touched\") ?? \"missing\");\n",
    );
    project
        .run(&["play", "peek"])
        .expect_code(0)
        .stdout_has("missing");
}

#[test]
fn undefined_variable_is_a_compile_error() {
    let project = Project::new();
    project.playbook("undef.rhai", "print(\"x\");\nprint(nope);\n");
    let run = project.run(&["play", "undef"]);
    run.expect_code(2)
        .stderr_has("playbooks/undef.rhai:2:7: undefined variable `nope`");
    assert!(!run.stdout.contains('x'));
}

#[test]
fn a_failing_primitive_names_itself_and_the_fix() {
    let project = Project::new();
    project.playbook("env.rhai", "let s = secret::from_env(\"HOME\");\n");
    project
        .run(&["play", "env"])
        .expect_code(1)
        .stderr_has("playbooks/env.rhai:1:")
        .stderr_has("secret::from_env failed: environment variable HOME is outside the scope: add \"HOME\" to [scope].env in orchestra.toml");
}

#[test]
fn a_primitive_error_can_be_caught_as_a_map() {
    let project = Project::new();
    project.playbook(
        "catch.rhai",
        "try { secret::generate(1); } catch (e) { print(`${e.primitive}: ${e.message}`); }\n",
    );
    project
        .run(&["play", "catch"])
        .expect_code(0)
        .stdout_has("secret::generate: n_bytes must be between 16 and 4096, found 1");
}

#[test]
fn a_bad_config_field_names_the_key_and_what_was_expected() {
    let project = Project::new();
    project
        .config("[limits]\ntimeout = \"soonish\"\n")
        .playbook("ok.rhai", "1;\n");
    project
        .run(&["play", "ok"])
        .expect_code(2)
        .stderr_has("limits.timeout")
        .stderr_has("expected a duration such as \"90s\" or \"15m\", found \"soonish\"");
}

#[test]
fn a_missing_playbook_says_where_it_looked() {
    let project = Project::new();
    project
        .run(&["play", "nothere"])
        .expect_code(2)
        .stderr_has("playbook 'nothere' not found")
        .stderr_has("playbooks/nothere.rhai");
}

fn without_log_lines(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("INFO") && !l.trim_start().starts_with("WARN"))
        .collect::<Vec<_>>()
        .join("\n")
}
