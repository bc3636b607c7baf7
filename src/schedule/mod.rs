//! Schedules: running playbooks on an interval, from the user's crontab (`orchestra schedule`)
//! or from one long-lived process (`orchestra daemon`).

pub mod child;
pub mod crontab;
pub mod daemon;
pub mod interval;

pub use interval::Interval;
