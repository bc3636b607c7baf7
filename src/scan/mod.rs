//! The secret scanner: walks a tree (or git history), finds credentials with rules that are
//! data, and reports where they are without ever holding on to what they are.
//!
//! Owns the walk, the rules, the matcher, findings and their reports. Knows nothing of Rhai,
//! the engine or the store; the only secret-handling it borrows is the keyed fingerprint.

pub mod atomic;
pub mod baseline;
pub mod entropy;
pub mod error;
pub mod finding;
pub mod git;
pub mod hook;
pub mod matcher;
pub mod placeholder;
pub mod report;
pub mod rules;
pub mod value;
pub mod verification;
pub mod verify;
pub mod walker;

pub use error::ScanError;
pub use finding::{Finding, ScanStats};
pub use matcher::Matcher;
pub use rules::{RuleSet, RuleSpec};
pub use verification::{Outcome, Verification};
