//! The requests that reached the emulator, method and path exactly as sent (before any
//! decoding or routing), so a test can prove that nothing outside a scope reached the wire.

use std::collections::VecDeque;

use serde::Serialize;

/// How many requests are kept; older ones are dropped first.
const KEPT: usize = 10_000;

/// One request as it arrived.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    /// `GET`, `PUT`, …
    pub method: String,
    /// The raw path and query.
    pub path: String,
}

/// The last [`KEPT`] requests, oldest first.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: VecDeque<LoggedRequest>,
}

impl RequestLog {
    /// Records one request.
    pub fn record(&mut self, method: &str, path: &str) {
        if self.entries.len() == KEPT {
            self.entries.pop_front();
        }
        self.entries.push_back(LoggedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
        });
    }

    /// Every request kept, oldest first.
    pub fn list(&self) -> Vec<LoggedRequest> {
        self.entries.iter().cloned().collect()
    }

    /// Forgets every request.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
