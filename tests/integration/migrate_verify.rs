//! `orchestra migrate verify`: read-only checks with Terraform's detailed exit code — 0 as
//! declared, 2 drift (listed), 1 error — after hand changes to the emulator.

use crate::harness::closed_host;
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
fn a_bad_orchestra_toml_makes_verify_exit_1_naming_where_never_2() {
    let migration = Migration::new();
    let path = migration.project.path().join("orchestra.toml");
    let text = std::fs::read_to_string(&path).expect("orchestra.toml");
    let duplicated = text.replacen(
        "project = \"demo-project\"\n",
        "project = \"demo-project\"\nproject = \"again\"\n",
        1,
    );
    assert_ne!(duplicated, text, "the config names its project");
    std::fs::write(&path, duplicated).expect("write orchestra.toml");
    let verify = migration.run(&["migrate", "verify"]);
    verify.expect_code(1).stderr_has("orchestra.toml:3:1");
    assert!(
        verify.stdout.is_empty(),
        "nothing verified: {}",
        verify.stdout
    );
}

/// Points `[endpoints.memory]` at `url` and lists `hosts` in `[scope].http_hosts`.
fn memory_endpoint_at(migration: &Migration, url: &str, hosts: &[&str]) {
    let path = migration.project.path().join("orchestra.toml");
    let text = std::fs::read_to_string(&path).expect("orchestra.toml");
    let text: String = text
        .lines()
        .filter(|line| !line.starts_with("http_hosts = "))
        .map(|line| format!("{line}\n"))
        .collect();
    let listed: Vec<String> = hosts.iter().map(|h| format!("\"{h}\"")).collect();
    let text = text.replace(
        "gcp_projects = [\"demo-project\"]\n",
        &format!(
            "gcp_projects = [\"demo-project\"]\nhttp_hosts = [{}]\n",
            listed.join(", ")
        ),
    );
    let text = match text.split_once("\n[endpoints.memory]") {
        Some((before, _)) => before.to_owned(),
        None => text,
    };
    std::fs::write(
        &path,
        format!("{text}\n[endpoints.memory]\ndefault = \"{url}\"\n"),
    )
    .expect("write orchestra.toml");
}

#[test]
fn hybrid_config_verify_probes_each_endpoint_and_names_one_that_is_missing_or_refuses() {
    let migration = Migration::new();
    let emulator_host = migration.emulator.url().replace("http://", "");
    let serving = format!(
        "{}/run.app/demo-project/europe-west1/api",
        migration.emulator.url()
    );
    memory_endpoint_at(&migration, &serving, &[&emulator_host]);
    migration.edit(|text| {
        text.replace(
            "depends_on = [\"CORE_INFRASTRUCTURE\"]\n\n[[phases]]\nname = \"AI_CODING\"",
            "depends_on = [\"CORE_INFRASTRUCTURE\"]\n\n[phases.settings]\nendpoints = [\"memory\"]\n\n[[phases]]\nname = \"AI_CODING\"",
        )
    });
    // The endpoint resolves and answers: nothing is left unchecked.
    migration
        .run(&["migrate", "verify", "--phase", "HYBRID_CONFIG"])
        .expect_code(0)
        .stdout_has("HYBRID_CONFIG: as declared");

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

    // One that resolves to a port nobody listens on is drift naming the host.
    let host = closed_host();
    memory_endpoint_at(&migration, &format!("http://{host}/"), &[&host]);
    migration.edit(|text| text.replace(", \"vertex\"", ""));
    migration
        .run(&["migrate", "verify", "--phase", "HYBRID_CONFIG"])
        .expect_code(2)
        .stdout_has(&format!(
            "http://{host}/: expected answers, found {host} refused the connection"
        ));
}
