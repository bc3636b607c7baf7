//! API_DEPLOYMENT against the emulator's Cloud Run Admin v2: executed against the demo `api`
//! service, then a hand change in the emulator is drift that `migrate verify` names (exit 2):
//! a changed size, a service made not ready (its URL then answers 503), a URL that refuses.

use crate::harness::closed_host;
use crate::migrate_fixture::Migration;

fn deployed() -> Migration {
    let migration = Migration::new();
    for phase in ["CORE_INFRASTRUCTURE", "HYBRID_CONFIG", "API_DEPLOYMENT"] {
        migration
            .run(&["migrate", "execute", "--phase", phase])
            .expect_code(0);
    }
    migration
}

#[test]
fn api_deployment_completes_against_the_demo_service_with_its_metrics() {
    let migration = deployed();
    let phase = migration.phase("API_DEPLOYMENT");
    assert_eq!(phase["status"], "completed", "{phase}");
    assert_eq!(phase["metrics"]["api_ready"], 1.0);
    assert_eq!(phase["metrics"]["api_max_instances"], 10.0);
    assert!(phase["metrics"]["api_latency_ms"].is_number(), "{phase}");
}

#[test]
fn verify_after_a_hand_change_to_the_cloud_run_service_exits_2_naming_the_drift() {
    let migration = deployed();
    migration
        .run(&["migrate", "verify", "--phase", "API_DEPLOYMENT"])
        .expect_code(0)
        .stdout_has("API_DEPLOYMENT: as declared");
    // Someone lowers the instance cap in the console.
    let changed = migration.emulator.call(
        "PATCH",
        "/_emulator/google/run/services/demo-project/europe-west1/api",
        r#"{"max_instances":3}"#,
    );
    assert!(changed.contains("3"), "{changed}");
    migration
        .run(&["migrate", "verify", "--phase", "API_DEPLOYMENT"])
        .expect_code(2)
        .stdout_has("API_DEPLOYMENT: drift")
        .stdout_has("Cloud Run service api max_instances: expected 10, found 3");
    // A service that stops being ready is drift too, with Cloud Run's reason.
    let failed = migration.emulator.call(
        "PATCH",
        "/_emulator/google/run/services/demo-project/europe-west1/api",
        r#"{"max_instances":10,"ready":false,"reason":"REVISION_FAILED","message":"the container failed to start"}"#,
    );
    assert!(!failed.contains("expected"), "{failed}");
    migration
        .run(&["migrate", "verify", "--phase", "API_DEPLOYMENT"])
        .expect_code(2)
        .stdout_has("Cloud Run service api readiness: expected ready, found")
        .stdout_has("the container failed to start")
        .stdout_has(&format!(
            "Cloud Run service api serves {}/run.app/demo-project/europe-west1/api: expected 2xx, found 503 Service Unavailable",
            migration.emulator.url()
        ));
}

#[test]
fn a_service_whose_url_refuses_connections_is_drift_naming_the_host() {
    let migration = deployed();
    let host = closed_host();
    migration.emulator.call(
        "PATCH",
        "/_emulator/google/run/services/demo-project/europe-west1/api",
        &format!(r#"{{"url":"http://{host}/"}}"#),
    );
    migration
        .run(&["migrate", "verify", "--phase", "API_DEPLOYMENT"])
        .expect_code(2)
        .stdout_has(&format!(
            "Cloud Run service api serves http://{host}/: expected 2xx, found 0 {host} refused the connection"
        ));
}
