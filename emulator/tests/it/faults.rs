//! Injected faults, each as the real service would show it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::*;

async fn add_fault(emu: &orchestra_emulator::RunningEmulator, rule: Value) {
    let response = client()
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn a_counted_500_then_normal_service() {
    let emu = emulator().await;
    add_fault(
        &emu,
        json!({"method": "GET", "path": "/repos/*/*/actions/secrets", "status": 500, "count": 2}),
    )
    .await;
    let url = format!("{}/repos/acme/api/actions/secrets", emu.github_url());
    for _ in 0..2 {
        let r = client().get(&url).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(r.status(), 500);
        assert!(r.json::<Value>().await.unwrap()["message"].is_string());
    }
    assert_eq!(
        client()
            .get(&url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_429_carries_retry_after_in_each_services_shape() {
    let emu = emulator().await;
    add_fault(
        &emu,
        json!({"path": "/v1/**", "kind": "status", "status": 429, "retry_after": 2, "count": 1}),
    )
    .await;
    add_fault(
        &emu,
        json!({"path": "/user", "kind": "status", "status": 403, "retry_after": 3, "count": 1}),
    )
    .await;
    add_fault(&emu, json!({"path": "/slack/ops", "kind": "status", "status": 429, "retry_after": 1, "count": 1})).await;
    let google = client()
        .get(format!(
            "{}/v1/projects/demo-project/secrets",
            emu.google_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(google.status(), 429);
    assert_eq!(google.headers()["retry-after"], "2");
    assert_eq!(
        google.json::<Value>().await.unwrap()["error"]["status"],
        "RESOURCE_EXHAUSTED"
    );
    let github = client()
        .get(format!("{}/user", emu.github_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(github.headers()["retry-after"], "3");
    // A secondary limit leaves the primary window with requests to spare, and says so.
    assert_eq!(github.headers()["x-ratelimit-limit"], "5000");
    assert_ne!(github.headers()["x-ratelimit-remaining"], "0");
    assert!(
        github.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .starts_with("You have exceeded a secondary rate limit")
    );
    let slack = client()
        .post(emu.slack_webhook_url("ops"))
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(slack.status(), 429);
    assert_eq!(slack.headers()["retry-after"], "1");
}

#[tokio::test]
async fn latency_delays_and_a_drop_closes_without_an_answer() {
    let emu = emulator().await;
    add_fault(
        &emu,
        json!({"path": "/rate_limit", "kind": "latency", "ms": 300, "count": 1}),
    )
    .await;
    let started = Instant::now();
    let slow = client()
        .get(format!("{}/rate_limit", emu.github_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(slow.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    add_fault(
        &emu,
        json!({"path": "/rate_limit", "kind": "drop", "count": 1}),
    )
    .await;
    let dropped = client()
        .get(format!("{}/rate_limit", emu.github_url()))
        .send()
        .await;
    assert!(dropped.is_err(), "a dropped connection gives no response");
    assert_eq!(
        client()
            .get(format!("{}/rate_limit", emu.github_url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn faults_can_be_listed_and_cleared() {
    let emu = emulator().await;
    add_fault(
        &emu,
        json!({"path": "/**", "kind": "status", "status": 503}),
    )
    .await;
    let listed: Value = client()
        .get(format!("{}/_emulator/faults", emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["faults"].as_array().unwrap().len(), 1);
    assert_eq!(
        client()
            .get(format!("{}/rate_limit", emu.github_url()))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    client()
        .delete(format!("{}/_emulator/faults", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        client()
            .get(format!("{}/rate_limit", emu.github_url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let bad = client()
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
