//! Time series from stored token usage: selected by the filter and the interval, aligned per
//! series into periods that end at the interval's end, reduced across series by the
//! `groupByFields`, and written as Cloud Monitoring's JSON (points newest first, `int64Value`
//! as a string).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::query::{Aligner, Clause, Field, Query, Reducer};
use super::usage::{PUBLISHER_MODEL, TOKEN_COUNT_METRIC, TokenUsagePoint};

/// One point: a value over `[start, end]`, epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Point {
    start: i64,
    end: i64,
    value: i64,
}

/// One time series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    metric_type: String,
    metric_labels: BTreeMap<String, String>,
    resource_type: String,
    resource_labels: BTreeMap<String, String>,
    points: Vec<Point>,
}

impl Series {
    fn field(&self, field: &Field) -> Option<&str> {
        match field {
            Field::MetricType => Some(&self.metric_type),
            Field::ResourceType => Some(&self.resource_type),
            Field::MetricLabel(name) => self.metric_labels.get(name).map(String::as_str),
            Field::ResourceLabel(name) => self.resource_labels.get(name).map(String::as_str),
        }
    }

    fn matches(&self, clauses: &[Clause]) -> bool {
        clauses
            .iter()
            .all(|c| (self.field(&c.field) == Some(c.value.as_str())) != c.negated)
    }
}

/// Whether a DELTA point ending at `end` belongs to the query's interval: ends within
/// `(start, end]`, or, for an instant, covers it.
fn in_interval(point: &TokenUsagePoint, query: &Query) -> bool {
    match query.start {
        Some(start) if start < query.end => point.end > start && point.end <= query.end,
        _ => point.start < query.end && point.end >= query.end,
    }
}

/// The stored usage of project `project` (number `number`) as raw series matching `query`.
pub fn select(usage: &[TokenUsagePoint], project: &str, number: u64, query: &Query) -> Vec<Series> {
    let mut by_key: BTreeMap<(String, &'static str), Series> = BTreeMap::new();
    for point in usage
        .iter()
        .filter(|p| p.project == project && in_interval(p, query))
    {
        let series = by_key
            .entry((point.model.clone(), point.token_type.as_str()))
            .or_insert_with(|| Series {
                metric_type: TOKEN_COUNT_METRIC.to_owned(),
                metric_labels: BTreeMap::from([(
                    "type".to_owned(),
                    point.token_type.as_str().to_owned(),
                )]),
                resource_type: PUBLISHER_MODEL.to_owned(),
                resource_labels: BTreeMap::from([
                    (
                        "resource_container".to_owned(),
                        format!("projects/{number}"),
                    ),
                    ("location".to_owned(), "us-central1".to_owned()),
                    ("publisher".to_owned(), "google".to_owned()),
                    ("model_user_id".to_owned(), point.model.clone()),
                    ("model_version_id".to_owned(), String::new()),
                ]),
                points: Vec::new(),
            });
        series.points.push(Point {
            start: point.start,
            end: point.end,
            value: point.tokens,
        });
    }
    by_key
        .into_values()
        .filter(|s| s.matches(&query.clauses))
        .map(|mut s| {
            s.points.sort_by_key(|p| std::cmp::Reverse(p.end));
            s
        })
        .collect()
}

/// Sums each series' points into periods of `period` seconds ending at `end` (only periods
/// with data get a point).
fn align(series: &mut Series, period: i64, end: i64) {
    let mut windows: BTreeMap<i64, i64> = BTreeMap::new();
    for point in &series.points {
        let index = (end - point.end).max(0) / period;
        *windows.entry(end - index * period).or_default() += point.value;
    }
    series.points = windows
        .into_iter()
        .rev()
        .map(|(window_end, value)| Point {
            start: window_end - period,
            end: window_end,
            value,
        })
        .collect();
}

/// Sums series that agree on every field of `group_by`; the result keeps only those fields.
fn reduce(series: Vec<Series>, group_by: &[Field]) -> Vec<Series> {
    let mut groups: BTreeMap<Vec<Option<String>>, Series> = BTreeMap::new();
    for s in series {
        let key: Vec<Option<String>> = group_by
            .iter()
            .map(|f| s.field(f).map(str::to_owned))
            .collect();
        let group = groups.entry(key).or_insert_with(|| Series {
            metric_type: s.metric_type.clone(),
            metric_labels: kept(&s.metric_labels, group_by, |f| match f {
                Field::MetricLabel(name) => Some(name),
                _ => None,
            }),
            resource_type: s.resource_type.clone(),
            resource_labels: kept(&s.resource_labels, group_by, |f| match f {
                Field::ResourceLabel(name) => Some(name),
                _ => None,
            }),
            points: Vec::new(),
        });
        for point in s.points {
            match group.points.iter_mut().find(|p| p.end == point.end) {
                Some(existing) => existing.value += point.value,
                None => group.points.push(point),
            }
        }
    }
    groups
        .into_values()
        .map(|mut s| {
            s.points.sort_by_key(|p| std::cmp::Reverse(p.end));
            s
        })
        .collect()
}

fn kept(
    labels: &BTreeMap<String, String>,
    group_by: &[Field],
    name: impl Fn(&Field) -> Option<&String>,
) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(key, _)| group_by.iter().filter_map(&name).any(|n| n == *key))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Applies the query's aligner and reducer.
pub fn aggregate(mut series: Vec<Series>, query: &Query) -> Vec<Series> {
    if let (Some(period), false) = (query.period, query.aligner == Aligner::None) {
        for s in &mut series {
            align(s, period, query.end);
        }
    }
    match query.reducer {
        Reducer::None => series,
        Reducer::Sum => reduce(series, &query.group_by),
    }
}

fn time(epoch_secs: i64) -> String {
    chrono::DateTime::from_timestamp(epoch_secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn labelled(kind: &str, labels: &BTreeMap<String, String>) -> Value {
    let mut value = json!({ "type": kind });
    if !labels.is_empty() {
        value["labels"] = json!(labels);
    }
    value
}

/// A series as Cloud Monitoring writes it.
pub fn to_json(series: &Series, query: &Query) -> Value {
    let rate = query.aligner == Aligner::Rate;
    let mut value = json!({
        "metric": labelled(&series.metric_type, &series.metric_labels),
        "resource": labelled(&series.resource_type, &series.resource_labels),
        "metricKind": if rate { "GAUGE" } else { "DELTA" },
        "valueType": if rate { "DOUBLE" } else { "INT64" },
    });
    if !query.headers_only {
        let points: Vec<Value> = series
            .points
            .iter()
            .map(|p| {
                let typed = if rate {
                    json!({ "doubleValue": p.value as f64 / (p.end - p.start).max(1) as f64 })
                } else {
                    json!({ "int64Value": p.value.to_string() })
                };
                json!({
                    "interval": { "startTime": time(p.start), "endTime": time(p.end) },
                    "value": typed,
                })
            })
            .collect();
        value["points"] = json!(points);
    }
    value
}
