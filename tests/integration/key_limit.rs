//! IAM allows 10 user-managed keys per account: at the limit a rotation first deletes disabled
//! keys whose grace period is over, and otherwise stops before creating an eleventh.

use crate::rehearsal::{ACCOUNT, Rehearsal};

#[test]
fn at_iams_limit_a_rotation_makes_room_or_stops_before_an_eleventh_key() {
    let rehearsal = Rehearsal::new(3);
    let keys_path = format!("/v1/projects/-/serviceAccounts/{ACCOUNT}/keys");
    for _ in 0..9 {
        let created = rehearsal.emulator.call("POST", &keys_path, "{}");
        assert!(created.contains("privateKeyData"), "{created}");
    }
    let count = |r: &Rehearsal| r.keys(&r.emulator.state()).len();
    assert_eq!(count(&rehearsal), 10);
    rehearsal
        .rotate(None)
        .expect_code(1)
        .stderr_has("already has 10 user-managed keys (IAM allows 10)");
    assert_eq!(count(&rehearsal), 10, "no eleventh key");

    // Disabled keys past their grace period (0s here) make room.
    let ids: Vec<String> = rehearsal
        .keys(&rehearsal.emulator.state())
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for id in &ids[..3] {
        rehearsal
            .emulator
            .call("POST", &format!("{keys_path}/{id}:disable"), "{}");
    }
    rehearsal
        .rotate(None)
        .expect_code(0)
        .stdout_has("deleted disabled keys past their grace period to make room");
    rehearsal.assert_settled("after making room");
}
