//! `orchestra scan` with `[state] backend = "firestore"` fingerprints findings under the shared
//! key in Secret Manager, not a key file of its folder: a baseline written in one folder hides
//! the same findings in another folder that shares the state, and neither folder gets a key
//! file. Two folders with SQLite state (a key file each) do not match, which is what the
//! shared key fixes.

use crate::harness::{EmulatorProcess, Project};
use crate::scan::{Chars, findings, scan};

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const PREFIX: &str = "scanned";

/// A folder whose Secret Manager is `emulator`, with the shared state as `machine` when given,
/// holding `token` in `config.py`.
fn folder(emulator: &EmulatorProcess, machine: Option<&str>, token: &str) -> Project {
    let state = machine
        .map(|m| {
            format!(
                "\n[state]\nbackend = \"firestore\"\nproject = \"demo-project\"\nprefix = \"{PREFIX}\"\nmachine = \"{m}\"\n"
            )
        })
        .unwrap_or_default();
    let project = Project::new();
    project
        .config(&format!(
            "[gcp]\nproject = \"demo-project\"\nsecret_manager_url = \"{}\"\ncredentials = \"anonymous\"\n{state}",
            emulator.url()
        ))
        .file("config.py", &format!("TOKEN = \"{token}\"\n"));
    project
}

/// Writes `from`'s baseline and scans `to` against it.
fn baseline_from(from: &Project, to: &Project) -> crate::harness::Run {
    scan(from, &["--write-baseline", "baseline.json"]).expect_code(0);
    let baseline = std::fs::read(from.path().join("baseline.json")).expect("baseline");
    std::fs::write(to.path().join("baseline.json"), baseline).expect("copy baseline");
    scan(to, &["--baseline", "baseline.json", "--format", "json"])
}

#[test]
fn a_baseline_written_in_one_folder_hides_the_same_findings_in_another() {
    let home = Project::new();
    let emulator = EmulatorProcess::start(&home);
    let token = ["ghp", "_", &Chars::new().of(ALNUM, 36)].concat();

    let a = folder(&emulator, Some("machine-a"), &token);
    let b = folder(&emulator, Some("machine-b"), &token);
    let run = baseline_from(&a, &b);
    run.expect_code(0);
    assert!(findings(&run).is_empty(), "{}", run.stdout);
    for project in [&a, &b] {
        assert!(
            !project.path().join(".orchestra/fingerprint.key").exists(),
            "a shared state keeps no key file in the folder"
        );
    }
    let state = emulator.state();
    let secret = &state["google"]["secrets"]
        [format!("projects/demo-project/secrets/{PREFIX}-fingerprint-key")];
    assert_eq!(secret["labels"]["managed-by"], "orchestra", "{secret}");
    assert_eq!(
        secret["versions"].as_array().map(Vec::len),
        Some(1),
        "the second folder read the key the first made"
    );

    // Each SQLite folder has its own key: the other's baseline hides nothing.
    let c = folder(&emulator, None, &token);
    let d = folder(&emulator, None, &token);
    let alone = findings(&scan(&d, &["--format", "json"]));
    assert!(
        alone.iter().any(|f| f["file"] == "config.py"),
        "the token is found: {alone:?}"
    );
    let run = baseline_from(&c, &d);
    run.expect_code(1);
    assert_eq!(
        findings(&run),
        alone,
        "the other folder's baseline hid nothing"
    );
}
