//! The schema, as an ordered list of migrations tracked in SQLite's `user_version`.

use rusqlite::{Connection, TransactionBehavior};

const V1: &str = "
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    playbook      TEXT    NOT NULL,
    source_hash   TEXT    NOT NULL,
    args          TEXT    NOT NULL,
    mode          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    pid           INTEGER NOT NULL,
    host          TEXT    NOT NULL,
    process_start INTEGER,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    error         TEXT
);
CREATE INDEX runs_by_status ON runs(status);

CREATE TABLE steps (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    seq         INTEGER NOT NULL,
    primitive   TEXT    NOT NULL,
    effect      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES runs(id),
    at      INTEGER NOT NULL,
    level   TEXT    NOT NULL,
    message TEXT    NOT NULL
);
CREATE INDEX events_by_run ON events(run_id, id);

CREATE TABLE locks (
    name          TEXT PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs(id),
    pid           INTEGER NOT NULL,
    host          TEXT    NOT NULL,
    process_start INTEGER,
    acquired_at   INTEGER NOT NULL
);

CREATE TABLE state (
    key            TEXT PRIMARY KEY,
    value          TEXT    NOT NULL,
    updated_at     INTEGER NOT NULL,
    updated_by_run INTEGER
);
";

const V2_BREAKERS: &str = "
CREATE TABLE breakers (
    name        TEXT PRIMARY KEY,
    state       TEXT    NOT NULL,
    failures    INTEGER NOT NULL,
    threshold   INTEGER NOT NULL,
    recovery_ms INTEGER NOT NULL,
    opened_at   INTEGER,
    last_error  TEXT,
    updated_at  INTEGER NOT NULL
);
";

const V3_ALERTS: &str = "
CREATE TABLE alerts (
    key          TEXT PRIMARY KEY,
    severity     TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    changed_at   INTEGER NOT NULL,
    last_sent_at INTEGER,
    unsent       TEXT
);
";

const V4_RATE_LIMIT_CHECKS: &str = "
CREATE TABLE rate_limit_checks (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER,
    checked_at    INTEGER NOT NULL,
    credential    TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    resource      TEXT    NOT NULL,
    window_limit  INTEGER NOT NULL,
    remaining     INTEGER NOT NULL,
    used          INTEGER NOT NULL,
    reset_at      INTEGER NOT NULL,
    burn_per_hour REAL,
    exhausts_at   INTEGER
);
CREATE INDEX rate_limit_checks_by_window ON rate_limit_checks(credential, resource, checked_at);
";

const V5_BUDGET_CHECKS: &str = "
CREATE TABLE budget_checks (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER REFERENCES runs(id),
    checked_at    INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    project       TEXT    NOT NULL,
    period_start  INTEGER NOT NULL,
    as_of         INTEGER NOT NULL,
    spent_usd     REAL    NOT NULL,
    budget_usd    REAL,
    alert_at      REAL,
    projected_usd REAL,
    level         TEXT,
    estimate_usd  REAL,
    within        INTEGER,
    unpriced      TEXT    NOT NULL,
    per_model     TEXT    NOT NULL
);
CREATE INDEX budget_checks_by_time ON budget_checks(checked_at);
";

/// The sync ledger: what was last pushed where, as a keyed fingerprint (never a value), plus
/// the intent of a push or export in flight, so a run killed between the write and its
/// record can tell its own write from someone else's.
const V6_SYNC_LEDGER: &str = "
CREATE TABLE sync_ledger (
    gcp_secret                TEXT    NOT NULL,
    target                    TEXT    NOT NULL,
    github_name               TEXT    NOT NULL,
    fingerprint               TEXT,
    gcp_version               INTEGER,
    github_updated_at         TEXT,
    direction                 TEXT,
    synced_at                 INTEGER,
    synced_by_run             INTEGER,
    pending_kind              TEXT,
    pending_fingerprint       TEXT,
    pending_since             TEXT,
    pending_github_updated_at TEXT,
    PRIMARY KEY (gcp_secret, target, github_name)
);
";

/// A resume records the run it resumes, so a resume of a resume can walk its chain to the root.
const V7_RUN_RESUMES: &str = "ALTER TABLE runs ADD COLUMN resumes INTEGER REFERENCES runs(id);";

/// A budget check records which calendar month it looked at, and in which time zone.
const V8_BUDGET_MONTH_ZONE: &str = "
ALTER TABLE budget_checks ADD COLUMN month TEXT;
ALTER TABLE budget_checks ADD COLUMN month_zone TEXT;
";

/// `memory::` entries of the local backend (and, for a remote backend, the last known copy
/// served while it is unreachable), plus the outbox of writes a remote backend has not taken yet,
/// flushed in `seq` order.
const V9_MEMORY: &str = "
CREATE TABLE memory (
    key        TEXT PRIMARY KEY,
    value      TEXT    NOT NULL,
    expires_at INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE TABLE memory_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    backend    TEXT    NOT NULL,
    op         TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT,
    expires_at INTEGER,
    queued_at  INTEGER NOT NULL
);
";

/// GitHub GET answers kept for conditional requests (ETag and body; never a secret value).
const V10_GITHUB_ETAGS: &str = "
CREATE TABLE github_etags (
    credential TEXT NOT NULL,
    path       TEXT NOT NULL,
    etag       TEXT NOT NULL,
    body       TEXT NOT NULL,
    used_at    INTEGER NOT NULL,
    PRIMARY KEY (credential, path)
);
CREATE INDEX github_etags_used ON github_etags (used_at);
";

const V11_MIGRATION_PHASES: &str = "
CREATE TABLE migration_phase_runs (
    id            INTEGER PRIMARY KEY,
    migration     TEXT    NOT NULL,
    file          TEXT    NOT NULL,
    phase         TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    run_id        INTEGER,
    pid           INTEGER NOT NULL,
    host          TEXT    NOT NULL,
    process_start INTEGER,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    error         TEXT,
    error_at      TEXT,
    reason        TEXT
);
CREATE INDEX migration_phase_runs_by_phase ON migration_phase_runs (migration, phase, id);
CREATE INDEX migration_phase_runs_by_run ON migration_phase_runs (run_id);

CREATE TABLE migration_metrics (
    id        INTEGER PRIMARY KEY,
    migration TEXT    NOT NULL,
    phase     TEXT,
    name      TEXT    NOT NULL,
    value     REAL    NOT NULL,
    run_id    INTEGER,
    at        INTEGER NOT NULL
);
CREATE INDEX migration_metrics_by_name ON migration_metrics (migration, name, id);
";

/// Every schema version in order: version N is reached by running `STEPS[N - 1]`.
const STEPS: &[&str] = &[
    V1,
    V2_BREAKERS,
    V3_ALERTS,
    V4_RATE_LIMIT_CHECKS,
    V5_BUDGET_CHECKS,
    V6_SYNC_LEDGER,
    V7_RUN_RESUMES,
    V8_BUDGET_MONTH_ZONE,
    V9_MEMORY,
    V10_GITHUB_ETAGS,
    V11_MIGRATION_PHASES,
];

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// SQLite refused a statement.
    #[error("{0}")]
    Sql(#[from] rusqlite::Error),
    /// The file was written by a newer orchestra.
    #[error("the schema is at version {found}, newer than the {known} this orchestra knows")]
    Newer {
        /// The file's version.
        found: i64,
        /// The newest this build knows.
        known: usize,
    },
}

fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Brings the schema of `conn` up to the newest version (tracked in `user_version`).
///
/// Two processes opening a fresh file at the same moment would both see version 0 and both
/// create the tables; so the version is read again inside a write transaction (`BEGIN
/// IMMEDIATE`, which waits for the other writer under the busy timeout), and only the steps
/// still missing then are run.
pub fn apply(conn: &mut Connection) -> Result<(), MigrationError> {
    let known = STEPS.len();
    let newer = |found| MigrationError::Newer { found, known };
    let found = version(conn)?;
    match usize::try_from(found) {
        Ok(v) if v == known => return Ok(()),
        Ok(v) if v < known => {}
        _ => return Err(newer(found)),
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    let current = usize::try_from(found)
        .ok()
        .filter(|v| *v <= known)
        .ok_or_else(|| newer(found))?;
    for step in &STEPS[current..] {
        tx.execute_batch(step)?;
    }
    tx.pragma_update(None, "user_version", known as i64)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid_and_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        apply(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), STEPS.len() as i64);
    }

    #[test]
    fn processes_creating_a_fresh_file_at_once_all_open_it() {
        // Threads with their own connections race exactly as processes do: each sees a fresh
        // file, and without the re-check inside the write lock one would fail with "table
        // runs already exists".
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.db");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let openers: Vec<_> = (0..6)
            .map(|_| {
                let path = path.clone();
                let barrier = std::sync::Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    crate::store::Store::open(&path).map(|_| ())
                })
            })
            .collect();
        for opener in openers {
            opener.join().unwrap().unwrap();
        }
        let conn = Connection::open(&path).unwrap();
        assert_eq!(version(&conn).unwrap(), STEPS.len() as i64);
    }

    #[test]
    fn a_file_from_a_newer_orchestra_is_refused_with_both_versions() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let err = apply(&mut conn).unwrap_err().to_string();
        assert!(
            err.contains("99") && err.contains(&STEPS.len().to_string()),
            "{err}"
        );
    }
}
