//! The JSON of a Cloud Run Admin v2 `Service`, as far as orchestra reads it (unknown fields
//! ignored, absent ones empty, int64 fields as the strings proto3 JSON writes), and what
//! orchestra makes of it.

use serde::Deserialize;

/// A v2 `Service`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Service {
    name: String,
    uri: String,
    generation: String,
    observed_generation: String,
    reconciling: bool,
    etag: String,
    template: Template,
    terminal_condition: WireCondition,
    conditions: Vec<WireCondition>,
    latest_ready_revision: String,
    latest_created_revision: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Template {
    scaling: Scaling,
    containers: Vec<Container>,
    max_instance_request_concurrency: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Scaling {
    min_instance_count: Option<i64>,
    max_instance_count: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Container {
    image: String,
    ports: Vec<serde_json::Value>,
    resources: Resources,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Resources {
    limits: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WireCondition {
    #[serde(rename = "type")]
    kind: String,
    state: String,
    reason: String,
    revision_reason: String,
    message: String,
}

/// One page of a services list.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct ServicePage {
    pub(super) services: Vec<Service>,
    pub(super) next_page_token: String,
}

/// A condition of a service: `Ready`, `RoutesReady`, `ConfigurationsReady`, …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Its type (`Ready` for the terminal one).
    pub kind: String,
    /// `CONDITION_SUCCEEDED`, `CONDITION_FAILED`, `CONDITION_RECONCILING`, …
    pub state: String,
    /// Why, when it did not succeed (`REVISION_FAILED`, …); empty otherwise.
    pub reason: String,
    /// Cloud Run's message; empty when there is none.
    pub message: String,
}

/// A Cloud Run service as orchestra reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudRunService {
    /// `projects/P/locations/R/services/NAME`.
    pub name: String,
    /// Its region (from the name).
    pub region: String,
    /// Whether its terminal condition succeeded and it is not rolling out a change.
    pub ready: bool,
    /// Whether a change is still rolling out.
    pub reconciling: bool,
    /// The URL it serves at.
    pub url: String,
    /// The serving container's image.
    pub image: String,
    /// Its CPU limit (`"1"`, `"2"`, `"1000m"`).
    pub cpu: Option<String>,
    /// Its memory limit (`"512Mi"`).
    pub memory: Option<String>,
    /// Fewest instances kept warm (0 when unset).
    pub min_instances: i64,
    /// Most instances, when set.
    pub max_instances: Option<i64>,
    /// Requests one instance serves at once, when set.
    pub concurrency: Option<i64>,
    /// The terminal condition (`Ready`).
    pub terminal: Condition,
    /// The other conditions.
    pub conditions: Vec<Condition>,
    /// Its latest revision that became ready (the last part of its name); empty when none.
    pub latest_ready_revision: String,
    /// Its latest revision (the last part of its name).
    pub latest_created_revision: String,
    /// Its generation (bumped by every change of its template).
    pub generation: i64,
    /// The generation its status describes.
    pub observed_generation: i64,
    /// The etag as read.
    pub etag: String,
}

impl WireCondition {
    fn into_condition(self) -> Condition {
        Condition {
            kind: self.kind,
            state: self.state,
            reason: if self.reason.is_empty() {
                self.revision_reason
            } else {
                self.reason
            },
            message: self.message,
        }
    }
}

fn last_part(name: &str) -> String {
    name.rsplit('/').next().unwrap_or_default().to_owned()
}

impl Service {
    /// What orchestra makes of it. The serving container is the one with a port (a service
    /// with sidecars has exactly one), else the first.
    pub(super) fn into_service(self) -> CloudRunService {
        let region = self
            .name
            .split('/')
            .skip_while(|part| *part != "locations")
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut containers = self.template.containers;
        let index = containers
            .iter()
            .position(|c| !c.ports.is_empty())
            .unwrap_or(0);
        let container = (index < containers.len()).then(|| containers.swap_remove(index));
        let (image, mut limits) = container
            .map(|c| (c.image, c.resources.limits))
            .unwrap_or_default();
        let generation = self.generation.parse().unwrap_or(0);
        let observed_generation = self.observed_generation.parse().unwrap_or(0);
        let terminal = self.terminal_condition.into_condition();
        CloudRunService {
            ready: terminal.state == "CONDITION_SUCCEEDED"
                && !self.reconciling
                && observed_generation >= generation,
            region,
            name: self.name,
            reconciling: self.reconciling,
            url: self.uri,
            image,
            cpu: limits.remove("cpu"),
            memory: limits.remove("memory"),
            min_instances: self.template.scaling.min_instance_count.unwrap_or(0),
            max_instances: self.template.scaling.max_instance_count,
            concurrency: self.template.max_instance_request_concurrency,
            terminal,
            conditions: self
                .conditions
                .into_iter()
                .map(WireCondition::into_condition)
                .collect(),
            latest_ready_revision: last_part(&self.latest_ready_revision),
            latest_created_revision: last_part(&self.latest_created_revision),
            generation,
            observed_generation,
            etag: self.etag,
        }
    }
}
