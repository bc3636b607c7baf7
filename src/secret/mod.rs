//! What a secret is, in one place: the opaque [`Secret`] value, the [`FingerprintKey`] its
//! fingerprints are keyed with, the [`shape`]s a secret may be parsed as (whose errors never
//! quote it), and the [`mask`] every sink applies as a last guard.
//!
//! This module sits below both the engine and the clients and imports neither: the engine
//! gives scripts a handle on a `Secret`, the clients take its bytes out through
//! [`Secret::expose_for_request`], and nothing else can.
//!
//! The guarantees, and where each is kept:
//! - a `Secret` shows only `Secret(fp:…)` (no `Display`, a redacting `Debug`, no `Serialize`):
//!   [`value`];
//! - no error built from a secret's bytes leaves a parser: [`shape`];
//! - text bound for a sink the script cannot read back (terminal, log, journal, run record,
//!   report, an outgoing notification) has every held value masked: [`mask`]. Text the script
//!   can read back (a primitive's error, playbook state) is never masked, because a mask the
//!   script could observe would tell it whether a string it chose equals a secret.

pub mod fingerprint;
pub mod mask;
pub mod seal;
pub mod shape;
mod value;

pub use fingerprint::{FingerprintKey, FingerprintKeyError};
pub use shape::{ServiceAccountKey, ShapeError};
pub use value::Secret;
