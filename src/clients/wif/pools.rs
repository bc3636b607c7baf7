//! Workload Identity pools and their providers: get (active, soft-deleted or missing),
//! create and undelete (each operation polled to done), list every page.

use serde_json::json;

use super::wire::{PoolPage, ProviderPage};
use super::{Found, IAM, WifClient, enc, pools_url};
use crate::clients::google_error::GoogleError;
use crate::clients::google_pacing::Call;
use crate::clients::wif::{Pool, Provider, ProviderSpec};

impl WifClient {
    /// Pool `id` of `project`.
    pub async fn pool(&self, project: &str, id: &str) -> Result<Found<Pool>, GoogleError> {
        let url = format!("{}/{}", pools_url(&self.endpoints.iam, project), enc(id));
        self.found(&format!("get pool {id}"), project, &url, |p: &Pool| {
            &p.state
        })
        .await
    }

    /// Creates pool `id` in `project`; the pool once its operation is done.
    pub async fn create_pool(
        &self,
        project: &str,
        id: &str,
        display_name: &str,
    ) -> Result<Pool, GoogleError> {
        let url = format!(
            "{}?workloadIdentityPoolId={}",
            pools_url(&self.endpoints.iam, project),
            enc(id)
        );
        let body = json!({"displayName": display_name, "description": "managed by orchestra"});
        self.changed(&format!("create pool {id}"), project, &url, body)
            .await
    }

    /// Undeletes soft-deleted pool `id`.
    pub async fn undelete_pool(&self, project: &str, id: &str) -> Result<Pool, GoogleError> {
        let url = format!(
            "{}/{}:undelete",
            pools_url(&self.endpoints.iam, project),
            enc(id)
        );
        self.changed(&format!("undelete pool {id}"), project, &url, json!({}))
            .await
    }

    /// Every pool of `project` (deleted ones too when `show_deleted`), every page read.
    pub async fn pools(&self, project: &str, show_deleted: bool) -> Result<Vec<Pool>, GoogleError> {
        let base = format!(
            "{}?showDeleted={show_deleted}",
            pools_url(&self.endpoints.iam, project)
        );
        let name = format!("projects/{project}");
        self.every_page(
            (IAM, "list pools", Call::IamRead(&name)),
            &base,
            |page: PoolPage, all| {
                all.extend(page.workload_identity_pools);
                page.next_page_token
            },
        )
        .await
    }

    fn providers_url(&self, project: &str, pool: &str) -> String {
        format!(
            "{}/{}/providers",
            pools_url(&self.endpoints.iam, project),
            enc(pool)
        )
    }

    /// Provider `id` of `pool`.
    pub async fn provider(
        &self,
        project: &str,
        pool: &str,
        id: &str,
    ) -> Result<Found<Provider>, GoogleError> {
        let url = format!("{}/{}", self.providers_url(project, pool), enc(id));
        self.found(
            &format!("get provider {id}"),
            project,
            &url,
            |p: &Provider| &p.state,
        )
        .await
    }

    /// Creates provider `id` in `pool` from `spec`; the provider once its operation is done.
    pub async fn create_provider(
        &self,
        project: &str,
        pool: &str,
        id: &str,
        spec: &ProviderSpec,
    ) -> Result<Provider, GoogleError> {
        let url = format!(
            "{}?workloadIdentityPoolProviderId={}",
            self.providers_url(project, pool),
            enc(id)
        );
        let body = serde_json::to_value(spec)
            .map_err(|e| GoogleError::internal(IAM, format!("cannot encode the provider: {e}")))?;
        self.changed(&format!("create provider {id}"), project, &url, body)
            .await
    }

    /// Undeletes soft-deleted provider `id`.
    pub async fn undelete_provider(
        &self,
        project: &str,
        pool: &str,
        id: &str,
    ) -> Result<Provider, GoogleError> {
        let url = format!("{}/{}:undelete", self.providers_url(project, pool), enc(id));
        self.changed(&format!("undelete provider {id}"), project, &url, json!({}))
            .await
    }

    /// Every active provider of `pool`, every page read.
    pub async fn providers(&self, project: &str, pool: &str) -> Result<Vec<Provider>, GoogleError> {
        let base = self.providers_url(project, pool);
        let name = format!("projects/{project}");
        let what = (IAM, "list providers", Call::IamRead(&name));
        self.every_page(what, &base, |page: ProviderPage, all| {
            all.extend(page.workload_identity_pool_providers);
            page.next_page_token
        })
        .await
    }
}
