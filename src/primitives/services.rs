//! `services::` — Service Usage: which APIs a project has enabled, and enabling one (its
//! long-running operation polled to done). The project must be in `[scope].gcp_projects`.

use rhai::{Array, Dynamic};

use super::wif::{client, project_arg, remote};
use crate::engine::gate::{Change, ModuleBuilder, ParamType, PrimitiveError, Signature};

/// A service name such as `iamcredentials.googleapis.com`: a DNS name of lowercase labels.
fn checked_service(name: &str) -> Result<String, PrimitiveError> {
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    if labels_ok && name.contains('.') && name.len() <= 253 {
        Ok(name.to_owned())
    } else {
        Err(PrimitiveError::new(format!(
            "expected a service name such as iamcredentials.googleapis.com, found '{name}'"
        )))
    }
}

/// Registers `services::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.read(
        Signature {
            name: "enabled",
            params: &[("project", ParamType::Str)],
            returns: "array",
            doc: "The services enabled in `project`: [\"iamcredentials.googleapis.com\", …].",
        },
        |args| {
            args.str(0)
                .map(|p| format!("services of {p}"))
                .unwrap_or_default()
        },
        |context, args| {
            let project = project_arg(context, args, 0)?;
            let names = context
                .block_on(client(context)?.enabled_services(&project))?
                .map_err(remote)?;
            Ok(names
                .into_iter()
                .map(Dynamic::from)
                .collect::<Array>()
                .into())
        },
    );
    module.mutate(
        Signature {
            name: "enable",
            params: &[("project", ParamType::Str), ("name", ParamType::Str)],
            returns: "()",
            doc: "Enables service `name` in `project` (harmless when it is enabled already).",
        },
        |context, args| {
            let project = project_arg(context, args, 0)?;
            let name = checked_service(&args.str(1)?)?;
            Ok(Change {
                target: format!("service {name} of {project}"),
                action: format!("enable {name} in {project}"),
                fields: Vec::new(),
                placeholder: Dynamic::UNIT,
            })
        },
        |context, args, _| {
            let project = project_arg(context, args, 0)?;
            let name = checked_service(&args.str(1)?)?;
            context
                .block_on(client(context)?.enable_service(&project, &name))?
                .map_err(remote)?;
            Ok(Dynamic::UNIT)
        },
    );
    module
}
