//! The JSON of the Workload Identity, IAM policy, Service Usage and Resource Manager answers,
//! as far as orchestra needs them: unknown fields are ignored, absent lists are empty.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A Workload Identity pool (`projects/NUMBER/locations/global/workloadIdentityPools/ID`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Pool {
    /// Its full name (with the project number).
    pub name: String,
    /// `ACTIVE` or `DELETED` (soft-deleted, undeletable for 30 days).
    pub state: String,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Its display name.
    pub display_name: String,
}

/// The OIDC part of a provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Oidc {
    /// The issuer whose ID tokens the provider accepts.
    pub issuer_uri: String,
    /// The `aud` values accepted (empty: the provider's own URL).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_audiences: Vec<String>,
}

/// A Workload Identity pool provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Provider {
    /// Its full name.
    pub name: String,
    /// `ACTIVE` or `DELETED`.
    pub state: String,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Google attribute name to CEL over the token's claims.
    pub attribute_mapping: BTreeMap<String, String>,
    /// The CEL condition a token must meet.
    pub attribute_condition: String,
    /// Issuer and audiences.
    pub oidc: Oidc,
}

/// What a provider is created with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSpec {
    /// Its display name (at most 32 characters).
    pub display_name: String,
    /// Google attribute name to CEL over the token's claims; must map `google.subject`.
    pub attribute_mapping: BTreeMap<String, String>,
    /// The CEL condition a token must meet; never empty.
    pub attribute_condition: String,
    /// Issuer and audiences.
    pub oidc: Oidc,
}

/// One binding of an IAM policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Binding {
    /// The role, `roles/...`.
    pub role: String,
    /// Its members (`serviceAccount:...`, `principalSet://...`).
    pub members: Vec<String>,
    /// An IAM condition, kept as it came so a write does not drop it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

/// An IAM policy as `getIamPolicy` answers it; written back whole with its etag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// The policy version (3 when a binding has a condition).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// The bindings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<Binding>,
    /// The etag of the policy as read: a write with it fails if someone wrote in between.
    pub etag: String,
}

impl Policy {
    /// Whether `member` holds `role`.
    pub fn has(&self, role: &str, member: &str) -> bool {
        self.bindings.iter().any(|b| {
            b.role == role && b.condition.is_none() && b.members.iter().any(|m| m == member)
        })
    }

    /// Adds `member` to `role` (its unconditional binding, made if missing); false if it was
    /// there already.
    pub fn grant(&mut self, role: &str, member: &str) -> bool {
        if self.has(role, member) {
            return false;
        }
        match self
            .bindings
            .iter_mut()
            .find(|b| b.role == role && b.condition.is_none())
        {
            Some(binding) => binding.members.push(member.to_owned()),
            None => self.bindings.push(Binding {
                role: role.to_owned(),
                members: vec![member.to_owned()],
                condition: None,
            }),
        }
        true
    }
}

/// A long-running operation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Operation {
    /// Its name, polled with a GET.
    pub name: String,
    /// Whether it finished.
    pub done: bool,
    /// The result when it finished well.
    pub response: Option<Value>,
    /// The failure when it did not: `{code, message}`.
    pub error: Option<OperationError>,
}

/// The failure of an operation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OperationError {
    /// The canonical code as a number.
    pub code: i64,
    /// Google's message.
    pub message: String,
}

/// A Resource Manager v1 project.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Project {
    /// The project number, a string of digits.
    pub project_number: String,
}

/// A page of Service Usage services.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServicePage {
    /// The services.
    pub services: Vec<Service>,
    /// The next page, empty at the end.
    pub next_page_token: String,
}

/// A Service Usage service.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Service {
    /// `projects/NUMBER/services/NAME`.
    pub name: String,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    /// `{name}`: the service name alone.
    pub config: ServiceConfig,
}

/// The config of a service, as far as its name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServiceConfig {
    /// `iamcredentials.googleapis.com`.
    pub name: String,
}

/// A page of pools.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PoolPage {
    /// The pools.
    pub workload_identity_pools: Vec<Pool>,
    /// The next page, empty at the end.
    pub next_page_token: String,
}

/// A page of providers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProviderPage {
    /// The providers.
    pub workload_identity_pool_providers: Vec<Provider>,
    /// The next page, empty at the end.
    pub next_page_token: String,
}

/// A page of Activity Analyzer activities.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ActivityPage {
    /// The activities.
    pub activities: Vec<Activity>,
    /// The next page, empty at the end.
    pub next_page_token: String,
}

/// One key's last authentication.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Activity {
    /// What was seen.
    pub activity: KeyActivity,
}

/// The `activity` of a `serviceAccountKeyLastAuthentication` activity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct KeyActivity {
    /// RFC 3339.
    pub last_authenticated_time: String,
    /// The key.
    pub service_account_key: ActivityKey,
}

/// The key an activity is about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ActivityKey {
    /// `//iam.googleapis.com/projects/P/serviceAccounts/EMAIL/keys/ID`.
    pub full_resource_name: String,
}

/// The canonical code name of an operation's numeric code.
pub fn code_name(code: i64) -> &'static str {
    match code {
        1 => "CANCELLED",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        14 => "UNAVAILABLE",
        16 => "UNAUTHENTICATED",
        _ => "INTERNAL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_adds_to_the_unconditional_binding_once() {
        let mut policy: Policy = serde_json::from_value(serde_json::json!({
            "etag": "BwX", "version": 1,
            "bindings": [{"role": "roles/iam.workloadIdentityUser", "members": ["user:a@x"],
                          "condition": {"expression": "true"}}]
        }))
        .unwrap();
        assert!(policy.grant("roles/iam.workloadIdentityUser", "principalSet://p"));
        assert!(!policy.grant("roles/iam.workloadIdentityUser", "principalSet://p"));
        assert_eq!(
            policy.bindings.len(),
            2,
            "the conditional binding is kept apart"
        );
        let sent = serde_json::to_value(&policy).unwrap();
        assert_eq!(sent["etag"], "BwX");
        assert_eq!(sent["bindings"][0]["condition"]["expression"], "true");
    }
}
