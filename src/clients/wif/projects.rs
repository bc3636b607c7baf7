//! What a project says: its number (Resource Manager), IAM policies of the project and of its
//! service accounts (written back whole under the etag read), and Service Usage.

use serde_json::json;

use super::wire::{ActivityPage, Operation, Project, ServicePage};
use super::{
    IAM, POLICY_ANALYZER, RESOURCE_MANAGER, SERVICE_USAGE, WifClient, account_segment, enc, get,
    post,
};
use crate::clients::google_error::GoogleError;
use crate::clients::google_pacing::Call;
use crate::clients::wif::Policy;

impl WifClient {
    /// The number of `project` (Resource Manager v1 `projectNumber`).
    pub async fn project_number(&self, project: &str) -> Result<String, GoogleError> {
        let url = format!(
            "{}/v1/projects/{}",
            self.endpoints.resource_manager,
            enc(project)
        );
        let found: Project = self
            .call(
                RESOURCE_MANAGER,
                &format!("get project {project}"),
                true,
                Call::Unmetered,
                get(&url),
            )
            .await?;
        if found.project_number.is_empty()
            || !found.project_number.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(GoogleError::internal(
                RESOURCE_MANAGER,
                format!("project {project} came back without a project number"),
            ));
        }
        Ok(found.project_number)
    }

    fn account_url(&self, email: &str, method: &str) -> String {
        format!(
            "{}/v1/projects/-/serviceAccounts/{}:{method}",
            self.endpoints.iam,
            account_segment(email)
        )
    }

    /// The IAM policy of service account `email`.
    pub async fn account_policy(&self, email: &str) -> Result<Policy, GoogleError> {
        let url = self.account_url(email, "getIamPolicy");
        self.call(
            IAM,
            &format!("get the IAM policy of {email}"),
            true,
            Call::IamRead(email),
            post(&url, json!({})),
        )
        .await
    }

    /// Writes `policy` (with the etag it was read with) on service account `email`; an etag
    /// conflict comes back as `ABORTED` (see `GoogleError::is_etag_conflict`).
    pub async fn set_account_policy(
        &self,
        email: &str,
        policy: &Policy,
    ) -> Result<Policy, GoogleError> {
        let url = self.account_url(email, "setIamPolicy");
        let body = json!({"policy": policy});
        self.call(
            IAM,
            &format!("set the IAM policy of {email}"),
            true,
            Call::IamWrite(email),
            post(&url, body),
        )
        .await
    }

    /// The IAM policy of `project` (Resource Manager v1).
    pub async fn project_policy(&self, project: &str) -> Result<Policy, GoogleError> {
        let url = format!(
            "{}/v1/projects/{}:getIamPolicy",
            self.endpoints.resource_manager,
            enc(project)
        );
        let body = json!({"options": {"requestedPolicyVersion": 3}});
        self.call(
            RESOURCE_MANAGER,
            &format!("get the IAM policy of project {project}"),
            true,
            Call::Unmetered,
            post(&url, body),
        )
        .await
    }

    /// The names of the services enabled in `project`, every page read.
    pub async fn enabled_services(&self, project: &str) -> Result<Vec<String>, GoogleError> {
        let base = format!(
            "{}/v1/projects/{}/services?filter=state:ENABLED&pageSize=200",
            self.endpoints.service_usage,
            enc(project)
        );
        let what = format!("list the services of {project}");
        let pacing = (SERVICE_USAGE, what.as_str(), Call::Unmetered);
        self.every_page(pacing, &base, |page: ServicePage, names| {
            names.extend(
                page.services
                    .into_iter()
                    .filter(|s| s.state == "ENABLED")
                    .map(|s| {
                        if s.config.name.is_empty() {
                            s.name.rsplit('/').next().unwrap_or_default().to_owned()
                        } else {
                            s.config.name
                        }
                    }),
            );
            page.next_page_token
        })
        .await
    }

    /// Enables `service` in `project`, its operation polled to done.
    pub async fn enable_service(&self, project: &str, service: &str) -> Result<(), GoogleError> {
        let base = &self.endpoints.service_usage;
        let url = format!(
            "{base}/v1/projects/{}/services/{}:enable",
            enc(project),
            enc(service)
        );
        let operation: Operation = self
            .call(
                SERVICE_USAGE,
                &format!("enable {service} in {project}"),
                true,
                Call::Unmetered,
                post(&url, json!({})),
            )
            .await?;
        self.finished(base, operation).await.map(|_| ())
    }

    /// When each key of `project` last obtained a token, as Activity Analyzer reports it: key
    /// id to RFC 3339 time. Keys never used are absent.
    pub async fn keys_last_used(
        &self,
        project: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, GoogleError> {
        let base = format!(
            "{}/v1/projects/{}/locations/global/activityTypes/serviceAccountKeyLastAuthentication/activities:query?pageSize=1000",
            self.endpoints.policy_analyzer,
            enc(project)
        );
        let what = format!("query the key activity of {project}");
        let pacing = (POLICY_ANALYZER, what.as_str(), Call::Unmetered);
        let used = self
            .every_page(pacing, &base, |page: ActivityPage, all| {
                all.extend(page.activities.into_iter().filter_map(|a| {
                    let key = a.activity.service_account_key.full_resource_name;
                    let id = key.rsplit_once("/keys/")?.1.to_owned();
                    Some((id, a.activity.last_authenticated_time))
                }));
                page.next_page_token
            })
            .await?;
        Ok(used.into_iter().collect())
    }
}
