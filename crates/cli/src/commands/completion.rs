//! `cosign completion <shell>`: shell completion scripts.

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::args::{Cli, CompletionArgs, CompletionShell};
use crate::console::Console;
use crate::error::CliError;

pub fn run(args: &CompletionArgs, console: &mut Console) -> Result<(), CliError> {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "cosign", &mut script);
    console.out(&script)
}
