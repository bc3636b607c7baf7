//! GitHub token rotation against the emulator: an installation token killed after each of its
//! changes in turn and resumed, the consumer always holding a token that works; personal
//! tokens checked for scopes, revoked when allowed or listed as a step by hand.

use crate::rehearsal::Rehearsal;

#[test]
fn an_installation_token_rotation_killed_after_any_change_resumes_and_revokes_the_old_one() {
    let mut kill_points = 0;
    for n in 1.. {
        let rehearsal = Rehearsal::installation();
        rehearsal
            .play("rotate_github_tokens", None, &[])
            .expect_code(0)
            .stdout_has("schedule this at most every 30 minutes");
        let before = rehearsal.bot_token_works("after the first rotation");
        let killed = rehearsal.play("rotate_github_tokens", Some(n), &[]);
        if killed.code == 0 {
            assert!(n > 5, "a token rotation makes more than {} changes", n - 1);
            break;
        }
        kill_points += 1;
        assert_eq!(killed.code, -1, "killed\n{}", killed.stderr);
        rehearsal.bot_token_works(&format!("killed after change {n}"));
        rehearsal.resume(rehearsal.last_run()).expect_code(0);
        let after = rehearsal.bot_token_works(&format!("resumed after change {n}"));
        assert_ne!(after, before, "kill at {n}: the token was rotated");
        assert!(
            !rehearsal.token_works(&before),
            "kill at {n}: the old token is revoked"
        );
    }
    assert!(kill_points >= 5, "only {kill_points} kill points");
}

fn pat_rotation(revoke_old: bool, scopes: &str) -> Rehearsal {
    Rehearsal::with(
        3,
        &format!(
            r#"[[rotations.github_tokens]]
name = "ci-pat"
kind = "pat"
secret = "ci-pat"
source = "env:NEW_PAT"
scopes = {scopes}
revoke_old = {revoke_old}
consumers = [{{ target = "acme/api", name = "CI_PAT" }}]
"#
        ),
    )
}

#[test]
fn a_personal_token_is_checked_distributed_and_the_old_one_revoked() {
    let rehearsal = pat_rotation(true, r#"["repo"]"#);
    let first = rehearsal.emulator.mint_pat();
    rehearsal
        .play("rotate_github_tokens", None, &[("NEW_PAT", &first)])
        .expect_code(0);
    let second = rehearsal.emulator.mint_pat();
    let run = rehearsal.play("rotate_github_tokens", None, &[("NEW_PAT", &second)]);
    run.expect_code(0).stdout_has("left to do by hand: nothing");
    let state = rehearsal.emulator.state();
    assert_eq!(
        rehearsal.github_secret(&state, "CI_PAT").as_deref(),
        Some(second.as_str())
    );
    assert!(rehearsal.token_works(&second));
    assert!(!rehearsal.token_works(&first), "the old token is revoked");
    assert!(!run.stdout.contains(&second) && !run.stderr.contains(&second));
    rehearsal.assert_nothing_leaked(&[&run]);
}

#[test]
fn without_revoke_old_the_old_token_is_a_step_by_hand() {
    let rehearsal = pat_rotation(false, r#"["repo"]"#);
    let first = rehearsal.emulator.mint_pat();
    rehearsal
        .play("rotate_github_tokens", None, &[("NEW_PAT", &first)])
        .expect_code(0);
    let second = rehearsal.emulator.mint_pat();
    rehearsal
        .play("rotate_github_tokens", None, &[("NEW_PAT", &second)])
        .expect_code(0)
        .stdout_has("left to do by hand:\n    • revoke the previous personal access token of ci-pat (Secret(fp:");
    assert!(
        rehearsal.token_works(&first),
        "not revoked without revoke_old"
    );
}

#[test]
fn a_personal_token_without_the_needed_scopes_is_refused_before_anything_changes() {
    let rehearsal = pat_rotation(true, r#"["repo", "admin:org"]"#);
    let weak = rehearsal.emulator.mint_pat();
    rehearsal
        .play("rotate_github_tokens", None, &[("NEW_PAT", &weak)])
        .expect_code(1)
        .stderr_has("lacks the scopes [\"admin:org\"]")
        .stderr_has("nothing was distributed");
    let state = rehearsal.emulator.state();
    assert_eq!(rehearsal.github_secret(&state, "CI_PAT"), None);
}
