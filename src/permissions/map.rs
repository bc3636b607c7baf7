//! The permission map: for each primitive that reaches Google Cloud or GitHub, what the
//! caller's credential must hold. Google permission names are those of Google's IAM
//! permissions reference (https://cloud.google.com/iam/docs/permissions-reference) for the REST
//! method the primitive calls; GitHub scopes are those of a classic token
//! (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps).
//!
//! A primitive that needs nothing of the caller's credential is listed too, with why, so that
//! "needs nothing" is a reviewed answer rather than an omission.

/// What one primitive needs of the caller's credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// This Google IAM permission (or GitHub scope) on the project (or repository).
    Permission(&'static str),
    /// Nothing of the caller's credential, for the reason given.
    Nothing(&'static str),
}

/// One row of the map: `module::function` and what it needs. A primitive that needs several
/// permissions has several rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// The Rhai module (`iam`, `secrets`, …).
    pub module: &'static str,
    /// The function in that module.
    pub function: &'static str,
    /// What the call needs.
    pub need: Need,
}

const fn needs(
    module: &'static str,
    function: &'static str,
    permission: &'static str,
) -> Requirement {
    Requirement {
        module,
        function,
        need: Need::Permission(permission),
    }
}

const fn needs_nothing(
    module: &'static str,
    function: &'static str,
    why: &'static str,
) -> Requirement {
    Requirement {
        module,
        function,
        need: Need::Nothing(why),
    }
}

/// The Google IAM permission each primitive needs on the project.
pub const GOOGLE: &[Requirement] = &[
    needs("secrets", "access", "secretmanager.versions.access"),
    needs("secrets", "access_many", "secretmanager.versions.access"),
    needs("secrets", "list", "secretmanager.secrets.list"),
    needs("secrets", "versions", "secretmanager.versions.list"),
    needs("secrets", "aliases", "secretmanager.secrets.get"),
    needs("secrets", "create", "secretmanager.secrets.create"),
    needs("secrets", "add_version", "secretmanager.versions.add"),
    needs("secrets", "set_alias", "secretmanager.secrets.update"),
    needs("secrets", "enable", "secretmanager.versions.enable"),
    needs("secrets", "disable", "secretmanager.versions.disable"),
    needs("secrets", "destroy", "secretmanager.versions.destroy"),
    needs("iam", "list_keys", "iam.serviceAccountKeys.list"),
    needs("iam", "create_key", "iam.serviceAccountKeys.create"),
    needs("iam", "disable_key", "iam.serviceAccountKeys.disable"),
    needs("iam", "enable_key", "iam.serviceAccountKeys.enable"),
    needs("iam", "delete_key", "iam.serviceAccountKeys.delete"),
    needs_nothing(
        "iam",
        "verify_key",
        "signs a JWT with the key under test and trades it at the token endpoint: the key is the credential, not the caller's",
    ),
    needs(
        "iam",
        "project_bindings",
        "resourcemanager.projects.getIamPolicy",
    ),
    needs(
        "iam",
        "keys_last_used",
        "policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query",
    ),
    needs("wif", "pool", "iam.workloadIdentityPools.get"),
    needs("wif", "create_pool", "iam.workloadIdentityPools.create"),
    needs("wif", "undelete_pool", "iam.workloadIdentityPools.undelete"),
    needs("wif", "provider", "iam.workloadIdentityPoolProviders.get"),
    needs(
        "wif",
        "create_provider",
        "iam.workloadIdentityPoolProviders.create",
    ),
    needs(
        "wif",
        "undelete_provider",
        "iam.workloadIdentityPoolProviders.undelete",
    ),
    needs("wif", "project_number", "resourcemanager.projects.get"),
    needs(
        "wif",
        "account_bindings",
        "iam.serviceAccounts.getIamPolicy",
    ),
    needs(
        "wif",
        "bind_workload_identity_user",
        "iam.serviceAccounts.getIamPolicy",
    ),
    needs(
        "wif",
        "bind_workload_identity_user",
        "iam.serviceAccounts.setIamPolicy",
    ),
    needs_nothing(
        "wif",
        "verify",
        "only the STS exchange: the repository's OIDC ID token is the credential at sts.googleapis.com, and the federated token it yields calls generateAccessToken, which the account's roles/iam.workloadIdentityUser binding allows",
    ),
    needs_nothing(
        "wif",
        "cloud_run",
        "reads [cloud_run] of orchestra.toml; sends no request",
    ),
    needs("cloudrun", "service", "run.services.get"),
    needs("cloudrun", "serves", "run.services.get"),
    needs("cloudrun", "services", "run.services.list"),
    needs("services", "enabled", "serviceusage.services.list"),
    needs("services", "enable", "serviceusage.services.enable"),
    needs("budget", "usage", "monitoring.timeSeries.list"),
    needs("budget", "status", "monitoring.timeSeries.list"),
    needs("budget", "within", "monitoring.timeSeries.list"),
];

/// The classic-token scope each GitHub primitive needs.
pub const GITHUB: &[Requirement] = &[
    needs("github", "list_secrets", "repo"),
    needs("github", "put_secret", "repo"),
    needs("github", "put_secrets", "repo"),
    needs("github", "delete_secret", "repo"),
    needs("github", "dispatch_workflow", "repo"),
    needs("github", "variable", "repo"),
    needs("github", "variables", "repo"),
    needs("github", "set_variable", "repo"),
    needs("github", "delete_variable", "repo"),
];

/// The modules whose calls reach Google Cloud.
pub const GOOGLE_MODULES: &[&str] = &[
    "secrets",
    "iam",
    "wif",
    "services",
    "budget",
    "firestore",
    "cloudrun",
];

/// The modules whose calls reach GitHub.
pub const GITHUB_MODULES: &[&str] = &["github", "monitor"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_primitive_is_either_permissioned_or_explains_why_not() {
        for row in GOOGLE {
            if let Need::Nothing(why) = row.need {
                let needs_too = GOOGLE.iter().any(|other| {
                    (other.module, other.function) == (row.module, row.function)
                        && matches!(other.need, Need::Permission(_))
                });
                assert!(
                    !needs_too,
                    "{}::{} both needs and does not",
                    row.module, row.function
                );
                assert!(!why.is_empty());
            }
        }
        let verify = GOOGLE
            .iter()
            .find(|row| (row.module, row.function) == ("wif", "verify"))
            .map(|row| row.need);
        assert!(matches!(verify, Some(Need::Nothing(_))), "{verify:?}");
    }
}
