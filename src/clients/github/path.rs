//! REST paths built from fixed words and typed names, each name percent-encoded as one path
//! segment: a name can never add a segment, a query or a fragment to the URL it is put in.

use std::fmt::Write as _;

use crate::clients::http::encode_component;

/// A GitHub REST path (`/repos/acme/api/actions/secrets`), relative to the API base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPath(String);

impl ApiPath {
    /// A path of fixed words, such as `["repos"]` or `["rate_limit"]`.
    pub fn of(words: &[&'static str]) -> Self {
        let mut path = Self(String::new());
        for word in words {
            path = path.word(word);
        }
        path
    }

    /// Adds a fixed word of orchestra's own (never script data).
    pub fn word(mut self, word: &'static str) -> Self {
        self.0.push('/');
        self.0.push_str(word);
        self
    }

    /// Adds a name as one encoded segment.
    pub fn name(mut self, name: &str) -> Self {
        self.0.push('/');
        self.0.push_str(&encode_component(name));
        self
    }

    /// Adds a number as one segment.
    pub fn number(mut self, number: u64) -> Self {
        let _ = write!(self.0, "/{number}");
        self
    }

    /// The path with a query of encoded `pairs`.
    pub fn with_query(&self, pairs: &[(&'static str, String)]) -> String {
        let mut text = self.0.clone();
        for (index, (key, value)) in pairs.iter().enumerate() {
            text.push(if index == 0 { '?' } else { '&' });
            text.push_str(key);
            text.push('=');
            text.push_str(&encode_component(value));
        }
        text
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_stays_one_segment() {
        let path = ApiPath::of(&["repos"])
            .name("acme")
            .name("api")
            .word("environments")
            .name("review/web 1?x#y%2e");
        assert_eq!(
            path.as_str(),
            "/repos/acme/api/environments/review%2Fweb%201%3Fx%23y%252e"
        );
        assert_eq!(
            ApiPath::of(&["rate_limit"]).with_query(&[("page", "1&a=b".into())]),
            "/rate_limit?page=1%26a%3Db"
        );
    }
}
