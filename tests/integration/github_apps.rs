//! Installation tokens minted with the app key held in Secret Manager, checked, revoked; a
//! personal token checked and revoked; an export workflow dispatched.

use crate::harness::{EmulatorProcess, Project};

#[test]
fn an_installation_token_is_minted_with_the_stored_app_key_and_revoked() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    let demo: serde_json::Value =
        serde_json::from_str(&emulator.call("GET", "/_emulator/demo", "")).expect("demo");
    let app_key = demo["app_private_key"]
        .as_str()
        .expect("app key")
        .to_owned();
    project
        .config(&emulator.config("[scope]\ngithub_owners = [\"acme\"]\nenv = [\"APP_KEY\"]\n"))
        .playbook(
            "app.rhai",
            r#"
let minted = github::mint_installation_token(1001, 2002, secret::from_env("APP_KEY"));
print(`token ${minted.token}, expires ${minted.expires_at}`);
let check = github::check_token(minted.token);
print(`works ${check.works}`);
github::revoke_installation_token(minted.token);
print(`after revoke ${github::check_token(minted.token).works}`);
"#,
        );
    let output = project
        .command()
        .args(["play", "app"])
        .env(
            "ORCHESTRA_TEST_GITHUB_TOKEN",
            crate::harness::DEMO_GITHUB_TOKEN,
        )
        .env("APP_KEY", &app_key)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("token Secret(fp:"), "{stdout}");
    assert!(
        stdout.contains("works true\nafter revoke false"),
        "{stdout}"
    );
    assert!(!stdout.contains("ghs_"), "the token itself is never shown");
}

#[test]
fn a_personal_token_reports_its_scopes_and_is_revoked_through_credentials_revoke() {
    let project = Project::new();
    project
        .config("[scope]\ngithub_repos = [\"acme/api\"]\ngcp_projects = [\"demo-project\"]\nenv = [\"PAT\"]\n")
        .playbook(
            "pat.rhai",
            r#"
github::dispatch_workflow("acme/api", "orchestra-export.yml", "main", #{ project: "demo-project", secrets: "DEPLOY_KEY=exported" });
print(`exported versions: ${secrets::versions("exported").len()}`);
let pat = secret::from_env("PAT");
let check = github::check_token(pat);
print(`${check.works} ${check.login} ${check.scopes}`);
github::revoke_token(pat);
print(github::check_token(pat).works);
"#,
        );
    let output = project
        .command()
        .args(["play", "pat", "--emulate"])
        .env("PAT", crate::harness::DEMO_GITHUB_TOKEN)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("exported versions: 1"), "{stdout}");
    assert!(
        stdout.contains("true demo-user [\"repo\", \"workflow\", \"admin:org\"]\nfalse"),
        "{stdout}"
    );
}

#[test]
fn orchestra_authenticates_as_an_app_with_the_key_held_in_secret_manager() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    emulator.store_app_key("github-app-key");
    project
        .config(&format!(
            "[github]\napi_url = \"{url}\"\napp_id = 1001\ninstallation_id = 2002\napp_key_secret = \"projects/demo-project/secrets/github-app-key\"\n\n[gcp]\nsecret_manager_url = \"{url}\"\ncredentials = \"anonymous\"\n\n[scope]\ngithub_owners = [\"acme\"]\n",
            url = emulator.url()
        ))
        .playbook("as_app.rhai", "print(github::list_secrets(\"acme/api\").len());\n");
    project
        .run(&["play", "as_app"])
        .expect_code(0)
        .stdout_has("2");
    let state = emulator.state();
    let minted = state["github"]["tokens"]
        .as_object()
        .expect("tokens")
        .values()
        .filter(|t| t["kind"].get("installation").is_some())
        .count();
    assert_eq!(minted, 1, "one installation token minted for the run");
}
