//! GitHub's secondary limits: each refuses as GitHub documents (403, its message, `retry-after`),
//! counts its refusals on `/_emulator/limits`, and is off with `enabled: false`. A time scale
//! makes the minute short, so a window can be spent without waiting for it.

use orchestra_emulator::{EmulatorConfig, FaultRule, LimitSettings, RunningEmulator};
use serde_json::Value;

use crate::harness::{TOKEN, client};

async fn emulator_with(limits: LimitSettings, faults: Vec<FaultRule>) -> RunningEmulator {
    orchestra_emulator::start(EmulatorConfig {
        limits,
        faults,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

/// An hour-long minute: nothing frees up while a test runs.
fn frozen() -> LimitSettings {
    LimitSettings::default()
}

async fn send(emu: &RunningEmulator, method: reqwest::Method, path: &str) -> reqwest::Response {
    let mut request = client()
        .request(method.clone(), format!("{}{path}", emu.base_url()))
        .bearer_auth(TOKEN);
    if method == reqwest::Method::POST || method == reqwest::Method::PUT {
        request = request.json(&serde_json::json!({"value": "x", "ref": "main"}));
    }
    request.send().await.expect("request")
}

async fn refusals(emu: &RunningEmulator) -> Value {
    client()
        .get(format!("{}/_emulator/limits", emu.base_url()))
        .send()
        .await
        .expect("limits")
        .json::<Value>()
        .await
        .expect("json")["refusals"]
        .clone()
}

async fn assert_secondary_refusal(response: reqwest::Response) {
    assert_eq!(response.status(), 403);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a numeric retry-after");
    assert!(retry_after >= 1);
    let body: Value = response.json().await.expect("json");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.starts_with("You have exceeded a secondary rate limit"),
        "{message}"
    );
}

#[tokio::test]
async fn writes_past_900_points_a_minute_to_one_endpoint_are_refused() {
    let emu = emulator_with(frozen(), Vec::new()).await;
    let path = "/repos/demo-user/demo-repo/actions/variables/V";
    // 180 writes of 5 points spend the endpoint's 900; the 181st is over.
    for i in 0..180 {
        let answer = send(&emu, reqwest::Method::DELETE, &format!("{path}{i}")).await;
        assert_ne!(answer.status(), 403, "write {i} refused");
    }
    assert_secondary_refusal(send(&emu, reqwest::Method::DELETE, &format!("{path}X")).await).await;
    // Another endpoint still has its own points.
    assert_ne!(
        send(&emu, reqwest::Method::GET, "/rate_limit")
            .await
            .status(),
        403
    );
    assert_eq!(refusals(&emu).await["points"], 1);
}

#[tokio::test]
async fn a_scaled_minute_gives_the_points_back() {
    let emu = emulator_with(
        LimitSettings {
            time_scale: 60.0,
            points_per_minute: 10,
            ..LimitSettings::default()
        },
        Vec::new(),
    )
    .await;
    let path = "/repos/demo-user/demo-repo/actions/variables/V";
    send(&emu, reqwest::Method::DELETE, path).await;
    send(&emu, reqwest::Method::DELETE, path).await;
    let refused = send(&emu, reqwest::Method::DELETE, path).await;
    assert_eq!(refused.status(), 403);
    // The minute is one second long.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_ne!(
        send(&emu, reqwest::Method::DELETE, path).await.status(),
        403
    );
}

#[tokio::test]
async fn more_than_100_requests_in_flight_are_refused() {
    // Every answer takes 400 ms, so 110 sent at once overlap.
    let slow = FaultRule::parse(r#"{"path":"/rate_limit","ms":400}"#).expect("fault");
    let emu = emulator_with(frozen(), vec![slow]).await;
    let base = emu.base_url();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..110 {
        let url = format!("{base}/rate_limit");
        tasks.spawn(async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(TOKEN)
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
    }
    let mut refused = 0;
    while let Some(joined) = tasks.join_next().await {
        if joined.expect("task").expect("answer") == 403 {
            refused += 1;
        }
    }
    assert_eq!(refused, 10);
    assert_eq!(refusals(&emu).await["concurrency"], 10);
}

#[tokio::test]
async fn content_creation_past_80_a_minute_is_refused() {
    let emu = emulator_with(frozen(), Vec::new()).await;
    // Each dispatch is a POST to its own workflow's endpoint, so points never run out first.
    for i in 0..80 {
        let path = format!("/repos/demo-user/demo-repo/actions/workflows/w{i}.yml/dispatches");
        assert_ne!(send(&emu, reqwest::Method::POST, &path).await.status(), 403);
    }
    let path = "/repos/demo-user/demo-repo/actions/workflows/last.yml/dispatches";
    assert_secondary_refusal(send(&emu, reqwest::Method::POST, path).await).await;
    assert_eq!(refusals(&emu).await["content"], 1);
}

#[tokio::test]
async fn secret_puts_create_content_only_when_configured() {
    let emu = emulator_with(
        LimitSettings {
            content_per_minute: 1,
            secret_puts_are_content: true,
            ..frozen()
        },
        Vec::new(),
    )
    .await;
    let path = "/repos/demo-user/demo-repo/actions/secrets";
    send(&emu, reqwest::Method::PUT, &format!("{path}/A")).await;
    assert_eq!(
        send(&emu, reqwest::Method::PUT, &format!("{path}/B"))
            .await
            .status(),
        403
    );
    let emu = emulator_with(
        LimitSettings {
            content_per_minute: 1,
            ..frozen()
        },
        Vec::new(),
    )
    .await;
    send(&emu, reqwest::Method::PUT, &format!("{path}/A")).await;
    assert_ne!(
        send(&emu, reqwest::Method::PUT, &format!("{path}/B"))
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn limits_off_refuses_nothing() {
    let emu = emulator_with(
        LimitSettings {
            enabled: false,
            points_per_minute: 1,
            ..LimitSettings::default()
        },
        Vec::new(),
    )
    .await;
    for _ in 0..3 {
        assert_ne!(
            send(&emu, reqwest::Method::GET, "/rate_limit")
                .await
                .status(),
            403
        );
    }
    assert_eq!(refusals(&emu).await["total"], 0);
}
