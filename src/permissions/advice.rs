//! The narrowest set of predefined roles granting a set of permissions, and the advice for an
//! account that holds a broad role: which roles to grant in its place.
//!
//! "Narrowest" is, in order: the fewest permissions granted beyond those asked for (as far as
//! [`super::PREDEFINED`] lists them, `*.setIamPolicy` included), then the fewest roles, then the
//! first names in alphabetical order (so the answer is stable).

use std::collections::BTreeSet;

use super::roles::{Breadth, PREDEFINED, PredefinedRole, breadth};

/// The most roles the exhaustive search weighs at once (it tries every subset of them).
pub(super) const MAX_CANDIDATES: usize = 20;

/// Roles that together grant some permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cover {
    /// The roles to grant, sorted by name.
    pub roles: Vec<&'static str>,
    /// The permissions asked for that no role of the table grants (a custom role is then the
    /// narrow answer), sorted.
    pub uncovered: Vec<String>,
}

/// What to do about an account's broad roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advice {
    /// The roles it holds that are too broad, each with why.
    pub broad: Vec<(String, Breadth)>,
    /// The narrow roles of the table it holds already, which stay.
    pub kept: Vec<&'static str>,
    /// The roles to grant in place of the broad ones, for what the playbooks call and the kept
    /// roles do not grant; empty when it holds no broad role.
    pub replace_with: Cover,
}

/// The narrowest set of predefined roles granting every one of `permissions`.
pub fn narrowest_roles<'a>(permissions: impl IntoIterator<Item = &'a str>) -> Cover {
    let wanted: BTreeSet<&str> = permissions.into_iter().collect();
    let (target, uncovered): (BTreeSet<&str>, BTreeSet<&str>) = wanted
        .iter()
        .partition(|p| PREDEFINED.iter().any(|role| role.grants(p)));
    let candidates: Vec<&PredefinedRole> = PREDEFINED
        .iter()
        .filter(|role| target.iter().any(|p| role.grants(p)))
        .take(MAX_CANDIDATES)
        .collect();
    let mut best: Option<(usize, usize, Vec<&'static str>)> = None;
    if !target.is_empty() {
        for mask in 1u32..(1 << candidates.len()) {
            let chosen: Vec<&PredefinedRole> = candidates
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, role)| *role)
                .collect();
            let granted: BTreeSet<&str> = chosen
                .iter()
                .flat_map(|role| role.permissions.iter().copied())
                .collect();
            if !target.is_subset(&granted) {
                continue;
            }
            let mut names: Vec<&'static str> = chosen.iter().map(|role| role.name).collect();
            names.sort_unstable();
            let key = (granted.len() - target.len(), names.len(), names);
            if best.as_ref().is_none_or(|current| key < *current) {
                best = Some(key);
            }
        }
    }
    Cover {
        roles: best.map(|(_, _, names)| names).unwrap_or_default(),
        uncovered: uncovered.into_iter().map(str::to_owned).collect(),
    }
}

/// The advice for an account holding `held` roles when the playbooks need `needed`: the broad
/// roles it should lose and the narrowest roles to grant instead, beside the narrow ones it
/// keeps.
pub fn advise<'a>(
    held: impl IntoIterator<Item = &'a str>,
    needed: impl IntoIterator<Item = &'a str>,
) -> Advice {
    let held: Vec<&str> = held.into_iter().collect();
    let broad: Vec<(String, Breadth)> = held
        .iter()
        .filter_map(|role| breadth(role).map(|b| ((*role).to_owned(), b)))
        .collect();
    let kept: Vec<&PredefinedRole> = PREDEFINED
        .iter()
        .filter(|role| held.contains(&role.name))
        .collect();
    let replace_with = if broad.is_empty() {
        Cover::default()
    } else {
        narrowest_roles(
            needed
                .into_iter()
                .filter(|p| !kept.iter().any(|role| role.grants(p))),
        )
    };
    Advice {
        broad,
        kept: kept.iter().map(|role| role.name).collect(),
        replace_with,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_role_that_grants_exactly_what_is_asked_wins() {
        let cover = narrowest_roles([
            "iam.serviceAccountKeys.create",
            "iam.serviceAccountKeys.delete",
        ]);
        assert_eq!(cover.roles, ["roles/iam.serviceAccountKeyAdmin"]);
        assert!(cover.uncovered.is_empty());
    }

    #[test]
    fn a_role_that_can_grant_access_loses_to_two_that_cannot() {
        // secretmanager.admin grants all four, but also secrets.setIamPolicy; the editor and
        // the accessor together grant the four and nothing that hands out access.
        let cover = narrowest_roles([
            "secretmanager.secrets.create",
            "secretmanager.secrets.update",
            "secretmanager.versions.access",
            "secretmanager.versions.add",
        ]);
        assert_eq!(
            cover.roles,
            [
                "roles/secretmanager.editor",
                "roles/secretmanager.secretAccessor"
            ]
        );
    }

    #[test]
    fn the_smaller_role_is_chosen_when_it_is_enough() {
        let cover = narrowest_roles(["secretmanager.versions.add"]);
        assert_eq!(cover.roles, ["roles/secretmanager.secretVersionAdder"]);
    }

    #[test]
    fn a_permission_no_listed_role_grants_is_reported_not_dropped() {
        let cover = narrowest_roles(["run.services.get", "storage.buckets.create"]);
        assert_eq!(cover.roles, ["roles/run.viewer"]);
        assert_eq!(cover.uncovered, ["storage.buckets.create"]);
    }

    #[test]
    fn an_editor_is_advised_the_roles_the_playbooks_need_beyond_those_it_keeps() {
        let needed = [
            "iam.serviceAccountKeys.list",
            "iam.serviceAccountKeys.create",
            "secretmanager.versions.access",
            "secretmanager.versions.add",
        ];
        let advice = advise(
            ["roles/editor", "roles/secretmanager.secretAccessor"],
            needed,
        );
        assert_eq!(advice.broad, [("roles/editor".to_owned(), Breadth::Basic)]);
        assert_eq!(advice.kept, ["roles/secretmanager.secretAccessor"]);
        assert_eq!(
            advice.replace_with.roles,
            [
                "roles/iam.serviceAccountKeyAdmin",
                "roles/secretmanager.secretVersionAdder"
            ]
        );
    }

    #[test]
    fn an_account_without_a_broad_role_gets_no_advice() {
        let advice = advise(
            ["roles/secretmanager.secretAccessor"],
            ["secretmanager.versions.add"],
        );
        assert!(advice.broad.is_empty());
        assert_eq!(advice.replace_with, Cover::default());
    }
}
