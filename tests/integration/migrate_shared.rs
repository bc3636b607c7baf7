//! Migration phase state with `[state] backend = "firestore"` on the real Firestore emulator:
//! a phase executed in one folder is what `migrate status` shows in another folder (no shared
//! file), with its metrics, and neither folder's SQLite file holds a phase run.

use std::path::Path;

use orchestra::firestore_emulator::FirestoreEmulator;
use orchestra::store::Store;

use crate::harness::Project;
use crate::migrate_fixture::Migration;
use crate::state_migrate::orchestra;

/// `[state]` on the shared Firestore state, recorded as `machine`.
fn shared_state(machine: &str) -> String {
    format!(
        "\n[state]\nbackend = \"firestore\"\nproject = \"demo-project\"\nprefix = \"phases\"\nmachine = \"{machine}\"\n"
    )
}

/// `migrate status --json` in `project`, parsed.
fn status(project: &Project, host: &str) -> Vec<serde_json::Value> {
    let run = orchestra(project, host, &["migrate", "status", "--json"]);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).expect("status JSON")
}

/// The phase runs of migration `demo-project` in the SQLite file of the folder at `dir`.
fn local_phase_runs(dir: &Path) -> usize {
    let store = Store::open(&dir.join(".orchestra/state.db")).expect("open");
    store.phase_runs("demo-project").expect("phase runs").len()
}

#[test]
fn a_phase_executed_in_one_folder_shows_completed_with_metrics_in_another() {
    let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
    let host = firestore.host();
    let a = Migration::new();
    let toml = std::fs::read_to_string(a.project.path().join("orchestra.toml")).expect("toml");
    a.project
        .config(&format!("{toml}{}", shared_state("machine-a")));
    orchestra(
        &a.project,
        &host,
        &["migrate", "execute", "--phase", "CORE_INFRASTRUCTURE"],
    )
    .expect_code(0)
    .stdout_has("CORE_INFRASTRUCTURE: completed");

    let b = Project::new();
    b.config(&format!("{toml}{}", shared_state("machine-b")));
    let migration_toml =
        std::fs::read_to_string(a.project.path().join("migration.toml")).expect("migration.toml");
    b.file("migration.toml", &migration_toml);
    let phases = status(&b, &host);
    let core = phases
        .iter()
        .find(|p| p["name"] == "CORE_INFRASTRUCTURE")
        .expect("CORE_INFRASTRUCTURE");
    assert_eq!(core["status"], "completed", "{core}");
    assert_eq!(core["metrics"]["apis_enabled"], 5.0, "{core}");
    assert!(core["run_id"].is_number(), "{core}");
    assert!(core["finished_at"].is_number(), "{core}");
    let rest: Vec<&serde_json::Value> = phases
        .iter()
        .filter(|p| p["name"] != "CORE_INFRASTRUCTURE")
        .collect();
    assert_eq!(rest.len(), 6);
    assert!(
        rest.iter().all(|p| p["status"] == "not_started"),
        "{rest:?}"
    );

    // The shared state is the only copy.
    assert_eq!(local_phase_runs(a.project.path()), 0);
    assert_eq!(local_phase_runs(b.path()), 0);
}
