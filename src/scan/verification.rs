//! What verifying a finding established: live, refused or unknown, and the non-secret facts
//! the issuer told (owner, scopes, key id). Never the value.

use serde::{Deserialize, Serialize};

/// The three outcomes of asking a credential's issuer about it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The issuer accepted it: it works today.
    Live,
    /// The issuer refused it (revoked, deleted, disabled).
    Refused,
    /// No check exists, the value was not sent, or no answer could be trusted.
    Unknown,
}

impl Outcome {
    /// `live`, `refused` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Refused => "refused",
            Self::Unknown => "unknown",
        }
    }
}

/// What the issuer said of one finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Verification {
    /// Live, refused or unknown.
    pub outcome: Outcome,
    /// Who answered and what they said, in words (never the value).
    pub detail: String,
    /// The GitHub login a token acts as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// A classic GitHub token's scopes (`X-OAuth-Scopes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// A service-account key's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// A service-account key's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Whether IAM still lists the key id (None: IAM could not be asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_in_iam: Option<bool>,
}

impl Verification {
    /// An outcome with only a detail.
    pub fn new(outcome: Outcome, detail: impl Into<String>) -> Self {
        Self {
            outcome,
            detail: detail.into(),
            owner: None,
            scopes: Vec::new(),
            account: None,
            key_id: None,
            key_in_iam: None,
        }
    }

    /// `unknown`, with why.
    pub fn unknown(detail: impl Into<String>) -> Self {
        Self::new(Outcome::Unknown, detail)
    }

    /// One line for people: `live (demo-user; scopes repo)`.
    pub fn summary(&self) -> String {
        let mut facts = Vec::new();
        if let Some(owner) = &self.owner {
            facts.push(format!("owner {owner}"));
        }
        if !self.scopes.is_empty() {
            facts.push(format!("scopes {}", self.scopes.join(",")));
        }
        if let (Some(account), Some(id)) = (&self.account, &self.key_id) {
            facts.push(format!("key {id} of {account}"));
        }
        match self.key_in_iam {
            Some(true) => facts.push("IAM lists the key".into()),
            Some(false) => facts.push("IAM no longer lists the key".into()),
            None => {}
        }
        facts.push(self.detail.clone());
        format!("{} ({})", self.outcome.as_str(), facts.join("; "))
    }
}
