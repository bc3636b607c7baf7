//! Integration tests: the real `orchestra` binary in temporary projects.
//! One test binary with a module per feature keeps link time down.

mod harness;

mod alerts;
mod breakers;
mod budget;
mod budget_month;
mod check;
mod conditional;
mod daemon_crash;
mod diagnostics;
mod emulator;
mod github;
mod github_apps;
mod hostile;
mod iam;
mod key_limit;
mod kill_rotation;
mod leaks;
mod locks;
mod notify;
mod pacing;
mod path_injection;
mod plan;
mod plan_estimate;
mod plan_trace;
mod play;
mod rate_limits;
mod redirects;
mod rehearsal;
mod resume;
mod rotate_tokens;
mod rotation_faults;
mod rotation_policy;
mod rotation_window;
mod sandbox;
mod scan;
mod scan_git;
mod schedules;
mod secret_fuzz;
mod secrets;
mod sync;
mod sync_faults;
mod sync_fixture;
mod sync_kill;
mod watch;
