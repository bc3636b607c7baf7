//! `orchestra init` in a git repository with a fake gcloud configuration: the config it
//! writes is accepted by `orchestra check`, a second run is refused, and doctor then says
//! what is still missing.

use crate::harness::{Project, Run};

fn init_in(project: &Project, gcloud: &std::path::Path, args: &[&str]) -> Run {
    let mut cmd = project.command();
    cmd.arg("init")
        .args(args)
        .env("CLOUDSDK_CONFIG", gcloud)
        .env_remove("CLOUDSDK_ACTIVE_CONFIG_NAME");
    Run::from(cmd.output().expect("run init"))
}

#[test]
fn init_writes_a_config_check_accepts_and_refuses_a_second_time() {
    let project = Project::new();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(project.path())
            .output()
            .expect("git");
        assert!(status.status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["remote", "add", "origin", "git@github.com:acme/api.git"]);
    let gcloud = tempfile::tempdir().expect("gcloud dir");
    std::fs::create_dir(gcloud.path().join("configurations")).expect("configurations");
    std::fs::write(gcloud.path().join("active_config"), "work\n").expect("active_config");
    std::fs::write(
        gcloud.path().join("configurations/config_work"),
        "[core]\naccount = ops@acme.example\nproject = acme-prod\n",
    )
    .expect("config_work");
    project.playbook(
        "push.rhai",
        "github::put_secret(\"acme/api\", \"X\", secrets::access(\"deployer-key\"));\n",
    );

    init_in(&project, gcloud.path(), &[])
        .expect_code(0)
        .stderr_has("wrote ");
    let written = std::fs::read_to_string(project.path().join("orchestra.toml")).expect("config");
    assert!(written.contains("project = \"acme-prod\""), "{written}");
    assert!(
        written.contains("github_repos = [\"acme/api\"]"),
        "{written}"
    );
    assert!(written.contains("ops@acme.example"), "{written}");
    project.run(&["check", "push"]).expect_code(0);

    init_in(&project, gcloud.path(), &[])
        .expect_code(2)
        .stderr_has("already exists")
        .stderr_has("--force");
    init_in(&project, gcloud.path(), &["--force"]).expect_code(0);

    let mut doctor = project.command();
    doctor
        .arg("doctor")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env("HOME", gcloud.path());
    let run = Run::from(doctor.output().expect("doctor"));
    run.expect_code(1)
        .stdout_has("✗ github credential   no GitHub credential: GITHUB_TOKEN is not set")
        .stdout_has("✗ google credentials  none found");
}

#[test]
fn off_a_terminal_init_leaves_placeholders_and_says_what_is_missing() {
    let project = Project::new();
    let gcloud = tempfile::tempdir().expect("gcloud dir");
    init_in(&project, gcloud.path(), &[])
        .expect_code(0)
        .stderr_has(
            "not detected, left as commented placeholders: [gcp].project, [scope].github_repos",
        );
    let written = std::fs::read_to_string(project.path().join("orchestra.toml")).expect("config");
    assert!(written.contains("# project = \"my-project\""), "{written}");
    project.run(&["check", "--help"]).expect_code(0);
}
