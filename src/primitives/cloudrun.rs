//! `cloudrun::` — what a Cloud Run service is now (Admin API v2): ready or not and why, its
//! URL, CPU and memory, instance bounds and request concurrency. Reads only: real under
//! `--plan` too. The project is `[gcp].project` (the demo one under `--emulate`) and must be in
//! `[scope].gcp_projects`; the region defaults to `[cloud_run].region`, the service to
//! `[cloud_run].service`. `cloudrun::serves` probes the service's URL (see `http::probe`).

use std::sync::Arc;

use rhai::{Array, Dynamic, Map};

use crate::clients::run::{CloudRun, CloudRunService, Condition};
use crate::engine::RunContext;
use crate::engine::gate::{ModuleBuilder, ParamType, PrimitiveError, Signature};

/// A Cloud Run service name: lowercase letters, digits and hyphens, starting with a letter, not
/// ending with a hyphen, at most 49 characters.
fn checked_name(name: &str) -> Result<String, PrimitiveError> {
    let valid = name.len() <= 49
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(name.to_owned())
    } else {
        Err(PrimitiveError::new(format!(
            "expected a Cloud Run service name (lowercase letters, digits and hyphens, starting with a letter, at most 49), found '{name}'"
        )))
    }
}

/// A region such as `europe-west1` (`-` for every region where `any` allows it).
fn checked_region(region: &str, any: bool) -> Result<String, PrimitiveError> {
    let valid = (any && region == "-")
        || (region.contains('-')
            && region.starts_with(|c: char| c.is_ascii_lowercase())
            && region.ends_with(|c: char| c.is_ascii_digit())
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    if valid {
        Ok(region.to_owned())
    } else {
        Err(PrimitiveError::new(format!(
            "expected a region such as europe-west1, found '{region}'"
        )))
    }
}

/// The region given, else `[cloud_run].region`.
fn region_or_default(
    context: &RunContext,
    given: Option<&str>,
    any: bool,
) -> Result<String, PrimitiveError> {
    let region = match given {
        Some(region) => region,
        None => context
            .config()
            .cloud_run
            .region
            .as_deref()
            .ok_or_else(|| {
                PrimitiveError::new(
                    "no region: pass one or set [cloud_run].region in orchestra.toml",
                )
            })?,
    };
    checked_region(region, any)
}

/// The project Cloud Run is read in, scope-checked.
fn project(context: &RunContext) -> Result<String, PrimitiveError> {
    let project = context
        .remote()
        .default_project(context.config())
        .ok_or_else(|| PrimitiveError::new("no project: set [gcp].project in orchestra.toml"))?;
    super::secrets::check_project(context, &project)?;
    Ok(project)
}

fn client(context: &RunContext) -> Result<Arc<CloudRun>, PrimitiveError> {
    context
        .remote()
        .cloud_run(context.config(), context.cancellation())
        .map_err(PrimitiveError::new)
}

fn text_or_unit(value: &Option<String>) -> Dynamic {
    value.clone().map_or(Dynamic::UNIT, Dynamic::from)
}

fn condition_map(condition: &Condition) -> Dynamic {
    let mut map = Map::new();
    map.insert("type".into(), condition.kind.clone().into());
    map.insert("state".into(), condition.state.clone().into());
    map.insert("reason".into(), condition.reason.clone().into());
    map.insert("message".into(), condition.message.clone().into());
    map.into()
}

/// A service as the script sees it.
fn service_map(project: &str, service: &CloudRunService) -> Map {
    let mut map = Map::new();
    let short = service.name.rsplit('/').next().unwrap_or_default();
    map.insert("name".into(), short.to_owned().into());
    map.insert("project".into(), project.to_owned().into());
    map.insert("region".into(), service.region.clone().into());
    map.insert("ready".into(), service.ready.into());
    map.insert("reconciling".into(), service.reconciling.into());
    map.insert("url".into(), service.url.clone().into());
    map.insert("image".into(), service.image.clone().into());
    map.insert("cpu".into(), text_or_unit(&service.cpu));
    map.insert("memory".into(), text_or_unit(&service.memory));
    map.insert("min_instances".into(), service.min_instances.into());
    map.insert(
        "max_instances".into(),
        service.max_instances.map_or(Dynamic::UNIT, Dynamic::from),
    );
    map.insert(
        "concurrency".into(),
        service.concurrency.map_or(Dynamic::UNIT, Dynamic::from),
    );
    map.insert("status".into(), service.terminal.state.clone().into());
    map.insert("message".into(), service.terminal.message.clone().into());
    let conditions: Array = std::iter::once(&service.terminal)
        .chain(&service.conditions)
        .map(condition_map)
        .collect();
    map.insert("conditions".into(), conditions.into());
    map.insert(
        "revision".into(),
        service.latest_ready_revision.clone().into(),
    );
    map.insert("generation".into(), service.generation.into());
    map.insert("etag".into(), service.etag.clone().into());
    map
}

fn read_service(context: &RunContext, name: &str, region: &str) -> Result<Dynamic, PrimitiveError> {
    let project = project(context)?;
    let found = context
        .block_on(client(context)?.service(&project, region, name))?
        .map_err(super::wif::remote)?;
    Ok(found.map_or(Dynamic::UNIT, |s| service_map(&project, &s).into()))
}

const SERVICE_DOC: &str = "#{name, project, region, ready, reconciling, url, image, cpu, memory,\n\
     min_instances, max_instances, concurrency, status, message, conditions: [#{type, state,\n\
     reason, message}], revision, generation, etag}; () when there is no such service. ready is\n\
     true when the Ready condition succeeded and no change is rolling out; cpu, memory,\n\
     max_instances and concurrency are () when unset.";

/// What the URL of service `name` answers (the URL the Cloud Run API returned for the in-scope
/// project, so it needs no `[scope].http_hosts` entry); () when there is no such service.
fn serves(context: &RunContext, name: &str) -> Result<Dynamic, PrimitiveError> {
    let project = project(context)?;
    let region = region_or_default(context, None, false)?;
    let found = context
        .block_on(client(context)?.service(&project, &region, name))?
        .map_err(super::wif::remote)?;
    let Some(service) = found else {
        return Ok(Dynamic::UNIT);
    };
    if service.url.is_empty() {
        return Err(PrimitiveError::new(format!(
            "Cloud Run service {name} has no URL yet: nothing to probe"
        )));
    }
    let target = super::http_probe::parse_target(&service.url)?;
    super::http_probe::check_scope(context, &target, true)?;
    super::http_probe::probe_map(context, &target)
}

/// Registers `cloudrun::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.read(
        Signature {
            name: "service",
            params: &[],
            returns: "map",
            doc: "The Cloud Run service of [cloud_run].service in [cloud_run].region, as\n\
                  cloudrun::service(name, region) gives it.",
        },
        |_| "the [cloud_run] service".into(),
        |context, _| {
            let name = context.config().cloud_run.service.clone().ok_or_else(|| {
                PrimitiveError::new("no service: set [cloud_run].service in orchestra.toml")
            })?;
            let name = checked_name(&name)?;
            read_service(context, &name, &region_or_default(context, None, false)?)
        },
    );
    module.read(
        Signature {
            name: "service",
            params: &[("name", ParamType::Str)],
            returns: "map",
            doc: "Cloud Run service `name` in [cloud_run].region, as cloudrun::service(name, region).",
        },
        |args| args.str(0).map(|n| format!("Cloud Run service {n}")).unwrap_or_default(),
        |context, args| {
            let name = checked_name(&args.str(0)?)?;
            read_service(context, &name, &region_or_default(context, None, false)?)
        },
    );
    module.read(
        Signature {
            name: "service",
            params: &[("name", ParamType::Str), ("region", ParamType::Str)],
            returns: "map",
            doc: SERVICE_DOC,
        },
        |args| {
            args.str(0)
                .map(|n| format!("Cloud Run service {n}"))
                .unwrap_or_default()
        },
        |context, args| {
            let name = checked_name(&args.str(0)?)?;
            let region = region_or_default(context, Some(&args.str(1)?), false)?;
            read_service(context, &name, &region)
        },
    );
    module.read(
        Signature {
            name: "serves",
            params: &[],
            returns: "map",
            doc: "What the URL of the [cloud_run] service answers, as http::probe gives it (the\n\
                  URL is Cloud Run's own, so it needs no [scope].http_hosts entry); () when\n\
                  there is no such service.",
        },
        |_| "whether the [cloud_run] service serves its URL".into(),
        |context, _| {
            let name = context.config().cloud_run.service.clone().ok_or_else(|| {
                PrimitiveError::new("no service: set [cloud_run].service in orchestra.toml")
            })?;
            serves(context, &checked_name(&name)?)
        },
    );
    module.read(
        Signature {
            name: "serves",
            params: &[("name", ParamType::Str)],
            returns: "map",
            doc: "What the URL of Cloud Run service `name` in [cloud_run].region answers, as\n\
                  http::probe gives it; () when there is no such service.",
        },
        |args| {
            args.str(0)
                .map(|n| format!("whether Cloud Run service {n} serves its URL"))
                .unwrap_or_default()
        },
        |context, args| serves(context, &checked_name(&args.str(0)?)?),
    );
    module.read(
        Signature {
            name: "services",
            params: &[("region", ParamType::Str)],
            returns: "array",
            doc: "Every Cloud Run service in `region` (\"-\": every region), each as\n\
                  cloudrun::service gives it.",
        },
        |args| {
            args.str(0)
                .map(|r| format!("Cloud Run services in {r}"))
                .unwrap_or_default()
        },
        |context, args| {
            let region = region_or_default(context, Some(&args.str(0)?), true)?;
            let project = project(context)?;
            let services = context
                .block_on(client(context)?.services(&project, &region))?
                .map_err(super::wif::remote)?;
            Ok(services
                .iter()
                .map(|s| Dynamic::from(service_map(&project, s)))
                .collect::<Array>()
                .into())
        },
    );
    module
}

#[cfg(test)]
mod tests {
    use super::{checked_name, checked_region};

    #[test]
    fn names_and_regions_are_checked_before_any_request() {
        assert!(checked_name("api").is_ok());
        assert!(checked_name("api-2").is_ok());
        for bad in ["", "Api", "2api", "api-", "a/b", &"a".repeat(50)] {
            assert!(checked_name(bad).is_err(), "{bad}");
        }
        assert!(checked_region("europe-west1", false).is_ok());
        assert!(checked_region("-", true).is_ok());
        for bad in ["-", "europe", "Europe-West1", "eu/west"] {
            assert!(checked_region(bad, false).is_err(), "{bad}");
        }
    }
}
