//! `cloudrun::` against a separate emulator process: the demo service as it is, then changed by
//! hand under orchestra (the drift a migration's verify must see); the same reads under
//! `--plan`; a missing service; a project outside the scope refused before any request.

use crate::harness::{EmulatorProcess, Project};

const SHOW: &str = r#"
let s = cloudrun::service();
print(`ready=${s.ready} cpu=${s.cpu} memory=${s.memory} min=${s.min_instances} max=${s.max_instances} concurrency=${s.concurrency}`);
print(`status=${s.status} message=${s.message} revision=${s.revision}`);
print(`url=${s.url}`);
for c in s.conditions { print(`condition ${c.type}=${c.state} ${c.reason}`); }
"#;

fn project_at(emulator: &EmulatorProcess, scope: &str) -> Project {
    let project = Project::new();
    project.config(&format!(
        "[gcp]\nproject = \"demo-project\"\nrun_url = \"{}\"\ncredentials = \"anonymous\"\n\n\
         [scope]\ngcp_projects = [{scope}]\n\n\
         [cloud_run]\nservice = \"api\"\nregion = \"europe-west1\"\n",
        emulator.url()
    ));
    project
}

#[test]
fn the_service_reads_as_seeded_then_as_changed_by_hand() {
    let setup = Project::new();
    let emulator = EmulatorProcess::start(&setup);
    let project = project_at(&emulator, "\"demo-project\"");
    project.playbook("show.rhai", SHOW);
    let before = project.run(&["play", "show.rhai"]);
    before
        .expect_code(0)
        .stdout_has("ready=true cpu=1 memory=512Mi min=1 max=10 concurrency=80")
        .stdout_has("status=CONDITION_SUCCEEDED message= revision=api-00001-")
        .stdout_has(&format!(
            "url={}/run.app/demo-project/europe-west1/api",
            emulator.url()
        ))
        .stdout_has("condition Ready=CONDITION_SUCCEEDED")
        .stdout_has("condition RoutesReady=CONDITION_SUCCEEDED");

    let changed = emulator.call(
        "PATCH",
        "/_emulator/google/run/services/demo-project/europe-west1/api",
        r#"{"memory": "1Gi", "max_instances": 4, "ready": false, "reason": "CONTAINER_MISSING",
            "message": "Image 'api:1.4.3' not found."}"#,
    );
    assert!(changed.contains("\"generation\":\"2\""), "{changed}");
    let after = project.run(&["play", "show.rhai"]);
    after
        .expect_code(0)
        .stdout_has("ready=false cpu=1 memory=1Gi min=1 max=4 concurrency=80")
        .stdout_has("status=CONDITION_FAILED message=Image 'api:1.4.3' not found. revision=")
        .stdout_has("condition Ready=CONDITION_FAILED CONTAINER_MISSING");
}

#[test]
fn a_plan_reads_the_service_for_real() {
    let setup = Project::new();
    let emulator = EmulatorProcess::start(&setup);
    let project = project_at(&emulator, "\"demo-project\"");
    project.playbook("show.rhai", SHOW);
    project
        .run(&["play", "show.rhai", "--plan"])
        .expect_code(0)
        .stdout_has("ready=true cpu=1 memory=512Mi min=1 max=10 concurrency=80");
}

#[test]
fn a_missing_service_is_unit_and_every_region_is_listed() {
    let setup = Project::new();
    let emulator = EmulatorProcess::start(&setup);
    emulator.call(
        "PUT",
        "/_emulator/google/run/services/demo-project/us-central1/worker",
        r#"{"cpu": "2"}"#,
    );
    let project = project_at(&emulator, "\"demo-project\"");
    project.playbook(
        "missing.rhai",
        r#"
        print(`missing=${cloudrun::service("nosuch") == ()}`);
        print(`elsewhere=${cloudrun::service("api", "us-central1") == ()}`);
        for s in cloudrun::services("-") { print(`listed ${s.region}/${s.name} cpu=${s.cpu}`); }
        "#,
    );
    project
        .run(&["play", "missing.rhai"])
        .expect_code(0)
        .stdout_has("missing=true")
        .stdout_has("elsewhere=true")
        .stdout_has("listed europe-west1/api cpu=1")
        .stdout_has("listed us-central1/worker cpu=2");
}

#[test]
fn a_project_outside_the_scope_is_refused_before_any_request() {
    let setup = Project::new();
    let emulator = EmulatorProcess::start(&setup);
    let project = project_at(&emulator, "\"other-project\"");
    project.playbook("show.rhai", SHOW);
    project
        .run(&["play", "show.rhai"])
        .expect_code(1)
        .stderr_has("project demo-project is outside the scope")
        .stderr_has("show.rhai:2");
    let log = emulator.call("GET", "/_emulator/requests", "");
    assert!(!log.contains("/v2/"), "a request left: {log}");
}
