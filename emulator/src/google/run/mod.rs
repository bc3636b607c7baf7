//! Cloud Run services: what the emulator keeps of each one ([`RunService`]) and the three ways
//! to reach it. Admin API v2 (`v2/projects/P/locations/L/services[/S]`, what orchestra and
//! google-cloud-run call), the Knative-shaped v1 view gcloud's `run services describe` reads
//! at the regional endpoint (`apis/serving.knative.dev/v1/namespaces/NS/services[/S]`), and the
//! service's own URL (`/run.app/P/L/S`), which answers while the service is ready. Tests change
//! a service under orchestra through `/_emulator/google/run/...` (see [`admin`]).

pub mod admin;
mod v1;
mod v2;

use serde::{Deserialize, Serialize};

use crate::http_util::{GoogleCode, Request, Response, google_error};
use crate::server::Shared;

/// A Cloud Run service as the emulator keeps it; both API views are drawn from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunService {
    /// Its unique id.
    pub uid: String,
    /// Bumped by every change of its template (each makes a new revision).
    pub generation: i64,
    /// The container image.
    pub image: String,
    /// CPUs per instance (`"1"`, `"2"`, `"1000m"`).
    pub cpu: String,
    /// Memory per instance (`"512Mi"`, `"1Gi"`).
    pub memory: String,
    /// Fewest instances kept warm (0 is left out of the JSON, as proto3 does).
    pub min_instances: i32,
    /// Most instances.
    pub max_instances: i32,
    /// Requests one instance serves at once.
    pub concurrency: i32,
    /// Request time-out, seconds.
    pub timeout_secs: i64,
    /// The identity its instances run as.
    pub service_account: String,
    /// Ready, failed or still reconciling.
    pub readiness: Readiness,
    /// The URL it serves at; none: the emulator's own `/run.app/P/L/S`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// RFC 3339.
    pub create_time: String,
    /// RFC 3339, the last change.
    pub update_time: String,
    /// The random part of revision names (`api-00003-x7k`), new with each revision.
    pub revision_suffix: String,
    /// Changes with every change.
    pub etag: String,
}

/// Whether a service serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Readiness {
    /// Its latest revision serves all traffic.
    Ready,
    /// Its latest revision failed to become ready.
    Failed {
        /// A v2 `Condition.CommonReason` name such as `REVISION_FAILED`.
        reason: String,
        /// Cloud Run's message.
        message: String,
    },
    /// A change is being rolled out.
    Reconciling,
}

/// The `Condition.CommonReason` names a failed service may carry (google-cloud-run refuses an
/// unknown enum name, so the emulator does too).
pub const COMMON_REASONS: &[&str] = &[
    "UNKNOWN",
    "REVISION_FAILED",
    "PROGRESS_DEADLINE_EXCEEDED",
    "CONTAINER_MISSING",
    "CONTAINER_PERMISSION_DENIED",
    "CONTAINER_IMAGE_UNAUTHORIZED",
    "CONTAINER_IMAGE_AUTHORIZATION_CHECK_FAILED",
    "ENCRYPTION_KEY_PERMISSION_DENIED",
    "ENCRYPTION_KEY_CHECK_FAILED",
    "SECRETS_ACCESS_CHECK_FAILED",
    "WAITING_FOR_OPERATION",
    "IMMEDIATE_RETRY",
    "POSTPONED_RETRY",
    "INTERNAL",
];

impl RunService {
    /// A ready service running `image` with Cloud Run's defaults (1 CPU, 512Mi, 0 to 100
    /// instances, 80 requests each, 300 s).
    pub fn new(image: &str, service_account: &str) -> Self {
        let now = crate::http_util::rfc3339_now();
        Self {
            uid: uuid_like(),
            generation: 1,
            image: image.to_owned(),
            cpu: "1".into(),
            memory: "512Mi".into(),
            min_instances: 0,
            max_instances: 100,
            concurrency: 80,
            timeout_secs: 300,
            service_account: service_account.to_owned(),
            readiness: Readiness::Ready,
            url: None,
            create_time: now.clone(),
            update_time: now,
            revision_suffix: revision_suffix(),
            etag: etag(),
        }
    }

    /// Records a change: a new update time and etag, and with `new_revision` (a template
    /// change) the next generation and a new revision.
    pub fn touch(&mut self, new_revision: bool) {
        if new_revision {
            self.generation += 1;
            self.revision_suffix = revision_suffix();
        }
        self.update_time = crate::http_util::rfc3339_now();
        self.etag = etag();
    }

    /// The name of its latest revision, `NAME-0000G-SUFFIX`.
    pub fn revision(&self, name: &str) -> String {
        format!("{name}-{:05}-{}", self.generation, self.revision_suffix)
    }

    /// The URL it serves at, given the emulator's base URL.
    pub fn uri(&self, base: &str, key: &ServiceKey) -> String {
        self.url.clone().unwrap_or_else(|| {
            format!("{base}/run.app/{}/{}/{}", key.project, key.region, key.name)
        })
    }
}

/// Three random characters, as Cloud Run ends revision names.
fn revision_suffix() -> String {
    crate::keys::random_hex(2).chars().take(3).collect()
}

/// A fresh etag, quoted as Cloud Run sends it.
fn etag() -> String {
    format!("\"{}\"", crate::keys::random_hex(12))
}

/// Where a service is: project id, region, name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceKey {
    /// The project id.
    pub project: String,
    /// The region, e.g. `europe-west1`.
    pub region: String,
    /// The service name.
    pub name: String,
}

impl ServiceKey {
    /// The key services are stored under: `PROJECT/REGION/NAME`.
    pub fn stored(&self) -> String {
        format!("{}/{}/{}", self.project, self.region, self.name)
    }

    /// From a stored key.
    pub fn parse(stored: &str) -> Option<Self> {
        let mut parts = stored.splitn(3, '/');
        Some(Self {
            project: parts.next()?.to_owned(),
            region: parts.next()?.to_owned(),
            name: parts.next()?.to_owned(),
        })
    }
}

/// A 36-character id in UUID form, from random bytes.
fn uuid_like() -> String {
    let hex = crate::keys::random_hex(16);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Whether `name` is a valid Cloud Run service name: lowercase letters, digits and hyphens,
/// starting with a letter, not ending with a hyphen, at most 49 characters.
pub fn valid_name(name: &str) -> bool {
    name.len() <= 49
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `region` looks like a Cloud Run region (`europe-west1`).
pub fn valid_region(region: &str) -> bool {
    !region.is_empty()
        && region.contains('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Handles `v2/...` (the Admin API) and `apis/serving.knative.dev/v1/...` (gcloud's view).
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Response {
    match segments.first() {
        Some(&"v2") => v2::handle(shared, request, &segments[1..]),
        Some(&"apis") => v1::handle(shared, request, &segments[1..]),
        _ => google_error(
            GoogleCode::NotFound,
            &format!("no such method: {}", request.path),
        ),
    }
}

/// The refusal Cloud Run gives for a project that is unknown (or not the caller's).
fn denied(permission: &str, resource: &str) -> Response {
    google_error(
        GoogleCode::PermissionDenied,
        &format!(
            "Permission '{permission}' denied on resource '{resource}' (or resource may not exist)."
        ),
    )
}

/// Cloud Run's answer for a service that is not there.
fn missing(key: &ServiceKey) -> Response {
    google_error(
        GoogleCode::NotFound,
        &format!(
            "Resource '{}' of kind 'SERVICE' in region '{}' in project '{}' does not exist.",
            key.name, key.region, key.project
        ),
    )
}
