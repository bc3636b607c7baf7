//! Fault tests for a sync: a 500, a 429 with `Retry-After`, and a dropped connection injected
//! at each kind of request a Secret Manager -> GitHub sync makes. The sync completes after
//! retries, or fails with a clear message and a rerun completes it; either way every target
//! ends holding Secret Manager's values, and a further run finds nothing to push.

use crate::sync_fixture::{SyncWorld, entry};

const SECRETS: [(&str, &str, &str); 3] = [
    ("db-password", "DB_PASSWORD", "fault-db-value"),
    ("api-key", "API_KEY", "fault-api-value"),
    ("smtp-pass", "SMTP_PASS", "fault-smtp-value"),
];

/// The requests of a sync, by method and path pattern.
const STEPS: [(&str, &str, &str); 5] = [
    (
        "list Secret Manager secrets",
        "GET",
        "/v1/projects/*/secrets",
    ),
    (
        "read a version",
        "GET",
        "/v1/projects/*/secrets/*/versions/*",
    ),
    ("list GitHub secrets", "GET", "/repos/*/*/actions/secrets"),
    (
        "GitHub public key",
        "GET",
        "/repos/*/*/actions/secrets/public-key",
    ),
    ("GitHub put", "PUT", "/repos/*/*/actions/secrets/*"),
];

fn world() -> SyncWorld {
    let mapping: String = SECRETS
        .iter()
        .map(|(gcp, github, _)| entry(gcp, github, &["acme/api"]))
        .collect();
    let world = SyncWorld::new(&mapping);
    for (gcp, _, value) in SECRETS {
        world.gcp_write(gcp, value, r#"{"managed-by":"orchestra"}"#);
    }
    world
}

fn in_step(world: &SyncWorld, when: &str) {
    for (_, github, value) in SECRETS {
        assert_eq!(
            world.github_value("acme/api", github).as_deref(),
            Some(value),
            "{when}: {github}"
        );
    }
}

fn each_step_survives(fault: &str) {
    for (step, method, path) in STEPS {
        let world = world();
        world.emulator.fault(&format!(
            r#"{{"method":"{method}","path":"{path}",{fault},"count":1}}"#
        ));
        let run = world.sync(&["--arg", "direction=gcp-to-github"]);
        let faults = world.emulator.call("GET", "/_emulator/faults", "");
        assert!(
            faults.contains("\"faults\":[]"),
            "{step}: the fault was never hit: {faults}"
        );
        if run.code != 0 {
            assert_eq!(run.code, 1, "{step}: {}", run.stderr);
            assert!(run.stderr.contains("error:"), "{step}: {}", run.stderr);
            world
                .sync(&["--arg", "direction=gcp-to-github"])
                .expect_code(0);
        }
        in_step(&world, &format!("{step} with {fault}"));
        world
            .sync(&[])
            .expect_code(0)
            .stdout_has("totals: unchanged 3");
    }
}

#[test]
fn a_500_at_any_step_of_a_sync_is_retried_or_rerun() {
    each_step_survives(r#""kind":"status","status":500"#);
}

#[test]
fn a_429_with_retry_after_at_any_step_of_a_sync_is_waited_out_or_rerun() {
    each_step_survives(r#""kind":"status","status":429,"retry_after":1"#);
}

#[test]
fn a_dropped_connection_at_any_step_of_a_sync_is_retried_or_rerun() {
    each_step_survives(r#""kind":"drop""#);
}
