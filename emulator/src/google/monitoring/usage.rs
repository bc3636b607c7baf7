//! The Vertex AI token usage Cloud Monitoring serves: the stored DELTA points, the demo seed
//! (daily points from the start of the month up to now), and the control route tests use to
//! push spend below, near or over a budget.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http_util::{Request, Response, json_response};
use crate::server::Shared;
use crate::state::State;

/// The metric Vertex AI writes token counts to.
pub const TOKEN_COUNT_METRIC: &str =
    "aiplatform.googleapis.com/publisher/online_serving/token_count";
/// The monitored resource of a publisher model.
pub const PUBLISHER_MODEL: &str = "aiplatform.googleapis.com/PublisherModel";

/// Which side of a call the tokens were: the metric label `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// Prompt tokens.
    Input,
    /// Generated tokens.
    Output,
}

impl TokenType {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Output => "output",
        }
    }
}

/// One DELTA point of the token-count metric: `tokens` used by `model` in `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsagePoint {
    /// The project id.
    pub project: String,
    /// The resource label `model_user_id`.
    pub model: String,
    /// Input or output.
    #[serde(rename = "type")]
    pub token_type: TokenType,
    /// Epoch seconds.
    pub start: i64,
    /// Epoch seconds.
    pub end: i64,
    /// How many tokens.
    pub tokens: i64,
}

/// Demo models and their tokens per day (input, output): about $6 a day at list prices, so
/// a month projects to under half of the demo budget.
const DEMO_DAILY_TOKENS: [(&str, i64, i64); 3] = [
    ("gemini-2.5-pro", 1_200_000, 200_000),
    ("gemini-2.5-flash", 3_000_000, 400_000),
    ("gemini-2.0-flash-lite", 6_000_000, 1_000_000),
];

const DAY: i64 = 24 * 3600;

/// A fixed wobble of ±20% for day `day` of a series, so the demo curve is not flat yet the
/// same on every start.
fn wobble(day: i64, series: i64) -> f64 {
    let mixed = (day * 2_654_435_761 + series * 40_503).rem_euclid(1000);
    0.8 + 0.4 * mixed as f64 / 1000.0
}

/// Daily points for the demo models from the start of `now`'s month up to `now` (today's
/// point covers the part of the day gone by).
pub fn demo_usage(project: &str, now: i64) -> Vec<TokenUsagePoint> {
    let Some(month_start) = month_start(now) else {
        return Vec::new();
    };
    let mut points = Vec::new();
    let mut day_start = month_start;
    let mut day = 0;
    while day_start < now {
        let end = (day_start + DAY).min(now);
        let share = (end - day_start) as f64 / DAY as f64;
        for (index, (model, input, output)) in DEMO_DAILY_TOKENS.iter().enumerate() {
            for (offset, (token_type, daily)) in
                [(TokenType::Input, input), (TokenType::Output, output)]
                    .into_iter()
                    .enumerate()
            {
                let series = (index * 2 + offset) as i64;
                let tokens = (*daily as f64 * wobble(day, series) * share).round() as i64;
                points.push(TokenUsagePoint {
                    project: project.to_owned(),
                    model: (*model).to_owned(),
                    token_type,
                    start: day_start,
                    end,
                    tokens,
                });
            }
        }
        day_start = end;
        day += 1;
    }
    points
}

/// The first second of the UTC month `epoch_secs` falls in.
fn month_start(epoch_secs: i64) -> Option<i64> {
    use chrono::Datelike;
    let at = chrono::DateTime::from_timestamp(epoch_secs, 0)?;
    chrono::NaiveDate::from_ymd_opt(at.year(), at.month(), 1)?
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
}

/// Parses an RFC 3339 time into epoch seconds.
pub fn parse_time(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp())
}

fn bad_request(message: &str) -> Response {
    json_response(400, &json!({ "message": message }))
}

const USAGE_FORMAT: &str = "expected {\"model\": \"gemini-2.5-flash\", \"type\": \"input\"|\"output\", \"tokens\": 1000, \
     \"at\": RFC 3339 | \"from\" and \"to\": RFC 3339, \"replace\": bool, \"project\": id} or {\"clear\": true}";

/// The points a control request asks for: one minute ending at `at` (default now), or the
/// tokens spread evenly over hourly points from `from` to `to`.
fn requested_points(body: &Value, project: &str) -> Result<Vec<TokenUsagePoint>, String> {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or("model is missing")?;
    let token_type: TokenType = body
        .get("type")
        .cloned()
        .and_then(|t| serde_json::from_value(t).ok())
        .ok_or("type must be \"input\" or \"output\"")?;
    let tokens = body
        .get("tokens")
        .and_then(Value::as_i64)
        .filter(|t| *t >= 0)
        .ok_or("tokens must be a whole number >= 0")?;
    let time = |field: &str| -> Result<Option<i64>, String> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_str()
                .and_then(parse_time)
                .map(Some)
                .ok_or_else(|| format!("{field} must be an RFC 3339 time")),
        }
    };
    let spans: Vec<(i64, i64)> = match (time("at")?, time("from")?, time("to")?) {
        (at, None, None) => {
            let at = at.unwrap_or_else(crate::http_util::now_secs);
            vec![(at - 60, at)]
        }
        (None, Some(from), Some(to)) if to > from => (from..to)
            .step_by(3600)
            .map(|start| (start, (start + 3600).min(to)))
            .collect(),
        (None, Some(_), Some(_)) => return Err("to must be after from".into()),
        _ => return Err("give either at, or both from and to".into()),
    };
    let count = spans.len() as i64;
    Ok(spans
        .into_iter()
        .enumerate()
        .map(|(i, (start, end))| TokenUsagePoint {
            project: project.to_owned(),
            model: model.to_owned(),
            token_type,
            start,
            end,
            // The remainder goes to the first points, so the total is exact.
            tokens: tokens / count + i64::from((i as i64) < tokens % count),
        })
        .collect())
}

/// `POST /_emulator/monitoring/usage`: adds token usage (replacing that model's points of
/// that type with `"replace": true`), or drops all of a project's usage with `"clear": true`.
pub fn control(shared: &Shared, request: &Request) -> Response {
    let body = match request.json() {
        Ok(body) => body,
        Err(e) => return bad_request(&e),
    };
    let project = body
        .get("project")
        .and_then(Value::as_str)
        .unwrap_or(crate::fixtures::DEMO_PROJECT)
        .to_owned();
    let clear = body.get("clear").and_then(Value::as_bool) == Some(true);
    let added = if clear {
        Vec::new()
    } else {
        match requested_points(&body, &project) {
            Ok(points) => points,
            Err(e) => return bad_request(&format!("{e}; {USAGE_FORMAT}")),
        }
    };
    let replace = body.get("replace").and_then(Value::as_bool) == Some(true);
    shared.change(|state: &mut State| {
        if !state.google.projects.contains_key(&project) {
            return bad_request(&format!("no project {project}"));
        }
        let usage = &mut state.google.token_usage;
        if clear {
            usage.retain(|p| p.project != project);
        } else if let Some(first) = added.first().filter(|_| replace) {
            usage.retain(|p| {
                !(p.project == first.project
                    && p.model == first.model
                    && p.token_type == first.token_type)
            });
        }
        usage.extend(added);
        let points = usage.iter().filter(|p| p.project == project).count();
        json_response(200, &json!({ "project": project, "points": points }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_covers_the_month_so_far_and_is_the_same_every_time() {
        // 2026-03-03T12:00:00Z: two whole days and half of the third.
        let now = 1_772_539_200;
        let points = demo_usage("p", now);
        assert_eq!(points, demo_usage("p", now));
        assert_eq!(points.len(), 3 * 6);
        assert!(points.iter().all(|p| p.end <= now && p.tokens > 0));
        assert_eq!(points[0].start, 1_772_323_200, "2026-03-01T00:00:00Z");
        let today: i64 = points[12..].iter().map(|p| p.end - p.start).max().unwrap();
        assert_eq!(today, DAY / 2);
    }

    #[test]
    fn a_range_is_spread_over_hours_with_the_exact_total() {
        let body = json!({"model": "m", "type": "output", "tokens": 10,
            "from": "2026-03-01T00:00:00Z", "to": "2026-03-01T03:00:00Z"});
        let points = requested_points(&body, "p").unwrap();
        assert_eq!(
            points.iter().map(|p| p.tokens).collect::<Vec<_>>(),
            [4, 3, 3]
        );
        assert!(
            requested_points(&json!({"model": "m", "type": "both", "tokens": 1}), "p").is_err()
        );
    }
}
