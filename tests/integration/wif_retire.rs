//! Retiring a service account's keys after keyless CI: refused while a workflow token of the
//! repository cannot get an access token, done once it can (the GitHub secret and the Secret
//! Manager copy first, then the keys disabled, deleted after the grace period), killed after
//! any of those changes without a key ever disabled while a consumer holds it; and the audit
//! flagging a planted editor binding (with the narrower roles to grant instead), an old key,
//! and keys beside a federated binding.

use crate::wif_fixture::{ACCOUNT, Keyless, PROVIDER};

/// A key of `ACCOUNT` in the GitHub secret GCP_SA_KEY of acme/api and the Secret Manager
/// secret deployer-key, the way the old setup scripts left it.
fn plant_key_secrets(keyless: &Keyless) {
    keyless
        .script(&format!(
            r#"
let key = iam::create_key("{ACCOUNT}");
secrets::create("deployer-key");
secrets::add_version("deployer-key", key.json, #{{}});
github::put_secret("acme/api", "GCP_SA_KEY", key.json);
"#
        ))
        .expect_code(0);
}

fn has_github_secret(state: &serde_json::Value) -> bool {
    state["github"]["repos"]["acme/api"]["secrets"]["secrets"]
        .get("GCP_SA_KEY")
        .is_some()
}

/// (enabled, disabled) keys of ACCOUNT.
fn keys(state: &serde_json::Value) -> (usize, usize) {
    let keys = state["google"]["service_accounts"][ACCOUNT]["keys"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let disabled = keys.iter().filter(|k| k["disabled"] == true).count();
    (keys.len() - disabled, disabled)
}

fn retire(keyless: &Keyless, extra: &[&str]) -> crate::harness::Run {
    let account = format!("account={ACCOUNT}");
    let mut args = vec!["--arg", &account, "--arg", "repo=acme/api"];
    args.extend_from_slice(extra);
    keyless.play("retire_service_account_keys", &args, None)
}

#[test]
fn retirement_is_refused_while_keyless_fails_and_done_once_it_works() {
    let keyless = Keyless::new();
    plant_key_secrets(&keyless);
    let provider = format!("provider={PROVIDER}");
    let refused = retire(&keyless, &["--arg", &provider]);
    refused
        .expect_code(1)
        .stderr_has("refusing to retire the keys of deployer@demo-project.iam.gserviceaccount.com: keyless verification of acme/api is \"refused\"");
    let state = keyless.state();
    assert!(has_github_secret(&state), "nothing was touched");
    assert_eq!(keys(&state), (2, 0));

    keyless.bootstrap(&[], None).expect_code(0);
    let done = retire(&keyless, &[]);
    done.expect_code(0)
        .stdout_has("keyless verification of acme/api as deployer@demo-project.iam.gserviceaccount.com: works")
        .stdout_has("GitHub acme/api GCP_SA_KEY: deleted")
        .stdout_has("Secret Manager deployer-key: versions destroyed: 1")
        .stdout_has("waiting for the grace period");
    let state = keyless.state();
    assert!(!has_github_secret(&state));
    assert_eq!(keys(&state), (0, 2), "disabled, not yet deleted");
    let copy =
        &state["google"]["secrets"]["projects/demo-project/secrets/deployer-key"]["versions"];
    let states: Vec<&str> = copy
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["state"].as_str())
        .collect();
    assert_eq!(states, ["DESTROYED"]);

    let later = retire(&keyless, &["--arg", "grace_days=0"]);
    later
        .expect_code(0)
        .stdout_has("GitHub acme/api GCP_SA_KEY: already gone");
    assert_eq!(
        keys(&keyless.state()),
        (0, 0),
        "deleted once the grace period is over"
    );
}

#[test]
fn the_audit_flags_a_basic_role_an_old_key_and_keys_beside_keyless() {
    let keyless = Keyless::new();
    keyless.bootstrap(&[], None).expect_code(0);
    keyless
        .script(&format!(
            "let key = iam::create_key(\"{ACCOUNT}\");\nprint(iam::verify_key(key.json));\n"
        ))
        .expect_code(0)
        .stdout_has("works");
    let mut state = keyless.state();
    state["google"]["wif"]["project_policies"]["demo-project"] = serde_json::json!({
        "version": 1,
        "etag": "BwYplanted",
        "bindings": [
            {"role": "roles/editor", "members": [format!("serviceAccount:{ACCOUNT}")]},
            {"role": "roles/secretmanager.secretAccessor", "members": ["serviceAccount:reader@demo-project.iam.gserviceaccount.com"]},
        ],
    });
    std::fs::write(
        keyless.project.path().join("emulator.json"),
        state.to_string(),
    )
    .expect("plant");
    let mut command = keyless.project.command();
    let later = (chrono::Utc::now() + chrono::Duration::days(200)).to_rfc3339();
    command
        .args([
            "play",
            "audit_service_accounts",
            "--emulate",
            "--emulate-state",
            "emulator.json",
        ])
        .args(["--arg", "project=demo-project"])
        .env("ORCHESTRA_TEST_NOW", later);
    let run = crate::harness::Run::from(command.output().expect("audit"));
    run.expect_code(0)
        .stdout_has("Service accounts of demo-project: 2")
        .stdout_has(&format!(
            "{ACCOUNT}: holds roles/editor on demo-project (a basic role: most permissions of every service in the project): grant "
        ))
        .stdout_has("role advice:     replace roles/editor with roles/browser, ")
        .stdout_has("days old (policy: 90)")
        .stdout_has(&format!(
            "{ACCOUNT}: has 2 enabled key(s) and a Workload Identity binding"
        ))
        .stdout_has("attribute.repository/acme/api (workloadIdentityUser)")
        .stdout_has("is enabled but never used (90 days allowed)")
        .stdout_has("last used 200 days ago")
        .stdout_has("reader@demo-project.iam.gserviceaccount.com: key ");
    assert!(
        !run.stdout
            .contains("reader@demo-project.iam.gserviceaccount.com: holds roles/"),
        "{}",
        run.stdout
    );
    let advice = run
        .stdout
        .lines()
        .find(|line| line.contains("role advice:     replace roles/editor with"))
        .unwrap_or_default();
    // What the configured playbooks (bootstrap, retire, audit) call, each permission from the
    // narrowest predefined role granting it; never a basic role or Secret Manager Admin, whose
    // secrets.setIamPolicy no playbook needs.
    for role in [
        "roles/iam.serviceAccountKeyAdmin",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.workloadIdentityPoolAdmin",
        "roles/policyanalyzer.activityAnalysisViewer",
        "roles/serviceusage.serviceUsageAdmin",
        "roles/secretmanager.secretVersionManager",
    ] {
        assert!(advice.contains(role), "{role} in {advice}");
    }
    for role in [
        "roles/owner",
        "roles/secretmanager.admin",
        "with roles/editor,",
    ] {
        assert!(!advice.contains(role), "{role} in {advice}");
    }
    let alerts = &keyless.state()["slack"]["webhooks"];
    let sent: Vec<&str> = alerts
        .as_object()
        .into_iter()
        .flat_map(|hooks| hooks.values())
        .filter_map(serde_json::Value::as_array)
        .flatten()
        .filter_map(|message| message["text"].as_str())
        .collect();
    assert!(
        sent.iter().any(|text| text
            .contains(&format!("{ACCOUNT}: holds roles/editor on demo-project"))
            && text.contains("roles/iam.serviceAccountKeyAdmin")),
        "the alert leads with the role advice: {sent:?}"
    );
}

/// Whether some consumer still holds the key: the GitHub secret, or a version of the Secret
/// Manager copy not yet destroyed.
fn a_consumer_holds_the_key(state: &serde_json::Value) -> bool {
    let copy =
        &state["google"]["secrets"]["projects/demo-project/secrets/deployer-key"]["versions"];
    let live_copy = copy
        .as_array()
        .is_some_and(|versions| versions.iter().any(|v| v["state"] != "DESTROYED"));
    has_github_secret(state) || live_copy
}

#[test]
fn a_retirement_killed_after_any_change_never_disables_a_held_key_and_converges() {
    let mut kill_points = 0;
    let mut kills_after_a_disable = 0;
    for n in 1.. {
        let keyless = Keyless::new();
        plant_key_secrets(&keyless);
        keyless.bootstrap(&[], None).expect_code(0);
        let account = format!("account={ACCOUNT}");
        let args = ["--arg", &account, "--arg", "repo=acme/api"];
        let killed = keyless.play("retire_service_account_keys", &args, Some(n));
        if killed.code == 0 {
            assert!(n > 4, "a retirement makes more than {} changes", n - 1);
            break;
        }
        kill_points += 1;
        assert_eq!(killed.code, -1, "killed by the signal\n{}", killed.stderr);
        let at_kill = keyless.state();
        let (_, disabled) = keys(&at_kill);
        kills_after_a_disable += usize::from(disabled > 0);
        assert!(
            disabled == 0 || !a_consumer_holds_the_key(&at_kill),
            "killed after change {n}: a key was disabled while a consumer still held it"
        );

        keyless
            .resume_last()
            .expect_code(0)
            .stderr_has("resuming run")
            .stderr_has("retire_service_account_keys.rhai, interrupted)");
        let settled = keyless.state();
        assert!(!a_consumer_holds_the_key(&settled), "after change {n}");
        assert_eq!(keys(&settled), (0, 2), "after change {n}");
        retire(&keyless, &[])
            .expect_code(0)
            .stdout_has("GitHub acme/api GCP_SA_KEY: already gone")
            .stdout_has("Secret Manager deployer-key: versions destroyed: none")
            .stdout_has(&format!("{ACCOUNT}: keys disabled: none; deleted: none"));
        retire(&keyless, &["--arg", "grace_days=0"]).expect_code(0);
        assert_eq!(keys(&keyless.state()), (0, 0), "after change {n}");
    }
    assert!(kill_points >= 4, "only {kill_points} kill points");
    assert!(
        kills_after_a_disable >= 1,
        "no kill point fell after a key was disabled ({kill_points} kill points)"
    );
}
