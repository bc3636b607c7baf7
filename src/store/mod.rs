//! Run state in one SQLite file: runs, steps (the journal), events, locks, playbook state and
//! migration phases.
//!
//! WAL mode, versioned migrations, and a small typed API per table family; nothing outside this
//! module writes SQL. No secret value is ever written here: callers hand in redacted text, and
//! [`crate::secret::mask::mask`] is applied again on the way in as a last guard.

mod alerts;
mod breakers;
mod budget;
mod confine;
mod etags;
mod events;
mod firestore;
mod kv;
mod ledger;
mod locks;
mod memory;
mod migration;
mod migrations;
mod rate_limits;
mod runs;
mod steps;
mod types;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;

pub use alerts::AlertRecord;
pub use breakers::BreakerRecord;
pub use budget::{BudgetCheck, BudgetCheckKind, BudgetLevel, ModelSpend};
pub use confine::{PlanConfinement, RUN_RECORD_TABLES};
pub use events::EventRecord;
pub use firestore::{FirestoreState, ImportReport, LockStatus, SharedSettings};
pub use ledger::{LedgerEntry, LedgerIntent, LedgerKey, LedgerRecord};
pub use locks::{AcquiredRun, LockHolder, format_ms};
pub use memory::{MemoryRow, OutboxOp, OutboxRow};
pub use migration::{
    MetricRecord, NewPhaseRun, PhaseRunEnd, PhaseRunKind, PhaseRunRecord, PhaseRunStatus,
};
pub use rate_limits::RateLimitCheck;
pub use runs::{NewRun, RunRecord};
pub use steps::{StepRecord, StepRef};
pub use types::{BreakerState, RunId, RunMode, RunStatus, StepEffect, StepStatus};

/// A failure of the state database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("cannot open the state database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// The schema could not be brought up to date.
    #[error("cannot migrate the state database {path}: {reason}")]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// What the migration reported.
        reason: String,
    },
    /// A query failed.
    #[error("state database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The lock is held by a live run.
    #[error("lock '{name}' is held by {}", holder.describe())]
    LockHeld {
        /// The lock's name.
        name: String,
        /// Who holds it (boxed: it is the largest variant).
        holder: Box<LockHolder>,
    },
    /// The shared state could not be reached to take a lock: the run does not start.
    #[error(
        "cannot take lock '{name}': {place} cannot be reached ({reason}); the run does not start, and no local lock is taken in its place"
    )]
    LockUnavailable {
        /// The lock's name.
        name: String,
        /// Where the shared state is.
        place: String,
        /// What failed.
        reason: String,
    },
    /// The shared state cannot be reached at all.
    #[error(
        "{place} cannot be reached ({reason}): run state lives there ([state] backend = \"firestore\"), so nothing is started and no local lock is taken in its place"
    )]
    Unreachable {
        /// Where the shared state is.
        place: String,
        /// What failed.
        reason: String,
    },
    /// A call to the shared state failed.
    #[error("the shared state in {place} failed: {reason}")]
    Shared {
        /// Where the shared state is.
        place: String,
        /// What failed.
        reason: String,
    },
    /// This process no longer holds the lock of its run: no further change is made.
    #[error(
        "run {run_id} lost its lease on lock '{name}' ({detail}): it stops before making any further change"
    )]
    LeaseLost {
        /// The lock's name.
        name: String,
        /// The run that held it.
        run_id: RunId,
        /// What the lock says now.
        detail: String,
    },
    /// A stored value did not have the expected shape.
    #[error("state database holds an unexpected value in {table}.{column}: {value}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// What was found.
        value: String,
    },
}

/// A handle on the state database, cheap to clone and shared by every part of a run.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    /// With `[state] backend = "firestore"`: runs, steps, events and locks live there; the
    /// other families stay in the SQLite file.
    shared: Option<Arc<FirestoreState>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Migrate {
                path: path.to_owned(),
                reason: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        migrations::apply(&mut conn).map_err(|e| StoreError::Migrate {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_owned(),
            shared: None,
        })
    }

    /// This store with runs, steps, events and locks in the Firestore `settings` names.
    pub fn with_shared(mut self, settings: SharedSettings) -> Result<Self, StoreError> {
        self.shared = Some(Arc::new(FirestoreState::connect(settings)?));
        Ok(self)
    }

    /// With the Firestore backend, its Google Cloud project and collection prefix (where the
    /// shared fingerprint key belongs); `None` with SQLite alone.
    pub fn shared_project_and_prefix(&self) -> Option<(&str, &str)> {
        self.shared
            .as_deref()
            .map(FirestoreState::project_and_prefix)
    }

    /// Copies this folder's SQLite runs, steps, events, playbook state and ledger into the
    /// shared Firestore state (`orchestra state migrate --to firestore`), keeping run ids;
    /// idempotent. `source` names this copy's origin in every run it writes.
    pub fn copy_to_shared(&self, source: &str) -> Result<ImportReport, StoreError> {
        let Some(shared) = &self.shared else {
            return Err(StoreError::Shared {
                place: format!("SQLite ({})", self.path.display()),
                reason: "there is no shared state to copy to: set [state] backend = \"firestore\""
                    .into(),
            });
        };
        let local = Self {
            conn: Arc::clone(&self.conn),
            path: self.path.clone(),
            shared: None,
        };
        shared.import(&local, source)
    }

    /// Which backend holds runs and locks, for `orchestra state status`: `sqlite FILE` or
    /// `firestore (project P, database D)`.
    pub fn backend(&self) -> String {
        match &self.shared {
            Some(shared) => shared.place().to_owned(),
            None => format!("SQLite ({})", self.path.display()),
        }
    }

    /// The schema version of the database at `path` and the newest this build applies, read
    /// without changing the file; `None` when there is no database there yet.
    pub fn schema_versions(path: &Path) -> Result<Option<(u32, u32)>, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        if !path.exists() {
            return Ok(None);
        }
        let version = |conn: &Connection| {
            conn.query_row("PRAGMA user_version", [], |row| row.get::<_, u32>(0))
        };
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(open_err)?;
        let found = version(&conn).map_err(open_err)?;
        let mut fresh = Connection::open_in_memory().map_err(open_err)?;
        migrations::apply(&mut fresh).map_err(|e| StoreError::Migrate {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let newest = version(&fresh).map_err(open_err)?;
        Ok(Some((found, newest)))
    }

    /// Whether a write transaction can be taken (and is rolled back at once).
    pub fn check_writable(&self) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute("CREATE TABLE main.orchestra_doctor_probe (x)", [])?;
        tx.rollback()?;
        Ok(())
    }

    /// The database file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (statements are atomic).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Milliseconds since the Unix epoch, the unit of every stored time.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
