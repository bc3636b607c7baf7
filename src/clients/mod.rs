//! What every remote call shares: circuit breakers, the retry policy, the per-credential
//! rate-limit budget and the pacing under GitHub's secondary limits. Knows nothing of Rhai.

pub mod breaker;
pub mod budget;
pub mod firestore;
pub mod github;
pub mod google_calls;
pub mod google_error;
pub mod google_pacing;
pub mod google_redirects;
pub mod google_rest;
pub mod http;
pub mod iam;
pub mod monitoring;
pub mod pacing;
pub mod probe;
pub mod retry;
pub mod run;
pub mod secret_manager;
pub mod shared_key;
pub mod slack;
pub mod wif;
