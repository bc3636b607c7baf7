//! `orchestra state status`: which backend holds run state, and the live holders of its
//! locks with their machine, pid and lease expiry; `orchestra state migrate` (in
//! `state_migrate`) copies a SQLite state into Firestore.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::render;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;
use crate::store::LockStatus;

/// Arguments of `orchestra state`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra state status
  orchestra state status --json
  orchestra state migrate --to firestore")]
pub struct StateArgs {
    #[command(subcommand)]
    action: StateAction,

    /// Print as JSON
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum StateAction {
    /// The backend, the holders of live locks and when their leases run out
    Status,
    /// Copy this folder's SQLite runs, steps, events, playbook state and sync ledger into
    /// the shared state [state] names (run twice: nothing is duplicated)
    Migrate {
        /// Where to copy to
        #[arg(long, value_enum)]
        to: MigrateTarget,
    },
}

/// Where `state migrate` copies to.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum MigrateTarget {
    /// The Firestore database of [state] (backend = "firestore")
    Firestore,
}

#[derive(Serialize)]
struct Status {
    backend: String,
    locks: Vec<LockStatus>,
}

/// Runs `orchestra state`.
pub fn run(args: &StateArgs, host: &Host) -> Result<ExitStatus, HostError> {
    match args.action {
        StateAction::Migrate {
            to: MigrateTarget::Firestore,
        } => return super::state_migrate::run(host, args.json),
        StateAction::Status => {
            let status = Status {
                backend: host.store.backend(),
                locks: host.store.lock_statuses()?,
            };
            if args.json {
                render::json(&status);
            } else {
                print!("{}", text(&status));
            }
        }
    }
    Ok(ExitStatus::Success)
}

fn text(status: &Status) -> String {
    let mut out = format!("backend: {}\n", status.backend);
    if status.locks.is_empty() {
        out.push_str("no lock is held\n");
    }
    for lock in &status.locks {
        let lease = lock
            .holder
            .lease_expires_at
            .as_ref()
            .map(|t| format!(", lease until {t}"))
            .unwrap_or_default();
        let token = lock
            .token
            .map(|t| format!(", token {t}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "lock '{}': run {} on {} (pid {}) since {}{lease}{token}\n",
            lock.name,
            lock.holder.run_id,
            lock.machine,
            lock.holder.process.pid,
            lock.holder.acquired_at
        ));
    }
    crate::secret::mask::mask(&out).into_owned()
}
