//! What a `timeSeries.list` request asks for, parsed from its query string: the filter, the
//! interval and the aggregation. Enums come as names (gcloud) or integers (google-cloud-rust);
//! anything malformed is the 400 `INVALID_ARGUMENT` Google answers.

use crate::http_util::{GoogleCode, Request, Response, google_error};

use super::usage::parse_time;

/// A field a series can be filtered or grouped on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `metric.type`.
    MetricType,
    /// `resource.type`.
    ResourceType,
    /// `metric.label.NAME` (or `metric.labels.NAME`).
    MetricLabel(String),
    /// `resource.label.NAME` (or `resource.labels.NAME`).
    ResourceLabel(String),
}

impl Field {
    fn parse(text: &str) -> Option<Self> {
        let label = |rest: &str| {
            rest.strip_prefix("labels.")
                .or_else(|| rest.strip_prefix("label."))
                .filter(|name| {
                    !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                })
                .map(str::to_owned)
        };
        match text {
            "metric.type" => Some(Self::MetricType),
            "resource.type" => Some(Self::ResourceType),
            _ => {
                if let Some(rest) = text.strip_prefix("metric.") {
                    label(rest).map(Self::MetricLabel)
                } else if let Some(rest) = text.strip_prefix("resource.") {
                    label(rest).map(Self::ResourceLabel)
                } else {
                    None
                }
            }
        }
    }
}

/// One `field = "value"` (or `!=`) clause of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// What it compares.
    pub field: Field,
    /// The value it compares with.
    pub value: String,
    /// `!=` rather than `=`.
    pub negated: bool,
}

/// How each series is aligned (`aggregation.perSeriesAligner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aligner {
    /// Raw points.
    None,
    /// The change over each period (for a DELTA metric, the sum).
    Delta,
    /// The change per second over each period.
    Rate,
    /// The sum over each period.
    Sum,
}

/// How series are combined (`aggregation.crossSeriesReducer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reducer {
    /// Every series on its own.
    None,
    /// Series with the same `groupByFields` values summed.
    Sum,
}

/// A parsed `timeSeries.list` request.
#[derive(Debug, Clone)]
pub struct Query {
    /// The filter's clauses, all of which must hold.
    pub clauses: Vec<Clause>,
    /// `interval.startTime`, epoch seconds (absent: the single instant `end`).
    pub start: Option<i64>,
    /// `interval.endTime`, epoch seconds.
    pub end: i64,
    /// `aggregation.alignmentPeriod`, seconds.
    pub period: Option<i64>,
    /// `aggregation.perSeriesAligner`.
    pub aligner: Aligner,
    /// `aggregation.crossSeriesReducer`.
    pub reducer: Reducer,
    /// `aggregation.groupByFields`.
    pub group_by: Vec<Field>,
    /// `view=HEADERS`: series without points.
    pub headers_only: bool,
}

fn invalid(field: &str, value: &str, why: &str) -> Response {
    google_error(
        GoogleCode::InvalidArgument,
        &format!("Field {field} had an invalid value of \"{value}\": {why}"),
    )
}

/// Splits `a = "x" AND b = "y"` on `AND` outside quotes.
fn terms(filter: &str) -> Vec<String> {
    let mut terms = vec![String::new()];
    let mut quoted = false;
    let words: Vec<&str> = filter.split(' ').collect();
    for word in words {
        if !quoted && word == "AND" {
            terms.push(String::new());
            continue;
        }
        if let Some(last) = terms.last_mut() {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
        quoted ^= word.matches('"').count() % 2 == 1;
    }
    terms
        .into_iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

fn clause(term: &str) -> Result<Clause, String> {
    let (key, value, negated) = match term.split_once("!=") {
        Some((key, value)) => (key, value, true),
        None => match term.split_once('=') {
            Some((key, value)) => (key, value, false),
            None => return Err(format!("expected field = \"value\", found `{term}`")),
        },
    };
    let field = Field::parse(key.trim()).ok_or_else(|| {
        format!(
            "unknown field `{}` (metric.type, resource.type, metric.label.NAME, resource.label.NAME)",
            key.trim()
        )
    })?;
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .filter(|v| !v.contains('"'))
        .ok_or_else(|| format!("the value of `{}` must be in double quotes", key.trim()))?;
    Ok(Clause {
        field,
        value: value.to_owned(),
        negated,
    })
}

/// Parses a filter: clauses joined by `AND`, one of them naming `metric.type`.
pub fn parse_filter(filter: &str) -> Result<Vec<Clause>, String> {
    let clauses = terms(filter)
        .iter()
        .map(|t| clause(t))
        .collect::<Result<Vec<_>, _>>()?;
    if !clauses
        .iter()
        .any(|c| c.field == Field::MetricType && !c.negated)
    {
        return Err("a filter must name one metric type (metric.type = \"...\")".into());
    }
    Ok(clauses)
}

fn aligner(text: &str) -> Option<Aligner> {
    match text {
        "ALIGN_NONE" | "0" => Some(Aligner::None),
        "ALIGN_DELTA" | "1" => Some(Aligner::Delta),
        "ALIGN_RATE" | "2" => Some(Aligner::Rate),
        "ALIGN_SUM" | "14" => Some(Aligner::Sum),
        _ => None,
    }
}

fn reducer(text: &str) -> Option<Reducer> {
    match text {
        "REDUCE_NONE" | "0" => Some(Reducer::None),
        "REDUCE_SUM" | "4" => Some(Reducer::Sum),
        _ => None,
    }
}

fn time(request: &Request, field: &str) -> Result<Option<i64>, Response> {
    request
        .query(field)
        .map(|text| {
            parse_time(text).ok_or_else(|| invalid(field, text, "expected an RFC 3339 timestamp"))
        })
        .transpose()
}

impl Query {
    /// Parses `request`'s query string, or answers Google's 400.
    pub fn parse(request: &Request) -> Result<Self, Response> {
        let filter = request.query("filter").unwrap_or("");
        let clauses = parse_filter(filter).map_err(|why| invalid("filter", filter, &why))?;
        let end = time(request, "interval.endTime")?.ok_or_else(|| {
            invalid(
                "interval.endTime",
                "",
                "the end time of the interval is required",
            )
        })?;
        let start = time(request, "interval.startTime")?;
        if start.is_some_and(|s| s > end) {
            return Err(invalid(
                "interval.startTime",
                request.query("interval.startTime").unwrap_or(""),
                "the start time must not be after the end time",
            ));
        }
        let period = match request.query("aggregation.alignmentPeriod") {
            None => None,
            Some(text) => Some(
                crate::http_util::duration_secs(text)
                    .filter(|s| *s >= 60)
                    .ok_or_else(|| {
                        invalid(
                            "aggregation.alignmentPeriod",
                            text,
                            "expected a duration of at least 60s, such as \"3600s\"",
                        )
                    })?,
            ),
        };
        let aligner = match request.query("aggregation.perSeriesAligner") {
            None => Aligner::None,
            Some(text) => aligner(text).ok_or_else(|| {
                invalid(
                    "aggregation.perSeriesAligner",
                    text,
                    "this emulator aligns with ALIGN_NONE, ALIGN_DELTA, ALIGN_RATE or ALIGN_SUM",
                )
            })?,
        };
        let reducer = match request.query("aggregation.crossSeriesReducer") {
            None => Reducer::None,
            Some(text) => reducer(text).ok_or_else(|| {
                invalid(
                    "aggregation.crossSeriesReducer",
                    text,
                    "this emulator reduces with REDUCE_NONE or REDUCE_SUM",
                )
            })?,
        };
        if aligner != Aligner::None && period.is_none() {
            return Err(invalid(
                "aggregation.alignmentPeriod",
                "",
                "an alignment period is required with a per-series aligner other than ALIGN_NONE",
            ));
        }
        if reducer != Reducer::None && aligner == Aligner::None {
            return Err(invalid(
                "aggregation.perSeriesAligner",
                "ALIGN_NONE",
                "a cross-series reducer needs aligned series",
            ));
        }
        let group_by = request
            .query_all("aggregation.groupByFields")
            .into_iter()
            .map(|text| {
                Field::parse(text).ok_or_else(|| {
                    invalid("aggregation.groupByFields", text, "not a field of a series")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            clauses,
            start,
            end,
            period,
            aligner,
            reducer,
            group_by,
            headers_only: matches!(request.query("view"), Some("HEADERS" | "1")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_count_filter_parses_in_both_label_spellings() {
        let clauses = parse_filter(
            "metric.type = \"aiplatform.googleapis.com/publisher/online_serving/token_count\" AND resource.type=\"aiplatform.googleapis.com/PublisherModel\" AND metric.labels.type = \"input\" AND resource.label.model_user_id != \"a AND b\"",
        )
        .unwrap();
        assert_eq!(clauses.len(), 4);
        assert_eq!(clauses[2].field, Field::MetricLabel("type".into()));
        assert_eq!(clauses[3].value, "a AND b");
        assert!(clauses[3].negated);
    }

    #[test]
    fn bad_filters_say_why() {
        assert!(parse_filter("").unwrap_err().contains("metric type"));
        assert!(
            parse_filter("metric.type = unquoted")
                .unwrap_err()
                .contains("double quotes")
        );
        assert!(
            parse_filter("metric.type = \"x\" AND project.id = \"p\"")
                .unwrap_err()
                .contains("unknown field `project.id`")
        );
        assert!(
            parse_filter("metric.type starts_with(\"x\")")
                .unwrap_err()
                .contains("expected field")
        );
    }
}
