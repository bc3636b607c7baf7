//! Label rules of a Secret, as its reference documents them: keys 1–63 characters matching
//! `[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}`, values 0–63 characters matching
//! `[\p{Ll}\p{Lo}\p{N}_-]{0,63}`, each at most 128 bytes of UTF-8, at most 64 labels.
//!
//! `\p{Ll}` is taken as `char::is_lowercase`, `\p{Lo}` as a letter that is neither upper- nor
//! lowercase, `\p{N}` as `char::is_numeric`. Google's refusal text is not documented; the
//! message here names the label and the rule it broke.

use std::collections::BTreeMap;

use crate::http_util::{GoogleCode, Response, google_error};

/// Most labels one secret may carry.
const MAX_LABELS: usize = 64;
/// Longest key or value, in characters.
const MAX_CHARS: usize = 63;
/// Longest key or value, in bytes of UTF-8.
const MAX_BYTES: usize = 128;

fn lower_or_other_letter(c: char) -> bool {
    c.is_lowercase() || (c.is_alphabetic() && !c.is_uppercase())
}

fn tail_char(c: char) -> bool {
    lower_or_other_letter(c) || c.is_numeric() || c == '_' || c == '-'
}

fn key_ok(key: &str) -> bool {
    let count = key.chars().count();
    (1..=MAX_CHARS).contains(&count)
        && key.len() <= MAX_BYTES
        && key.chars().next().is_some_and(lower_or_other_letter)
        && key.chars().all(tail_char)
}

fn value_ok(value: &str) -> bool {
    value.chars().count() <= MAX_CHARS && value.len() <= MAX_BYTES && value.chars().all(tail_char)
}

/// Checks `labels` against the documented rules; the refusal names the first label that
/// breaks one.
pub(super) fn check(labels: &BTreeMap<String, String>) -> Result<(), Response> {
    if labels.len() > MAX_LABELS {
        return Err(google_error(
            GoogleCode::InvalidArgument,
            &format!(
                "Invalid value at 'secret.labels': {} labels given, at most {MAX_LABELS} are allowed.",
                labels.len()
            ),
        ));
    }
    for (key, value) in labels {
        if !key_ok(key) {
            return Err(google_error(
                GoogleCode::InvalidArgument,
                &format!(
                    "Invalid label key [{key}]: a label key must be 1 to 63 characters, start with a lowercase letter and contain only lowercase letters, digits, underscores and hyphens."
                ),
            ));
        }
        if !value_ok(value) {
            return Err(google_error(
                GoogleCode::InvalidArgument,
                &format!(
                    "Invalid value for label [{key}]: a label value must be at most 63 characters and contain only lowercase letters, digits, underscores and hyphens."
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn keys_start_with_a_lowercase_letter_and_values_may_be_empty() {
        assert!(
            check(&labels(&[
                ("managed-by", "orchestra"),
                ("env_1", ""),
                ("ключ", "значение")
            ]))
            .is_ok()
        );
        for bad in ["Team", "1team", "", "a.b", "a b"] {
            assert!(check(&labels(&[(bad, "x")])).is_err(), "{bad:?}");
        }
        assert!(check(&labels(&[(&"k".repeat(64), "x")])).is_err());
        assert!(check(&labels(&[("k", "Upper")])).is_err());
        assert!(check(&labels(&[("k", &"v".repeat(64))])).is_err());
    }

    #[test]
    fn no_more_than_64_labels() {
        let many: BTreeMap<String, String> =
            (0..65).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(check(&many).is_err());
    }
}
