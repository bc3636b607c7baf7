//! Cloud Monitoring v3 `timeSeries.list` over the Vertex AI token-count metric: filters,
//! alignment and grouping, paging, the empty answer, Google's errors, the demo seed, and the
//! control route that shapes usage.

use serde_json::{Value, json};

use crate::harness::*;

const METRIC: &str = "aiplatform.googleapis.com/publisher/online_serving/token_count";

async fn push(emu: &orchestra_emulator::RunningEmulator, body: Value) -> Value {
    let response = client()
        .post(format!("{}/_emulator/monitoring/usage", emu.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "usage refused: {body}");
    response.json().await.unwrap()
}

/// Replaces the demo usage with three points in March 2026.
async fn known_usage(emu: &orchestra_emulator::RunningEmulator) {
    push(emu, json!({"clear": true})).await;
    for (model, kind, tokens, at) in [
        ("gemini-2.5-pro", "input", 1000, "2026-03-10T10:00:00Z"),
        ("gemini-2.5-pro", "input", 500, "2026-03-12T10:00:00Z"),
        ("gemini-2.5-pro", "output", 70, "2026-03-12T10:00:00Z"),
        ("gemini-2.5-flash", "input", 9000, "2026-03-11T10:00:00Z"),
    ] {
        push(
            emu,
            json!({"model": model, "type": kind, "tokens": tokens, "at": at}),
        )
        .await;
    }
}

async fn list(emu: &orchestra_emulator::RunningEmulator, query: &[(&str, &str)]) -> (u16, Value) {
    let response = client()
        .get(format!(
            "{}/v3/projects/demo-project/timeSeries",
            emu.monitoring_url()
        ))
        .query(query)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn filter() -> String {
    format!("metric.type = \"{METRIC}\"")
}

const MARCH: [(&str, &str); 2] = [
    ("interval.startTime", "2026-03-01T00:00:00Z"),
    ("interval.endTime", "2026-03-31T00:00:00Z"),
];

/// `(model, type, total)` of every series in an answer.
fn totals(body: &Value) -> Vec<(String, String, i64)> {
    body["timeSeries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let total = s["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    p["value"]["int64Value"]
                        .as_str()
                        .unwrap()
                        .parse::<i64>()
                        .unwrap()
                })
                .sum();
            (
                s["resource"]["labels"]["model_user_id"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                s["metric"]["labels"]["type"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                total,
            )
        })
        .collect()
}

#[tokio::test]
async fn raw_series_carry_the_model_as_a_resource_label_and_points_newest_first() {
    let emu = emulator().await;
    known_usage(&emu).await;
    let (status, body) = list(
        &emu,
        &[&[("filter", filter().as_str())], &MARCH[..]].concat(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let series = body["timeSeries"].as_array().unwrap();
    assert_eq!(series.len(), 3);
    let pro_input = series
        .iter()
        .find(|s| {
            s["resource"]["labels"]["model_user_id"] == "gemini-2.5-pro"
                && s["metric"]["labels"]["type"] == "input"
        })
        .unwrap();
    assert_eq!(pro_input["metric"]["type"], METRIC);
    assert_eq!(
        pro_input["resource"]["type"],
        "aiplatform.googleapis.com/PublisherModel"
    );
    assert_eq!(
        pro_input["resource"]["labels"]["resource_container"],
        "projects/123456789012"
    );
    assert_eq!(pro_input["metricKind"], "DELTA");
    assert_eq!(pro_input["valueType"], "INT64");
    let points = pro_input["points"].as_array().unwrap();
    assert_eq!(points[0]["value"]["int64Value"], "500", "newest first");
    assert_eq!(points[0]["interval"]["endTime"], "2026-03-12T10:00:00Z");
    assert_eq!(points[1]["value"]["int64Value"], "1000");
}

#[tokio::test]
async fn filters_on_token_type_and_model_in_either_label_spelling() {
    let emu = emulator().await;
    known_usage(&emu).await;
    for extra in [
        " AND metric.labels.type = \"input\"",
        " AND metric.label.type=\"input\"",
    ] {
        let f = format!("{}{extra}", filter());
        let (_, body) = list(&emu, &[&[("filter", f.as_str())], &MARCH[..]].concat()).await;
        let mut found = totals(&body);
        found.sort();
        assert_eq!(
            found,
            [
                ("gemini-2.5-flash".into(), "input".into(), 9000),
                ("gemini-2.5-pro".into(), "input".into(), 1500)
            ]
        );
    }
    let f = format!(
        "{} AND resource.type = \"aiplatform.googleapis.com/PublisherModel\" AND resource.labels.model_user_id = \"gemini-2.5-flash\"",
        filter()
    );
    let (_, body) = list(&emu, &[&[("filter", f.as_str())], &MARCH[..]].concat()).await;
    assert_eq!(
        totals(&body),
        [("gemini-2.5-flash".into(), "input".into(), 9000)]
    );
}

#[tokio::test]
async fn summed_and_grouped_per_model_and_type_with_enums_as_names_or_numbers() {
    let emu = emulator().await;
    known_usage(&emu).await;
    let f = filter();
    for (aligner, reducer) in [
        ("ALIGN_SUM", "REDUCE_SUM"),
        ("14", "4"),
        ("ALIGN_DELTA", "4"),
    ] {
        let query = [
            ("filter", f.as_str()),
            ("interval.startTime", "2026-03-01T00:00:00Z"),
            ("interval.endTime", "2026-03-31T00:00:00Z"),
            ("aggregation.alignmentPeriod", "2592000s"),
            ("aggregation.perSeriesAligner", aligner),
            ("aggregation.crossSeriesReducer", reducer),
            ("aggregation.groupByFields", "resource.label.model_user_id"),
            ("aggregation.groupByFields", "metric.label.type"),
            ("view", "0"),
            ("pageToken", ""),
        ];
        let (status, body) = list(&emu, &query).await;
        assert_eq!(status, 200, "{body}");
        let series = body["timeSeries"].as_array().unwrap();
        assert!(
            series
                .iter()
                .all(|s| s["points"].as_array().unwrap().len() == 1)
        );
        let pro = &series
            .iter()
            .find(|s| s["resource"]["labels"]["model_user_id"] == "gemini-2.5-pro")
            .unwrap();
        assert_eq!(
            pro["resource"]["labels"].as_object().unwrap().len(),
            1,
            "only the grouped labels remain: {pro}"
        );
        let mut found = totals(&body);
        found.sort();
        assert_eq!(
            found,
            [
                ("gemini-2.5-flash".into(), "input".into(), 9000),
                ("gemini-2.5-pro".into(), "input".into(), 1500),
                ("gemini-2.5-pro".into(), "output".into(), 70),
            ]
        );
    }
    // Grouped by type only: every model's input tokens in one series.
    let query = [
        ("filter", f.as_str()),
        ("interval.startTime", "2026-03-01T00:00:00Z"),
        ("interval.endTime", "2026-03-31T00:00:00Z"),
        ("aggregation.alignmentPeriod", "2592000s"),
        ("aggregation.perSeriesAligner", "ALIGN_SUM"),
        ("aggregation.crossSeriesReducer", "REDUCE_SUM"),
        ("aggregation.groupByFields", "metric.labels.type"),
    ];
    let (_, body) = list(&emu, &query).await;
    let mut found = totals(&body);
    found.sort();
    assert_eq!(
        found,
        [
            (String::new(), "input".into(), 10_500),
            (String::new(), "output".into(), 70)
        ]
    );
}

#[tokio::test]
async fn daily_alignment_gives_one_point_per_day_with_data() {
    let emu = emulator().await;
    known_usage(&emu).await;
    let f = format!(
        "{} AND resource.label.model_user_id = \"gemini-2.5-pro\"",
        filter()
    );
    let query = [
        ("filter", f.as_str()),
        ("interval.startTime", "2026-03-01T00:00:00Z"),
        ("interval.endTime", "2026-03-31T00:00:00Z"),
        ("aggregation.alignmentPeriod", "86400s"),
        ("aggregation.perSeriesAligner", "ALIGN_DELTA"),
        ("aggregation.crossSeriesReducer", "REDUCE_SUM"),
    ];
    let (_, body) = list(&emu, &query).await;
    let series = body["timeSeries"].as_array().unwrap();
    assert_eq!(series.len(), 1);
    let points: Vec<(&str, &str)> = series[0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["interval"]["endTime"].as_str().unwrap(),
                p["value"]["int64Value"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        points,
        [
            ("2026-03-13T00:00:00Z", "570"),
            ("2026-03-11T00:00:00Z", "1000")
        ]
    );
}

#[tokio::test]
async fn pages_cover_every_series_once() {
    let emu = emulator().await;
    known_usage(&emu).await;
    let f = filter();
    let mut token = String::new();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let query = [
            ("filter", f.as_str()),
            ("interval.startTime", "2026-03-01T00:00:00Z"),
            ("interval.endTime", "2026-03-31T00:00:00Z"),
            ("pageSize", "2"),
            ("pageToken", token.as_str()),
        ];
        let (_, body) = list(&emu, &query).await;
        assert!(body["timeSeries"].as_array().unwrap().len() <= 2);
        seen.extend(totals(&body));
        match body["nextPageToken"].as_str() {
            Some(next) if !next.is_empty() => token = next.to_owned(),
            _ => break,
        }
    }
    seen.sort();
    assert_eq!(seen.len(), 3);
    seen.dedup();
    assert_eq!(seen.len(), 3);
}

#[tokio::test]
async fn nothing_matching_answers_an_empty_object() {
    let emu = emulator().await;
    known_usage(&emu).await;
    let f = filter();
    let april = [
        ("filter", f.as_str()),
        ("interval.startTime", "2026-04-01T00:00:00Z"),
        ("interval.endTime", "2026-04-30T00:00:00Z"),
    ];
    let (status, body) = list(&emu, &april).await;
    assert_eq!((status, body), (200, json!({})));
    let other = "metric.type = \"compute.googleapis.com/instance/cpu/utilization\"";
    let (status, body) = list(&emu, &[&[("filter", other)], &MARCH[..]].concat()).await;
    assert_eq!((status, body), (200, json!({})));
}

#[tokio::test]
async fn a_bad_filter_or_a_missing_end_time_is_invalid_argument() {
    let emu = emulator().await;
    let f = filter();
    let f = f.as_str();
    for query in [
        vec![("filter", "metric.type = unquoted"), MARCH[1]],
        vec![("filter", "resource.type = \"x\""), MARCH[1]],
        vec![("filter", "")],
        vec![("filter", f), MARCH[0]],
        vec![
            ("filter", f),
            MARCH[1],
            ("aggregation.perSeriesAligner", "ALIGN_SUM"),
        ],
        vec![
            ("filter", f),
            MARCH[1],
            ("aggregation.crossSeriesReducer", "REDUCE_SUM"),
        ],
    ] {
        let (status, body) = list(&emu, &query).await;
        assert_eq!(status, 400, "{query:?}: {body}");
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(body["error"]["code"], 400);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Field ")
        );
    }
    let (_, body) = list(&emu, &[("filter", ""), MARCH[1]]).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("metric type"),
        "{body}"
    );
    let (_, body) = list(&emu, &[("filter", f)]).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Field interval.endTime"),
        "{body}"
    );
}

#[tokio::test]
async fn the_demo_seed_is_in_the_state_dump_and_comes_back_on_reset() {
    let emu = emulator().await;
    let seeded = revealed_state(&emu).await["google"]["token_usage"].clone();
    let models: std::collections::BTreeSet<&str> = seeded
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        models.into_iter().collect::<Vec<_>>(),
        [
            "gemini-2.0-flash-lite",
            "gemini-2.5-flash",
            "gemini-2.5-pro"
        ]
    );
    push(&emu, json!({"clear": true})).await;
    assert_eq!(
        revealed_state(&emu).await["google"]["token_usage"],
        json!([])
    );
    client()
        .post(format!("{}/_emulator/reset", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(revealed_state(&emu).await["google"]["token_usage"], seeded);
}

#[tokio::test]
async fn replace_swaps_one_models_points_and_bad_usage_is_refused() {
    let emu = emulator().await;
    known_usage(&emu).await;
    let answer = push(
        &emu,
        json!({"model": "gemini-2.5-pro", "type": "input", "tokens": 24, "replace": true,
               "from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}),
    )
    .await;
    assert_eq!(answer["points"], 2 + 24, "24 hourly points replace the two");
    let f = format!("{} AND metric.label.type = \"input\"", filter());
    let (_, body) = list(&emu, &[&[("filter", f.as_str())], &MARCH[..]].concat()).await;
    let mut found = totals(&body);
    found.sort();
    assert_eq!(found[1], ("gemini-2.5-pro".into(), "input".into(), 24));
    let refused = client()
        .post(format!("{}/_emulator/monitoring/usage", emu.base_url()))
        .json(&json!({"model": "m", "type": "cached", "tokens": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let message = refused.json::<Value>().await.unwrap()["message"].to_string();
    assert!(message.contains("type must be"), "{message}");
}

#[tokio::test]
async fn injected_faults_reach_monitoring_in_googles_shape() {
    let emu = emulator().await;
    let f = filter();
    let f = f.as_str();
    client()
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .json(&json!({"path": "/v3/**", "status": 503, "retry_after": 1, "count": 1}))
        .send()
        .await
        .unwrap();
    let (status, body) = list(&emu, &[("filter", f), MARCH[1]]).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["status"], "UNAVAILABLE");
    let (status, _) = list(&emu, &[("filter", f), MARCH[1]]).await;
    assert_eq!(status, 200);
}
