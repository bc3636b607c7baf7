//! `github::` Actions variables: list, read, set (create or update), delete, at `owner/repo`,
//! `owner/repo:environment` or `org:NAME`. Variables are not secret: a value is shown in
//! plans and read back to check it. Names follow GitHub's rules (those of secrets).

use rhai::{Dynamic, Map};

use super::github::{check_path, client, parse_target, remote};
use crate::clients::github::{SecretName, SecretScope, VariableWrite, variables_path};
use crate::engine::RunContext;
use crate::engine::gate::{Change, ModuleBuilder, ParamType, PrimitiveError, Signature};

fn scoped(context: &RunContext, text: &str) -> Result<SecretScope, PrimitiveError> {
    let scope = parse_target(text)?;
    check_path(context.config(), &variables_path(&scope))?;
    Ok(scope)
}

fn variable_name(text: &str) -> Result<String, PrimitiveError> {
    SecretName::parse(text)
        .map(|n| n.as_str().to_ascii_uppercase())
        .map_err(|e| PrimitiveError::new(e.to_string().replace("secret", "variable")))
}

/// Registers the Actions-variable primitives of `github::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.read(
        Signature {
            name: "variables",
            params: &[("target", ParamType::Str)],
            returns: "map",
            doc: "The Actions variables at `target`: #{NAME: value}.",
        },
        |args| {
            args.str(0)
                .map(|t| format!("variables of {t}"))
                .unwrap_or_default()
        },
        |context, args| {
            let scope = scoped(context, &args.str(0)?)?;
            let github = client(context)?;
            let list = context
                .block_on(github.list_variables(&scope))?
                .map_err(remote)?;
            let map: Map = list
                .into_iter()
                .map(|v| (v.name.into(), Dynamic::from(v.value)))
                .collect();
            Ok(map.into())
        },
    );
    module.read(
        Signature {
            name: "variable",
            params: &[("target", ParamType::Str), ("name", ParamType::Str)],
            returns: "string or ()",
            doc: "The value of Actions variable `name` at `target`, or () when there is none.",
        },
        |args| {
            args.str(1)
                .map(|n| format!("variable {n}"))
                .unwrap_or_default()
        },
        |context, args| {
            let scope = scoped(context, &args.str(0)?)?;
            let name = variable_name(&args.str(1)?)?;
            let github = client(context)?;
            let found = context
                .block_on(github.get_variable(&scope, &name))?
                .map_err(remote)?;
            Ok(found.map_or(Dynamic::UNIT, |v| v.value.into()))
        },
    );
    module.mutate(
        Signature {
            name: "set_variable",
            params: &[("target", ParamType::Str), ("name", ParamType::Str), ("value", ParamType::Str)],
            returns: "string",
            doc: "Sets Actions variable `name` at `target` to `value`: \"created\" or \"updated\".\n\
                  Not for secrets: the value is shown in plans and the journal.",
        },
        |context, args| {
            let scope = scoped(context, &args.str(0)?)?;
            let name = variable_name(&args.str(1)?)?;
            let value = args.str(2)?.to_string();
            Ok(Change {
                target: format!("GitHub variable {name} in {scope}"),
                action: format!("set GitHub variable {name} in {scope}"),
                fields: vec![("value".into(), value)],
                placeholder: "planned".into(),
            })
        },
        |context, args, _| {
            let scope = scoped(context, &args.str(0)?)?;
            let name = variable_name(&args.str(1)?)?;
            let github = client(context)?;
            let written = context
                .block_on(github.set_variable(&scope, &name, &args.str(2)?))?
                .map_err(remote)?;
            Ok(match written {
                VariableWrite::Created => "created",
                VariableWrite::Updated => "updated",
            }
            .into())
        },
    );
    module.mutate(
        Signature {
            name: "delete_variable",
            params: &[("target", ParamType::Str), ("name", ParamType::Str)],
            returns: "bool",
            doc: "Deletes Actions variable `name` at `target`; false if it did not exist.",
        },
        |context, args| {
            let scope = scoped(context, &args.str(0)?)?;
            let name = variable_name(&args.str(1)?)?;
            Ok(Change {
                target: format!("GitHub variable {name} in {scope}"),
                action: format!("delete GitHub variable {name} in {scope}"),
                fields: Vec::new(),
                placeholder: Dynamic::TRUE,
            })
        },
        |context, args, _| {
            let scope = scoped(context, &args.str(0)?)?;
            let name = variable_name(&args.str(1)?)?;
            let github = client(context)?;
            let existed = context
                .block_on(github.delete_variable(&scope, &name))?
                .map_err(remote)?;
            Ok(existed.into())
        },
    );
    module
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_upper_cased_and_checked_as_github_checks_them() {
        assert_eq!(variable_name("gcp_region").unwrap(), "GCP_REGION");
        let refused = variable_name("GITHUB_X").unwrap_err();
        assert!(refused.message.contains("variable"), "{}", refused.message);
    }
}
