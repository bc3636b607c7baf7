//! The requests that reached the emulator, method and path exactly as sent (before any
//! decoding or routing), so a test can prove that nothing outside a scope reached the wire;
//! with when each arrived on the emulator's scaled clock and the status it was answered with,
//! so a test can measure a schedule (how long a batch took under the secondary limits, how
//! many were refused) without reading the wall clock.

use std::collections::VecDeque;
use std::time::Instant;

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
    /// Milliseconds since the emulator started, on its scaled clock (real time multiplied by
    /// `--time-scale`), when the request arrived.
    pub at_scaled_ms: f64,
    /// The status it was answered with (absent while in flight or for a dropped connection).
    pub status: Option<u16>,
}

/// The last [`KEPT`] requests, oldest first.
#[derive(Debug)]
pub struct RequestLog {
    entries: VecDeque<LoggedRequest>,
    /// Sequence number of `entries[0]`.
    first: u64,
    started: Instant,
    time_scale: f64,
}

impl Default for RequestLog {
    fn default() -> Self {
        Self::new(1.0)
    }
}

impl RequestLog {
    /// An empty log whose clock runs `time_scale` times faster than real time.
    pub fn new(time_scale: f64) -> Self {
        Self {
            entries: VecDeque::new(),
            first: 0,
            started: Instant::now(),
            time_scale,
        }
    }

    /// Records one request; returns its sequence number, for [`RequestLog::answered`].
    pub fn record(&mut self, method: &str, path: &str) -> u64 {
        if self.entries.len() == KEPT {
            self.entries.pop_front();
            self.first += 1;
        }
        let at_scaled_ms = self.started.elapsed().as_secs_f64() * 1000.0 * self.time_scale;
        self.entries.push_back(LoggedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            at_scaled_ms,
            status: None,
        });
        self.first + self.entries.len() as u64 - 1
    }

    /// Notes the status request `seq` was answered with (if it is still kept).
    pub fn answered(&mut self, seq: u64, status: u16) {
        if let Some(entry) = seq
            .checked_sub(self.first)
            .and_then(|i| self.entries.get_mut(i as usize))
        {
            entry.status = Some(status);
        }
    }

    /// Every request kept, oldest first.
    pub fn list(&self) -> Vec<LoggedRequest> {
        self.entries.iter().cloned().collect()
    }

    /// Forgets every request.
    pub fn clear(&mut self) {
        self.first += self.entries.len() as u64;
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_lands_on_its_own_request_even_after_older_ones_are_dropped() {
        let mut log = RequestLog::new(30.0);
        let first = log.record("GET", "/a");
        log.clear();
        let second = log.record("PUT", "/b");
        log.answered(first, 500);
        log.answered(second, 201);
        let list = log.list();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].path.as_str(), list[0].status), ("/b", Some(201)));
    }
}
