//! Sealing a secret to a repository's public key, as GitHub requires: a libsodium sealed box
//! (X25519 + XSalsa20-Poly1305), via the `crypto_box` crate.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_box::aead::OsRng;

use super::GithubError;

/// Seals `plaintext` to the base64 X25519 `public_key`; returns the base64 ciphertext.
pub fn seal_for_github(public_key: &str, plaintext: &[u8]) -> Result<String, GithubError> {
    let bytes = STANDARD
        .decode(public_key.trim())
        .map_err(|e| GithubError::Malformed(format!("public key is not base64: {e}")))?;
    let bytes: [u8; crypto_box::KEY_SIZE] = bytes.as_slice().try_into().map_err(|_| {
        GithubError::Malformed(format!(
            "public key has {} bytes, expected {}",
            bytes.len(),
            crypto_box::KEY_SIZE
        ))
    })?;
    let sealed = crypto_box::PublicKey::from_bytes(bytes)
        .seal(&mut OsRng, plaintext)
        .map_err(|_| GithubError::Malformed("cannot seal the secret".into()))?;
    Ok(STANDARD.encode(sealed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_the_secret_key() {
        let secret_key = crypto_box::SecretKey::generate(&mut OsRng);
        let public = STANDARD.encode(secret_key.public_key().as_bytes());
        let sealed = seal_for_github(&public, b"s3cr3t value").unwrap();
        let raw = STANDARD.decode(sealed).unwrap();
        assert_eq!(raw.len(), b"s3cr3t value".len() + 48);
        assert_eq!(secret_key.unseal(&raw).unwrap(), b"s3cr3t value");
    }

    #[test]
    fn a_bad_public_key_is_refused_with_the_reason() {
        let err = seal_for_github("AAAA", b"x").unwrap_err().to_string();
        assert!(err.contains("public key has 3 bytes, expected 32"), "{err}");
    }
}
