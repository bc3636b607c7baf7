//! Read-write transactions: begin, reads inside it (see [`Firestore::get`] and
//! [`Firestore::query`]), commit of the writes gathered meanwhile, rollback. A commit that
//! loses to a concurrent writer fails with `ABORTED` ([`super::is_contention`]); running the
//! transaction's body again is the caller's part, since the body is the caller's code.

use firestore::gcloud_sdk::google::firestore::v1 as proto;

use super::batch::{Committed, WriteOp};
use super::{Firestore, SERVICE, firestore_error};
use crate::clients::google_error::{GoogleError, retried};

/// An open transaction's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionId(Vec<u8>);

impl TransactionId {
    /// Its bytes, as requests carry them.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Firestore {
    /// Begins a read-write transaction; `retrying` names the one that just lost to a
    /// concurrent writer, so that Firestore gives this attempt priority.
    pub async fn begin(
        &self,
        retrying: Option<&TransactionId>,
    ) -> Result<TransactionId, GoogleError> {
        let request = proto::BeginTransactionRequest {
            database: self.database.clone(),
            options: Some(proto::TransactionOptions {
                mode: Some(proto::transaction_options::Mode::ReadWrite(
                    proto::transaction_options::ReadWrite {
                        retry_transaction: retrying.map(|t| t.0.clone()).unwrap_or_default(),
                        ..Default::default()
                    },
                )),
            }),
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let answer = retried(
            &self.policy,
            &self.cancelled,
            "Firestore begin transaction",
            true,
            || {
                let request = request.clone();
                let mut api = self.api();
                async move {
                    api.begin_transaction(request)
                        .await
                        .map(|a| a.into_inner())
                        .map_err(|s| firestore_error(&s))
                }
            },
        )
        .await?;
        super::timed("BeginTransaction", "", started);
        if answer.transaction.is_empty() {
            return Err(GoogleError::internal(
                SERVICE,
                "Firestore began a transaction without an id".into(),
            ));
        }
        Ok(TransactionId(answer.transaction))
    }

    /// Commits `ops` as the end of `transaction`; when each write left its document.
    pub async fn commit_transaction(
        &self,
        transaction: &TransactionId,
        ops: &[WriteOp],
    ) -> Result<Committed, GoogleError> {
        let root = self.documents_root();
        let writes: Vec<proto::Write> = ops.iter().map(|op| op.to_proto(&root)).collect();
        self.commit(writes, Some(transaction)).await
    }

    /// Abandons `transaction`, releasing its locks; a failure here changes nothing for the
    /// caller (the transaction expires on its own), so it is only logged.
    pub async fn rollback(&self, transaction: &TransactionId) {
        let request = proto::RollbackRequest {
            database: self.database.clone(),
            transaction: transaction.0.clone(),
            ..Default::default()
        };
        let started = std::time::Instant::now();
        if let Err(status) = self.api().rollback(request).await {
            tracing::debug!("Firestore rollback failed: {}", firestore_error(&status));
        }
        super::timed("Rollback", "", started);
    }
}
