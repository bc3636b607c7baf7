//! The modules playbooks call (`secret::`, `secrets::`, `state::`, `run::`, `breaker::`, `github::`, `iam::`, `notify::`, `monitor::`, `budget::`, `ledger::`, `secret_sync::`, `memory::`, `scan::`, `firestore::`, `wif::`, `services::`, `cloudrun::`, `http::`, `config::`, `progress::`, `migration::`), one file each: the typed Rust
//! API first, the Rhai registration at the bottom. Every function is registered through
//! [`crate::engine::gate`], which owns plan mode and the journal.

mod alerts;
mod breaker;
mod budget;
mod budget_figures;
mod cloudrun;
mod config;
mod firestore;
mod firestore_options;
mod firestore_values;
mod github;
mod github_apps;
mod github_variables;
mod http_probe;
mod iam;
mod ledger;
mod memory;
mod migration;
mod monitor;
mod notify;
mod progress;
mod rate_projection;
mod role_advice;
mod rotations;
mod run;
mod scan;
mod scan_files;
mod secret;
mod secret_sync;
mod secrets;
mod secrets_versions;
mod services;
mod state;
mod wif;
mod wif_changes;

use std::sync::Arc;

use rhai::Engine;

use crate::engine::RunContext;
use crate::engine::gate::{ModuleBuilder, PrimitiveDoc};

/// Registers every primitive module with `engine`; returns their docs.
pub fn register_all(engine: &mut Engine, context: &Arc<RunContext>) -> Vec<PrimitiveDoc> {
    let builders = [
        secret::register(ModuleBuilder::new("secret", Arc::clone(context))),
        state::register(ModuleBuilder::new("state", Arc::clone(context)).recording_run_state()),
        ledger::register(ModuleBuilder::new("ledger", Arc::clone(context)).recording_run_state()),
        memory::register(ModuleBuilder::new("memory", Arc::clone(context))),
        migration::register(
            ModuleBuilder::new("migration", Arc::clone(context)).recording_run_state(),
        ),
        secret_sync::register(
            ModuleBuilder::new("secret_sync", Arc::clone(context))
                .with_service_breaker("secretmanager"),
        ),
        run::register(ModuleBuilder::new("run", Arc::clone(context))),
        progress::register(ModuleBuilder::new("progress", Arc::clone(context))),
        breaker::register(ModuleBuilder::new("breaker", Arc::clone(context))),
        github::register(
            ModuleBuilder::new("github", Arc::clone(context)).with_service_breaker("github"),
        ),
        secrets::register(
            ModuleBuilder::new("secrets", Arc::clone(context))
                .with_service_breaker("secretmanager"),
        ),
        iam::register(ModuleBuilder::new("iam", Arc::clone(context)).with_service_breaker("iam")),
        wif::register(ModuleBuilder::new("wif", Arc::clone(context)).with_service_breaker("iam")),
        services::register(
            ModuleBuilder::new("services", Arc::clone(context))
                .with_service_breaker("serviceusage"),
        ),
        config::register(ModuleBuilder::new("config", Arc::clone(context))),
        http_probe::register(ModuleBuilder::new("http", Arc::clone(context))),
        cloudrun::register(
            ModuleBuilder::new("cloudrun", Arc::clone(context)).with_service_breaker("run"),
        ),
        monitor::register(
            ModuleBuilder::new("monitor", Arc::clone(context)).with_service_breaker("github"),
        ),
        notify::register(
            ModuleBuilder::new("notify", Arc::clone(context)).with_service_breaker("slack"),
        ),
        scan_files::register(scan::register(ModuleBuilder::new(
            "scan",
            Arc::clone(context),
        ))),
        firestore::register(
            ModuleBuilder::new("firestore", Arc::clone(context)).with_service_breaker("firestore"),
        ),
        budget::register(
            ModuleBuilder::new("budget", Arc::clone(context)).with_service_breaker("monitoring"),
        ),
    ];
    firestore::register_types(engine);
    let mut docs = Vec::new();
    for builder in builders {
        let (name, module, module_docs) = builder.finish();
        engine.register_static_module(name, module.into());
        docs.extend(module_docs);
    }
    docs
}
