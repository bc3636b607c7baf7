//! The fingerprint key of a shared state, kept in Secret Manager: with `[state] backend =
//! "firestore"` every machine must fingerprint (and seal playbook state) under one key, and
//! that key must not sit beside the data it protects, so a copy of the Firestore documents
//! alone cannot be brute-forced. Knows nothing of Rhai or the store.
//!
//! The key is version 1 of secret `{prefix}-fingerprint-key` in the state's project, labelled
//! `managed-by=orchestra`, created on first use. Version 1 (not `latest`) is the key, so two
//! machines that both create one at once still agree: the second version is never read.

use super::google_error::GoogleError;
use super::secret_manager::SecretManager;
use crate::secret::FingerprintKey;

/// The label every secret orchestra creates for itself carries.
pub const MANAGED_BY: (&str, &str) = ("managed-by", "orchestra");

/// Where a shared state's fingerprint key is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedKeyPlace {
    /// The Google Cloud project.
    pub project: String,
    /// The secret id, `{prefix}-fingerprint-key`.
    pub secret_id: String,
}

impl SharedKeyPlace {
    /// The key of the shared state with collection prefix `prefix` in `project`.
    pub fn new(project: &str, prefix: &str) -> Self {
        Self {
            project: project.to_owned(),
            secret_id: format!("{prefix}-fingerprint-key"),
        }
    }

    /// `projects/P/secrets/ID`.
    pub fn secret_name(&self) -> String {
        format!("projects/{}/secrets/{}", self.project, self.secret_id)
    }
}

/// Why the shared key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SharedKeyError {
    /// Secret Manager refused or failed.
    #[error("the fingerprint key in Secret Manager ({secret}): {source}")]
    Remote {
        /// `projects/P/secrets/ID`.
        secret: String,
        /// What Secret Manager said.
        source: GoogleError,
    },
    /// What is stored is not a key, or no key could be made.
    #[error(transparent)]
    Key(#[from] crate::secret::FingerprintKeyError),
}

fn is(error: &GoogleError, code: &str) -> bool {
    error.code == code
}

/// The key at `place`; `None` when there is none yet.
pub async fn read(
    client: &SecretManager,
    place: &SharedKeyPlace,
) -> Result<Option<FingerprintKey>, SharedKeyError> {
    let secret = place.secret_name();
    match client.access(&format!("{secret}/versions/1")).await {
        Ok((bytes, _)) => Ok(Some(FingerprintKey::from_stored(&bytes, &secret)?)),
        Err(error) if is(&error, "NOT_FOUND") => Ok(None),
        Err(source) => Err(SharedKeyError::Remote { secret, source }),
    }
}

/// The key at `place`, stored there first (as `initial`, or a fresh random key) when there
/// is none. The key read back is returned: another machine's, when it stored one first.
pub async fn read_or_create(
    client: &SecretManager,
    place: &SharedKeyPlace,
    initial: Option<&FingerprintKey>,
) -> Result<FingerprintKey, SharedKeyError> {
    if let Some(key) = read(client, place).await? {
        return Ok(key);
    }
    let secret = place.secret_name();
    let remote = |source| SharedKeyError::Remote {
        secret: secret.clone(),
        source,
    };
    let labels = [(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned())];
    match client
        .create(&place.project, &place.secret_id, &labels)
        .await
    {
        Ok(()) => {}
        Err(error) if is(&error, "ALREADY_EXISTS") => {}
        Err(error) => return Err(remote(error)),
    }
    let fresh;
    let key = match initial {
        Some(key) => key,
        None => {
            fresh = FingerprintKey::generate()?;
            &fresh
        }
    };
    // A creator that died between the secret and its version left it empty: fill it.
    if read(client, place).await?.is_none() {
        client
            .add_version(&secret, key.expose_for_secret_store())
            .await
            .map_err(remote)?;
    }
    read(client, place).await?.ok_or_else(|| {
        remote(GoogleError::internal(
            "Secret Manager",
            "version 1 is missing right after it was added".to_owned(),
        ))
    })
}
