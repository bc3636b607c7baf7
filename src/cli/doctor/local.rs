//! The state database: writable and its schema current; no lock left by a dead process; no
//! circuit breaker open.

use super::context::Context;
use super::finding::Finding;
use crate::process::Liveness;
use crate::store::{BreakerState, Store};

/// The `state db`, `locks` and `breakers` findings.
pub fn check(context: &Context) -> Vec<Finding> {
    let path = &context.state_db;
    let shown = path.display();
    let versions = match Store::schema_versions(path) {
        Ok(versions) => versions,
        Err(err) => {
            return with_store_skipped(Finding::failed(
                "state db",
                err.to_string(),
                format!("make {shown} a readable SQLite file, or point [paths].state_db elsewhere"),
            ));
        }
    };
    if let Some((found, newest)) = versions
        && found > newest
    {
        return with_store_skipped(Finding::failed(
            "state db",
            format!("{shown} has schema version {found}, newer than this orchestra's {newest}"),
            "upgrade orchestra to the version that wrote it (cargo install --locked --path .)",
        ));
    }
    let store = match Store::open(path).and_then(|s| s.check_writable().map(|()| s)) {
        Ok(store) => store,
        Err(err) => {
            return with_store_skipped(Finding::failed(
                "state db",
                err.to_string(),
                format!(
                    "make {} a writable folder, or set [paths].state_db / --state-db to one",
                    path.parent()
                        .map_or(shown.to_string(), |d| d.display().to_string())
                ),
            ));
        }
    };
    let state = match versions {
        Some((found, newest)) if found < newest => Finding::ok(
            "state db",
            format!("{shown} writable; schema brought from version {found} to {newest}"),
        ),
        Some((_, newest)) => Finding::ok(
            "state db",
            format!("{shown} writable; schema version {newest} current"),
        ),
        None => Finding::ok("state db", format!("{shown} created, schema current")),
    };
    vec![state, locks(&store), breakers(&store)]
}

fn with_store_skipped(state: Finding) -> Vec<Finding> {
    vec![
        state,
        Finding::skipped("locks", "no state database to read"),
        Finding::skipped("breakers", "no state database to read"),
    ]
}

fn locks(store: &Store) -> Finding {
    let held = match store.locks() {
        Ok(held) => held,
        Err(err) => {
            return Finding::failed(
                "locks",
                err.to_string(),
                "the state database cannot be read",
            );
        }
    };
    let stale: Vec<String> = held
        .iter()
        .filter(|(_, holder)| holder.process.liveness() == Liveness::Dead)
        .map(|(name, holder)| {
            format!(
                "{name} (run {}, pid {} gone, since {})",
                holder.run_id.0, holder.process.pid, holder.acquired_at
            )
        })
        .collect();
    match stale.first() {
        None => Finding::ok("locks", format!("none stale ({} held)", held.len())),
        Some(_) => Finding::failed(
            "locks",
            format!("stale: {}", stale.join(", ")),
            "its process died mid-run: `orchestra resume RUN` finishes it (the next run takes the lock over)",
        ),
    }
}

fn breakers(store: &Store) -> Finding {
    let records = match store.breakers() {
        Ok(records) => records,
        Err(err) => {
            return Finding::failed(
                "breakers",
                err.to_string(),
                "the state database cannot be read",
            );
        }
    };
    let open: Vec<&str> = records
        .iter()
        .filter(|b| b.state == BreakerState::Open)
        .map(|b| b.name.as_str())
        .collect();
    match open.first() {
        None => Finding::ok("breakers", format!("all closed ({} known)", records.len())),
        Some(first) => Finding::failed(
            "breakers",
            format!("open: {}", open.join(", ")),
            format!("fix what failed, then `orchestra breakers reset {first}`"),
        ),
    }
}
