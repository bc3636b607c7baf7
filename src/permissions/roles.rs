//! The predefined Google Cloud roles that grant what orchestra's primitives call, with those
//! permissions, and the roles too broad to keep.
//!
//! Source: Google's IAM roles and permissions reference
//! (https://cloud.google.com/iam/docs/roles-permissions, e.g. `.../roles-permissions/secretmanager`,
//! `.../iam`, `.../resourcemanager`, `.../serviceusage`, `.../run`, `.../monitoring`,
//! `.../policyanalyzer`). Each list holds every permission of the role that the permission map
//! ([`super::GOOGLE`]) names, and every `*.setIamPolicy` of it (the power to grant access, which
//! advice counts against a role even though no playbook calls it); a role's other permissions
//! (e.g. the many of `roles/run.viewer` and `roles/monitoring.viewer`) are left out.

/// A predefined role and the permissions of it that orchestra's primitives use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PredefinedRole {
    /// The role's name, `roles/...`.
    pub name: &'static str,
    /// Its permissions that the permission map names, and its `*.setIamPolicy`, sorted.
    pub permissions: &'static [&'static str],
}

impl PredefinedRole {
    /// Whether the role grants `permission`.
    pub fn grants(&self, permission: &str) -> bool {
        self.permissions.contains(&permission)
    }
}

const fn role(name: &'static str, permissions: &'static [&'static str]) -> PredefinedRole {
    PredefinedRole { name, permissions }
}

/// The narrow roles advice is made of.
pub const PREDEFINED: &[PredefinedRole] = &[
    role(
        "roles/secretmanager.secretAccessor",
        &[
            "resourcemanager.projects.get",
            "secretmanager.versions.access",
        ],
    ),
    role(
        "roles/secretmanager.viewer",
        &[
            "resourcemanager.projects.get",
            "secretmanager.secrets.get",
            "secretmanager.secrets.list",
            "secretmanager.versions.list",
        ],
    ),
    role(
        "roles/secretmanager.secretVersionAdder",
        &["resourcemanager.projects.get", "secretmanager.versions.add"],
    ),
    role(
        "roles/secretmanager.secretVersionManager",
        &[
            "resourcemanager.projects.get",
            "secretmanager.versions.add",
            "secretmanager.versions.destroy",
            "secretmanager.versions.disable",
            "secretmanager.versions.enable",
            "secretmanager.versions.list",
        ],
    ),
    role(
        "roles/secretmanager.editor",
        &[
            "resourcemanager.projects.get",
            "secretmanager.secrets.create",
            "secretmanager.secrets.get",
            "secretmanager.secrets.list",
            "secretmanager.secrets.update",
            "secretmanager.versions.add",
            "secretmanager.versions.destroy",
            "secretmanager.versions.disable",
            "secretmanager.versions.enable",
            "secretmanager.versions.list",
        ],
    ),
    role(
        "roles/secretmanager.admin",
        &[
            "resourcemanager.projects.get",
            "secretmanager.secrets.create",
            "secretmanager.secrets.get",
            "secretmanager.secrets.list",
            "secretmanager.secrets.setIamPolicy",
            "secretmanager.secrets.update",
            "secretmanager.versions.access",
            "secretmanager.versions.add",
            "secretmanager.versions.destroy",
            "secretmanager.versions.disable",
            "secretmanager.versions.enable",
            "secretmanager.versions.list",
        ],
    ),
    role(
        "roles/iam.serviceAccountKeyAdmin",
        &[
            "iam.serviceAccountKeys.create",
            "iam.serviceAccountKeys.delete",
            "iam.serviceAccountKeys.disable",
            "iam.serviceAccountKeys.enable",
            "iam.serviceAccountKeys.list",
            "resourcemanager.projects.get",
        ],
    ),
    role(
        "roles/iam.serviceAccountViewer",
        &[
            "iam.serviceAccountKeys.list",
            "iam.serviceAccounts.getIamPolicy",
            "resourcemanager.projects.get",
        ],
    ),
    role(
        "roles/iam.serviceAccountAdmin",
        &[
            "iam.serviceAccounts.getIamPolicy",
            "iam.serviceAccounts.setIamPolicy",
            "resourcemanager.projects.get",
        ],
    ),
    role(
        "roles/iam.workloadIdentityPoolViewer",
        &[
            "iam.workloadIdentityPoolProviders.get",
            "iam.workloadIdentityPools.get",
            "resourcemanager.projects.get",
        ],
    ),
    role(
        "roles/iam.workloadIdentityPoolAdmin",
        &[
            "iam.workloadIdentityPoolProviders.create",
            "iam.workloadIdentityPoolProviders.get",
            "iam.workloadIdentityPoolProviders.undelete",
            "iam.workloadIdentityPools.create",
            "iam.workloadIdentityPools.get",
            "iam.workloadIdentityPools.undelete",
            "resourcemanager.projects.get",
        ],
    ),
    role(
        "roles/browser",
        &[
            "resourcemanager.projects.get",
            "resourcemanager.projects.getIamPolicy",
        ],
    ),
    role(
        "roles/serviceusage.serviceUsageViewer",
        &["monitoring.timeSeries.list", "serviceusage.services.list"],
    ),
    role(
        "roles/serviceusage.serviceUsageAdmin",
        &[
            "monitoring.timeSeries.list",
            "serviceusage.services.enable",
            "serviceusage.services.list",
        ],
    ),
    role(
        "roles/monitoring.viewer",
        &["monitoring.timeSeries.list", "resourcemanager.projects.get"],
    ),
    role(
        "roles/run.viewer",
        &["run.services.get", "run.services.list"],
    ),
    role(
        "roles/policyanalyzer.activityAnalysisViewer",
        &["policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query"],
    ),
];

/// Why a role is too broad to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breadth {
    /// A basic role: thousands of permissions across every service of the project.
    Basic,
    /// It may set the project's IAM policy, so it can grant its holder any role.
    GrantsAnyRole,
}

impl Breadth {
    /// Why, in words for a report.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Basic => "a basic role: most permissions of every service in the project",
            Self::GrantsAnyRole => {
                "it may set the project's IAM policy, so it can grant itself any role"
            }
        }
    }
}

/// The roles flagged as broad, and why.
pub const BROAD: &[(&str, Breadth)] = &[
    ("roles/owner", Breadth::Basic),
    ("roles/editor", Breadth::Basic),
    ("roles/iam.securityAdmin", Breadth::GrantsAnyRole),
    (
        "roles/resourcemanager.projectIamAdmin",
        Breadth::GrantsAnyRole,
    ),
];

/// How broad `role` is, or `None` for a role not flagged.
pub fn breadth(role: &str) -> Option<Breadth> {
    BROAD
        .iter()
        .find(|(name, _)| *name == role)
        .map(|(_, breadth)| *breadth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_permission_is_one_the_map_names() {
        let named = |p: &str| {
            super::super::GOOGLE
                .iter()
                .any(|row| matches!(row.need, super::super::Need::Permission(q) if q == p))
        };
        for role in PREDEFINED {
            for permission in role.permissions {
                assert!(
                    named(permission) || permission.ends_with(".setIamPolicy"),
                    "{} lists {permission}, which no primitive calls",
                    role.name
                );
            }
            assert!(role.permissions.is_sorted(), "{} sorted", role.name);
            assert!(
                breadth(role.name).is_none(),
                "{} is both narrow and broad",
                role.name
            );
        }
        assert!(PREDEFINED.len() <= super::super::advice::MAX_CANDIDATES);
    }
}
