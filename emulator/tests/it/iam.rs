//! IAM keys and the token endpoint: a minted key file works, a disabled or deleted key does not.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::harness::*;

const SA: &str = "deployer@demo-project.iam.gserviceaccount.com";

async fn create_key(emu: &orchestra_emulator::RunningEmulator) -> (u16, Value) {
    let response = client()
        .post(format!(
            "{}/v1/projects/-/serviceAccounts/{SA}/keys",
            emu.google_url()
        ))
        .json(&json!({"privateKeyType": 2}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn exchange(file: &Value) -> (u16, Value) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let assertion = orchestra_emulator::sign_rs256(
        &json!({"iss": file["client_email"], "scope": "https://www.googleapis.com/auth/cloud-platform",
                "aud": "https://oauth2.googleapis.com/token", "iat": now, "exp": now + 3600}),
        file["private_key"].as_str().unwrap(),
        file["private_key_id"].as_str(),
    )
    .unwrap();
    let response = client()
        .post(file["token_uri"].as_str().unwrap())
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &assertion),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_minted_key_file_gets_a_token_until_disabled_or_deleted() {
    let emu = emulator().await;
    let (status, key) = create_key(&emu).await;
    assert_eq!(status, 200);
    let file: Value = serde_json::from_slice(
        &STANDARD
            .decode(key["privateKeyData"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(file["type"], "service_account");
    assert_eq!(file["client_email"], SA);
    assert_eq!(file["token_uri"], emu.token_uri());
    let key_id = file["private_key_id"].as_str().unwrap().to_owned();
    assert_eq!(key_id.len(), 40);

    let (status, token) = exchange(&file).await;
    assert_eq!(status, 200);
    assert_eq!(token["token_type"], "Bearer");
    let access = token["access_token"].as_str().unwrap().to_owned();
    let listed = client()
        .get(format!(
            "{}/v1/projects/demo-project/secrets",
            emu.google_url()
        ))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);

    let key_url = format!(
        "{}/v1/projects/demo-project/serviceAccounts/{SA}/keys/{key_id}",
        emu.google_url()
    );
    assert_eq!(
        client()
            .post(format!("{key_url}:disable"))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (status, refused) = exchange(&file).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let revoked_access = client()
        .get(format!(
            "{}/v1/projects/demo-project/secrets",
            emu.google_url()
        ))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked_access.status(), 401);
    client()
        .post(format!("{key_url}:enable"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(exchange(&file).await.0, 200);
    assert_eq!(
        client().delete(&key_url).send().await.unwrap().status(),
        200
    );
    assert_eq!(exchange(&file).await.0, 400);

    let keys: Value = client()
        .get(format!(
            "{}/v1/projects/demo-project/serviceAccounts/{SA}/keys?keyTypes=USER_MANAGED",
            emu.google_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        keys["keys"].as_array().unwrap().len(),
        1,
        "only the seeded key is left"
    );
}

#[tokio::test]
async fn the_eleventh_user_managed_key_is_refused() {
    let emu = emulator().await;
    for _ in 0..9 {
        assert_eq!(create_key(&emu).await.0, 200);
    }
    let (status, error) = create_key(&emu).await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["status"], "FAILED_PRECONDITION");
    assert_eq!(error["error"]["message"], "Precondition check failed.");
}

#[tokio::test]
async fn a_wrong_bearer_token_gets_401_in_googles_shape() {
    let emu = emulator().await;
    let response = client()
        .get(format!(
            "{}/v1/projects/demo-project/secrets",
            emu.google_url()
        ))
        .bearer_auth("ya29.not-issued")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
}
