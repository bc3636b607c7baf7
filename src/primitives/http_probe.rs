//! `http::` — whether a URL answers: `http::probe(url)` GETs it once (no credentials, no
//! redirect followed, a short time-out) and gives its status, latency and a short reason.
//! A read: it runs under `--plan` too. The host must be in `[scope].http_hosts` (under
//! `--emulate`, the emulator's own host and nothing else); anything else is refused before
//! any request leaves. `cloudrun::serves` probes the URL Cloud Run itself returned.

use rhai::{Dynamic, Map};

use crate::clients::probe::{PROBE_TIMEOUT, ProbeAnswer, probe};
use crate::engine::RunContext;
use crate::engine::gate::{ModuleBuilder, ParamType, PrimitiveError, Signature};

/// A URL fit to probe: http(s), a host, no user or password, no fragment.
pub struct ProbeTarget {
    url: String,
    /// `host[:port]`, as `[scope].http_hosts` lists it.
    authority: String,
}

/// `url` parsed and checked for its shape (not yet for its scope).
pub fn parse_target(url: &str) -> Result<ProbeTarget, PrimitiveError> {
    let expected = || PrimitiveError::new(format!("expected an http(s) URL, found '{url}'"));
    let parsed = reqwest::Url::parse(url).map_err(|_| expected())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(expected());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(PrimitiveError::new(
            "a probed URL carries no user or password: a probe sends no credentials",
        ));
    }
    if parsed.fragment().is_some() {
        return Err(PrimitiveError::new(format!(
            "a probed URL has no #fragment, found '{url}'"
        )));
    }
    let host = parsed.host_str().ok_or_else(expected)?;
    let authority = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    Ok(ProbeTarget {
        url: parsed.into(),
        authority,
    })
}

/// Refuses `target` unless its host is the emulator's under `--emulate`, or (otherwise) in
/// `[scope].http_hosts`, or `trusted` (a URL the Cloud Run API returned for an in-scope project).
pub fn check_scope(
    context: &RunContext,
    target: &ProbeTarget,
    trusted: bool,
) -> Result<(), PrimitiveError> {
    let host = &target.authority;
    if let Some(emulator) = context.remote().emulator_url() {
        let emulator = parse_target(emulator)?;
        if !emulator.authority.eq_ignore_ascii_case(host) {
            return Err(PrimitiveError::new(format!(
                "{host} is not the emulator: under --emulate nothing else can be reached"
            )));
        }
        return Ok(());
    }
    let listed = context
        .config()
        .scope
        .http_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(host));
    if trusted || listed {
        Ok(())
    } else {
        Err(PrimitiveError::new(format!(
            "{host} is outside the scope: add \"{host}\" to [scope].http_hosts in orchestra.toml"
        )))
    }
}

/// What `target` answers, as the script sees it.
pub fn probe_map(context: &RunContext, target: &ProbeTarget) -> Result<Dynamic, PrimitiveError> {
    let answer = context
        .block_on(probe(&target.url, &target.authority, PROBE_TIMEOUT))?
        .map_err(PrimitiveError::new)?;
    Ok(answer_map(&target.url, &answer).into())
}

/// `#{url, status, answers, latency_ms, reason}`.
pub fn answer_map(url: &str, answer: &ProbeAnswer) -> Map {
    let mut map = Map::new();
    map.insert("url".into(), url.to_owned().into());
    map.insert("status".into(), Dynamic::from_int(i64::from(answer.status)));
    map.insert("answers".into(), answer.answers().into());
    map.insert(
        "latency_ms".into(),
        Dynamic::from_int(i64::try_from(answer.latency_ms).unwrap_or(i64::MAX)),
    );
    map.insert("reason".into(), answer.reason.clone().into());
    map
}

/// Registers `http::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.read(
        Signature {
            name: "probe",
            params: &[("url", ParamType::Str)],
            returns: "map",
            doc: "GETs `url` once, without credentials; its host must be in [scope].http_hosts.\n\
                  Gives #{url, status, answers, latency_ms, reason}: status 0 (and reason\n\
                  naming the host) when it refused or did not answer within 5 s; answers is\n\
                  true for a 2xx. A redirect is an error naming where it pointed.",
        },
        |args| {
            args.str(0)
                .map(|url| format!("probe {url}"))
                .unwrap_or_default()
        },
        |context, args| {
            let target = parse_target(&args.str(0)?)?;
            check_scope(context, &target, false)?;
            probe_map(context, &target)
        },
    );
    module
}

#[cfg(test)]
mod tests {
    use super::parse_target;

    #[test]
    fn only_plain_http_urls_are_probed() {
        let target = parse_target("http://127.0.0.1:8080/health").unwrap();
        assert_eq!(target.authority, "127.0.0.1:8080");
        assert_eq!(
            parse_target("https://api.example.com").unwrap().authority,
            "api.example.com"
        );
        for bad in [
            "",
            "ftp://example.com",
            "example.com",
            "http://user:pw@example.com/",
            "http://example.com/#x",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }
}
