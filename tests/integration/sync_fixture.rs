//! A project set up for `playbooks/sync_secrets.rhai` against a separate emulator: the real
//! playbook and stdlib, a `[[sync.secrets]]` mapping, and helpers that change either side
//! behind orchestra's back and read what the emulator holds (values revealed).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, Project, Run};

/// A sync project and its emulator.
pub struct SyncWorld {
    pub project: Project,
    pub emulator: EmulatorProcess,
}

/// One `[[sync.secrets]]` entry as TOML.
pub fn entry(gcp: &str, github: &str, targets: &[&str]) -> String {
    let targets: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
    format!(
        "[[sync.secrets]]\ngcp = \"{gcp}\"\ngithub = \"{github}\"\ntargets = [{}]\n\n",
        targets.join(", ")
    )
}

impl SyncWorld {
    /// A project whose orchestra.toml holds `mapping` (`[[sync.secrets]]` entries).
    pub fn new(mapping: &str) -> Self {
        let project = Project::new();
        let emulator = EmulatorProcess::start(&project);
        let world = Self { project, emulator };
        world
            .project
            .playbook(
                "sync_secrets.rhai",
                include_str!("../../playbooks/sync_secrets.rhai"),
            )
            .file("stdlib/sync.rhai", include_str!("../../stdlib/sync.rhai"))
            .file("stdlib/fmt.rhai", include_str!("../../stdlib/fmt.rhai"))
            .playbook(
                "gh_set.rhai",
                "github::put_secret(args.target, args.name, secret::from_env(\"SYNC_VALUE\"));\n",
            );
        world.map(mapping);
        world
    }

    /// Replaces the mapping.
    pub fn map(&self, mapping: &str) {
        let url = self.emulator.url();
        self.project.config(&self.emulator.config(&format!(
            "[gcp]\nproject = \"demo-project\"\nsecret_manager_url = \"{url}\"\ncredentials = \"anonymous\"\n\n[scope]\ngcp_projects = [\"demo-project\"]\ngithub_owners = [\"acme\"]\nenv = [\"SYNC_VALUE\"]\n\n{mapping}"
        )));
    }

    /// `orchestra play sync_secrets ARGS`, with the demo GitHub token.
    pub fn sync(&self, args: &[&str]) -> Run {
        let mut cmd = self.project.command();
        cmd.args(["play", "sync_secrets"])
            .args(args)
            .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN);
        Run::from(cmd.output().expect("run orchestra"))
    }

    /// Writes GitHub secret `name` at `target` behind the sync's back.
    pub fn github_write(&self, target: &str, name: &str, value: &str) {
        let mut cmd = self.project.command();
        cmd.args(["play", "gh_set", "--arg"])
            .arg(format!("target={target}"))
            .arg("--arg")
            .arg(format!("name={name}"))
            .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
            .env("SYNC_VALUE", value);
        Run::from(cmd.output().expect("run orchestra")).expect_code(0);
    }

    /// Adds `value` as a new version of Secret Manager secret `id`, creating it (with `labels`,
    /// a JSON object) when missing.
    pub fn gcp_write(&self, id: &str, value: &str, labels: &str) {
        self.emulator.call(
            "POST",
            &format!("/v1/projects/demo-project/secrets?secretId={id}"),
            &format!(r#"{{"replication":{{"automatic":{{}}}},"labels":{labels}}}"#),
        );
        let added = self.emulator.call(
            "POST",
            &format!("/v1/projects/demo-project/secrets/{id}:addVersion"),
            &format!(r#"{{"payload":{{"data":"{}"}}}}"#, STANDARD.encode(value)),
        );
        assert!(added.contains("/versions/"), "{added}");
    }

    /// The secret store at `target` in the emulator's state.
    fn github_store(state: &Value, target: &str) -> Value {
        if let Some(org) = target.strip_prefix("org:") {
            return state["github"]["orgs"][org]["secrets"]["secrets"].clone();
        }
        match target.split_once(':') {
            Some((repo, env)) => {
                state["github"]["repos"][repo]["environments"][env]["secrets"].clone()
            }
            None => state["github"]["repos"][target]["secrets"]["secrets"].clone(),
        }
    }

    /// The value GitHub holds for `name` at `target`.
    pub fn github_value(&self, target: &str, name: &str) -> Option<String> {
        let store = Self::github_store(&self.emulator.state(), target);
        decode(store[name]["value"].as_str()?)
    }

    /// GitHub's `updated_at` (epoch seconds) of `name` at `target`.
    pub fn github_updated_at(&self, target: &str, name: &str) -> Option<i64> {
        Self::github_store(&self.emulator.state(), target)[name]["updated_at"].as_i64()
    }

    /// How many secrets `target` holds.
    pub fn github_count(&self, target: &str) -> usize {
        Self::github_store(&self.emulator.state(), target)
            .as_object()
            .map_or(0, |m| m.len())
    }

    /// The latest value of Secret Manager secret `id`, and its labels.
    pub fn gcp_latest(&self, id: &str) -> (Option<String>, Value) {
        let state = self.emulator.state();
        let secret = &state["google"]["secrets"][format!("projects/demo-project/secrets/{id}")];
        let value = secret["versions"]
            .as_array()
            .and_then(|v| v.last())
            .and_then(|v| v["data"].as_str())
            .and_then(decode);
        (value, secret["labels"].clone())
    }

    /// The bytes of every file below the project (state.db and its WAL included).
    pub fn project_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for path in crate::leaks::files_below(self.project.path()) {
            bytes.extend(std::fs::read(path).unwrap_or_default());
        }
        bytes
    }
}

fn decode(base64: &str) -> Option<String> {
    String::from_utf8(STANDARD.decode(base64).ok()?).ok()
}
