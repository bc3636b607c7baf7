//! `iam::` primitives and `verify_key` against the emulator: a key works until it is disabled
//! or deleted, and can be staged in Secret Manager and pushed to GitHub without leaking.

use crate::harness::Project;

const CONFIG: &str = "[scope]\ngcp_projects = [\"demo-project\"]\ngithub_repos = [\"acme/api\"]\n";

#[test]
fn a_new_key_works_until_disabled_or_deleted() {
    let project = Project::new();
    project.config(CONFIG).playbook(
        "keys.rhai",
        r#"
let account = "deployer@demo-project.iam.gserviceaccount.com";
let key = iam::create_key(account);
print(`created ${key.id.len()}-char id; json ${key.json}`);
print(iam::verify_key(key.json));
secrets::create("deployer-key");
secrets::add_version("deployer-key", key.json, #{ alias: "pending" });
github::put_secret("acme/api", "GCP_SA_KEY", key.json);
iam::disable_key(account, key.id);
print(iam::verify_key(key.json));
iam::enable_key(account, key.id);
print(iam::verify_key(secrets::access("deployer-key", "pending")));
iam::delete_key(account, key.id);
print(iam::verify_key(key.json));
print(iam::list_keys(account).len());
"#,
    );
    let run = project.run(&["play", "keys", "--emulate"]);
    run.expect_code(0)
        .stdout_has("created 40-char id; json Secret(fp:")
        .stdout_has("works\nrefused\nworks\nrefused\n1");
    assert!(!run.stdout.contains("PRIVATE KEY") && !run.stderr.contains("PRIVATE KEY"));
}

#[test]
fn the_eleventh_key_fails_with_googles_error() {
    let project = Project::new();
    project.config(CONFIG).playbook(
        "many.rhai",
        "for i in 0..10 { iam::create_key(\"reader@demo-project.iam.gserviceaccount.com\"); }\n",
    );
    project
        .run(&["play", "many", "--emulate"])
        .expect_code(1)
        .stderr_has("iam::create_key failed (status 400): IAM answered FAILED_PRECONDITION: Precondition check failed.");
}

#[test]
fn a_bad_account_or_project_is_refused_first() {
    let project = Project::new();
    project.config(CONFIG).playbook(
        "bad.rhai",
        "try { iam::list_keys(\"nobody\"); } catch (e) { print(e.message); }\ntry { iam::list_keys(\"x@prod.iam.gserviceaccount.com\"); } catch (e) { print(e.message); }\n",
    );
    project
        .run(&["play", "bad", "--emulate"])
        .expect_code(0)
        .stdout_has(
            "expected a service account as NAME@PROJECT.iam.gserviceaccount.com (NAME: up to 30 lowercase letters, digits and hyphens), found 'nobody'",
        )
        .stdout_has("project prod is outside the scope: add \"prod\" to [scope].gcp_projects");
}
