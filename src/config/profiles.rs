//! `[profiles.NAME]` and `[endpoints.NAME]`: a profile is any part of `orchestra.toml` written
//! again under `[profiles.NAME]` and laid over the base file when NAME is the profile in use
//! (`--profile`, `ORCHESTRA_PROFILE`, else the detected environment's name when such a profile
//! exists); `ORCHESTRA_*` overrides and flags still come after it. An endpoint is a URL per
//! profile (or environment), with `default` for the rest.

use std::collections::BTreeMap;

use figment::Figment;

/// A profile name: letters, digits, `-` and `_`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The layer of profile `name` in `figment` (the file merged), if the file has one.
pub fn layer(figment: &Figment, name: &str) -> Result<Option<toml::Table>, String> {
    if !valid_name(name) {
        return Err(format!(
            "profile: expected a name of letters, digits, - and _, found '{name}'"
        ));
    }
    let path = format!("profiles.{name}");
    if !figment.contains(&path) {
        return Ok(None);
    }
    let table: toml::Table = figment
        .extract_inner(&path)
        .map_err(|e| format!("[{path}]: expected a table of config sections ({e})"))?;
    if table.contains_key("profiles") {
        return Err(format!("[{path}]: a profile cannot hold profiles"));
    }
    Ok(Some(table))
}

/// The URL of endpoint `name` for `profile` (else `environment`, else `default`).
pub fn resolve<'a>(
    endpoints: &'a BTreeMap<String, BTreeMap<String, String>>,
    name: &str,
    profile: Option<&str>,
    environment: &str,
) -> Result<&'a str, String> {
    let urls = endpoints.get(name).ok_or_else(|| {
        format!(
            "no endpoint '{name}': add [endpoints.{name}] with default = \"URL\" to orchestra.toml"
        )
    })?;
    profile
        .and_then(|p| urls.get(p))
        .or_else(|| urls.get(environment))
        .or_else(|| urls.get("default"))
        .map(String::as_str)
        .ok_or_else(|| {
            format!(
                "endpoint '{name}' has no URL for profile {} or environment {environment}, and no default: add one to [endpoints.{name}]",
                profile.unwrap_or("(none)")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_resolves_by_profile_then_environment_then_default() {
        let endpoints = BTreeMap::from([(
            "memory".to_owned(),
            BTreeMap::from([
                ("default".to_owned(), "http://localhost:8080".to_owned()),
                ("ci".to_owned(), "https://ci.example".to_owned()),
                ("cloud-run".to_owned(), "https://run.example".to_owned()),
            ]),
        )]);
        let at = |profile, environment| resolve(&endpoints, "memory", profile, environment);
        assert_eq!(at(Some("ci"), "local"), Ok("https://ci.example"));
        assert_eq!(at(None, "cloud-run"), Ok("https://run.example"));
        assert_eq!(at(Some("other"), "local"), Ok("http://localhost:8080"));
        let missing = resolve(&endpoints, "nosuch", None, "local").unwrap_err();
        assert!(missing.contains("[endpoints.nosuch]"), "{missing}");
    }
}
