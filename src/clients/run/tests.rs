//! The Cloud Run client against the emulator: the demo service, one changed by hand under it,
//! a missing one, and a listing across regions.

use serde_json::json;

use super::*;

const PROJECT: &str = "demo-project";

fn client(emulator: &orchestra_emulator::RunningEmulator) -> CloudRun {
    CloudRun::new(
        &emulator.base_url(),
        google_cloud_auth::credentials::anonymous::Builder::new().build(),
        GoogleCalls::for_tests("Cloud Run"),
    )
    .unwrap()
}

async fn change_by_hand(
    emulator: &orchestra_emulator::RunningEmulator,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) {
    let answer = reqwest::Client::new()
        .request(
            method,
            format!(
                "{}/_emulator/google/run/services/{path}",
                emulator.base_url()
            ),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
}

#[tokio::test]
async fn the_demo_service_reads_ready_with_its_resources_scaling_and_url() {
    let emulator = orchestra_emulator::start(Default::default()).await.unwrap();
    let service = client(&emulator)
        .service(PROJECT, "europe-west1", "api")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        service.name,
        "projects/demo-project/locations/europe-west1/services/api"
    );
    assert_eq!(service.region, "europe-west1");
    assert!(service.ready && !service.reconciling);
    assert_eq!(service.cpu.as_deref(), Some("1"));
    assert_eq!(service.memory.as_deref(), Some("512Mi"));
    assert_eq!(
        (
            service.min_instances,
            service.max_instances,
            service.concurrency
        ),
        (1, Some(10), Some(80))
    );
    assert_eq!(service.terminal.state, "CONDITION_SUCCEEDED");
    assert_eq!(service.conditions.len(), 2);
    assert_eq!(
        service.latest_ready_revision,
        service.latest_created_revision
    );
    assert!(service.latest_ready_revision.starts_with("api-00001-"));
    let page = reqwest::get(&service.url).await.unwrap();
    assert_eq!(page.status(), 200, "the URL {} serves", service.url);
}

#[tokio::test]
async fn a_service_failed_by_hand_reads_not_ready_with_its_reason_and_message() {
    let emulator = orchestra_emulator::start(Default::default()).await.unwrap();
    change_by_hand(
        &emulator,
        reqwest::Method::PATCH,
        "demo-project/europe-west1/api",
        json!({"memory": "1Gi", "ready": false, "reason": "CONTAINER_MISSING",
               "message": "Image not found"}),
    )
    .await;
    let service = client(&emulator)
        .service(PROJECT, "europe-west1", "api")
        .await
        .unwrap()
        .unwrap();
    assert!(!service.ready);
    assert_eq!(service.memory.as_deref(), Some("1Gi"));
    assert_eq!(service.generation, 2);
    assert_eq!(
        (
            service.terminal.state.as_str(),
            service.terminal.reason.as_str(),
            service.terminal.message.as_str()
        ),
        ("CONDITION_FAILED", "CONTAINER_MISSING", "Image not found")
    );
    assert!(service.latest_ready_revision.is_empty());
    let page = reqwest::get(&service.url).await.unwrap();
    assert_eq!(page.status(), 503);
}

#[tokio::test]
async fn a_rolling_out_service_is_not_ready_and_a_missing_one_is_none() {
    let emulator = orchestra_emulator::start(Default::default()).await.unwrap();
    change_by_hand(
        &emulator,
        reqwest::Method::PATCH,
        "demo-project/europe-west1/api",
        json!({"reconciling": true}),
    )
    .await;
    let run = client(&emulator);
    let service = run
        .service(PROJECT, "europe-west1", "api")
        .await
        .unwrap()
        .unwrap();
    assert!(service.reconciling && !service.ready);
    assert_eq!(service.terminal.state, "CONDITION_RECONCILING");
    assert_eq!(
        run.service(PROJECT, "us-central1", "api").await.unwrap(),
        None
    );
    let outside = run.service("other-project", "us-central1", "api").await;
    assert_eq!(outside.unwrap_err().code, "PERMISSION_DENIED");
}

#[tokio::test]
async fn a_listing_of_every_region_has_each_service_once() {
    let emulator = orchestra_emulator::start(Default::default()).await.unwrap();
    change_by_hand(
        &emulator,
        reqwest::Method::PUT,
        "demo-project/us-central1/worker",
        json!({"cpu": "2", "max_instances": 3}),
    )
    .await;
    let run = client(&emulator);
    let all = run.services(PROJECT, "-").await.unwrap();
    let names: Vec<(&str, &str)> = all
        .iter()
        .map(|s| (s.region.as_str(), s.name.rsplit('/').next().unwrap()))
        .collect();
    assert_eq!(names, [("europe-west1", "api"), ("us-central1", "worker")]);
    assert_eq!(all[1].min_instances, 0, "proto3 leaves a zero out");
    let one_region = run.services(PROJECT, "us-central1").await.unwrap();
    assert_eq!(one_region.len(), 1);
}

#[tokio::test]
async fn reads_are_paced_under_the_regions_read_quota_and_counted_by_the_emulator() {
    let emulator = orchestra_emulator::start(Default::default()).await.unwrap();
    let quotas = crate::config::GoogleQuotas {
        cloud_run_read_per_minute: 2,
        ..Default::default()
    };
    let pacer = crate::clients::google_pacing::GooglePacer::new(quotas, 1.0);
    let calls = GoogleCalls::new(
        "Cloud Run",
        *GoogleCalls::for_tests("Cloud Run").policy(),
        std::sync::Arc::new(|| false),
        std::sync::Arc::new(pacer),
    );
    let client = CloudRun::new(
        &emulator.base_url(),
        google_cloud_auth::credentials::anonymous::Builder::new().build(),
        calls,
    )
    .unwrap();
    for _ in 0..2 {
        assert!(
            client
                .service(PROJECT, "europe-west1", "api")
                .await
                .unwrap()
                .is_some()
        );
    }
    // The region's minute is used up: the third read waits for it (about a minute), so it
    // has not been sent when a generous moment has passed; another region's has.
    let third = client.service(PROJECT, "europe-west1", "api");
    let waited = tokio::time::timeout(std::time::Duration::from_millis(500), third).await;
    assert!(
        waited.is_err(),
        "a third read in the minute was sent at once"
    );
    assert!(
        client
            .services(PROJECT, "us-central1")
            .await
            .unwrap()
            .iter()
            .all(|s| s.region == "us-central1")
    );
    let quotas = format!("{}/_emulator/google/quotas", emulator.base_url());
    let answer = reqwest::get(quotas).await.unwrap();
    let counts: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(
        counts["admitted"]["run.googleapis.com/read_requests"], 3,
        "{counts}"
    );
    assert_eq!(counts["refused_total"], 0, "{counts}");
}
