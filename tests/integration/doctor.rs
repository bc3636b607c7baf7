//! `orchestra doctor` against the emulator: a healthy setup is all ✓ (or – where not needed),
//! each check broken in turn shows its ✗ and fix line, no network fails fast with clear
//! lines, `--json` parses, and no credential is ever printed.

use base64::Engine as _;

use crate::harness::{EmulatorProcess, Project, Run};

const ACCOUNT: &str = "deployer@demo-project.iam.gserviceaccount.com";

const PLAYBOOK: &str = r#"
let v = secrets::access("deployer-key");
github::put_secret("acme/api", "GCP_SA_KEY", v);
iam::list_keys("deployer@demo-project.iam.gserviceaccount.com");
"#;

/// A project whose config points every service at `emulator`, with a service-account key
/// file and a PAT with `scopes`; returns the key file's private key and the PAT.
fn real_setup(
    project: &Project,
    emulator: &EmulatorProcess,
    scopes: &str,
    extra: &str,
) -> (String, String) {
    let created: serde_json::Value = serde_json::from_str(&emulator.call(
        "POST",
        &format!("/v1/projects/-/serviceAccounts/{ACCOUNT}/keys"),
        "{}",
    ))
    .expect("key JSON");
    let key_file = base64::engine::general_purpose::STANDARD
        .decode(created["privateKeyData"].as_str().expect("privateKeyData"))
        .expect("base64");
    let key_text = String::from_utf8(key_file).expect("utf-8 key file");
    let key_json: serde_json::Value = serde_json::from_str(&key_text).expect("key file JSON");
    project.file("key.json", &key_text);
    let minted: serde_json::Value = serde_json::from_str(&emulator.call(
        "POST",
        "/_emulator/github/tokens",
        &format!(r#"{{"login":"demo-user","scopes":{scopes}}}"#),
    ))
    .expect("minted");
    let pat = minted["token"].as_str().expect("token").to_owned();
    project.playbook("p.rhai", PLAYBOOK).config(&emulator.config(&format!(
        "[gcp]\nproject = \"demo-project\"\nresource_manager_url = \"{url}\"\nsecret_manager_url = \"{url}\"\niam_url = \"{url}\"\n\n[scope]\ngcp_projects = [\"demo-project\"]\ngithub_repos = [\"acme/api\"]\n{extra}",
        url = emulator.url()
    )));
    (
        key_json["private_key"]
            .as_str()
            .expect("private_key")
            .to_owned(),
        pat,
    )
}

fn doctor(project: &Project, pat: &str, args: &[&str]) -> Run {
    let mut cmd = project.command();
    cmd.arg("doctor")
        .args(args)
        .env(
            "GOOGLE_APPLICATION_CREDENTIALS",
            project.path().join("key.json"),
        )
        .env("ORCHESTRA_TEST_GITHUB_TOKEN", pat)
        .env("ORCHESTRA_CRONTAB", project.path().join("crontab"))
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS");
    Run::from(cmd.output().expect("run doctor"))
}

fn line<'a>(run: &'a Run, check: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|l| l[l.char_indices().nth(2).map_or(0, |(i, _)| i)..].starts_with(check))
        .unwrap_or_else(|| panic!("no {check} line in:\n{}", run.stdout))
}

#[test]
fn a_healthy_setup_against_the_emulator_is_all_ok_and_prints_no_credential() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    let (private_key, pat) = real_setup(&project, &emulator, r#"["repo"]"#, "");
    let run = doctor(&project, &pat, &[]);
    run.expect_code(0);
    assert!(!run.stdout.contains('✗'), "{}", run.stdout);
    for check in [
        "config",
        "playbooks",
        "google credentials",
        "google project",
        "google permissions",
        "github credential",
        "github scopes",
        "github rate limit",
        "state db",
        "locks",
        "breakers",
        "clock",
    ] {
        assert!(
            line(&run, check).starts_with('✓'),
            "{check}: {}",
            run.stdout
        );
    }
    assert!(line(&run, "google credentials").contains(ACCOUNT));
    let key_body = private_key
        .lines()
        .find(|l| l.len() > 40)
        .expect("a key line");
    for planted in [key_body, pat.as_str()] {
        assert!(!run.stdout.contains(planted) && !run.stderr.contains(planted));
    }
}

#[test]
fn missing_permissions_and_scopes_each_show_their_fix() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    let (_, pat) = real_setup(&project, &emulator, "[]", "");
    emulator.call(
        "POST",
        "/_emulator/google/permissions",
        r#"{"project":"demo-project","granted":["secretmanager.versions.access"]}"#,
    );
    let run = doctor(&project, &pat, &[]);
    run.expect_code(1)
        .stdout_has("✗ google permissions  missing on demo-project: iam.serviceAccountKeys.list")
        .stdout_has("fix: grant the caller roles/iam.serviceAccountViewer on demo-project, the narrowest predefined roles with these")
        .stdout_has("the playbooks need repo")
        .stdout_has("fix: create a token with the repo scope(s)");
}

#[test]
fn broken_local_setup_shows_each_failure() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    let (_, pat) = real_setup(
        &project,
        &emulator,
        r#"["repo"]"#,
        "\n[notify.slack.ops]\nwebhook_env = \"ORCHESTRA_TEST_UNSET_HOOK\"\n\n[[schedules]]\nplaybook = \"gone.rhai\"\nevery = \"1h\"\n",
    );
    project.playbook("broken.rhai", "let x = ;\n");
    project.file(
        "crontab",
        "0 * * * * cd /nowhere && /no/such/orchestra -q play missing # orchestra-schedule:missing-1\n",
    );
    let run = doctor(&project, &pat, &[]);
    run.expect_code(1)
        .stdout_has("✗ playbooks")
        .stdout_has("broken.rhai:1:")
        .stdout_has("✗ slack")
        .stdout_has("ops (ORCHESTRA_TEST_UNSET_HOOK)")
        .stdout_has("[[schedules]] playbook gone.rhai not found")
        .stdout_has("the orchestra binary /no/such/orchestra is gone");
}

#[test]
fn a_bad_config_or_state_db_is_a_finding_not_a_crash() {
    let project = Project::new();
    project.config("[limits]\ntimeout = \"soon\"\n");
    project.file("blocker", "a file where the state folder should be");
    let run = project.run(&["--state-db", "blocker/state.db", "doctor", "--emulate"]);
    run.expect_code(1)
        .stdout_has("✗ config")
        .stdout_has("limits.timeout")
        .stdout_has("✗ state db");
}

#[test]
fn with_no_network_each_remote_check_fails_fast_and_json_parses() {
    let project = Project::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}");
    project.playbook("p.rhai", PLAYBOOK).config(&format!(
        "[github]\napi_url = \"{url}\"\ntoken_env = \"ORCHESTRA_TEST_GITHUB_TOKEN\"\n\n[gcp]\nproject = \"demo-project\"\nresource_manager_url = \"{url}\"\ncredentials = \"anonymous\"\n"
    ));
    project.file("key.json", "{}");
    let run = doctor(
        &project,
        "ghp_plantedDoctorToken000000000000000000",
        &["--json"],
    );
    run.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("doctor JSON");
    assert_eq!(report["ok"], false);
    let status = |name: &str| {
        report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("no {name} in {report}"))
            .clone()
    };
    for name in ["google project", "github credential"] {
        let check = status(name);
        assert_eq!(check["status"], "failed", "{check}");
        assert!(
            check["fix"].as_str().is_some_and(|f| f.contains("network")),
            "{check}"
        );
    }
    assert_eq!(status("clock")["status"], "skipped");
    assert!(
        !run.stdout.contains("ghp_plantedDoctorToken")
            && !run.stderr.contains("ghp_plantedDoctorToken")
    );
}

#[test]
fn under_emulate_a_healthy_project_exits_zero() {
    let project = Project::new();
    project
        .playbook("p.rhai", PLAYBOOK)
        .config("[scope]\ngcp_projects = [\"demo-project\"]\ngithub_repos = [\"acme/api\"]\n");
    let run = project.run(&["doctor", "--emulate"]);
    run.expect_code(0).stdout_has("nothing broken");
    assert!(!run.stdout.contains('✗'), "{}", run.stdout);
}
