//! What a plan answers in place of a value only the apply would have (the id of a key not yet
//! created, the outcome of a write not yet made), written as what it stands for: a playbook that
//! prints one under `--plan` reads "(the new key)", never "planned" or an empty string.

use rhai::Dynamic;

/// A value a plan stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// The id of the key `iam::create_key` would create.
    NewKey,
    /// The outcome of a write the plan only lists ("created" or "updated" on apply).
    WriteOutcome,
    /// The state a version would be left in by an enable, disable or destroy.
    VersionState,
    /// When a token the plan would mint expires.
    NewTokenExpiry,
}

impl Placeholder {
    /// The words a person reads in its place.
    pub fn text(self) -> &'static str {
        match self {
            Self::NewKey => "(the new key)",
            Self::WriteOutcome => "(written by this run)",
            Self::VersionState => "(the state this run sets)",
            Self::NewTokenExpiry => "(when the new token expires)",
        }
    }

    /// The script value: its text, so it prints, compares and interpolates as a string does.
    pub fn value(self) -> Dynamic {
        self.text().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_reads_as_what_it_stands_for() {
        for p in [
            Placeholder::NewKey,
            Placeholder::WriteOutcome,
            Placeholder::VersionState,
            Placeholder::NewTokenExpiry,
        ] {
            let text = p.value().into_string().unwrap_or_default();
            assert!(text.starts_with("(") && text.ends_with(")"), "{text}");
            assert!(!text.contains("planned"), "{text}");
        }
    }
}
