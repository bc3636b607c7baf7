//! The keyless-CI bootstrap against the emulator: from nothing, then again with nothing to
//! do; the plan lists every change and makes none; a workflow token of the bound repository
//! gets an access token and any other is refused; killed after each change, `orchestra resume`
//! converges to the same footprint.

use crate::wif_fixture::{ACCOUNT, Footprint, Keyless, MEMBER, PROVIDER, footprint};

fn expected_variables() -> Vec<(String, String)> {
    let mut wanted: Vec<(String, String)> = [
        ("CLOUD_RUN_CONCURRENCY", "80"),
        ("CLOUD_RUN_CPU", "1"),
        ("CLOUD_RUN_MAX_INSTANCES", "3"),
        ("CLOUD_RUN_MEMORY", "512Mi"),
        ("CLOUD_RUN_MIN_INSTANCES", "0"),
        ("CLOUD_RUN_SERVICE", "api"),
        ("GCP_PROJECT_ID", "demo-project"),
        ("GCP_REGION", "europe-west1"),
        ("GCP_SERVICE_ACCOUNT", ACCOUNT),
        ("GCP_WORKLOAD_IDENTITY_PROVIDER", PROVIDER),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    wanted.sort();
    wanted
}

fn settled() -> Footprint {
    Footprint {
        pools: 1,
        providers: 1,
        bindings: 1,
        services: vec!["demo-project/iamcredentials.googleapis.com".to_owned()],
        variables: expected_variables(),
    }
}

#[test]
fn a_bootstrap_from_nothing_sets_everything_up_and_a_second_changes_nothing() {
    let keyless = Keyless::new();
    let first = keyless.bootstrap(&[], None);
    first
        .expect_code(0)
        .stdout_has("pool github-actions: created")
        .stdout_has("provider github (assertion.repository_owner == 'acme'): created")
        .stdout_has(&format!("acme/api may act as {ACCOUNT}: bound"))
        .stdout_has("iamcredentials.googleapis.com: enabled")
        .stdout_has("workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}")
        .stdout_has("id-token: write");
    assert_eq!(footprint(&keyless.state()), settled());
    let second = keyless.bootstrap(&[], None);
    second
        .expect_code(0)
        .stdout_has("pool github-actions: unchanged")
        .stdout_has("provider github (assertion.repository_owner == 'acme'): unchanged")
        .stdout_has(&format!("acme/api may act as {ACCOUNT}: unchanged"))
        .stdout_has("iamcredentials.googleapis.com: unchanged")
        .stdout_has("Actions variables of acme/api: unchanged");
    assert_eq!(footprint(&keyless.state()), settled(), "nothing duplicated");
}

#[test]
fn the_plan_lists_every_change_and_makes_none() {
    let keyless = Keyless::new();
    let plan = keyless.bootstrap(&["--plan"], None);
    plan.expect_code(0);
    for change in [
        "would create Workload Identity pool github-actions in demo-project",
        "would create provider github in pool github-actions of demo-project",
        "would grant roles/iam.workloadIdentityUser on deployer@demo-project.iam.gserviceaccount.com",
        "would enable iamcredentials.googleapis.com in demo-project",
        "would set GitHub variable GCP_WORKLOAD_IDENTITY_PROVIDER in acme/api",
        "would set GitHub variable CLOUD_RUN_MEMORY in acme/api",
    ] {
        assert!(
            plan.stdout.contains(change),
            "missing '{change}' in\n{}",
            plan.stdout
        );
    }
    assert!(
        plan.stdout.contains(MEMBER),
        "the plan names the member\n{}",
        plan.stdout
    );
    let left = footprint(&keyless.state());
    assert_eq!((left.pools, left.providers, left.bindings), (0, 0, 0));
    assert!(left.variables.is_empty() && left.services.is_empty());
}

#[test]
fn a_provider_without_a_condition_is_refused_before_any_request() {
    let keyless = Keyless::new();
    let run = keyless.script(
        r#"
try {
    wif::create_provider("demo-project", "github-actions", "github", #{ mapping: #{ "google.subject": "assertion.sub" } });
} catch (e) { print(e.message); }
try {
    wif::create_provider("demo-project", "github-actions", "github", #{ condition: "true" });
} catch (e) { print(e.message); }
"#,
    );
    run.expect_code(0)
        .stdout_has("refusing a provider without a condition")
        .stdout_has("mapping must map google.subject");
}

#[test]
fn a_token_of_the_bound_repository_works_and_any_other_is_refused() {
    let keyless = Keyless::new();
    keyless.bootstrap(&[], None).expect_code(0);
    let run = keyless.script(&format!(
        r#"
for repo in ["acme/api", "acme/web", "evil/api"] {{
    print(`${{repo}}: ${{wif::verify(repo, "{PROVIDER}", "{ACCOUNT}")}}`);
}}
"#
    ));
    run.expect_code(0)
        .stdout_has("acme/api: works")
        .stdout_has("acme/web: refused")
        .stdout_has("evil/api: refused");
    assert!(run.stderr.contains("attribute condition"), "{}", run.stderr);
}

#[test]
fn a_bootstrap_killed_after_any_change_converges_when_resumed() {
    let mut kill_points = 0;
    for n in 1.. {
        let keyless = Keyless::new();
        let killed = keyless.bootstrap(&[], Some(n));
        if killed.code == 0 {
            assert!(n > 10, "a bootstrap makes more than {} changes", n - 1);
            break;
        }
        kill_points += 1;
        assert_eq!(killed.code, -1, "killed by the signal\n{}", killed.stderr);
        keyless
            .resume_last()
            .expect_code(0)
            .stderr_has("resuming run")
            .stderr_has("bootstrap_github_wif.rhai, interrupted)");
        assert_eq!(
            footprint(&keyless.state()),
            settled(),
            "killed after change {n}"
        );
        keyless
            .bootstrap(&[], None)
            .expect_code(0)
            .stdout_has("Actions variables of acme/api: unchanged");
    }
    assert!(kill_points >= 10, "only {kill_points} kill points");
}
