//! `orchestra completions` writes scripts their shells parse; `orchestra man` writes roff.

use crate::harness::Project;

fn parses_in(shell: &str) {
    let project = Project::new();
    let run = project.run(&["completions", shell]);
    run.expect_code(0);
    assert!(run.stdout.contains("orchestra"), "{}", run.stdout);
    let file = project.path().join(format!("completions.{shell}"));
    std::fs::write(&file, &run.stdout).expect("write completions");
    let checked = std::process::Command::new(shell)
        .arg("-n")
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!("{shell} is needed for this test (scripts/test installs it): {e}")
        });
    assert!(
        checked.status.success(),
        "{shell} -n failed: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn bash_completions_parse_in_bash() {
    parses_in("bash");
}

#[test]
fn zsh_completions_parse_in_zsh() {
    parses_in("zsh");
}

#[test]
fn the_man_page_names_the_commands_and_the_version_the_commit() {
    let project = Project::new();
    project
        .run(&["man"])
        .expect_code(0)
        .stdout_has(".TH orchestra 1")
        .stdout_has("doctor");
    let version = project.run(&["--version"]);
    version.expect_code(0).stdout_has("orchestra 0.1.0");
}
