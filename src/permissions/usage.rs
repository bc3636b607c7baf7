//! What the configured playbooks call, read from their compiled AST (and the stdlib modules'),
//! and the Google permissions and GitHub scopes those calls need ([`super::GOOGLE`],
//! [`super::GITHUB`]).

use std::collections::BTreeSet;
use std::path::PathBuf;

use rhai::ASTNode;

use super::map::{GITHUB, GITHUB_MODULES, GOOGLE, GOOGLE_MODULES, Need, Requirement};
use crate::config::Config;
use crate::engine::lint::function_call;

/// The `module::function` calls of the playbooks and stdlib modules.
#[derive(Debug, Default, Clone)]
pub struct Usage {
    calls: BTreeSet<(String, String)>,
    sources: Vec<String>,
    /// The playbook files read.
    pub playbooks: Vec<PathBuf>,
}

impl Usage {
    /// Reads every `*.rhai` under the playbooks and stdlib folders.
    pub fn of_playbooks(config: &Config) -> Self {
        let mut usage = Self::default();
        for (dir, is_playbook) in [(config.playbooks_dir(), true), (config.stdlib_dir(), false)] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
                .collect();
            files.sort();
            for file in files {
                if let Ok(text) = std::fs::read_to_string(&file) {
                    usage.add_source(&text);
                    usage.sources.push(text);
                }
                if is_playbook {
                    usage.playbooks.push(file);
                }
            }
        }
        usage
    }

    /// Adds the `module::function` calls of one script, read from its compiled AST so that
    /// comments and strings mentioning a primitive do not count. A script that does not
    /// compile adds nothing (the config check reports it).
    fn add_source(&mut self, text: &str) {
        let Ok(ast) = rhai::Engine::new_raw().compile(text) else {
            return;
        };
        let calls = &mut self.calls;
        ast.walk(&mut |path: &[ASTNode]| {
            if let Some((call, _)) = path.last().and_then(function_call)
                && !call.namespace.is_empty()
            {
                calls.insert((call.namespace.to_string(), call.name.to_string()));
            }
            true
        });
    }

    /// Whether any playbook calls `module::`.
    pub fn calls_module(&self, module: &str) -> bool {
        self.calls.iter().any(|(m, _)| m == module)
    }

    /// Whether any playbook reaches Google Cloud.
    pub fn uses_google(&self) -> bool {
        GOOGLE_MODULES.iter().any(|m| self.calls_module(m))
    }

    /// Whether any playbook reaches GitHub.
    pub fn uses_github(&self) -> bool {
        GITHUB_MODULES.iter().any(|m| self.calls_module(m))
    }

    /// Whether any playbook needs Firestore (directly or through `memory::`).
    pub fn uses_firestore(&self) -> bool {
        crate::firestore_emulator::needed_by(&self.sources)
    }

    /// The Google permissions the calls need, sorted, each once.
    pub fn google_permissions(&self) -> Vec<&'static str> {
        needed(&self.calls, GOOGLE)
    }

    /// The classic GitHub token scopes the calls need.
    pub fn github_scopes(&self) -> Vec<&'static str> {
        needed(&self.calls, GITHUB)
    }
}

fn needed(calls: &BTreeSet<(String, String)>, table: &[Requirement]) -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = table
        .iter()
        .filter(|row| calls.contains(&(row.module.to_owned(), row.function.to_owned())))
        .filter_map(|row| match row.need {
            Need::Permission(permission) => Some(permission),
            Need::Nothing(_) => None,
        })
        .collect();
    set.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_read_from_the_text() {
        let mut usage = Usage::default();
        usage.add_source("let k = iam::create_key(a);\nsecrets::add_version(\"x\", k.json);\n");
        assert_eq!(
            usage.google_permissions(),
            vec![
                "iam.serviceAccountKeys.create",
                "secretmanager.versions.add"
            ]
        );
        assert!(usage.uses_google());
        assert!(!usage.uses_github());
        usage.add_source("github::put_secret(\"acme/api\", \"X\", v);");
        assert_eq!(usage.github_scopes(), vec!["repo"]);
    }

    #[test]
    fn comments_and_strings_naming_a_primitive_are_not_calls() {
        let mut usage = Usage::default();
        usage.add_source(
            "// iam::delete_key(a, k) happens later\nprint(\"see secrets::destroy\");\nlet p = wif::pool(\"demo\", \"gh\");\n",
        );
        assert_eq!(
            usage.google_permissions(),
            vec!["iam.workloadIdentityPools.get"]
        );
    }

    #[test]
    fn the_keyless_playbooks_need_the_pool_and_policy_permissions() {
        let mut usage = Usage::default();
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for file in ["playbooks/bootstrap_github_wif.rhai", "stdlib/keyless.rhai"] {
            usage.add_source(&std::fs::read_to_string(repo.join(file)).expect("bundled file"));
        }
        let needed = usage.google_permissions();
        for permission in [
            "iam.workloadIdentityPoolProviders.create",
            "iam.workloadIdentityPools.create",
            "iam.serviceAccounts.setIamPolicy",
            "resourcemanager.projects.get",
            "serviceusage.services.enable",
        ] {
            assert!(needed.contains(&permission), "{permission} in {needed:?}");
        }
        assert!(
            !needed.contains(&"iam.serviceAccountKeys.delete"),
            "{needed:?}"
        );
    }
}
