//! orchestra: runs ops procedures written as sandboxed Rhai playbooks.
//!
//! Data flows one way: [`cli`] → [`runner`] → [`engine`] → [`primitives`] → clients, with
//! run state in [`store`]. What a secret is lives in [`secret`], below both the engine and the
//! clients: the opaque [`secret::Secret`], its keyed fingerprint, the shapes a secret may be
//! parsed as, and the mask that guards every sink.

pub mod cli;
pub mod clients;
pub mod clock;
pub mod config;
pub mod engine;
pub mod error;
pub mod exit;
pub mod firestore_emulator;
pub mod logging;
pub mod memory;
pub mod migrate;
pub mod permissions;
pub mod primitives;
pub mod process;
pub mod progress;
pub mod runner;
pub mod scan;
pub mod schedule;
pub mod secret;
pub mod services;
pub mod store;
pub mod watch;
