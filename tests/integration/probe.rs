//! `http::probe` and `cloudrun::serves` against a separate emulator process and local
//! listeners: an in-scope URL answering 200, then 503 once the service is made not ready by
//! hand; a closed port named as refusing; a host outside `[scope].http_hosts` refused before
//! any request; a redirect never followed; and the same read under `--plan`.

use crate::harness::{EmulatorProcess, Project, closed_host};
use crate::redirects::Server;

const PROBE: &str = r#"
let answer = http::probe(url);
print(`status=${answer.status} answers=${answer.answers} reason=${answer.reason}`);
print(`latency_is_int=${type_of(answer.latency_ms) == "i64"}`);
"#;

/// A fresh emulator and a project whose Cloud Run is that emulator's, whose
/// `[scope].http_hosts` lists the emulator's host and `extra_hosts`, and whose `probe.rhai`
/// probes the URL `url_of` gives for the emulator's base URL.
fn probing(
    url_of: impl FnOnce(&str) -> String,
    extra_hosts: &[&str],
) -> (EmulatorProcess, Project) {
    let setup = Project::new();
    let emulator = EmulatorProcess::start(&setup);
    let base = emulator.url();
    let emulator_host = base.trim_start_matches("http://").to_owned();
    let listed: Vec<String> = std::iter::once(emulator_host.as_str())
        .chain(extra_hosts.iter().copied())
        .map(|h| format!("\"{h}\""))
        .collect();
    let project = Project::new();
    project.config(&format!(
        "[gcp]\nproject = \"demo-project\"\nrun_url = \"{base}\"\ncredentials = \"anonymous\"\n\n\
         [scope]\ngcp_projects = [\"demo-project\"]\nhttp_hosts = [{}]\n\n\
         [cloud_run]\nservice = \"api\"\nregion = \"europe-west1\"\n",
        listed.join(", ")
    ));
    project.playbook(
        "probe.rhai",
        &format!("let url = \"{}\";\n{PROBE}", url_of(&base)),
    );
    (emulator, project)
}

/// The URL the emulator serves its demo `api` service at.
fn api_url(base: &str) -> String {
    format!("{base}/run.app/demo-project/europe-west1/api")
}

#[test]
fn an_in_scope_url_answers_200_then_503_when_the_service_is_made_not_ready() {
    let (emulator, project) = probing(api_url, &[]);
    let url = api_url(&emulator.url());
    project
        .run(&["play", "probe.rhai"])
        .expect_code(0)
        .stdout_has("status=200 answers=true reason=OK")
        .stdout_has("latency_is_int=true");

    emulator.call(
        "PATCH",
        "/_emulator/google/run/services/demo-project/europe-west1/api",
        r#"{"ready": false, "reason": "REVISION_FAILED", "message": "crashed"}"#,
    );
    project
        .run(&["play", "probe.rhai"])
        .expect_code(0)
        .stdout_has("status=503 answers=false reason=Service Unavailable");
    // The service's own URL, as Cloud Run returned it, needs no http_hosts entry.
    project.playbook(
        "serves.rhai",
        "let a = cloudrun::serves(); print(`serves=${a.status} ${a.url}`);",
    );
    project
        .run(&["play", "serves.rhai"])
        .expect_code(0)
        .stdout_has(&format!("serves=503 {url}"));
}

#[test]
fn a_closed_port_is_named_as_refusing_the_connection() {
    let host = closed_host();
    let (_emulator, project) = probing(|_| format!("http://{host}/health"), &[&host]);
    project
        .run(&["play", "probe.rhai"])
        .expect_code(0)
        .stdout_has(&format!(
            "status=0 answers=false reason={host} refused the connection"
        ));
}

#[test]
fn a_host_outside_the_scope_is_refused_before_any_request() {
    let outside = Server::accepting();
    let host = outside.host();
    let (_emulator, project) = probing(|_| outside.url("/health"), &[]);
    project
        .run(&["play", "probe.rhai"])
        .expect_code(1)
        .stderr_has(&format!("{host} is outside the scope"))
        .stderr_has("probe.rhai:3:");
    project
        .run(&["play", "probe.rhai", "--plan"])
        .expect_code(1)
        .stderr_has(&format!("{host} is outside the scope"));
    assert_eq!(
        outside.contacted(),
        0,
        "a request left for an out-of-scope host"
    );
}

#[test]
fn a_redirect_is_refused_naming_its_host_and_never_followed() {
    let elsewhere = Server::accepting();
    let allowed = Server::redirecting_to(elsewhere.url("/landing"));
    let allowed_host = allowed.host();
    let elsewhere_host = elsewhere.host();
    let (_emulator, project) = probing(|_| allowed.url("/health"), &[allowed_host, elsewhere_host]);
    project
        .run(&["play", "probe.rhai"])
        .expect_code(1)
        .stderr_has(&format!(
            "{allowed_host} answered 307: redirect to {elsewhere_host} refused: orchestra follows no redirects"
        ))
        .stderr_has("probe.rhai:3:");
    assert_eq!(allowed.contacted(), 1);
    assert_eq!(elsewhere.contacted(), 0, "the redirect was followed");
}

#[test]
fn a_plan_probes_for_real() {
    let (_emulator, project) = probing(api_url, &[]);
    project
        .run(&["play", "probe.rhai", "--plan"])
        .expect_code(0)
        .stdout_has("status=200 answers=true reason=OK");
}
