//! `orchestra completions SHELL`: the shell's completion script, generated from the clap
//! definitions so it never falls behind the commands.

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell as ClapShell;

use crate::exit::ExitStatus;

/// Arguments of `orchestra completions`.
#[derive(Debug, Args)]
#[command(after_help = "\
Install:
  bash:        orchestra completions bash > ~/.local/share/bash-completion/completions/orchestra
  zsh:         orchestra completions zsh > \"${fpath[1]}/_orchestra\"
  fish:        orchestra completions fish > ~/.config/fish/completions/orchestra.fish
  PowerShell:  orchestra completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell to write completions for
    #[arg(value_enum)]
    shell: Shell,
}

/// The shells completions are written for.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

impl From<Shell> for ClapShell {
    fn from(shell: Shell) -> Self {
        match shell {
            Shell::Bash => ClapShell::Bash,
            Shell::Zsh => ClapShell::Zsh,
            Shell::Fish => ClapShell::Fish,
            Shell::Powershell => ClapShell::PowerShell,
        }
    }
}

/// Runs `orchestra completions`: the script on stdout.
pub fn run(args: &CompletionsArgs) -> ExitStatus {
    let mut command = super::Cli::command();
    clap_complete::generate(
        ClapShell::from(args.shell),
        &mut command,
        "orchestra",
        &mut std::io::stdout(),
    );
    ExitStatus::Success
}
