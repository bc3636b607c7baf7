//! `iam::advised_roles(held)` — the audit's least-privilege advice: of the roles an account
//! holds, which are too broad, and the narrowest predefined roles granting what the configured
//! playbooks call in their place. Local: reads the playbooks and stdlib folders, sends nothing.
//! The derivation lives in [`crate::permissions`]; this file only turns it into Rhai values.

use rhai::{Array, Dynamic, Map};

use crate::engine::gate::{ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::permissions::{Usage, advise};

fn role_names(held: &Dynamic) -> Result<Vec<String>, PrimitiveError> {
    let list = held.as_array_ref().map_err(|found| {
        PrimitiveError::new(format!("expected an array of role names, found {found}"))
    })?;
    list.iter()
        .map(|role| {
            role.clone().into_string().map_err(|found| {
                PrimitiveError::new(format!(
                    "expected role names such as \"roles/editor\" in the array, found {found}"
                ))
            })
        })
        .collect()
}

fn texts<S: AsRef<str>>(items: &[S]) -> Dynamic {
    items
        .iter()
        .map(|item| Dynamic::from(item.as_ref().to_owned()))
        .collect::<Array>()
        .into()
}

/// Registers `iam::advised_roles`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "advised_roles",
            params: &[("held", ParamType::Array)],
            returns: "map",
            doc: "Least-privilege advice for an account holding the project roles `held` (e.g. from\n\
                  iam::project_bindings): #{broad: [#{role, why}] (basic roles, and roles that may set\n\
                  the project's IAM policy), kept: [narrow roles held], advised: [the narrowest\n\
                  predefined roles granting what the configured playbooks call beyond the kept ones;\n\
                  empty when nothing held is broad], uncovered: [permissions no predefined role of\n\
                  the table grants], needed: [every permission the configured playbooks call]}.",
        },
        |context, args| {
            let held = role_names(args.any(0)?)?;
            let needed = Usage::of_playbooks(context.config()).google_permissions();
            let advice = advise(held.iter().map(String::as_str), needed.iter().copied());
            let broad: Array = advice
                .broad
                .iter()
                .map(|(role, breadth)| {
                    let mut entry = Map::new();
                    entry.insert("role".into(), role.clone().into());
                    entry.insert("why".into(), breadth.reason().into());
                    Dynamic::from(entry)
                })
                .collect();
            let mut map = Map::new();
            map.insert("broad".into(), broad.into());
            map.insert("kept".into(), texts(&advice.kept));
            map.insert("advised".into(), texts(&advice.replace_with.roles));
            map.insert("uncovered".into(), texts(&advice.replace_with.uncovered));
            map.insert("needed".into(), texts(&needed));
            Ok(map.into())
        },
    );
    module
}
