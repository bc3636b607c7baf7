//! Slack incoming webhooks at `/slack/{name}`: records each message and answers as Slack does,
//! in plain text (`ok`, `invalid_payload`, `no_text`, `no_service`).

use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Value, json};

use crate::http_util::{Request, Response, empty_response, now_secs};
use crate::server::Shared;

fn text(status: u16, body: &'static str) -> Response {
    let mut response = empty_response(status);
    *response.body_mut() = Full::new(Bytes::from_static(body.as_bytes()));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `POST /slack/{name}`.
pub fn handle(shared: &Shared, request: &Request) -> Response {
    let segments = request.segments();
    let [_, name] = segments.as_slice() else {
        return text(404, "no_service");
    };
    if request.method != http::Method::POST {
        return text(405, "invalid_method");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return text(400, "invalid_payload");
    };
    let has_text = body
        .get("text")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    let has_blocks = body
        .get("blocks")
        .and_then(Value::as_array)
        .is_some_and(|b| !b.is_empty());
    if !has_text && !has_blocks {
        return text(400, "no_text");
    }
    shared.change(|state| match state.slack.webhooks.get_mut(*name) {
        Some(messages) => {
            messages.push(json!({
                "text": body.get("text").cloned().unwrap_or(Value::Null),
                "blocks": body.get("blocks").cloned().unwrap_or(Value::Null),
                "at": now_secs(),
            }));
            text(200, "ok")
        }
        None => text(404, "no_service"),
    })
}
