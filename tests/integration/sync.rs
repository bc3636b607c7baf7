//! `playbooks/sync_secrets.rhai` against the emulator: each direction, drift on each side, a
//! conflict, unmanaged secrets, prune on and off, GitHub's caps, plan mode, and no value in
//! any output or file.

use crate::sync_fixture::{SyncWorld, entry};

const ALL_TARGETS: [&str; 3] = ["acme/api", "acme/api:production", "org:acme"];

fn labelled() -> &'static str {
    r#"{"managed-by":"orchestra"}"#
}

/// GitHub's `updated_at` has one-second resolution: a change behind orchestra's back must land
/// in a later second than the sync that precedes it.
fn next_second() {
    std::thread::sleep(std::time::Duration::from_millis(1100));
}

#[test]
fn sync_pushes_new_secrets_to_every_target_then_leaves_them_alone() {
    let world = SyncWorld::new(&entry("db-password", "DB_PASSWORD", &ALL_TARGETS));
    world.gcp_write("db-password", "first-db-value", labelled());
    world
        .sync(&["--arg", "direction=gcp-to-github"])
        .expect_code(0)
        .stdout_has("DB_PASSWORD -> acme/api: pushed Secret(fp:")
        .stdout_has("(new)")
        .stdout_has("nothing is left to do by hand");
    for target in ALL_TARGETS {
        assert_eq!(
            world.github_value(target, "DB_PASSWORD").as_deref(),
            Some("first-db-value")
        );
    }
    let before = world.github_updated_at("acme/api", "DB_PASSWORD");
    next_second();
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("DB_PASSWORD -> org:acme: unchanged")
        .stdout_has("totals: unchanged 3");
    assert_eq!(
        world.github_updated_at("acme/api", "DB_PASSWORD"),
        before,
        "not re-pushed"
    );
}

#[test]
fn sync_pushes_a_secret_manager_drift_to_every_target() {
    let world = SyncWorld::new(&entry("db-password", "DB_PASSWORD", &ALL_TARGETS));
    world.gcp_write("db-password", "first-db-value", labelled());
    world.sync(&[]).expect_code(0);
    world.gcp_write("db-password", "second-db-value", labelled());
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("(drifted in Secret Manager)")
        .stdout_has("totals: pushed 3");
    for target in ALL_TARGETS {
        assert_eq!(
            world.github_value(target, "DB_PASSWORD").as_deref(),
            Some("second-db-value")
        );
    }
}

#[test]
fn sync_exports_a_github_change_and_carries_it_to_the_other_targets() {
    let world = SyncWorld::new(&entry(
        "api-token",
        "API_TOKEN",
        &["acme/api", "acme/api:production"],
    ));
    world.gcp_write("api-token", "old-token", labelled());
    world.sync(&[]).expect_code(0);
    next_second();
    world.github_write("acme/api", "API_TOKEN", "token-set-on-github");
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("API_TOKEN -> acme/api: exported as version 2 (changed on GitHub)")
        .stdout_has("API_TOKEN -> acme/api:production: pushed");
    let (value, labels) = world.gcp_latest("api-token");
    assert_eq!(value.as_deref(), Some("token-set-on-github"));
    assert_eq!(labels["managed-by"], "orchestra");
    assert_eq!(
        world
            .github_value("acme/api:production", "API_TOKEN")
            .as_deref(),
        Some("token-set-on-github")
    );
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("totals: unchanged 2");
}

#[test]
fn github_to_gcp_never_writes_into_an_unlabelled_secret() {
    let world = SyncWorld::new(&entry("hand-made", "HAND_MADE", &["acme/api"]));
    world.gcp_write("hand-made", "v1", labelled());
    world.sync(&[]).expect_code(0);
    // The label goes: the secret is no longer orchestra's to write.
    world.emulator.call(
        "PATCH",
        "/v1/projects/demo-project/secrets/hand-made?updateMask=labels",
        r#"{"labels":{}}"#,
    );
    next_second();
    world.github_write("acme/api", "HAND_MADE", "changed-on-github");
    world
        .sync(&["--arg", "direction=github-to-gcp"])
        .expect_code(0)
        .stdout_has("not labelled managed-by=orchestra: github-to-gcp never writes into it");
    assert_eq!(world.gcp_latest("hand-made").0.as_deref(), Some("v1"));
}

#[test]
fn a_change_on_both_sides_is_a_conflict_skipped_unless_a_side_is_preferred() {
    let world = SyncWorld::new(&entry("db-password", "DB_PASSWORD", &["acme/api"]));
    world.gcp_write("db-password", "v1", labelled());
    world.sync(&[]).expect_code(0);
    next_second();
    world.github_write("acme/api", "DB_PASSWORD", "github-side");
    world.gcp_write("db-password", "gcp-side", labelled());
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("skipped: conflict: changed on both sides since the last sync")
        .stdout_has("left to do by hand:");
    assert_eq!(
        world.github_value("acme/api", "DB_PASSWORD").as_deref(),
        Some("github-side")
    );
    assert_eq!(
        world.gcp_latest("db-password").0.as_deref(),
        Some("gcp-side")
    );
    world
        .sync(&["--arg", "prefer=gcp"])
        .expect_code(0)
        .stdout_has("(conflict, Secret Manager preferred)");
    assert_eq!(
        world.github_value("acme/api", "DB_PASSWORD").as_deref(),
        Some("gcp-side")
    );
}

#[test]
fn an_unmanaged_github_secret_is_never_overwritten_unless_adopted() {
    // DATABASE_URL exists in the demo acme/api, made by someone else.
    let world = SyncWorld::new(&entry("database-url", "DATABASE_URL", &["acme/api"]));
    world.gcp_write("database-url", "postgres://new", labelled());
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("skipped: unmanaged: it exists on GitHub but orchestra did not create it");
    assert_eq!(
        world.github_value("acme/api", "DATABASE_URL").as_deref(),
        Some("postgres://demo@localhost/demo")
    );
    world
        .sync(&["--arg", "adopt=DATABASE_URL"])
        .expect_code(0)
        .stdout_has("(adopted, Secret Manager's value pushed)");
    assert_eq!(
        world.github_value("acme/api", "DATABASE_URL").as_deref(),
        Some("postgres://new")
    );
}

#[test]
fn a_removed_mapping_is_pruned_only_when_asked() {
    let both = format!(
        "{}{}",
        entry("db-password", "DB_PASSWORD", &["acme/api"]),
        entry("old-token", "OLD_TOKEN", &["acme/api"])
    );
    let world = SyncWorld::new(&both);
    world.gcp_write("db-password", "db", labelled());
    world.gcp_write("old-token", "old", labelled());
    world.sync(&[]).expect_code(0);
    world.map(&entry("db-password", "DB_PASSWORD", &["acme/api"]));
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("OLD_TOKEN in acme/api (mapping removed): kept; delete with --arg prune=true");
    assert!(world.github_value("acme/api", "OLD_TOKEN").is_some());
    world
        .sync(&["--arg", "prune=true", "--plan"])
        .expect_code(0)
        .stdout_has("would delete GitHub secret OLD_TOKEN in acme/api");
    assert!(world.github_value("acme/api", "OLD_TOKEN").is_some());
    world
        .sync(&["--arg", "prune=true"])
        .expect_code(0)
        .stdout_has("OLD_TOKEN in acme/api (mapping removed): pruned");
    assert!(world.github_value("acme/api", "OLD_TOKEN").is_none());
    assert!(
        world.github_value("acme/api", "DEPLOY_KEY").is_some(),
        "unmarked secrets stay"
    );
}

#[test]
fn plan_shows_each_push_and_why_and_changes_nothing() {
    let world = SyncWorld::new(&entry(
        "db-password",
        "DB_PASSWORD",
        &["acme/api", "org:acme"],
    ));
    world.gcp_write("db-password", "v1", labelled());
    let before = world.emulator.state()["github"]["repos"].clone();
    world
        .sync(&["--plan"])
        .expect_code(0)
        .stdout_has("DB_PASSWORD -> acme/api: would be pushed Secret(fp:")
        .stdout_has("would put 1 GitHub secrets in acme/api");
    assert_eq!(world.emulator.state()["github"]["repos"], before);
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("totals: pushed 2");
}

#[test]
fn githubs_cap_is_checked_before_writing() {
    // acme/api holds 2 secrets; 99 new ones would make 101.
    let mapping: String = (0..99)
        .map(|i| entry(&format!("s-{i}"), &format!("S_{i}"), &["acme/api"]))
        .collect();
    let world = SyncWorld::new(&mapping);
    for i in 0..99 {
        world.gcp_write(&format!("s-{i}"), &format!("value-{i}"), labelled());
    }
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has("GitHub allows 100 secrets in acme/api; it holds 2 and 99 would be new: none of the new ones pushed");
    assert_eq!(world.github_count("acme/api"), 2);
}

#[test]
fn no_synced_value_reaches_output_logs_or_state() {
    let world = SyncWorld::new(&entry("db-password", "DB_PASSWORD", &["acme/api"]));
    let value = "canary-sync-7f3a9c2e41d8b6";
    world.gcp_write("db-password", value, labelled());
    let run = world.sync(&["-vv", "--log-file", "sync.log"]);
    run.expect_code(0);
    next_second();
    world.github_write("acme/api", "DB_PASSWORD", "canary-github-5b1e0d9a7c");
    let export = world.sync(&["-vv", "--log-file", "sync.log"]);
    export.expect_code(0).stdout_has("exported");
    for text in [&run.stdout, &run.stderr, &export.stdout, &export.stderr] {
        assert!(
            !text.contains(value) && !text.contains("canary-github"),
            "{text}"
        );
    }
    let bytes = world.project_bytes();
    for needle in [value, "canary-github-5b1e0d9a7c"] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} found in the project's files"
        );
    }
}

#[test]
fn export_workflow_prints_the_workflow_the_export_dispatches() {
    let project = crate::harness::Project::new();
    project
        .run(&["export-workflow"])
        .expect_code(0)
        .stdout_has("workflow_dispatch:")
        .stdout_has("      project:\n")
        .stdout_has("      secrets:\n")
        .stdout_has("      environment:\n")
        .stdout_has("google-github-actions/auth@v2")
        .stdout_has("::add-mask::")
        .stdout_has("--labels=managed-by=orchestra");
}

#[test]
fn a_missing_export_workflow_stops_with_how_to_install_it() {
    let world = SyncWorld::new(&entry("api-token", "API_TOKEN", &["acme/api"]));
    world.gcp_write("api-token", "old-token", labelled());
    world.sync(&[]).expect_code(0);
    next_second();
    world.github_write("acme/api", "API_TOKEN", "token-set-on-github");
    // GitHub answers 404 to a dispatch of a workflow the repository does not have.
    world.emulator.call(
        "DELETE",
        "/_emulator/github/workflows/acme/api/orchestra-export.yml",
        "",
    );
    world
        .sync(&[])
        .expect_code(1)
        .stderr_has("acme/api has no workflow orchestra-export.yml")
        .stderr_has("orchestra export-workflow > .github/workflows/orchestra-export.yml");
    assert_eq!(
        world.gcp_latest("api-token").0.as_deref(),
        Some("old-token")
    );
}
