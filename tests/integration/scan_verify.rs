//! `orchestra scan --verify` against a separate emulator process: each provider's three
//! outcomes (a live and a dead GitHub token, service-account key and Slack webhook, and an
//! AWS key nobody can check), the owner and scopes GitHub reported, nothing posted to Slack,
//! and no value in any output.

use base64::Engine as _;

use crate::harness::{EmulatorProcess, Project};
use crate::leaks::assert_absent;

pub const ACCOUNT: &str = "deployer@demo-project.iam.gserviceaccount.com";

/// A project config pointing GitHub, IAM, the token endpoint, Secret Manager and Slack at
/// `emulator`.
pub fn config(emulator: &EmulatorProcess, extra: &str) -> String {
    let url = emulator.url();
    emulator.config(&format!(
        r#"[gcp]
project = "demo-project"
secret_manager_url = "{url}"
iam_url = "{url}"
credentials = "anonymous"
token_uris = ["{url}/token"]

[scan]
slack_hooks_url = "{url}"

[scope]
gcp_projects = ["demo-project"]

[limits]
retry_attempts = 2
max_retry_wait = "2s"

{extra}"#
    ))
}

/// A new key of `account`: (key id, key file JSON).
pub fn new_key(emulator: &EmulatorProcess, account: &str) -> (String, String) {
    let created: serde_json::Value = serde_json::from_str(&emulator.call(
        "POST",
        &format!("/v1/projects/-/serviceAccounts/{account}/keys"),
        "{}",
    ))
    .expect("key json");
    let file = base64::engine::general_purpose::STANDARD
        .decode(created["privateKeyData"].as_str().expect("key data"))
        .expect("base64");
    let id = created["name"]
        .as_str()
        .and_then(|n| n.rsplit('/').next())
        .expect("key name")
        .to_owned();
    (id, String::from_utf8(file).expect("utf-8 key file"))
}

/// A Slack-shaped webhook of channel `name`: its hooks.slack.com URL.
pub fn new_hook(emulator: &EmulatorProcess, name: &str) -> String {
    let made: serde_json::Value = serde_json::from_str(&emulator.call(
        "POST",
        "/_emulator/slack/webhooks",
        &format!(r#"{{"name":"{name}"}}"#),
    ))
    .expect("hook json");
    made["slack_url"].as_str().expect("slack_url").to_owned()
}

fn outcome_of<'a>(report: &'a serde_json::Value, file: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["file"] == file)
        .map(|f| &f["verification"])
        .unwrap_or_else(|| panic!("no finding in {file}: {report:#}"))
}

#[test]
fn each_provider_reports_live_refused_or_unknown_without_showing_a_value() {
    let emulator_home = Project::new();
    let emulator = EmulatorProcess::start(&emulator_home);
    let live_pat = emulator.mint_pat();
    let dead_pat = emulator.mint_pat();
    emulator.call(
        "POST",
        "/credentials/revoke",
        &format!(r#"{{"credentials":["{dead_pat}"]}}"#),
    );
    let (_, live_key) = new_key(&emulator, ACCOUNT);
    let (dead_id, dead_key) = new_key(&emulator, ACCOUNT);
    emulator.call(
        "DELETE",
        &format!("/v1/projects/-/serviceAccounts/{ACCOUNT}/keys/{dead_id}"),
        "",
    );
    let live_hook = new_hook(&emulator, "deploys");
    let dead_hook = new_hook(&emulator, "retired");
    emulator.call("DELETE", "/_emulator/slack/webhooks/retired", "");
    let aws = ["AKIA", "Q3VZ7XK2M4NP8R5T"].concat();

    let project = Project::new();
    project
        .config(&config(&emulator, ""))
        .file("live.env", &format!("GITHUB_TOKEN={live_pat}\n"))
        .file("dead.env", &format!("GITHUB_TOKEN={dead_pat}\n"))
        .file("keys/live.json", &live_key)
        .file("keys/dead.json", &dead_key)
        .file("hooks/live.yaml", &format!("webhook: {live_hook}\n"))
        .file("hooks/dead.yaml", &format!("webhook: {dead_hook}\n"))
        .file("aws.sh", &format!("export AWS_ACCESS_KEY_ID={aws}\n"));

    let run = project.run(&["scan", "--verify", "--format", "json"]);
    run.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json report");

    let live = outcome_of(&report, "live.env");
    assert_eq!(live["outcome"], "live", "{live:#}");
    assert_eq!(live["owner"], "demo-user");
    assert_eq!(live["scopes"], serde_json::json!(["repo"]));
    assert_eq!(outcome_of(&report, "dead.env")["outcome"], "refused");
    let key = outcome_of(&report, "keys/live.json");
    assert_eq!(key["outcome"], "live", "{key:#}");
    assert_eq!(key["account"], ACCOUNT);
    assert_eq!(key["key_in_iam"], true);
    let gone = outcome_of(&report, "keys/dead.json");
    assert_eq!(gone["outcome"], "refused", "{gone:#}");
    assert_eq!(gone["key_in_iam"], false);
    assert_eq!(outcome_of(&report, "hooks/live.yaml")["outcome"], "live");
    assert_eq!(outcome_of(&report, "hooks/dead.yaml")["outcome"], "refused");
    assert_eq!(outcome_of(&report, "aws.sh")["outcome"], "unknown");
    assert!(
        emulator.slack_messages("deploys").is_empty(),
        "the check posted a message"
    );

    let text = project.run(&["scan", "--verify", "--only-live"]);
    text.expect_code(1)
        .stdout_has("live.env:1:14: github-pat ghp_")
        .stdout_has("live (owner demo-user; scopes repo;");
    assert!(!text.stdout.contains("dead.env"), "{}", text.stdout);

    let offline = project.run(&["scan", "--no-verify", "--format", "json"]);
    offline.expect_code(1);
    assert!(!offline.stdout.contains("\"verification\""));

    let private_key = |file: &str| {
        let v: serde_json::Value = serde_json::from_str(file).expect("key file");
        v["private_key"].as_str().expect("pem").to_owned()
    };
    let values = [
        live_pat,
        dead_pat,
        private_key(&live_key),
        private_key(&dead_key),
        live_hook,
        dead_hook,
        aws,
    ]
    .map(|v| v.to_string());
    for (name, output) in [("json", &run), ("text", &text), ("offline", &offline)] {
        assert_absent(output.stdout.as_bytes(), &values, &format!("{name} stdout"));
        assert_absent(output.stderr.as_bytes(), &values, &format!("{name} stderr"));
    }
}

#[test]
fn a_key_file_naming_a_foreign_token_uri_is_not_sent() {
    let emulator_home = Project::new();
    let emulator = EmulatorProcess::start(&emulator_home);
    let (_, key) = new_key(&emulator, ACCOUNT);
    let foreign = key.replace(
        &format!("{}/token", emulator.url()),
        "https://token.attacker.example/token",
    );
    assert_ne!(
        foreign, key,
        "the key file names the emulator's token endpoint"
    );
    let project = Project::new();
    project
        .config(&config(&emulator, ""))
        .file("sa.json", &foreign);
    emulator.call("DELETE", "/_emulator/requests", "");
    let run = project.run(&["scan", "--verify", "--format", "json"]);
    run.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let verdict = outcome_of(&report, "sa.json");
    assert_eq!(verdict["outcome"], "unknown", "{verdict:#}");
    assert!(
        verdict["detail"]
            .as_str()
            .is_some_and(|d| d.contains("the key was not sent")),
        "{verdict:#}"
    );
    let requests = emulator.call("GET", "/_emulator/requests", "");
    assert!(!requests.contains("/token"), "{requests}");
}
