//! What every remote call shares: circuit breakers (and, with the cloud clients, the retry
//! policy and rate-limit budget). Knows nothing of Rhai.

pub mod breaker;
