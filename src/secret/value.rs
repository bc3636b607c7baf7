//! The `Secret` type: a value scripts can pass around but never read.
//!
//! A `Secret` has no `Display`, no value-showing `Debug` and no `Serialize`; in Rhai it prints
//! as `Secret(fp:1a2b3c4d)` everywhere (print, debug, interpolation, `+`, `to_json`, thrown
//! errors). The only way to its bytes is [`Secret::expose_for_request`], for the clients that
//! send it somewhere. Its value lives in zeroised memory and is registered with the redaction
//! layer the moment it exists.

use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::fingerprint::FingerprintKey;
use super::mask;

/// How many hex digits of the keyed fingerprint the redacted form shows.
const SHORT_FINGERPRINT: usize = 8;

/// An opaque secret value.
#[derive(Clone)]
pub struct Secret {
    inner: Arc<SecretInner>,
}

struct SecretInner {
    value: Zeroizing<Vec<u8>>,
    fingerprint: String,
}

impl Secret {
    /// Wraps `value`, fingerprints it under `key` and registers it with the redaction layer.
    pub fn new(value: Vec<u8>, key: &FingerprintKey) -> Self {
        let value = Zeroizing::new(value);
        let fingerprint = key.fingerprint(&value);
        let secret = Self {
            inner: Arc::new(SecretInner { value, fingerprint }),
        };
        mask::register(&secret.inner.value, &secret.redacted());
        secret
    }

    /// The full keyed fingerprint, 64 hex digits: safe to store and compare.
    pub fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    /// The short fingerprint shown to people: `fp:` and the first 8 hex digits.
    pub fn short_fingerprint(&self) -> String {
        format!("fp:{}", &self.inner.fingerprint[..SHORT_FINGERPRINT])
    }

    /// What a secret looks like wherever it is shown: `Secret(fp:1a2b3c4d)`.
    pub fn redacted(&self) -> String {
        format!("Secret({})", self.short_fingerprint())
    }

    /// The value's bytes, for a client that sends them to a secret store, a GitHub secret or an
    /// HTTP header. Nothing else may call this.
    pub fn expose_for_request(&self) -> &[u8] {
        &self.inner.value
    }

    /// Whether the value is empty (an empty secret is never written over a real one).
    pub fn is_empty(&self) -> bool {
        self.inner.value.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_only_the_fingerprint() {
        let key = FingerprintKey::ephemeral();
        let s = Secret::new(b"hunter2-hunter2".to_vec(), &key);
        let shown = format!("{s:?}");
        assert!(shown.starts_with("Secret(fp:"));
        assert!(!shown.contains("hunter2"));
        assert_eq!(s.expose_for_request(), b"hunter2-hunter2");
    }
}
