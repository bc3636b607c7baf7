//! Rotation on policy, through simulated days: the emulator's calendar (`POST
//! /_emulator/clock`, which stamps key creation times) and orchestra's clock
//! (`ORCHESTRA_TEST_NOW`, test builds only) are moved together, one day at a time, and the
//! real rotation playbook runs against them as a daily schedule would.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;

use crate::harness::Run;
use crate::rehearsal::{ACCOUNT, Rehearsal, deployer_rotation};

/// A rehearsal with `max_age = "30d"` and the day its simulation starts.
struct Days {
    rehearsal: Rehearsal,
    start: DateTime<Utc>,
}

impl Days {
    fn new() -> Self {
        let rehearsal = Rehearsal::with(3, &deployer_rotation("1d", "max_age = \"30d\"\n"));
        let clock: Value =
            serde_json::from_str(&rehearsal.emulator.call("GET", "/_emulator/clock", ""))
                .expect("clock JSON");
        let start = clock["now"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .expect("the emulator's calendar")
            .with_timezone(&Utc);
        Self { rehearsal, start }
    }

    /// Moves both clocks to the start of simulated day `day`.
    fn go_to(&self, day: i64) -> String {
        let at = (self.start + Duration::days(day)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let answer = self.rehearsal.emulator.call(
            "POST",
            "/_emulator/clock",
            &serde_json::json!({ "now": at }).to_string(),
        );
        assert!(answer.contains(&at[..10]), "clock refused: {answer}");
        at
    }

    /// The daily run of `rotate_service_account_keys` on `day`, with `args`.
    fn run_on(&self, day: i64, args: &[&str]) -> Run {
        let at = self.go_to(day);
        let run = self.rehearsal.play_args(
            "rotate_service_account_keys",
            args,
            None,
            &[("ORCHESTRA_TEST_NOW", at.as_str())],
        );
        run.expect_code(0);
        run
    }

    fn key_ids(&self) -> Vec<String> {
        self.rehearsal
            .keys(&self.rehearsal.emulator.state())
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }
}

fn rotated(run: &Run) -> bool {
    run.stdout.contains(&format!("{ACCOUNT}: created key "))
}

#[test]
fn a_daily_schedule_over_90_days_rotates_every_30_days() {
    let days = Days::new();
    let mut rotated_on = Vec::new();
    for day in 0..90 {
        let run = days.run_on(day, &[]);
        if rotated(&run) {
            rotated_on.push(day);
            days.rehearsal
                .assert_settled(&format!("after the rotation of day {day}"));
        } else {
            run.stdout_has(&format!("{ACCOUNT}: not due until "));
        }
    }
    // Day 0 brings the key under management (nothing in Secret Manager yet), then every 30.
    assert_eq!(rotated_on, vec![0, 30, 60]);
}

#[test]
fn force_rotates_a_key_that_is_not_due() {
    let days = Days::new();
    assert!(rotated(&days.run_on(0, &[])));
    let current = days.rehearsal.assert_settled("day 0");

    let unforced = days.run_on(1, &[]);
    assert!(!rotated(&unforced), "{}", unforced.stdout);
    assert_eq!(days.rehearsal.assert_settled("day 1"), current);

    // Day 2, not day 1: the key day 0 retired is deleted once its grace (1d) is over, and
    // on day 1 that depends on which run reached its step sooner. A day's margin makes
    // "at most keep_keys" true whatever the machine's load.
    let forced = days.run_on(2, &["force=true"]);
    assert!(rotated(&forced), "{}", forced.stdout);
    forced.stdout_has("not due, forced");
    assert_ne!(days.rehearsal.assert_settled("forced"), current);

    let by_name = days.run_on(4, &[&format!("force={ACCOUNT}")]);
    assert!(rotated(&by_name), "{}", by_name.stdout);
}

#[test]
fn force_naming_an_account_the_run_does_not_rotate_is_refused() {
    let days = Days::new();
    let keys = days.key_ids();
    let at = days.go_to(0);
    let run = days.rehearsal.play_args(
        "rotate_service_account_keys",
        &["force=typo@demo-project.iam.gserviceaccount.com"],
        None,
        &[("ORCHESTRA_TEST_NOW", at.as_str())],
    );
    run.expect_code(1)
        .stderr_has("--arg force names 'typo@demo-project.iam.gserviceaccount.com'");
    assert_eq!(days.key_ids(), keys, "nothing was rotated");
}

#[test]
fn a_key_created_by_hand_in_iam_moves_the_due_date() {
    let days = Days::new();
    assert!(rotated(&days.run_on(0, &[])));

    // Day 10: someone makes a key by hand, as `gcloud iam service-accounts keys create` does.
    days.go_to(10);
    let made = days.rehearsal.emulator.call(
        "POST",
        &format!("/v1/projects/-/serviceAccounts/{ACCOUNT}/keys"),
        r#"{"privateKeyType":"TYPE_GOOGLE_CREDENTIALS_FILE"}"#,
    );
    let made: Value = serde_json::from_str(&made).expect("key JSON");
    let by_hand = made["name"]
        .as_str()
        .and_then(|n| n.rsplit('/').next())
        .expect("key name")
        .to_owned();
    let created = made["validAfterTime"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .expect("validAfterTime")
        .with_timezone(&Utc);
    // Summaries print local times (the harness runs in UTC), to the minute.
    let due = (created + Duration::days(30))
        .format("%Y-%m-%d %H:%M (UTC+00:00)")
        .to_string();

    // Day 35: the day-0 key would be due, but the newest key is 25 days old.
    let keys = days.key_ids();
    let run = days.run_on(35, &[]);
    assert!(!rotated(&run), "{}", run.stdout);
    run.stdout_has(&format!("{ACCOUNT}: not due until {due}"))
        .stdout_has(&format!("newest key {by_hand}"));
    assert_eq!(days.key_ids(), keys, "no key created or deleted");

    // Day 40: now it is due.
    let run = days.run_on(40, &[]);
    assert!(rotated(&run), "{}", run.stdout);
    days.rehearsal.assert_consumers_work("day 40");
    let enabled: Vec<String> = days
        .rehearsal
        .keys(&days.rehearsal.emulator.state())
        .into_iter()
        .filter(|(_, disabled)| !disabled)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(enabled.len(), 1, "one enabled key: {enabled:?}");
    assert!(!keys.contains(&enabled[0]), "a new key is the enabled one");
}

#[test]
fn an_installation_token_is_not_minted_again_before_its_max_age() {
    let rehearsal = Rehearsal::installation();
    let first = rehearsal.play_args("rotate_github_tokens", &[], None, &[]);
    first.expect_code(0).stdout_has("deploy-bot: due (");
    let token = rehearsal.bot_token_works("after the first rotation");
    let rerun = rehearsal.play_args("rotate_github_tokens", &[], None, &[]);
    rerun
        .expect_code(0)
        .stdout_has("deploy-bot: not due until ")
        .stdout_has("max_age 30m");
    assert_eq!(
        rehearsal.bot_token_works("after the rerun"),
        token,
        "the rerun left the token in place"
    );
}
