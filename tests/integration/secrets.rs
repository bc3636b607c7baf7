//! `secrets::` primitives through Google's official client against the emulator.

use crate::harness::Project;

const CONFIG: &str = "[scope]\ngcp_projects = [\"demo-project\"]\ngithub_repos = [\"acme/api\"]\n";

#[test]
fn versions_aliases_and_states_through_the_official_client() {
    let project = Project::new();
    project.config(CONFIG).playbook(
        "sm.rhai",
        r#"
secrets::create("deploy-key");
let one = secrets::add_version("deploy-key", secret::generate(24), #{ alias: "current" });
let two = secrets::add_version("deploy-key", secret::generate(24), #{ alias: "pending" });
print(`${one} ${two} ${secrets::aliases("deploy-key")}`);
let pending = secrets::access("deploy-key", "pending");
let latest = secrets::access("deploy-key");
if pending.fingerprint() != latest.fingerprint() { throw "pending should be the latest"; }
secrets::set_alias("deploy-key", "current", two);
print(secrets::disable("deploy-key", one));
try { secrets::access("deploy-key", one); } catch (e) { print(`refused ${e.status}`); }
for v in secrets::versions("deploy-key") { print(`${v.version}:${v.state}`); }
"#,
    );
    project
        .run(&["play", "sm", "--emulate"])
        .expect_code(0)
        .stdout_has("1 2 #{\"current\": 1, \"pending\": 2}")
        .stdout_has("DISABLED\nrefused 400\n2:ENABLED\n1:DISABLED");
}

#[test]
fn a_project_outside_the_scope_is_refused() {
    let project = Project::new();
    project.config(CONFIG).playbook(
        "out.rhai",
        "secrets::access(\"projects/prod-project/secrets/db\");\n",
    );
    project
        .run(&["play", "out", "--emulate"])
        .expect_code(1)
        .stderr_has("secrets::access failed: project prod-project is outside the scope: add \"prod-project\" to [scope].gcp_projects");
}

#[test]
fn plan_mode_adds_no_version() {
    let project = Project::new();
    project.config(CONFIG).playbook(
        "plan.rhai",
        "secrets::create(\"k\");\nlet n = secrets::add_version(\"k\", secret::generate(16), #{ alias: \"pending\" });\nprint(`placeholder ${n}`);\n",
    );
    project
        .run(&["play", "plan", "--emulate", "--plan"])
        .expect_code(0)
        .stdout_has("placeholder 0")
        .stdout_has("1. would create Secret Manager secret projects/demo-project/secrets/k")
        .stdout_has("2. would add a version to projects/demo-project/secrets/k");
}

#[test]
fn values_read_from_secret_manager_never_leak() {
    let project = Project::new();
    project
        .config(&format!("{CONFIG}env = [\"KNOWN\"]\n"))
        .playbook(
            "flow.rhai",
            r#"
secrets::create("known");
secrets::add_version("known", secret::from_env("KNOWN"), #{});
let back = secrets::access("known");
print(`read ${back}`);
debug(back);
github::put_secret("acme/api", "KNOWN", back);
try { state::set("k", back); } catch (e) { print(e.message); }
throw `failing on purpose with ${back}`;
"#,
        );
    let value = "known-value-that-must-not-leak-7f3a";
    let output = project
        .command()
        .args([
            "-vv",
            "--log-file",
            ".orchestra/run.log",
            "play",
            "flow",
            "--emulate",
        ])
        .env("KNOWN", value)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let mut places = vec![
        ("stdout".to_owned(), output.stdout.clone()),
        ("stderr".to_owned(), output.stderr.clone()),
    ];
    for entry in std::fs::read_dir(project.path().join(".orchestra"))
        .expect("dir")
        .flatten()
    {
        places.push((
            entry.path().display().to_string(),
            std::fs::read(entry.path()).expect("read"),
        ));
    }
    for (place, bytes) in places {
        let found = bytes.windows(value.len()).any(|w| w == value.as_bytes());
        assert!(!found, "the value leaked into {place}");
    }
    assert!(String::from_utf8_lossy(&output.stdout).contains("read Secret(fp:"));
}

#[test]
fn access_many_reads_every_secret() {
    let project = Project::new();
    project.config(CONFIG).playbook(
        "many.rhai",
        r#"
let names = [];
for i in 0..12 {
    let name = `s-${i}`;
    secrets::create(name);
    secrets::add_version(name, secret::generate(16), #{});
    names.push(name);
}
let read = secrets::access_many(names);
print(`${read.len()} ${type_of(read["s-3"])}`);
try { secrets::access_many(["s-1", "missing"]); } catch (e) { print(e.message); }
"#,
    );
    project
        .run(&["play", "many", "--emulate"])
        .expect_code(0)
        .stdout_has("12 Secret")
        .stdout_has("1 of 2 reads failed: missing (Secret Manager answered NOT_FOUND");
}

#[test]
fn list_filters_by_label() {
    let project = Project::new();
    project.config(CONFIG).playbook(
        "list.rhai",
        r#"
secrets::create("ours");
for s in secrets::list("labels.managed-by=orchestra") { print(`${s.id} ${s.labels["managed-by"]}`); }
print(secrets::list("").len());
"#,
    );
    project
        .run(&["play", "list", "--emulate"])
        .expect_code(0)
        .stdout_has("ours orchestra\n2"); // and the demo's vertex-budget
}
