//! `--watch` reruns on save, survives a broken file, and plans unless told to apply.

use nix::sys::signal::Signal;

use crate::harness::Project;

#[test]
fn watch_reruns_on_save_and_waits_out_a_broken_file() {
    let project = Project::new();
    project.playbook("w.rhai", "print(\"run one\");\nstate::set(\"k\", 1);\n");
    let mut watch = project.spawn(&["play", "w", "--watch"]);
    watch.wait_for("watch: plan mode");
    watch.wait_for("stdout: run one");
    watch.wait_for("watching");

    project.playbook("w.rhai", "print(\"run two\");\n");
    watch.wait_for("stdout: run two");
    watch.wait_for("watching");

    project.playbook("w.rhai", "print(\"run three\"\n");
    watch.wait_for("stderr: error: playbooks/w.rhai:2:");
    watch.wait_for("watching");
    assert!(watch.is_running(), "a broken file must not end the watch");

    project.playbook("w.rhai", "print(\"run three\");\n");
    watch.wait_for("stdout: run three");
    watch.signal(Signal::SIGTERM);
    assert_eq!(watch.wait(), Some(0));

    // Plan mode: the first run's state::set was only listed.
    project.playbook("peek.rhai", "print(state::get(\"k\") ?? \"missing\");\n");
    project
        .run(&["play", "peek"])
        .expect_code(0)
        .stdout_has("missing");
}

#[test]
fn watch_reruns_when_an_imported_module_changes() {
    let project = Project::new();
    project
        .file("stdlib/words.rhai", "fn word() { \"alpha\" }\n")
        .playbook(
            "w.rhai",
            "import \"words\" as w;\nprint(`word ${w::word()}`);\n",
        );
    let mut watch = project.spawn(&["play", "w", "--watch", "--apply"]);
    watch.wait_for("stdout: word alpha");
    watch.wait_for("watching 2 file(s)");
    project.file("stdlib/words.rhai", "fn word() { \"beta\" }\n");
    watch.wait_for("stdout: word beta");
    watch.signal(Signal::SIGTERM);
    watch.wait();
}

#[test]
fn a_watch_reload_keeps_the_profile_the_command_line_named() {
    let project = Project::new();
    let config = |region: &str| {
        format!(
            "[cloud_run]\nservice = \"api\"\nregion = \"europe-west1\"\n\n\
             [profiles.staging.cloud_run]\nregion = \"{region}\"\n"
        )
    };
    project.config(&config("asia-east1")).playbook(
        "where.rhai",
        "print(`region ${wif::cloud_run().region} profile ${config::environment().profile}`);\n",
    );
    let mut watch = project.spawn(&["--profile", "staging", "play", "where", "--watch"]);
    watch.wait_for("stdout: region asia-east1 profile staging");
    watch.wait_for("watching");

    // A save of orchestra.toml reruns under the same profile, with the profile's new value.
    project.config(&config("us-east4"));
    watch.wait_for("stdout: region us-east4 profile staging");
    watch.signal(Signal::SIGTERM);
    assert_eq!(watch.wait(), Some(0));
}
