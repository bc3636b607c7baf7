//! A query over one collection: field filters (all must hold), orderings, a limit and a
//! cursor, turned into Firestore's `StructuredQuery`.

use firestore::gcloud_sdk::google::firestore::v1::{self as proto, structured_query as sq};

use super::path::{CollectionPath, DocumentPath, quote_field_path};
use super::value::FieldValue;

/// A comparison in a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// `==` (with null: `IS_NULL`).
    Equal,
    /// `!=` (with null: `IS_NOT_NULL`).
    NotEqual,
    /// `<`.
    LessThan,
    /// `<=`.
    LessThanOrEqual,
    /// `>`.
    GreaterThan,
    /// `>=`.
    GreaterThanOrEqual,
    /// `array-contains`.
    ArrayContains,
    /// `array-contains-any`.
    ArrayContainsAny,
    /// `in`.
    In,
    /// `not-in`.
    NotIn,
}

impl FilterOp {
    /// The spellings accepted, for messages.
    pub const SPELLINGS: &'static str =
        "==, !=, <, <=, >, >=, array-contains, array-contains-any, in, not-in";

    /// Parses an operator as playbooks (and Firestore's client libraries) spell it.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "==" => Self::Equal,
            "!=" => Self::NotEqual,
            "<" => Self::LessThan,
            "<=" => Self::LessThanOrEqual,
            ">" => Self::GreaterThan,
            ">=" => Self::GreaterThanOrEqual,
            "array-contains" => Self::ArrayContains,
            "array-contains-any" => Self::ArrayContainsAny,
            "in" => Self::In,
            "not-in" => Self::NotIn,
            _ => return None,
        })
    }

    fn to_proto(self) -> sq::field_filter::Operator {
        use sq::field_filter::Operator as Op;
        match self {
            Self::Equal => Op::Equal,
            Self::NotEqual => Op::NotEqual,
            Self::LessThan => Op::LessThan,
            Self::LessThanOrEqual => Op::LessThanOrEqual,
            Self::GreaterThan => Op::GreaterThan,
            Self::GreaterThanOrEqual => Op::GreaterThanOrEqual,
            Self::ArrayContains => Op::ArrayContains,
            Self::ArrayContainsAny => Op::ArrayContainsAny,
            Self::In => Op::In,
            Self::NotIn => Op::NotIn,
        }
    }
}

/// `field OP value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// A field path, e.g. `status` or `stats.tokens`.
    pub field: String,
    /// The comparison.
    pub op: FilterOp,
    /// What the field is compared with.
    pub value: FieldValue,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first.
    Ascending,
    /// Largest first.
    Descending,
}

/// One ordering.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// A field path.
    pub field: String,
    /// Which way.
    pub direction: Direction,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Cursor {
    /// After the position these values (one per ordering) give.
    AfterValues(Vec<FieldValue>),
    /// After this document, which the last page ended with: its values of the ordered fields,
    /// then its name (the query is ordered by name last so that ties are broken the same way).
    AfterDocument {
        /// The document.
        path: DocumentPath,
        /// Its values of the ordered fields, in order.
        values: Vec<FieldValue>,
    },
}

/// A query over one collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The collection.
    pub collection: CollectionPath,
    /// Filters that must all hold.
    pub filters: Vec<Filter>,
    /// Orderings, first one first.
    pub order_by: Vec<Order>,
    /// Most documents returned.
    pub limit: Option<i32>,
    /// Where the page starts.
    pub start_after: Option<Cursor>,
}

fn field_ref(path: &str) -> sq::FieldReference {
    sq::FieldReference {
        field_path: if path == "__name__" {
            path.to_owned()
        } else {
            quote_field_path(path)
        },
    }
}

impl Query {
    fn filter_proto(&self, filter: &Filter, root: &str) -> sq::Filter {
        use sq::unary_filter::Operator as Unary;
        let unary = match (&filter.value, filter.op) {
            (FieldValue::Null, FilterOp::Equal) => Some(Unary::IsNull),
            (FieldValue::Null, FilterOp::NotEqual) => Some(Unary::IsNotNull),
            (FieldValue::Double(d), FilterOp::Equal) if d.is_nan() => Some(Unary::IsNan),
            (FieldValue::Double(d), FilterOp::NotEqual) if d.is_nan() => Some(Unary::IsNotNan),
            _ => None,
        };
        let filter_type = match unary {
            Some(op) => sq::filter::FilterType::UnaryFilter(sq::UnaryFilter {
                op: op as i32,
                operand_type: Some(sq::unary_filter::OperandType::Field(field_ref(
                    &filter.field,
                ))),
            }),
            None => sq::filter::FilterType::FieldFilter(sq::FieldFilter {
                field: Some(field_ref(&filter.field)),
                op: filter.op.to_proto() as i32,
                value: Some(filter.value.to_proto(root)),
            }),
        };
        sq::Filter {
            filter_type: Some(filter_type),
        }
    }

    /// The `StructuredQuery` for documents below `documents_root`.
    pub(super) fn to_proto(&self, documents_root: &str) -> proto::StructuredQuery {
        let filters: Vec<sq::Filter> = self
            .filters
            .iter()
            .map(|f| self.filter_proto(f, documents_root))
            .collect();
        let r#where = match filters.len() {
            0 => None,
            1 => filters.into_iter().next(),
            _ => Some(sq::Filter {
                filter_type: Some(sq::filter::FilterType::CompositeFilter(
                    sq::CompositeFilter {
                        op: sq::composite_filter::Operator::And as i32,
                        filters,
                    },
                )),
            }),
        };
        let direction = |d: Direction| match d {
            Direction::Ascending => sq::Direction::Ascending as i32,
            Direction::Descending => sq::Direction::Descending as i32,
        };
        let mut order_by: Vec<sq::Order> = self
            .order_by
            .iter()
            .map(|o| sq::Order {
                field: Some(field_ref(&o.field)),
                direction: direction(o.direction),
            })
            .collect();
        let start_at = self.start_after.as_ref().map(|cursor| match cursor {
            Cursor::AfterValues(values) => proto::Cursor {
                values: values.iter().map(|v| v.to_proto(documents_root)).collect(),
                before: false,
            },
            Cursor::AfterDocument { path, values } => {
                if !self.order_by.iter().any(|o| o.field == "__name__") {
                    let last = self
                        .order_by
                        .last()
                        .map_or(Direction::Ascending, |o| o.direction);
                    order_by.push(sq::Order {
                        field: Some(field_ref("__name__")),
                        direction: direction(last),
                    });
                }
                let mut values: Vec<proto::Value> =
                    values.iter().map(|v| v.to_proto(documents_root)).collect();
                values
                    .push(FieldValue::Reference(path.as_str().to_owned()).to_proto(documents_root));
                proto::Cursor {
                    values,
                    before: false,
                }
            }
        });
        proto::StructuredQuery {
            from: vec![sq::CollectionSelector {
                collection_id: self.collection.id().to_owned(),
                all_descendants: false,
            }],
            r#where,
            order_by,
            limit: self.limit,
            start_at,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_cursor_orders_by_name_last() {
        let query = Query {
            collection: CollectionPath::parse("runs").expect("collection"),
            filters: vec![],
            order_by: vec![Order {
                field: "finished".into(),
                direction: Direction::Descending,
            }],
            limit: Some(2),
            start_after: Some(Cursor::AfterDocument {
                path: DocumentPath::parse("runs/7").expect("path"),
                values: vec![FieldValue::Integer(7)],
            }),
        };
        let proto = query.to_proto("projects/p/databases/(default)/documents");
        assert_eq!(proto.order_by.len(), 2);
        assert_eq!(proto.start_at.map(|c| c.values.len()), Some(2));
    }
}
