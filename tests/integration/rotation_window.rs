//! The window where a rotation used to be done twice: a run killed after its rotation
//! finished (`finished_by` written, intent cleared) and before it recorded its own success.
//! The killed run was forced (`--arg force=true`), so a resume carries the force on and only
//! the resume chain keeps it from rotating again; a plain rerun is stopped by the policy
//! (nothing is due). In every case IAM holds exactly the keys it held after the kill.

use serde_json::Value;

use crate::harness::Run;
use crate::rehearsal::{ACCOUNT, Rehearsal};

/// How many changes a forced first rotation makes, counted from a run of it that finished.
fn changes_of_a_first_rotation() -> usize {
    let rehearsal = Rehearsal::new(3);
    rehearsal.rotate(None).expect_code(0);
    let run = rehearsal.last_run();
    let shown = rehearsal
        .project
        .run(&["runs", "show", &run.to_string(), "--json"]);
    shown.expect_code(0);
    let shown: Value = serde_json::from_str(&shown.stdout).expect("runs show JSON");
    let changes: Vec<&Value> = shown["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["effect"] == "mutate")
        .collect();
    let last = changes.last().expect("a change");
    assert_eq!(
        last["primitive"], "state::delete",
        "a rotation's last change clears its intent (after finished_by is written)"
    );
    changes.len()
}

/// A rehearsal whose forced first rotation was killed right after its last change (the intent
/// cleared, `finished_by` written), with the killed run's id and the account's keys then.
fn killed_after_finishing() -> (Rehearsal, i64, Vec<(String, bool)>) {
    let last_change = changes_of_a_first_rotation();
    let rehearsal = Rehearsal::new(3);
    let killed = rehearsal.rotate(Some(last_change));
    assert_eq!(killed.code, -1, "killed by the signal\n{}", killed.stderr);
    let run = rehearsal.last_run();
    let peek = peek_state(&rehearsal);
    assert!(
        peek.contains(&format!("finished_by={run}")),
        "the killed run had written finished_by: {peek}"
    );
    assert!(
        peek.contains("intent cleared=true"),
        "the killed run had cleared its intent: {peek}"
    );
    let status = rehearsal
        .project
        .runs()
        .into_iter()
        .find(|r| r["id"] == run)
        .map(|r| r["status"].clone());
    assert_eq!(
        status,
        Some(Value::from("interrupted")),
        "the killed run never recorded success"
    );
    let keys = rehearsal.keys(&rehearsal.emulator.state());
    (rehearsal, run, keys)
}

/// The rotation state of the account, as a playbook reads it.
fn peek_state(rehearsal: &Rehearsal) -> String {
    rehearsal.project.playbook(
        "peek.rhai",
        &format!(
            "print(`finished_by=${{state::get(\"rotation.{ACCOUNT}.finished_by\", ())}}`);\n\
             print(`intent cleared=${{state::get(\"rotation.{ACCOUNT}.in_progress\", ()) == ()}}`);\n"
        ),
    );
    let run = rehearsal.project.run(&["play", "peek"]);
    run.expect_code(0);
    run.stdout
}

fn assert_no_new_key(rehearsal: &Rehearsal, before: &[(String, bool)], after: &Run, what: &str) {
    after.expect_code(0);
    let keys = rehearsal.keys(&rehearsal.emulator.state());
    assert_eq!(
        keys, before,
        "{what}: IAM holds the same keys\n{}",
        after.stdout
    );
    assert!(
        !after.stdout.contains("created key"),
        "{what}: no key created\n{}",
        after.stdout
    );
    rehearsal.assert_settled(what);
}

/// `orchestra resume RESUMED` names `finisher` as the run that finished the rotation, and
/// mints no key.
fn assert_resume_redoes_nothing(
    rehearsal: &Rehearsal,
    resumed: i64,
    finisher: i64,
    keys: &[(String, bool)],
    what: &str,
) {
    let resume = rehearsal.resume(resumed);
    resume.stdout_has(&format!(
        "run {finisher} finished this rotation before it stopped"
    ));
    assert_no_new_key(rehearsal, keys, &resume, what);
}

#[test]
fn a_resume_of_a_run_killed_after_it_finished_mints_no_key() {
    let (rehearsal, run, keys) = killed_after_finishing();
    assert_resume_redoes_nothing(&rehearsal, run, run, &keys, "resume");
}

#[test]
fn a_resume_of_a_killed_resume_of_a_run_killed_after_it_finished_mints_no_key() {
    let (rehearsal, run, keys) = killed_after_finishing();
    // The resume's first change (clearing the stale intent) is where it dies.
    let killed_resume = rehearsal.orchestra(
        &["resume", &run.to_string()],
        &[("ORCHESTRA_TEST_KILL_AFTER_MUTATION", "1")],
    );
    assert_eq!(
        killed_resume.code, -1,
        "the resume was killed\n{}",
        killed_resume.stderr
    );
    let killed_resume_id = rehearsal.last_run();
    assert_ne!(killed_resume_id, run);

    assert_resume_redoes_nothing(
        &rehearsal,
        killed_resume_id,
        run,
        &keys,
        "resume of a killed resume",
    );
}

#[test]
fn a_plain_rerun_after_a_run_killed_after_it_finished_mints_no_key() {
    let (rehearsal, _, keys) = killed_after_finishing();
    let rerun = rehearsal.play_args("rotate_service_account_keys", &[], None, &[]);
    rerun.stdout_has(&format!("{ACCOUNT}: not due until "));
    assert_no_new_key(&rehearsal, &keys, &rerun, "plain rerun");
}

#[test]
fn a_rerun_on_another_state_file_after_a_run_killed_after_it_finished_mints_no_key() {
    let (rehearsal, _, keys) = killed_after_finishing();
    let rerun = rehearsal.orchestra(
        &[
            "--state-db",
            "other.db",
            "play",
            "rotate_service_account_keys",
        ],
        &[],
    );
    assert!(
        rehearsal.project.path().join("other.db").exists(),
        "the rerun used the other state file"
    );
    rerun.stdout_has(&format!("{ACCOUNT}: not due until "));
    assert_no_new_key(&rehearsal, &keys, &rerun, "rerun on another state file");
}
