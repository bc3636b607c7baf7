//! `orchestra play` and `orchestra runs`: the ordinary path.

use crate::harness::Project;

#[test]
fn a_bare_name_is_looked_up_in_playbooks() {
    let project = Project::new();
    project.playbook("rotate_keys.rhai", "print(`hello ${args.who}`);\n");
    project
        .run(&["play", "rotate_keys.rhai", "--arg", "who=ops"])
        .expect_code(0)
        .stdout_has("hello ops");
    project
        .run(&["play", "rotate_keys", "--arg", "who=ops"])
        .expect_code(0)
        .stdout_has("hello ops");
}

#[test]
fn modules_import_from_stdlib_and_the_playbook_folder() {
    let project = Project::new();
    project
        .file("stdlib/greet.rhai", "fn greet(who) { `hi ${who}` }\n")
        .playbook("local.rhai", "fn twice(x) { x * 2 }\n")
        .playbook(
            "both.rhai",
            "import \"greet\" as g;\nimport \"local\" as l;\nprint(g::greet(\"ana\"));\nprint(l::twice(21));\n",
        );
    project
        .run(&["play", "both"])
        .expect_code(0)
        .stdout_has("hi ana\n42");
}

#[test]
fn state_persists_between_runs() {
    let project = Project::new();
    project.playbook(
        "count.rhai",
        "let n = state::get(\"n\", 0) + 1;\nstate::set(\"n\", n);\nprint(`n=${n}`);\n",
    );
    project
        .run(&["play", "count"])
        .expect_code(0)
        .stdout_has("n=1");
    project
        .run(&["play", "count"])
        .expect_code(0)
        .stdout_has("n=2");
}

#[test]
fn runs_lists_newest_first_and_show_has_steps_and_output() {
    let project = Project::new();
    project
        .playbook("one.rhai", "state::set(\"k\", 1);\nprint(\"one done\");\n")
        .playbook("two.rhai", "throw \"two failed on purpose\";\n");
    project.run(&["play", "one", "--arg", "x=1"]).expect_code(0);
    project.run(&["play", "two"]).expect_code(1);
    let runs = project.runs();
    assert_eq!(runs[0]["playbook"], "playbooks/two.rhai");
    assert_eq!(runs[0]["status"], "failed");
    assert_eq!(runs[1]["status"], "succeeded");
    assert_eq!(runs[1]["args"]["x"], "1");
    assert!(
        runs[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("playbooks/two.rhai:1:1: two failed on purpose")
    );

    let show = project.run(&["runs", "show", "1"]);
    show.expect_code(0)
        .stdout_has("status:   succeeded")
        .stdout_has("succeeded mutate state::set: set state key `k`")
        .stdout_has("[print] one done");
    project
        .run(&["runs", "show", "99"])
        .expect_code(2)
        .stderr_has("no run with id 99");
    project
        .run(&["runs", "show", "x"])
        .expect_code(2)
        .stderr_has("expected a run id");
}

#[test]
fn doc_lists_every_primitive_with_its_signature() {
    let project = Project::new();
    let run = project.run(&["doc"]);
    run.expect_code(0)
        .stdout_has("secret::from_env(name: string) -> Secret")
        .stdout_has("state::set(key: string, value: any) -> ()    [mutate]")
        .stdout_has("cloudrun::service(name: string, region: string) -> map    [read]");
    project
        .run(&["doc", "nosuch"])
        .expect_code(2)
        .stderr_has("no module named 'nosuch'");
}

#[test]
fn a_bad_arg_is_a_usage_error() {
    let project = Project::new();
    project.playbook("x.rhai", "1;\n");
    project
        .run(&["play", "x", "--arg", "novalue"])
        .expect_code(2)
        .stderr_has("expected KEY=VALUE, found 'novalue'");
}

#[test]
fn the_bundled_playbooks_compile_and_hello_runs() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let state = tempfile::tempdir().expect("temp dir");
    let db = state.path().join("state.db");
    let orchestra = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_orchestra"));
        cmd.current_dir(repo)
            .env("NO_COLOR", "1")
            .arg("--state-db")
            .arg(&db);
        cmd
    };
    let playbooks: Vec<String> = std::fs::read_dir(format!("{repo}/playbooks"))
        .expect("playbooks")
        .flatten()
        .map(|e| e.path().display().to_string())
        .filter(|p| p.ends_with(".rhai"))
        .collect();
    let check = orchestra()
        .arg("check")
        .args(&playbooks)
        .output()
        .expect("check");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let play = orchestra()
        .args(["play", "hello", "--arg", "greeting=hi"])
        .output()
        .expect("play");
    assert!(
        play.status.success(),
        "{}",
        String::from_utf8_lossy(&play.stderr)
    );
    assert!(String::from_utf8_lossy(&play.stdout).contains("hi from run 1"));
    assert!(db.exists());

    let rotation = orchestra()
        .args(["play", "rotate_service_account_keys", "--emulate"])
        .output()
        .expect("rotate");
    let stdout = String::from_utf8_lossy(&rotation.stdout);
    assert!(
        rotation.status.success(),
        "{}",
        String::from_utf8_lossy(&rotation.stderr)
    );
    assert!(
        stdout.contains("staged as deployer-key version 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  went to:\n    • Secret Manager deployer-key (alias current)\n    • GitHub acme/api GCP_SA_KEY\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("  keys disabled: "), "{stdout}");
    assert!(!stdout.contains("[\""), "a Rhai array literal in: {stdout}");
    assert!(
        stdout.contains("• schedule: none runs this playbook"),
        "{stdout}"
    );
    assert!(!stdout.contains("PRIVATE KEY"));
}

#[test]
fn doc_writes_definition_files_for_the_language_server() {
    let project = Project::new();
    project
        .run(&["doc", "--definitions", "defs"])
        .expect_code(0);
    let secret = std::fs::read_to_string(project.path().join("defs/secret.d.rhai")).expect("defs");
    assert!(secret.contains("module secret;"), "{secret}");
    assert!(
        secret.contains("fn from_env(name: string) -> Secret;"),
        "{secret}"
    );
    assert!(secret.contains("/// Reads environment variable `name` as a Secret."));
}
