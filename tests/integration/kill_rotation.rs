//! Kill tests: the service-account rotation is SIGKILLed after each of its changes in turn
//! (right after the change took effect, before the journal recorded it), then resumed. At
//! every kill point every consumer holds a working key; after the resume there is exactly one
//! current key, old keys are disabled or deleted per policy, no orphan, no second new key.

use crate::rehearsal::Rehearsal;

#[test]
fn a_rotation_killed_after_any_change_resumes_to_one_working_key() {
    let mut kill_points = 0;
    for n in 1.. {
        let rehearsal = Rehearsal::new(3);
        rehearsal.rotate(None).expect_code(0);
        let before = rehearsal.assert_settled("after the first rotation");
        let killed = rehearsal.rotate(Some(n));
        if killed.code == 0 {
            // Fewer than n changes: every kill point has been tried.
            assert!(n > 6, "a rotation makes more than {} changes", n - 1);
            break;
        }
        kill_points += 1;
        assert_eq!(killed.code, -1, "killed by the signal\n{}", killed.stderr);
        rehearsal.assert_consumers_work(&format!("killed after change {n}"));

        let run = rehearsal.last_run();
        let resumed = rehearsal.resume(run);
        resumed.expect_code(0);
        rehearsal.assert_resumed_rotation(
            &resumed,
            &before,
            n,
            &format!("resumed after a kill at change {n}"),
        );
        let later = rehearsal.rotate(None);
        later.expect_code(0);
        rehearsal.assert_settled(&format!("a later rotation after the kill at change {n}"));
        rehearsal.assert_nothing_leaked(&[&killed, &resumed, &later]);
    }
    assert!(kill_points >= 6, "only {kill_points} kill points");
}
