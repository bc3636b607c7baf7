//! IAM service-account keys through Google's official `google-cloud-iam-admin-v1` client, and
//! the one check that matters before a new key is promoted: does it work? That is a real
//! token exchange (a JWT signed with the key, posted to the key file's token URI), with three
//! outcomes: works, refused (the service said no), unknown (no answer to trust).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use google_cloud_iam_admin_v1::client::Iam;
use google_cloud_iam_admin_v1::model::{
    ServiceAccountPrivateKeyType, list_service_account_keys_request::KeyType,
};

use super::google_calls::GoogleCalls;
use super::google_error::GoogleError;
use super::google_pacing::{Call, GooglePacer};
use super::retry::{self, Retry, RetryError, RetryPolicy};
use crate::secret::ServiceAccountKey;

/// An IAM call that failed.
pub type IamError = GoogleError;

const SERVICE: &str = "IAM";

/// A key as listed.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// The 40-hex key id.
    pub id: String,
    /// Whether it is disabled.
    pub disabled: bool,
    /// RFC 3339 of `validAfterTime`.
    pub created: String,
}

/// The IAM client of a run.
pub struct IamKeys {
    client: Iam,
    calls: GoogleCalls,
}

fn account_name(email: &str) -> String {
    format!("projects/-/serviceAccounts/{email}")
}

fn key_name(email: &str, id: &str) -> String {
    format!("projects/-/serviceAccounts/{email}/keys/{id}")
}

impl IamKeys {
    /// A client for `endpoint` (None: Google's) with `credentials`.
    pub async fn new(
        endpoint: Option<String>,
        credentials: google_cloud_auth::credentials::Credentials,
        policy: RetryPolicy,
        cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
        pacer: Arc<GooglePacer>,
    ) -> Result<Self, String> {
        let mut builder = super::google_redirects::never_followed(
            Iam::builder()
                .with_credentials(credentials)
                .with_retry_policy(google_cloud_gax::retry_policy::NeverRetry),
        );
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let client = builder
            .build()
            .await
            .map_err(|e| format!("cannot build the IAM client: {e}"))?;
        Ok(Self {
            client,
            calls: GoogleCalls::new(SERVICE, policy, cancelled, pacer),
        })
    }

    /// The user-managed keys of `email`.
    pub async fn list(&self, email: &str) -> Result<Vec<KeyInfo>, IamError> {
        self.calls
            .retried(
                &format!("list keys of {email}"),
                true,
                Call::IamRead(email),
                || async {
                    let listed = self
                        .client
                        .list_service_account_keys()
                        .set_name(account_name(email))
                        .set_key_types([KeyType::UserManaged])
                        .send()
                        .await
                        .map_err(|e| GoogleError::from_gax(SERVICE, &e))?;
                    Ok(listed
                        .keys
                        .iter()
                        .map(|k| KeyInfo {
                            id: k.name.rsplit('/').next().unwrap_or_default().to_owned(),
                            disabled: k.disabled,
                            created: k
                                .valid_after_time
                                .and_then(|t| chrono::DateTime::from_timestamp(t.seconds(), 0))
                                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                                .unwrap_or_default(),
                        })
                        .collect())
                },
            )
            .await
    }

    /// Creates a key; returns its id and the JSON key file. Retried only when IAM turned the
    /// request away (quota): a lost answer would leave a key nobody holds, so the caller
    /// journals and checks instead.
    pub async fn create(&self, email: &str) -> Result<(String, Vec<u8>), IamError> {
        let key = self
            .calls
            .retried(
                &format!("create a key for {email}"),
                false,
                Call::IamWrite(email),
                || async {
                    self.client
                        .create_service_account_key()
                        .set_name(account_name(email))
                        .set_private_key_type(
                            ServiceAccountPrivateKeyType::TypeGoogleCredentialsFile,
                        )
                        .send()
                        .await
                        .map_err(|e| GoogleError::from_gax(SERVICE, &e))
                },
            )
            .await?;
        let id = key.name.rsplit('/').next().unwrap_or_default().to_owned();
        Ok((id, key.private_key_data.to_vec()))
    }

    /// Disables, enables or deletes key `id` of `email`.
    pub async fn change(&self, email: &str, id: &str, action: &str) -> Result<(), IamError> {
        let name = key_name(email, id);
        self.calls
            .retried(
                &format!("{action} key {id} of {email}"),
                true,
                Call::IamWrite(email),
                || async {
                    let result = match action {
                        "disable" => self
                            .client
                            .disable_service_account_key()
                            .set_name(&name)
                            .send()
                            .await
                            .map(|_| ()),
                        "enable" => self
                            .client
                            .enable_service_account_key()
                            .set_name(&name)
                            .send()
                            .await
                            .map(|_| ()),
                        _ => self
                            .client
                            .delete_service_account_key()
                            .set_name(&name)
                            .send()
                            .await
                            .map(|_| ()),
                    };
                    result.map_err(|e| GoogleError::from_gax(SERVICE, &e))
                },
            )
            .await
    }
}

/// What a token exchange with a key says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The token endpoint issued a token.
    Works,
    /// The token endpoint refused the key (400/401/403).
    Refused(String),
    /// No answer worth trusting (5xx, connection failure) after the retries.
    Unknown(String),
}

/// Why one attempt of a credential check failed.
#[derive(Debug)]
pub enum CheckFailure {
    /// The service said no (400/401/403): final.
    Refused(String),
    /// No answer to trust (5xx, no connection): worth another attempt.
    Transient(String),
}

impl std::fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(m) | Self::Transient(m) => f.write_str(m),
        }
    }
}

impl CheckFailure {
    /// Refusals are final; the rest is retried with backoff.
    pub fn retry(&self) -> Retry {
        match self {
            Self::Refused(_) => Retry::No,
            Self::Transient(_) => Retry::Backoff,
        }
    }
}

/// What a retried check's outcome says: its value, or refused (the last attempt was refused)
/// or unknown (anything else).
pub fn verdict<T>(result: Result<T, RetryError<CheckFailure>>) -> Result<T, Verification> {
    match result {
        Ok(value) => Ok(value),
        Err(RetryError::Failed {
            error: CheckFailure::Refused(m),
            ..
        }) => Err(Verification::Refused(m)),
        Err(e) => Err(Verification::Unknown(e.to_string())),
    }
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// The token URI Google's key files name.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// Exchanges a JWT signed with `file`'s key for an access token at its `token_uri`, which must
/// be one of `allowed_token_uris`.
pub async fn verify_key(
    file: &ServiceAccountKey,
    allowed_token_uris: &[String],
    policy: &RetryPolicy,
    cancelled: Arc<dyn Fn() -> bool + Send + Sync>,
) -> Verification {
    if !allowed_token_uris.contains(&file.token_uri) {
        return Verification::Refused(format!(
            "the key file's token_uri {} is not one orchestra may call",
            file.token_uri
        ));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(file.private_key_id.clone());
    let claims = Claims {
        iss: &file.client_email,
        scope: "https://www.googleapis.com/auth/cloud-platform",
        // The JWT bearer grant's audience is the token endpoint the assertion goes to.
        aud: &file.token_uri,
        iat: now,
        exp: now + 3600,
    };
    // jsonwebtoken's errors describe the PEM it could not read: a fixed sentence instead.
    let assertion = match jsonwebtoken::EncodingKey::from_rsa_pem(file.private_key_for_signing())
        .and_then(|key| jsonwebtoken::encode(&header, &claims, &key))
    {
        Ok(assertion) => assertion,
        Err(_) => {
            return Verification::Refused(
                "the key file's private_key is not a usable RSA key in PEM form".to_owned(),
            );
        }
    };
    let http = match super::http::client(std::time::Duration::from_secs(30)) {
        Ok(http) => http,
        Err(e) => return Verification::Unknown(e),
    };
    let result = retry::with_retries(
        policy,
        "token exchange",
        || async {
            let response = http
                .post(&file.token_uri)
                .form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.as_str()),
                ])
                .send()
                .await
                .map_err(|e| {
                    CheckFailure::Transient(format!("no answer from the token endpoint: {e}"))
                })?;
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            match status {
                200 if body.get("access_token").is_some() => Ok(()),
                400 | 401 | 403 => Err(CheckFailure::Refused(format!(
                    "{status} {}: {}",
                    body["error"].as_str().unwrap_or("refused"),
                    body["error_description"].as_str().unwrap_or("")
                ))),
                _ => Err(CheckFailure::Transient(format!(
                    "the token endpoint answered {status}"
                ))),
            }
        },
        CheckFailure::retry,
        move || cancelled(),
    )
    .await;
    match result {
        Ok(()) => Verification::Works,
        Err(RetryError::Failed {
            error: CheckFailure::Refused(m),
            ..
        }) => Verification::Refused(m),
        Err(e) => Verification::Unknown(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use base64::Engine as _;

    use super::*;

    const FAST: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        max_wait: Duration::from_secs(1),
    };

    async fn key_file(emulator: &orchestra_emulator::RunningEmulator) -> ServiceAccountKey {
        let created: serde_json::Value = reqwest::Client::new()
            .post(format!(
                "{}/v1/projects/-/serviceAccounts/deployer@demo-project.iam.gserviceaccount.com/keys",
                emulator.base_url()
            ))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(created["privateKeyData"].as_str().unwrap())
            .unwrap();
        ServiceAccountKey::parse_bytes(&bytes).unwrap()
    }

    #[tokio::test]
    async fn no_answer_from_the_token_endpoint_is_unknown_not_refused() {
        let fault = orchestra_emulator::FaultRule::parse(
            r#"{"path":"/token","kind":"status","status":503}"#,
        )
        .unwrap();
        let emulator = orchestra_emulator::start(orchestra_emulator::EmulatorConfig {
            faults: vec![fault],
            ..Default::default()
        })
        .await
        .unwrap();
        let file = key_file(&emulator).await;
        let outcome = verify_key(&file, &[emulator.token_uri()], &FAST, Arc::new(|| false)).await;
        assert!(
            matches!(outcome, Verification::Unknown(ref m) if m.contains("503")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_token_uri_orchestra_may_not_call_is_refused_without_a_request() {
        let emulator = orchestra_emulator::start(Default::default()).await.unwrap();
        let file = key_file(&emulator).await;
        let outcome = verify_key(
            &file,
            &[GOOGLE_TOKEN_URI.to_owned()],
            &FAST,
            Arc::new(|| false),
        )
        .await;
        assert!(
            matches!(outcome, Verification::Refused(ref m) if m.contains("is not one orchestra may call"))
        );
        assert_eq!(
            verify_key(&file, &[emulator.token_uri()], &FAST, Arc::new(|| false)).await,
            Verification::Works
        );
    }
}
