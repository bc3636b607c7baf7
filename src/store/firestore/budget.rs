//! Budget history in `{prefix}_budget`: every `budget::` check, from every machine, so
//! `orchestra report budget` on one machine shows how spend moved on all of them.
//!
//! A document's id starts with the check's time (20 digits) and the machine, so ids never
//! collide across machines and sort as the checks were made. A check recorded here ends with
//! this process's id and a counter (`p{pid}-{n}`); a row `state migrate` copies ends with its
//! SQLite row id (`m{id}`), so a second copy writes the same documents again.
//! Figures only: the budget secret's payload is never written.

use std::sync::atomic::{AtomicU64, Ordering};

use super::fields::{document_id, int, map, opt_int, opt_string, string, text};
use super::{FirestoreState, padded};
use crate::clients::firestore::{Direction, Document, FieldValue, Fields, Order, Query, WriteOp};
use crate::secret::mask::mask;
use crate::store::{BudgetCheck, BudgetCheckKind, BudgetLevel, ModelSpend, RunId, StoreError};

/// Checks this process recorded, for the tail of their ids.
static RECORDED: AtomicU64 = AtomicU64::new(0);

impl FirestoreState {
    /// See [`crate::store::Store::add_budget_check`].
    pub(in crate::store) fn add_budget_check(&self, check: &BudgetCheck) -> Result<(), StoreError> {
        self.refuse_in_plan("budget")?;
        let n = RECORDED.fetch_add(1, Ordering::Relaxed);
        let tail = format!("p{}-{n:010}", std::process::id());
        self.commit(vec![self.budget_write(check, &tail)?])
    }

    /// The write of `check` under the id that ends with `tail` (`state migrate` passes the
    /// SQLite row id).
    pub(super) fn budget_write(
        &self,
        check: &BudgetCheck,
        tail: &str,
    ) -> Result<WriteOp, StoreError> {
        let id = format!(
            "{}-{}-{tail}",
            padded(check.checked_at),
            document_id(&self.machine)
        );
        Ok(WriteOp::Set {
            path: self.doc("budget", &id)?,
            fields: budget_fields(check, &self.machine),
            merge: false,
        })
    }

    /// See [`crate::store::Store::budget_checks`]: newest first, ties by id (the newest a
    /// process recorded first).
    pub(in crate::store) fn budget_checks(
        &self,
        limit: u32,
    ) -> Result<Vec<BudgetCheck>, StoreError> {
        let newest_first = |field: &str| Order {
            field: field.into(),
            direction: Direction::Descending,
        };
        let query = Query {
            collection: self.collection("budget")?,
            filters: Vec::new(),
            order_by: vec![newest_first("checked_at"), newest_first("__name__")],
            limit: Some(i32::try_from(limit).unwrap_or(i32::MAX)),
            start_after: None,
        };
        self.block(self.client.query(&query, None))
            .map_err(|e| self.failed(e))?
            .iter()
            .map(|d| self.budget_from(d))
            .collect()
    }

    /// The check a budget document holds; a missing or unknown field is named.
    fn budget_from(&self, doc: &Document) -> Result<BudgetCheck, StoreError> {
        let fields = &doc.fields;
        let corrupt = |column: &'static str, value: String| {
            self.corrupt_field("budget_checks", doc, column, &value)
        };
        let missing = |column: &'static str| corrupt(column, "missing".into());
        let number = |column: &'static str| int(fields, column).ok_or_else(|| missing(column));
        let kind = text(fields, "kind").ok_or_else(|| missing("kind"))?;
        let level = text(fields, "level")
            .map(|l| BudgetLevel::parse(&l).ok_or_else(|| corrupt("level", l)))
            .transpose()?;
        Ok(BudgetCheck {
            run_id: int(fields, "run_id").map(RunId),
            checked_at: number("checked_at")?,
            kind: BudgetCheckKind::parse(&kind).ok_or_else(|| corrupt("kind", kind.clone()))?,
            project: text(fields, "project").ok_or_else(|| missing("project"))?,
            period_start: number("period_start")?,
            month: text(fields, "month"),
            month_zone: text(fields, "month_zone"),
            as_of: number("as_of")?,
            spent_usd: double(fields, "spent_usd").ok_or_else(|| missing("spent_usd"))?,
            budget_usd: double(fields, "budget_usd"),
            alert_at: double(fields, "alert_at"),
            projected_usd: double(fields, "projected_usd"),
            level,
            estimate_usd: double(fields, "estimate_usd"),
            within: match fields.get("within") {
                Some(FieldValue::Bool(b)) => Some(*b),
                _ => None,
            },
            unpriced: strings(fields, "unpriced"),
            per_model: match fields.get("per_model") {
                Some(FieldValue::Array(models)) => models
                    .iter()
                    .map(|m| {
                        model_spend(m)
                            .ok_or_else(|| corrupt("per_model", "not a model's spend".into()))
                    })
                    .collect::<Result<_, _>>()?,
                _ => Vec::new(),
            },
        })
    }
}

/// A check's fields, made on `machine`; texts masked as every stored text is.
fn budget_fields(check: &BudgetCheck, machine: &str) -> Fields {
    let opt_double = |value: Option<f64>| value.map_or(FieldValue::Null, FieldValue::Double);
    let masked = |value: &str| string(mask(value).into_owned());
    map([
        ("machine", string(machine)),
        ("run_id", opt_int(check.run_id.map(|r| r.0))),
        ("checked_at", FieldValue::Integer(check.checked_at)),
        ("kind", string(check.kind.as_str())),
        ("project", masked(&check.project)),
        ("period_start", FieldValue::Integer(check.period_start)),
        ("month", opt_string(check.month.clone())),
        ("month_zone", opt_string(check.month_zone.clone())),
        ("as_of", FieldValue::Integer(check.as_of)),
        ("spent_usd", FieldValue::Double(check.spent_usd)),
        ("budget_usd", opt_double(check.budget_usd)),
        ("alert_at", opt_double(check.alert_at)),
        ("projected_usd", opt_double(check.projected_usd)),
        (
            "level",
            opt_string(check.level.map(|l| l.as_str().to_owned())),
        ),
        ("estimate_usd", opt_double(check.estimate_usd)),
        (
            "within",
            check.within.map_or(FieldValue::Null, FieldValue::Bool),
        ),
        (
            "unpriced",
            FieldValue::Array(check.unpriced.iter().map(|m| masked(m)).collect()),
        ),
        (
            "per_model",
            FieldValue::Array(
                check
                    .per_model
                    .iter()
                    .map(|m| {
                        FieldValue::Map(map([
                            ("model", masked(&m.model)),
                            ("input_tokens", tokens(m.input_tokens)),
                            ("output_tokens", tokens(m.output_tokens)),
                            ("cost_usd", opt_double(m.cost_usd)),
                        ]))
                    })
                    .collect(),
            ),
        ),
    ])
}

/// A token count as a Firestore integer (64-bit signed; counts past it are held at its top).
fn tokens(count: u64) -> FieldValue {
    FieldValue::Integer(i64::try_from(count).unwrap_or(i64::MAX))
}

/// A double field.
fn double(fields: &Fields, name: &str) -> Option<f64> {
    match fields.get(name) {
        Some(FieldValue::Double(d)) => Some(*d),
        _ => None,
    }
}

/// An array-of-texts field; anything else reads as empty.
fn strings(fields: &Fields, name: &str) -> Vec<String> {
    match fields.get(name) {
        Some(FieldValue::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                FieldValue::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One element of `per_model`.
fn model_spend(value: &FieldValue) -> Option<ModelSpend> {
    let FieldValue::Map(fields) = value else {
        return None;
    };
    let count = |name| int(fields, name).and_then(|n| u64::try_from(n).ok());
    Some(ModelSpend {
        model: text(fields, "model")?,
        input_tokens: count("input_tokens")?,
        output_tokens: count("output_tokens")?,
        cost_usd: double(fields, "cost_usd"),
    })
}
