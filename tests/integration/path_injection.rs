//! Hostile names never leave the GitHub scope: an environment, workflow or organisation name
//! with `..`, encoded slashes or dots is refused at the edge with the field and what it
//! expects, and the emulator's request log shows that nothing outside `acme/api` reached the
//! wire.

use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, Project, Run};

const SCOPE: &str = "[scope]\ngithub_repos = [\"acme/api\"]\n";

/// Runs `script` against a fresh emulator; the run and every request path the emulator saw.
fn play(script: &str, extra: &[&str]) -> (Run, Vec<String>) {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    project
        .config(&emulator.config(SCOPE))
        .playbook("hostile.rhai", script);
    let mut args = vec!["play", "hostile"];
    args.extend_from_slice(extra);
    let output = project
        .command()
        .args(&args)
        .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
        .output()
        .expect("run orchestra");
    let log: serde_json::Value =
        serde_json::from_str(&emulator.call("GET", "/_emulator/requests", "")).expect("log");
    let paths = log["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| r["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    (Run::from(output), paths)
}

/// Asserts every logged request addressed acme/api (or the credential itself).
fn all_inside_acme_api(paths: &[String]) {
    for path in paths {
        let inside = path.starts_with("/repos/acme/api/") && !path.contains("..");
        assert!(
            inside || path == "/rate_limit",
            "out of scope on the wire: {path}"
        );
        assert!(!path.to_ascii_lowercase().contains("%2e"), "{path}");
    }
}

/// A playbook that tries each target with `call` and prints each refusal.
fn each_target(targets: &[&str], call: &str) -> String {
    targets
        .iter()
        .map(|t| {
            format!(
                "try {{ {} }} catch (e) {{ print(`refused: ${{e.message}}`); }}\n",
                call.replace("TARGET", t)
            )
        })
        .collect()
}

const HOSTILE_ENVIRONMENTS: &[&str] = &[
    "acme/api:../../../repos/evil/x",
    "acme/api:..%2F..%2F..%2Frepos%2Fevil%2Fx",
    "acme/api:%2e%2e/%2e%2e/%2e%2e/repos/evil/x",
    "acme/api:%2e%2e%2F%2e%2e%2F%2e%2e%2Frepos%2Fevil%2Fx",
    "acme/api:prod/../../../../repos/evil/x",
];

#[test]
fn a_sealed_put_to_an_environment_with_dot_segments_is_refused_before_any_request() {
    let script = each_target(
        HOSTILE_ENVIRONMENTS,
        "github::put_secret(\"TARGET\", \"STOLEN\", secret::generate(16));",
    );
    let (run, paths) = play(&script, &[]);
    run.expect_code(0);
    assert_eq!(
        run.stdout.matches("refused: ").count(),
        HOSTILE_ENVIRONMENTS.len(),
        "{}",
        run.stdout
    );
    for line in run.stdout.lines() {
        assert!(
            line.contains("target environment: expected an environment name"),
            "{line}"
        );
        assert!(line.contains("no empty, . or .. part"), "{line}");
    }
    assert!(paths.is_empty(), "requests reached the emulator: {paths:?}");
}

#[test]
fn list_and_delete_with_hostile_environments_send_nothing_even_in_plan_mode() {
    let mut script = each_target(HOSTILE_ENVIRONMENTS, "github::list_secrets(\"TARGET\");");
    script.push_str(&each_target(
        HOSTILE_ENVIRONMENTS,
        "github::delete_secret(\"TARGET\", \"DEPLOY_KEY\");",
    ));
    for mode in [&[][..], &["--plan"][..]] {
        let (run, paths) = play(&script, mode);
        run.expect_code(0);
        assert_eq!(
            run.stdout.matches("target environment: expected").count(),
            2 * HOSTILE_ENVIRONMENTS.len(),
            "{}",
            run.stdout
        );
        assert!(paths.is_empty(), "requests reached the emulator: {paths:?}");
    }
}

#[test]
fn a_workflow_name_with_a_path_is_refused_before_any_request() {
    let workflows = [
        "../../../../repos/evil/x/actions/workflows/a.yml",
        "..%2F..%2F..%2F..%2Frepos%2Fevil%2Fx%2Factions%2Fworkflows%2Fa.yml",
        "%2e%2e/a.yml",
        "a.yml?ref=evil",
    ];
    let script: String = workflows
        .iter()
        .map(|w| {
            format!(
                "try {{ github::dispatch_workflow(\"acme/api\", \"{w}\", \"main\", #{{}}); }} catch (e) {{ print(`refused: ${{e.message}}`); }}\n"
            )
        })
        .collect();
    let (run, paths) = play(&script, &[]);
    run.expect_code(0);
    assert_eq!(
        run.stdout
            .matches("refused: workflow: expected a workflow file name such as deploy.yml")
            .count(),
        workflows.len(),
        "{}",
        run.stdout
    );
    assert!(paths.is_empty(), "requests reached the emulator: {paths:?}");
}

#[test]
fn an_organisation_or_repository_with_a_path_is_refused() {
    let targets = [
        "org:acme/../../repos/evil/x",
        "org:%2e%2e",
        "acme/api%2F..%2F..%2Fevil",
        "acme/..:prod",
    ];
    let script = each_target(&targets, "github::list_secrets(\"TARGET\");");
    let (run, paths) = play(&script, &[]);
    run.expect_code(0)
        .stdout_has("refused: target organisation: expected 1-39 letters, digits and -")
        .stdout_has("refused: target repository: expected 1-100 letters, digits and - _ .");
    assert_eq!(run.stdout.matches("refused: ").count(), targets.len());
    assert!(paths.is_empty(), "requests reached the emulator: {paths:?}");
}

#[test]
fn an_environment_name_with_a_slash_goes_out_as_one_segment_of_its_repository() {
    let script = "try { github::list_secrets(\"acme/api:review/web\"); } catch (e) { print(`answered: ${e.message}`); }\nprint(github::list_secrets(\"acme/api:production\").len());\n";
    let (run, paths) = play(script, &[]);
    run.expect_code(0);
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/repos/acme/api/environments/review%2Fweb/secrets?")),
        "{paths:?}"
    );
    all_inside_acme_api(&paths);
}
