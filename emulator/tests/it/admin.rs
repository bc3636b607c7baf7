//! The control surface: minting personal tokens, and "does this credential work" from outside.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::harness::*;

const SA: &str = "deployer@demo-project.iam.gserviceaccount.com";

async fn post(emu: &orchestra_emulator::RunningEmulator, path: &str, body: Value) -> Value {
    let response = client()
        .post(format!("{}{path}", emu.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

async fn works(emu: &orchestra_emulator::RunningEmulator, body: Value) -> bool {
    post(emu, "/_emulator/verify", body).await["works"]
        .as_bool()
        .unwrap()
}

#[tokio::test]
async fn a_minted_pat_carries_its_scopes_and_expiry_until_revoked() {
    let emu = emulator().await;
    let minted = post(
        &emu,
        "/_emulator/github/tokens",
        json!({"login": "demo-user", "scopes": ["repo"], "expires_in": 86400}),
    )
    .await;
    let token = minted["token"].as_str().unwrap().to_owned();
    let me = client()
        .get(format!("{}/user", emu.github_url()))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(me.headers()["x-oauth-scopes"], "repo");
    let expiry = me.headers()["github-authentication-token-expiration"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(expiry.ends_with(" UTC"), "{expiry}");
    assert!(works(&emu, json!({"github_token": token})).await);
    post(
        &emu,
        "/credentials/revoke",
        json!({"credentials": [token.clone()]}),
    )
    .await;
    assert!(!works(&emu, json!({"github_token": token})).await);
    assert!(!works(&emu, json!({"github_token": "ghp_unknown"})).await);
}

#[tokio::test]
async fn a_key_file_works_until_its_key_is_disabled() {
    let emu = emulator().await;
    let key = post(
        &emu,
        &format!("/v1/projects/-/serviceAccounts/{SA}/keys"),
        json!({}),
    )
    .await;
    let data = key["privateKeyData"].as_str().unwrap().to_owned();
    assert!(works(&emu, json!({"key_file": data})).await);
    let file: Value = serde_json::from_slice(&STANDARD.decode(&data).unwrap()).unwrap();
    assert!(works(&emu, json!({"key_file": file})).await);

    let mut forged = file.clone();
    forged["private_key"] = json!(emu.demo_credentials().app_private_key.unwrap());
    assert!(!works(&emu, json!({"key_file": forged})).await);

    post(
        &emu,
        &format!("/v1/{}:disable", key["name"].as_str().unwrap()),
        json!({}),
    )
    .await;
    let verdict = post(&emu, "/_emulator/verify", json!({"key_file": file})).await;
    assert_eq!(verdict["works"], false);
    assert!(verdict["reason"].as_str().unwrap().contains("disabled"));
}
