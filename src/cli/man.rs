//! `orchestra man`: the manual page (roff), generated from the clap definitions.

use std::io::Write;

use clap::{Args, CommandFactory};

use crate::error::HostError;
use crate::exit::ExitStatus;

/// Arguments of `orchestra man`.
#[derive(Debug, Args)]
#[command(after_help = "\
Install:
  orchestra man > ~/.local/share/man/man1/orchestra.1 && man orchestra")]
pub struct ManArgs {}

/// Runs `orchestra man`: the page for `orchestra` on stdout.
pub fn run(_args: &ManArgs) -> Result<ExitStatus, HostError> {
    let page = clap_mangen::Man::new(super::Cli::command());
    let mut out = Vec::new();
    page.render(&mut out)
        .map_err(|e| HostError::Io(format!("cannot render the manual page: {e}")))?;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| HostError::Io(format!("cannot write the manual page: {e}")))?;
    Ok(ExitStatus::Success)
}
