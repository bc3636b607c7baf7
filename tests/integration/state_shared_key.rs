//! With `[state] backend = "firestore"` the fingerprint key lives in Secret Manager (created
//! on first use, labelled `managed-by=orchestra`), never beside the folder's database nor in
//! Firestore: two machines fingerprint one value alike, a third state (another prefix) under
//! another key, and no copy of the key is found in either folder or any Firestore document.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use orchestra::firestore_emulator::FirestoreEmulator;

use crate::harness::{EmulatorProcess, Project, Run};
use crate::leaks::{assert_absent, files_below};
use crate::state_shared_rotation::{machine, shared_documents};

const PRINTS: &str = "let s = secret::from_env(\"NEW_PAT\");\nprint(`fingerprint ${s}`);\nstate::set(\"seen\", s.fingerprint());\n";

/// `orchestra play fingerprint` on `project` with `value` in the environment.
fn fingerprint(project: &Project, host: &str, value: &str) -> (String, Run) {
    let mut command = project.command();
    command
        .args(["play", "fingerprint"])
        .env("FIRESTORE_EMULATOR_HOST", host)
        .env("NEW_PAT", value);
    let run = Run::from(command.output().expect("run orchestra"));
    run.expect_code(0);
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint "))
        .expect("a fingerprint line")
        .to_owned();
    (line, run)
}

#[test]
fn two_machines_share_the_fingerprint_key_in_secret_manager_and_nowhere_else() {
    let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
    let host = firestore.host();
    let home = Project::new();
    let emulator = EmulatorProcess::start(&home);
    let a = machine(&emulator, "shared", "machine-a");
    let b = machine(&emulator, "shared", "machine-b");
    let other = machine(&emulator, "other", "machine-c");
    for project in [&a, &b, &other] {
        project.playbook("fingerprint.rhai", PRINTS);
    }
    let value = "a-value-both-machines-see-0123456789";
    let (on_a, run_a) = fingerprint(&a, &host, value);
    let (on_b, run_b) = fingerprint(&b, &host, value);
    let (elsewhere, _) = fingerprint(&other, &host, value);
    assert!(on_a.starts_with("Secret(fp:"), "{on_a}");
    assert_eq!(on_a, on_b, "one key for the machines of one shared state");
    assert_ne!(on_a, elsewhere, "another shared state has its own key");

    let state = emulator.state();
    let secret =
        &state["google"]["secrets"]["projects/demo-project/secrets/shared-fingerprint-key"];
    assert_eq!(secret["labels"]["managed-by"], "orchestra", "{secret}");
    let versions = secret["versions"].as_array().expect("versions");
    assert_eq!(
        versions.len(),
        1,
        "created once, on first use: {versions:?}"
    );
    let stored = STANDARD
        .decode(versions[0]["data"].as_str().expect("data"))
        .expect("base64");
    assert_eq!(stored.len(), 32);

    // Neither folder holds the key (nor a key file), and no Firestore document does.
    let hex: String = stored.iter().map(|b| format!("{b:02x}")).collect();
    let needles = vec![hex, STANDARD.encode(&stored), value.to_owned()];
    for folder in [a.path(), b.path()] {
        assert!(!folder.join(".orchestra/fingerprint.key").exists());
        for file in files_below(folder) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert_absent(&bytes, &needles, &file.display().to_string());
            assert!(
                !bytes.windows(stored.len()).any(|w| w == stored.as_slice()),
                "the key's bytes are in {}",
                file.display()
            );
        }
    }
    for (place, bytes) in shared_documents(&firestore, "shared") {
        assert_absent(&bytes, &needles, &place);
    }
    for run in [&run_a, &run_b] {
        assert_absent(run.stdout.as_bytes(), &needles, "a run's output");
        assert_absent(run.stderr.as_bytes(), &needles, "a run's output");
    }

    // A plan on a state with no key yet creates none.
    let fresh = machine(&emulator, "planned", "machine-d");
    fresh.playbook("fingerprint.rhai", PRINTS);
    let planned = Run::from(
        fresh
            .command()
            .args(["play", "fingerprint", "--plan"])
            .env("FIRESTORE_EMULATOR_HOST", &host)
            .env("NEW_PAT", value)
            .output()
            .expect("run orchestra"),
    );
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    planned.stdout_has("fingerprint Secret(fp:");
    let state = emulator.state();
    assert!(
        state["google"]["secrets"]["projects/demo-project/secrets/planned-fingerprint-key"]
            .is_null(),
        "a plan created a fingerprint key"
    );
}

#[test]
fn no_path_a_script_tries_puts_a_secret_or_the_key_into_firestore() {
    let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
    let home = Project::new();
    let emulator = EmulatorProcess::start(&home);
    let project = machine(&emulator, "leaky", "machine-a");
    let config = std::fs::read_to_string(project.path().join("orchestra.toml")).expect("config");
    project
        .config(&config.replace("env = [\"NEW_PAT\"]", "env = [\"LEAK_TEST_SECRET\"]"))
        .playbook("leak.rhai", crate::leaks::LEAK_PATHS);
    let value = crate::leaks::canary();
    let run = Run::from(
        project
            .command()
            .args(["-vv", "play", "leak"])
            .env("FIRESTORE_EMULATOR_HOST", firestore.host())
            .env("LEAK_TEST_SECRET", &value)
            .output()
            .expect("run orchestra"),
    );
    assert_eq!(run.code, 1, "the final throw fails the run: {}", run.stderr);
    run.stdout_has("interpolated Secret(fp:");

    let mut needles = vec![
        value.clone(),
        STANDARD.encode(&value),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&value),
    ];
    needles.extend(crate::leaks::shared_key_forms(&emulator, "leaky"));
    let documents = shared_documents(&firestore, "leaky");
    assert!(
        documents
            .iter()
            .any(|(place, _)| place.ends_with("leaky_events")),
        "the run's events are in Firestore"
    );
    for (place, bytes) in &documents {
        assert_absent(bytes, &needles, place);
    }
    assert_absent(run.stdout.as_bytes(), &needles, "stdout");
    assert_absent(run.stderr.as_bytes(), &needles, "stderr");
}
