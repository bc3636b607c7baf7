//! What the keyless-CI tests share: a project with the bundled keyless playbooks and stdlib, a
//! config with `[scope]` and `[cloud_run]`, and one emulator state file every run of a test
//! loads and saves (`--emulate --emulate-state`), read back to check what the runs left.

use std::path::PathBuf;

use crate::harness::{Project, Run};

pub const ACCOUNT: &str = "deployer@demo-project.iam.gserviceaccount.com";
pub const PROVIDER: &str =
    "projects/123456789012/locations/global/workloadIdentityPools/github-actions/providers/github";
pub const MEMBER: &str = "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github-actions/attribute.repository/acme/api";

const CONFIG: &str = r#"[scope]
gcp_projects = ["demo-project"]
github_repos = ["acme/api"]

[cloud_run]
service = "api"
region = "europe-west1"
cpu = "1"
memory = "512Mi"
min_instances = 0
max_instances = 3
concurrency = 80
"#;

/// A project wired for the keyless playbooks, and its emulator state file.
pub struct Keyless {
    pub project: Project,
    state: PathBuf,
}

impl Keyless {
    pub fn new() -> Self {
        let project = Project::new();
        project.config(CONFIG);
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(repo.join("stdlib")).expect("stdlib") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
                .to_owned();
            project.file(
                &format!("stdlib/{name}"),
                &std::fs::read_to_string(&path).expect("read"),
            );
        }
        for name in [
            "bootstrap_github_wif.rhai",
            "retire_service_account_keys.rhai",
            "audit_service_accounts.rhai",
        ] {
            let path = repo.join("playbooks").join(name);
            if let Ok(text) = std::fs::read_to_string(&path) {
                project.playbook(name, &text);
            }
        }
        let state = project.path().join("emulator.json");
        Self { project, state }
    }

    /// `orchestra play PLAYBOOK --emulate --emulate-state FILE ARGS`, killed after mutation
    /// `kill_after` when given.
    pub fn play(&self, playbook: &str, args: &[&str], kill_after: Option<u64>) -> Run {
        let mut command = self.project.command();
        command
            .args(["play", playbook, "--emulate", "--emulate-state"])
            .arg(&self.state)
            .args(args);
        if let Some(n) = kill_after {
            command.env("ORCHESTRA_TEST_KILL_AFTER_MUTATION", n.to_string());
        }
        Run::from(command.output().expect("run orchestra"))
    }

    /// The bootstrap of acme/api as deployer, with `extra` arguments.
    pub fn bootstrap(&self, extra: &[&str], kill_after: Option<u64>) -> Run {
        let mut args = vec!["--arg", "repo=acme/api", "--arg"];
        let account = format!("account={ACCOUNT}");
        args.push(&account);
        args.extend_from_slice(extra);
        self.play("bootstrap_github_wif", &args, kill_after)
    }

    /// `orchestra resume ID --emulate --emulate-state FILE` for the latest run: the way an
    /// operator picks up a `play --emulate` that was killed.
    pub fn resume_last(&self) -> Run {
        let id = self
            .project
            .runs()
            .iter()
            .filter_map(|r| r["id"].as_i64())
            .max()
            .expect("a run to resume");
        let mut command = self.project.command();
        command
            .args(["resume", &id.to_string(), "--emulate", "--emulate-state"])
            .arg(&self.state);
        Run::from(command.output().expect("run orchestra"))
    }

    /// Runs an inline playbook against the same emulator state.
    pub fn script(&self, text: &str) -> Run {
        self.project.playbook("inline.rhai", text);
        self.play("inline", &[], None)
    }

    /// The emulator state the runs left (null when no run changed anything).
    pub fn state(&self) -> serde_json::Value {
        std::fs::read_to_string(&self.state)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }
}

/// What a bootstrap leaves, counted: pools, providers, binding members for MEMBER, enabled
/// services and the repository's variables.
#[derive(Debug, PartialEq, Eq)]
pub struct Footprint {
    pub pools: usize,
    pub providers: usize,
    pub bindings: usize,
    pub services: Vec<String>,
    pub variables: Vec<(String, String)>,
}

pub fn footprint(state: &serde_json::Value) -> Footprint {
    let wif = &state["google"]["wif"];
    let pools = wif["pools"].as_object().map(|p| p.len()).unwrap_or(0);
    let providers = wif["pools"]
        .as_object()
        .map(|p| {
            p.values()
                .map(|pool| pool["providers"].as_object().map_or(0, |x| x.len()))
                .sum()
        })
        .unwrap_or(0);
    let bindings = wif["account_policies"][ACCOUNT]["bindings"]
        .as_array()
        .map(|b| {
            b.iter()
                .filter(|b| b["role"] == "roles/iam.workloadIdentityUser")
                .flat_map(|b| b["members"].as_array().cloned().unwrap_or_default())
                .filter(|m| m == MEMBER)
                .count()
        })
        .unwrap_or(0);
    let services = wif["enabled_services"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let variables = state["github"]["repos"]["acme/api"]["variables"]
        .as_object()
        .map(|v| {
            v.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v["value"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Footprint {
        pools,
        providers,
        bindings,
        services,
        variables,
    }
}
