//! `hfclaw completions SHELL`.

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs};
use crate::error::CliResult;
use crate::output::print_data;

/// Prints the completion script for a shell.
pub fn run(args: &CompletionsArgs) -> CliResult {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "hfclaw", &mut script);
    print_data(&String::from_utf8_lossy(&script))
}
