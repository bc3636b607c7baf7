//! The `secrets::` functions that move aliases and change version states: `set_alias`,
//! `disable`, `enable`, `destroy`. Registered into the `secrets` module.

use rhai::Dynamic;

use super::secrets::{client, remote, resolve};
use crate::engine::gate::{Change, ModuleBuilder, ParamType, Signature};

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
                    "point alias {alias} of {} at version {version}",
                    secret.name()
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
                    placeholder: "planned".into(),
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
