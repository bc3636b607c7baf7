//! `orchestra state migrate --to firestore` from a populated SQLite folder: every run, step,
//! event, playbook state entry, ledger row and migration phase run (with its metrics) is in
//! Firestore afterwards with its id;
//! run twice, nothing is duplicated; the folder's fingerprint key becomes the shared one in
//! Secret Manager, so another machine reads the sealed state; a second folder with its own
//! key is refused without writing anything.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use orchestra::firestore_emulator::FirestoreEmulator;
use orchestra::store::{
    AlertRecord, BreakerRecord, BreakerState, BudgetCheck, BudgetCheckKind, BudgetLevel, LedgerKey,
    LedgerRecord, ModelSpend, NewPhaseRun, PhaseRunEnd, PhaseRunKind, PhaseRunRecord,
    PhaseRunStatus, RateLimitCheck, RunId, Store,
};

use crate::harness::{EmulatorProcess, Project, Run};
use crate::state_shared_rotation::shared_documents;
use crate::store_backends::shared_store;

const STAGES: &str = "state::set(\"stage\", args.stage);\nprint(`stage ${args.stage}`);\n";
const READS: &str = "print(`found ${state::get(\"stage\", \"none\")}`);\n";
const PREFIX: &str = "moved";

/// `orchestra.toml` for Secret Manager at `emulator`, with the Firestore state as `machine`
/// when given.
fn config(emulator: &EmulatorProcess, machine: Option<&str>) -> String {
    let state = machine
        .map(|m| {
            format!(
                "\n[state]\nbackend = \"firestore\"\nproject = \"demo-project\"\nprefix = \"{PREFIX}\"\nmachine = \"{m}\"\n"
            )
        })
        .unwrap_or_default();
    format!(
        "[gcp]\nproject = \"demo-project\"\nsecret_manager_url = \"{}\"\ncredentials = \"anonymous\"\n{state}",
        emulator.url()
    )
}

/// `orchestra ARGS` in `project`, with Firestore at `host`.
pub fn orchestra(project: &Project, host: &str, args: &[&str]) -> Run {
    Run::from(
        project
            .command()
            .args(args)
            .env("FIRESTORE_EMULATOR_HOST", host)
            .output()
            .expect("run orchestra"),
    )
}

/// What `migrate status` reads of a phase run: id, phase, status, run and error place.
type PhaseRunShown = (i64, String, PhaseRunStatus, Option<RunId>, Option<String>);

/// What `migrate status` reads of each phase run of migration `m`.
fn phase_runs(store: &Store) -> Vec<PhaseRunShown> {
    let runs: Vec<PhaseRunRecord> = store.phase_runs("m").expect("phase runs");
    runs.into_iter()
        .map(|r| (r.id, r.phase, r.status, r.run_id, r.error_at))
        .collect()
}

/// Records a completed CORE_INFRASTRUCTURE run of migration `m` (tied to run 1), a skipped
/// API_DEPLOYMENT, and two metrics.
fn record_phases(store: &Store) {
    let phase = |name, kind, status, reason| NewPhaseRun {
        migration: "m",
        file: "migration.toml",
        phase: name,
        kind,
        status,
        reason,
    };
    let core = store
        .phase_run_start(&phase(
            "CORE_INFRASTRUCTURE",
            PhaseRunKind::Execute,
            PhaseRunStatus::Running,
            None,
        ))
        .expect("phase run");
    store.phase_run_bind(core, RunId(1)).expect("bind");
    store
        .phase_run_finish(core, PhaseRunStatus::Completed, &PhaseRunEnd::default())
        .expect("finish");
    store
        .phase_run_start(&phase(
            "API_DEPLOYMENT",
            PhaseRunKind::Skip,
            PhaseRunStatus::Skipped,
            Some("no service yet"),
        ))
        .expect("skip");
    store
        .migration_metric_record(
            "m",
            Some("CORE_INFRASTRUCTURE"),
            "apis_enabled",
            5.0,
            Some(RunId(1)),
        )
        .expect("metric");
    store
        .migration_metric_record("m", None, "phases_done", 1.0, None)
        .expect("metric");
}

/// How many documents each of the prefix's collections holds.
fn counts(firestore: &FirestoreEmulator) -> Vec<(String, usize)> {
    shared_documents(firestore, PREFIX)
        .into_iter()
        .map(|(place, bytes)| {
            let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            (place, json["documents"].as_array().map_or(0, Vec::len))
        })
        .collect()
}

#[test]
fn a_sqlite_state_is_copied_once_with_its_ids_and_its_key() {
    let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
    let host = firestore.host();
    let home = Project::new();
    let emulator = EmulatorProcess::start(&home);

    let a = Project::new();
    a.config(&config(&emulator, None))
        .playbook("stages.rhai", STAGES);
    for stage in ["one", "two"] {
        orchestra(
            &a,
            &host,
            &["play", "stages", "--arg", &format!("stage={stage}")],
        )
        .expect_code(0);
    }
    let db = a.path().join(".orchestra/state.db");
    let local = Store::open(&db).expect("open");
    let record = LedgerRecord {
        key: LedgerKey {
            gcp_secret: "projects/demo-project/secrets/db".into(),
            target: "acme/api".into(),
            github_name: "DB".into(),
        },
        fingerprint: "ab".repeat(32),
        gcp_version: Some(4),
        github_updated_at: Some("2026-01-01T00:00:00Z".into()),
        direction: "push".into(),
    };
    local.ledger_record(&[record], None).expect("ledger");
    let breaker = BreakerRecord {
        name: "github".into(),
        state: BreakerState::Open,
        failures: 5,
        threshold: 5,
        recovery_ms: 60_000,
        opened_at: Some(1_000),
        last_error: Some("502 from api.github.com".into()),
        updated_at: 1_000,
    };
    local
        .update_breaker("github", |_, _| ((), Some(breaker.clone())))
        .expect("breaker");
    let alert = AlertRecord {
        key: "rate-limit:core".into(),
        severity: "warning".into(),
        message: "core window at 10%".into(),
        changed_at: 2_000,
        last_sent_at: None,
        unsent: Some("core window at 10%".into()),
    };
    local.put_alert(&alert).expect("alert");
    local
        .record_rate_limit(&RateLimitCheck {
            run_id: None,
            checked_at: 3_000,
            credential: "main".into(),
            kind: "token".into(),
            resource: "core".into(),
            limit: 5000,
            remaining: 4000,
            used: 1000,
            reset_at: 9_000,
            burn_per_hour: Some(12.5),
            exhausts_at: None,
        })
        .expect("rate limit");
    let budget = BudgetCheck {
        run_id: Some(orchestra::store::RunId(2)),
        checked_at: 4_000,
        kind: BudgetCheckKind::Status,
        project: "demo-project".into(),
        period_start: 0,
        month: Some("1970-01".into()),
        month_zone: Some("UTC".into()),
        as_of: 4_000,
        spent_usd: 42.5,
        budget_usd: Some(100.0),
        alert_at: Some(0.8),
        projected_usd: Some(90.0),
        level: Some(BudgetLevel::Warning),
        estimate_usd: None,
        within: None,
        unpriced: Vec::new(),
        per_model: vec![ModelSpend {
            model: "gemini-2.5-flash".into(),
            input_tokens: 10,
            output_tokens: 20,
            cost_usd: Some(42.5),
        }],
    };
    local.add_budget_check(&budget).expect("budget");
    // A second check in the same millisecond is a second row, and stays one.
    local.add_budget_check(&budget).expect("budget");
    record_phases(&local);

    a.config(&config(&emulator, Some("machine-a")));
    let first = orchestra(&a, &host, &["state", "migrate", "--to", "firestore"]);
    first
        .expect_code(0)
        .stdout_has("copied 2 runs")
        .stdout_has(
            "1 ledger rows, 1 breakers, 1 rate-limit checks, 1 alerts, 2 budget checks, 2 migration phase runs and 2 migration metrics",
        )
        .stdout_has("new runs start at 3");
    let after_first = counts(&firestore);
    let second = orchestra(&a, &host, &["state", "migrate", "--to", "firestore"]);
    second.expect_code(0);
    assert_eq!(
        second.stdout, first.stdout,
        "the second copy is the same copy"
    );
    assert_eq!(counts(&firestore), after_first, "nothing duplicated");

    // Every run, step, entry and ledger row is there, with its id.
    let scratch = tempfile::tempdir().expect("tempdir");
    let shared = shared_store(
        &scratch.path().join("s.db"),
        &firestore,
        "demo-project",
        PREFIX,
        "reader",
    );
    let ids = |store: &Store| -> Vec<i64> {
        let runs = store.recent_runs(100).expect("runs");
        runs.iter().map(|r| r.id.0).collect()
    };
    assert_eq!(ids(&shared), ids(&local));
    for run in local.recent_runs(100).expect("runs") {
        let steps = |store: &Store| -> Vec<(i64, String, String)> {
            let steps = store.steps(run.id).expect("steps");
            steps
                .into_iter()
                .map(|s| (s.seq, s.primitive, s.status.as_str().to_owned()))
                .collect()
        };
        assert!(!steps(&local).is_empty(), "run {} journaled steps", run.id);
        assert_eq!(steps(&shared), steps(&local), "run {}", run.id);
        let events = |store: &Store| store.events(run.id).expect("events").len();
        assert_eq!(events(&shared), events(&local), "run {}", run.id);
    }
    assert_eq!(
        shared.state_rows().expect("kv"),
        local.state_rows().expect("kv")
    );
    assert_eq!(
        shared.ledger_entries().expect("ledger"),
        local.ledger_entries().expect("ledger")
    );
    assert_eq!(shared.breakers().expect("breakers"), [breaker]);
    assert_eq!(shared.alerts().expect("alerts"), [alert]);
    assert_eq!(
        shared.recent_rate_limits(10).expect("rate limits"),
        local.recent_rate_limits(10).expect("rate limits")
    );
    assert_eq!(shared.unsent_alerts().expect("unsent"), ["rate-limit:core"]);
    assert_eq!(
        shared.budget_checks(10).expect("budget"),
        [budget.clone(), budget]
    );
    assert_eq!(phase_runs(&shared), phase_runs(&local));
    assert_eq!(phase_runs(&shared).len(), 2);
    assert_eq!(
        shared.migration_metrics("m").expect("metrics"),
        local.migration_metrics("m").expect("metrics")
    );
    assert_eq!(
        shared
            .phase_run_of(RunId(1))
            .expect("phase run of")
            .map(|r| r.phase),
        Some("CORE_INFRASTRUCTURE".to_owned())
    );

    // The folder's key is the shared one now: another machine opens the sealed state.
    let key_file = std::fs::read(a.path().join(".orchestra/fingerprint.key")).expect("key");
    let state = emulator.state();
    let secret = &state["google"]["secrets"]["projects/demo-project/secrets/moved-fingerprint-key"];
    assert_eq!(secret["labels"]["managed-by"], "orchestra");
    let stored = secret["versions"][0]["data"].as_str().expect("a version");
    assert_eq!(STANDARD.decode(stored).expect("base64"), key_file);
    let b = Project::new();
    b.config(&config(&emulator, Some("machine-b")))
        .playbook("reads.rhai", READS);
    orchestra(&b, &host, &["play", "reads"])
        .expect_code(0)
        .stdout_has("found two")
        .stderr_has("run 3 started");

    // Another folder, whose state was sealed under its own key, is refused untouched.
    let c = Project::new();
    c.config(&config(&emulator, None))
        .playbook("stages.rhai", STAGES);
    orchestra(&c, &host, &["play", "stages", "--arg", "stage=other"]).expect_code(0);
    let before = counts(&firestore);
    c.config(&config(&emulator, Some("machine-c")));
    let refused = orchestra(&c, &host, &["state", "migrate", "--to", "firestore"]);
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    refused.stderr_has("holds another fingerprint key");
    assert_eq!(counts(&firestore), before, "nothing written");
}
