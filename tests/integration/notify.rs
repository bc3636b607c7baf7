//! `notify::slack` against the emulator: delivered, Slack's 429 waited out, errors named, and
//! a webhook URL (a credential) never shown.

use crate::harness::{EmulatorProcess, Project};

#[test]
fn a_message_arrives_once_after_a_429() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    emulator
        .fault(r#"{"path":"/slack/ops","kind":"status","status":429,"retry_after":1,"count":1}"#);
    project
        .config("[notify.slack.ops]\nwebhook_env = \"OPS_WEBHOOK\"\n")
        .playbook(
            "say.rhai",
            "notify::slack(\"ops\", `rotated deployer key`);\n",
        );
    let webhook = format!("{}/slack/ops", emulator.url());
    let output = project
        .command()
        .args(["play", "say"])
        .env("OPS_WEBHOOK", &webhook)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Slack asked to wait (Retry-After), retrying in 1s"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&webhook),
        "the webhook URL is a credential"
    );
    let messages: serde_json::Value =
        serde_json::from_str(&emulator.call("GET", "/_emulator/slack/ops", "")).expect("json");
    let messages = messages["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["text"], "rotated deployer key");
}

#[test]
fn slack_errors_and_missing_channels_are_named() {
    let project = Project::new();
    project.playbook(
        "bad.rhai",
        "try { notify::slack(\"nobody\", \"x\"); } catch (e) { print(e.message); }\ntry { notify::slack(\"ops\", \"\"); } catch (e) { print(e.message); }\n",
    );
    project
        .run(&["play", "bad", "--emulate"])
        .expect_code(0)
        .stdout_has("Slack answered 404: no_service")
        .stdout_has("Slack answered 400: no_text");
    project.playbook("unset.rhai", "notify::slack(\"ops\", \"x\");\n");
    project.run(&["play", "unset"]).expect_code(1).stderr_has(
        "no Slack channel 'ops': add [notify.slack.ops] webhook_env = \"VAR\" to orchestra.toml",
    );
}

#[test]
fn post_reaches_only_hosts_in_scope() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    let host = format!("127.0.0.1:{}", emulator.port);
    project
        .config(&format!("[scope]\nhttp_hosts = [\"{host}\"]\n"))
        .playbook(
            "post.rhai",
            &format!(
                "print(notify::post(\"http://{host}/slack/ops\", #{{ text: \"from post\" }}));\ntry {{ notify::post(\"https://example.com/hook\", #{{}}); }} catch (e) {{ print(e.message); }}\n"
            ),
        );
    project.run(&["play", "post"]).expect_code(0).stdout_has(
        "200\nexample.com is outside the scope: add \"example.com\" to [scope].http_hosts",
    );
    let messages = emulator.call("GET", "/_emulator/slack/ops", "");
    assert!(messages.contains("from post"), "{messages}");
}

#[test]
fn under_emulate_nothing_but_the_emulator_can_be_reached() {
    let project = Project::new();
    project
        .config("[scope]\nhttp_hosts = [\"example.com\"]\n")
        .playbook(
            "out.rhai",
            "notify::post(\"https://example.com/hook\", #{ text: \"x\" });\n",
        );
    project
        .run(&["play", "out", "--emulate"])
        .expect_code(1)
        .stderr_has("example.com is not the emulator: under --emulate nothing else can be reached");
}
