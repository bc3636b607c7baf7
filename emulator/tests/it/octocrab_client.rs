//! Conformance with octocrab, a GitHub client nobody here wrote, through its `base_uri`
//! override: rate limit, the current user, sealed repository secrets, an App minting an
//! installation token, and GitHub's errors reaching octocrab as `Error::GitHub`.

use octocrab::Octocrab;
use octocrab::models::repos::secrets::{CreateRepositorySecret, CreateRepositorySecretResponse};
use serde_json::json;

use crate::harness::*;

fn personal(base: &str) -> Octocrab {
    Octocrab::builder()
        .base_uri(base)
        .unwrap()
        .personal_token(TOKEN.to_owned())
        .build()
        .unwrap()
}

#[tokio::test]
async fn octocrab_reads_the_rate_limit_and_the_user() {
    let emu = emulator().await;
    let octo = personal(&emu.github_url());
    let limits = octo.ratelimit().get().await.unwrap();
    assert_eq!(limits.resources.core.limit, 5000);
    assert_eq!(limits.rate.limit, 5000);
    let me = octo.current().user().await.unwrap();
    assert_eq!(me.login, "demo-user");
}

#[tokio::test]
async fn octocrab_seals_creates_updates_lists_and_deletes_a_secret_under_api_v3() {
    let emu = emulator().await;
    let octo = personal(&format!("{}/api/v3", emu.github_url()));
    let repo = octo.repos("acme", "api");
    let secrets = repo.secrets();
    let key = secrets.get_public_key().await.unwrap();
    let sealed = seal(&key.key, b"from octocrab");
    let body = CreateRepositorySecret {
        encrypted_value: &sealed,
        key_id: &key.key_id,
    };
    let first = secrets
        .create_or_update_secret("OCTO_SECRET", &body)
        .await
        .unwrap();
    assert!(matches!(first, CreateRepositorySecretResponse::Created));
    let second = secrets
        .create_or_update_secret("OCTO_SECRET", &body)
        .await
        .unwrap();
    assert!(matches!(second, CreateRepositorySecretResponse::Updated));
    let state = revealed_state(&emu).await;
    assert_eq!(
        actions_secret_value(&state, "acme/api", "OCTO_SECRET").as_deref(),
        Some("from octocrab")
    );
    let listed = secrets.get_secrets().await.unwrap();
    assert_eq!(listed.total_count, 3);
    assert!(listed.secrets.iter().any(|s| s.name == "OCTO_SECRET"));
    let one = secrets.get_secret("OCTO_SECRET").await.unwrap();
    assert_eq!(one.name, "OCTO_SECRET");
    secrets.delete_secret("OCTO_SECRET").await.unwrap();
    assert_eq!(secrets.get_secrets().await.unwrap().total_count, 2);
}

#[tokio::test]
async fn octocrab_as_an_app_mints_an_installation_token_that_works() {
    let emu = emulator().await;
    let demo = emu.demo_credentials();
    let pem = demo.app_private_key.expect("the demo app has a key");
    let app = Octocrab::builder()
        .base_uri(emu.github_url())
        .unwrap()
        .app_from_rsa_pem(demo.app_id.into(), pem.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let (installation, _token) = app
        .installation_and_token(demo.installation_id.into())
        .await
        .unwrap();
    let key = installation
        .repos("acme", "api")
        .secrets()
        .get_public_key()
        .await
        .unwrap();
    assert!(!key.key_id.is_empty());
}

#[tokio::test]
async fn octocrab_sees_githubs_errors_as_github_errors() {
    let emu = emulator().await;
    let bad = Octocrab::builder()
        .base_uri(emu.github_url())
        .unwrap()
        .personal_token("ghp_not_a_real_token".to_owned())
        .build()
        .unwrap();
    match bad.current().user().await {
        Err(octocrab::Error::GitHub { source, .. }) => {
            assert_eq!(source.status_code, 401);
            assert_eq!(source.message, "Bad credentials");
        }
        other => panic!("expected a GitHub 401, got {other:?}"),
    }
    let octo = personal(&emu.github_url());
    let key = octo
        .repos("acme", "api")
        .secrets()
        .get_public_key()
        .await
        .unwrap();
    let wrong_key = CreateRepositorySecret {
        encrypted_value: &seal(&key.key, b"x"),
        key_id: "1",
    };
    match octo
        .repos("acme", "api")
        .secrets()
        .create_or_update_secret("WRONG_KEY", &wrong_key)
        .await
    {
        Err(octocrab::Error::GitHub { source, .. }) => {
            assert_eq!(source.status_code, 422);
            assert_eq!(source.errors.unwrap()[0]["field"], json!("key_id"));
        }
        other => panic!("expected a GitHub 422, got {other:?}"),
    }
}
