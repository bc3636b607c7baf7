//! A phased migration: phases declared in `migration.toml`, each an execute and a verify
//! playbook; their state in the run store; execute in order, verify read-only, a report and a
//! live monitor.
//!
//! Owns the model, how a phase's status is read from its records, and the reports; the CLI
//! (`cli/migrate.rs`) only parses arguments and prints. Runs playbooks through
//! [`crate::runner`], never by reaching into the engine.

mod bundle;
mod error;
pub mod execute;
pub mod model;
pub mod monitor;
pub mod report;
pub mod store;
pub mod verify;

pub use bundle::{DEFAULT_FILE, init};
pub use error::MigrateError;
pub use model::{MetricTarget, Migration, Phase};
pub use store::{PhaseStatus, PhaseView, phase_views};
