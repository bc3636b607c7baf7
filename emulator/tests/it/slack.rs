//! Slack incoming webhooks: messages recorded, Slack's plain-text errors.

use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn messages_are_recorded_and_errors_are_slacks() {
    let emu = emulator().await;
    let c = client();
    let ok = c
        .post(emu.slack_webhook_url("ops"))
        .json(&json!({"text": "rotated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "ok");
    let bad = c
        .post(emu.slack_webhook_url("ops"))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (bad.status().as_u16(), bad.text().await.unwrap()),
        (400, "invalid_payload".into())
    );
    let empty = c
        .post(emu.slack_webhook_url("ops"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (empty.status().as_u16(), empty.text().await.unwrap()),
        (400, "no_text".into())
    );
    let unknown = c
        .post(emu.slack_webhook_url("nobody"))
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (unknown.status().as_u16(), unknown.text().await.unwrap()),
        (404, "no_service".into())
    );
    let recorded: Value = c
        .get(format!("{}/_emulator/slack/ops", emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(recorded["messages"].as_array().unwrap().len(), 1);
    assert_eq!(recorded["messages"][0]["text"], "rotated");
}
