//! The Firestore memory backend: one document per key in `[memory.firestore] collection`
//! ([`document`] documents the id encoding and the fields), read and written through the
//! process's one Firestore client (`Services::firestore`), which a [`FirestoreConnector`]
//! hands out. Calls block on the client's own runtime (`Firestore::block_on`).
//!
//! A Firestore that cannot be reached (no connection, `UNAVAILABLE`, a deadline passed) is
//! reported [`BackendError::Unreachable`], so [`super::Memory`] serves reads from the cache
//! and the local copy and queues writes in the outbox; any other refusal is passed on.

pub mod document;

use std::sync::Arc;

use super::{BackendError, Listed, MemoryBackend, MemoryEntry, MemoryKey, MemoryPrefix};
use crate::clients::firestore::{
    CollectionPath, Cursor, Direction, DocumentPath, FieldValue, Filter, FilterOp, Firestore,
    Order, Query, WriteOp,
};
use crate::clients::google_error::GoogleError;

/// Hands out the process's Firestore client, connecting when there is none yet; why not, as
/// a sentence, when it cannot.
pub type FirestoreConnector = Arc<dyn Fn() -> Result<Arc<Firestore>, String> + Send + Sync>;

/// Documents fetched per page while listing (expired entries are skipped, so a page may
/// yield fewer live entries than it holds).
const LIST_PAGE: usize = 300;

/// Memory in a Firestore collection.
pub struct FirestoreBackend {
    collection: CollectionPath,
    connect: FirestoreConnector,
}

/// A failed call as the backend reports it: unreachable when no answer came.
fn backend_error(error: GoogleError) -> BackendError {
    match error.code.as_str() {
        "UNAVAILABLE" | "DEADLINE_EXCEEDED" | "CANCELLED" => {
            BackendError::Unreachable(format!("Firestore did not answer: {}", error.message))
        }
        _ => BackendError::Refused(error.to_string()),
    }
}

impl FirestoreBackend {
    /// A backend over `collection` (e.g. `orchestra_memory`), reaching Firestore through
    /// `connect`.
    pub fn new(collection: &str, connect: FirestoreConnector) -> Result<Self, String> {
        let collection = CollectionPath::parse(collection)
            .map_err(|e| format!("[memory.firestore] collection: {e}"))?;
        Ok(Self {
            collection,
            connect,
        })
    }

    fn client(&self) -> Result<Arc<Firestore>, BackendError> {
        (self.connect)().map_err(BackendError::Unreachable)
    }

    fn path_of_id(&self, id: &str) -> Result<DocumentPath, BackendError> {
        DocumentPath::parse(&format!("{}/{id}", self.collection.as_str()))
            .map_err(|e| BackendError::Refused(e.to_string()))
    }

    fn path(&self, key: &MemoryKey) -> Result<DocumentPath, BackendError> {
        self.path_of_id(&document::doc_id(key))
    }

    /// The document at `path` as an entry, if there is one.
    fn read(&self, path: &DocumentPath) -> Result<Option<MemoryEntry>, BackendError> {
        let db = self.client()?;
        let doc = db.block_on(db.get(path, None)).map_err(backend_error)?;
        doc.map(|doc| {
            document::entry_of(doc.path.id(), &doc.fields)
                .map(|(_, entry)| entry)
                .map_err(BackendError::Refused)
        })
        .transpose()
    }

    /// One page of entries with keys in `[from, to)`, after `after`, in key order: the live
    /// ones, and whether the page was full (more may follow).
    fn page(
        &self,
        db: &Firestore,
        range: (&str, Option<&str>),
        after: Option<&str>,
        now_ms: i64,
    ) -> Result<(Vec<Listed>, Option<String>), BackendError> {
        let (from, to) = range;
        let mut filters = Vec::new();
        if !from.is_empty() {
            filters.push(Filter {
                field: "key".into(),
                op: FilterOp::GreaterThanOrEqual,
                value: FieldValue::String(from.to_owned()),
            });
        }
        if let Some(to) = to {
            filters.push(Filter {
                field: "key".into(),
                op: FilterOp::LessThan,
                value: FieldValue::String(to.to_owned()),
            });
        }
        let query = Query {
            collection: self.collection.clone(),
            filters,
            order_by: vec![Order {
                field: "key".into(),
                direction: Direction::Ascending,
            }],
            limit: i32::try_from(LIST_PAGE).ok(),
            start_after: after.map(|k| Cursor::AfterValues(vec![FieldValue::String(k.to_owned())])),
        };
        let docs = db.block_on(db.query(&query, None)).map_err(backend_error)?;
        let last = (docs.len() == LIST_PAGE)
            .then(|| docs.last())
            .flatten()
            .and_then(|d| match d.fields.get("key") {
                Some(FieldValue::String(k)) => Some(k.clone()),
                _ => None,
            });
        let mut live = Vec::with_capacity(docs.len());
        for doc in &docs {
            let (key, entry) =
                document::entry_of(doc.path.id(), &doc.fields).map_err(BackendError::Refused)?;
            if entry.is_live(now_ms) {
                live.push(Listed { key, entry });
            }
        }
        Ok((live, last))
    }
}

impl MemoryBackend for FirestoreBackend {
    fn name(&self) -> &'static str {
        "firestore"
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn store(&self, key: &MemoryKey, entry: &MemoryEntry) -> Result<(), BackendError> {
        let op = WriteOp::Set {
            path: self.path(key)?,
            fields: document::fields_of(key, entry, crate::clock::now_ms()),
            merge: false,
        };
        let db = self.client()?;
        db.block_on(db.write(&op)).map_err(backend_error)
    }

    fn retrieve(&self, key: &MemoryKey) -> Result<Option<MemoryEntry>, BackendError> {
        self.read(&self.path(key)?)
    }

    /// Reads the document, then deletes it: whether it held an entry is what the read saw.
    fn forget(&self, key: &MemoryKey) -> Result<bool, BackendError> {
        let path = self.path(key)?;
        let existed = self.read(&path)?.is_some();
        let db = self.client()?;
        db.block_on(db.write(&WriteOp::Delete { path }))
            .map_err(backend_error)?;
        Ok(existed)
    }

    fn list(
        &self,
        prefix: &MemoryPrefix,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<Listed>, BackendError> {
        let db = self.client()?;
        let end = document::prefix_end(prefix.as_str());
        let range = (prefix.as_str(), end.as_deref());
        let mut listed = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (live, last) = self.page(&db, range, after.as_deref(), now_ms)?;
            listed.extend(live);
            match last {
                Some(last) if listed.len() < limit => after = Some(last),
                _ => break,
            }
        }
        listed.truncate(limit);
        Ok(listed)
    }

    fn ping(&self) -> Result<(), BackendError> {
        self.read(&self.path_of_id(document::PING_ID)?).map(|_| ())
    }
}
