//! `orchestra doc`: every primitive with its signature and documentation.

use std::sync::Arc;

use clap::Args;

use super::render;
use crate::config::Config;
use crate::error::HostError;
use crate::exit::ExitStatus;

/// Arguments of `orchestra doc`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra doc            # every module
  orchestra doc secret     # one module
  orchestra doc --json
  orchestra doc --definitions .rhai-definitions   # for the Rhai language server")]
pub struct DocArgs {
    /// Only this module (e.g. `secret`, `state`)
    module: Option<String>,

    /// Print as JSON
    #[arg(long)]
    json: bool,

    /// Write `.d.rhai` definition files for the Rhai language server into DIR
    #[arg(long, value_name = "DIR")]
    definitions: Option<std::path::PathBuf>,
}

/// Runs `orchestra doc`.
pub fn run(args: &DocArgs, config: Arc<Config>) -> Result<ExitStatus, HostError> {
    if let Some(dir) = &args.definitions {
        crate::engine::write_definitions(config, dir).map_err(|e| {
            HostError::Io(format!(
                "cannot write definitions to {}: {e}",
                dir.display()
            ))
        })?;
        eprintln!("wrote Rhai definition files to {}", dir.display());
        return Ok(ExitStatus::Success);
    }
    let mut docs = crate::engine::all_primitive_docs(config);
    if let Some(module) = &args.module {
        let prefix = format!("{module}::");
        docs.retain(|d| d.name.starts_with(&prefix));
        if docs.is_empty() {
            return Err(HostError::Usage(format!(
                "no module named '{module}'; `orchestra doc` lists them all"
            )));
        }
    }
    if args.json {
        render::json(&docs);
        return Ok(ExitStatus::Success);
    }
    let mut out = String::new();
    let mut current_module = "";
    for doc in &docs {
        let module = doc.name.split("::").next().unwrap_or("");
        if module != current_module {
            if !current_module.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("{module}::\n"));
            current_module = module;
        }
        out.push_str(&format!(
            "  {}    [{}]\n",
            doc.signature,
            doc.effect.as_str()
        ));
        for line in doc.doc.lines() {
            out.push_str(&format!("      {line}\n"));
        }
    }
    print!("{out}");
    Ok(ExitStatus::Success)
}
