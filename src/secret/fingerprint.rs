//! Keyed fingerprints of secret values.
//!
//! A fingerprint lets a person (and the sync ledger) tell two secret values apart without
//! seeing either. It is an HMAC-SHA256 under a key kept beside the state database, never a plain
//! hash: a plain hash of a short password can be reversed by guessing, a keyed one cannot
//! without the key file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The key under which fingerprints are computed. A clone holds its own zeroised copy.
#[derive(Clone)]
pub struct FingerprintKey {
    key: Zeroizing<[u8; 32]>,
}

/// Why the fingerprint key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintKeyError {
    /// The key file exists but could not be read or is the wrong size.
    #[error("cannot read the fingerprint key {path}: {reason}")]
    Read {
        /// Where the key file is.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A new key file could not be written.
    #[error("cannot create the fingerprint key {path}: {source}")]
    Create {
        /// Where the key file was to be.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The operating system gave no random bytes.
    #[error("no randomness available for the fingerprint key: {0}")]
    Random(String),
    /// The shared key (kept in a secret store, not a file) is not a key.
    #[error("the fingerprint key in {place} is not a key: expected 32 bytes, found {found}")]
    Malformed {
        /// Where the key is kept.
        place: String,
        /// How many bytes were found.
        found: usize,
    },
}

impl FingerprintKey {
    /// Loads the key at `path`, creating it (mode 0600) with fresh random bytes if absent.
    pub fn load_or_create(path: &Path) -> Result<Self, FingerprintKeyError> {
        match fs::read(path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let key: [u8; 32] =
                    bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| FingerprintKeyError::Read {
                            path: path.to_owned(),
                            reason: format!("expected 32 bytes, found {}", bytes.len()),
                        })?;
                Ok(Self {
                    key: Zeroizing::new(key),
                })
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(err) => Err(FingerprintKeyError::Read {
                path: path.to_owned(),
                reason: err.to_string(),
            }),
        }
    }

    fn create(path: &Path) -> Result<Self, FingerprintKeyError> {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut()).map_err(|e| FingerprintKeyError::Random(e.to_string()))?;
        let create_err = |source| FingerprintKeyError::Create {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(create_err)?;
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(key.as_ref()).map_err(create_err)?;
                Ok(Self { key })
            }
            // Another process created it first: use theirs, so both agree on fingerprints.
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::load_or_create(path)
            }
            Err(err) => Err(create_err(err)),
        }
    }

    /// A fresh random key, for a secret store to keep (see [`FingerprintKey::from_stored`]).
    pub fn generate() -> Result<Self, FingerprintKeyError> {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut()).map_err(|e| FingerprintKeyError::Random(e.to_string()))?;
        Ok(Self { key })
    }

    /// The key whose 32 bytes a secret store at `place` kept.
    pub fn from_stored(bytes: &[u8], place: &str) -> Result<Self, FingerprintKeyError> {
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| FingerprintKeyError::Malformed {
                place: place.to_owned(),
                found: bytes.len(),
            })?;
        Ok(Self {
            key: Zeroizing::new(key),
        })
    }

    /// The key's bytes, to be kept by a secret store (Secret Manager) and nowhere else.
    pub fn expose_for_secret_store(&self) -> &[u8] {
        self.key.as_ref()
    }

    /// A key for tests and benchmarks that never touches the disk.
    pub fn ephemeral() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        // Falling back to a fixed key only weakens fingerprints of a throwaway process.
        let _ = getrandom::fill(key.as_mut());
        Self { key }
    }

    /// A key for another purpose, derived from this one under `label` (HMAC-SHA256), so one
    /// key file serves fingerprints, state sealing and lookups without any two sharing a key.
    pub fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(hmac_sha256(
            self.key.as_ref(),
            &[b"orchestra derived key: ", label.as_bytes()],
        ))
    }

    /// The full keyed fingerprint of `value`, as 64 lowercase hex digits.
    pub fn fingerprint(&self, value: &[u8]) -> String {
        hex(&hmac_sha256(self.key.as_ref(), &[value]))
    }
}

/// HMAC-SHA256 under `key` of `parts`, one after the other.
pub(super) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// `bytes` as lowercase hex digits.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_key_same_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let a = FingerprintKey::load_or_create(&path).unwrap();
        let b = FingerprintKey::load_or_create(&path).unwrap();
        assert_eq!(a.fingerprint(b"x"), b.fingerprint(b"x"));
        assert_ne!(a.fingerprint(b"x"), a.fingerprint(b"y"));
    }

    #[test]
    fn different_keys_differ() {
        let a = FingerprintKey::ephemeral();
        let b = FingerprintKey::ephemeral();
        assert_ne!(a.fingerprint(b"x"), b.fingerprint(b"x"));
    }
}
