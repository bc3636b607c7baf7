//! What playbooks pass to `firestore::query` and `firestore::batch`, parsed into the client's
//! types: every bad field is refused naming it and what was expected.

use rhai::{Array, Dynamic, Map};

use super::firestore_values::{to_field, to_fields};
use crate::clients::firestore::{
    CollectionPath, Cursor, Direction, DocumentPath, Filter, FilterOp, Order, Query, WriteOp,
};
use crate::engine::gate::PrimitiveError;

/// Parses a document path argument.
pub fn document(text: &str) -> Result<DocumentPath, PrimitiveError> {
    DocumentPath::parse(text).map_err(|e| PrimitiveError::new(e.to_string()))
}

fn orders(value: &Dynamic) -> Result<Vec<Order>, PrimitiveError> {
    let texts: Vec<String> = if let Ok(s) = value.as_immutable_string_ref() {
        vec![s.to_string()]
    } else if let Some(array) = value.read_lock::<Array>() {
        array
            .iter()
            .map(|v| {
                v.as_immutable_string_ref()
                    .map(|s| s.to_string())
                    .map_err(|_| {
                        PrimitiveError::new(format!(
                            "order_by: expected field names, found a {}",
                            v.type_name()
                        ))
                    })
            })
            .collect::<Result<_, _>>()?
    } else {
        return Err(PrimitiveError::new(format!(
            "order_by: expected a field name (\"-finished\" for descending) or an array of them, found a {}",
            value.type_name()
        )));
    };
    texts
        .into_iter()
        .map(|t| {
            let (field, direction) = match t.strip_prefix('-') {
                Some(f) => (f.to_owned(), Direction::Descending),
                None => (t.clone(), Direction::Ascending),
            };
            if field.is_empty() {
                return Err(PrimitiveError::new("order_by: a field name is empty"));
            }
            Ok(Order { field, direction })
        })
        .collect()
}

fn filters(value: &Dynamic) -> Result<Vec<Filter>, PrimitiveError> {
    let array = value.read_lock::<Array>().ok_or_else(|| {
        PrimitiveError::new("where: expected an array of [field, op, value] triples")
    })?;
    array
        .iter()
        .enumerate()
        .map(|(i, triple)| {
            let parts = triple
                .read_lock::<Array>()
                .filter(|a| a.len() == 3)
                .ok_or_else(|| {
                    PrimitiveError::new(format!("where[{i}]: expected [field, op, value]"))
                })?;
            let field = parts[0].clone().into_string().map_err(|_| {
                PrimitiveError::new(format!("where[{i}]: the field must be a string"))
            })?;
            let op_text = parts[1].to_string();
            let op = FilterOp::parse(&op_text).ok_or_else(|| {
                PrimitiveError::new(format!(
                    "where[{i}]: unknown operator '{op_text}': expected one of {}",
                    FilterOp::SPELLINGS
                ))
            })?;
            Ok(Filter {
                value: to_field(&parts[2], &format!("where[{i}] ({field})"))?,
                field,
                op,
            })
        })
        .collect()
}

fn cursor(value: &Dynamic, order_by: &[Order]) -> Result<Cursor, PrimitiveError> {
    if let Some(array) = value.read_lock::<Array>() {
        return array
            .iter()
            .enumerate()
            .map(|(i, v)| to_field(v, &format!("start_after[{i}]")))
            .collect::<Result<_, _>>()
            .map(Cursor::AfterValues);
    }
    let map = value.read_lock::<Map>().ok_or_else(|| {
        PrimitiveError::new("start_after: expected an array of values (one per order_by field) or a document a query returned")
    })?;
    let path = map
        .get("path")
        .map(|p| p.to_string())
        .ok_or_else(|| PrimitiveError::new("start_after: a document map has a `path`"))?;
    let data = map
        .get("data")
        .and_then(|d| d.read_lock::<Map>().map(|m| m.clone()))
        .unwrap_or_default();
    let values = order_by
        .iter()
        .map(|o| {
            let v = data.get(o.field.as_str()).cloned().unwrap_or(Dynamic::UNIT);
            to_field(&v, &format!("start_after.data.{}", o.field))
        })
        .collect::<Result<_, _>>()?;
    Ok(Cursor::AfterDocument {
        path: document(&path)?,
        values,
    })
}

/// `firestore::query(collection, options)`.
pub fn query(collection: &str, options: &Map) -> Result<Query, PrimitiveError> {
    let collection =
        CollectionPath::parse(collection).map_err(|e| PrimitiveError::new(e.to_string()))?;
    let mut query = Query {
        collection,
        filters: Vec::new(),
        order_by: Vec::new(),
        limit: None,
        start_after: None,
    };
    if let Some(order) = options.get("order_by") {
        query.order_by = orders(order)?;
    }
    for (key, value) in options {
        match key.as_str() {
            "where" => query.filters = filters(value)?,
            "order_by" => {}
            "limit" => {
                let n = value
                    .as_int()
                    .ok()
                    .and_then(|n| i32::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        PrimitiveError::new(format!(
                            "limit: expected a positive integer, found {value}"
                        ))
                    })?;
                query.limit = Some(n);
            }
            "start_after" | "cursor" => query.start_after = Some(cursor(value, &query.order_by)?),
            other => {
                return Err(PrimitiveError::new(format!(
                    "unknown query option `{other}`: expected where, order_by, limit or start_after"
                )));
            }
        }
    }
    Ok(query)
}

fn data(item: &Map, i: usize) -> Result<rhai::Map, PrimitiveError> {
    item.get("data")
        .and_then(|d| d.read_lock::<Map>().map(|m| m.clone()))
        .ok_or_else(|| PrimitiveError::new(format!("batch[{i}]: expected a `data` map")))
}

/// One `firestore::batch` item: `#{set: path, data, merge}`, `#{update: path, data}` or
/// `#{delete: path}`.
pub fn write_op(item: &Dynamic, i: usize) -> Result<WriteOp, PrimitiveError> {
    let item = item.read_lock::<Map>().ok_or_else(|| {
        PrimitiveError::new(format!(
            "batch[{i}]: expected #{{set: path, data: ...}}, #{{update: path, data: ...}} or #{{delete: path}}"
        ))
    })?;
    let path_of = |key: &str| -> Result<Option<DocumentPath>, PrimitiveError> {
        item.get(key)
            .map(|p| {
                document(&p.to_string())
                    .map_err(|e| PrimitiveError::new(format!("batch[{i}]: {}", e.message)))
            })
            .transpose()
    };
    if let Some(path) = path_of("set")? {
        let merge = item
            .get("merge")
            .is_some_and(|m| m.as_bool().unwrap_or(false));
        let fields = to_fields(&data(&item, i)?, &format!("batch[{i}].data"))?;
        return Ok(WriteOp::Set {
            path,
            fields,
            merge,
        });
    }
    if let Some(path) = path_of("update")? {
        let fields = to_fields(&data(&item, i)?, &format!("batch[{i}].data"))?;
        return Ok(WriteOp::Update { path, fields });
    }
    if let Some(path) = path_of("delete")? {
        return Ok(WriteOp::Delete { path });
    }
    Err(PrimitiveError::new(format!(
        "batch[{i}]: expected a `set`, `update` or `delete` key naming the document"
    )))
}
