//! `orchestra.toml` plus `ORCHESTRA_*` environment overrides, layered with figment.
//!
//! Parsed once at the edge into typed values; a bad field fails here with the key, the file
//! and what was expected. Relative paths are resolved against the folder of the config file
//! (or the working directory when there is none), so a playbook runs the same from anywhere.

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

mod budget;
mod cloud_run;
mod credentials;
mod durations;
pub mod environment;
mod gcp;
mod github;
mod github_credentials;
mod google_quotas;
mod memory;
mod notify;
mod profiles;
mod rate_limits;
mod rotations;
mod scan;
mod state;
mod sync;
mod syntax;

pub use budget::{BILLING_ZONE, BudgetSettings, ModelPrice, MonthZone};
pub use cloud_run::CloudRunSettings;
pub(crate) use durations::{
    duration_from_text, duration_to_text, optional_duration_from_text, optional_duration_to_text,
};
pub use environment::{Environment, EnvironmentKind};
pub use gcp::{GcpCredentials, GcpSettings};
pub use github::GithubSettings;
pub use github_credentials::{MAIN_CREDENTIAL, NamedCredential, TokenSource};
pub use google_quotas::GoogleQuotas;
pub use memory::{
    FirestoreMemorySettings, MCP_MEMORY_SERVER, McpMemorySettings, MemoryBackendKind,
    MemorySettings,
};
pub use notify::{NotifySettings, SlackChannel};
pub use rate_limits::RateLimitSettings;
pub use rotations::{
    Consumer, GithubTokenKind, GithubTokenRotation, OldVersions, RotationSettings,
    ServiceAccountRotation,
};
pub use scan::ScanSettings;
pub use state::{StateBackendKind, StateSettings};
pub use sync::{SyncMapping, SyncSettings, valid_location};

/// The default config file name, looked up in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "orchestra.toml";

/// Everything orchestra reads from configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where playbooks, modules and state live.
    pub paths: Paths,
    /// Sandbox limits for every run.
    pub limits: Limits,
    /// What playbooks may touch.
    pub scope: Scope,
    /// Logging.
    pub log: LogSettings,
    /// Schedules `orchestra daemon` runs.
    pub schedules: Vec<ScheduleConfig>,
    /// Where GitHub is and how to authenticate.
    pub github: GithubSettings,
    /// Google Cloud defaults and endpoints.
    pub gcp: GcpSettings,
    /// Where notifications go.
    pub notify: NotifySettings,
    /// When a GitHub rate-limit window is low enough to warn about.
    pub rate_limits: RateLimitSettings,
    /// Which service-account keys are rotated, and where they go.
    pub rotations: RotationSettings,
    /// The Vertex AI budget `budget::` checks spend against.
    pub budget: BudgetSettings,
    /// What `playbooks/sync_secrets.rhai` keeps in step (`[sync]`, `[[sync.secrets]]`).
    pub sync: SyncSettings,
    /// What `orchestra scan` adds to or takes from the shipped rules (`[scan]`).
    pub scan: ScanSettings,
    /// The Cloud Run service's desired settings (`[cloud_run]`).
    pub cloud_run: CloudRunSettings,
    /// Where `memory::` keeps entries, its cache, and the MCP server (`[memory]`).
    pub memory: MemorySettings,
    /// Where run state lives (`[state]`): SQLite or a Firestore shared by several machines.
    pub state: StateSettings,
    /// Layers over this file, one per profile (`[profiles.NAME]`, any section again).
    pub profiles: std::collections::BTreeMap<String, toml::Table>,
    /// Service URLs per profile or environment (`[endpoints.NAME]`, `default` for the rest).
    pub endpoints: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// Where this process runs (detected, not read from the file).
    #[serde(skip)]
    pub environment: Environment,
    /// The profile laid over the file, if any (not read from the file).
    #[serde(skip)]
    pub profile: Option<String>,
    /// The folder relative paths are resolved against (not read from the file).
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The config file that was read, if any (not read from the file).
    #[serde(skip)]
    pub source_file: Option<PathBuf>,
}

/// Paths, relative to the config file's folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Paths {
    /// Where bare playbook names are looked up.
    pub playbooks: PathBuf,
    /// Shared modules that any playbook may `import`.
    pub stdlib: PathBuf,
    /// The SQLite run-state file.
    pub state_db: PathBuf,
}

/// Sandbox limits. Every one is set explicitly: Rhai's own defaults differ between debug and
/// release builds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock time-out of one run, e.g. "15m" or "30s".
    #[serde(
        deserialize_with = "duration_from_text",
        serialize_with = "duration_to_text"
    )]
    pub timeout: Duration,
    /// Script operations per run before it is stopped (catches runaway loops).
    pub max_operations: u64,
    /// Function call depth (catches runaway recursion).
    pub max_call_levels: usize,
    /// Expression nesting depth.
    pub max_expr_depth: usize,
    /// Longest string, in bytes.
    pub max_string_size: usize,
    /// Largest array, in elements.
    pub max_array_size: usize,
    /// Largest object map, in entries.
    pub max_map_size: usize,
    /// Most modules one run may import.
    pub max_modules: usize,
    /// Longest wait accepted when a service asks for one (`Retry-After`, a rate-limit reset);
    /// longer fails the call with a clear error.
    #[serde(
        deserialize_with = "duration_from_text",
        serialize_with = "duration_to_text"
    )]
    pub max_retry_wait: Duration,
    /// Attempts per remote call (the first included) before a transient failure is final.
    pub retry_attempts: u32,
    /// GitHub requests in flight at once per credential (GitHub's secondary limit: 100).
    pub github_concurrency: u32,
    /// GitHub points a minute per credential (GitHub's secondary limit: 900 per endpoint;
    /// orchestra counts them across all of a credential's requests).
    pub github_points_per_minute: u32,
    /// Points a GitHub GET, HEAD or OPTIONS costs (1).
    pub github_read_points: u32,
    /// Points a GitHub POST, PATCH, PUT or DELETE costs (5).
    pub github_write_points: u32,
    /// Content-creating GitHub requests a minute per credential (80).
    pub github_content_per_minute: u32,
    /// Content-creating GitHub requests an hour per credential (500).
    pub github_content_per_hour: u32,
    /// Whether an Actions-secret or variable PUT counts as content creation (GitHub does not
    /// say; false).
    pub github_secret_puts_are_content: bool,
    /// For rehearsals only: pace on a minute `time_scale` times shorter, to match an emulator
    /// run with `--time-scale N` (`--emulate` starts its emulator with this scale). Applied
    /// only when GitHub is on a loopback address; at least 1.
    #[serde(deserialize_with = "time_scale_from_number")]
    pub time_scale: f64,
    /// Google's quotas (`[limits.google]`), the documented values by default.
    pub google: GoogleQuotas,
}

/// `[limits].time_scale`: a finite number of at least 1.
fn time_scale_from_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let n = f64::deserialize(d)?;
    if n.is_finite() && n >= 1.0 {
        Ok(n)
    } else {
        Err(serde::de::Error::custom(format!(
            "limits.time_scale: expected a number of at least 1 (how many times shorter the minute is), found {n}"
        )))
    }
}

/// What playbooks may touch; a primitive refuses anything outside before any request leaves.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scope {
    /// Environment variables `secret::from_env` may read.
    pub env: Vec<String>,
    /// Google Cloud projects.
    pub gcp_projects: Vec<String>,
    /// GitHub owners (users or organisations) whose repositories may be touched.
    pub github_owners: Vec<String>,
    /// Individual GitHub repositories (`owner/name`).
    pub github_repos: Vec<String>,
    /// Hosts plain HTTP calls may reach.
    pub http_hosts: Vec<String>,
    /// Firestore databases `firestore::` may touch: `PROJECT/DATABASE`, or `PROJECT` for its
    /// `(default)` database.
    pub firestore_databases: Vec<String>,
}

/// One schedule for `orchestra daemon`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// A name for logs (default: the playbook).
    #[serde(default)]
    pub name: Option<String>,
    /// The playbook, as `orchestra play` takes it.
    pub playbook: String,
    /// How often, e.g. "15m".
    pub every: crate::schedule::Interval,
    /// `--arg` values.
    #[serde(default)]
    pub args: std::collections::BTreeMap<String, String>,
    /// Run as a plan (list changes, make none).
    #[serde(default)]
    pub plan: bool,
}

impl ScheduleConfig {
    /// The name shown in logs.
    pub fn id(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.playbook)
    }
}

/// Log output.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// A file that receives every log line as well (redacted like the terminal).
    pub file: Option<PathBuf>,
    /// `text` or `json`.
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            paths: Paths::default(),
            limits: Limits::default(),
            scope: Scope::default(),
            log: LogSettings::default(),
            schedules: Vec::new(),
            github: GithubSettings::default(),
            gcp: GcpSettings::default(),
            notify: NotifySettings::default(),
            rate_limits: RateLimitSettings::default(),
            rotations: RotationSettings::default(),
            budget: BudgetSettings::default(),
            sync: SyncSettings::default(),
            scan: ScanSettings::default(),
            cloud_run: CloudRunSettings::default(),
            memory: MemorySettings::default(),
            state: StateSettings::default(),
            profiles: Default::default(),
            endpoints: Default::default(),
            environment: Environment::default(),
            profile: None,
            base_dir: PathBuf::from("."),
            source_file: None,
        }
    }
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            playbooks: "playbooks".into(),
            stdlib: "stdlib".into(),
            state_db: ".orchestra/state.db".into(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15 * 60),
            max_operations: 50_000_000,
            max_call_levels: 48,
            max_expr_depth: 64,
            max_string_size: 4 * 1024 * 1024,
            max_array_size: 100_000,
            max_map_size: 100_000,
            max_modules: 64,
            max_retry_wait: Duration::from_secs(120),
            retry_attempts: 5,
            github_concurrency: 100,
            github_points_per_minute: 900,
            github_read_points: 1,
            github_write_points: 5,
            github_content_per_minute: 80,
            github_content_per_hour: 500,
            github_secret_puts_are_content: false,
            time_scale: 1.0,
            google: GoogleQuotas::default(),
        }
    }
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file named with `--config` does not exist.
    #[error("config file {0} not found")]
    Missing(PathBuf),
    /// A field has the wrong type or value, or the TOML does not parse.
    #[error("bad configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// [`Config::load_with_profile`] with the profile `ORCHESTRA_PROFILE` names, if any.
    pub fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Self, ConfigError> {
        let profile = std::env::var("ORCHESTRA_PROFILE")
            .ok()
            .filter(|p| !p.is_empty());
        Self::load_with_profile(explicit, cwd, profile.as_deref())
    }

    /// Loads `explicit` (which must exist) or `orchestra.toml` in `cwd` (optional), refusing
    /// a credential-looking value in it; then `[profiles.P]` over it (`profile`, else the
    /// detected environment's name when the file has that profile); then the
    /// `ORCHESTRA_<SECTION>__<KEY>` environment overrides.
    pub fn load_with_profile(
        explicit: Option<&Path>,
        cwd: &Path,
        profile: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let file = match explicit {
            Some(path) => {
                let path = cwd.join(path);
                if !path.is_file() {
                    return Err(ConfigError::Missing(path));
                }
                Some(path)
            }
            None => Some(cwd.join(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
        };
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = &file {
            let text = std::fs::read_to_string(file).map_err(|e| {
                ConfigError::Invalid(format!("cannot read {}: {e}", file.display()))
            })?;
            syntax::check(&file.display().to_string(), &text).map_err(ConfigError::Invalid)?;
            credentials::refuse_credentials(&file.display().to_string(), &text)
                .map_err(ConfigError::Invalid)?;
            figment = figment.merge(Toml::file_exact(file));
        }
        let environment = environment::detect(false);
        let chosen = profile.unwrap_or(&environment.name);
        let layer = profiles::layer(&figment, chosen).map_err(ConfigError::Invalid)?;
        let active = match (layer, profile) {
            (Some(layer), _) => {
                figment = figment.merge(Serialized::defaults(layer));
                Some(chosen.to_owned())
            }
            (None, Some(named)) => {
                return Err(ConfigError::Invalid(format!(
                    "no profile '{named}': add [profiles.{named}] to orchestra.toml"
                )));
            }
            (None, None) => None,
        };
        // Only nested keys (`ORCHESTRA_LIMITS__TIMEOUT`): flat ones such as
        // `ORCHESTRA_STATE_DB` belong to the command line.
        figment = figment.merge(
            Env::prefixed("ORCHESTRA_")
                .filter(|key| key.as_str().contains("__"))
                .split("__"),
        );
        let mut config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(describe_figment_error(e)))?;
        let in_file = |e: String| match &file {
            Some(file) => ConfigError::Invalid(format!("{e} in {}", file.display())),
            None => ConfigError::Invalid(e),
        };
        github_credentials::validate(&config.github.credentials).map_err(in_file)?;
        config.rate_limits.validate().map_err(in_file)?;
        config.limits.google.validate().map_err(in_file)?;
        config.rotations.validate().map_err(in_file)?;
        config.state.validate().map_err(in_file)?;
        config.sync.validate().map_err(in_file)?;
        config.memory.validate().map_err(in_file)?;
        config.base_dir = file
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| cwd.to_path_buf());
        config.source_file = file;
        config.environment = environment;
        config.profile = active;
        Ok(config)
    }

    /// The URL of `[endpoints.NAME]` for the profile in use, else the environment, else
    /// `default`.
    pub fn endpoint(&self, name: &str) -> Result<&str, String> {
        profiles::resolve(
            &self.endpoints,
            name,
            self.profile.as_deref(),
            &self.environment.name,
        )
    }

    /// Resolves a configured path against the config file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.base_dir.join(path)
    }

    /// The playbook folder, resolved.
    pub fn playbooks_dir(&self) -> PathBuf {
        self.resolve(&self.paths.playbooks)
    }

    /// The stdlib folder, resolved.
    pub fn stdlib_dir(&self) -> PathBuf {
        self.resolve(&self.paths.stdlib)
    }
}

fn describe_figment_error(err: figment::Error) -> String {
    err.into_iter()
        .map(|e| {
            let mut text = e.kind.to_string();
            if !e.path.is_empty() {
                text = format!("{} for key `{}`", text, e.path.join("."));
            }
            if let Some(source) = e.metadata.as_ref().and_then(|m| m.source.as_ref()) {
                text = format!("{text} in {source}");
            }
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(None, dir.path()).unwrap();
        assert_eq!(config.limits.timeout, Duration::from_secs(900));
        assert_eq!(config.base_dir, dir.path());
    }

    #[test]
    fn a_bad_field_names_the_key_and_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("orchestra.toml"),
            "[limits]\ntimeout = \"soon\"\n",
        )
        .unwrap();
        let err = Config::load(None, dir.path()).unwrap_err().to_string();
        assert!(err.contains("limits.timeout"), "{err}");
        assert!(err.contains("orchestra.toml"), "{err}");
        assert!(err.contains("15m"), "{err}");
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("orchestra.toml"), "[scope]\nenvs = []\n").unwrap();
        let err = Config::load(None, dir.path()).unwrap_err().to_string();
        assert!(err.contains("envs"), "{err}");
    }
}
