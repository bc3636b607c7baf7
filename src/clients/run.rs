//! Cloud Run Admin API v2 services over REST: one service (`get`, `None` when there is none)
//! and a region's services (`list`, every page), read into [`CloudRunService`]: readiness from
//! the terminal condition, the URL, the serving container's CPU and memory limits, instance
//! bounds and request concurrency. Every call through [`GoogleRest`] (the shared retry
//! policy), paced under Cloud Run's read quota of the project and region it names. Knows
//! nothing of Rhai.
//!
//! Google's generated `google-cloud-run-v2` crate was looked at and not taken: it is the whole
//! Cloud Run API (about 57,000 lines of generated code, with the long-running-operation crates
//! it pulls in) for these two GETs, as `monitoring` found for Cloud Monitoring.

mod wire;

use std::time::Duration;

use super::google_calls::GoogleCalls;
use super::google_error::GoogleError;
use super::google_pacing::Call;
use super::google_rest::{GoogleRest, get};
use super::http::encode_component as enc;
pub use wire::{CloudRunService, Condition};

/// Google's Cloud Run Admin endpoint.
pub const GOOGLE_RUN_URL: &str = "https://run.googleapis.com";
const SERVICE: &str = "Cloud Run";

/// The Cloud Run client of a run.
pub struct CloudRun {
    base: String,
    rest: GoogleRest,
}

impl CloudRun {
    /// A client for the Admin API at `base` with `credentials`, its calls made through `calls`.
    pub fn new(
        base: &str,
        credentials: google_cloud_auth::credentials::Credentials,
        calls: GoogleCalls,
    ) -> Result<Self, String> {
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            rest: GoogleRest::new(credentials, calls, Duration::from_secs(60))?,
        })
    }

    fn services_url(&self, project: &str, region: &str) -> String {
        format!("{}/v2/{}/services", self.base, location(project, region))
    }

    /// Service `name` of `project` in `region`; `None` when there is none.
    pub async fn service(
        &self,
        project: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<CloudRunService>, GoogleError> {
        let url = format!("{}/{}", self.services_url(project, region), enc(name));
        let what = format!("get Cloud Run service {name} in {region} of {project}");
        let location = location(project, region);
        match self
            .rest
            .call::<wire::Service>(SERVICE, &what, true, Call::RunRead(&location), get(&url))
            .await
        {
            Ok(found) => Ok(Some(found.into_service())),
            Err(e) if e.code == "NOT_FOUND" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every service of `project` in `region` (`-`: every region), in the order Cloud Run
    /// lists them.
    pub async fn services(
        &self,
        project: &str,
        region: &str,
    ) -> Result<Vec<CloudRunService>, GoogleError> {
        let base = self.services_url(project, region);
        let what = format!("list Cloud Run services in {region} of {project}");
        let location = location(project, region);
        let mut all = Vec::new();
        let mut token = String::new();
        loop {
            let url = if token.is_empty() {
                base.clone()
            } else {
                format!("{base}?pageToken={}", enc(&token))
            };
            let page: wire::ServicePage = self
                .rest
                .call(SERVICE, &what, true, Call::RunRead(&location), get(&url))
                .await?;
            all.extend(page.services.into_iter().map(wire::Service::into_service));
            if page.next_page_token.is_empty() {
                return Ok(all);
            }
            token = page.next_page_token;
        }
    }
}

/// `projects/P/locations/R`, each part percent-encoded: the path prefix of a region's
/// services, and what Cloud Run's read quota is counted per.
fn location(project: &str, region: &str) -> String {
    format!("projects/{}/locations/{}", enc(project), enc(region))
}

#[cfg(test)]
mod tests;
