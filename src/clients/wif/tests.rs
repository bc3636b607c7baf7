//! The Workload Identity client against the emulator: pools and providers through their
//! operations, soft delete and undelete, policies under etags, Service Usage, and the whole
//! token exchange.

use std::collections::BTreeMap;

use super::*;
use crate::clients::iam::Verification;

const PROJECT: &str = "demo-project";
const ACCOUNT: &str = "deployer@demo-project.iam.gserviceaccount.com";

fn client(emulator: &orchestra_emulator::RunningEmulator) -> WifClient {
    WifClient::new(
        WifEndpoints::all_at(&emulator.base_url()),
        google_cloud_auth::credentials::anonymous::Builder::new().build(),
        GoogleCalls::for_tests("IAM"),
    )
    .unwrap()
}

fn spec(condition: &str) -> ProviderSpec {
    ProviderSpec {
        display_name: "GitHub Actions".into(),
        attribute_mapping: BTreeMap::from([
            ("google.subject".into(), "assertion.sub".into()),
            ("attribute.repository".into(), "assertion.repository".into()),
        ]),
        attribute_condition: condition.into(),
        oidc: Oidc {
            issuer_uri: "https://token.actions.githubusercontent.com".into(),
            allowed_audiences: Vec::new(),
        },
    }
}

async fn id_token(
    emulator: &orchestra_emulator::RunningEmulator,
    repo: &str,
    audience: &str,
) -> String {
    let answer: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/_emulator/github/oidc/token",
            emulator.base_url()
        ))
        .query(&[("repository", repo), ("audience", audience)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["value"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_pool_is_created_through_its_operation_and_undeleted_after_a_soft_delete() {
    let emulator = orchestra_emulator::start(Default::default()).await.unwrap();
    let wif = client(&emulator);
    assert_eq!(wif.pool(PROJECT, "github").await.unwrap(), Found::Missing);
    let created = wif.create_pool(PROJECT, "github", "GitHub").await.unwrap();
    assert_eq!(
        created.name,
        "projects/123456789012/locations/global/workloadIdentityPools/github"
    );
    assert_eq!(created.state, "ACTIVE");
    let again = wif
        .create_pool(PROJECT, "github", "GitHub")
        .await
        .unwrap_err();
    assert_eq!(again.code, "ALREADY_EXISTS");
    let deleted = reqwest::Client::new()
        .delete(format!("{}/v1/{}", emulator.base_url(), created.name))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert!(matches!(
        wif.pool(PROJECT, "github").await.unwrap(),
        Found::Deleted(_)
    ));
    assert!(wif.pools(PROJECT, false).await.unwrap().is_empty());
    assert_eq!(wif.pools(PROJECT, true).await.unwrap().len(), 1);
    let back = wif.undelete_pool(PROJECT, "github").await.unwrap();
    assert_eq!(back.state, "ACTIVE");
    assert!(matches!(
        wif.pool(PROJECT, "github").await.unwrap(),
        Found::Active(_)
    ));
}

#[tokio::test]
async fn a_provider_without_a_condition_is_refused_and_one_with_it_is_read_back() {
    let emulator = orchestra_emulator::start(Default::default()).await.unwrap();
    let wif = client(&emulator);
    wif.create_pool(PROJECT, "github", "GitHub").await.unwrap();
    let refused = wif
        .create_provider(PROJECT, "github", "actions", &spec(""))
        .await
        .unwrap_err();
    assert_eq!(
        (refused.code.as_str(), refused.http_status),
        ("INVALID_ARGUMENT", Some(400))
    );
    let condition = "assertion.repository == 'acme/api'";
    wif.create_provider(PROJECT, "github", "actions", &spec(condition))
        .await
        .unwrap();
    let Found::Active(read) = wif.provider(PROJECT, "github", "actions").await.unwrap() else {
        panic!("the provider is not active");
    };
    assert_eq!(read.attribute_condition, condition);
    assert_eq!(read.attribute_mapping["google.subject"], "assertion.sub");
    assert_eq!(wif.providers(PROJECT, "github").await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_policy_written_with_a_stale_etag_is_an_etag_conflict() {
    let emulator = orchestra_emulator::start(Default::default()).await.unwrap();
    let wif = client(&emulator);
    let mut first = wif.account_policy(ACCOUNT).await.unwrap();
    let mut second = first.clone();
    assert!(first.grant("roles/iam.workloadIdentityUser", "principalSet://a"));
    wif.set_account_policy(ACCOUNT, &first).await.unwrap();
    second.grant("roles/iam.workloadIdentityUser", "principalSet://b");
    let conflict = wif.set_account_policy(ACCOUNT, &second).await.unwrap_err();
    assert!(conflict.is_etag_conflict(), "{conflict}");
    let now = wif.account_policy(ACCOUNT).await.unwrap();
    assert!(now.has("roles/iam.workloadIdentityUser", "principalSet://a"));
    assert!(!now.has("roles/iam.workloadIdentityUser", "principalSet://b"));
}

#[tokio::test]
async fn a_service_enabled_is_listed_and_the_number_is_the_projects() {
    let emulator = orchestra_emulator::start(Default::default()).await.unwrap();
    let wif = client(&emulator);
    assert_eq!(wif.project_number(PROJECT).await.unwrap(), "123456789012");
    let before = wif.enabled_services(PROJECT).await.unwrap();
    assert!(!before.contains(&"iamcredentials.googleapis.com".to_owned()));
    wif.enable_service(PROJECT, "iamcredentials.googleapis.com")
        .await
        .unwrap();
    let after = wif.enabled_services(PROJECT).await.unwrap();
    assert!(
        after.contains(&"iamcredentials.googleapis.com".to_owned()),
        "{after:?}"
    );
    let missing = wif.project_number("no-such-project").await.unwrap_err();
    assert_eq!(missing.code, "PERMISSION_DENIED");
}

#[tokio::test]
async fn the_exchange_works_for_the_bound_repository_only() {
    let emulator = orchestra_emulator::start(Default::default()).await.unwrap();
    let wif = client(&emulator);
    wif.create_pool(PROJECT, "github", "GitHub").await.unwrap();
    let provider = wif
        .create_provider(
            PROJECT,
            "github",
            "actions",
            &spec("assertion.repository_owner == 'acme'"),
        )
        .await
        .unwrap();
    let audience = format!("https://iam.googleapis.com/{}", provider.name);
    let member = "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/attribute.repository/acme/api";
    let mut policy = wif.account_policy(ACCOUNT).await.unwrap();
    policy.grant("roles/iam.workloadIdentityUser", member);
    wif.set_account_policy(ACCOUNT, &policy).await.unwrap();
    let verify = |token: String| {
        let (wif, name) = (&wif, provider.name.clone());
        async move {
            exchange(
                wif,
                &ExchangeRequest {
                    provider: &name,
                    account: ACCOUNT,
                    id_token: &token,
                },
            )
            .await
        }
    };
    let disabled_api = verify(id_token(&emulator, "acme/api", &audience).await).await;
    assert!(
        matches!(disabled_api, Verification::Refused(ref m) if m.contains("IAM Service Account Credentials API")),
        "{disabled_api:?}"
    );
    wif.enable_service(PROJECT, "iamcredentials.googleapis.com")
        .await
        .unwrap();
    assert_eq!(
        verify(id_token(&emulator, "acme/api", &audience).await).await,
        Verification::Works
    );
    let other = verify(id_token(&emulator, "acme/web", &audience).await).await;
    assert!(
        matches!(other, Verification::Refused(ref m) if m.contains("403")),
        "{other:?}"
    );
    let stranger = verify(id_token(&emulator, "evil/api", &audience).await).await;
    assert!(
        matches!(stranger, Verification::Refused(ref m) if m.contains("attribute condition")),
        "{stranger:?}"
    );
}
