//! The budget month follows Cloud Billing's calendar: a month of Pacific Time by default, so
//! at 05:00 UTC on April 1st (22:00 on March 31st in California) the check is still about
//! March; `[budget].month_zone = "UTC"` moves the boundary for a budget kept in UTC. Each test
//! replays a fixed moment through `budget::status`'s `as_of`.

use crate::budget::{play_in_zone, project_with, usage};
use crate::harness::{EmulatorProcess, Project, Run};

/// April 1st, 05:00 UTC: still March 31st, 22:00 PDT in Pacific Time.
const APRIL_FIRST_UTC_MARCH_IN_PACIFIC: &str = "2026-04-01T05:00:00Z";

/// An emulator with gemini-2.5-pro output ($10 per million tokens) of 2M tokens on March 10th
/// and 1M at 02:00 UTC on April 1st (19:00 on March 31st in Pacific Time).
fn across_the_boundary() -> (EmulatorProcess, Project) {
    let emulator = EmulatorProcess::start(&Project::new());
    let project = project_with(&emulator, "");
    usage(
        &emulator,
        Some("2026-03-10T12:00:00Z"),
        &[("gemini-2.5-pro", "output", 2_000_000)],
    );
    let answer = emulator.call(
        "POST",
        "/_emulator/monitoring/usage",
        r#"{"model": "gemini-2.5-pro", "type": "output", "tokens": 1000000, "at": "2026-04-01T02:00:00Z"}"#,
    );
    assert!(answer.contains("points"), "{answer}");
    (emulator, project)
}

/// `vertex_budget` as of `at`, with `[budget].month_zone` set to `zone` if given.
fn check_as_of(project: &Project, emulator: &EmulatorProcess, at: &str, zone: Option<&str>) -> Run {
    let as_of = format!("as_of={at}");
    play_in_zone(project, emulator, &["--arg", &as_of], zone)
}

#[test]
fn by_default_the_month_is_still_the_old_one_in_pacific_time_when_utc_has_turned() {
    let (emulator, project) = across_the_boundary();
    let at = APRIL_FIRST_UTC_MARCH_IN_PACIFIC;
    check_as_of(&project, &emulator, at, None)
        .expect_code(0)
        .stdout_has("Vertex AI spend in demo-project, 2026-03 (as of 2026-04-01T05:00:00Z)")
        .stdout_has("month: 2026-03 on the America/Los_Angeles calendar, from 2026-03-01T08:00:00Z")
        // Both points are March in California: $20 + $10.
        .stdout_has("spent $30.00 of $500.00");
}

#[test]
fn a_utc_month_zone_counts_only_the_new_month() {
    let (emulator, project) = across_the_boundary();
    let at = APRIL_FIRST_UTC_MARCH_IN_PACIFIC;
    check_as_of(&project, &emulator, at, Some("UTC"))
        .expect_code(0)
        .stdout_has("Vertex AI spend in demo-project, 2026-04 (as of 2026-04-01T05:00:00Z)")
        .stdout_has("month: 2026-04 on the UTC calendar, from 2026-04-01T00:00:00Z")
        // Only the 02:00 UTC point is April in UTC.
        .stdout_has("spent $10.00 of $500.00");
}

#[test]
fn the_pacific_month_turns_at_midnight_pacific_time() {
    let (emulator, project) = across_the_boundary();
    // 07:30 UTC is 00:30 PDT on April 1st: April has begun in California, and the point at
    // 02:00 UTC (March 31st there) belongs to March.
    let at = "2026-04-01T07:30:00Z";
    check_as_of(&project, &emulator, at, None)
        .expect_code(0)
        .stdout_has("month: 2026-04 on the America/Los_Angeles calendar, from 2026-04-01T07:00:00Z")
        .stdout_has("spent $0.00 of $500.00");
}

#[test]
fn report_budget_says_which_month_and_zone_each_check_used() {
    let (emulator, project) = across_the_boundary();
    let at = APRIL_FIRST_UTC_MARCH_IN_PACIFIC;
    check_as_of(&project, &emulator, at, None).expect_code(0);
    check_as_of(&project, &emulator, at, Some("UTC")).expect_code(0);
    project
        .run(&["report", "budget"])
        .expect_code(0)
        .stdout_has("MONTH (ZONE)")
        .stdout_has("2026-03 America/Los_Angeles")
        .stdout_has("2026-04 UTC");
    let report = project.run(&["report", "budget", "--json"]);
    report.expect_code(0);
    let checks: Vec<serde_json::Value> = serde_json::from_str(&report.stdout).expect("json");
    let zones: Vec<(&str, &str)> = checks
        .iter()
        .filter_map(|c| Some((c["month"].as_str()?, c["month_zone"].as_str()?)))
        .collect();
    assert_eq!(
        zones,
        [("2026-04", "UTC"), ("2026-03", "America/Los_Angeles")],
        "newest first"
    );
}
