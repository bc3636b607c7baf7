//! Secret Manager v1 over REST: versions, aliases, states, checksums, paging, errors.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::harness::*;

async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut request = client().request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn v1(emu: &orchestra_emulator::RunningEmulator, path: &str) -> String {
    format!("{}/v1/projects/demo-project/{path}", emu.google_url())
}

async fn add(emu: &orchestra_emulator::RunningEmulator, secret: &str, data: &[u8]) -> (u16, Value) {
    call(
        reqwest::Method::POST,
        v1(emu, &format!("secrets/{secret}:addVersion")),
        Some(json!({"payload": {"data": STANDARD.encode(data), "dataCrc32c": crc32c::crc32c(data).to_string()}})),
    )
    .await
}

#[tokio::test]
async fn versions_aliases_and_states_follow_the_real_rules() {
    let emu = emulator().await;
    use reqwest::Method as M;
    let (status, secret) = call(
        M::POST,
        v1(&emu, "secrets?secretId=db-pass"),
        Some(json!({"replication": {"automatic": {}}, "labels": {"managed-by": "orchestra"}})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(secret["name"], "projects/123456789012/secrets/db-pass");
    let (status, dup) = call(
        M::POST,
        v1(&emu, "secrets?secretId=db-pass"),
        Some(json!({"replication": {"automatic": {}}})),
    )
    .await;
    assert_eq!(
        (status, dup["error"]["status"].as_str()),
        (409, Some("ALREADY_EXISTS"))
    );

    let (status, version) = add(&emu, "db-pass", b"one").await;
    assert_eq!(status, 200);
    assert_eq!(
        version["name"],
        "projects/123456789012/secrets/db-pass/versions/1"
    );
    assert_eq!(version["state"], "ENABLED");
    assert_eq!(version["clientSpecifiedPayloadChecksum"], true);
    add(&emu, "db-pass", b"two").await;

    let (_, patched) = call(
        M::PATCH,
        v1(&emu, "secrets/db-pass?updateMask=versionAliases"),
        Some(json!({"versionAliases": {"current": "1"}})),
    )
    .await;
    assert_eq!(patched["versionAliases"]["current"], "1");
    let (_, latest) = call(
        M::GET,
        v1(&emu, "secrets/db-pass/versions/latest:access"),
        None,
    )
    .await;
    assert_eq!(
        latest["name"],
        "projects/123456789012/secrets/db-pass/versions/2"
    );
    assert_eq!(
        STANDARD
            .decode(latest["payload"]["data"].as_str().unwrap())
            .unwrap(),
        b"two"
    );
    assert_eq!(
        latest["payload"]["dataCrc32c"],
        crc32c::crc32c(b"two").to_string()
    );
    let (_, current) = call(
        M::GET,
        v1(&emu, "secrets/db-pass/versions/current:access"),
        None,
    )
    .await;
    assert_eq!(
        STANDARD
            .decode(current["payload"]["data"].as_str().unwrap())
            .unwrap(),
        b"one"
    );

    let (_, disabled) = call(
        M::POST,
        v1(&emu, "secrets/db-pass/versions/2:disable"),
        Some(json!({})),
    )
    .await;
    assert_eq!(disabled["state"], "DISABLED");
    let (status, refused) = call(
        M::GET,
        v1(&emu, "secrets/db-pass/versions/latest:access"),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"]["status"], "FAILED_PRECONDITION");
    assert_eq!(
        refused["error"]["message"],
        "Secret Version [projects/123456789012/secrets/db-pass/versions/2] is in DISABLED state."
    );
    call(
        M::POST,
        v1(&emu, "secrets/db-pass/versions/2:destroy"),
        Some(json!({})),
    )
    .await;
    let (status, _) = call(
        M::POST,
        v1(&emu, "secrets/db-pass/versions/2:enable"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 400);

    let (status, missing) = call(
        M::GET,
        v1(&emu, "secrets/nope/versions/latest:access"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        missing["error"]["message"],
        "Secret [projects/123456789012/secrets/nope] not found or has no versions."
    );
}

#[tokio::test]
async fn bad_payloads_get_invalid_argument() {
    let emu = emulator().await;
    use reqwest::Method as M;
    call(
        M::POST,
        v1(&emu, "secrets?secretId=s"),
        Some(json!({"replication": {"automatic": {}}})),
    )
    .await;
    for body in [
        json!({"payload": {"data": STANDARD.encode("x"), "dataCrc32c": "12345"}}),
        json!({"payload": {"data": "***"}}),
        json!({"payload": {"data": STANDARD.encode(vec![b'x'; 70_000])}}),
    ] {
        let (status, error) = call(M::POST, v1(&emu, "secrets/s:addVersion"), Some(body)).await;
        assert_eq!(
            (status, error["error"]["status"].as_str()),
            (400, Some("INVALID_ARGUMENT"))
        );
    }
    let response = client()
        .post(v1(&emu, "secrets/s:addVersion"))
        .body("{broken")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (status, _) = call(
        M::POST,
        v1(&emu, "secrets?secretId=no-replication"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn lists_page_and_empty_query_values_count_as_absent() {
    let emu = emulator().await;
    use reqwest::Method as M;
    for name in ["a", "b", "c"] {
        call(
            M::POST,
            v1(&emu, &format!("secrets?secretId={name}")),
            Some(json!({"replication": {"automatic": {}}})),
        )
        .await;
    }
    let (_, first) = call(
        M::GET,
        v1(&emu, "secrets?pageSize=2&pageToken=&filter="),
        None,
    )
    .await;
    assert_eq!(first["secrets"].as_array().unwrap().len(), 2);
    assert_eq!(
        first["totalSize"], 4,
        "a, b, c and the demo's vertex-budget"
    );
    let token = first["nextPageToken"].as_str().unwrap();
    let (_, second) = call(
        M::GET,
        v1(&emu, &format!("secrets?pageSize=2&pageToken={token}")),
        None,
    )
    .await;
    assert_eq!(second["secrets"].as_array().unwrap().len(), 2);
    assert!(second.get("nextPageToken").is_none());
}

#[tokio::test]
async fn with_a_destroy_ttl_destroy_only_schedules_and_enable_cancels() {
    let emu = emulator().await;
    use reqwest::Method as M;
    let (status, secret) = call(
        M::POST,
        v1(&emu, "secrets?secretId=delayed"),
        Some(json!({"replication": {"automatic": {}}, "versionDestroyTtl": "86400s"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(secret["versionDestroyTtl"], "86400s");
    add(&emu, "delayed", b"v1").await;
    let (status, version) = call(
        M::POST,
        v1(&emu, "secrets/delayed/versions/1:destroy"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(version["state"], "DISABLED");
    assert!(version["scheduledDestroyTime"].is_string());
    let (status, version) = call(
        M::POST,
        v1(&emu, "secrets/delayed/versions/1:enable"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(version["state"], "ENABLED");
    assert!(version.get("scheduledDestroyTime").is_none());
    let (status, accessed) =
        call(M::GET, v1(&emu, "secrets/delayed/versions/1:access"), None).await;
    assert_eq!(status, 200);
    assert_eq!(accessed["payload"]["data"], STANDARD.encode("v1"));
}
