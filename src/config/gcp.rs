//! `[gcp]`: the Google Cloud project, endpoint overrides and how orchestra authenticates.

use serde::{Deserialize, Serialize};

/// Google Cloud settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GcpSettings {
    /// The project short secret names belong to.
    pub project: Option<String>,
    /// Secret Manager endpoint override (default: Google's).
    pub secret_manager_url: Option<String>,
    /// IAM endpoint override (default: Google's).
    pub iam_url: Option<String>,
    /// Token endpoints a key check may call besides Google's (a key file names its
    /// `token_uri`; a local emulator's is `http://127.0.0.1:PORT/token`).
    pub token_uris: Vec<String>,
    /// Resource Manager endpoint override (default: Google's), where `orchestra doctor` asks
    /// which permissions the caller has on the project.
    pub resource_manager_url: Option<String>,
    /// Service Usage endpoint override (default: Google's), where a bootstrap enables APIs.
    pub service_usage_url: Option<String>,
    /// Security Token Service endpoint override (default: Google's), where `wif::verify`
    /// exchanges a workflow's ID token.
    pub sts_url: Option<String>,
    /// Policy Analyzer endpoint override (default: Google's), where the audit reads when keys
    /// were last used.
    pub policy_analyzer_url: Option<String>,
    /// IAM Service Account Credentials endpoint override (default: Google's).
    pub iam_credentials_url: Option<String>,
    /// Cloud Run Admin endpoint override (default: Google's).
    pub run_url: Option<String>,
    /// Cloud Monitoring endpoint override (default: Google's).
    pub monitoring_url: Option<String>,
    /// Firestore endpoint override (default: Google's; `FIRESTORE_EMULATOR_HOST`, when set,
    /// names an emulator instead).
    pub firestore_url: Option<String>,
    /// The Firestore database id (default `(default)`).
    pub firestore_database: Option<String>,
    /// `adc` (Application Default Credentials, the default) or `anonymous` (for a local
    /// emulator named by the endpoint overrides only).
    pub credentials: GcpCredentials,
}

/// How orchestra authenticates to Google Cloud.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GcpCredentials {
    /// Application Default Credentials.
    #[default]
    Adc,
    /// No credentials: only for a local emulator.
    Anonymous,
}
