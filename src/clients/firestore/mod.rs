//! Firestore through the `firestore` crate's gRPC connection (one `FirestoreDb` per process:
//! gRPC multiplexes every call on one HTTP/2 connection, which is the pool), with the shared
//! retry policy. Documents are read and written as [`FieldValue`] maps; the Commit, RunQuery
//! and transaction calls are made on the crate's generated client so that batches can be
//! split and counted and transactions retried by the caller. Knows nothing of Rhai.

mod batch;
mod commits;
mod connection;
mod driver;
mod error;
mod path;
mod query;
mod transaction;
mod value;

use std::collections::BTreeMap;
use std::sync::Arc;

use firestore::FirestoreDb;
use firestore::gcloud_sdk::google::firestore::v1 as proto;

pub use batch::{BatchOutcome, CommitLimits, Committed, WriteOp};
pub use connection::{Endpoint, FirestoreSettings};
pub use error::{firestore_error, is_contention, is_precondition_failure};
pub use path::{CollectionPath, DocumentPath, PathError};
pub use query::{Cursor, Direction, Filter, FilterOp, Order, Query};
pub use transaction::TransactionId;
pub use value::{FieldValue, Fields};

use super::google_error::{GoogleError, retried};
use super::retry::RetryPolicy;

/// The service name in errors and the breaker.
pub const SERVICE: &str = "Firestore";

/// A document as read: where it is, when it last changed, and its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Its path below the database's documents, e.g. `agents/planner`.
    pub path: DocumentPath,
    /// When it was last written.
    pub update_time: Option<jiff::Timestamp>,
    /// Its fields.
    pub fields: Fields,
}

/// The Firestore client of a process: one connection to one database.
pub struct Firestore {
    db: FirestoreDb,
    database: String,
    policy: RetryPolicy,
    cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    driver: driver::Driver,
}

impl Firestore {
    /// Connects to the database `settings` names on the caller's runtime, which must keep
    /// running for the client to work (the shared state store's: its leases renew in the
    /// background).
    pub async fn connect(
        settings: &FirestoreSettings,
        policy: RetryPolicy,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Self, GoogleError> {
        let db = connection::connect(settings).await?;
        Ok(Self {
            db,
            database: settings.database_name(),
            policy,
            cancelled,
            driver: driver::Driver::Shared(tokio::runtime::Handle::current()),
        })
    }

    /// Connects to the database `settings` names on a runtime of the client's own, driven by
    /// the thread that waits on a call ([`Self::block_on`]): no call crosses a thread.
    pub fn open(
        settings: &FirestoreSettings,
        policy: RetryPolicy,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<Self, GoogleError> {
        let driver = driver::Driver::own().map_err(|e| {
            GoogleError::internal(SERVICE, format!("cannot start the Firestore runtime: {e}"))
        })?;
        let db = driver.block_on(connection::connect(settings))?;
        Ok(Self {
            db,
            database: settings.database_name(),
            policy,
            cancelled,
            driver,
        })
    }

    /// Runs `work` (calls on this client) to completion on the runtime that drives its
    /// connection, and waits for it; from inside a runtime too (then on a scoped thread).
    pub fn block_on<F: std::future::Future + Send>(&self, work: F) -> F::Output
    where
        F::Output: Send,
    {
        self.driver.block_on(work)
    }

    /// `projects/P/databases/D`.
    pub fn database(&self) -> &str {
        &self.database
    }

    fn documents_root(&self) -> String {
        format!("{}/documents", self.database)
    }

    fn full_name(&self, path: &DocumentPath) -> String {
        format!("{}/{}", self.documents_root(), path.as_str())
    }

    fn api(
        &self,
    ) -> proto::firestore_client::FirestoreClient<firestore::gcloud_sdk::GoogleAuthMiddleware> {
        self.db.client().get()
    }

    fn document_from(&self, doc: proto::Document) -> Result<Document, GoogleError> {
        let root = format!("{}/", self.documents_root());
        let relative = doc.name.strip_prefix(&root).unwrap_or(&doc.name);
        let path = DocumentPath::parse(relative)
            .map_err(|e| GoogleError::internal(SERVICE, format!("Firestore returned {e}")))?;
        Ok(Document {
            path,
            update_time: doc
                .update_time
                .as_ref()
                .and_then(value::timestamp_from_proto),
            fields: value::fields_from_proto(doc.fields),
        })
    }

    /// The document at `path`, or None when there is none; read inside `transaction` when
    /// given.
    pub async fn get(
        &self,
        path: &DocumentPath,
        transaction: Option<&TransactionId>,
    ) -> Result<Option<Document>, GoogleError> {
        let name = self.full_name(path);
        let started = std::time::Instant::now();
        let answer = retried(&self.policy, &self.cancelled, "Firestore get", true, || {
            let request = proto::GetDocumentRequest {
                name: name.clone(),
                consistency_selector: transaction.map(|t| {
                    proto::get_document_request::ConsistencySelector::Transaction(
                        t.bytes().to_vec(),
                    )
                }),
                ..Default::default()
            };
            let mut api = self.api();
            async move {
                match api.get_document(request).await {
                    Ok(answer) => Ok(Some(answer.into_inner())),
                    Err(status)
                        if status.code() == firestore::gcloud_sdk::tonic::Code::NotFound =>
                    {
                        Ok(None)
                    }
                    Err(status) => Err(firestore_error(&status)),
                }
            }
        })
        .await?;
        timed("GetDocument", collection_of(path.as_str()), started);
        answer.map(|doc| self.document_from(doc)).transpose()
    }

    /// Runs `query` (inside `transaction` when given); the documents in order.
    pub async fn query(
        &self,
        query: &Query,
        transaction: Option<&TransactionId>,
    ) -> Result<Vec<Document>, GoogleError> {
        let parent = match query.collection.parent() {
            Some(parent) => format!("{}/{}", self.documents_root(), parent.as_str()),
            None => self.documents_root(),
        };
        let structured = query.to_proto(&self.documents_root());
        let started = std::time::Instant::now();
        let docs = retried(
            &self.policy,
            &self.cancelled,
            "Firestore query",
            true,
            || {
                let request = proto::RunQueryRequest {
                    parent: parent.clone(),
                    query_type: Some(proto::run_query_request::QueryType::StructuredQuery(
                        structured.clone(),
                    )),
                    consistency_selector: transaction.map(|t| {
                        proto::run_query_request::ConsistencySelector::Transaction(
                            t.bytes().to_vec(),
                        )
                    }),
                    ..Default::default()
                };
                let mut api = self.api();
                async move {
                    let mut stream = api
                        .run_query(request)
                        .await
                        .map_err(|s| firestore_error(&s))?
                        .into_inner();
                    let mut docs = Vec::new();
                    while let Some(answer) =
                        stream.message().await.map_err(|s| firestore_error(&s))?
                    {
                        if let Some(doc) = answer.document {
                            docs.push(doc);
                        }
                    }
                    Ok(docs)
                }
            },
        )
        .await?;
        timed("RunQuery", query.collection.as_str(), started);
        docs.into_iter().map(|d| self.document_from(d)).collect()
    }

    /// Commits `writes` as one atomic request (inside `transaction` when given); when each
    /// write left its document. A commit is not idempotent in general, so only refusals before
    /// it ran are retried.
    async fn commit(
        &self,
        writes: Vec<proto::Write>,
        transaction: Option<&TransactionId>,
    ) -> Result<Committed, GoogleError> {
        let request = proto::CommitRequest {
            database: self.database.clone(),
            writes,
            transaction: transaction.map(|t| t.bytes().to_vec()).unwrap_or_default(),
            ..Default::default()
        };
        let root = format!("{}/", self.documents_root());
        let mut written: Vec<&str> = request
            .writes
            .iter()
            .filter_map(commits::written_document)
            .map(|name| collection_of(name.strip_prefix(&root).unwrap_or(name)))
            .collect();
        written.dedup();
        let written = written.join(",");
        let started = std::time::Instant::now();
        let answer = retried(
            &self.policy,
            &self.cancelled,
            "Firestore commit",
            false,
            || {
                let request = request.clone();
                let mut api = self.api();
                async move {
                    api.commit(request)
                        .await
                        .map(|a| a.into_inner())
                        .map_err(|s| firestore_error(&s))
                }
            },
        )
        .await?;
        timed("Commit", &written, started);
        Ok(Committed {
            update_times: answer
                .write_results
                .iter()
                .map(|r| r.update_time.as_ref().and_then(value::timestamp_from_proto))
                .collect(),
        })
    }

    /// Commits `ops` as one atomic request, outside any transaction: all of them or none (a
    /// write whose precondition fails refuses the whole commit with `FAILED_PRECONDITION`).
    pub async fn commit_writes(&self, ops: &[WriteOp]) -> Result<Committed, GoogleError> {
        let root = self.documents_root();
        self.commit(ops.iter().map(|op| op.to_proto(&root)).collect(), None)
            .await
    }

    /// Writes one document now: `set` (replacing it, or merging `fields` into it), `update`
    /// (only the named fields, failing when it does not exist) or `delete`.
    pub async fn write(&self, op: &WriteOp) -> Result<(), GoogleError> {
        self.commit(vec![op.to_proto(&self.documents_root())], None)
            .await
            .map(|_| ())
    }
}

/// Logs how long a call took and the collections it read or wrote
/// (`RUST_LOG=orchestra::clients::firestore=debug`), to tell the time spent waiting for
/// Firestore from the time spent around it, and which part of the state each call served.
/// Collection names only: a document id may be derived from a name a script chose.
pub(super) fn timed(rpc: &'static str, on: &str, started: std::time::Instant) {
    tracing::debug!(
        rpc,
        on,
        elapsed_us = started.elapsed().as_micros() as u64,
        "Firestore call answered"
    );
}

/// The collection part of a document path (`orchestra_kv` of `orchestra_kv/abc`).
fn collection_of(path: &str) -> &str {
    path.rsplit_once('/')
        .map_or(path, |(collection, _)| collection)
}

/// The field names of `fields`, sorted, for plan lines and journal entries (never values).
pub fn field_names(fields: &BTreeMap<String, FieldValue>) -> Vec<String> {
    fields.keys().cloned().collect()
}
