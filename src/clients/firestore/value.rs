//! Firestore's value types as a plain Rust enum, and their protobuf form both ways.
//!
//! Firestore keeps integers (64-bit) and doubles apart, and so does [`FieldValue`]: a value
//! read back has the type it was written with.

use std::collections::{BTreeMap, HashMap};

use firestore::gcloud_sdk::google::firestore::v1::{self as proto, value::ValueType};
use firestore::gcloud_sdk::prost_types;

/// A document's fields, by name.
pub type Fields = BTreeMap<String, FieldValue>;

/// One Firestore value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// `nullValue`.
    Null,
    /// `booleanValue`.
    Bool(bool),
    /// `integerValue` (64-bit).
    Integer(i64),
    /// `doubleValue`.
    Double(f64),
    /// `timestampValue` (microsecond precision in Firestore).
    Timestamp(jiff::Timestamp),
    /// `stringValue`.
    String(String),
    /// `bytesValue`.
    Bytes(Vec<u8>),
    /// `referenceValue`: a document path below the database's documents.
    Reference(String),
    /// `geoPointValue`.
    GeoPoint {
        /// Degrees, -90 to 90.
        latitude: f64,
        /// Degrees, -180 to 180.
        longitude: f64,
    },
    /// `arrayValue` (Firestore refuses an array directly inside an array).
    Array(Vec<FieldValue>),
    /// `mapValue`.
    Map(Fields),
}

impl FieldValue {
    /// The name of its type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "boolean",
            Self::Integer(_) => "integer",
            Self::Double(_) => "double",
            Self::Timestamp(_) => "timestamp",
            Self::String(_) => "string",
            Self::Bytes(_) => "bytes",
            Self::Reference(_) => "reference",
            Self::GeoPoint { .. } => "geo point",
            Self::Array(_) => "array",
            Self::Map(_) => "map",
        }
    }

    /// Its protobuf form; `documents_root` (`projects/P/databases/D/documents`) prefixes a
    /// reference.
    pub fn to_proto(&self, documents_root: &str) -> proto::Value {
        let value_type = match self {
            Self::Null => ValueType::NullValue(prost_types::NullValue::NullValue as i32),
            Self::Bool(b) => ValueType::BooleanValue(*b),
            Self::Integer(i) => ValueType::IntegerValue(*i),
            Self::Double(d) => ValueType::DoubleValue(*d),
            Self::Timestamp(t) => ValueType::TimestampValue(timestamp_to_proto(*t)),
            Self::String(s) => ValueType::StringValue(s.clone()),
            Self::Bytes(b) => ValueType::BytesValue(b.clone()),
            Self::Reference(path) => ValueType::ReferenceValue(format!("{documents_root}/{path}")),
            Self::GeoPoint {
                latitude,
                longitude,
            } => ValueType::GeoPointValue(firestore::gcloud_sdk::google::r#type::LatLng {
                latitude: *latitude,
                longitude: *longitude,
            }),
            Self::Array(items) => ValueType::ArrayValue(proto::ArrayValue {
                values: items.iter().map(|v| v.to_proto(documents_root)).collect(),
            }),
            Self::Map(fields) => ValueType::MapValue(proto::MapValue {
                fields: fields_to_proto(fields, documents_root),
            }),
        };
        proto::Value {
            value_type: Some(value_type),
        }
    }

    /// The value of `value`; a type orchestra has no form for (the pipeline-only kinds)
    /// reads as null.
    pub fn from_proto(value: proto::Value) -> Self {
        match value.value_type {
            None | Some(ValueType::NullValue(_)) => Self::Null,
            Some(ValueType::BooleanValue(b)) => Self::Bool(b),
            Some(ValueType::IntegerValue(i)) => Self::Integer(i),
            Some(ValueType::DoubleValue(d)) => Self::Double(d),
            Some(ValueType::TimestampValue(t)) => {
                timestamp_from_proto(&t).map_or(Self::Null, Self::Timestamp)
            }
            Some(ValueType::StringValue(s)) => Self::String(s),
            Some(ValueType::BytesValue(b)) => Self::Bytes(b),
            Some(ValueType::ReferenceValue(r)) => Self::Reference(
                r.split_once("/documents/")
                    .map_or(r.clone(), |(_, path)| path.to_owned()),
            ),
            Some(ValueType::GeoPointValue(p)) => Self::GeoPoint {
                latitude: p.latitude,
                longitude: p.longitude,
            },
            Some(ValueType::ArrayValue(a)) => {
                Self::Array(a.values.into_iter().map(Self::from_proto).collect())
            }
            Some(ValueType::MapValue(m)) => Self::Map(fields_from_proto(m.fields)),
            Some(_) => Self::Null,
        }
    }
}

/// `fields` in protobuf form.
pub fn fields_to_proto(fields: &Fields, documents_root: &str) -> HashMap<String, proto::Value> {
    fields
        .iter()
        .map(|(k, v)| (k.clone(), v.to_proto(documents_root)))
        .collect()
}

/// Protobuf fields as [`Fields`].
pub fn fields_from_proto(fields: HashMap<String, proto::Value>) -> Fields {
    fields
        .into_iter()
        .map(|(k, v)| (k, FieldValue::from_proto(v)))
        .collect()
}

/// A timestamp in protobuf form.
pub fn timestamp_to_proto(t: jiff::Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.as_second(),
        nanos: t.subsec_nanosecond(),
    }
}

/// A protobuf timestamp, when it is in range.
pub fn timestamp_from_proto(t: &prost_types::Timestamp) -> Option<jiff::Timestamp> {
    jiff::Timestamp::new(t.seconds, t.nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_survives_the_protobuf_form() {
        let root = "projects/p/databases/(default)/documents";
        let mut inner = Fields::new();
        inner.insert(
            "deep".into(),
            FieldValue::Array(vec![FieldValue::Integer(1)]),
        );
        let values = [
            FieldValue::Null,
            FieldValue::Bool(true),
            FieldValue::Integer(i64::MIN),
            FieldValue::Double(0.5),
            FieldValue::Timestamp(jiff::Timestamp::new(1_700_000_000, 123_000).expect("time")),
            FieldValue::String("é".into()),
            FieldValue::Bytes(vec![0, 255]),
            FieldValue::Reference("agents/planner".into()),
            FieldValue::GeoPoint {
                latitude: 1.5,
                longitude: -2.0,
            },
            FieldValue::Map(inner),
        ];
        for value in values {
            assert_eq!(FieldValue::from_proto(value.to_proto(root)), value);
        }
    }

    #[test]
    fn an_integer_stays_an_integer_and_a_double_a_double() {
        let root = "r";
        assert!(matches!(
            FieldValue::from_proto(FieldValue::Integer(2).to_proto(root)),
            FieldValue::Integer(2)
        ));
        assert!(matches!(
            FieldValue::from_proto(FieldValue::Double(2.0).to_proto(root)),
            FieldValue::Double(d) if d == 2.0
        ));
    }
}
