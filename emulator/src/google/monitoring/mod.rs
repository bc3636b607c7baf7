//! Cloud Monitoring v3, the one method a spend watcher needs: `GET
//! /v3/projects/{project}/timeSeries` over the Vertex AI token-count metric, with its filter,
//! interval, alignment, cross-series reduction, grouping and paging. With nothing matching
//! the answer is `{}`: no `timeSeries` key, as Google answers.

mod query;
mod series;
pub mod usage;

use serde_json::json;

use crate::http_util::{GoogleCode, Request, Response, google_error, json_response, page};
use crate::server::Shared;

/// Routes the segments after `v3`.
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Response {
    match segments {
        ["projects", project, "timeSeries"] if request.method == http::Method::GET => {
            list(shared, request, project)
        }
        _ => google_error(
            GoogleCode::NotFound,
            &format!("no such method: {}", request.path),
        ),
    }
}

fn list(shared: &Shared, request: &Request, project: &str) -> Response {
    let query = match query::Query::parse(request) {
        Ok(query) => query,
        Err(response) => return response,
    };
    let state = shared.state();
    let Some((id, number)) = super::project(&state, project) else {
        return google_error(
            GoogleCode::NotFound,
            &format!("Project {project} not found or permission denied."),
        );
    };
    let selected = series::select(&state.google.token_usage, &id, number, &query);
    drop(state);
    let all = series::aggregate(selected, &query);
    let (items, next) = page(&all, request);
    if items.is_empty() {
        return json_response(200, &json!({}));
    }
    let mut body = json!({
        "timeSeries": items.iter().map(|s| series::to_json(s, &query)).collect::<Vec<_>>(),
        "unit": "1",
    });
    if let Some(next) = next {
        body["nextPageToken"] = json!(next);
    }
    json_response(200, &body)
}
