//! The vocabulary of the gate: what a primitive does to the world, how it looks to a playbook
//! author, and how it fails.

use std::any::TypeId;

use rhai::{Dynamic, ImmutableString, Map};
use serde::Serialize;

use crate::secret::Secret;

/// What calling a primitive does to the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Touches nothing outside the process (or only reads the local environment): not journaled.
    Local,
    /// Reads remote state: journaled, and really done under `--plan`.
    Read,
    /// Changes state: journaled before and after; under `--plan` only listed.
    Mutate,
}

impl Effect {
    /// The word shown in `orchestra doc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Read => "read",
            Self::Mutate => "mutate",
        }
    }
}

/// The Rhai type of a primitive's parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// A boolean.
    Bool,
    /// An object map.
    Map,
    /// An array.
    Array,
    /// A [`Secret`].
    Secret,
    /// A function pointer or closure.
    Function,
    /// Any value.
    Any,
}

impl ParamType {
    pub(super) fn type_id(self) -> TypeId {
        match self {
            Self::Str => TypeId::of::<ImmutableString>(),
            Self::Int => TypeId::of::<rhai::INT>(),
            Self::Bool => TypeId::of::<bool>(),
            Self::Map => TypeId::of::<Map>(),
            Self::Array => TypeId::of::<rhai::Array>(),
            Self::Secret => TypeId::of::<Secret>(),
            Self::Function => TypeId::of::<rhai::FnPtr>(),
            Self::Any => TypeId::of::<Dynamic>(),
        }
    }

    /// The name shown in `orchestra doc`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Str => "string",
            Self::Int => "int",
            Self::Bool => "bool",
            Self::Map => "map",
            Self::Array => "array",
            Self::Secret => "Secret",
            Self::Function => "fn",
            Self::Any => "any",
        }
    }
}

/// How a primitive looks to a playbook author.
#[derive(Debug, Clone, Copy)]
pub struct Signature {
    /// The function name within its module.
    pub name: &'static str,
    /// Parameter names and types.
    pub params: &'static [(&'static str, ParamType)],
    /// The type it returns, as shown in docs.
    pub returns: &'static str,
    /// What it does, for `orchestra doc` (first line is the summary).
    pub doc: &'static str,
}

/// A registered primitive, for `orchestra doc`.
#[derive(Debug, Clone, Serialize)]
pub struct PrimitiveDoc {
    /// `module::name`.
    pub name: String,
    /// `module::name(a: string, b: int) -> Secret`.
    pub signature: String,
    /// Local, read or mutate.
    pub effect: Effect,
    /// The doc text.
    pub doc: String,
}

/// A failure inside a primitive, raised into the script as a catchable error map
/// `#{primitive, message, status}`.
#[derive(Debug, Clone)]
pub struct PrimitiveError {
    /// What went wrong, in words a person acts on (never a secret value).
    pub message: String,
    /// The remote status code, when a remote answered.
    pub status: Option<u16>,
    /// Whether the failure came from a remote service (rather than a check before the call).
    pub from_remote: bool,
}

impl PrimitiveError {
    /// An error with a message and no remote status.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status: None,
            from_remote: false,
        }
    }

    /// An error from a remote service: `status` is None when it did not answer at all.
    pub fn remote(message: impl Into<String>, status: Option<u16>) -> Self {
        Self {
            message: message.into(),
            status,
            from_remote: true,
        }
    }

    /// Whether the service itself failed (no answer, or a 5xx) rather than refusing the
    /// request: only these count against its circuit breaker.
    pub fn is_service_failure(&self) -> bool {
        self.from_remote && self.status.is_none_or(|s| s >= 500)
    }
}

impl<T: Into<String>> From<T> for PrimitiveError {
    fn from(message: T) -> Self {
        Self::new(message)
    }
}

/// What a mutating primitive would change: computed before the change is made, shown under
/// `--plan`, and journaled as the step's intent otherwise.
pub struct Change {
    /// What it acts on, e.g. `state key last_run`.
    pub target: String,
    /// What it does, e.g. "set state key `last_run`" (a plan shows it as "would …").
    pub action: String,
    /// The fields it changes: name and new value, already redacted.
    pub fields: Vec<(String, String)>,
    /// What the script gets back under `--plan`, so it can go on.
    pub placeholder: Dynamic,
}

impl Change {
    /// The plan line: "would " and the action.
    pub fn summary(&self) -> String {
        format!("would {}", self.action)
    }

    pub(super) fn detail(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        if fields.is_empty() {
            self.action.clone()
        } else {
            format!("{} ({})", self.action, fields.join(", "))
        }
    }
}
