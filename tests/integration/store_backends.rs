//! The store's playbook state (kv) and sync ledger, run against both backends through the
//! same `Store` API: SQLite alone, and SQLite with `[state] backend = "firestore"` on the
//! real Firestore emulator. Both must answer alike; the Firestore one must leave the SQLite
//! file's tables empty (the shared state is the only copy) and refuse writes under a plan.

use std::path::Path;
use std::time::Duration;

use orchestra::clients::firestore::{Endpoint, FirestoreSettings};
use orchestra::clients::retry::RetryPolicy;
use orchestra::firestore_emulator::FirestoreEmulator;
use orchestra::store::{
    AlertRecord, BreakerRecord, BreakerState, BudgetCheck, BudgetCheckKind, BudgetLevel,
    LedgerIntent, LedgerKey, LedgerRecord, ModelSpend, NewRun, RateLimitCheck, RunMode,
    SharedSettings, Store,
};

/// A SQLite store in `dir`, sharing `firestore` under `prefix` as `machine` when given.
fn store_in(dir: &Path, firestore: Option<(&FirestoreEmulator, &str, &str)>) -> Store {
    match firestore {
        None => Store::open(&dir.join("state.db")).expect("open"),
        Some((emulator, prefix, machine)) => shared_store(
            &dir.join("state.db"),
            emulator,
            "store-test",
            prefix,
            machine,
        ),
    }
}

/// The SQLite store at `db` with its shared families in `emulator`'s `project` under `prefix`,
/// recording `machine` as the machine it runs on.
pub fn shared_store(
    db: &Path,
    emulator: &FirestoreEmulator,
    project: &str,
    prefix: &str,
    machine: &str,
) -> Store {
    Store::open(db)
        .expect("open")
        .with_shared(SharedSettings {
            firestore: FirestoreSettings {
                project: project.into(),
                database: "(default)".into(),
                endpoint: Endpoint::Emulator(emulator.host()),
            },
            prefix: prefix.into(),
            machine: machine.into(),
            lease: Duration::from_secs(5),
            policy: RetryPolicy::default(),
        })
        .expect("connect")
}

/// Runs `check` against a SQLite store and a Firestore one.
fn on_both(check: impl Fn(&Store, &str)) {
    let sqlite = tempfile::tempdir().expect("tempdir");
    check(&store_in(sqlite.path(), None), "sqlite");
    let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
    let shared = tempfile::tempdir().expect("tempdir");
    let store = store_in(shared.path(), Some((&firestore, "orch", "machine-a")));
    check(&store, "firestore");
    // The shared state is the only copy: the folder's own file holds none of it.
    let local = Store::open(&shared.path().join("state.db")).expect("open");
    assert!(
        local.state_rows().expect("rows").is_empty(),
        "kv stayed local"
    );
    assert!(
        local.ledger_entries().expect("ledger").is_empty(),
        "ledger stayed local"
    );
    assert!(
        local.breakers().expect("breakers").is_empty(),
        "breakers stayed local"
    );
    assert!(
        local.alerts().expect("alerts").is_empty(),
        "alerts stayed local"
    );
    assert!(
        local
            .recent_rate_limits(10)
            .expect("rate limits")
            .is_empty(),
        "rate limits stayed local"
    );
    assert!(
        local.budget_checks(10).expect("budget").is_empty(),
        "budget checks stayed local"
    );
}

#[test]
fn playbook_state_answers_alike_on_both_backends() {
    on_both(|store, backend| {
        assert_eq!(store.state_get("k1:a").expect("get"), None, "{backend}");
        store.state_set("k1:a", "s1:one", None).expect("set");
        store.state_set("k1:a", "s1:two", None).expect("set");
        store.state_set("k1:ab", "s1:three", None).expect("set");
        store.state_set("k1:b/c", "s1:four", None).expect("set");
        store.state_set("legacy.name", "5", None).expect("set");
        assert_eq!(
            store.state_get("k1:a").expect("get").as_deref(),
            Some("s1:two"),
            "{backend}"
        );
        assert_eq!(
            store.state_keys("k1:a").expect("keys"),
            ["k1:a", "k1:ab"],
            "{backend}"
        );
        assert_eq!(
            store.state_rows().expect("rows"),
            [
                ("k1:a".to_owned(), "s1:two".to_owned()),
                ("k1:ab".to_owned(), "s1:three".to_owned()),
                ("k1:b/c".to_owned(), "s1:four".to_owned()),
                ("legacy.name".to_owned(), "5".to_owned()),
            ],
            "{backend}"
        );
        assert!(store.state_delete("k1:a").expect("delete"), "{backend}");
        assert!(!store.state_delete("k1:a").expect("delete"), "{backend}");
        assert_eq!(
            store.state_keys("k1:a").expect("keys"),
            ["k1:ab"],
            "{backend}"
        );
    });
}

fn key(secret: &str, name: &str) -> LedgerKey {
    LedgerKey {
        gcp_secret: format!("projects/p/secrets/{secret}"),
        target: "acme/api".into(),
        github_name: name.into(),
    }
}

#[test]
fn the_sync_ledger_answers_alike_on_both_backends() {
    on_both(|store, backend| {
        let fp = "ab".repeat(32);
        let intent = LedgerIntent {
            kind: "push".into(),
            fingerprint: Some(fp.clone()),
            since: "2026-01-01T00:00:00Z".into(),
            github_updated_at: None,
        };
        store
            .ledger_intend(&[
                (key("db", "DB"), intent.clone()),
                (key("api", "API"), intent.clone()),
            ])
            .expect("intend");
        let rows = store.ledger_entries().expect("entries");
        assert_eq!(rows.len(), 2, "{backend}");
        assert_eq!(
            rows[0].key,
            key("api", "API"),
            "{backend}: ordered by secret"
        );
        assert_eq!(rows[1].intent.as_ref(), Some(&intent), "{backend}");
        assert_eq!(rows[1].fingerprint, None, "{backend}");

        let record = LedgerRecord {
            key: key("db", "DB"),
            fingerprint: fp.clone(),
            gcp_version: Some(3),
            github_updated_at: Some("2026-01-01T00:00:01Z".into()),
            direction: "push".into(),
        };
        store.ledger_record(&[record], None).expect("record");
        let rows = store.ledger_entries().expect("entries");
        let db = rows
            .iter()
            .find(|r| r.key == key("db", "DB"))
            .expect("db row");
        assert_eq!(db.fingerprint.as_deref(), Some(fp.as_str()), "{backend}");
        assert_eq!(db.gcp_version, Some(3), "{backend}");
        assert_eq!(db.direction.as_deref(), Some("push"), "{backend}");
        assert_eq!(db.intent, None, "{backend}: the record clears the intent");
        assert!(db.synced_at.is_some(), "{backend}");

        let hunter = LedgerRecord {
            key: key("db", "DB"),
            fingerprint: "hunter2hunter2".into(),
            gcp_version: None,
            github_updated_at: None,
            direction: "push".into(),
        };
        assert!(store.ledger_record(&[hunter], None).is_err(), "{backend}");

        let forgotten = store
            .ledger_forget(&[key("db", "DB"), key("gone", "GONE")])
            .expect("forget");
        assert_eq!(forgotten, 1, "{backend}");
        assert_eq!(
            store.ledger_entries().expect("entries").len(),
            1,
            "{backend}"
        );
    });
}

#[test]
fn a_plan_writes_no_shared_state_or_ledger() {
    on_both(|store, backend| {
        store.state_set("k1:kept", "s1:x", None).expect("set");
        let confined = store.confine_to_run_records();
        assert!(
            store.state_set("k1:new", "s1:y", None).is_err(),
            "{backend}"
        );
        assert!(store.state_delete("k1:kept").is_err(), "{backend}");
        let record = LedgerRecord {
            key: key("db", "DB"),
            fingerprint: "cd".repeat(32),
            gcp_version: None,
            github_updated_at: None,
            direction: "push".into(),
        };
        assert!(store.ledger_record(&[record], None).is_err(), "{backend}");
        // Reads stay real.
        assert_eq!(
            store.state_get("k1:kept").expect("get").as_deref(),
            Some("s1:x"),
            "{backend}"
        );
        drop(confined);
        store
            .state_set("k1:new", "s1:y", None)
            .expect("set after the plan");
        assert!(
            store.ledger_entries().expect("entries").is_empty(),
            "{backend}"
        );
    });
}

/// One more failure counted on breaker `name` (opening it at `threshold`), as
/// `clients::breaker` counts one: read, decide, write in one transaction.
fn count_failure(store: &Store, name: &str, threshold: u32) -> BreakerState {
    store
        .update_breaker(name, |current, now| {
            let mut next = current.unwrap_or(BreakerRecord {
                name: name.to_owned(),
                state: BreakerState::Closed,
                failures: 0,
                threshold,
                recovery_ms: 60_000,
                opened_at: None,
                last_error: None,
                updated_at: now,
            });
            next.failures += 1;
            next.last_error = Some(format!("failure {}", next.failures));
            next.updated_at = now;
            if next.failures >= threshold {
                next.state = BreakerState::Open;
                next.opened_at = Some(now);
            }
            (next.state, Some(next))
        })
        .expect("breaker")
}

#[test]
fn breakers_and_alerts_answer_alike_on_both_backends() {
    on_both(|store, backend| {
        assert!(store.breakers().expect("breakers").is_empty(), "{backend}");
        assert_eq!(count_failure(store, "github", 2), BreakerState::Closed);
        assert_eq!(count_failure(store, "github", 2), BreakerState::Open);
        assert_eq!(
            count_failure(store, "vector/search", 5),
            BreakerState::Closed
        );
        let breakers = store.breakers().expect("breakers");
        let names: Vec<_> = breakers.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["github", "vector/search"], "{backend}");
        assert_eq!(breakers[0].failures, 2, "{backend}");
        assert_eq!(breakers[0].opened_at, Some(breakers[0].updated_at));
        // A transition that writes nothing leaves the record as it was.
        let unchanged = store
            .update_breaker("github", |current, _| (current, None))
            .expect("read");
        assert_eq!(unchanged.as_ref(), breakers.first(), "{backend}");
        assert!(store.reset_breaker("github").expect("reset"), "{backend}");
        assert!(!store.reset_breaker("github").expect("reset"), "{backend}");

        assert_eq!(store.alert("rate-limit:core").expect("alert"), None);
        let mut alert = AlertRecord {
            key: "rate-limit:core".into(),
            severity: "warning".into(),
            message: "core at 10%".into(),
            changed_at: 5,
            last_sent_at: None,
            unsent: Some("core at 10%".into()),
        };
        store.put_alert(&alert).expect("put");
        assert_eq!(store.unsent_alerts().expect("unsent"), ["rate-limit:core"]);
        alert.unsent = None;
        alert.last_sent_at = Some(6);
        store.put_alert(&alert).expect("put");
        assert_eq!(store.alert("rate-limit:core").expect("alert"), Some(alert));
        assert!(
            store.unsent_alerts().expect("unsent").is_empty(),
            "{backend}"
        );
    });
}

#[test]
fn two_machines_count_one_breaker_without_losing_a_failure() {
    let machines = TwoMachines::start();
    let (store_a, store_b) = (&machines.a, &machines.b);
    const EACH: u32 = 6;
    std::thread::scope(|scope| {
        for store in [store_a, store_b] {
            scope.spawn(move || {
                for _ in 0..EACH {
                    count_failure(store, "github", 2 * EACH);
                }
            });
        }
    });
    // Every failure of both machines was counted once: no read-modify-write was lost.
    let seen_by_b = store_b.breakers().expect("breakers");
    assert_eq!(seen_by_b.len(), 1);
    assert_eq!(seen_by_b[0].failures, 2 * EACH);
    assert_eq!(seen_by_b[0].state, BreakerState::Open, "open for both");
    assert_eq!(store_a.breakers().expect("breakers"), seen_by_b);
}

/// An observation of `credential`'s core window at `at` with `remaining` left.
fn core_check(credential: &str, at: i64, remaining: i64) -> RateLimitCheck {
    RateLimitCheck {
        run_id: None,
        checked_at: at,
        credential: credential.into(),
        kind: "token".into(),
        resource: "core".into(),
        limit: 5000,
        remaining,
        used: 5000 - remaining,
        reset_at: 10_000,
        burn_per_hour: (at > 1).then_some(120.5),
        exhausts_at: None,
    }
}

#[test]
fn rate_limit_history_answers_alike_on_both_backends() {
    on_both(|store, backend| {
        assert_eq!(store.last_rate_limit("main", "core").expect("last"), None);
        for (at, remaining) in [(1, 4000), (2, 3500), (3, 3000)] {
            store
                .record_rate_limit(&core_check("main", at, remaining))
                .expect("record");
            store
                .record_rate_limit(&core_check("app/ci", at, remaining + 1))
                .expect("record");
        }
        let last = store.last_rate_limit("main", "core").expect("last");
        assert_eq!(last, Some(core_check("main", 3, 3000)), "{backend}");
        let recent = store.recent_rate_limits(2).expect("recent");
        let seen: Vec<(i64, &str)> = recent
            .iter()
            .map(|c| (c.checked_at, c.credential.as_str()))
            .collect();
        assert_eq!(
            seen,
            [(3, "app/ci"), (3, "main"), (2, "app/ci"), (2, "main")],
            "{backend}"
        );
        assert_eq!(store.recent_rate_limits(10).expect("all").len(), 6);
        assert_eq!(store.last_rate_limit("main", "search").expect("last"), None);
    });
}

#[test]
fn a_rate_limit_check_on_one_machine_is_the_last_one_on_another() {
    let machines = TwoMachines::start();
    let (store_a, store_b) = (&machines.a, &machines.b);
    store_a
        .record_rate_limit(&core_check("main", 1, 4000))
        .expect("record");
    assert_eq!(
        store_b.last_rate_limit("main", "core").expect("last"),
        Some(core_check("main", 1, 4000))
    );
    assert_eq!(
        store_b.recent_rate_limits(1).expect("recent"),
        [core_check("main", 1, 4000)]
    );
}

/// A `budget::status` check at `at` of `project`'s spend, with a model that has no price.
fn budget_check(project: &str, at: i64, spent: f64, level: BudgetLevel) -> BudgetCheck {
    BudgetCheck {
        run_id: None,
        checked_at: at,
        kind: BudgetCheckKind::Status,
        project: project.into(),
        period_start: 0,
        month: Some("1970-01".into()),
        month_zone: Some("America/Los_Angeles".into()),
        as_of: at,
        spent_usd: spent,
        budget_usd: Some(500.0),
        alert_at: Some(0.8),
        projected_usd: Some(spent * 2.5),
        level: Some(level),
        estimate_usd: None,
        within: None,
        unpriced: vec!["mystery-model".into()],
        per_model: vec![
            ModelSpend {
                model: "gemini-2.5-pro".into(),
                input_tokens: 1_200_000,
                output_tokens: 34_000,
                cost_usd: Some(spent),
            },
            ModelSpend {
                model: "mystery-model".into(),
                input_tokens: 7,
                output_tokens: 0,
                cost_usd: None,
            },
        ],
    }
}

#[test]
fn budget_history_answers_alike_on_both_backends() {
    on_both(|store, backend| {
        assert!(store.budget_checks(10).expect("checks").is_empty());
        let first = budget_check("p", 1, 12.5, BudgetLevel::Ok);
        // Two checks in one millisecond are both kept, the later one first.
        let second = budget_check("p", 2, 410.0, BudgetLevel::Warning);
        let within = BudgetCheck {
            kind: BudgetCheckKind::Within,
            estimate_usd: Some(3.25),
            within: Some(true),
            budget_usd: None,
            alert_at: None,
            projected_usd: None,
            level: None,
            unpriced: Vec::new(),
            per_model: Vec::new(),
            ..budget_check("p", 2, 410.0, BudgetLevel::Ok)
        };
        for check in [&first, &second, &within] {
            store.add_budget_check(check).expect("add");
        }
        assert_eq!(
            store.budget_checks(10).expect("checks"),
            [within.clone(), second.clone(), first.clone()],
            "{backend}"
        );
        assert_eq!(
            store.budget_checks(2).expect("checks"),
            [within, second],
            "{backend}"
        );
        let confined = store.confine_to_run_records();
        assert!(
            store.add_budget_check(&first).is_err(),
            "{backend}: a plan records no budget check"
        );
        drop(confined);
    });
}

#[test]
fn a_budget_check_on_one_machine_is_seen_on_another() {
    let machines = TwoMachines::start();
    let check = budget_check("shared-project", 5, 99.0, BudgetLevel::Ok);
    machines.a.add_budget_check(&check).expect("add");
    let later = budget_check("shared-project", 6, 120.0, BudgetLevel::Ok);
    machines.b.add_budget_check(&later).expect("add");
    // The same millisecond on both machines: two checks, neither replaces the other.
    machines.a.add_budget_check(&later).expect("add");
    let seen_by_b = machines.b.budget_checks(10).expect("checks");
    assert_eq!(seen_by_b, [later.clone(), later, check]);
    assert_eq!(machines.a.budget_checks(10).expect("checks"), seen_by_b);
}

#[test]
fn each_folder_records_its_own_machine() {
    let machines = TwoMachines::start();
    let run = |playbook: &str| NewRun {
        playbook: playbook.into(),
        source_hash: "0".repeat(64),
        args_json: "{}".into(),
        mode: RunMode::Apply,
        resumes: None,
    };
    let from_a = machines
        .a
        .start_run_with_lock("lock-a", &run("a.rhai"))
        .expect("start in A");
    let from_b = machines
        .b
        .start_run_with_lock("lock-b", &run("b.rhai"))
        .expect("start in B");
    let hosts: Vec<(String, String)> = machines
        .a
        .recent_runs(10)
        .expect("runs")
        .into_iter()
        .map(|r| (r.playbook, r.host))
        .collect();
    assert_eq!(
        hosts,
        [
            ("b.rhai".to_owned(), "machine-b".to_owned()),
            ("a.rhai".to_owned(), "machine-a".to_owned())
        ]
    );
    let holders = machines.b.locks().expect("locks");
    let machine_of = |name: &str| {
        holders
            .iter()
            .find(|(lock, _)| lock == name)
            .map(|(_, holder)| holder.describe())
            .unwrap_or_default()
    };
    assert!(machine_of("lock-a").contains("machine-a"), "{holders:?}");
    assert!(machine_of("lock-b").contains("machine-b"), "{holders:?}");
    machines
        .a
        .release_lock("lock-a", from_a.run_id)
        .expect("release in A");
    machines
        .b
        .release_lock("lock-b", from_b.run_id)
        .expect("release in B");
}

/// Two folders whose stores share one Firestore emulator under one prefix.
struct TwoMachines {
    a: Store,
    b: Store,
    _folders: [tempfile::TempDir; 2],
    _firestore: FirestoreEmulator,
}

impl TwoMachines {
    fn start() -> Self {
        let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
        let folders = [
            tempfile::tempdir().expect("tempdir"),
            tempfile::tempdir().expect("tempdir"),
        ];
        Self {
            a: store_in(folders[0].path(), Some((&firestore, "orch", "machine-a"))),
            b: store_in(folders[1].path(), Some((&firestore, "orch", "machine-b"))),
            _folders: folders,
            _firestore: firestore,
        }
    }
}
