//! A holder whose lock another machine took over makes no further change to the shared state,
//! its journal included: `state::delete` is fenced on the lease as `state::set` is, and the
//! intent and `failed` outcome of the step that found the lease lost, the run's later events
//! and its final status are never written (the new holder owns the run's record now).

use std::path::Path;

use orchestra::firestore_emulator::FirestoreEmulator;
use orchestra::store::{
    NewRun, RunId, RunMode, RunStatus, StepEffect, StepStatus, Store, StoreError,
};

use crate::firestore::rest_in;
use crate::store_backends::shared_store;

const PROJECT: &str = "store-test";
const PREFIX: &str = "fenced";

/// The store of folder `dir`, machine `machine`, sharing `firestore`.
fn store(dir: &Path, firestore: &FirestoreEmulator, machine: &str) -> Store {
    shared_store(&dir.join("state.db"), firestore, PROJECT, PREFIX, machine)
}

fn new_run(playbook: &str) -> NewRun {
    NewRun {
        playbook: playbook.into(),
        source_hash: "0".repeat(64),
        args_json: "{}".into(),
        mode: RunMode::Apply,
        resumes: None,
    }
}

/// Another machine takes lock `name` over: its document names another run and token.
fn take_over(firestore: &FirestoreEmulator, name: &str) {
    let (status, answer) = rest_in(
        firestore,
        PROJECT,
        "PATCH",
        &format!(
            "/{PREFIX}_locks/{name}?updateMask.fieldPaths=run&updateMask.fieldPaths=token&updateMask.fieldPaths=machine"
        ),
        r#"{"fields": {"run": {"integerValue": "999"}, "token": {"integerValue": "1000"}, "machine": {"stringValue": "machine-b"}}}"#,
    );
    assert_eq!(status, 200, "take over {name}: {answer}");
}

/// What `reader` sees of run `id`: its status, its steps (seq, primitive, status), its events.
fn seen(reader: &Store, id: RunId) -> (RunStatus, Vec<(i64, String, String)>, usize) {
    let run = reader.run(id).expect("run").expect("the run exists");
    let steps = reader.steps(id).expect("steps");
    let steps = steps
        .into_iter()
        .map(|s| (s.seq, s.primitive, s.status.as_str().to_owned()))
        .collect();
    (run.status, steps, reader.events(id).expect("events").len())
}

/// Another machine takes lock `lock` of run `id` over; then `a` journals `primitive`'s intent,
/// tries its `change` (refused: the lease is lost) and the rest of a run that failed so.
fn lose_during<T: std::fmt::Debug>(
    a: &Store,
    firestore: &FirestoreEmulator,
    (id, lock): (RunId, &str),
    primitive: &str,
    change: impl FnOnce(&Store) -> Result<T, StoreError>,
) {
    take_over(firestore, lock);
    let step = a.begin_step(
        id,
        primitive,
        StepEffect::Mutate,
        "stage",
        StepStatus::Started,
        "",
    );
    let refused = change(a);
    assert!(
        matches!(refused, Err(StoreError::LeaseLost { .. })),
        "{primitive}: {refused:?}"
    );
    if let Ok(step) = step {
        a.finish_step(step, StepStatus::Failed, "lost its lease")
            .expect("a lost run's outcome is dropped, not an error");
    }
    a.append_event(id, "error", "run failed: lost its lease")
        .expect("a lost run's event is dropped, not an error");
    let finished = a.finish_run(id, RunStatus::Failed, Some("lost its lease"));
    assert!(
        matches!(finished, Err(StoreError::LeaseLost { .. })),
        "{finished:?}"
    );
    a.release_lock(lock, id).expect("release");
}

#[test]
fn a_holder_whose_lock_was_taken_over_writes_nothing_more() {
    let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
    let folders = [
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    ];
    let a = store(folders[0].path(), &firestore, "machine-a");
    let b = store(folders[1].path(), &firestore, "machine-b");

    // state::delete, in run 1: refused once the lock is someone else's; the entry stays.
    let first = a
        .start_run_with_lock("delete", &new_run("delete.rhai"))
        .expect("start")
        .run_id;
    a.begin_step(
        first,
        "state::get",
        StepEffect::Read,
        "stage",
        StepStatus::Succeeded,
        "",
    )
    .expect("read");
    a.state_set("k1:stage", "s1:one", Some(first))
        .expect("set while holding the lease");
    let before = seen(&b, first);
    assert_eq!(
        before.1.len(),
        1,
        "the read rode the fenced write: {before:?}"
    );
    lose_during(&a, &firestore, (first, "delete"), "state::delete", |a| {
        a.state_delete("k1:stage")
    });
    assert_eq!(
        b.state_get("k1:stage").expect("get").as_deref(),
        Some("s1:one"),
        "nothing deleted"
    );
    assert_eq!(
        seen(&b, first),
        before,
        "nothing journaled after the takeover"
    );

    // state::set, in run 2: the fenced write finds the lease lost; its intent, its failed
    // outcome, the run's event and status are not written afterwards either.
    let second = a
        .start_run_with_lock("set", &new_run("set.rhai"))
        .expect("start")
        .run_id;
    let before = seen(&b, second);
    lose_during(&a, &firestore, (second, "set"), "state::set", |a| {
        a.state_set("k1:stage", "s1:two", Some(second))
    });
    drop(a);
    assert_eq!(
        b.state_get("k1:stage").expect("get").as_deref(),
        Some("s1:one"),
        "nothing set"
    );
    assert_eq!(before, (RunStatus::Running, Vec::new(), 0));
    assert_eq!(
        seen(&b, second),
        before,
        "nothing journaled after the takeover"
    );
}
