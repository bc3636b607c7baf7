//! What the emulator remembers for keyless CI: Workload Identity pools and providers (with
//! their soft-delete state), long-running operations, IAM policies of service accounts and
//! projects, enabled services, and the federated tokens STS issued.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Keyless-CI state, one per emulator (state files from before it have none).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WifState {
    /// Pools by full name `projects/NUMBER/locations/global/workloadIdentityPools/ID`.
    #[serde(default)]
    pub pools: BTreeMap<String, Pool>,
    /// Long-running operations by name, with the resource each resolves to.
    #[serde(default)]
    pub operations: BTreeMap<String, serde_json::Value>,
    /// IAM policies of service accounts, by email.
    #[serde(default)]
    pub account_policies: BTreeMap<String, Policy>,
    /// IAM policies of projects, by project id.
    #[serde(default)]
    pub project_policies: BTreeMap<String, Policy>,
    /// Enabled services as `PROJECT_ID/SERVICE`.
    #[serde(default)]
    pub enabled_services: std::collections::BTreeSet<String>,
    /// Federated access tokens STS issued, by token text.
    #[serde(default)]
    pub federated_tokens: BTreeMap<String, FederatedToken>,
}

/// Soft-delete state of a pool or provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LifeState {
    /// In use.
    Active,
    /// Soft-deleted: undeletable for 30 days, then purged.
    Deleted,
}

/// A Workload Identity pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pool {
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: String,
    /// Disabled pools exchange no tokens.
    pub disabled: bool,
    /// Active or soft-deleted.
    pub state: LifeState,
    /// RFC 3339, while soft-deleted.
    pub expire_time: Option<String>,
    /// Providers by id.
    pub providers: BTreeMap<String, Provider>,
}

/// A Workload Identity pool provider (OIDC).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Provider {
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: String,
    /// Disabled providers exchange no tokens.
    pub disabled: bool,
    /// Active or soft-deleted.
    pub state: LifeState,
    /// RFC 3339, while soft-deleted.
    pub expire_time: Option<String>,
    /// Google attribute → CEL expression over `assertion`.
    pub attribute_mapping: BTreeMap<String, String>,
    /// CEL condition over `assertion` and `attribute`.
    pub attribute_condition: String,
    /// The OIDC issuer URI.
    pub issuer_uri: String,
    /// Accepted `aud` values (empty: the provider's own resource URL).
    pub allowed_audiences: Vec<String>,
}

/// An IAM policy.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Policy {
    /// Policy version.
    pub version: i64,
    /// Bindings as the API shapes them (`role`, `members`, optional `condition`).
    pub bindings: Vec<serde_json::Value>,
    /// Changes with every write; base64 on the wire.
    pub etag: String,
}

/// A federated token: who presented which subject token through which provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FederatedToken {
    /// `projects/NUMBER/locations/global/workloadIdentityPools/POOL`.
    pub pool: String,
    /// `google.subject`.
    pub subject: String,
    /// Mapped attributes (`attribute.X` without the prefix, and `google.*`).
    pub attributes: BTreeMap<String, String>,
    /// Epoch seconds.
    pub expires_at: i64,
}
