//! `playbooks/secure_exposed_credentials.rhai` against a separate emulator over a generated git
//! repository: each live credential moved to Secret Manager, files rewritten to read the
//! environment, the exposed service-account key rotated out (refused by the token endpoint,
//! Secret Manager holding a new one that works), the exposed PATs revoked; a plan changes
//! nothing; no value in any output or state file. The fixture is shared with
//! `secure_exposed_kill`, which kills the playbook after each change in turn.

use std::process::Command;
use std::rc::Rc;

use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, Project, Run};
use crate::leaks::{assert_absent, files_below};
use crate::scan_verify::{ACCOUNT, config, new_hook, new_key};

/// An emulator and the folder it runs in; reset to its initial state for each fixture.
pub(crate) struct Emulator {
    process: EmulatorProcess,
    _home: Project,
}

impl Emulator {
    pub(crate) fn start() -> Rc<Self> {
        let home = Project::new();
        let process = EmulatorProcess::start(&home);
        Rc::new(Self {
            process,
            _home: home,
        })
    }
}

/// A generated repository with five credentials in five file types (two live PATs, a
/// revoked one, a service-account key file, a Slack webhook), committed, beside a project
/// whose playbook and stdlib are the shipped ones.
pub(crate) struct Fixture {
    project: Project,
    world: Rc<Emulator>,
    pat_env: String,
    pat_shell: String,
    dead_pat: String,
    key_file: String,
    hook: String,
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git");
    assert!(status.status.success(), "git {args:?}: {status:?}");
}

impl Fixture {
    fn new() -> Self {
        Self::on(Emulator::start())
    }

    /// A fixture on `world`, put back to its initial state first.
    pub(crate) fn on(world: Rc<Emulator>) -> Self {
        world.process.call("POST", "/_emulator/reset", "");
        let emulator = &world.process;
        let pat_env = emulator.mint_pat();
        let pat_shell = emulator.mint_pat();
        let dead_pat = emulator.mint_pat();
        emulator.call(
            "POST",
            "/credentials/revoke",
            &format!(r#"{{"credentials":["{dead_pat}"]}}"#),
        );
        let (_, key_file) = new_key(emulator, ACCOUNT);
        let hook = new_hook(emulator, "deploys");
        let project = Project::new();
        project
            .config(&config(emulator, ""))
            .file(
                "playbooks/secure_exposed_credentials.rhai",
                include_str!("../../playbooks/secure_exposed_credentials.rhai"),
            )
            .file(
                "stdlib/rotation.rhai",
                include_str!("../../stdlib/rotation.rhai"),
            )
            .file(
                "stdlib/policy.rhai",
                include_str!("../../stdlib/policy.rhai"),
            )
            .file("stdlib/fmt.rhai", include_str!("../../stdlib/fmt.rhai"))
            .file("repo/.env", &format!("GITHUB_TOKEN={pat_env}\n"))
            .file(
                "repo/scripts/deploy.sh",
                &format!("#!/bin/sh\nexport DEPLOY_TOKEN='{pat_shell}'\n./deploy\n"),
            )
            .file(
                "repo/app/settings.py",
                &format!("OLD_TOKEN = \"{dead_pat}\"\n"),
            )
            .file(
                "repo/config/app.yaml",
                &format!("notify:\n  slack_webhook: \"{hook}\"\n"),
            )
            .file("repo/deploy/sa-key.json", &key_file);
        let repo = project.path().join("repo");
        git(&repo, &["init", "-q"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "app"]);
        Self {
            project,
            world: Rc::clone(&world),
            pat_env,
            pat_shell,
            dead_pat,
            key_file,
            hook,
        }
    }

    fn emulator(&self) -> &EmulatorProcess {
        &self.world.process
    }

    pub(crate) fn orchestra(&self, args: &[&str], kill_after: Option<usize>) -> Run {
        let mut command = self.project.command();
        command
            .args(args)
            .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN);
        if let Some(n) = kill_after {
            command.env("ORCHESTRA_TEST_KILL_AFTER_MUTATION", n.to_string());
        }
        Run::from(command.output().expect("run orchestra"))
    }

    pub(crate) fn play(&self, extra: &[&str], kill_after: Option<usize>) -> Run {
        let mut args = vec!["play", "secure_exposed_credentials", "--arg", "path=repo"];
        args.extend_from_slice(extra);
        self.orchestra(&args, kill_after)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.project.path().join("repo").join(file)).unwrap_or_default()
    }

    fn values(&self) -> Vec<String> {
        let key: serde_json::Value = serde_json::from_str(&self.key_file).expect("key file");
        vec![
            self.pat_env.clone(),
            self.pat_shell.clone(),
            self.hook.clone(),
            key["private_key"].as_str().expect("pem").to_owned(),
        ]
    }

    fn token_works(&self, token: &str) -> bool {
        let answer = self.emulator().call(
            "POST",
            "/_emulator/verify",
            &serde_json::json!({ "github_token": token }).to_string(),
        );
        answer.contains("\"works\":true")
    }

    fn key_works(&self, file: &serde_json::Value) -> bool {
        let answer = self.emulator().call(
            "POST",
            "/_emulator/verify",
            &serde_json::json!({ "key_file": file }).to_string(),
        );
        answer.contains("\"works\":true")
    }

    /// Every file is either as it was or fully rewritten: never a mix, never a stray temp.
    pub(crate) fn assert_no_half_rewrite(&self, when: &str) {
        for path in files_below(&self.project.path().join("repo")) {
            let name = path.to_string_lossy();
            if name.contains("/.git/") {
                continue;
            }
            assert!(!name.ends_with(".orchestra-tmp"), "{when}: stray {name}");
        }
        let env = self.read(".env");
        assert!(
            env == format!("GITHUB_TOKEN={}\n", self.pat_env)
                || env == "GITHUB_TOKEN=${GITHUB_TOKEN}\n",
            "{when}: .env is {env:?}"
        );
        let shell = self.read("scripts/deploy.sh");
        assert!(
            shell.contains(&self.pat_shell) != shell.contains("${DEPLOY_TOKEN:?"),
            "{when}: deploy.sh is half rewritten"
        );
    }

    /// The end state every run, killed or not, converges to.
    pub(crate) fn assert_secured(&self, when: &str) {
        self.assert_no_half_rewrite(when);
        assert_eq!(
            self.read(".env"),
            "GITHUB_TOKEN=${GITHUB_TOKEN}\n",
            "{when}"
        );
        assert!(
            self.read("scripts/deploy.sh")
                .contains("export DEPLOY_TOKEN=\"${DEPLOY_TOKEN:?DEPLOY_TOKEN is not set}\""),
            "{when}: {}",
            self.read("scripts/deploy.sh")
        );
        assert_eq!(
            self.read("config/app.yaml"),
            "notify:\n  slack_webhook: \"${APP_SLACK_WEBHOOK}\"\n",
            "{when}"
        );
        assert!(
            self.read("app/settings.py").contains(&self.dead_pat),
            "{when}: refused token moved"
        );
        let example = self.read(".env.example");
        for name in ["GITHUB_TOKEN=", "DEPLOY_TOKEN=", "APP_SLACK_WEBHOOK="] {
            assert_eq!(
                example.lines().filter(|l| *l == name).count(),
                1,
                "{when}: {example}"
            );
        }
        assert_eq!(
            self.read(".gitignore")
                .lines()
                .filter(|l| *l == ".env")
                .count(),
            1
        );
        assert!(
            !self.token_works(&self.pat_env),
            "{when}: exposed PAT still works"
        );
        assert!(
            !self.token_works(&self.pat_shell),
            "{when}: exposed PAT still works"
        );
        let exposed: serde_json::Value = serde_json::from_str(&self.key_file).expect("key");
        assert!(
            !self.key_works(&exposed),
            "{when}: the exposed key still works"
        );

        let state = self.emulator().state();
        let secrets = self
            .emulator()
            .call("GET", "/v1/projects/demo-project/secrets", "");
        for id in [
            "env-github-token",
            "scripts-deploy-sh-deploy-token",
            "config-app-yaml-slack-webhook",
            "deploy-sa-key-json-private-key",
        ] {
            assert!(secrets.contains(id), "{when}: no secret {id} in {secrets}");
        }
        let current = self.current_key_file(&state);
        assert_ne!(
            current["private_key_id"], exposed["private_key_id"],
            "{when}"
        );
        assert!(
            self.key_works(&current),
            "{when}: the consumer's new key does not work"
        );
    }

    /// The exposed key's secret holds the exposed value and exactly one new key: no second
    /// rotation.
    pub(crate) fn assert_rotated_once(&self, when: &str) {
        let answer = self.emulator().call(
            "GET",
            "/v1/projects/demo-project/secrets/deploy-sa-key-json-private-key/versions",
            "",
        );
        let body: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
        let versions = body["versions"].as_array().map_or(0, Vec::len);
        assert_eq!(versions, 2, "{when}: {answer}");
    }

    /// The key file `current` of the key's secret points at.
    fn current_key_file(&self, state: &serde_json::Value) -> serde_json::Value {
        let text = state.to_string();
        let answer = self.emulator().call(
            "GET",
            "/v1/projects/demo-project/secrets/deploy-sa-key-json-private-key/versions/current:access",
            "",
        );
        let body: serde_json::Value = serde_json::from_str(&answer)
            .unwrap_or_else(|_| panic!("access: {answer} {}", text.len()));
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD
            .decode(body["payload"]["data"].as_str().expect("payload"))
            .expect("base64");
        serde_json::from_slice(&data).expect("key file json")
    }

    pub(crate) fn last_run(&self) -> i64 {
        self.project
            .runs()
            .iter()
            .filter_map(|r| r["id"].as_i64())
            .max()
            .expect("a run")
    }

    pub(crate) fn assert_nothing_leaked(&self, runs: &[&Run]) {
        let values = self.values();
        for run in runs {
            assert_absent(run.stdout.as_bytes(), &values, "stdout");
            assert_absent(run.stderr.as_bytes(), &values, "stderr");
        }
        for path in files_below(&self.project.path().join(".orchestra")) {
            let bytes = std::fs::read(&path).expect("state file");
            assert_absent(&bytes, &values, &path.display().to_string());
        }
    }
}

#[test]
fn a_plan_shows_each_rewrite_as_a_diff_and_changes_nothing() {
    let fixture = Fixture::new();
    let plan = fixture.play(&["--plan"], None);
    plan.expect_code(0)
        .stdout_has("--- .env\n+++ .env\n@@ line 1 @@\n-GITHUB_TOKEN=ghp_… (")
        .stdout_has("+GITHUB_TOKEN=${GITHUB_TOKEN}");
    assert_eq!(
        fixture.read(".env"),
        format!("GITHUB_TOKEN={}\n", fixture.pat_env)
    );
    assert!(fixture.token_works(&fixture.pat_env));
    let secrets = fixture
        .emulator()
        .call("GET", "/v1/projects/demo-project/secrets", "");
    assert!(!secrets.contains("env-github-token"), "{secrets}");
    fixture.assert_nothing_leaked(&[&plan]);
}

#[test]
fn live_credentials_move_and_what_was_exposed_stops_working() {
    let fixture = Fixture::new();
    let run = fixture.play(&[], None);
    run.expect_code(0)
        .stdout_has("moved: 4")
        .stdout_has("not moved: 1")
        .stdout_has("edit deploy/sa-key.json")
        .stdout_has("still in git history")
        .stdout_has("git filter-repo --sensitive-data-removal");
    fixture.assert_secured("after one run");
    let again = fixture.play(&[], None);
    again.expect_code(0);
    fixture.assert_secured("after a rerun");
    fixture.assert_nothing_leaked(&[&run, &again]);
}
