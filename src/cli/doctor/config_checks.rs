//! The configuration parses and every playbook in the playbooks folder compiles, as
//! `orchestra check` compiles them.

use std::sync::Arc;

use super::context::Context;
use super::finding::Finding;
use crate::engine::{self, RunContext};

/// The `config` and `playbooks` findings.
pub fn check(context: &Context) -> Vec<Finding> {
    let config = match &context.config_error {
        Some(error) => Finding::failed(
            "config",
            error.clone(),
            "correct the field named above in the config file",
        ),
        None => match &context.config.source_file {
            Some(file) => Finding::ok("config", format!("{} parses", file.display())),
            None => Finding::failed(
                "config",
                format!("no orchestra.toml in {}", context.cwd.display()),
                "run `orchestra init` to write one for this repository",
            ),
        },
    };
    vec![config, playbooks(context)]
}

fn playbooks(context: &Context) -> Finding {
    let files = &context.usage.playbooks;
    if files.is_empty() {
        return Finding::skipped(
            "playbooks",
            format!(
                "no playbooks in {}",
                context.config.playbooks_dir().display()
            ),
        );
    }
    let mut problems = Vec::new();
    for file in files {
        let source = match engine::playbook::read(file) {
            Ok(source) => source,
            Err(err) => {
                problems.push(err.to_string());
                continue;
            }
        };
        let run_context = RunContext::builder(Arc::clone(&context.config)).build();
        if let Err(found) = engine::prepare(source, &run_context, rhai::Map::new()) {
            problems.extend(found.iter().map(|d| d.one_line()));
        }
    }
    match problems.first() {
        None => Finding::ok("playbooks", format!("{} compile", files.len())),
        Some(first) => Finding::failed(
            "playbooks",
            if problems.len() == 1 {
                first.clone()
            } else {
                format!("{first} (and {} more problems)", problems.len() - 1)
            },
            "fix the playbook at that line; `orchestra check PLAYBOOK` lists every problem",
        ),
    }
}
