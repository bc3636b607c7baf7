//! `orchestra migrate verify`: read-only checks with Terraform's detailed exit code — 0 as
//! declared, 2 drift (listed), 1 error — after hand changes to the emulator.

use crate::migrate_fixture::Migration;

fn enabled_services(migration: &Migration) -> String {
    migration.emulator.call(
        "GET",
        "/v1/projects/demo-project/services?filter=state:ENABLED",
        "",
    )
}

#[test]
fn verify_after_a_hand_disabled_api_exits_2_naming_it_and_changes_nothing() {
    let migration = Migration::new();
    migration
        .run(&["migrate", "execute", "--phase", "CORE_INFRASTRUCTURE"])
        .expect_code(0);
    migration
        .run(&["migrate", "verify", "--phase", "CORE_INFRASTRUCTURE"])
        .expect_code(0)
        .stdout_has("CORE_INFRASTRUCTURE: as declared");

    // Someone turns Cloud Run's API off by hand.
    migration.emulator.call(
        "POST",
        "/v1/projects/demo-project/services/run.googleapis.com:disable",
        "{}",
    );
    let drift = migration.run(&["migrate", "verify", "--phase", "CORE_INFRASTRUCTURE"]);
    drift
        .expect_code(2)
        .stdout_has("CORE_INFRASTRUCTURE: drift")
        .stdout_has("API of demo-project: run.googleapis.com: expected present, found missing");
    // A verify is a plan: the API stays off, and the phase's recorded status is unchanged.
    assert!(!enabled_services(&migration).contains("run.googleapis.com"));
    assert_eq!(migration.status_of("CORE_INFRASTRUCTURE"), "completed");

    let json = migration.run(&[
        "migrate",
        "verify",
        "--phase",
        "CORE_INFRASTRUCTURE",
        "--json",
    ]);
    json.expect_code(2);
    let outcome: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(outcome["phases"][0]["verdict"], "drift");
    assert_eq!(
        outcome["phases"][0]["drift"][0],
        "API of demo-project: run.googleapis.com: expected present, found missing"
    );

    // execute puts it back; verify agrees again.
    migration
        .run(&["migrate", "execute", "--phase", "CORE_INFRASTRUCTURE"])
        .expect_code(0);
    migration
        .run(&["migrate", "verify", "--phase", "CORE_INFRASTRUCTURE"])
        .expect_code(0);
}

#[test]
fn verify_of_every_phase_says_unknown_for_what_it_cannot_check_and_skips_the_skipped() {
    let migration = Migration::new();
    migration.run(&["migrate", "execute"]).expect_code(0);
    migration
        .run(&[
            "migrate",
            "skip",
            "AI_CODING",
            "--why",
            "each developer sets it up",
        ])
        .expect_code(0);
    let verify = migration.run(&["migrate", "verify"]);
    verify
        .expect_code(0)
        .stdout_has("CORE_INFRASTRUCTURE: as declared")
        .stdout_has("MEMORY_SYSTEM: as declared")
        .stdout_has("WORKSTATION_CONFIG: unknown: ")
        .stdout_has("AI_CODING: skipped: each developer sets it up")
        .stdout_has("VALIDATION: as declared");
}

#[test]
fn a_verify_playbook_that_fails_exits_1_with_its_file_and_line() {
    let migration = Migration::new();
    migration.project.file(
        "playbooks/migration/validation_verify.rhai",
        "// broken on purpose\nlet x = 1;\nthrow \"cannot read the targets\";\n",
    );
    migration
        .run(&["migrate", "verify", "--phase", "VALIDATION"])
        .expect_code(1)
        .stdout_has("VALIDATION: error: playbooks/migration/validation_verify.rhai:3:1")
        .stdout_has("cannot read the targets");
}

#[test]
fn hybrid_config_verify_names_an_endpoint_that_does_not_resolve_and_stays_unknown() {
    let migration =
        Migration::with_config("\n[endpoints.memory]\ndefault = \"http://127.0.0.1:9\"\n");
    migration.edit(|text| {
        text.replace(
            "depends_on = [\"CORE_INFRASTRUCTURE\"]\n\n[[phases]]\nname = \"AI_CODING\"",
            "depends_on = [\"CORE_INFRASTRUCTURE\"]\n\n[phases.settings]\nendpoints = [\"memory\"]\n\n[[phases]]\nname = \"AI_CODING\"",
        )
    });
    let declared = migration.run(&["migrate", "verify", "--phase", "HYBRID_CONFIG"]);
    declared.expect_code(0).stdout_has("HYBRID_CONFIG");
    assert!(!declared.stdout.contains("drift"), "{}", declared.stdout);

    // An endpoint the phase relies on that orchestra.toml does not define is drift.
    migration.edit(|text| {
        text.replace(
            "endpoints = [\"memory\"]",
            "endpoints = [\"memory\", \"vertex\"]",
        )
    });
    migration
        .run(&["migrate", "verify", "--phase", "HYBRID_CONFIG"])
        .expect_code(2)
        .stdout_has("endpoint vertex");
}
