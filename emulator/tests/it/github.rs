//! GitHub REST: rate limits, secrets sealed with real key pairs, apps, tokens, dispatch.

use serde_json::{Value, json};

use crate::harness::*;

async fn put_secret(base: &str, path: &str, value: &[u8]) -> reqwest::Response {
    let c = client();
    let key: Value = c
        .get(format!("{base}{path}/public-key"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    c.put(format!("{base}{path}/NEW_SECRET"))
        .bearer_auth(TOKEN)
        .json(&json!({"encrypted_value": seal(key["key"].as_str().unwrap(), value), "key_id": key["key_id"], "visibility": "private"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn rate_limit_headers_count_down_per_token_and_rate_limit_itself_is_free() {
    let emu = emulator().await;
    let c = client();
    let get = |path: &str| {
        c.get(format!("{}{path}", emu.github_url()))
            .header("authorization", format!("token {TOKEN}"))
            .send()
    };
    let first = get("/user").await.unwrap();
    assert_eq!(first.headers()["x-ratelimit-limit"], "5000");
    assert_eq!(first.headers()["x-ratelimit-remaining"], "4999");
    assert_eq!(
        first.headers()["x-oauth-scopes"],
        "repo, workflow, admin:org"
    );
    let second = get("/user").await.unwrap();
    assert_eq!(second.headers()["x-ratelimit-remaining"], "4998");
    let limits: Value = get("/rate_limit").await.unwrap().json().await.unwrap();
    assert_eq!(limits["resources"]["core"]["remaining"], 4998);
    assert_eq!(limits["rate"]["used"], 2);
    let anonymous = c
        .get(format!("{}/rate_limit", emu.github_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.headers()["x-ratelimit-limit"], "60");
}

#[tokio::test]
async fn an_exhausted_window_answers_403_with_the_reset() {
    let emu = emulator().await;
    let c = client();
    c.post(format!("{}/_emulator/github/rate-limit", emu.base_url()))
        .json(&json!({"token": TOKEN, "limit": 5000, "remaining": 1}))
        .send()
        .await
        .unwrap();
    let ok = c
        .get(format!("{}/user", emu.github_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let refused = c
        .get(format!("{}/user", emu.github_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
    assert!(refused.headers().contains_key("x-ratelimit-reset"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["message"], "API rate limit exceeded for user ID 1.");
}

#[tokio::test]
async fn the_primary_limit_can_answer_429_instead() {
    let emu = emulator().await;
    let c = client();
    let set = c
        .post(format!("{}/_emulator/github/rate-limit", emu.base_url()))
        .json(&json!({"token": TOKEN, "remaining": 0, "status": 429}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let refused = c
        .get(format!("{}/user", emu.github_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
}

#[tokio::test]
async fn a_sealed_secret_is_opened_stored_and_never_served() {
    let emu = emulator().await;
    let base = emu.github_url();
    let path = "/repos/acme/api/actions/secrets";
    assert_eq!(put_secret(&base, path, b"first value").await.status(), 201);
    assert_eq!(put_secret(&base, path, b"second value").await.status(), 204);
    let state = revealed_state(&emu).await;
    assert_eq!(
        actions_secret_value(&state, "acme/api", "NEW_SECRET").as_deref(),
        Some("second value")
    );

    let c = client();
    let meta: Value = c
        .get(format!("{base}{path}/new_secret"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["name"], "NEW_SECRET");
    assert!(meta.get("value").is_none() && meta.get("encrypted_value").is_none());
    let list: Value = c
        .get(format!("{base}{path}?per_page=2"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total_count"], 3);
    let redacted: Value = c
        .get(format!("{}/_emulator/state", emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!redacted.to_string().contains("second value"));

    assert_eq!(
        c.delete(format!("{base}{path}/NEW_SECRET"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        c.get(format!("{base}{path}/NEW_SECRET"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn environment_and_org_secrets_work_under_the_api_v3_prefix() {
    let emu = emulator().await;
    let base = format!("{}/api/v3", emu.github_url());
    assert_eq!(
        put_secret(
            &base,
            "/repos/acme/api/environments/production/secrets",
            b"env"
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        put_secret(&base, "/orgs/acme/actions/secrets", b"org")
            .await
            .status(),
        201
    );
    let meta: Value = client()
        .get(format!("{base}/orgs/acme/actions/secrets/NEW_SECRET"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["visibility"], "private");
    assert!(
        meta["selected_repositories_url"]
            .as_str()
            .unwrap()
            .starts_with(&base)
    );
}

#[tokio::test]
async fn bad_secret_puts_get_422_and_the_emulator_keeps_serving() {
    let emu = emulator().await;
    let c = client();
    let url = |name: &str| format!("{}/repos/acme/api/actions/secrets/{name}", emu.github_url());
    let key: Value = c
        .get(url("public-key"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let good = seal(key["key"].as_str().unwrap(), b"v");
    let (other_secret, other_public) = {
        let sk = crypto_box::SecretKey::generate(&mut crypto_box::aead::OsRng);
        let pk = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            sk.public_key().as_bytes(),
        );
        (sk, pk)
    };
    drop(other_secret);
    let cases = [
        (
            url("OK_NAME"),
            json!({"encrypted_value": good, "key_id": "999"}),
            "key_id",
        ),
        (
            url("OK_NAME"),
            json!({"encrypted_value": "%%%not base64", "key_id": key["key_id"]}),
            "encrypted_value",
        ),
        (
            url("OK_NAME"),
            json!({"encrypted_value": seal(&other_public, b"v"), "key_id": key["key_id"]}),
            "encrypted_value",
        ),
        (
            url("GITHUB_TOKEN"),
            json!({"encrypted_value": good, "key_id": key["key_id"]}),
            "name",
        ),
        (
            url("OK_NAME"),
            json!({"key_id": key["key_id"]}),
            "encrypted_value",
        ),
    ];
    for (url, body, field) in cases {
        let response = c
            .put(url)
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["message"], "Validation Failed");
        assert_eq!(body["errors"][0]["field"], field);
    }
    let malformed = c
        .put(url("OK_NAME"))
        .bearer_auth(TOKEN)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert!(
        malformed.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .starts_with("Problems parsing JSON")
    );
    let still = c
        .put(url("OK_NAME"))
        .bearer_auth(TOKEN)
        .json(&json!({"encrypted_value": good, "key_id": key["key_id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 201);
}

#[tokio::test]
async fn missing_or_wrong_credentials_get_401() {
    let emu = emulator().await;
    let c = client();
    let secrets = format!("{}/repos/acme/api/actions/secrets", emu.github_url());
    assert_eq!(c.get(&secrets).send().await.unwrap().status(), 401);
    let wrong = c
        .get(&secrets)
        .bearer_auth("ghp_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["message"],
        "Bad credentials"
    );
}

fn app_jwt(private_pem: &str, iat_offset: i64, life: i64) -> String {
    let now = chrono_now();
    orchestra_emulator::sign_rs256(
        &json!({"iss": "1001", "iat": now + iat_offset, "exp": now + iat_offset + life}),
        private_pem,
        None,
    )
    .unwrap()
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn an_app_mints_an_installation_token_that_works_until_revoked() {
    let emu = emulator().await;
    let key = emu.demo_credentials().app_private_key.unwrap();
    let c = client();
    let minted = c
        .post(format!(
            "{}/app/installations/2002/access_tokens",
            emu.github_url()
        ))
        .bearer_auth(app_jwt(&key, -30, 540))
        .send()
        .await
        .unwrap();
    assert_eq!(minted.status(), 201);
    let minted: Value = minted.json().await.unwrap();
    let token = minted["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ghs_"));
    let expires =
        chrono::DateTime::parse_from_rfc3339(minted["expires_at"].as_str().unwrap()).unwrap();
    let left = expires.timestamp() - chrono_now();
    assert!((3500..=3600).contains(&left), "{left}");

    let secrets = format!("{}/repos/acme/api/actions/secrets", emu.github_url());
    assert_eq!(
        c.get(&secrets)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let user = c
        .get(format!("{}/user", emu.github_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), 403);
    assert_eq!(
        c.delete(format!("{}/installation/token", emu.github_url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        c.get(&secrets)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn expired_long_lived_or_foreign_app_jwts_are_refused() {
    let emu = emulator().await;
    let key = emu.demo_credentials().app_private_key.unwrap();
    let url = format!("{}/app/installations/2002/access_tokens", emu.github_url());
    let c = client();
    for (jwt, expected) in [
        (
            app_jwt(&key, -1200, 600),
            "'Expiration time' claim ('exp') must be a numeric value",
        ),
        (
            app_jwt(&key, 0, 3600),
            "'Expiration time' claim ('exp') is too far in the future",
        ),
        (
            app_jwt(&orchestra_emulator_test_key(), -30, 300),
            "A JSON web token could not be decoded",
        ),
    ] {
        let response = c.post(&url).bearer_auth(jwt).send().await.unwrap();
        assert_eq!(response.status(), 401);
        let message = response.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.starts_with(expected), "{message}");
    }
}

fn orchestra_emulator_test_key() -> String {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut crypto_box::aead::OsRng, 2048).unwrap();
    key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn credentials_revoke_needs_no_auth_and_kills_the_token() {
    let emu = emulator().await;
    let c = client();
    let response = c
        .post(format!("{}/credentials/revoke", emu.github_url()))
        .json(&json!({"credentials": [TOKEN]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(
        c.get(format!("{}/user", emu.github_url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn the_export_workflow_writes_actions_secrets_into_secret_manager() {
    let emu = emulator().await;
    let c = client();
    let response = c
        .post(format!("{}/repos/acme/api/actions/workflows/orchestra-export.yml/dispatches", emu.github_url()))
        .bearer_auth(TOKEN)
        .json(&json!({"ref": "main", "inputs": {"project": "demo-project", "secrets": "DEPLOY_KEY=deploy-key"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let access: Value = c
        .get(format!(
            "{}/v1/projects/demo-project/secrets/deploy-key/versions/latest:access",
            emu.google_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let data = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        access["payload"]["data"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(data, b"demo-deploy-key");
    let state = revealed_state(&emu).await;
    assert_eq!(
        state["github"]["dispatches"][0]["workflow"],
        "orchestra-export.yml"
    );
}
