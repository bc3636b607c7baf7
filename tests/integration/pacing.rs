//! Pacing under GitHub's secondary limits, against an emulator that enforces them on a minute
//! 30 times shorter: orchestra, told the same scale, queues its writes and earns no refusal;
//! a client that does not pace earns some.

use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, Project};

const SCOPE: &str = "[scope]\ngithub_owners = [\"acme\"]\n";

/// The refusals the emulator's secondary limits have given, by limit and in all.
fn refusals(emulator: &EmulatorProcess) -> serde_json::Value {
    let answer: serde_json::Value =
        serde_json::from_str(&emulator.call("GET", "/_emulator/limits", "")).expect("limits");
    answer["refusals"].clone()
}

#[test]
fn a_paced_batch_of_300_secrets_earns_no_secondary_refusal() {
    let project = Project::new();
    let emulator = EmulatorProcess::start_with(&project, &["--time-scale", "30"]);
    // Organisation secrets, as a repository holds at most 100. 300 PUTs are 1,500 points: more than one (scaled) minute's 900, so pacing must hold some.
    project
        .config(&emulator.config(&format!("{SCOPE}[limits]\ntime_scale = 30\n")))
        .playbook(
            "many.rhai",
            r#"
let batch = #{};
for i in 0..300 { batch[`PACED_${i}`] = secret::generate(16); }
let outcome = github::put_secrets("org:acme", batch);
print(`${outcome.len()} ${outcome.PACED_0} ${outcome.PACED_299}`);
"#,
        );
    let mut cmd = project.command();
    cmd.args(["play", "many"])
        .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN);
    crate::harness::Run::from(cmd.output().expect("run"))
        .expect_code(0)
        .stdout_has("300 created created");
    assert_eq!(refusals(&emulator)["total"], 0, "{}", refusals(&emulator));
    let state = emulator.state();
    assert!(
        state.to_string().contains("PACED_299"),
        "the last secret is not in the emulator"
    );
}

#[test]
fn an_unpaced_burst_of_writes_is_refused_by_the_points_limit() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    // 200 DELETEs at 5 points each, one after another with no pacing: 1,000 points in well
    // under GitHub's minute.
    let refused = (0..200)
        .map(|i| {
            emulator.send_as(
                DEMO_GITHUB_TOKEN,
                "DELETE",
                &format!("/repos/acme/api/actions/secrets/BURST_{i}"),
                "",
            )
        })
        .filter(|body| body.contains("exceeded a secondary rate limit"))
        .count();
    assert_eq!(refused, 20);
    assert_eq!(refusals(&emulator)["points"], 20);
}

#[test]
fn the_same_batch_without_pacing_is_refused() {
    let project = Project::new();
    let emulator = EmulatorProcess::start_with(&project, &["--time-scale", "10"]);
    // Pacing told GitHub allows far more points than it does: the batch bursts. A 6 s minute,
    // so the burst overruns it however loaded the machine is.
    project
        .config(&emulator.config(&format!(
            "{SCOPE}[limits]\ntime_scale = 10\ngithub_points_per_minute = 1000000\n"
        )))
        .playbook(
            "burst.rhai",
            r#"
let batch = #{};
for i in 0..300 { batch[`BURST_${i}`] = secret::generate(16); }
github::put_secrets("org:acme", batch);
"#,
        );
    let mut cmd = project.command();
    cmd.args(["play", "burst"])
        .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN);
    // Whether the retries then get every secret through is not the point here.
    let _ = cmd.output().expect("run");
    let refused = refusals(&emulator)["points"].as_u64().expect("a count");
    assert!(refused > 0, "an unpaced batch of 300 was never refused");
}
