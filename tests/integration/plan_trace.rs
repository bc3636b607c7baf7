//! A plan leaves no trace but its own run record: every table of `state.db` other than runs,
//! steps, events and locks is the same before and after a plan that calls every primitive.

use std::collections::BTreeMap;

use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, Project, Run};

/// Every primitive, reads real and mutations planned; failures inside breakers on purpose.
const EVERYTHING: &str = r#"
let sa = "deployer@demo-project.iam.gserviceaccount.com";
let attempt = |f| { try { f.call() } catch (e) { print(`${e}`); () } };
state::set("trace.k", #{ n: 1 });
state::delete("trace.old");
print(state::get("trace.k", 0));
print(state::keys("trace."));
let row = #{ gcp: "db-password", target: "acme/api", github: "DB_PASSWORD", kind: "push", fingerprint: "abababababababababababababababababababababababababababababababab", version: 1, direction: "gcp-to-github" };
ledger::intend([row]);
ledger::record([row]);
ledger::forget([#{ gcp: "other", target: "acme/api", github: "OTHER" }]);
print(ledger::entries().len());
// Names and services the real run never touched, so any write by the plan would be new.
let fresh = if run::is_plan() { "plan-only" } else { "real-only" };
for i in 0..4 {
    try { breaker::guard(`${fresh}-breaker`, #{ threshold: 2, recovery: 60 }, || throw "down"); } catch (e) {}
}
print(breaker::state(`${fresh}-breaker`));
print(breaker::guard(`${fresh}-closed`, #{}, || 1));
attempt.call(|| github::rate_limit());
attempt.call(|| github::list_secrets("acme/api"));
attempt.call(|| github::put_secret("acme/api", "X", secret::generate(16)));
attempt.call(|| github::put_secrets("acme/api", #{ Y: secret::generate(16) }));
attempt.call(|| github::delete_secret("acme/api", "X"));
attempt.call(|| github::check_token(secret::from_env("ORCHESTRA_TEST_GITHUB_TOKEN")));
attempt.call(|| github::revoke_token(secret::generate(16)));
attempt.call(|| github::dispatch_workflow("acme/api", "deploy.yml", "main", #{}));
attempt.call(|| secrets::list(""));
attempt.call(|| secrets::access("no-such-secret"));
attempt.call(|| secrets::versions("vertex-budget"));
attempt.call(|| secrets::aliases("vertex-budget"));
attempt.call(|| secrets::create("trace-secret"));
attempt.call(|| secrets::add_version("trace-secret", secret::generate(16), #{ alias: "pending" }));
attempt.call(|| secrets::set_alias("trace-secret", "current", 1));
attempt.call(|| secrets::disable("trace-secret", 1));
attempt.call(|| secrets::enable("trace-secret", 1));
attempt.call(|| secrets::destroy("trace-secret", 1));
attempt.call(|| secret_sync::read_sources(["vertex-budget"]));
attempt.call(|| iam::list_keys(sa));
let key = iam::create_key(sa);
attempt.call(|| iam::verify_key(key.json));
attempt.call(|| iam::disable_key(sa, "0a"));
attempt.call(|| iam::enable_key(sa, "0a"));
attempt.call(|| iam::delete_key(sa, "0a"));
attempt.call(|| monitor::github_rate_limits());
if run::is_plan() {
    attempt.call(|| budget::usage());
    attempt.call(|| budget::status());
    attempt.call(|| budget::within(1.0));
}
attempt.call(|| notify::slack("ops", "plan"));
attempt.call(|| notify::alert("trace", "critical", "plan"));
print("end of plan");
"#;

/// Every table's rows as text, by table name.
fn tables(project: &Project) -> BTreeMap<String, Vec<String>> {
    let db = rusqlite::Connection::open(project.path().join(".orchestra/state.db")).expect("db");
    let names: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("tables")
        .query_map([], |row| row.get(0))
        .expect("names")
        .map(|n| n.expect("name"))
        .collect();
    names
        .into_iter()
        .map(|name| {
            let mut stmt = db
                .prepare(&format!("SELECT * FROM \"{name}\""))
                .expect("select");
            let columns = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |row| {
                    Ok((0..columns)
                        .map(|i| format!("{:?}", row.get_ref(i).map(|v| v.data_type())))
                        .zip((0..columns).map(|i| {
                            row.get_ref(i)
                                .map(|v| match v {
                                    rusqlite::types::ValueRef::Text(t) => {
                                        String::from_utf8_lossy(t).into_owned()
                                    }
                                    other => format!("{other:?}"),
                                })
                                .unwrap_or_default()
                        }))
                        .map(|(kind, value)| format!("{kind}={value}"))
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .expect("rows")
                .map(|r| r.expect("row"))
                .collect();
            rows.sort();
            (name, rows)
        })
        .collect()
}

fn play(project: &Project, emulator: &EmulatorProcess, args: &[&str]) -> Run {
    Run::from(
        project
            .command()
            .args(["play", "everything"])
            .args(args)
            .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
            .env("OPS_WEBHOOK", format!("{}/slack/ops", emulator.url()))
            .output()
            .expect("run"),
    )
}

#[test]
fn a_plan_that_calls_every_primitive_changes_no_table_but_its_run_record() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    let url = emulator.url();
    project
        .config(&emulator.config(&format!(
            "[scope]\ngcp_projects = [\"demo-project\"]\ngithub_repos = [\"acme/api\"]\n\
             env = [\"ORCHESTRA_TEST_GITHUB_TOKEN\"]\n\n\
             [gcp]\nproject = \"demo-project\"\nsecret_manager_url = \"{url}\"\niam_url = \"{url}\"\n\
             monitoring_url = \"{url}\"\ncredentials = \"anonymous\"\ntoken_uris = [\"{url}/token\"]\n\n\
             [notify]\nalerts_channel = \"ops\"\n\n[notify.slack.ops]\nwebhook_env = \"OPS_WEBHOOK\"\n"
        )))
        .playbook("everything.rhai", EVERYTHING);

    // A real run first, so every table has rows a plan could disturb.
    play(&project, &emulator, &[]).expect_code(0);
    let before = tables(&project);
    for table in [
        "state",
        "breakers",
        "alerts",
        "sync_ledger",
        "rate_limit_checks",
    ] {
        assert!(
            !before.get(table).is_none_or(Vec::is_empty) || table == "sync_ledger",
            "the real run left no rows in {table}: {before:?}"
        );
    }

    let plan = play(&project, &emulator, &["--plan"]);
    plan.expect_code(0).stdout_has("end of plan");
    let after = tables(&project);

    let own = ["runs", "steps", "events", "locks"];
    for (table, rows) in &before {
        if own.contains(&table.as_str()) {
            continue;
        }
        assert_eq!(
            Some(rows),
            after.get(table),
            "the plan changed table {table}"
        );
    }
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the plan created or dropped a table"
    );
}
