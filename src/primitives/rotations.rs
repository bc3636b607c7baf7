//! `iam::configured_rotations()` — the `[[rotations.service_accounts]]` of orchestra.toml, as
//! the rotation playbook reads them.

use rhai::{Array, Dynamic, Map};

use crate::config::ServiceAccountRotation;
use crate::engine::gate::{ModuleBuilder, Signature};

fn rotation_map(rotation: &ServiceAccountRotation) -> Dynamic {
    let consumers: Array = rotation
        .consumers
        .iter()
        .map(|c| {
            let mut map = Map::new();
            map.insert("target".into(), c.target.clone().into());
            map.insert("name".into(), c.name.clone().into());
            map.into()
        })
        .collect();
    let mut map = Map::new();
    map.insert("account".into(), rotation.account.clone().into());
    map.insert("secret".into(), rotation.secret.clone().into());
    map.insert("consumers".into(), consumers.into());
    map.insert("keep_keys".into(), i64::from(rotation.keep_keys).into());
    map.insert(
        "grace_secs".into(),
        i64::try_from(rotation.grace.as_secs())
            .unwrap_or(i64::MAX)
            .into(),
    );
    map.insert("old_versions".into(), rotation.old_versions.as_str().into());
    map.into()
}

/// Registers `iam::configured_rotations`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "configured_rotations",
            params: &[],
            returns: "array",
            doc: "The service-account rotations of orchestra.toml ([[rotations.service_accounts]]):\n\
                  [#{account, secret, consumers: [#{target, name}], keep_keys, grace_secs,\n\
                  old_versions: \"disable\"|\"destroy\"}].",
        },
        |context, _| {
            Ok(context
                .config()
                .rotations
                .service_accounts
                .iter()
                .map(rotation_map)
                .collect::<Array>()
                .into())
        },
    );
    module
}
