//! The built-in demo world, and seed files.
//!
//! A seed file is a state file (the JSON `--state` writes), so fixtures can be made by running
//! the emulator, shaping its state through the APIs, and keeping the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::EmulatorError;
use crate::github::workflows::EXPORT_WORKFLOW;
use crate::google::monitoring::usage::demo_usage;
use crate::google::secret_manager::add_version_creating;
use crate::http_util::{now_secs, rfc3339_now};
use crate::keys;
use crate::state::*;

/// The demo GitHub personal access token (scopes `repo, workflow, admin:org`).
pub const DEMO_GITHUB_TOKEN: &str = "ghp_orchestraDemoToken0000000000000000";
/// The demo project.
pub const DEMO_PROJECT: &str = "demo-project";
/// The demo project's number.
pub const DEMO_PROJECT_NUMBER: u64 = 123_456_789_012;
/// The demo GitHub App's id.
pub const DEMO_APP_ID: u64 = 1001;
/// The demo app's installation on `acme`.
pub const DEMO_INSTALLATION_ID: u64 = 2002;
/// The Secret Manager secret holding the demo Vertex AI budget.
pub const DEMO_BUDGET_SECRET: &str = "vertex-budget";
/// The demo budget: the seeded usage projects to well under its alert threshold.
pub const DEMO_BUDGET: &str = r#"{"monthly_usd": 500, "alert_at": 0.8}"#;
/// The demo Cloud Run service (ready, in [`DEMO_RUN_REGION`]).
pub const DEMO_RUN_SERVICE: &str = "api";
/// The demo Cloud Run service's region.
pub const DEMO_RUN_REGION: &str = "europe-west1";

/// What a rehearsal needs to talk to the demo world.
#[derive(Debug, Clone, Serialize)]
pub struct DemoCredentials {
    /// A personal access token of `demo-user`.
    pub github_token: String,
    /// The demo user's login.
    pub github_user: String,
    /// The demo repository.
    pub github_repo: String,
    /// The demo app's id.
    pub app_id: u64,
    /// The demo app's installation.
    pub installation_id: u64,
    /// The demo app's private key (PEM), to sign app JWTs.
    pub app_private_key: Option<String>,
    /// The demo project id.
    pub project: String,
    /// The demo project number.
    pub project_number: u64,
    /// The demo service accounts.
    pub service_accounts: Vec<String>,
}

impl DemoCredentials {
    /// The demo credentials as they stand in `state`.
    pub fn from_state(state: &State) -> Self {
        let app = state.github.apps.get(&DEMO_APP_ID);
        Self {
            github_token: DEMO_GITHUB_TOKEN.to_owned(),
            github_user: "demo-user".to_owned(),
            github_repo: "acme/api".to_owned(),
            app_id: DEMO_APP_ID,
            installation_id: DEMO_INSTALLATION_ID,
            app_private_key: app.and_then(|a| a.demo_private_pem.clone()),
            project: DEMO_PROJECT.to_owned(),
            project_number: DEMO_PROJECT_NUMBER,
            service_accounts: state.google.service_accounts.keys().cloned().collect(),
        }
    }
}

/// A secret store with a fresh sealing key.
pub fn secret_store(state: &mut State) -> SecretStore {
    let (secret, public) = keys::box_keypair();
    SecretStore {
        key: BoxKey {
            key_id: format!("{}", 568_250_167_242_549_743u64 + state.id()),
            public,
            secret,
        },
        secrets: BTreeMap::new(),
    }
}

fn actions_secret(value: &str) -> ActionsSecret {
    use base64::Engine as _;
    let now = now_secs();
    ActionsSecret {
        value: base64::engine::general_purpose::STANDARD.encode(value),
        created_at: now,
        updated_at: now,
        visibility: None,
        selected_repository_ids: Vec::new(),
    }
}

/// A new user-managed service-account key of `email`, with the self-signed certificate IAM
/// serves for it; returns the key and its private PEM.
pub fn new_sa_key(email: &str) -> Result<(SaKey, String), String> {
    let pair = keys::generate_rsa()?;
    let x509_pem = keys::self_signed_x509(&pair.private_pem, email)?;
    Ok((
        SaKey {
            id: keys::random_hex(20),
            public_pem: pair.public_pem,
            x509_pem: Some(x509_pem),
            disabled: false,
            key_type: "USER_MANAGED".to_owned(),
            valid_after: rfc3339_now(),
            last_authenticated: None,
        },
        pair.private_pem,
    ))
}

/// The built-in demo world.
pub fn demo() -> Result<State, String> {
    let mut state = State::default();
    state.github.rate_limit = 5000;
    state.github.anonymous_rate_limit = 60;
    state.github.primary_limit_status = 403;
    state.github.users.insert(
        "demo-user".into(),
        GithubUser {
            id: 1,
            login: "demo-user".into(),
            name: "Demo User".into(),
        },
    );
    state.github.tokens.insert(
        DEMO_GITHUB_TOKEN.into(),
        GithubToken {
            kind: TokenKind::Personal {
                login: "demo-user".into(),
            },
            scopes: vec!["repo".into(), "workflow".into(), "admin:org".into()],
            expires_at: Some(now_secs() + 90 * 24 * 3600),
            revoked: false,
        },
    );
    let mut repo_secrets = secret_store(&mut state);
    repo_secrets
        .secrets
        .insert("DEPLOY_KEY".into(), actions_secret("demo-deploy-key"));
    repo_secrets.secrets.insert(
        "DATABASE_URL".into(),
        actions_secret("postgres://demo@localhost/demo"),
    );
    let mut production = secret_store(&mut state);
    production
        .secrets
        .insert("RELEASE_TOKEN".into(), actions_secret("demo-release-token"));
    let repo_id = state.id() + 100_000;
    state.github.repos.insert(
        "acme/api".into(),
        Repo {
            id: repo_id,
            owner: "acme".into(),
            name: "api".into(),
            secrets: repo_secrets,
            environments: BTreeMap::from([("production".to_owned(), production)]),
            workflows: BTreeSet::from(["deploy.yml".to_owned(), EXPORT_WORKFLOW.to_owned()]),
            variables: BTreeMap::new(),
            environment_variables: BTreeMap::new(),
        },
    );
    let org_secrets = secret_store(&mut state);
    state.github.orgs.insert(
        "acme".into(),
        Org {
            id: 4242,
            secrets: org_secrets,
        },
    );
    let app_key = keys::generate_rsa()?;
    state.github.apps.insert(
        DEMO_APP_ID,
        App {
            id: DEMO_APP_ID,
            slug: "orchestra-demo".into(),
            public_pem: app_key.public_pem,
            demo_private_pem: Some(app_key.private_pem),
        },
    );
    state.github.installations.insert(
        DEMO_INSTALLATION_ID,
        Installation {
            id: DEMO_INSTALLATION_ID,
            app_id: DEMO_APP_ID,
            account: "acme".into(),
        },
    );

    state.google.projects.insert(
        DEMO_PROJECT.into(),
        Project {
            number: DEMO_PROJECT_NUMBER,
        },
    );
    for (i, name) in ["deployer", "reader"].iter().enumerate() {
        let (key, _private) =
            new_sa_key(&format!("{name}@{DEMO_PROJECT}.iam.gserviceaccount.com"))?;
        state.google.service_accounts.insert(
            format!("{name}@{DEMO_PROJECT}.iam.gserviceaccount.com"),
            ServiceAccount {
                project: DEMO_PROJECT.into(),
                unique_id: format!("10000000000000000000{i}"),
                keys: vec![key],
            },
        );
    }
    // Kept by a person, not by orchestra: no managed-by label.
    add_version_creating(
        &mut state,
        format!("projects/{DEMO_PROJECT}/secrets/{DEMO_BUDGET_SECRET}"),
        &[],
        DEMO_BUDGET.as_bytes(),
    );
    state.google.token_usage = demo_usage(DEMO_PROJECT, now_secs());
    let mut api = crate::google::run::RunService::new(
        &format!("{DEMO_RUN_REGION}-docker.pkg.dev/{DEMO_PROJECT}/apps/api:1.4.2"),
        &format!("deployer@{DEMO_PROJECT}.iam.gserviceaccount.com"),
    );
    (api.min_instances, api.max_instances, api.concurrency) = (1, 10, 80);
    state.google.run_services.insert(
        format!("{DEMO_PROJECT}/{DEMO_RUN_REGION}/{DEMO_RUN_SERVICE}"),
        api,
    );
    state.slack.webhooks.insert("ops".into(), Vec::new());
    Ok(state)
}

/// A seed file: a state file as `--state` writes it.
pub fn from_file(path: &Path) -> Result<State, EmulatorError> {
    let load = |reason: String| EmulatorError::Load {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| load(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| load(format!("not an emulator state file: {e}")))
}
