//! Cross-machine resume: the bundled `rotate_keys` rotation, with `[state] backend =
//! "firestore"`, is SIGKILLed in process A (folder A) after each of its changes in turn and
//! resumed by process B (folder B: no shared file, the same Firestore emulator and the same
//! orchestra emulator). B waits out A's lease, reads A's journal and playbook state (sealed
//! under the one fingerprint key both take from Secret Manager) and ends with the kill
//! tests' invariants: exactly one enabled key, held by GitHub and `current`, no second new
//! key. Neither folder holds a fingerprint key, and the Firestore documents hold no
//! credential value.
//!
//! Three workers, each with its own orchestra emulator (reset between kill points), share one
//! Firestore emulator; every kill point gets its own collection prefix, so none sees
//! another's state.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use orchestra::firestore_emulator::FirestoreEmulator;

use crate::firestore::rest_in;
use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, PATIENCE, Project, Run};
use crate::rehearsal::{Rehearsal, deployer_rotation};

const WORKERS: usize = 3;
/// The project of the state's documents and of the fingerprint key's secret.
const STATE_PROJECT: &str = "demo-project";

/// A folder that is machine `name`, rotating through `emulator`, with state under `prefix`.
pub fn machine(emulator: &EmulatorProcess, prefix: &str, name: &str) -> Project {
    let project = Project::new();
    let state = format!(
        "\n[state]\nbackend = \"firestore\"\nproject = \"{STATE_PROJECT}\"\nprefix = \"{prefix}\"\nlease = \"2s\"\nmachine = \"{name}\"\n"
    );
    Rehearsal::prepare(
        &project,
        emulator,
        3,
        &(deployer_rotation("0s", "") + state.as_str()),
    );
    project
}

/// `orchestra ARGS` in `project` against Firestore at `host`.
pub fn orchestra(project: &Project, host: &str, args: &[&str], kill_after: Option<usize>) -> Run {
    let mut command = project.command();
    command
        .args(args)
        .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
        .env("FIRESTORE_EMULATOR_HOST", host);
    if let Some(n) = kill_after {
        command.env("ORCHESTRA_TEST_KILL_AFTER_MUTATION", n.to_string());
    }
    Run::from(command.output().expect("run orchestra"))
}

/// Every document of every collection of `prefix`, as (where, its JSON), read back through
/// the Firestore emulator's REST API.
pub fn shared_documents(firestore: &FirestoreEmulator, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let (status, ids) = rest_in(
        firestore,
        STATE_PROJECT,
        "POST",
        ":listCollectionIds",
        "{\"pageSize\": 1000}",
    );
    assert_eq!(status, 200, "listCollectionIds: {ids}");
    let collections: Vec<String> = ids["collectionIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str())
        .filter(|c| c.starts_with(&format!("{prefix}_")))
        .map(str::to_owned)
        .collect();
    assert!(
        collections.contains(&format!("{prefix}_kv")),
        "playbook state lives in Firestore: {collections:?}"
    );
    collections
        .iter()
        .map(|c| {
            let (status, docs) = rest_in(
                firestore,
                STATE_PROJECT,
                "GET",
                &format!("/{c}?pageSize=1000"),
                "",
            );
            assert_eq!(status, 200, "list {c}: {docs}");
            (format!("Firestore {c}"), docs.to_string().into_bytes())
        })
        .collect()
}

/// The newest run, as machine `project` lists every machine's runs.
fn last_run(project: &Project, host: &str) -> i64 {
    let listed = orchestra(project, host, &["runs", "--json"], None);
    listed.expect_code(0);
    let runs: serde_json::Value = serde_json::from_str(&listed.stdout).expect("runs json");
    runs.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_i64())
        .max()
        .expect("a run")
}

/// `orchestra resume RUN` on `project`, again while the killed holder's lease has not run out.
fn resume_once_the_lease_ran_out(project: &Project, host: &str, run: i64) -> Run {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let attempt = orchestra(project, host, &["resume", &run.to_string()], None);
        let waiting = attempt.code == 3 || attempt.stderr.contains("is still running");
        if !waiting {
            return attempt;
        }
        assert!(Instant::now() < deadline, "the lease never ran out");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Kill point `n` on a fresh world: a first rotation on A, a second killed after change `n`
/// on A, resumed on B, a later rotation on B. `None` when the rotation makes fewer changes.
fn kill_and_resume_elsewhere(
    firestore: &FirestoreEmulator,
    rehearsal: &mut Rehearsal,
    prefix: &str,
    n: usize,
) -> Option<()> {
    let host = firestore.host();
    rehearsal.emulator.call("POST", "/_emulator/reset", "");
    rehearsal.project = machine(&rehearsal.emulator, prefix, "machine-a");
    let b = machine(&rehearsal.emulator, prefix, "machine-b");
    let rotate = ["play", "rotate_keys", "--arg", "force=true"];

    orchestra(&rehearsal.project, &host, &rotate, None).expect_code(0);
    let before = rehearsal.assert_settled(&format!("{prefix}: after the first rotation"));
    let killed = orchestra(&rehearsal.project, &host, &rotate, Some(n));
    if killed.code == 0 {
        return None;
    }
    assert_eq!(
        killed.code, -1,
        "kill at {n}: killed by the signal\n{}",
        killed.stderr
    );
    rehearsal.assert_consumers_work(&format!("killed on A after change {n}"));

    let run = last_run(&b, &host);
    let resumed = resume_once_the_lease_ran_out(&b, &host, run);
    resumed.expect_code(0);
    let when = format!("resumed on B after a kill on A at change {n}");
    rehearsal.assert_resumed_rotation(&resumed, &before, n, &when);
    let later = orchestra(&b, &host, &rotate, None);
    later.expect_code(0);
    rehearsal.assert_settled(&format!(
        "a later rotation on B after the kill at change {n}"
    ));

    for folder in [rehearsal.project.path(), b.path()] {
        assert!(
            !folder.join(".orchestra/fingerprint.key").exists(),
            "{when}: no fingerprint key beside a shared state"
        );
    }
    rehearsal.assert_nothing_leaked_in(
        &[&killed, &resumed, &later],
        &[rehearsal.project.path(), b.path()],
        &shared_documents(firestore, prefix),
    );
    Some(())
}

#[test]
fn a_rotation_killed_on_one_machine_after_any_change_is_resumed_on_another() {
    let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
    let next = AtomicUsize::new(1);
    let end = AtomicUsize::new(usize::MAX);
    let covered = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for worker in 0..WORKERS {
            let (firestore, next, end, covered) = (&firestore, &next, &end, &covered);
            scope.spawn(move || {
                let home = Project::new();
                let mut rehearsal = Rehearsal {
                    emulator: EmulatorProcess::start(&home),
                    project: Project::new(),
                };
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= end.load(Ordering::SeqCst) {
                        break;
                    }
                    let prefix = format!("w{worker}k{n}");
                    match kill_and_resume_elsewhere(firestore, &mut rehearsal, &prefix, n) {
                        Some(()) => covered.lock().unwrap_or_else(|p| p.into_inner()).push(n),
                        None => {
                            end.fetch_min(n, Ordering::SeqCst);
                            break;
                        }
                    }
                }
            });
        }
    });
    let end = end.into_inner();
    assert!(end > 6, "a rotation makes more than {} changes", end - 1);
    let mut covered = covered.into_inner().unwrap_or_else(|p| p.into_inner());
    covered.sort_unstable();
    assert_eq!(covered, (1..end).collect::<Vec<_>>(), "every kill point");
}
