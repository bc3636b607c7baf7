//! A sync of many secrets SIGKILLed half-way, then rerun: every target converges on Secret
//! Manager's value, the pushes that landed before the kill are recorded rather than redone,
//! and the ledger ends complete.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::harness::{DEMO_GITHUB_TOKEN, PATIENCE};
use crate::sync_fixture::{SyncWorld, entry};

const SECRETS: usize = 60;

#[test]
fn a_sync_killed_half_way_converges_on_rerun_without_pushing_twice() {
    let mapping: String = (0..SECRETS)
        .map(|i| entry(&format!("bulk-{i}"), &format!("BULK_{i}"), &["org:acme"]))
        .collect();
    let world = SyncWorld::new(&mapping);
    for i in 0..SECRETS {
        world.gcp_write(
            &format!("bulk-{i}"),
            &format!("bulk-value-{i}"),
            r#"{"managed-by":"orchestra"}"#,
        );
    }
    // Slow GitHub writes down so the kill lands in the middle of the pushes.
    world.emulator.fault(
        r#"{"method":"PUT","path":"/orgs/acme/actions/secrets/*","kind":"latency","ms":150}"#,
    );
    let mut cmd = world.project.command();
    cmd.args(["play", "sync_secrets"])
        .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("spawn orchestra");
    let deadline = Instant::now() + PATIENCE;
    while world.github_count("org:acme") < 10 {
        assert!(Instant::now() < deadline, "no push became visible");
        std::thread::sleep(Duration::from_millis(30));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid")),
        Signal::SIGKILL,
    )
    .expect("kill");
    child.wait().expect("wait");
    // A PUT held by the latency fault may still land after the kill.
    std::thread::sleep(Duration::from_millis(500));
    let landed = world.github_count("org:acme");
    assert!(
        landed < SECRETS,
        "the kill came too late: all {landed} landed"
    );
    world.emulator.call("DELETE", "/_emulator/faults", "");

    let rerun = world.sync(&[]);
    rerun.expect_code(0);
    let pushed = rerun.stdout.matches("-> org:acme: pushed").count();
    assert_eq!(
        pushed,
        SECRETS - landed,
        "only the missing ones are pushed\n{}",
        rerun.stdout
    );
    let recorded = rerun
        .stdout
        .matches("recorded (pushed by an interrupted run)")
        .count();
    let unchanged = rerun.stdout.matches("-> org:acme: unchanged").count();
    assert_eq!(
        recorded + unchanged,
        landed,
        "what landed is recorded or was already\n{}",
        rerun.stdout
    );
    for i in 0..SECRETS {
        assert_eq!(
            world
                .github_value("org:acme", &format!("BULK_{i}"))
                .as_deref(),
            Some(format!("bulk-value-{i}").as_str())
        );
    }
    world
        .sync(&[])
        .expect_code(0)
        .stdout_has(&format!("totals: unchanged {SECRETS}"));
}
