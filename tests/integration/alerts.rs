//! `notify::alert`: one message when a condition starts, escalates or clears, none in between;
//! a message Slack refused is kept and delivered by the next run.

use crate::harness::{EmulatorProcess, Project};

fn messages(emulator: &EmulatorProcess) -> Vec<String> {
    emulator.slack_messages("ops")
}

fn run(project: &Project, emulator: &EmulatorProcess, playbook: &str) -> crate::harness::Run {
    crate::harness::Run::from(
        project
            .command()
            .args(["play", playbook])
            .env("OPS_WEBHOOK", format!("{}/slack/ops", emulator.url()))
            .output()
            .expect("run"),
    )
}

const CONFIG: &str = "[notify.slack.ops]\nwebhook_env = \"OPS_WEBHOOK\"\n";

#[test]
fn one_message_per_start_escalation_and_clear() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    project.config(CONFIG).playbook(
        "watch.rhai",
        r#"
for s in ["warning", "warning", "critical", "critical", "warning", "ok", "ok"] {
    print(notify::alert("rate-limit:core", s, `core quota at level ${s}`));
}
"#,
    );
    run(&project, &emulator, "watch")
        .expect_code(0)
        .stdout_has("true\nfalse\ntrue\nfalse\nfalse\ntrue\nfalse");
    assert_eq!(
        messages(&emulator),
        [
            "[WARNING] rate-limit:core: core quota at level warning",
            "[CRITICAL] rate-limit:core: core quota at level critical",
            "[resolved] rate-limit:core: core quota at level ok",
        ]
    );
}

#[test]
fn a_refused_alert_is_kept_and_sent_on_the_next_run() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    emulator.fault(r#"{"path":"/slack/ops","kind":"status","status":503}"#);
    project
        .config(&format!("{CONFIG}[limits]\nretry_attempts = 1\n"))
        .playbook(
            "down.rhai",
            "print(notify::alert(\"budget\", \"critical\", \"over budget\"));\n",
        )
        .playbook(
            "later.rhai",
            "print(notify::alert(\"other\", \"ok\", \"fine\"));\n",
        );
    run(&project, &emulator, "down")
        .expect_code(0)
        .stdout_has("false")
        .stderr_has("alert budget kept for the next attempt");
    assert!(messages(&emulator).is_empty());
    emulator.call("DELETE", "/_emulator/faults", "");
    run(&project, &emulator, "later").expect_code(0);
    assert_eq!(messages(&emulator), ["[CRITICAL] budget: over budget"]);
    run(&project, &emulator, "later").expect_code(0);
    assert_eq!(messages(&emulator).len(), 1, "delivered once");
}
