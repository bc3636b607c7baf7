//! `config::` — what a playbook may know of its configuration: where it runs
//! (`config::environment()`) and the URL of a named endpoint for the profile in use
//! (`config::endpoint(name)`). Local: no request leaves.

use rhai::{Array, Dynamic, Map};

use crate::engine::gate::{ModuleBuilder, ParamType, PrimitiveError, Signature};

/// Registers `config::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "environment",
            params: &[],
            returns: "map",
            doc: "Where orchestra runs: #{name (\"local\", \"github-actions\", \"cloud-run\",\n\
                  \"cloud-run-job\", \"codespaces\", \"cloud-workstations\", \"cloud-shell\", or\n\
                  ORCHESTRA_ENV's), signals: [what decided it], profile (the [profiles.NAME] in use,\n\
                  or ())}.",
        },
        |context, _| {
            let config = context.config();
            let mut map = Map::new();
            map.insert("name".into(), config.environment.name.clone().into());
            let signals: Array = config
                .environment
                .signals
                .iter()
                .map(|s| Dynamic::from(s.clone()))
                .collect();
            map.insert("signals".into(), signals.into());
            map.insert(
                "profile".into(),
                config
                    .profile
                    .clone()
                    .map_or(Dynamic::UNIT, Dynamic::from),
            );
            Ok(map.into())
        },
    );
    module.local(
        Signature {
            name: "endpoint",
            params: &[("name", ParamType::Str)],
            returns: "string",
            doc: "The URL of [endpoints.NAME] for the profile in use, else for the environment,\n\
                  else its `default`; an error naming the section when there is none.",
        },
        |context, args| {
            let name = args.str(0)?;
            context
                .config()
                .endpoint(&name)
                .map(|url| Dynamic::from(url.to_owned()))
                .map_err(PrimitiveError::new)
        },
    );
    module
}
