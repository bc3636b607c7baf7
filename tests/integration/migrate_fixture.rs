//! What the migration tests share: a project whose Google endpoints are orchestra's emulator
//! (a separate process on a random port), memory on the local backend, `[cloud_run]` asking
//! for the emulator's demo `api` service as it is seeded, `migrate init` run, and
//! helpers to read `migrate status --json` and edit `migration.toml`.

use std::time::{Duration, Instant};

use crate::harness::{EmulatorProcess, PATIENCE, Project, Run};

/// A migrated-to project and the emulator it talks to.
pub struct Migration {
    pub project: Project,
    pub emulator: EmulatorProcess,
}

impl Migration {
    /// `migrate init --project demo-project` in a project wired to a fresh emulator (`init`
    /// writes the bundled playbooks and `stdlib/migration.rhai`).
    pub fn new() -> Self {
        Self::with_config("")
    }

    /// Like [`Self::new`], with `extra` TOML appended to `orchestra.toml`.
    pub fn with_config(extra: &str) -> Self {
        let project = Project::new();
        let emulator = EmulatorProcess::start(&project);
        let url = emulator.url();
        project.config(&format!(
            "[gcp]\nproject = \"demo-project\"\nsecret_manager_url = \"{url}\"\niam_url = \"{url}\"\n\
             resource_manager_url = \"{url}\"\nservice_usage_url = \"{url}\"\nrun_url = \"{url}\"\ncredentials = \"anonymous\"\n\n\
             [scope]\ngcp_projects = [\"demo-project\"]\n\n[memory]\nbackend = \"local\"\n\n\
             [cloud_run]\nservice = \"api\"\nregion = \"europe-west1\"\nmin_instances = 1\n\
             max_instances = 10\nconcurrency = 80\n{extra}"
        ));
        let migration = Self { project, emulator };
        migration
            .run(&["migrate", "init", "--project", "demo-project"])
            .expect_code(0)
            .stdout_has("wrote migration.toml");
        // The bundled file expects Firestore memory; these tests run memory on the local backend.
        migration.edit(|text| text.replace("backend = \"firestore\"", "backend = \"local\""));
        migration
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.project.run(args)
    }

    /// Rewrites `migration.toml` with `change`.
    pub fn edit(&self, change: impl FnOnce(&str) -> String) {
        let path = self.project.path().join("migration.toml");
        let text = std::fs::read_to_string(&path).expect("migration.toml");
        std::fs::write(&path, change(&text)).expect("write migration.toml");
    }

    /// `migrate status --json`, parsed.
    pub fn phases(&self) -> Vec<serde_json::Value> {
        let run = self.run(&["migrate", "status", "--json"]);
        run.expect_code(0);
        serde_json::from_str(&run.stdout).expect("status JSON")
    }

    /// The status of `phase` in `migrate status --json`.
    pub fn status_of(&self, phase: &str) -> String {
        self.phase(phase)["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// `phase` as `migrate status --json` shows it.
    pub fn phase(&self, phase: &str) -> serde_json::Value {
        self.phases()
            .into_iter()
            .find(|p| p["name"] == phase)
            .unwrap_or_else(|| panic!("no phase {phase}"))
    }

    /// Waits until `phase` shows `status`.
    pub fn wait_for_status(&self, phase: &str, status: &str) -> serde_json::Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let shown = self.phase(phase);
            if shown["status"] == status {
                return shown;
            }
            assert!(
                Instant::now() < deadline,
                "{phase} never reached {status}: {shown}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Makes the emulator's next listing of enabled services wait `ms` before answering.
    pub fn slow_service_listing(&self, ms: u64) {
        self.emulator.fault(&format!(
            r#"{{"method":"GET","path":"/v1/projects/*/services","latency_ms":{ms},"count":1}}"#
        ));
    }
}
