//! `notify::` — messages to Slack channels configured in `[notify.slack]` (their webhook URLs
//! are credentials, read from the environment), and plain JSON posts to hosts in
//! `[scope].http_hosts`. Messages are text the playbook built, so secrets in them are already
//! redacted; the redaction layer masks them once more on the way out.

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
    // Mask anything a secret left in the text before it leaves the process.
    let masked = mask(&payload.to_string()).into_owned();
    payload = serde_json::from_str(&masked).unwrap_or(payload);
    Ok(payload)
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
        .map_err(|e| PrimitiveError::remote(e.to_string(), (e.status != 0).then_some(e.status)))?;
    Ok(Dynamic::UNIT)
}

/// The `host[:port]` of an http(s) URL, if it is one.
fn host_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty() && !host.contains('@')).then_some(host)
}

fn checked_url(context: &RunContext, url: &str) -> Result<String, PrimitiveError> {
    let host = host_of(url)
        .ok_or_else(|| PrimitiveError::new(format!("expected an http(s) URL, found '{url}'")))?;
    if let Some(emulator) = context.remote().emulator_url() {
        if host_of(emulator) != Some(host) {
            return Err(PrimitiveError::new(format!(
                "{host} is not the emulator: under --emulate nothing else can be reached"
            )));
        }
        return Ok(url.to_owned());
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
    Ok(url.to_owned())
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
            let url = checked_url(context, &args.str(0)?)?;
            let body = to_json(&args.map(1)?.into(), "body").map_err(|e| PrimitiveError::new(e.to_string()))?;
            Ok(Change {
                target: url.clone(),
                action: format!("POST to {url}"),
                fields: vec![("body".into(), mask(&body.to_string()).into_owned())],
                placeholder: Dynamic::from_int(0),
            })
        },
        |context, args, _| {
            let url = checked_url(context, &args.str(0)?)?;
            let body = to_json(&args.map(1)?.into(), "body").map_err(|e| PrimitiveError::new(e.to_string()))?;
            let body: serde_json::Value =
                serde_json::from_str(&mask(&body.to_string())).unwrap_or(body);
            let policy = RetryPolicy::from_limits(&context.config().limits);
            let status = context
                .block_on(slack::post_json(&url, &body, &policy, context.cancellation()))?
                .map_err(|e| PrimitiveError::remote(e.to_string(), (e.status != 0).then_some(e.status)))?;
            Ok(Dynamic::from_int(i64::from(status)))
        },
    );
    super::alerts::register(module)
}
