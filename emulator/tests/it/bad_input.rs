//! Bad input gets the real API's error shape, and the emulator keeps serving afterwards.

use serde_json::{Value, json};

use crate::harness::*;

const TOO_BIG: usize = 2 * 1024 * 1024;

#[tokio::test]
async fn bodies_over_the_limit_are_refused_in_each_services_shape() {
    let emu = emulator().await;
    let big = vec![b'a'; TOO_BIG];
    let google = client()
        .post(format!(
            "{}/v1/projects/demo-project/secrets/x:addVersion",
            emu.google_url()
        ))
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(google.status(), 400);
    assert_eq!(
        google.json::<Value>().await.unwrap()["error"]["status"],
        "INVALID_ARGUMENT"
    );
    let github = client()
        .put(format!(
            "{}/repos/acme/api/actions/secrets/BIG",
            emu.github_url()
        ))
        .bearer_auth(TOKEN)
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(github.status(), 413);
    assert!(github.json::<Value>().await.unwrap()["message"].is_string());
    let slack = client()
        .post(emu.slack_webhook_url("ops"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(slack.status(), 413);
    let still = client()
        .get(format!("{}/rate_limit", emu.github_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200);
}

#[tokio::test]
async fn malformed_json_to_google_is_invalid_argument() {
    let emu = emulator().await;
    let response = client()
        .post(format!(
            "{}/v1/projects/demo-project/secrets?secretId=broken",
            emu.google_url()
        ))
        .header("content-type", "application/json")
        .body("{\"replication\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 400);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
}

#[tokio::test]
async fn a_garbage_or_unsigned_assertion_is_an_invalid_grant() {
    let emu = emulator().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = base64_url(&json!({"alg": "RS256", "kid": "nope"}));
    let claims = base64_url(
        &json!({"iss": "deployer@demo-project.iam.gserviceaccount.com", "iat": now, "exp": now + 3600}),
    );
    for assertion in ["garbage".to_owned(), format!("{header}.{claims}.AAAA")] {
        let response = client()
            .post(emu.token_uri())
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant");
        assert!(body["error_description"].is_string());
    }
}

fn base64_url(value: &Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}
