//! Refuses an `orchestra.toml` that holds something that looks like a credential, by the
//! scanner's own rules (`rules/scan.toml`, by the value's shape): the error names the field and where the value
//! belongs (`secret::` from Secret Manager, or an environment variable), never the value.
//! Only strings long enough to be a credential are looked at, so a config without any never
//! compiles the rules.

use std::sync::Arc;

use crate::scan::matcher::{Matcher, Source};
use crate::scan::rules::RuleSet;
use crate::secret::FingerprintKey;

/// Shorter strings are not looked at (no shipped rule matches fewer characters).
const SHORTEST_CANDIDATE: usize = 16;

/// Every string leaf of `table` with its dotted field path.
fn leaves(prefix: &str, value: &toml::Value, out: &mut Vec<(String, String)>) {
    match value {
        toml::Value::String(text) => out.push((prefix.to_owned(), text.clone())),
        toml::Value::Table(table) => {
            for (key, inner) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(&path, inner, out);
            }
        }
        toml::Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                leaves(&format!("{prefix}[{index}]"), inner, out);
            }
        }
        _ => {}
    }
}

/// `Err` naming the first field of `text` (the file's TOML) whose value looks like a
/// credential.
pub fn refuse_credentials(file: &str, text: &str) -> Result<(), String> {
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return Ok(()); // the loader reports the syntax error with its position
    };
    let mut strings = Vec::new();
    leaves("", &toml::Value::Table(table), &mut strings);
    strings.retain(|(_, value)| {
        value.len() >= SHORTEST_CANDIDATE && !value.chars().any(char::is_whitespace)
    });
    if strings.is_empty() {
        return Ok(());
    }
    let rules = RuleSet::shipped().map_err(|e| e.to_string())?;
    let matcher =
        Matcher::new(rules, Arc::new(FingerprintKey::ephemeral())).map_err(|e| e.to_string())?;
    for (field, value) in &strings {
        // The value alone under a neutral key: a field's own name (`secret_manager_url`,
        // `token_env`) would wake the keyword rules on what is only an address or a name.
        let line = format!("value = \"{value}\"");
        let source = Source {
            path: file,
            commit: None,
            line_numbers: None,
        };
        if let Some(finding) = matcher.scan(source, &line).first() {
            return Err(format!(
                "field `{field}` in {file} looks like a credential (scanner rule {}): keep it out of the file, in Secret Manager read with secret::access (or secret::from_env with the variable listed in [scope].env), or name an environment variable in a *_env field",
                finding.rule
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::refuse_credentials;

    #[test]
    fn a_token_in_the_file_is_refused_by_field_without_its_value() {
        // Put together here so the repository's own scan finds no token in this file.
        let token = &format!("{}_{}", "ghp", "0123456789abcdefABCDEF0123456789abcd");
        let text = format!(
            "[github]\ntoken_env = \"GITHUB_TOKEN\"\n\n[profiles.ci.notify]\nwebhook = \"{token}\"\n"
        );
        let err = refuse_credentials("orchestra.toml", &text).unwrap_err();
        assert!(err.contains("profiles.ci.notify.webhook"), "{err}");
        assert!(err.contains("secret::"), "{err}");
        assert!(
            !err.contains(token.as_str()) && !err.contains("0123456789ab"),
            "{err}"
        );
    }

    #[test]
    fn an_ordinary_config_passes() {
        let text = "[gcp]\nproject = \"demo-project\"\nrun_url = \"http://127.0.0.1:8900\"\n\
                    [github]\ntoken_env = \"GITHUB_TOKEN\"\n[paths]\nstate_db = \".orchestra/state.db\"\n";
        assert_eq!(refuse_credentials("orchestra.toml", text), Ok(()));
    }
}
