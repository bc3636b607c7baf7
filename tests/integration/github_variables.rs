//! `github::` Actions variables at a repository and at one of its environments: set (created,
//! then updated), read back, listed, deleted; a name GitHub refuses is refused first.

use crate::harness::Project;

#[test]
fn variables_are_set_read_back_and_deleted_at_a_repository_and_an_environment() {
    let project = Project::new();
    project
        .config("[scope]\ngithub_repos = [\"acme/api\"]\n")
        .playbook(
            "vars.rhai",
            r#"
for target in ["acme/api", "acme/api:production"] {
    print(`${target} ${github::set_variable(target, "gcp_region", "europe-west1")}`);
    print(`${target} ${github::set_variable(target, "GCP_REGION", "europe-west4")}`);
    print(`${target} read ${github::variable(target, "GCP_REGION")}`);
    print(`${target} listed ${github::variables(target).GCP_REGION}`);
    print(`${target} deleted ${github::delete_variable(target, "GCP_REGION")} then ${github::delete_variable(target, "GCP_REGION")}`);
    print(`${target} gone ${github::variable(target, "GCP_REGION") == ()}`);
}
try { github::set_variable("acme/api:staging", "X", "1"); } catch (e) { print(e.message); }
try { github::set_variable("acme/api", "GITHUB_X", "1"); } catch (e) { print(e.message); }
"#,
        );
    project
        .run(&["play", "vars", "--emulate"])
        .expect_code(0)
        .stdout_has("acme/api created\nacme/api updated\nacme/api read europe-west4\nacme/api listed europe-west4\nacme/api deleted true then false\nacme/api gone true")
        .stdout_has("acme/api:production created\nacme/api:production updated\nacme/api:production read europe-west4")
        .stdout_has("acme/api:production deleted true then false")
        .stdout_has("404")
        .stdout_has("variable name");
}
