//! `notify::` — messages to Slack channels configured in `[notify.slack]` (their webhook URLs
//! are credentials, read from the environment), and plain JSON posts to hosts in
//! `[scope].http_hosts`. Messages are text the playbook built, so secrets in them are already
//! redacted; every string in the body is masked once more on the way out.
//!
//! The script sees only the status of a post (or an error naming the status): never anything
//! derived from the masked body, nor the remote's echo of it, which would tell it whether a
//! string it chose equals a held secret.

use rhai::Dynamic;

use crate::clients::retry::RetryPolicy;
use crate::clients::slack;
use crate::engine::RunContext;
use crate::engine::gate::{Args, Change, ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::engine::values::{render, to_json};
use crate::secret::mask::mask;

fn payload(args: &Args) -> Result<serde_json::Value, PrimitiveError> {
    let value = args.any(1)?;
    let mut payload = if let Ok(text) = value.as_immutable_string_ref() {
        serde_json::json!({"text": text.to_string()})
    } else if value.is_map() {
        to_json(value, "message").map_err(|e| PrimitiveError::new(e.to_string()))?
    } else {
        return Err(PrimitiveError::new(format!(
            "a message is a string or #{{text, blocks}}, found {}",
            value.type_name()
        )));
    };
    mask_strings(&mut payload);
    Ok(payload)
}

/// Masks every string (keys too) inside `value`, so the body stays well-formed JSON whatever
/// the mask replaces and nothing falls back to the unmasked text.
fn mask_strings(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(masked) = mask(text) {
                *text = masked;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_strings),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut inner) in entries {
                mask_strings(&mut inner);
                map.insert(mask(&key).into_owned(), inner);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The JSON body of `notify::post`, every string masked.
fn post_body(args: &Args) -> Result<serde_json::Value, PrimitiveError> {
    let mut body =
        to_json(&args.map(1)?.into(), "body").map_err(|e| PrimitiveError::new(e.to_string()))?;
    mask_strings(&mut body);
    Ok(body)
}

fn channel(args: &Args) -> Result<String, PrimitiveError> {
    let name = args.str(0)?.to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(PrimitiveError::new(format!(
            "expected a channel name, found '{name}'"
        )));
    }
    Ok(name)
}

fn send(context: &RunContext, args: &Args) -> Result<Dynamic, PrimitiveError> {
    let name = channel(args)?;
    let payload = payload(args)?;
    let webhook = context
        .remote()
        .slack_webhook(context.config(), context.fingerprint_key()?, &name)
        .map_err(PrimitiveError::new)?;
    let policy = RetryPolicy::from_limits(&context.config().limits);
    context
        .block_on(slack::post(
            &webhook,
            &payload,
            &policy,
            context.cancellation(),
        ))?
        .map_err(refused)?;
    Ok(Dynamic::UNIT)
}

/// A failed post as the script sees it: who answered and the status, nothing of the body.
fn refused(error: crate::clients::slack::SlackError) -> PrimitiveError {
    PrimitiveError::remote(
        error.to_string(),
        (error.status != 0).then_some(error.status),
    )
}

/// The `host[:port]` of an http(s) URL, if it is one.
fn host_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty() && !host.contains('@')).then_some(host)
}

/// `url` and its host, refused unless the host is in scope (or is the emulator under
/// `--emulate`).
fn checked_url(context: &RunContext, url: &str) -> Result<(String, String), PrimitiveError> {
    let host = host_of(url)
        .ok_or_else(|| PrimitiveError::new(format!("expected an http(s) URL, found '{url}'")))?;
    if let Some(emulator) = context.remote().emulator_url() {
        if host_of(emulator) != Some(host) {
            return Err(PrimitiveError::new(format!(
                "{host} is not the emulator: under --emulate nothing else can be reached"
            )));
        }
        return Ok((url.to_owned(), host.to_owned()));
    }
    if !context
        .config()
        .scope
        .http_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(host))
    {
        return Err(PrimitiveError::new(format!(
            "{host} is outside the scope: add \"{host}\" to [scope].http_hosts in orchestra.toml"
        )));
    }
    Ok((url.to_owned(), host.to_owned()))
}

/// Registers `notify::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.mutate(
        Signature {
            name: "slack",
            params: &[("channel", ParamType::Str), ("message", ParamType::Any)],
            returns: "()",
            doc: "Posts `message` (a string, or #{text, blocks}) to Slack channel `channel` of\n\
                  [notify.slack]. Slack's 429 Retry-After is waited out.",
        },
        |_, args| {
            let name = channel(args)?;
            let payload = payload(args)?;
            let text: Dynamic = payload["text"].as_str().unwrap_or("(blocks)").into();
            Ok(Change {
                target: format!("Slack channel {name}"),
                action: format!("post to Slack channel {name}"),
                fields: vec![("text".into(), render(&text))],
                placeholder: Dynamic::UNIT,
            })
        },
        |context, args, _| send(context, args),
    );
    module.mutate(
        Signature {
            name: "post",
            params: &[("url", ParamType::Str), ("body", ParamType::Map)],
            returns: "int",
            doc: "POSTs `body` as JSON to `url`, whose host must be in [scope].http_hosts; the status.\n\
                  Only a 429 with Retry-After is retried (a POST may not be safe to repeat).",
        },
        |context, args| {
            let (url, _) = checked_url(context, &args.str(0)?)?;
            let body = post_body(args)?;
            Ok(Change {
                target: url.clone(),
                action: format!("POST to {url}"),
                fields: vec![("body".into(), body.to_string())],
                placeholder: Dynamic::from_int(0),
            })
        },
        |context, args, _| {
            let (url, host) = checked_url(context, &args.str(0)?)?;
            let body = post_body(args)?;
            let policy = RetryPolicy::from_limits(&context.config().limits);
            let status = context
                .block_on(slack::post_json(&host, &url, &body, &policy, context.cancellation()))?
                .map_err(refused)?;
            Ok(Dynamic::from_int(i64::from(status)))
        },
    );
    super::alerts::register(module)
}
