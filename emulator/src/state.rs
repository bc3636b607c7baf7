//! Everything the emulator remembers, as one serialisable value: saved to the state file after
//! every change (atomically: temp file + rename) so a rehearsal survives a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::EmulatorError;

/// The whole emulated world.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// GitHub.
    pub github: GithubState,
    /// Google Cloud: projects, Secret Manager, IAM, Monitoring.
    pub google: GoogleState,
    /// Slack webhooks and what they received.
    pub slack: SlackState,
    /// Counter for ids.
    pub next_id: u64,
}

impl State {
    /// A fresh numeric id.
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// GitHub's side.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GithubState {
    /// Users by login.
    pub users: BTreeMap<String, GithubUser>,
    /// Issued tokens (personal and installation) by token text.
    pub tokens: BTreeMap<String, GithubToken>,
    /// Repositories by `owner/name`.
    pub repos: BTreeMap<String, Repo>,
    /// Organisations by login.
    pub orgs: BTreeMap<String, Org>,
    /// GitHub Apps by id.
    pub apps: BTreeMap<u64, App>,
    /// Installations by id.
    pub installations: BTreeMap<u64, Installation>,
    /// Rate-limit windows by credential key.
    pub rate: BTreeMap<String, RateWindow>,
    /// Requests per hour for an authenticated credential.
    pub rate_limit: u32,
    /// Requests per hour without credentials.
    pub anonymous_rate_limit: u32,
    /// Status of an exhausted primary limit: GitHub answers 403 or 429.
    #[serde(default = "primary_limit_status")]
    pub primary_limit_status: u16,
    /// Workflow dispatches received, in order.
    pub dispatches: Vec<Dispatch>,
}

fn primary_limit_status() -> u16 {
    403
}

/// A GitHub user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GithubUser {
    /// Numeric id.
    pub id: u64,
    /// Login.
    pub login: String,
    /// Display name.
    pub name: String,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A personal access token of a user.
    Personal {
        /// The user's login.
        login: String,
    },
    /// An installation access token.
    Installation {
        /// The installation id.
        installation: u64,
    },
}

/// An issued GitHub token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GithubToken {
    /// Personal or installation.
    pub kind: TokenKind,
    /// Scopes (personal tokens; shown in `X-OAuth-Scopes`).
    pub scopes: Vec<String>,
    /// Expiry, epoch seconds.
    pub expires_at: Option<i64>,
    /// Revoked tokens are refused with 401.
    pub revoked: bool,
}

/// A sealed-box key pair of a repository, environment or organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BoxKey {
    /// The `key_id` clients send back.
    pub key_id: String,
    /// Public key, base64.
    pub public: String,
    /// Secret key, base64 (never served).
    pub secret: String,
}

/// A stored Actions secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionsSecret {
    /// The decrypted value, base64 (the emulator is the store; dumps redact it).
    pub value: String,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds.
    pub updated_at: i64,
    /// Org secrets: `all`, `private` or `selected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// Org secrets with `selected` visibility: the repositories (ids) that may use it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selected_repository_ids: Vec<u64>,
}

/// A set of Actions secrets with the key they are sealed to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretStore {
    /// The sealing key.
    pub key: BoxKey,
    /// Secrets by name as written (compared case-insensitively).
    pub secrets: BTreeMap<String, ActionsSecret>,
}

/// A repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repo {
    /// Numeric id.
    pub id: u64,
    /// Owner login.
    pub owner: String,
    /// Name.
    pub name: String,
    /// Repository secrets.
    pub secrets: SecretStore,
    /// Environments by name.
    pub environments: BTreeMap<String, SecretStore>,
    /// Workflow files in `.github/workflows`: dispatching any other answers 404, as GitHub
    /// does.
    #[serde(default)]
    pub workflows: BTreeSet<String>,
    /// Actions variables by name (upper case, as GitHub stores them).
    #[serde(default)]
    pub variables: BTreeMap<String, ActionsVariable>,
    /// Environment variables: environment name to its variables by name.
    #[serde(default)]
    pub environment_variables: BTreeMap<String, BTreeMap<String, ActionsVariable>>,
}

/// An Actions configuration variable: unlike a secret, its value is readable.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionsVariable {
    /// The value.
    pub value: String,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds.
    pub updated_at: i64,
}

/// An organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Org {
    /// Numeric id.
    pub id: u64,
    /// Organisation secrets.
    pub secrets: SecretStore,
}

/// A GitHub App.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    /// App id.
    pub id: u64,
    /// Slug.
    pub slug: String,
    /// The public half of its private key (JWTs are verified against it).
    pub public_pem: String,
    /// The private key of the demo app, so rehearsals can sign JWTs (never of a seeded real app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo_private_pem: Option<String>,
}

/// An installation of an app on an account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Installation {
    /// Installation id.
    pub id: u64,
    /// The app.
    pub app_id: u64,
    /// The account login.
    pub account: String,
}

/// A rate-limit window of one credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RateWindow {
    /// Requests allowed in the window.
    pub limit: u32,
    /// Requests used.
    pub used: u32,
    /// Epoch seconds when the window resets.
    pub reset: i64,
}

/// A workflow dispatch received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dispatch {
    /// `owner/name`.
    pub repo: String,
    /// Workflow id or file name.
    pub workflow: String,
    /// The git ref.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Inputs.
    pub inputs: serde_json::Value,
    /// Epoch seconds.
    pub at: i64,
    /// How a simulated run ended (the export workflow): `success`, or why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// Google Cloud's side.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GoogleState {
    /// Projects by id.
    pub projects: BTreeMap<String, Project>,
    /// Secrets by `projects/{id}/secrets/{name}` (project id, not number).
    pub secrets: BTreeMap<String, SmSecret>,
    /// Service accounts by email.
    pub service_accounts: BTreeMap<String, ServiceAccount>,
    /// Access tokens issued by the token endpoint.
    pub access_tokens: BTreeMap<String, AccessToken>,
    /// Permissions each project grants to `testIamPermissions` callers, when a test narrowed
    /// them (absent: every permission).
    #[serde(default)]
    pub granted_permissions: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Vertex AI token counts Cloud Monitoring serves (state files from before it have none).
    #[serde(default)]
    pub token_usage: Vec<crate::google::monitoring::usage::TokenUsagePoint>,
    /// Workload Identity Federation, IAM policies, services, STS tokens.
    #[serde(default)]
    pub wif: crate::google::wif_state::WifState,
    /// Cloud Run services by `PROJECT_ID/REGION/NAME`.
    #[serde(default)]
    pub run_services: BTreeMap<String, crate::google::run::RunService>,
}

/// A project.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Project {
    /// Its number, used in resource names of responses.
    pub number: u64,
}

/// A Secret Manager secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmSecret {
    /// RFC 3339.
    pub create_time: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Aliases to version numbers.
    pub version_aliases: BTreeMap<String, i64>,
    /// Replication as sent.
    pub replication: serde_json::Value,
    /// Changes with every update.
    pub etag: String,
    /// Versions, numbered from 1.
    pub versions: Vec<SmVersion>,
    /// `versionDestroyTtl` (`"86400s"`): destroy then only disables, destruction is scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_destroy_ttl: Option<String>,
    /// RFC 3339: when the secret is deleted (from `ttl` or `expireTime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
}

/// A secret version's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VersionState {
    /// Accessible.
    Enabled,
    /// Not accessible, can be enabled.
    Disabled,
    /// Gone for good.
    Destroyed,
}

/// A Secret Manager secret version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmVersion {
    /// 1, 2, 3 …
    pub number: i64,
    /// State.
    pub state: VersionState,
    /// Payload, base64 (dropped on destroy).
    pub data: Option<String>,
    /// CRC32C of the payload as the client sent it.
    pub crc32c: Option<u32>,
    /// Whether the client sent a checksum.
    pub client_checksum: bool,
    /// RFC 3339.
    pub create_time: String,
    /// RFC 3339, once destroyed.
    pub destroy_time: Option<String>,
    /// Changes with every update.
    pub etag: String,
    /// RFC 3339, while a delayed destruction is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_destroy_time: Option<String>,
}

/// A service account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceAccount {
    /// Its project id.
    pub project: String,
    /// Numeric unique id.
    pub unique_id: String,
    /// Keys by id, in creation order.
    pub keys: Vec<SaKey>,
}

/// A service-account key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SaKey {
    /// 40 hex characters.
    pub id: String,
    /// SPKI PEM of the public half.
    pub public_pem: String,
    /// The self-signed X.509 certificate of the key (PEM), as IAM serves it with
    /// `publicKeyType=TYPE_X509_PEM_FILE`; absent in state files older than it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_pem: Option<String>,
    /// Disabled keys are refused by the token endpoint.
    pub disabled: bool,
    /// `USER_MANAGED` or `SYSTEM_MANAGED`.
    pub key_type: String,
    /// RFC 3339.
    pub valid_after: String,
    /// RFC 3339: the last time the key obtained a token (what Activity Analyzer reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_authenticated: Option<String>,
}

/// An access token issued by the token endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessToken {
    /// The service account.
    pub email: String,
    /// The key that obtained it.
    pub key_id: String,
    /// Epoch seconds.
    pub expires_at: i64,
}

/// Slack's side.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SlackState {
    /// Messages received, by webhook name.
    pub webhooks: BTreeMap<String, Vec<serde_json::Value>>,
    /// Slack-shaped hooks (`T…/B…/SECRET`), by path, to the webhook name they post to.
    #[serde(default)]
    pub hooks: BTreeMap<String, String>,
    /// Paths of hooks that were removed: they answer `invalid_token`.
    #[serde(default)]
    pub revoked: std::collections::BTreeSet<String>,
    /// Webhook names whose channel is archived: they answer `channel_is_archived`.
    #[serde(default)]
    pub archived: std::collections::BTreeSet<String>,
}

/// Loads `state_file` if it exists, else seeds from `seed` (or the built-in demo).
pub fn load_or_seed(
    state_file: Option<&Path>,
    seed: Option<&Path>,
) -> Result<State, EmulatorError> {
    if let Some(path) = state_file
        && path.exists()
    {
        let text = std::fs::read_to_string(path).map_err(|e| EmulatorError::Load {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        return serde_json::from_str(&text).map_err(|e| EmulatorError::Load {
            path: path.to_owned(),
            reason: e.to_string(),
        });
    }
    match seed {
        Some(path) => crate::fixtures::from_file(path),
        None => crate::fixtures::demo().map_err(|reason| EmulatorError::Load {
            path: "built-in demo fixtures".into(),
            reason,
        }),
    }
}

/// Writes `state` to `path` atomically.
pub fn save(state: &State, path: &Path) -> Result<(), String> {
    let text = serde_json::to_string_pretty(state).map_err(|e| e.to_string())?;
    let temp = path.with_extension("tmp");
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&temp, text).map_err(|e| e.to_string())?;
    std::fs::rename(&temp, path).map_err(|e| e.to_string())
}
