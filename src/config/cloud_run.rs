//! `[cloud_run]`: the desired settings of the Cloud Run service a repository deploys (the
//! bootstrap writes them as `CLOUD_RUN_*` Actions variables). Every field optional: an unset
//! one is not written.

use serde::{Deserialize, Serialize};

/// The Cloud Run service's desired settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudRunSettings {
    /// The service name.
    pub service: Option<String>,
    /// Its region, e.g. `europe-west1`.
    pub region: Option<String>,
    /// CPUs per instance, e.g. `"1"`.
    pub cpu: Option<String>,
    /// Memory per instance, e.g. `"512Mi"`.
    pub memory: Option<String>,
    /// Fewest instances kept warm.
    pub min_instances: Option<i64>,
    /// Most instances.
    pub max_instances: Option<i64>,
    /// Requests one instance serves at once.
    pub concurrency: Option<i64>,
}
