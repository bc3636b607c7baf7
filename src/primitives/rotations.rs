//! `iam::configured_rotations()` and `github::configured_token_rotations()` — the
//! `[[rotations.*]]` of orchestra.toml, as the rotation playbooks read them.

use std::time::Duration;

use rhai::{Array, Dynamic, Map};

use crate::config::{Consumer, GithubTokenKind, GithubTokenRotation, ServiceAccountRotation};
use crate::engine::gate::{ModuleBuilder, Signature};

fn consumers(consumers: &[Consumer]) -> Dynamic {
    consumers
        .iter()
        .map(|c| {
            let mut map = Map::new();
            map.insert("target".into(), c.target.clone().into());
            map.insert("name".into(), c.name.clone().into());
            Dynamic::from(map)
        })
        .collect::<Array>()
        .into()
}

/// `d` as the shortest whole unit that says it: "30d", "12h", "30m", "90s".
fn duration_text(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 => "0s".to_owned(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Puts `max_age` (as text) and `max_age_secs` into a job map.
fn insert_max_age(map: &mut Map, max_age: Duration) {
    map.insert("max_age".into(), duration_text(max_age).into());
    map.insert(
        "max_age_secs".into(),
        i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX).into(),
    );
}

fn token_rotation_map(rotation: &GithubTokenRotation) -> Dynamic {
    let optional = |v: &Option<String>| v.clone().map_or(Dynamic::UNIT, Dynamic::from);
    let id = |v: Option<u64>| v.map_or(Dynamic::UNIT, |n| Dynamic::from_int(n as i64));
    let mut map = Map::new();
    map.insert("name".into(), rotation.name.clone().into());
    let kind = match rotation.kind {
        GithubTokenKind::Installation => "installation",
        GithubTokenKind::Pat => "pat",
    };
    map.insert("kind".into(), kind.into());
    map.insert("secret".into(), rotation.secret.clone().into());
    map.insert("consumers".into(), consumers(&rotation.consumers));
    map.insert("app_id".into(), id(rotation.app_id));
    map.insert("installation_id".into(), id(rotation.installation_id));
    map.insert("app_key_secret".into(), optional(&rotation.app_key_secret));
    map.insert("source".into(), optional(&rotation.source));
    map.insert(
        "scopes".into(),
        rotation
            .scopes
            .iter()
            .cloned()
            .map(Dynamic::from)
            .collect::<Array>()
            .into(),
    );
    map.insert("revoke_old".into(), rotation.revoke_old.into());
    insert_max_age(&mut map, rotation.max_age());
    map.into()
}

fn rotation_map(rotation: &ServiceAccountRotation) -> Dynamic {
    let mut map = Map::new();
    map.insert("account".into(), rotation.account.clone().into());
    map.insert("secret".into(), rotation.secret.clone().into());
    map.insert("consumers".into(), consumers(&rotation.consumers));
    map.insert("keep_keys".into(), i64::from(rotation.keep_keys).into());
    map.insert(
        "grace_secs".into(),
        i64::try_from(rotation.grace.as_secs())
            .unwrap_or(i64::MAX)
            .into(),
    );
    map.insert("old_versions".into(), rotation.old_versions.as_str().into());
    insert_max_age(&mut map, rotation.max_age);
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
                  old_versions: \"disable\"|\"destroy\", max_age (text, e.g. \"30d\"), max_age_secs}].",
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

/// Registers `github::configured_token_rotations`.
pub fn register_github(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "configured_token_rotations",
            params: &[],
            returns: "array",
            doc: "The GitHub token rotations of orchestra.toml ([[rotations.github_tokens]]):\n\
                  [#{name, kind: \"installation\"|\"pat\", secret, consumers: [#{target, name}],\n\
                  app_id, installation_id, app_key_secret, source, scopes, revoke_old, max_age (text,\n\
                  e.g. \"30m\"), max_age_secs}].",
        },
        |context, _| {
            Ok(context
                .config()
                .rotations
                .github_tokens
                .iter()
                .map(token_rotation_map)
                .collect::<Array>()
                .into())
        },
    );
    module
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_reads_in_its_largest_whole_unit() {
        assert_eq!(duration_text(Duration::from_secs(30 * 86_400)), "30d");
        assert_eq!(duration_text(Duration::from_secs(7200)), "2h");
        assert_eq!(duration_text(Duration::from_secs(1800)), "30m");
        assert_eq!(duration_text(Duration::from_secs(90)), "90s");
    }
}
