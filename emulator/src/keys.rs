//! Real key material: RSA key pairs for service-account keys and GitHub Apps, RS256 JWT
//! checks, X25519 sealed-box key pairs for Actions secrets, and random tokens.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use crypto_box::aead::OsRng;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;

/// An RSA key pair as PEM text.
pub struct RsaKeyPair {
    /// PKCS#8 private key.
    pub private_pem: String,
    /// SPKI public key.
    pub public_pem: String,
}

/// A new RSA 2048 key pair.
pub fn generate_rsa() -> Result<RsaKeyPair, String> {
    let private = RsaPrivateKey::new(&mut OsRng, 2048).map_err(|e| e.to_string())?;
    let private_pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| e.to_string())?
        .to_string();
    let public_pem = RsaPublicKey::from(&private)
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| e.to_string())?;
    Ok(RsaKeyPair {
        private_pem,
        public_pem,
    })
}

/// Why a JWT was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts with JSON header and claims.
    #[error("malformed JWT: {0}")]
    Malformed(String),
    /// The signature does not verify against the key.
    #[error("invalid JWT signature")]
    BadSignature,
}

/// The header and claims of `token`, without checking the signature.
pub fn jwt_parts(token: &str) -> Result<(Value, Value), JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed(
            "expected three dot-separated parts".into(),
        ));
    };
    let decode = |part: &str, what: &str| -> Result<Value, JwtError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|e| JwtError::Malformed(format!("{what} is not base64url: {e}")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| JwtError::Malformed(format!("{what} is not JSON: {e}")))
    };
    Ok((decode(header, "header")?, decode(claims, "claims")?))
}

/// Verifies `token`'s RS256 signature against `public_pem`; returns its claims.
pub fn verify_rs256(token: &str, public_pem: &str) -> Result<Value, JwtError> {
    let (header, claims) = jwt_parts(token)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(JwtError::Malformed("alg must be RS256".into()));
    }
    let (signed, signature) = token
        .rsplit_once('.')
        .ok_or_else(|| JwtError::Malformed("no signature".into()))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature.trim_end_matches('='))
        .map_err(|_| JwtError::BadSignature)?;
    let signature =
        Signature::try_from(signature.as_slice()).map_err(|_| JwtError::BadSignature)?;
    let key = RsaPublicKey::from_public_key_pem(public_pem)
        .map_err(|e| JwtError::Malformed(format!("stored key unreadable: {e}")))?;
    VerifyingKey::<Sha256>::new(key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| JwtError::BadSignature)?;
    Ok(claims)
}

/// The SPKI PEM of the public half of a PKCS#8 (or PKCS#1) private key.
pub fn public_pem_of(private_pem: &str) -> Result<String, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    let private = RsaPrivateKey::from_pkcs8_pem(private_pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(private_pem))
        .map_err(|e| format!("not an RSA private key: {e}"))?;
    RsaPublicKey::from(&private)
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| e.to_string())
}

/// Signs `claims` as an RS256 JWT with `private_pem` (tests and demo tooling).
pub fn sign_rs256(claims: &Value, private_pem: &str, kid: Option<&str>) -> Result<String, String> {
    let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = Value::String(kid.to_owned());
    }
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = RsaPrivateKey::from_pkcs8_pem(private_pem).map_err(|e| e.to_string())?;
    let signature = SigningKey::<Sha256>::new(key).sign(signed.as_bytes());
    Ok(format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

/// A new X25519 key pair for sealed boxes: (secret, public), both standard base64.
pub fn box_keypair() -> (String, String) {
    let secret = crypto_box::SecretKey::generate(&mut OsRng);
    (
        STANDARD.encode(secret.to_bytes()),
        STANDARD.encode(secret.public_key().as_bytes()),
    )
}

/// Opens a base64 sealed box with the base64 secret key.
pub fn unseal(secret_b64: &str, sealed_b64: &str) -> Result<Vec<u8>, String> {
    let secret: [u8; crypto_box::KEY_SIZE] = STANDARD
        .decode(secret_b64)
        .map_err(|e| e.to_string())?
        .as_slice()
        .try_into()
        .map_err(|_| "stored key has the wrong size".to_owned())?;
    let sealed = STANDARD
        .decode(sealed_b64)
        .map_err(|_| "encrypted_value is not valid base64".to_owned())?;
    crypto_box::SecretKey::from_bytes(secret)
        .unseal(&sealed)
        .map_err(|_| "the sealed box does not open with this repository's key".to_owned())
}

/// `count` random bytes as lowercase hex.
pub fn random_hex(count: usize) -> String {
    let mut bytes = vec![0u8; count];
    // The OS RNG failing leaves zeros: a predictable token in a test emulator, not a breach.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random token with GitHub-like prefix; the length varies, as GitHub's new formats do.
pub fn random_token(prefix: &str) -> String {
    let mut extra = [0u8; 1];
    let _ = getrandom::fill(&mut extra);
    let body = random_hex(20 + usize::from(extra[0] % 12));
    format!("{prefix}{body}")
}

/// A self-signed X.509 certificate (PEM) for the RSA key `private_pem` (PKCS#8), subject and
/// issuer `CN=common_name`, valid from today to 9999-12-31 as Google's key certificates are.
/// rcgen (with ring, already in the build for TLS) does the DER and the signature.
pub fn self_signed_x509(private_pem: &str, common_name: &str) -> Result<String, String> {
    use chrono::Datelike as _;
    let key = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(private_pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| format!("cannot load the key for its certificate: {e}"))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| format!("cannot make certificate parameters: {e}"))?;
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, common_name);
    params.distinguished_name = name;
    let today = crate::clock::now();
    params.not_before = rcgen::date_time_ymd(today.year(), today.month() as u8, today.day() as u8);
    params.not_after = rcgen::date_time_ymd(9999, 12, 31);
    params
        .self_signed(&key)
        .map(|cert| cert.pem())
        .map_err(|e| format!("cannot sign the certificate: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_jwt_verifies_and_a_tampered_one_does_not() {
        let pair = generate_rsa().unwrap();
        let token = sign_rs256(
            &serde_json::json!({"iss": "1"}),
            &pair.private_pem,
            Some("k"),
        )
        .unwrap();
        assert_eq!(verify_rs256(&token, &pair.public_pem).unwrap()["iss"], "1");
        let other = generate_rsa().unwrap();
        assert_eq!(
            verify_rs256(&token, &other.public_pem),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn a_sealed_box_opens_with_its_pair_only() {
        let (secret, public) = box_keypair();
        let public_key: [u8; 32] = STANDARD.decode(public).unwrap().try_into().unwrap();
        let sealed = crypto_box::PublicKey::from_bytes(public_key)
            .seal(&mut OsRng, b"value")
            .unwrap();
        assert_eq!(
            unseal(&secret, &STANDARD.encode(&sealed)).unwrap(),
            b"value"
        );
        let (other, _) = box_keypair();
        assert!(unseal(&other, &STANDARD.encode(&sealed)).is_err());
    }
}
