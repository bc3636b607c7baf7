//! Sealing what a playbook keeps in its state table, so the state database holds no text a
//! script wrote.
//!
//! Playbook state is the one sink a script reads back. Masking it would make the mask an
//! oracle (store a string of guesses, read it back next run, see which came back masked), and
//! leaving it plain would let a script park any text in `state.db`. So each entry is sealed
//! instead: the row's key is a keyed hash of the entry's name, and its value is the name and
//! value encrypted (XSalsa20-Poly1305, a random nonce per write) under a key derived from the
//! fingerprint key, which lives beside the database, never in it. The script reads back
//! exactly what it wrote; a copy of `state.db` alone shows neither names nor values.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use zeroize::Zeroizing;

use super::FingerprintKey;
use super::fingerprint::{hex, hmac_sha256};

/// What a sealed value starts with (version 1).
const SEALED_PREFIX: &str = "s1:";
/// What a hashed row key starts with (version 1).
const LOOKUP_PREFIX: &str = "k1:";
const NONCE_BYTES: usize = 24;

/// A sealed value that could not be opened: another key, or a damaged row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a sealed state entry cannot be opened: it was written under another fingerprint key, or the row is damaged"
)]
pub struct UnsealError;

/// Seals and opens state entries under keys derived from one [`FingerprintKey`].
pub struct StateSeal {
    cipher: XSalsa20Poly1305,
    lookup_key: Zeroizing<[u8; 32]>,
}

impl StateSeal {
    /// The seal of the state kept beside `key`.
    pub fn new(key: &FingerprintKey) -> Self {
        let cipher_key = key.derive("state sealing v1");
        Self {
            cipher: XSalsa20Poly1305::new(cipher_key.as_ref().into()),
            lookup_key: key.derive("state lookup v1"),
        }
    }

    /// The row key an entry named `name` is stored under: a keyed hash, so names are not
    /// readable from the table and equal names find the same row.
    pub fn lookup(&self, name: &str) -> String {
        let digest = hmac_sha256(self.lookup_key.as_ref(), &[name.as_bytes()]);
        format!("{LOOKUP_PREFIX}{}", hex(&digest))
    }

    /// Whether a row key is one [`StateSeal::lookup`] made (rather than a name from before
    /// entries were sealed).
    pub fn is_lookup(row_key: &str) -> bool {
        row_key.starts_with(LOOKUP_PREFIX)
    }

    /// `plain` sealed as text for the value column.
    pub fn seal(&self, plain: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        // Without randomness a nonce could repeat; fail closed by sealing under a fresh random
        // key nobody keeps, so the entry is unreadable rather than weakly sealed.
        if getrandom::fill(&mut nonce).is_err() {
            return format!("{SEALED_PREFIX}-");
        }
        let Ok(sealed) = self.cipher.encrypt(Nonce::from_slice(&nonce), plain) else {
            return format!("{SEALED_PREFIX}-");
        };
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(bytes))
    }

    /// Whether a stored value is sealed (rather than JSON from before entries were sealed).
    pub fn is_sealed(value: &str) -> bool {
        value.starts_with(SEALED_PREFIX)
    }

    /// Opens a value [`StateSeal::seal`] made.
    pub fn open(&self, sealed: &str) -> Result<Zeroizing<Vec<u8>>, UnsealError> {
        let encoded = sealed.strip_prefix(SEALED_PREFIX).ok_or(UnsealError)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| UnsealError)?;
        if bytes.len() < NONCE_BYTES {
            return Err(UnsealError);
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), body)
            .map(Zeroizing::new)
            .map_err(|_| UnsealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_and_shows_nothing_of_itself() {
        let seal = StateSeal::new(&FingerprintKey::ephemeral());
        let sealed = seal.seal(b"rotation in progress: 493817");
        assert!(StateSeal::is_sealed(&sealed));
        assert!(!sealed.contains("493817"));
        assert_ne!(
            sealed,
            seal.seal(b"rotation in progress: 493817"),
            "fresh nonce"
        );
        assert_eq!(
            seal.open(&sealed).unwrap().as_slice(),
            b"rotation in progress: 493817"
        );
    }

    #[test]
    fn lookups_are_stable_per_key_and_hide_the_name() {
        let key = FingerprintKey::ephemeral();
        let seal = StateSeal::new(&key);
        assert_eq!(seal.lookup("hello.runs"), seal.lookup("hello.runs"));
        assert_ne!(seal.lookup("hello.runs"), seal.lookup("hello.run"));
        assert!(!seal.lookup("hello.runs").contains("hello"));
        let other = StateSeal::new(&FingerprintKey::ephemeral());
        assert_ne!(seal.lookup("a"), other.lookup("a"));
        assert_eq!(other.open(&seal.seal(b"x")), Err(UnsealError));
    }
}
