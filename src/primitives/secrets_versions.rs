//! The `secrets::` functions that move aliases and change version states: `set_alias`,
//! `disable`, `enable`, `destroy`. Registered into the `secrets` module.

use rhai::Dynamic;

use super::secrets::{client, remote, resolve};
use crate::engine::gate::{Change, ModuleBuilder, ParamType, Placeholder, Signature};

/// Registers the alias and version-state functions of `secrets::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.mutate(
        Signature {
            name: "set_alias",
            params: &[
                ("secret", ParamType::Str),
                ("alias", ParamType::Str),
                ("version", ParamType::Int),
            ],
            returns: "()",
            doc: "Points `alias` (e.g. \"current\") of `secret` at version number `version`.",
        },
        |context, args| {
            let secret = resolve(context, &args.str(0)?)?;
            let alias = args.str(1)?;
            let version = args.int(2)?;
            Ok(Change {
                target: format!("Secret Manager secret {}", secret.name()),
                action: format!(
                    "point alias {alias} of {} at {}",
                    secret.name(),
                    version_phrase(version, context.is_plan())
                ),
                fields: Vec::new(),
                placeholder: Dynamic::UNIT,
            })
        },
        |context, args, _| {
            let secret = resolve(context, &args.str(0)?)?;
            let sm = client(context)?;
            context
                .block_on(sm.set_alias(&secret.name(), &args.str(1)?, args.int(2)?))?
                .map_err(remote)?;
            Ok(Dynamic::UNIT)
        },
    );
    for (name, doc) in [
        (
            "disable",
            "Disables version `version` of `secret` (it can no longer be read; enable undoes it).",
        ),
        ("enable", "Enables a disabled version of `secret`."),
        (
            "destroy",
            "Destroys version `version` of `secret` for good (its payload is gone).",
        ),
    ] {
        module.mutate(
            Signature {
                name,
                params: &[("secret", ParamType::Str), ("version", ParamType::Int)],
                returns: "string",
                doc,
            },
            move |context, args| {
                let secret = resolve(context, &args.str(0)?)?;
                let version = args.int(1)?;
                Ok(Change {
                    target: format!("{}/versions/{version}", secret.name()),
                    action: format!("{name} {}/versions/{version}", secret.name()),
                    fields: Vec::new(),
                    placeholder: Placeholder::VersionState.value(),
                })
            },
            move |context, args, _| {
                let secret = resolve(context, &args.str(0)?)?;
                let sm = client(context)?;
                let state = context
                    .block_on(sm.change_state(&secret.version(&args.int(1)?.to_string()), name))?
                    .map_err(remote)?;
                Ok(state.into())
            },
        );
    }
    module
}

/// The version a plan's `add_version` answers: no real version has this number (Secret
/// Manager counts from 1), so a plan knows it stands for the version the run would add.
pub(super) const PLANNED_VERSION: i64 = 0;

/// "version 7", or, for [`PLANNED_VERSION`] under a plan, what it stands for.
fn version_phrase(version: i64, is_plan: bool) -> String {
    if is_plan && version == PLANNED_VERSION {
        "the version this run adds".to_owned()
    } else {
        format!("version {version}")
    }
}
