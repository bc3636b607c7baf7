//! `orchestra runs` shows the migration phase each run belongs to (table, `--json` and
//! `runs show`), and nothing for a run that is not a phase's.

use crate::migrate_fixture::Migration;

#[test]
fn runs_name_the_phase_of_each_migration_run() {
    let migration = Migration::new();
    migration
        .run(&["migrate", "execute", "--phase", "CORE_INFRASTRUCTURE"])
        .expect_code(0);
    migration
        .project
        .playbook("plain.rhai", "print(\"hello\");");
    migration.run(&["play", "plain.rhai"]).expect_code(0);

    let table = migration.run(&["runs"]);
    table.expect_code(0).stdout_has("PHASE");
    let line_of = |playbook: &str| {
        table
            .stdout
            .lines()
            .find(|l| l.contains(playbook))
            .unwrap_or_else(|| panic!("no run of {playbook}:\n{}", table.stdout))
            .to_owned()
    };
    assert!(
        line_of("core_infrastructure.rhai").contains(" CORE_INFRASTRUCTURE "),
        "{}",
        table.stdout
    );
    assert!(
        !line_of("plain.rhai").contains("CORE_INFRASTRUCTURE"),
        "{}",
        table.stdout
    );

    let json = migration.run(&["runs", "--json"]);
    json.expect_code(0);
    let runs: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).expect("runs JSON");
    let phase_of = |playbook: &str| {
        runs.iter()
            .find(|r| {
                r["playbook"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(playbook))
            })
            .map(|r| r["phase"].clone())
            .unwrap_or_else(|| panic!("no run of {playbook}: {runs:?}"))
    };
    assert_eq!(phase_of("/core_infrastructure.rhai"), "CORE_INFRASTRUCTURE");
    assert_eq!(phase_of("plain.rhai"), serde_json::Value::Null);

    let id = runs
        .iter()
        .find(|r| r["phase"] == "CORE_INFRASTRUCTURE")
        .and_then(|r| r["id"].as_i64())
        .expect("a phase run id");
    migration
        .run(&["runs", "show", &id.to_string()])
        .expect_code(0)
        .stdout_has("phase:    CORE_INFRASTRUCTURE");
}
