//! `orchestra export-workflow --schedule PLAYBOOK --every D`: the workflow a person commits to
//! run a playbook on GitHub's cron against the shared Firestore state (snapshot), and the
//! playbooks and intervals it refuses.

use crate::harness::Project;

#[test]
fn the_scheduled_workflow_has_cron_wif_install_and_the_firestore_backend() {
    let project = Project::new();
    let run = project.run(&[
        "export-workflow",
        "--schedule",
        "rotate_keys",
        "--every",
        "6h",
    ]);
    run.expect_code(0)
        .stdout_has("    - cron: \"0 */6 * * *\"\n")
        .stdout_has("google-github-actions/auth@v2")
        .stdout_has("workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}")
        .stdout_has("service_account: ${{ vars.GCP_SERVICE_ACCOUNT }}")
        .stdout_has("cargo install --locked")
        .stdout_has("ORCHESTRA_STATE__BACKEND: firestore")
        .stdout_has("orchestra play 'rotate_keys'");
    insta::assert_snapshot!("scheduled_rotate_keys_every_6h", run.stdout);
}

#[test]
fn the_schedule_follows_every() {
    let project = Project::new();
    for (every, cron) in [
        ("15m", "*/15 * * * *"),
        ("1h", "0 * * * *"),
        ("1d", "0 0 * * *"),
    ] {
        project
            .run(&[
                "export-workflow",
                "--schedule",
                "playbooks/rotate_keys.rhai",
                "--every",
                every,
            ])
            .expect_code(0)
            .stdout_has(&format!("    - cron: \"{cron}\"\n"))
            .stdout_has("name: orchestra rotate_keys\n");
    }
}

#[test]
fn playbooks_and_intervals_a_schedule_cannot_take_are_refused() {
    let project = Project::new();
    for (playbook, every, message) in [
        ("rotate_keys", "1m", "at most every 5 minutes"),
        ("rotate_keys", "7h", "cron cannot run something every 7h"),
        ("../elsewhere", "6h", "expected a playbook name"),
        ("a'b", "6h", "expected a playbook name"),
    ] {
        let run = project.run(&["export-workflow", "--schedule", playbook, "--every", every]);
        assert_ne!(run.code, 0, "{playbook} every {every}");
        run.stderr_has(message);
        assert!(
            run.stdout.is_empty(),
            "nothing printed for {playbook} every {every}"
        );
    }
}
