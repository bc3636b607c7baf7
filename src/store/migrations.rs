//! The schema, as an ordered list of migrations tracked in SQLite's `user_version`.

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

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

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2_BREAKERS),
        M::up(V3_ALERTS),
        M::up(V4_RATE_LIMIT_CHECKS),
        M::up(V5_BUDGET_CHECKS),
        M::up(V6_SYNC_LEDGER),
        M::up(V7_RUN_RESUMES),
        M::up(V8_BUDGET_MONTH_ZONE),
        M::up(V9_MEMORY),
        M::up(V10_GITHUB_ETAGS),
    ])
}

/// Brings the schema of `conn` up to the newest version.
pub fn apply(conn: &mut Connection) -> Result<(), rusqlite_migration::Error> {
    migrations().to_latest(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid_and_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        apply(&mut conn).unwrap();
        migrations().validate().unwrap();
    }
}
