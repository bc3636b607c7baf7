//! Where the database is and how orchestra authenticates to it: Google's endpoint with the
//! run's credentials, an endpoint override (`[gcp].firestore_url`), or a Firestore emulator
//! (`FIRESTORE_EMULATOR_HOST`, or the one `--emulate` starts), which is sent the stub token
//! Google's own tools send it.

use firestore::{FirestoreDb, FirestoreDbOptions};
use google_cloud_auth::credentials::{
    CacheableResource, Credentials, CredentialsProvider, EntityTag,
};
use google_cloud_auth::errors::CredentialsError;

use super::SERVICE;
use crate::clients::google_error::GoogleError;

/// Google's Firestore endpoint.
const GOOGLE_FIRESTORE_URL: &str = "https://firestore.googleapis.com";

/// Where requests go.
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// A Firestore emulator at `host:port`: no credentials are looked up.
    Emulator(String),
    /// A real endpoint (`None`: Google's) with these credentials.
    Remote {
        /// The URL, when not Google's.
        url: Option<String>,
        /// The credentials every request carries.
        credentials: Credentials,
    },
}

/// Which database, and where.
#[derive(Clone, Debug)]
pub struct FirestoreSettings {
    /// The Google Cloud project.
    pub project: String,
    /// The database id, `(default)` unless named.
    pub database: String,
    /// Where requests go.
    pub endpoint: Endpoint,
}

impl FirestoreSettings {
    /// `projects/P/databases/D`.
    pub fn database_name(&self) -> String {
        format!("projects/{}/databases/{}", self.project, self.database)
    }
}

/// The stub bearer token the Firestore emulator expects from Google's tools (it grants
/// admin access there and is meaningless anywhere else).
#[derive(Debug)]
struct EmulatorToken {
    tag: EntityTag,
}

impl CredentialsProvider for EmulatorToken {
    async fn headers(
        &self,
        extensions: http::Extensions,
    ) -> Result<CacheableResource<http::HeaderMap>, CredentialsError> {
        if extensions.get::<EntityTag>() == Some(&self.tag) {
            return Ok(CacheableResource::NotModified);
        }
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer owner"),
        );
        Ok(CacheableResource::New {
            entity_tag: self.tag.clone(),
            data: headers,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        None
    }
}

/// Opens the one connection of the process to the database `settings` names. Rustls needs
/// one process-wide crypto provider when more than one is compiled in (the tree has both
/// ring and aws-lc-rs through other clients); aws-lc-rs is the one google-cloud-auth signs
/// with, so it is installed here unless one already is.
pub(super) async fn connect(settings: &FirestoreSettings) -> Result<FirestoreDb, GoogleError> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let options = FirestoreDbOptions::new(settings.project.clone())
        .with_database_id(settings.database.clone());
    let (url, credentials) = match &settings.endpoint {
        Endpoint::Emulator(host) => (
            format!("http://{host}"),
            Credentials::from(EmulatorToken {
                tag: EntityTag::new(),
            }),
        ),
        Endpoint::Remote { url, credentials } => (
            url.clone()
                .unwrap_or_else(|| GOOGLE_FIRESTORE_URL.to_owned()),
            credentials.clone(),
        ),
    };
    FirestoreDb::with_options_auth(options.with_firebase_api_url(url.clone()), credentials)
        .await
        .map_err(|e| {
            GoogleError::internal(
                SERVICE,
                format!("cannot connect to Firestore at {url}: {e}"),
            )
        })
}
