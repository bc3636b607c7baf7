//! Secret names as Secret Manager takes and echoes them: a secret id is `[a-zA-Z0-9_-]{1,255}`
//! (a refusal quotes the message production sends), a project is given by id or number and
//! echoed by number, and a regional secret (`projects/P/locations/L/secrets/S`) lives in its
//! own namespace: `s` in `us-east1` is not the global `s`.

use crate::http_util::{GoogleCode, Response, google_error};
use crate::state::State;

/// Where a request's secrets live: a project, and a location for regional secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Parent<'a> {
    /// The project as the request gave it (id or number).
    pub project: &'a str,
    /// `Some(location)` for `projects/P/locations/L/...`.
    pub location: Option<&'a str>,
}

/// A resolved secret name.
pub(super) struct Name {
    /// Key in the store: `projects/{id}[/locations/{l}]/secrets/{s}`.
    pub key: String,
    /// As responses show it: `projects/{number}[/locations/{l}]/secrets/{s}`.
    pub shown: String,
}

/// Whether `id` is a secret id Secret Manager accepts.
pub(super) fn valid_secret_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// The refusal of a malformed secret id, in the words production uses (the message names
/// `[a-zA-Z_0-9]+` although hyphens are accepted and 255 characters is the most).
pub(super) fn bad_secret_id(id: &str) -> Response {
    google_error(
        GoogleCode::InvalidArgument,
        &format!(
            "The provided Secret ID [{id}] does not match the expected format [[a-zA-Z_0-9]+]"
        ),
    )
}

/// Whether `location` looks like a Google Cloud region (`us-east1`, `europe-west4`).
fn valid_location(location: &str) -> bool {
    !location.is_empty()
        && location.len() <= 63
        && location
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && location
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
}

/// Splits `projects/P[/locations/L]/rest...` into its parent and the rest; `None` when the
/// path does not start with a project.
pub(super) fn split_parent<'a>(segments: &'a [&'a str]) -> Option<(Parent<'a>, &'a [&'a str])> {
    match segments {
        ["projects", project, "locations", location, rest @ ..] => Some((
            Parent {
                project,
                location: Some(location),
            },
            rest,
        )),
        ["projects", project, rest @ ..] => Some((
            Parent {
                project,
                location: None,
            },
            rest,
        )),
        _ => None,
    }
}

impl Parent<'_> {
    /// The project's id and number, or the refusal an unknown project or bad location gets.
    pub fn resolve(&self, state: &State) -> Result<(String, u64), Response> {
        if let Some(location) = self.location
            && !valid_location(location)
        {
            return Err(google_error(
                GoogleCode::InvalidArgument,
                &format!("Location [{location}] is not a valid Secret Manager location."),
            ));
        }
        super::super::project(state, self.project).ok_or_else(|| {
            google_error(
                GoogleCode::NotFound,
                &format!("Project {} not found or permission denied.", self.project),
            )
        })
    }

    /// `projects/{project}[/locations/{l}]` for the given project spelling.
    pub fn path(&self, project: &str) -> String {
        match self.location {
            Some(location) => format!("projects/{project}/locations/{location}"),
            None => format!("projects/{project}"),
        }
    }

    /// The store-key prefix of this parent's secrets (`projects/{id}[/locations/{l}]/secrets/`).
    pub fn key_prefix(&self, state: &State) -> Result<(String, String), Response> {
        let (id, number) = self.resolve(state)?;
        Ok((
            format!("{}/secrets/", self.path(&id)),
            format!("{}/secrets/", self.path(&number.to_string())),
        ))
    }

    /// The secret `secret` under this parent, its id checked.
    pub fn secret(&self, state: &State, secret: &str) -> Result<Name, Response> {
        if !valid_secret_id(secret) {
            return Err(bad_secret_id(secret));
        }
        let (key, shown) = self.key_prefix(state)?;
        Ok(Name {
            key: format!("{key}{secret}"),
            shown: format!("{shown}{secret}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_take_letters_digits_hyphens_and_underscores_up_to_255() {
        assert!(valid_secret_id("API_key-2"));
        assert!(valid_secret_id(&"a".repeat(255)));
        assert!(!valid_secret_id(&"a".repeat(256)));
        assert!(!valid_secret_id(""));
        assert!(!valid_secret_id("a.b"));
        assert!(!valid_secret_id("a%2Fb"));
        assert!(!valid_secret_id("é"));
    }

    #[test]
    fn a_location_makes_a_regional_parent() {
        let segments = ["projects", "p", "locations", "us-east1", "secrets", "s"];
        let (parent, rest) = split_parent(&segments).unwrap();
        assert_eq!(parent.location, Some("us-east1"));
        assert_eq!(rest, ["secrets", "s"]);
        let segments = ["projects", "p", "secrets"];
        let (parent, rest) = split_parent(&segments).unwrap();
        assert_eq!(parent.location, None);
        assert_eq!(rest, ["secrets"]);
        assert!(valid_location("europe-west4"));
        assert!(!valid_location("US-EAST1"));
        assert!(!valid_location("-x"));
    }
}
