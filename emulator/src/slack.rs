//! Slack incoming webhooks: named ones at `/slack/{name}`, and Slack-shaped ones at
//! `/services/T…/B…/…` (made with `POST /_emulator/slack/webhooks`). Each records the messages
//! it accepts and answers as Slack documents it, in plain text: `ok`, or an error code with
//! its status ("Sending messages using incoming webhooks", Handling errors; Slack changelog
//! 2016-05-17, "Improving error conditions for Incoming Webhooks").
//!
//! The hook is checked before the payload, as Slack does: a request with an empty payload to a
//! live hook answers `400 no_text` without posting, to a removed one `403 invalid_token`, to
//! one that never existed `404 no_service`, to one whose channel is archived
//! `410 channel_is_archived`.
//!
//! Accepted message forms: a JSON body (`application/json`, or no content type) or a
//! form-encoded body with the JSON in `payload=`; a message needs a non-empty `text`, a
//! non-empty `blocks` array, or `attachments` each with `text`, `fallback` or `blocks`.

use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Value, json};

use crate::http_util::{Request, Response, empty_response, json_response, now_secs};
use crate::server::Shared;

/// Slack's limit on attachments per message.
const MAX_ATTACHMENTS: usize = 100;

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
    post(shared, request, name)
}

/// `POST /services/{team}/{bot}/{secret}`: the path Slack's webhook URLs have.
pub fn handle_services(shared: &Shared, request: &Request) -> Response {
    let segments = request.segments();
    let [_, team, bot, secret] = segments.as_slice() else {
        return text(404, "no_service");
    };
    if !team.starts_with('T') {
        return text(404, "no_team");
    }
    if !bot.starts_with('B') {
        return text(400, "no_service_id");
    }
    let path = format!("{team}/{bot}/{secret}");
    let name = {
        let state = shared.state();
        if state.slack.revoked.contains(&path) {
            return text(403, "invalid_token");
        }
        match state.slack.hooks.get(&path) {
            Some(name) => name.clone(),
            None => return text(404, "no_service"),
        }
    };
    post(shared, request, &name)
}

fn post(shared: &Shared, request: &Request, name: &str) -> Response {
    if request.method != http::Method::POST {
        return text(405, "invalid_method");
    }
    {
        let state = shared.state();
        if !state.slack.webhooks.contains_key(name) {
            return text(404, "no_service");
        }
        if state.slack.archived.contains(name) {
            return text(410, "channel_is_archived");
        }
    }
    let body = match payload(request) {
        Ok(body) => body,
        Err(code) => return text(400, code),
    };
    if let Err((status, code)) = check_message(&body) {
        return text(status, code);
    }
    shared.change(|state| match state.slack.webhooks.get_mut(name) {
        Some(messages) => {
            messages.push(json!({
                "text": body.get("text").cloned().unwrap_or(Value::Null),
                "blocks": body.get("blocks").cloned().unwrap_or(Value::Null),
                "attachments": body.get("attachments").cloned().unwrap_or(Value::Null),
                "at": now_secs(),
            }));
            text(200, "ok")
        }
        None => text(404, "no_service"),
    })
}

/// The message JSON, from a JSON body or a form's `payload=` field.
fn payload(request: &Request) -> Result<Value, &'static str> {
    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let json_bytes = if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs = crate::http_util::decode_pairs(&request.body);
        let Some((_, value)) = pairs.into_iter().find(|(k, _)| k == "payload") else {
            return Err("invalid_payload");
        };
        value.into_bytes()
    } else {
        request.body.to_vec()
    };
    match serde_json::from_slice::<Value>(&json_bytes) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err("invalid_payload"),
    }
}

/// Whether `body` is a message Slack would post: `Err((status, code))` when not.
fn check_message(body: &Value) -> Result<(), (u16, &'static str)> {
    let has_text = body
        .get("text")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    let blocks = match body.get("blocks") {
        None | Some(Value::Null) => 0,
        Some(Value::Array(blocks)) => {
            if blocks
                .iter()
                .any(|b| b.get("type").and_then(Value::as_str).is_none())
            {
                return Err((400, "invalid_blocks"));
            }
            blocks.len()
        }
        Some(_) => return Err((400, "invalid_blocks_format")),
    };
    let attachments = match body.get("attachments") {
        None | Some(Value::Null) => 0,
        Some(Value::Array(items)) => {
            if items.len() > MAX_ATTACHMENTS {
                return Err((400, "too_many_attachments"));
            }
            let complete = items.iter().all(|a| {
                ["text", "fallback", "blocks"]
                    .iter()
                    .any(|field| a.get(field).is_some_and(|v| !v.is_null()))
            });
            if !complete && !has_text {
                return Err((400, "missing_text_or_fallback_or_attachments"));
            }
            items.len()
        }
        Some(_) => return Err((400, "invalid_payload")),
    };
    if !has_text && blocks == 0 && attachments == 0 {
        return Err((400, "no_text"));
    }
    Ok(())
}

/// `POST /_emulator/slack/webhooks {"name": N, "archived": false}`: a Slack-shaped webhook for
/// channel `N` (made if missing): `{name, url, slack_url}`, `url` on this emulator and
/// `slack_url` the same path on hooks.slack.com (what a user would have pasted into code).
pub fn create_hook(shared: &Shared, request: &Request) -> Response {
    let body = request.json().unwrap_or_default();
    let Some(name) = body.get("name").and_then(Value::as_str).map(str::to_owned) else {
        return json_response(400, &json!({"message": "name is required"}));
    };
    let archived = body
        .get("archived")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let path = format!(
        "T{}/B{}/{}",
        upper_alnum(10),
        upper_alnum(10),
        mixed_alnum(24)
    );
    shared.change(|state| {
        state.slack.webhooks.entry(name.clone()).or_default();
        state.slack.hooks.insert(path.clone(), name.clone());
        if archived {
            state.slack.archived.insert(name.clone());
        }
    });
    json_response(
        200,
        &json!({
            "name": name,
            "url": format!("{}/services/{path}", request.base),
            "slack_url": format!("https://hooks.slack.com/services/{path}"),
        }),
    )
}

/// `DELETE /_emulator/slack/webhooks/{name}`: removes every Slack-shaped hook of channel
/// `name`; they answer `403 invalid_token` from then on.
pub fn remove_hooks(shared: &Shared, name: &str) -> Response {
    let removed = shared.change(|state| {
        let paths: Vec<String> = state
            .slack
            .hooks
            .iter()
            .filter(|(_, n)| n.as_str() == name)
            .map(|(p, _)| p.clone())
            .collect();
        for path in &paths {
            state.slack.hooks.remove(path);
            state.slack.revoked.insert(path.clone());
        }
        paths.len()
    });
    json_response(200, &json!({"removed": removed}))
}

fn random_from(alphabet: &[u8], count: usize) -> String {
    let mut bytes = vec![0u8; count];
    let _ = getrandom::fill(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
        .collect()
}

fn upper_alnum(count: usize) -> String {
    random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", count)
}

fn mixed_alnum(count: usize) -> String {
    random_from(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        count,
    )
}

#[cfg(test)]
mod tests {
    use super::check_message;
    use serde_json::json;

    #[test]
    fn a_message_needs_text_blocks_or_complete_attachments() {
        assert_eq!(check_message(&json!({})), Err((400, "no_text")));
        assert_eq!(check_message(&json!({"text": ""})), Err((400, "no_text")));
        assert!(check_message(&json!({"text": "hi"})).is_ok());
        assert!(check_message(&json!({"blocks": [{"type": "divider"}]})).is_ok());
        assert_eq!(
            check_message(&json!({"blocks": "x"})),
            Err((400, "invalid_blocks_format"))
        );
        assert!(check_message(&json!({"attachments": [{"fallback": "f"}]})).is_ok());
        assert_eq!(
            check_message(&json!({"attachments": [{"color": "good"}]})),
            Err((400, "missing_text_or_fallback_or_attachments"))
        );
    }
}
