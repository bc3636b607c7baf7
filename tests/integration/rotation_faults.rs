//! Fault tests: a 500, a 429 with `Retry-After`, and a dropped connection injected at each
//! kind of request a rotation makes (a service-account key, and a GitHub App installation
//! token). The run completes after retries, or fails with a clear message leaving a state that
//! `orchestra resume` completes; either way every consumer ends with the one current
//! credential.

use crate::rehearsal::Rehearsal;

/// The requests of a key rotation, by method and path pattern.
const KEY_STEPS: [(&str, &str, &str); 12] = [
    ("list secrets", "GET", "/v1/projects/*/secrets"),
    ("list keys", "GET", "/v1/projects/*/serviceAccounts/*/keys"),
    (
        "create key",
        "POST",
        "/v1/projects/*/serviceAccounts/*/keys",
    ),
    ("stage version", "POST", "/v1/projects/*/secrets/*"),
    ("token exchange", "POST", "/token"),
    (
        "GitHub public key",
        "GET",
        "/repos/*/*/actions/secrets/public-key",
    ),
    ("GitHub put", "PUT", "/repos/*/*/actions/secrets/*"),
    ("promote alias", "PATCH", "/v1/projects/*/secrets/*"),
    (
        "disable key",
        "POST",
        "/v1/projects/*/serviceAccounts/*/keys/*",
    ),
    (
        "delete key",
        "DELETE",
        "/v1/projects/*/serviceAccounts/*/keys/*",
    ),
    ("list versions", "GET", "/v1/projects/*/secrets/*/versions"),
    (
        "disable version",
        "POST",
        "/v1/projects/*/secrets/*/versions/*",
    ),
];

/// The requests of an installation-token rotation.
const TOKEN_STEPS: [(&str, &str, &str); 10] = [
    (
        "read the app key",
        "GET",
        "/v1/projects/*/secrets/*/versions/*",
    ),
    ("mint", "POST", "/app/installations/*/access_tokens"),
    ("stage version", "POST", "/v1/projects/*/secrets/*"),
    ("check token", "GET", "/user"),
    (
        "GitHub public key",
        "GET",
        "/repos/*/*/actions/secrets/public-key",
    ),
    ("GitHub put", "PUT", "/repos/*/*/actions/secrets/*"),
    ("promote alias", "PATCH", "/v1/projects/*/secrets/*"),
    ("revoke the old token", "DELETE", "/installation/token"),
    ("list versions", "GET", "/v1/projects/*/secrets/*/versions"),
    (
        "disable version",
        "POST",
        "/v1/projects/*/secrets/*/versions/*",
    ),
];

/// One kind of rotation under test: how to set it up, run it, and read what consumers hold.
struct Subject {
    playbook: &'static str,
    steps: &'static [(&'static str, &'static str, &'static str)],
    setup: fn() -> Rehearsal,
    /// Asserts every consumer holds a working credential (mid-rotation too).
    works: fn(&Rehearsal, &str),
    /// What the consumers hold once settled (asserting the rotation's end state).
    settled: fn(&Rehearsal, &str) -> String,
}

fn key_rotation() -> Subject {
    Subject {
        playbook: "rotate_service_account_keys",
        steps: &KEY_STEPS,
        setup: || Rehearsal::new(3),
        works: |rehearsal, when| rehearsal.assert_consumers_work(when),
        settled: |rehearsal, when| rehearsal.assert_settled(when),
    }
}

fn token_rotation() -> Subject {
    Subject {
        playbook: "rotate_github_tokens",
        steps: &TOKEN_STEPS,
        setup: Rehearsal::installation,
        works: |rehearsal, when| {
            rehearsal.bot_token_works(when);
        },
        settled: |rehearsal, when| rehearsal.bot_token_works(when),
    }
}

fn each_step_survives(subject: Subject, fault: &str) {
    for (step, method, path) in subject.steps {
        let rehearsal = (subject.setup)();
        rehearsal.play(subject.playbook, None, &[]).expect_code(0);
        let before = (subject.settled)(&rehearsal, "before the fault");
        rehearsal.emulator.fault(&format!(
            r#"{{"method":"{method}","path":"{path}",{fault},"count":1}}"#
        ));
        let run = rehearsal.play(subject.playbook, None, &[]);
        let faults = rehearsal.emulator.call("GET", "/_emulator/faults", "");
        assert!(
            faults.contains("\"faults\":[]"),
            "{step}: the fault was never hit: {faults}"
        );
        let outcome = run
            .stderr
            .lines()
            .find(|l| l.contains("error:"))
            .unwrap_or("");
        eprintln!("{step} / {fault}: exit {} {outcome}", run.code);
        if run.code != 0 {
            assert_eq!(run.code, 1, "{step}: {}", run.stderr);
            assert!(
                run.stderr.contains("error:"),
                "{step}: a failure says what failed: {}",
                run.stderr
            );
            (subject.works)(&rehearsal, &format!("{step} failed with {fault}"));
            rehearsal.resume(rehearsal.last_run()).expect_code(0);
        }
        let after = (subject.settled)(&rehearsal, &format!("{step} with {fault}"));
        assert_ne!(after, before, "{step}: rotated");
    }
}

const STATUS_500: &str = r#""kind":"status","status":500"#;
const STATUS_429: &str = r#""kind":"status","status":429,"retry_after":1"#;
const DROP: &str = r#""kind":"drop""#;

#[test]
fn a_500_at_any_step_of_a_key_rotation_is_retried_or_resumed() {
    each_step_survives(key_rotation(), STATUS_500);
}

#[test]
fn a_429_with_retry_after_at_any_step_of_a_key_rotation_is_waited_out_or_resumed() {
    each_step_survives(key_rotation(), STATUS_429);
}

#[test]
fn a_dropped_connection_at_any_step_of_a_key_rotation_is_retried_or_resumed() {
    each_step_survives(key_rotation(), DROP);
}

#[test]
fn a_500_at_any_step_of_a_token_rotation_is_retried_or_resumed() {
    each_step_survives(token_rotation(), STATUS_500);
}

#[test]
fn a_429_with_retry_after_at_any_step_of_a_token_rotation_is_waited_out_or_resumed() {
    each_step_survives(token_rotation(), STATUS_429);
}

#[test]
fn a_dropped_connection_at_any_step_of_a_token_rotation_is_retried_or_resumed() {
    each_step_survives(token_rotation(), DROP);
}
