//! Confining a plan run's writes to its own run record.
//!
//! A plan must leave no trace but its record: a breaker it opened, an alert it counted, a
//! ledger row or a history row would change what the next real run does. Every primitive
//! already skips those writes under `--plan`; this is the guard under them: while a plan runs,
//! SQLite's authorizer refuses any statement that would write another table, so a write
//! nobody foresaw fails loudly instead of leaving a trace.

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

use super::Store;

/// The tables that are a run's own record: the only ones a plan writes.
pub const RUN_RECORD_TABLES: &[&str] = &["runs", "steps", "events", "locks"];

/// While alive, the store refuses writes outside [`RUN_RECORD_TABLES`]; dropping it lifts that.
#[must_use = "the confinement ends when this is dropped"]
pub struct PlanConfinement {
    store: Store,
}

fn decide(context: AuthContext<'_>) -> Authorization {
    let table = match context.action {
        AuthAction::Insert { table_name }
        | AuthAction::Delete { table_name }
        | AuthAction::Update { table_name, .. } => table_name,
        AuthAction::CreateTable { .. }
        | AuthAction::DropTable { .. }
        | AuthAction::AlterTable { .. }
        | AuthAction::CreateIndex { .. }
        | AuthAction::DropIndex { .. } => return Authorization::Deny,
        _ => return Authorization::Allow,
    };
    if RUN_RECORD_TABLES.contains(&table) {
        Authorization::Allow
    } else {
        Authorization::Deny
    }
}

impl Store {
    /// Refuses, until the returned guard is dropped, every write to a table that is not a run's
    /// own record (see [`RUN_RECORD_TABLES`]).
    pub fn confine_to_run_records(&self) -> PlanConfinement {
        let conn = self.conn();
        // Statements prepared before were authorised without the guard.
        conn.flush_prepared_statement_cache();
        conn.authorizer(Some(decide));
        drop(conn);
        if let Some(shared) = &self.shared {
            shared.confine(true);
        }
        PlanConfinement {
            store: self.clone(),
        }
    }
}

impl Drop for PlanConfinement {
    fn drop(&mut self) {
        let conn = self.store.conn();
        conn.flush_prepared_statement_cache();
        conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>);
        if let Some(shared) = &self.store.shared {
            shared.confine(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confined_store_refuses_state_writes_and_takes_run_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        {
            let _plan = store.confine_to_run_records();
            let refused = store.state_set("k", "1", None).unwrap_err();
            assert!(refused.to_string().contains("not authorized"), "{refused}");
            let run = store
                .start_run_with_lock(
                    "plan-lock",
                    &crate::store::NewRun {
                        playbook: "p.rhai".into(),
                        source_hash: "h".into(),
                        args_json: "{}".into(),
                        mode: crate::store::RunMode::Plan,
                        resumes: None,
                    },
                )
                .unwrap();
            store
                .append_event(run.run_id, "info", "a plan writes its own events")
                .unwrap();
        }
        store.state_set("k", "1", None).unwrap();
        assert_eq!(store.state_get("k").unwrap().as_deref(), Some("1"));
    }
}
