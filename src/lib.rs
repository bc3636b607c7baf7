//! orchestra: runs ops procedures written as sandboxed Rhai playbooks.
//!
//! Data flows one way: [`cli`] → [`runner`] → [`engine`] → [`primitives`] → clients, with
//! run state in [`store`]. Secret values are an opaque [`engine::Secret`] that never reaches a
//! log, the terminal or the database ([`redact`] is the last guard).

pub mod cli;
pub mod clients;
pub mod clock;
pub mod config;
pub mod engine;
pub mod error;
pub mod exit;
pub mod logging;
pub mod primitives;
pub mod process;
pub mod redact;
pub mod runner;
pub mod schedule;
pub mod services;
pub mod store;
pub mod watch;
