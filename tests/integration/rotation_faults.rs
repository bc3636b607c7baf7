//! Fault tests: a 500, a 429 with `Retry-After`, and a dropped connection injected at each
//! kind of request a rotation makes. The run completes after retries, or fails with a clear
//! message leaving a state that `orchestra resume` completes; either way every consumer ends
//! with the one current key.

use crate::rehearsal::Rehearsal;

/// The requests of a rotation, by method and path pattern.
const STEPS: [(&str, &str, &str); 12] = [
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

fn each_step_survives(fault: &str) {
    for (step, method, path) in STEPS {
        let rehearsal = Rehearsal::new(3);
        rehearsal.rotate(None).expect_code(0);
        let before = rehearsal.assert_settled("before the fault");
        rehearsal.emulator.fault(&format!(
            r#"{{"method":"{method}","path":"{path}",{fault},"count":1}}"#
        ));
        let run = rehearsal.rotate(None);
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
            rehearsal.assert_consumers_work(&format!("{step} failed with {fault}"));
            rehearsal.resume(rehearsal.last_run()).expect_code(0);
        }
        let after = rehearsal.assert_settled(&format!("{step} with {fault}"));
        assert_ne!(after, before, "{step}: the key was rotated");
    }
}

#[test]
fn a_500_at_any_step_is_retried_or_resumed() {
    each_step_survives(r#""kind":"status","status":500"#);
}

#[test]
fn a_429_with_retry_after_at_any_step_is_waited_out_or_resumed() {
    each_step_survives(r#""kind":"status","status":429,"retry_after":1"#);
}

#[test]
fn a_dropped_connection_at_any_step_is_retried_or_resumed() {
    each_step_survives(r#""kind":"drop""#);
}
