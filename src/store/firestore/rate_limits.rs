//! Rate-limit history in `{prefix}_rate_limits`: every observation of a GitHub window, from
//! every machine, so one machine's burn rate counts from another's last check and
//! `orchestra report rate-limits` shows them all.
//!
//! A document's id is the check's time (20 digits), the machine, then the credential and the
//! resource (each percent-encoded): unique across machines, and the same again when
//! `state migrate` copies a row twice. The newest observation of each credential's resource
//! is also kept in `{prefix}_rate_limits_latest` (id: credential `~` resource), written in the
//! same commit, so finding it is one read and needs no composite index.

use super::fields::{document_id, int, map, opt_int, string, text};
use super::{FirestoreState, padded};
use crate::clients::firestore::{
    Cursor, Direction, Document, FieldValue, Fields, Filter, FilterOp, Order, Query, WriteOp,
};
use crate::store::{RateLimitCheck, StoreError};

/// Documents read per page while looking for the newest checks.
const PAGE: i32 = 200;

impl FirestoreState {
    /// See [`crate::store::Store::record_rate_limit`].
    pub(in crate::store) fn record_rate_limit(
        &self,
        check: &RateLimitCheck,
        machine: &str,
    ) -> Result<(), StoreError> {
        self.refuse_in_plan("rate_limits")?;
        self.commit(self.rate_limit_writes(check, machine)?)
    }

    /// The writes of `check` made on `machine`: its history document and the newest one of
    /// its credential's resource (`state migrate` copies each row with them).
    pub(super) fn rate_limit_writes(
        &self,
        check: &RateLimitCheck,
        machine: &str,
    ) -> Result<Vec<WriteOp>, StoreError> {
        let fields = rate_limit_fields(check);
        let id = format!(
            "{}-{}-{}",
            padded(check.checked_at),
            document_id(machine),
            pair_id(&check.credential, &check.resource)
        );
        Ok(vec![
            WriteOp::Set {
                path: self.doc("rate_limits", &id)?,
                fields: fields.clone(),
                merge: false,
            },
            WriteOp::Set {
                path: self.doc(
                    "rate_limits_latest",
                    &pair_id(&check.credential, &check.resource),
                )?,
                fields,
                merge: false,
            },
        ])
    }

    /// See [`crate::store::Store::last_rate_limit`].
    pub(in crate::store) fn last_rate_limit(
        &self,
        credential: &str,
        resource: &str,
    ) -> Result<Option<RateLimitCheck>, StoreError> {
        let path = self.doc("rate_limits_latest", &pair_id(credential, resource))?;
        self.block(self.client.get(&path, None))
            .map_err(|e| self.failed(e))?
            .map(|d| self.rate_limit_from(&d))
            .transpose()
    }

    /// See [`crate::store::Store::recent_rate_limits`]: the newest `checks` distinct check
    /// times are found page by page (each page starts after the last time seen, so ties are
    /// skipped), then every observation from the oldest of them on is read in one range.
    pub(in crate::store) fn recent_rate_limits(
        &self,
        checks: usize,
    ) -> Result<Vec<RateLimitCheck>, StoreError> {
        let newest_first = || Order {
            field: "checked_at".into(),
            direction: Direction::Descending,
        };
        let mut times: Vec<i64> = Vec::new();
        while times.len() < checks {
            let query = Query {
                collection: self.collection("rate_limits")?,
                filters: Vec::new(),
                order_by: vec![newest_first()],
                limit: Some(PAGE),
                start_after: times
                    .last()
                    .map(|t| Cursor::AfterValues(vec![FieldValue::Integer(*t)])),
            };
            let page = self
                .block(self.client.query(&query, None))
                .map_err(|e| self.failed(e))?;
            for at in page.iter().filter_map(|d| int(&d.fields, "checked_at")) {
                if times.last() != Some(&at) && times.len() < checks {
                    times.push(at);
                }
            }
            if page.len() < usize::try_from(PAGE).unwrap_or(usize::MAX) {
                break;
            }
        }
        let Some(oldest) = times.last() else {
            return Ok(Vec::new());
        };
        let docs = self.documents(
            "rate_limits",
            vec![Filter {
                field: "checked_at".into(),
                op: FilterOp::GreaterThanOrEqual,
                value: FieldValue::Integer(*oldest),
            }],
        )?;
        let mut rows = docs
            .iter()
            .map(|d| self.rate_limit_from(d))
            .collect::<Result<Vec<_>, _>>()?;
        rows.sort_by(|a, b| {
            (b.checked_at, &a.credential, &a.resource).cmp(&(
                a.checked_at,
                &b.credential,
                &b.resource,
            ))
        });
        Ok(rows)
    }

    /// The observation a history document holds; a missing field is named.
    fn rate_limit_from(&self, doc: &Document) -> Result<RateLimitCheck, StoreError> {
        let fields = &doc.fields;
        let missing =
            |column: &'static str| self.corrupt_field("rate_limit_checks", doc, column, "missing");
        let number = |column: &'static str| int(fields, column).ok_or_else(|| missing(column));
        let name = |column: &'static str| text(fields, column).ok_or_else(|| missing(column));
        Ok(RateLimitCheck {
            run_id: int(fields, "run_id"),
            checked_at: number("checked_at")?,
            credential: name("credential")?,
            kind: name("kind")?,
            resource: name("resource")?,
            limit: number("limit")?,
            remaining: number("remaining")?,
            used: number("used")?,
            reset_at: number("reset_at")?,
            burn_per_hour: match fields.get("burn_per_hour") {
                Some(FieldValue::Double(rate)) => Some(*rate),
                _ => None,
            },
            exhausts_at: int(fields, "exhausts_at"),
        })
    }
}

/// `credential~resource`, each percent-encoded.
fn pair_id(credential: &str, resource: &str) -> String {
    format!("{}~{}", document_id(credential), document_id(resource))
}

/// An observation's fields.
fn rate_limit_fields(check: &RateLimitCheck) -> Fields {
    map([
        ("run_id", opt_int(check.run_id)),
        ("checked_at", FieldValue::Integer(check.checked_at)),
        ("credential", string(check.credential.as_str())),
        ("kind", string(check.kind.as_str())),
        ("resource", string(check.resource.as_str())),
        ("limit", FieldValue::Integer(check.limit)),
        ("remaining", FieldValue::Integer(check.remaining)),
        ("used", FieldValue::Integer(check.used)),
        ("reset_at", FieldValue::Integer(check.reset_at)),
        (
            "burn_per_hour",
            check
                .burn_per_hour
                .map_or(FieldValue::Null, FieldValue::Double),
        ),
        ("exhausts_at", opt_int(check.exhausts_at)),
    ])
}
