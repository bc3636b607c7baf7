//! `[state] backend = "firestore"`: two orchestra processes in two folders (no shared file)
//! configured as two machines, sharing one real Firestore emulator and one orchestra
//! emulator. Locks are leases: the second machine is refused with the holder's run, machine
//! and pid; it takes over only once the lease ran out; a holder paused past its lease makes
//! no further change when it wakes (its fencing token is stale).

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use orchestra::firestore_emulator::FirestoreEmulator;

use crate::harness::{EmulatorProcess, PATIENCE, Project, Run};

/// A project folder that is machine `name`, with state in `firestore`.
fn machine(name: &str, firestore: &FirestoreEmulator) -> Project {
    machine_with_google(name, firestore, None)
}

/// As [`machine`], with Secret Manager (where the shared fingerprint key lives) at `google`.
fn machine_with_google(name: &str, firestore: &FirestoreEmulator, google: Option<&str>) -> Project {
    let project = Project::new();
    // The emulator's Secret Manager knows the demo project only.
    let state_project = if google.is_some() {
        "demo-project"
    } else {
        "state-test"
    };
    let gcp = google
        .map(|url| {
            format!("[gcp]\nsecret_manager_url = \"{url}\"\ncredentials = \"anonymous\"\n\n")
        })
        .unwrap_or_default();
    project.config(&format!(
        "{gcp}[state]\nbackend = \"firestore\"\nproject = \"{state_project}\"\nlease = \"2s\"\nmachine = \"{name}\"\n\n[notify.slack.ops]\nwebhook_env = \"OPS_WEBHOOK\"\n# firestore {}\n",
        firestore.host()
    ));
    project
}

fn env<'a>(firestore: &'a str, webhook: &'a str) -> [(&'static str, &'a str); 2] {
    [
        ("FIRESTORE_EMULATOR_HOST", firestore),
        ("OPS_WEBHOOK", webhook),
    ]
}

fn run(project: &Project, firestore: &str, webhook: &str, args: &[&str]) -> Run {
    let output = project
        .command()
        .envs(env(firestore, webhook))
        .args(args)
        .output()
        .expect("run orchestra");
    Run::from(output)
}

/// Runs `play NAME` on `project` until it is no longer refused for the lock; every refusal
/// must name `holder` (run, machine, pid). The last outcome.
fn play_until_taken_over(
    project: &Project,
    firestore: &str,
    webhook: &str,
    name: &str,
    holder: &str,
) -> Run {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let attempt = run(project, firestore, webhook, &["play", name]);
        if attempt.code != 3 {
            return attempt;
        }
        attempt
            .stderr_has(holder)
            .stderr_has("its lease runs until");
        assert!(Instant::now() < deadline, "the lease never ran out");
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn start() -> (FirestoreEmulator, Project, Project) {
    let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
    let a = machine("machine-a", &firestore);
    let b = machine("machine-b", &firestore);
    (firestore, a, b)
}

#[test]
fn a_second_machine_is_refused_and_takes_over_once_the_killed_holders_lease_ran_out() {
    let (firestore, a, b) = start();
    let host = firestore.host();
    let waits = "print(\"holding\");\nsleep(30);\n";
    a.playbook("rotate.rhai", waits);
    b.playbook("rotate.rhai", "print(\"b ran\");\n");
    let mut holder = a.spawn_with(&["play", "rotate"], &env(&host, ""));
    holder.wait_for("holding");
    let pid = holder.child.id();

    run(&b, &host, "", &["play", "rotate"])
        .expect_code(3)
        .stderr_has(&format!("is held by run 1 (pid {pid} on machine-a)"));
    run(&b, &host, "", &["state", "status"])
        .expect_code(0)
        .stdout_has("backend: Firestore (project state-test, database (default))")
        .stdout_has(&format!(
            "lock 'playbook:playbooks/rotate.rhai': run 1 on machine-a (pid {pid})"
        ))
        .stdout_has("lease until")
        .stdout_has("token 1");

    holder.signal(Signal::SIGKILL);
    holder.wait();
    let taken = play_until_taken_over(
        &b,
        &host,
        "",
        "rotate",
        &format!("run 1 (pid {pid} on machine-a)"),
    );
    taken
        .expect_code(0)
        .stdout_has("b ran")
        .stderr_has("took over lock 'playbook:playbooks/rotate.rhai' left by run 1");

    // Both machines see one list of runs, with the machine that ran each.
    let listed = run(&a, &host, "", &["runs", "--json"]);
    listed.expect_code(0);
    let runs: serde_json::Value = serde_json::from_str(&listed.stdout).expect("json");
    assert_eq!(runs[0]["id"], 2);
    assert_eq!(runs[0]["host"], "machine-b");
    assert_eq!(runs[0]["status"], "succeeded");
    assert_eq!(runs[1]["id"], 1);
    assert_eq!(runs[1]["host"], "machine-a");
    assert_eq!(runs[1]["status"], "interrupted");
}

#[test]
fn a_holder_paused_past_its_lease_makes_no_further_change() {
    let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
    let host = firestore.host();
    let apis = Project::new();
    let emulator = EmulatorProcess::start(&apis);
    // The webhook is a secret: its mask needs the fingerprint key, kept in Secret Manager.
    let a = machine_with_google("machine-a", &firestore, Some(&emulator.url()));
    let b = machine_with_google("machine-b", &firestore, Some(&emulator.url()));
    let webhook = format!("{}/slack/ops", emulator.url());
    a.playbook(
        "notify.rhai",
        "notify::slack(\"ops\", \"a before\");\nprint(\"holding\");\nsleep(8);\nnotify::slack(\"ops\", \"a after\");\n",
    );
    b.playbook("notify.rhai", "notify::slack(\"ops\", \"b ran\");\n");
    let mut paused = a.spawn_with(&["play", "notify"], &env(&host, &webhook));
    paused.wait_for("holding");
    let pid = paused.child.id();
    paused.signal(Signal::SIGSTOP);

    play_until_taken_over(
        &b,
        &host,
        &webhook,
        "notify",
        &format!("run 1 (pid {pid} on machine-a)"),
    )
    .expect_code(0);

    paused.signal(Signal::SIGCONT);
    paused.wait_for("lost its lease");
    let code = paused.wait();
    assert_ne!(code, Some(0), "the paused holder must fail");

    assert_eq!(emulator.slack_messages("ops"), vec!["a before", "b ran"]);
    let requests = emulator.call("GET", "/_emulator/requests", "");
    assert_eq!(
        requests.matches("/slack/ops").count(),
        2,
        "exactly two Slack posts reached the emulator: {requests}"
    );
}

#[test]
fn an_unreachable_firestore_refuses_the_run_and_takes_no_local_lock() {
    let project = Project::new();
    project
        .config("[state]\nbackend = \"firestore\"\nproject = \"state-test\"\nmachine = \"offline\"\n\n[limits]\nretry_attempts = 1\n")
        .playbook("rotate.rhai", "print(\"ran\");\n");
    // A port that was free a moment ago: nothing answers there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .to_string();
    let refused = run(&project, &closed, "", &["play", "rotate"]);
    assert_ne!(refused.code, 0);
    refused
        .stderr_has("cannot be reached")
        .stderr_has("no local lock is taken in its place");
    assert!(!refused.stdout.contains("ran"), "{}", refused.stdout);
    // Nothing was recorded locally in its place.
    let db = project.path().join(".orchestra/state.db");
    if db.exists() {
        let conn = rusqlite::Connection::open(&db).expect("open");
        let locks: i64 = conn
            .query_row("SELECT COUNT(*) FROM locks", [], |r| r.get(0))
            .expect("count");
        let runs: i64 = conn
            .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0))
            .expect("count");
        assert_eq!((locks, runs), (0, 0), "no local lock or run");
    }
}
