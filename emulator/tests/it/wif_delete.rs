//! Soft delete of Workload Identity pools and providers, the same for both: a delete answers
//! DELETED with an expireTime, a second delete is FAILED_PRECONDITION and leaves expireTime
//! as the first set it, undelete restores, and undeleting what is not deleted is refused too.

use serde_json::{Value, json};

use crate::harness::*;

const POOLS: &str = "/v1/projects/demo-project/locations/global/workloadIdentityPools";

async fn call(
    emu: &orchestra_emulator::RunningEmulator,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", emu.google_url());
    let request = match method {
        "POST" => client().post(url).json(&body.unwrap_or_else(|| json!({}))),
        "DELETE" => client().delete(url),
        _ => client().get(url),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// Deletes `path` twice and undeletes it twice, checking each answer.
async fn delete_twice_then_undelete_twice(emu: &orchestra_emulator::RunningEmulator, path: &str) {
    let (status, _) = call(emu, "DELETE", path, None).await;
    assert_eq!(status, 200, "first delete of {path}");
    let (_, deleted) = call(emu, "GET", path, None).await;
    assert_eq!(deleted["state"], "DELETED", "{deleted}");
    let expire = deleted["expireTime"].clone();
    assert!(expire.is_string(), "{deleted}");

    let (status, again) = call(emu, "DELETE", path, None).await;
    assert_eq!(status, 400, "second delete of {path}: {again}");
    assert_eq!(again["error"]["status"], "FAILED_PRECONDITION", "{again}");
    let (_, still) = call(emu, "GET", path, None).await;
    assert_eq!(
        still["expireTime"], expire,
        "a refused delete changes nothing"
    );

    let (status, _) = call(emu, "POST", &format!("{path}:undelete"), None).await;
    assert_eq!(status, 200, "undelete of {path}");
    let (_, restored) = call(emu, "GET", path, None).await;
    assert_eq!(restored["state"], "ACTIVE", "{restored}");
    assert!(restored.get("expireTime").is_none(), "{restored}");
    let (status, refused) = call(emu, "POST", &format!("{path}:undelete"), None).await;
    assert_eq!(status, 400, "undelete of an active {path}: {refused}");
    assert_eq!(
        refused["error"]["status"], "FAILED_PRECONDITION",
        "{refused}"
    );
}

#[tokio::test]
async fn pools_and_providers_refuse_a_second_delete_alike() {
    let emu = emulator().await;
    let (status, created) = call(
        &emu,
        "POST",
        &format!("{POOLS}?workloadIdentityPoolId=github-actions"),
        Some(json!({"displayName": "GitHub"})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let provider_body = json!({
        "oidc": {"issuerUri": "https://token.actions.githubusercontent.com"},
        "attributeMapping": {
            "google.subject": "assertion.sub",
            "attribute.repository": "assertion.repository"
        },
        "attributeCondition": "assertion.repository == 'acme/api'"
    });
    let (status, created) = call(
        &emu,
        "POST",
        &format!("{POOLS}/github-actions/providers?workloadIdentityPoolProviderId=github"),
        Some(provider_body),
    )
    .await;
    assert_eq!(status, 200, "{created}");

    delete_twice_then_undelete_twice(&emu, &format!("{POOLS}/github-actions/providers/github"))
        .await;
    delete_twice_then_undelete_twice(&emu, &format!("{POOLS}/github-actions")).await;
}
