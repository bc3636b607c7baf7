//! Regional secrets (`projects/P/locations/L/secrets/ID`) as their own namespace, addressed
//! from `[[sync.secrets]]` and from the `secrets::` primitives rotations use.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::harness::Project;
use crate::sync_fixture::{SyncWorld, entry};

const REGIONAL: &str = "projects/demo-project/locations/us-east1/secrets/db-password";

#[test]
fn sync_pushes_the_regional_secret_not_the_global_one_of_the_same_id() {
    let world = SyncWorld::new(&entry(REGIONAL, "DB_PASSWORD", &["acme/api"]));
    world.gcp_write(
        "db-password",
        "global-value",
        r#"{"managed-by":"orchestra"}"#,
    );
    let emulator = &world.emulator;
    emulator.call(
        "POST",
        "/v1/projects/demo-project/locations/us-east1/secrets?secretId=db-password",
        r#"{"labels":{"managed-by":"orchestra"}}"#,
    );
    let added = emulator.call(
        "POST",
        &format!("/v1/{REGIONAL}:addVersion"),
        &format!(
            r#"{{"payload":{{"data":"{}"}}}}"#,
            STANDARD.encode("regional-value")
        ),
    );
    assert!(
        added.contains("/locations/us-east1/secrets/db-password/versions/1"),
        "{added}"
    );
    world
        .sync(&["--arg", "direction=gcp-to-github"])
        .expect_code(0)
        .stdout_has("DB_PASSWORD -> acme/api: pushed");
    assert_eq!(
        world.github_value("acme/api", "DB_PASSWORD").as_deref(),
        Some("regional-value")
    );
}

#[test]
fn a_regional_secret_takes_versions_and_aliases_as_a_rotation_writes_them() {
    let project = Project::new();
    project
        .config("[scope]\ngcp_projects = [\"demo-project\"]\n\n[[rotations.service_accounts]]\naccount = \"deployer@demo-project.iam.gserviceaccount.com\"\nsecret = \"projects/demo-project/locations/us-east1/secrets/deployer-key\"\n")
        .playbook(
            "regional.rhai",
            r#"
let name = "projects/demo-project/locations/us-east1/secrets/deployer-key";
secrets::create(name);
let one = secrets::add_version(name, secret::generate(24), #{ alias: "pending" });
secrets::set_alias(name, "current", one);
print(`${one} ${secrets::aliases(name)}`);
try { secrets::access("projects/demo-project/secrets/deployer-key"); } catch (e) { print(`global ${e.status}`); }
print(secrets::access(name, "current").fingerprint() == secrets::access(name).fingerprint());
"#,
        );
    project
        .run(&["play", "regional", "--emulate"])
        .expect_code(0)
        .stdout_has("1 #{\"current\": 1, \"pending\": 1}")
        .stdout_has("global 404")
        .stdout_has("true");
}

#[test]
fn a_malformed_regional_name_in_sync_is_refused_naming_the_field() {
    let project = Project::new();
    project
        .config(&entry(
            "projects/demo-project/locations/US_EAST/secrets/x",
            "X",
            &["acme/api"],
        ))
        .playbook("noop.rhai", "print(1);\n");
    project
        .run(&["play", "noop"])
        .expect_code(2)
        .stderr_has("sync.secrets[0].gcp: expected a secret id, projects/PROJECT/secrets/ID or projects/PROJECT/locations/LOCATION/secrets/ID");
}
