//! Conditional requests against the emulator: orchestra keeps each GET answer's ETag and body
//! in its state database, so a polling playbook rerun with nothing changed gets 304s and
//! spends none of the primary rate limit, even from a new process.

use serde_json::Value;

use crate::harness::DEMO_GITHUB_TOKEN;
use crate::sync_fixture::{SyncWorld, entry};

const TARGETS: [&str; 3] = ["acme/api", "acme/api:production", "org:acme"];

/// The demo token's core requests left, read through `/rate_limit` (which is free).
fn core_remaining(world: &SyncWorld) -> u64 {
    let answer: Value =
        serde_json::from_str(&world.emulator.get_as(DEMO_GITHUB_TOKEN, "/rate_limit"))
            .expect("rate limit");
    answer["resources"]["core"]["remaining"]
        .as_u64()
        .expect("a count")
}

/// The GitHub GETs the emulator logged (its Google and own routes left out), with their status.
fn github_gets(world: &SyncWorld) -> Vec<(String, u64)> {
    let log: Value =
        serde_json::from_str(&world.emulator.call("GET", "/_emulator/requests", "")).expect("log");
    log["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter(|r| r["method"] == "GET" && !r["path"].as_str().unwrap_or("").starts_with("/v1/"))
        .filter(|r| r["path"] != "/rate_limit")
        .map(|r| {
            (
                r["path"].as_str().unwrap_or("").to_owned(),
                r["status"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn a_sync_rerun_with_nothing_changed_spends_no_rate_limit() {
    let world = SyncWorld::new(&entry("db-password", "DB_PASSWORD", &TARGETS));
    world.gcp_write(
        "db-password",
        "polled-value",
        r#"{"managed-by":"orchestra"}"#,
    );
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("totals: pushed 3");
    // The first rerun reads the lists as the push left them, and keeps their ETags.
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("totals: unchanged 3");
    let before = core_remaining(&world);
    world.emulator.call("DELETE", "/_emulator/requests", "");

    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("totals: unchanged 3");

    assert_eq!(
        core_remaining(&world),
        before,
        "the second unchanged run spent rate limit"
    );
    let gets = github_gets(&world);
    assert!(!gets.is_empty(), "the rerun read nothing from GitHub");
    assert!(
        gets.iter().all(|(_, status)| *status == 304),
        "every GitHub read of the unchanged rerun should be a 304: {gets:?}"
    );
    // What is kept is metadata: the secret's value is not in the state database.
    let bytes = world.project_bytes();
    assert!(
        !bytes
            .windows(b"polled-value".len())
            .any(|w| w == b"polled-value"),
        "a secret value reached the project's files"
    );
}

#[test]
fn a_change_behind_orchestras_back_is_read_in_full_and_costs_one_request() {
    let world = SyncWorld::new(&entry("db-password", "DB_PASSWORD", &TARGETS));
    world.gcp_write("db-password", "first", r#"{"managed-by":"orchestra"}"#);
    world.sync(&[]).expect_code(0);
    world.sync(&[]).expect_code(0);
    // GitHub's updated_at has one-second resolution.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    world.github_write("acme/api", "DB_PASSWORD", "set-on-github");
    world.emulator.call("DELETE", "/_emulator/requests", "");

    world
        .sync(&["--arg", "direction=github-to-gcp"])
        .expect_code(0);

    let gets = github_gets(&world);
    let changed: Vec<_> = gets.iter().filter(|(_, s)| *s == 200).collect();
    assert_eq!(
        changed.len(),
        1,
        "only the changed list is read in full: {gets:?}"
    );
    assert!(
        changed[0].0.starts_with("/repos/acme/api/actions/secrets"),
        "{gets:?}"
    );
}
