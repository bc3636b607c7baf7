//! The JSON of a `timeSeries.list` answer and of Google's error body, as far as a token count
//! needs it: unknown fields are ignored, `timeSeries` may be absent, `int64Value` is a string
//! (a number is accepted too).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::MonitoringError;

/// One page of series.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListAnswer {
    #[serde(default)]
    pub(super) time_series: Vec<WireSeries>,
    #[serde(default)]
    pub(super) next_page_token: String,
}

/// One series: its labels and points.
#[derive(Deserialize)]
pub(super) struct WireSeries {
    #[serde(default)]
    pub(super) metric: Labelled,
    #[serde(default)]
    pub(super) resource: Labelled,
    #[serde(default)]
    pub(super) points: Vec<WirePoint>,
}

/// The `metric` or `resource` of a series.
#[derive(Deserialize, Default)]
pub(super) struct Labelled {
    #[serde(default)]
    pub(super) labels: BTreeMap<String, String>,
}

/// One point.
#[derive(Deserialize)]
pub(super) struct WirePoint {
    pub(super) value: WireValue,
}

/// A point's typed value.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireValue {
    /// proto3 JSON writes int64 as a string; a number is accepted too.
    pub(super) int64_value: Option<serde_json::Value>,
}

/// `{"error": {...}}`.
#[derive(Deserialize)]
pub(super) struct GoogleErrorBody {
    pub(super) error: GoogleStatus,
}

/// A `google.rpc.Status`.
#[derive(Deserialize)]
pub(super) struct GoogleStatus {
    #[serde(default)]
    pub(super) status: String,
    #[serde(default)]
    pub(super) message: String,
}

/// `publishers/google/models/gemini-2.5-flash` and `gemini-2.5-flash` are one model.
pub(super) fn model_name(model_user_id: &str) -> String {
    model_user_id
        .rsplit_once("models/")
        .map_or(model_user_id, |(_, name)| name)
        .to_owned()
}

pub(super) fn tokens_of(point: &WirePoint) -> Result<u64, MonitoringError> {
    match &point.value.int64_value {
        None => Ok(0),
        Some(serde_json::Value::String(text)) => text
            .parse::<u64>()
            .map_err(|_| MonitoringError::malformed("an int64Value that is not a count")),
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| MonitoringError::malformed("an int64Value that is not a count")),
        Some(_) => Err(MonitoringError::malformed(
            "an int64Value of the wrong type",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_lose_their_publisher_path() {
        assert_eq!(
            model_name("publishers/google/models/gemini-2.5-flash"),
            "gemini-2.5-flash"
        );
        assert_eq!(model_name("gemini-2.5-pro"), "gemini-2.5-pro");
    }
}
