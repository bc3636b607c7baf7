//! The shapes a secret may be read as — a service-account key file, UTF-8 text, a PEM key, a
//! small JSON document — each parsed here with an error that names the expected shape and
//! nothing else.
//!
//! A parser's own error quotes its input (serde names the number or string it choked on,
//! the column it stopped at, the first digits of a long number), and a secret's input is the
//! secret. So no parser error ever leaves this module: every failure becomes a [`ShapeError`],
//! a fixed sentence chosen by the caller's expectation, with no byte, length or position of
//! the value in it.

use serde::Deserialize;
use zeroize::Zeroizing;

use super::Secret;

/// A secret that is not the shape it was expected to be. Its text names only the expectation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the secret is not {expected}")]
pub struct ShapeError {
    /// What the secret should have been, e.g. "a service-account key file (JSON with …)".
    pub expected: &'static str,
}

/// What a service-account key file must hold, as its error says it.
pub const KEY_FILE_SHAPE: &str = "a service-account key file (a JSON object with string fields \
    type \"service_account\", client_email, private_key_id (hex digits), private_key (PEM) and \
    token_uri (an http or https URL))";

/// The fields of a service-account key file orchestra uses. The id, the account and the
/// token URI are not secret (IAM lists the first two; the third is Google's public endpoint,
/// or an emulator's); the private key stays in zeroised memory and is never shown.
pub struct ServiceAccountKey {
    /// `client_email`: the account the key belongs to.
    pub client_email: String,
    /// `private_key_id`: the key id IAM lists, hex digits.
    pub private_key_id: String,
    /// `token_uri`: where the key is exchanged for a token.
    pub token_uri: String,
    private_key: Zeroizing<String>,
}

impl ServiceAccountKey {
    /// Reads `secret` as a key file; any departure from [`KEY_FILE_SHAPE`] is one fixed error.
    pub fn parse(secret: &Secret) -> Result<Self, ShapeError> {
        Self::parse_bytes(secret.expose_for_request())
    }

    /// [`ServiceAccountKey::parse`] over raw bytes, for a key file that is not yet a `Secret`.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, ShapeError> {
        #[derive(Deserialize)]
        struct File {
            #[serde(rename = "type")]
            kind: String,
            client_email: String,
            private_key_id: String,
            private_key: String,
            token_uri: String,
        }
        let shape = ShapeError {
            expected: KEY_FILE_SHAPE,
        };
        let file: File = serde_json::from_slice(bytes).map_err(|_| shape.clone())?;
        let plausible = file.kind == "service_account"
            && is_key_id(&file.private_key_id)
            && is_account(&file.client_email)
            && is_http_url(&file.token_uri)
            && file.private_key.contains("PRIVATE KEY-----");
        if !plausible {
            return Err(shape);
        }
        Ok(Self {
            client_email: file.client_email,
            private_key_id: file.private_key_id,
            token_uri: file.token_uri,
            private_key: Zeroizing::new(file.private_key),
        })
    }

    /// The PEM private key, for signing a token request. Nothing else may call this.
    pub fn private_key_for_signing(&self) -> &[u8] {
        self.private_key.as_bytes()
    }
}

fn is_key_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_account(email: &str) -> bool {
    email.len() <= 254
        && email.split_once('@').is_some_and(|(name, domain)| {
            !name.is_empty()
                && domain.contains('.')
                && email
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"@.-_+".contains(&b))
        })
}

fn is_http_url(uri: &str) -> bool {
    uri.len() <= 2048
        && (uri.starts_with("https://") || uri.starts_with("http://"))
        && uri.bytes().all(|b| b.is_ascii_graphic())
}

/// `secret` as UTF-8 text (a token, a webhook URL), or the fixed error naming `expected`.
pub fn utf8_text(secret: &Secret, expected: &'static str) -> Result<Zeroizing<String>, ShapeError> {
    std::str::from_utf8(secret.expose_for_request())
        .map(|text| Zeroizing::new(text.to_owned()))
        .map_err(|_| ShapeError { expected })
}

/// `secret` as a token that can go into an HTTP header (visible ASCII, no spaces), or the
/// fixed error naming `expected`. HTTP clients refuse (octocrab panics on) anything else.
pub fn header_token(
    secret: &Secret,
    expected: &'static str,
) -> Result<Zeroizing<String>, ShapeError> {
    let bytes = secret.expose_for_request();
    if bytes.is_empty() || bytes.len() > 4096 || !bytes.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(ShapeError { expected });
    }
    utf8_text(secret, expected)
}

/// `bytes` (a secret's payload) as a JSON value, or the fixed error naming `expected`: never
/// serde's message, which quotes the input and the column it stopped at.
pub fn json(bytes: &[u8], expected: &'static str) -> Result<serde_json::Value, ShapeError> {
    serde_json::from_slice(bytes).map_err(|_| ShapeError { expected })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::FingerprintKey;

    fn secret(bytes: &[u8]) -> Secret {
        Secret::new(bytes.to_vec(), &FingerprintKey::ephemeral())
    }

    fn key_file(id: &str) -> String {
        serde_json::json!({
            "type": "service_account",
            "client_email": "deployer@demo.iam.gserviceaccount.com",
            "private_key_id": id,
            "private_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
            "token_uri": "https://oauth2.googleapis.com/token",
        })
        .to_string()
    }

    #[test]
    fn a_key_file_gives_its_public_fields() {
        let key = ServiceAccountKey::parse(&secret(key_file("3f2a91bc").as_bytes())).unwrap();
        assert_eq!(key.private_key_id, "3f2a91bc");
        assert_eq!(key.client_email, "deployer@demo.iam.gserviceaccount.com");
        assert!(key.private_key_for_signing().starts_with(b"-----BEGIN"));
    }

    #[test]
    fn no_failure_quotes_the_input() {
        let pin = "0472";
        let cases = [
            pin.to_owned(),
            format!("{pin}\n"),
            format!("\"{pin}\"\n"),
            format!("{pin}{pin}{pin}{pin}{pin}{pin}{pin}{pin}e999"),
            format!("{{\"private_key_id\": {pin}}}"),
            format!("{{\"private_key_id\": \"{pin}\"}}"),
            key_file(&format!("{pin}zz")),
            key_file(pin).replace("service_account", pin),
        ];
        for case in cases {
            let err = ServiceAccountKey::parse(&secret(case.as_bytes()))
                .err()
                .expect("not a key file");
            let text = err.to_string();
            assert!(!text.contains(pin), "{text}");
            assert_eq!(text, format!("the secret is not {KEY_FILE_SHAPE}"));
        }
    }

    #[test]
    fn json_and_text_errors_are_fixed_sentences() {
        let err = json(b"{\"monthly_usd\": 12345x", "the budget JSON").unwrap_err();
        assert_eq!(err.to_string(), "the secret is not the budget JSON");
        let err = utf8_text(&secret(&[0xff, 0x34, 0x37]), "a token").unwrap_err();
        assert_eq!(err.to_string(), "the secret is not a token");
    }
}
