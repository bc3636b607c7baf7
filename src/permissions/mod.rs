//! What orchestra's primitives need from Google Cloud and GitHub, and which predefined roles
//! grant it: the permission map (primitive → IAM permission or GitHub scope), what the
//! configured playbooks call (read from their AST), a table of the predefined roles those
//! permissions come in, and the narrowest set of those roles covering a set of permissions.
//!
//! Shared by `orchestra doctor` (which asks `testIamPermissions` for the calls' permissions)
//! and the `iam::advised_roles` primitive (the audit's advice for a broad grant). Pure data and
//! computation: no network, no CLI, no Rhai registration.

mod advice;
mod map;
mod roles;
mod usage;

pub use advice::{Advice, Cover, advise, narrowest_roles};
pub use map::{GITHUB, GITHUB_MODULES, GOOGLE, GOOGLE_MODULES, Need, Requirement};
pub use roles::{BROAD, Breadth, PREDEFINED, PredefinedRole, breadth};
pub use usage::Usage;
