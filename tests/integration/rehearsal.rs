//! A key rotation rehearsed against a separate emulator process, with the repository's own
//! playbook and stdlib, and the checks the kill and fault tests make of what it left behind.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, Project, Run};

pub const ACCOUNT: &str = "deployer@demo-project.iam.gserviceaccount.com";

/// An installation-token rotation of the demo App, pushed to acme/api's `BOT_TOKEN`.
const INSTALLATION: &str = r#"[[rotations.github_tokens]]
name = "deploy-bot"
kind = "installation"
secret = "deploy-bot-token"
app_id = 1001
installation_id = 2002
app_key_secret = "github-app-key"
consumers = [{ target = "acme/api", name = "BOT_TOKEN" }]
"#;
const SECRET: &str = "projects/demo-project/secrets/deployer-key";

/// The demo account's `[[rotations.service_accounts]]` entry (keep_keys 2, pushed to acme/api's
/// `GCP_SA_KEY`) with `grace`, then the `extra` lines.
pub fn deployer_rotation(grace: &str, extra: &str) -> String {
    format!(
        r#"[[rotations.service_accounts]]
account = "{ACCOUNT}"
secret = "deployer-key"
consumers = [{{ target = "acme/api", name = "GCP_SA_KEY" }}]
keep_keys = 2
grace = "{grace}"
{extra}"#
    )
}

/// A project wired to `emulator` the way an operator wires one to Google and GitHub.
pub struct Rehearsal {
    pub project: Project,
    pub emulator: EmulatorProcess,
}

impl Rehearsal {
    /// A fresh emulator and project rotating the demo service account's key; `retries`
    /// attempts per remote call.
    pub fn new(retries: u32) -> Self {
        Self::with(retries, &deployer_rotation("0s", ""))
    }

    /// A fresh emulator and project rotating the demo App's installation token, the App's key
    /// stored in Secret Manager.
    pub fn installation() -> Self {
        let rehearsal = Self::with(3, INSTALLATION);
        rehearsal.emulator.store_app_key("github-app-key");
        rehearsal
    }

    /// The token acme/api's `BOT_TOKEN` holds, asserting GitHub accepts it.
    pub fn bot_token_works(&self, when: &str) -> String {
        let state = self.emulator.state();
        let token = self
            .github_secret(&state, "BOT_TOKEN")
            .unwrap_or_else(|| panic!("{when}: no BOT_TOKEN"));
        assert!(self.token_works(&token), "{when}: BOT_TOKEN does not work");
        token
    }

    /// A fresh emulator and project with the bundled rotation playbooks and `rotations` (TOML).
    pub fn with(retries: u32, rotations: &str) -> Self {
        let project = Project::new();
        let emulator = EmulatorProcess::start(&project);
        Self::prepare(&project, &emulator, retries, rotations);
        Self { project, emulator }
    }

    /// Writes into `project` the bundled rotation playbooks and stdlib and a config wired to
    /// `emulator` with `retries` attempts per remote call, then `rotations` (TOML).
    pub fn prepare(project: &Project, emulator: &EmulatorProcess, retries: u32, rotations: &str) {
        let url = emulator.url();
        project
            .file(
                "playbooks/rotate_keys.rhai",
                include_str!("../../playbooks/rotate_keys.rhai"),
            )
            .file(
                "playbooks/rotate_service_account_keys.rhai",
                include_str!("../../playbooks/rotate_service_account_keys.rhai"),
            )
            .file(
                "playbooks/rotate_github_tokens.rhai",
                include_str!("../../playbooks/rotate_github_tokens.rhai"),
            )
            .file(
                "stdlib/rotation.rhai",
                include_str!("../../stdlib/rotation.rhai"),
            )
            .file(
                "stdlib/tokens.rhai",
                include_str!("../../stdlib/tokens.rhai"),
            )
            .file(
                "stdlib/policy.rhai",
                include_str!("../../stdlib/policy.rhai"),
            )
            .file("stdlib/fmt.rhai", include_str!("../../stdlib/fmt.rhai"))
            .config(&emulator.config(&format!(
                r#"[gcp]
project = "demo-project"
secret_manager_url = "{url}"
iam_url = "{url}"
credentials = "anonymous"
token_uris = ["{url}/token"]

[scope]
gcp_projects = ["demo-project"]
github_repos = ["acme/api"]
env = ["NEW_PAT"]

[limits]
retry_attempts = {retries}
max_retry_wait = "3s"

{rotations}"#
            )));
    }

    /// `orchestra play rotate_service_account_keys --arg force=true`, killed after
    /// `kill_after` changes if set.
    pub fn rotate(&self, kill_after: Option<usize>) -> Run {
        self.play("rotate_service_account_keys", kill_after, &[])
    }

    /// `orchestra play PLAYBOOK --arg force=true` with `env`, killed after `kill_after` changes
    /// if set: a rotation whether or not it is due, as the kill and fault tests need.
    pub fn play(&self, playbook: &str, kill_after: Option<usize>, env: &[(&str, &str)]) -> Run {
        self.play_args(playbook, &["force=true"], kill_after, env)
    }

    /// `orchestra play PLAYBOOK` with `--arg` for each of `args` and `env`, killed after
    /// `kill_after` changes if set.
    pub fn play_args(
        &self,
        playbook: &str,
        args: &[&str],
        kill_after: Option<usize>,
        env: &[(&str, &str)],
    ) -> Run {
        let mut command = self.project.command();
        command
            .args(["play", playbook])
            .args(args.iter().flat_map(|a| ["--arg", a]))
            .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
            .envs(env.iter().copied());
        if let Some(n) = kill_after {
            command.env("ORCHESTRA_TEST_KILL_AFTER_MUTATION", n.to_string());
        }
        Run::from(command.output().expect("run"))
    }

    /// Whether GitHub accepts `token`.
    pub fn token_works(&self, token: &str) -> bool {
        self.verify(json!({ "github_token": token }))
    }

    /// The plain text of Actions secret `name` of acme/api, if it exists.
    pub fn github_secret(&self, state: &Value, name: &str) -> Option<String> {
        let value =
            state["github"]["repos"]["acme/api"]["secrets"]["secrets"][name]["value"].as_str()?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()?;
        String::from_utf8(bytes).ok()
    }

    /// `orchestra resume RUN`.
    pub fn resume(&self, run: i64) -> Run {
        self.orchestra(&["resume", &run.to_string()], &[])
    }

    /// `orchestra ARGS` with the demo GitHub token and `env`.
    pub fn orchestra(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        Run::from(
            self.project
                .command()
                .args(args)
                .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN)
                .envs(env.iter().copied())
                .output()
                .expect("orchestra"),
        )
    }

    /// The id of the newest run.
    pub fn last_run(&self) -> i64 {
        self.project
            .runs()
            .iter()
            .filter_map(|r| r["id"].as_i64())
            .max()
            .expect("a run")
    }

    fn works(&self, key_file_base64: &str) -> bool {
        self.verify(json!({ "key_file": key_file_base64 }))
    }

    /// The emulator's verdict on a credential (`POST /_emulator/verify`).
    fn verify(&self, credential: Value) -> bool {
        let answer = self
            .emulator
            .call("POST", "/_emulator/verify", &credential.to_string());
        let verdict: Value = serde_json::from_str(&answer).expect("verdict");
        verdict["works"] == true
    }

    /// The value GitHub holds for the consumer (base64), if any.
    pub fn consumer_value(&self, state: &Value) -> Option<String> {
        state["github"]["repos"]["acme/api"]["secrets"]["secrets"]["GCP_SA_KEY"]["value"]
            .as_str()
            .map(str::to_owned)
    }

    /// The data (base64) of the version alias `current` points at, if any.
    pub fn current_value(&self, state: &Value) -> Option<(i64, String)> {
        let secret = &state["google"]["secrets"][SECRET];
        let number = secret["version_aliases"]["current"].as_i64()?;
        let version = secret["versions"]
            .as_array()?
            .iter()
            .find(|v| v["number"] == number)?;
        Some((number, version["data"].as_str()?.to_owned()))
    }

    /// The account's keys: (id, disabled).
    pub fn keys(&self, state: &Value) -> Vec<(String, bool)> {
        state["google"]["service_accounts"][ACCOUNT]["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter(|k| k["key_type"] == "USER_MANAGED")
            .map(|k| {
                (
                    k["id"].as_str().expect("id").to_owned(),
                    k["disabled"] == true,
                )
            })
            .collect()
    }

    /// After `resumed` finished a rotation killed after change `n` (`before` the key id
    /// before it): settled on a new key; from change 3 on, the staged key was used and no
    /// second version made; after change 2, the unstaged key deleted.
    pub fn assert_resumed_rotation(&self, resumed: &Run, before: &str, n: usize, when: &str) {
        let after = self.assert_settled(when);
        assert_ne!(after, before, "{when}: the key was rotated");
        let state = self.emulator.state();
        let (version, _) = self.current_value(&state).expect("current");
        if n >= 3 {
            // The killed run had staged its key: the resume used it, minting none (or the
            // killed run had finished, and the resume did not rotate again).
            assert!(
                resumed.stdout.contains("resuming with staged key")
                    || resumed
                        .stdout
                        .contains("finished this rotation before it stopped"),
                "{when}: {}",
                resumed.stdout
            );
            assert_eq!(version, 2, "{when}: no second new version");
        }
        if n == 2 {
            // Killed between creating the key and staging it: that key is held by nobody.
            resumed.stdout_has("deleted keys an interrupted run created but never staged");
        }
    }

    /// Every consumer holds a key that passes the token exchange: GitHub's secret, and the
    /// version `current` names.
    pub fn assert_consumers_work(&self, when: &str) {
        let state = self.emulator.state();
        let github = self
            .consumer_value(&state)
            .unwrap_or_else(|| panic!("{when}: GitHub holds no GCP_SA_KEY"));
        assert!(self.works(&github), "{when}: GitHub's key does not work");
        let (_, current) = self
            .current_value(&state)
            .unwrap_or_else(|| panic!("{when}: no current version"));
        assert!(
            self.works(&current),
            "{when}: the current version's key does not work"
        );
    }

    /// After a finished rotation: one enabled key, the one GitHub and `current` hold; every
    /// other key disabled; at most `keep_keys` (2) keys; returns the current key id.
    pub fn assert_settled(&self, when: &str) -> String {
        self.assert_consumers_work(when);
        let state = self.emulator.state();
        let keys = self.keys(&state);
        let enabled: Vec<&(String, bool)> = keys.iter().filter(|(_, disabled)| !disabled).collect();
        assert_eq!(enabled.len(), 1, "{when}: one enabled key, found {keys:?}");
        assert!(keys.len() <= 2, "{when}: keep_keys = 2, found {keys:?}");
        let (_, current) = self.current_value(&state).expect("current");
        assert_eq!(
            self.consumer_value(&state).as_deref(),
            Some(current.as_str()),
            "{when}: GitHub holds the current version"
        );
        let file = base64::engine::general_purpose::STANDARD
            .decode(&current)
            .expect("base64");
        let file: Value = serde_json::from_slice(&file).expect("key file");
        let id = file["private_key_id"].as_str().expect("key id").to_owned();
        assert_eq!(
            enabled[0].0, id,
            "{when}: the enabled key is the current one"
        );
        id
    }

    /// Every credential value the emulator holds for this rehearsal (key files, their private
    /// keys, tokens, Secret Manager payloads) appears nowhere in `runs`' output nor in any file
    /// of the project (state.db and its WAL included).
    pub fn assert_nothing_leaked(&self, runs: &[&Run]) {
        self.assert_nothing_leaked_in(runs, &[self.project.path()], &[]);
    }

    /// Every credential value the emulator holds as text (key files, a line of their private
    /// keys, tokens, Secret Manager payloads), at least 12 characters each.
    pub fn credential_values(&self) -> Vec<String> {
        let state = self.emulator.state();
        let mut values: Vec<String> = Vec::new();
        let decode = |b64: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
        };
        for secret in state["google"]["secrets"].as_object().into_iter().flatten() {
            for version in secret.1["versions"].as_array().into_iter().flatten() {
                if let Some(text) = version["data"].as_str().and_then(decode) {
                    values.push(text);
                }
            }
        }
        for (_, secret) in state["github"]["repos"]["acme/api"]["secrets"]["secrets"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if let Some(text) = secret["value"].as_str().and_then(decode) {
                values.push(text);
            }
        }
        // A key file's most telling part: a line from the middle of its private key.
        let key_lines: Vec<String> = values
            .iter()
            .filter_map(|v| serde_json::from_str::<Value>(v).ok())
            .filter_map(|file| file["private_key"].as_str().map(str::to_owned))
            .filter_map(|pem| pem.lines().nth(3).map(str::to_owned))
            .collect();
        values.extend(key_lines);
        values.retain(|v| v.len() >= 12);
        values
    }

    /// As [`Rehearsal::assert_nothing_leaked`], searching every file below `folders` and the
    /// `documents` (a place's name, its bytes) too.
    pub fn assert_nothing_leaked_in(
        &self,
        runs: &[&Run],
        folders: &[&std::path::Path],
        documents: &[(String, Vec<u8>)],
    ) {
        let values = self.credential_values();
        let mut files: Vec<(String, Vec<u8>)> = folders
            .iter()
            .flat_map(|folder| crate::leaks::files_below(folder))
            .map(|f| {
                let bytes = std::fs::read(&f).unwrap_or_default();
                (f.display().to_string(), bytes)
            })
            .collect();
        files.extend(documents.iter().cloned());
        for value in &values {
            for run in runs {
                assert!(
                    !run.stdout.contains(value.as_str()) && !run.stderr.contains(value.as_str()),
                    "a credential value reached a run's output"
                );
            }
            for (name, bytes) in &files {
                assert!(
                    !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
                    "a credential value reached {name}"
                );
            }
        }
        assert!(!values.is_empty(), "the search had values to look for");
    }
}
