//! Configuration that knows where it runs, through the real binary: `orchestra env` in a
//! Codespace that also has a GITHUB_TOKEN, the `ORCHESTRA_ENV` override, a profile laid over
//! the file under `ORCHESTRA_*` overrides, endpoints resolved per profile, and a
//! credential-looking value in orchestra.toml refused by field without its value.

use std::process::Command;

use crate::harness::{Project, Run};

/// Every variable detection reads, so the machine's own never leak into a test.
const SIGNALS: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_REPOSITORY",
    "CLOUD_RUN_JOB",
    "K_SERVICE",
    "K_REVISION",
    "CODESPACES",
    "CODESPACE_NAME",
    "GITHUB_TOKEN",
    "GOOGLE_CLOUD_WORKSTATIONS",
    "CLOUD_SHELL",
    "GCE_METADATA_HOST",
];

fn run_with(project: &Project, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command: Command = project.command();
    for name in SIGNALS {
        command.env_remove(name);
    }
    command.args(args).envs(env.iter().copied());
    Run::from(command.output().expect("run orchestra"))
}

const LAYERED: &str = r#"
[cloud_run]
service = "api"
region = "europe-west1"
memory = "512Mi"

[profiles.github-actions.cloud_run]
region = "us-central1"

[profiles.staging.cloud_run]
region = "asia-east1"
memory = "1Gi"

[endpoints.memory]
default = "http://127.0.0.1:8080"
github-actions = "https://memory-ci.example.com"
staging = "https://memory-staging.example.com"
"#;

const SHOW: &str = r#"
let env = config::environment();
let run = wif::cloud_run();
print(`env=${env.name} profile=${env.profile} region=${run.region} memory=${run.memory}`);
print(`memory endpoint=${config::endpoint("memory")}`);
"#;

fn layered() -> Project {
    let project = Project::new();
    project.config(LAYERED).playbook("show.rhai", SHOW);
    project
}

#[test]
fn a_codespace_with_a_github_token_is_codespaces_and_the_token_is_never_shown() {
    let project = Project::new();
    let token = &format!("{}_{}", "ghu", "codespaceOwnToken0123456789abcdef");
    let run = run_with(
        &project,
        &["env", "--json"],
        &[
            ("CODESPACES", "true"),
            ("GITHUB_TOKEN", token.as_str()),
            ("CODESPACE_NAME", "fluffy"),
        ],
    );
    run.expect_code(0);
    let shown: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(shown["environment"], "codespaces");
    assert_eq!(shown["signals"][0], "CODESPACES=true");
    assert!(run.stdout.contains("GITHUB_TOKEN is set"), "{}", run.stdout);
    assert!(!run.stdout.contains(token.as_str()) && !run.stderr.contains(token.as_str()));
    assert_eq!(shown["profile"], serde_json::Value::Null);
}

#[test]
fn the_base_file_holds_where_no_profile_matches() {
    run_with(&layered(), &["play", "show.rhai"], &[])
        .expect_code(0)
        .stdout_has("env=local profile= region=europe-west1 memory=512Mi")
        .stdout_has("memory endpoint=http://127.0.0.1:8080");
}

#[test]
fn the_detected_environment_lays_its_profile_over_the_file() {
    run_with(
        &layered(),
        &["play", "show.rhai"],
        &[("GITHUB_ACTIONS", "true")],
    )
    .expect_code(0)
    .stdout_has("env=github-actions profile=github-actions region=us-central1 memory=512Mi")
    .stdout_has("memory endpoint=https://memory-ci.example.com");
}

#[test]
fn the_override_names_the_environment_and_an_orchestra_variable_beats_the_profile() {
    let project = layered();
    run_with(
        &project,
        &["play", "show.rhai"],
        &[("ORCHESTRA_ENV", "staging"), ("GITHUB_ACTIONS", "true")],
    )
    .expect_code(0)
    .stdout_has("env=staging profile=staging region=asia-east1 memory=1Gi")
    .stdout_has("memory endpoint=https://memory-staging.example.com");
    run_with(
        &project,
        &["play", "show.rhai"],
        &[
            ("ORCHESTRA_ENV", "staging"),
            ("ORCHESTRA_CLOUD_RUN__REGION", "me-central1"),
        ],
    )
    .expect_code(0)
    .stdout_has("region=me-central1 memory=1Gi");
    run_with(&project, &["--profile", "github-actions", "env"], &[])
        .expect_code(0)
        .stdout_has("environment: local")
        .stdout_has("profile:     github-actions")
        .stdout_has("endpoint:    memory = https://memory-ci.example.com");
    run_with(&project, &["--profile", "nosuch", "env"], &[])
        .expect_code(2)
        .stderr_has("no profile 'nosuch'");
}

#[test]
fn a_credential_in_the_config_is_refused_by_field_without_its_value() {
    let project = Project::new();
    // Put together here so the repository's own scan finds no token in this file.
    let token = &format!("{}_{}", "ghp", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    project.config(&format!(
        "[profiles.ci.notify.slack.ops]\nwebhook_env = \"{token}\"\n"
    ));
    let run = run_with(&project, &["env"], &[]);
    run.expect_code(2)
        .stderr_has("profiles.ci.notify.slack.ops.webhook_env")
        .stderr_has("looks like a credential")
        .stderr_has("secret::");
    assert!(!run.stderr.contains(token.as_str()) && !run.stdout.contains(token.as_str()));
    assert!(!run.stderr.contains("A1b2C3d4"), "{}", run.stderr);
}
