//! Conformance with Google's own Rust clients (`google-cloud-secretmanager-v1`,
//! `google-cloud-iam-admin-v1`, `google-cloud-auth`) through `with_endpoint`: they send enums
//! as integers, empty query values and `$alt=json;enum-encoding=int`, and service-account
//! credentials that sign their own JWTs instead of calling the token endpoint.

use google_cloud_auth::credentials::{Credentials, anonymous, service_account};
use google_cloud_gax::error::rpc::Code;
use google_cloud_gax::paginator::ItemPaginator as _;
use google_cloud_iam_admin_v1::client::Iam;
use google_cloud_iam_admin_v1::model::ServiceAccountPrivateKeyType;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model::{
    Replication, Secret, SecretPayload, replication::Automatic, secret_version::State,
};

use crate::harness::*;

const PROJECT: &str = "projects/demo-project";
const DEPLOYER: &str = "deployer@demo-project.iam.gserviceaccount.com";

async fn secret_manager(
    emu: &orchestra_emulator::RunningEmulator,
    credentials: Credentials,
) -> SecretManagerService {
    SecretManagerService::builder()
        .with_endpoint(emu.secretmanager_url())
        .with_credentials(credentials)
        .build()
        .await
        .unwrap()
}

async fn iam(emu: &orchestra_emulator::RunningEmulator) -> Iam {
    Iam::builder()
        .with_endpoint(emu.iam_url())
        .with_credentials(anonymous::Builder::new().build())
        .build()
        .await
        .unwrap()
}

fn code(error: &google_cloud_secretmanager_v1::Error) -> Option<Code> {
    error.status().map(|s| s.code)
}

#[tokio::test]
async fn the_rust_client_creates_adds_accesses_aliases_disables_and_pages() {
    let emu = emulator().await;
    let sm = secret_manager(&emu, anonymous::Builder::new().build()).await;
    let created = sm
        .create_secret()
        .set_parent(PROJECT)
        .set_secret_id("rust-secret")
        .set_secret(
            Secret::new()
                .set_replication(Replication::new().set_automatic(Automatic::new()))
                .set_labels([("team", "ops")]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.name, "projects/123456789012/secrets/rust-secret");
    assert_eq!(created.labels["team"], "ops");
    let name = format!("{PROJECT}/secrets/rust-secret");
    for (data, crc) in [(&b"one"[..], None), (&b"two"[..], Some(crc32c(b"two")))] {
        let mut payload = SecretPayload::new().set_data(bytes::Bytes::from_static(data));
        if let Some(crc) = crc {
            payload = payload.set_data_crc32c(crc);
        }
        sm.add_secret_version()
            .set_parent(&name)
            .set_payload(payload)
            .send()
            .await
            .unwrap();
    }
    let latest = sm
        .access_secret_version()
        .set_name(format!("{name}/versions/latest"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        latest.name,
        "projects/123456789012/secrets/rust-secret/versions/2"
    );
    let payload = latest.payload.unwrap();
    assert_eq!(&payload.data[..], b"two");
    assert_eq!(payload.data_crc32c, Some(crc32c(b"two")));

    sm.update_secret()
        .set_secret(
            Secret::new()
                .set_name(&name)
                .set_version_aliases([("current", 1_i64)]),
        )
        .set_update_mask(google_cloud_wkt::FieldMask::default().set_paths(["version_aliases"]))
        .send()
        .await
        .unwrap();
    let current = sm
        .access_secret_version()
        .set_name(format!("{name}/versions/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(&current.payload.unwrap().data[..], b"one");

    let disabled = sm
        .disable_secret_version()
        .set_name(format!("{name}/versions/2"))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.state, State::Disabled);
    let refused = sm
        .access_secret_version()
        .set_name(format!("{name}/versions/latest"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused), Some(Code::FailedPrecondition));

    for extra in ["rust-a", "rust-b"] {
        sm.create_secret()
            .set_parent(PROJECT)
            .set_secret_id(extra)
            .set_secret(
                Secret::new().set_replication(Replication::new().set_automatic(Automatic::new())),
            )
            .send()
            .await
            .unwrap();
    }
    let mut items = sm
        .list_secrets()
        .set_parent(PROJECT)
        .set_page_size(1)
        .by_item();
    let mut names = Vec::new();
    while let Some(secret) = items.next().await {
        names.push(secret.unwrap().name);
    }
    names.sort();
    assert_eq!(
        names,
        [
            "projects/123456789012/secrets/rust-a",
            "projects/123456789012/secrets/rust-b",
            "projects/123456789012/secrets/rust-secret",
            "projects/123456789012/secrets/vertex-budget",
        ]
    );

    let missing = sm
        .access_secret_version()
        .set_name(format!("{PROJECT}/secrets/nope/versions/latest"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&missing), Some(Code::NotFound));
}

#[tokio::test]
async fn an_iam_minted_key_signs_jwts_the_emulator_accepts_until_it_is_disabled() {
    let emu = emulator().await;
    let iam = iam(&emu).await;
    let account = format!("projects/-/serviceAccounts/{DEPLOYER}");
    let key = iam
        .create_service_account_key()
        .set_name(&account)
        .set_private_key_type(ServiceAccountPrivateKeyType::TypeGoogleCredentialsFile)
        .send()
        .await
        .unwrap();
    let file: serde_json::Value = serde_json::from_slice(&key.private_key_data).unwrap();
    assert_eq!(file["client_email"], DEPLOYER);
    assert_eq!(file["token_uri"], format!("{}/token", emu.base_url()));

    let listed = iam
        .list_service_account_keys()
        .set_name(&account)
        .send()
        .await
        .unwrap();
    assert!(listed.keys.iter().any(|k| k.name == key.name));

    // google-cloud-auth signs its own JWT with the key (it never calls the token endpoint).
    let credentials = service_account::Builder::new(file).build().unwrap();
    let sm = secret_manager(&emu, credentials).await;
    let list = || sm.list_secrets().set_parent(PROJECT).send();
    assert!(list().await.is_ok());

    iam.disable_service_account_key()
        .set_name(&key.name)
        .send()
        .await
        .unwrap();
    let refused = list().await.unwrap_err();
    assert_eq!(
        refused.status().map(|s| s.code),
        Some(Code::Unauthenticated)
    );

    iam.delete_service_account_key()
        .set_name(&key.name)
        .send()
        .await
        .unwrap();
    let after = iam
        .list_service_account_keys()
        .set_name(&account)
        .send()
        .await
        .unwrap();
    assert!(after.keys.iter().all(|k| k.name != key.name));
}

fn crc32c(data: &[u8]) -> i64 {
    i64::from(crc32c::crc32c(data))
}
