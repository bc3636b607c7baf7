//! Hostile and runaway scripts are stopped with a clear message and a non-zero exit.

use crate::harness::Project;

/// Low limits keep these tests quick in a debug build.
const TIGHT_LIMITS: &str = "[limits]\nmax_operations = 200000\nmax_string_size = 1048576\n";

#[test]
fn infinite_loop_is_stopped_by_the_operations_limit() {
    let project = Project::new();
    project
        .config(TIGHT_LIMITS)
        .playbook("spin.rhai", "let i = 0;\nloop { i += 1; }\n");
    project
        .run(&["play", "spin"])
        .expect_code(1)
        .stderr_has("playbooks/spin.rhai:2:")
        .stderr_has("passed its limit of 200000 operations (limits.max_operations)");
}

#[test]
fn deep_recursion_is_stopped_by_the_call_depth_limit() {
    let project = Project::new();
    project.playbook("deep.rhai", "fn down(n) { down(n + 1) }\ndown(0);\n");
    project
        .run(&["play", "deep"])
        .expect_code(1)
        .stderr_has("calls nested deeper than 48 levels (limits.max_call_levels)");
}

#[test]
fn a_100_mb_string_is_stopped_by_the_string_size_limit() {
    let project = Project::new();
    project.config(TIGHT_LIMITS).playbook(
        "big.rhai",
        "let s = \"0123456789\";\nwhile s.len() < 100000000 { s += s; }\nprint(s.len());\n",
    );
    let run = project.run(&["play", "big"]);
    run.expect_code(1)
        .stderr_has("grew past its limit (limits.max_string_size is 1048576 bytes");
    assert!(!run.stdout.contains("100000000"));
}

#[test]
fn eval_is_refused_at_compile_time() {
    let project = Project::new();
    project.playbook("ev.rhai", "print(\"side effect\");\neval(\"40 + 2\");\n");
    let run = project.run(&["play", "ev"]);
    run.expect_code(2)
        .stderr_has("playbooks/ev.rhai:2:1")
        .stderr_has("`eval` is disabled in playbooks");
    assert!(!run.stdout.contains("side effect"), "nothing may run");
    assert!(
        project.runs().is_empty(),
        "a refused playbook records no run"
    );
}

#[test]
fn import_escaping_the_allowed_folders_is_refused() {
    let project = Project::new();
    project.playbook(
        "esc.rhai",
        "import \"../../etc/passwd\" as p;\nprint(\"ran\");\n",
    );
    let run = project.run(&["play", "esc"]);
    run.expect_code(2)
        .stderr_has("playbooks/esc.rhai:1:1")
        .stderr_has("import \"../../etc/passwd\" is refused");
    assert!(
        !run.stderr.contains("root:"),
        "the file's content must not be echoed"
    );
    assert!(!run.stdout.contains("ran"));
}

#[test]
fn absolute_import_is_refused() {
    let project = Project::new();
    project
        .file("secret_module.rhai", "fn f() { 1 }\n")
        .playbook(
            "abs.rhai",
            &format!(
                "import \"{}\" as m;\n",
                project.path().join("secret_module").display()
            ),
        );
    project
        .run(&["play", "abs"])
        .expect_code(2)
        .stderr_has("is refused: modules must be relative paths");
}

#[test]
fn a_script_past_its_time_out_is_stopped() {
    let project = Project::new();
    project.playbook(
        "slow.rhai",
        "print(\"started\");\nwhile true { sleep(0.2); }\n",
    );
    project
        .run(&["play", "slow", "--timeout", "1s"])
        .expect_code(1)
        .stdout_has("started")
        .stderr_has("passed its time-out of 1s (limits.timeout)");
}

#[test]
fn a_busy_loop_past_its_time_out_is_stopped() {
    let project = Project::new();
    project
        .config("[limits]\ntimeout = \"1s\"\nmax_operations = 0\n")
        .playbook("busy.rhai", "let i = 0;\nwhile true { i += 1; }\n");
    project
        .run(&["play", "busy"])
        .expect_code(1)
        .stderr_has("passed its time-out of 1s (limits.timeout)");
}

#[test]
fn args_are_read_only() {
    let project = Project::new();
    project.playbook("ro.rhai", "args.greeting = \"changed\";\n");
    project
        .run(&["play", "ro", "--arg", "greeting=hi"])
        .expect_code(1)
        .stderr_has("playbooks/ro.rhai:1:");
}
