//! The `budget_checks` table: every `budget::` check a run made (what was spent, projected and
//! decided), so `orchestra report budget` can show how spend moved (in `{prefix}_budget` with
//! the Firestore backend, every machine's checks together). Figures only: the budget secret's
//! payload is never stored.

use std::fmt;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::types::text_enum;
use super::{RunId, Store, StoreError};

text_enum! {
    /// How spend stands against the budget.
    BudgetLevel {
        /// Spend and projection below the alert threshold.
        Ok => "ok",
        /// Spend or projection at or above the alert threshold.
        Warning => "warning",
        /// Spend or projection at or above the budget.
        Critical => "critical",
    }
}

text_enum! {
    /// Which primitive made a check.
    BudgetCheckKind {
        /// `budget::usage`: tokens and cost only.
        Usage => "usage",
        /// `budget::status`: against the budget, with a projection.
        Status => "status",
        /// `budget::within`: would an estimated cost still fit.
        Within => "within",
    }
}

/// One model's tokens and what they cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpend {
    /// The model (`model_user_id`).
    pub model: String,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// USD; None when the model has no price.
    pub cost_usd: Option<f64>,
}

/// One recorded check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetCheck {
    /// The run that made it.
    pub run_id: Option<RunId>,
    /// When (ms since the epoch).
    pub checked_at: i64,
    /// Which primitive.
    pub kind: BudgetCheckKind,
    /// The project whose usage was read.
    pub project: String,
    /// The start of the month checked (ms).
    pub period_start: i64,
    /// The month checked as its zone's calendar names it (`2026-03`); None for checks
    /// recorded before months had a zone (they were UTC months).
    pub month: Option<String>,
    /// The time zone whose calendar month was checked (`America/Los_Angeles`, `UTC`).
    pub month_zone: Option<String>,
    /// The moment the figures are for (ms; now, unless the check was replayed).
    pub as_of: i64,
    /// USD spent in the month up to `as_of` on priced models.
    pub spent_usd: f64,
    /// The monthly budget (not for `usage`).
    pub budget_usd: Option<f64>,
    /// The alert threshold as a fraction of the budget.
    pub alert_at: Option<f64>,
    /// Spend projected linearly to the end of the month.
    pub projected_usd: Option<f64>,
    /// How spend stands.
    pub level: Option<BudgetLevel>,
    /// `within`: the estimate checked.
    pub estimate_usd: Option<f64>,
    /// `within`: the answer.
    pub within: Option<bool>,
    /// Models with usage but no price.
    pub unpriced: Vec<String>,
    /// Tokens and cost per model.
    pub per_model: Vec<ModelSpend>,
}

impl Store {
    /// Records `check`.
    pub fn add_budget_check(&self, check: &BudgetCheck) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            return shared.add_budget_check(check);
        }
        let per_model = serde_json::to_string(&check.per_model).unwrap_or_else(|_| "[]".into());
        self.conn().execute(
            "INSERT INTO budget_checks (run_id, checked_at, kind, project, period_start, as_of,
                 spent_usd, budget_usd, alert_at, projected_usd, level, estimate_usd, within,
                 unpriced, per_model, month, month_zone)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                check.run_id.map(|r| r.0),
                check.checked_at,
                check.kind.as_str(),
                check.project,
                check.period_start,
                check.as_of,
                check.spent_usd,
                check.budget_usd,
                check.alert_at,
                check.projected_usd,
                check.level.map(BudgetLevel::as_str),
                check.estimate_usd,
                check.within,
                check.unpriced.join(","),
                per_model,
                check.month,
                check.month_zone,
            ],
        )?;
        Ok(())
    }

    /// The last `limit` checks, newest first.
    pub fn budget_checks(&self, limit: u32) -> Result<Vec<BudgetCheck>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.budget_checks(limit);
        }
        Ok(self
            .budget_rows(i64::from(limit))?
            .into_iter()
            .map(|(_, check)| check)
            .collect())
    }

    /// Every check in the SQLite file with its row id, newest first (`state migrate` keeps
    /// the id in each copy's document id).
    pub(super) fn budget_check_rows(&self) -> Result<Vec<(i64, BudgetCheck)>, StoreError> {
        self.budget_rows(-1)
    }

    /// The last `limit` rows of the SQLite table (all when negative), newest first.
    fn budget_rows(&self, limit: i64) -> Result<Vec<(i64, BudgetCheck)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT run_id, checked_at, kind, project, period_start, as_of, spent_usd, budget_usd,
                 alert_at, projected_usd, level, estimate_usd, within, unpriced, per_model, month,
                 month_zone, id
             FROM budget_checks ORDER BY checked_at DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |row| {
            Ok((
                row.get::<_, i64>(17)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(10)?,
                row.get::<_, String>(13)?,
                row.get::<_, String>(14)?,
                BudgetCheck {
                    run_id: row.get::<_, Option<i64>>(0)?.map(RunId),
                    checked_at: row.get(1)?,
                    kind: BudgetCheckKind::Status,
                    project: row.get(3)?,
                    period_start: row.get(4)?,
                    month: row.get(15)?,
                    month_zone: row.get(16)?,
                    as_of: row.get(5)?,
                    spent_usd: row.get(6)?,
                    budget_usd: row.get(7)?,
                    alert_at: row.get(8)?,
                    projected_usd: row.get(9)?,
                    level: None,
                    estimate_usd: row.get(11)?,
                    within: row.get(12)?,
                    unpriced: Vec::new(),
                    per_model: Vec::new(),
                },
            ))
        })?;
        let corrupt = |column, value: &str| StoreError::Corrupt {
            table: "budget_checks",
            column,
            value: value.to_owned(),
        };
        rows.map(|row| {
            let (id, kind, level, unpriced, per_model, mut check) = row?;
            check.kind = BudgetCheckKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?;
            check.level = level
                .map(|l| BudgetLevel::parse(&l).ok_or_else(|| corrupt("level", &l)))
                .transpose()?;
            check.unpriced = unpriced
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect();
            check.per_model =
                serde_json::from_str(&per_model).map_err(|_| corrupt("per_model", &per_model))?;
            Ok((id, check))
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_come_back_newest_first_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db")).unwrap();
        let check = |checked_at, level| BudgetCheck {
            run_id: None,
            checked_at,
            kind: BudgetCheckKind::Status,
            project: "p".into(),
            period_start: 0,
            month: Some("1970-01".into()),
            month_zone: Some("UTC".into()),
            as_of: checked_at,
            spent_usd: 12.5,
            budget_usd: Some(500.0),
            alert_at: Some(0.8),
            projected_usd: Some(30.0),
            level: Some(level),
            estimate_usd: None,
            within: None,
            unpriced: vec!["mystery".into()],
            per_model: vec![ModelSpend {
                model: "m".into(),
                input_tokens: 1,
                output_tokens: 2,
                cost_usd: Some(12.5),
            }],
        };
        store.add_budget_check(&check(1, BudgetLevel::Ok)).unwrap();
        store
            .add_budget_check(&check(2, BudgetLevel::Warning))
            .unwrap();
        let read = store.budget_checks(10).unwrap();
        assert_eq!(
            read,
            [check(2, BudgetLevel::Warning), check(1, BudgetLevel::Ok)]
        );
        assert_eq!(store.budget_checks(1).unwrap().len(), 1);
    }
}
