//! `hfclaw`: the command-line front end. Thin by design: it parses flags into typed
//! requests, calls the library crates (`model-ref`, `catalog`, `config-merge`,
//! `router-client`) and renders their results. No business rule lives here.

mod args;
mod commands;
mod context;
mod error;
#[cfg(test)]
mod hint_flags;
mod ledger;
mod login;
mod output;
mod serve;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::args::{Cli, Command, ModelsCommand};
use crate::context::Context;
use crate::error::CliResult;

/// mimalloc, not glibc's malloc: the gateway allocates and frees a body-sized buffer per
/// request, which glibc returns to the kernel and faults in again (issue 23,
/// docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, command_path(&matches))));
    let (cli, command) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            // clap prints usage errors and help; usage errors are invalid input (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_tracing(cli.global.verbose);
    match run(cli, &command) {
        Ok(code) => code,
        Err(error) => {
            output::report(&error);
            ExitCode::from(error.exit_code())
        }
    }
}

/// The subcommands' names, e.g. `["models", "list"]`: hints ask clap which flags the
/// command has.
fn command_path(matches: &clap::ArgMatches) -> Vec<String> {
    let mut path = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        path.push(name.to_owned());
        current = sub;
    }
    path
}

fn run(cli: Cli, path: &[String]) -> CliResult<ExitCode> {
    let context = |global| Context::new(global, path);
    let done = match &cli.command {
        // The one command whose exit code is not hfclaw's own: the agent's.
        Command::Run(args) => {
            return commands::run::run(&context(cli.global)?, args).map(ExitCode::from);
        }
        Command::Completions(args) => commands::completions::run(args),
        Command::Serve(args) => serve::run(&context(cli.global)?, args),
        Command::Doctor(args) => commands::doctor::run(&context(cli.global)?, args),
        Command::Service(command) => commands::service::run(&context(cli.global)?, command),
        Command::Chat(args) => commands::chat::run(&context(cli.global)?, args),
        Command::Usage(args) => commands::usage::run(&context(cli.global)?, args),
        Command::Keys(command) => commands::keys::run(&context(cli.global)?, command),
        Command::Budget(command) => commands::keys::budget(&context(cli.global)?, command),
        Command::Memory(command) => commands::memory::run(&context(cli.global)?, command),
        Command::Onboard(args) => commands::onboard::run(&context(cli.global)?, args),
        Command::Models(command) => {
            let ctx = context(cli.global)?;
            match command {
                ModelsCommand::List(args) => commands::models_list::run(&ctx, args),
                ModelsCommand::Show(args) => commands::models_show::run(&ctx, args),
                ModelsCommand::Status(args) => commands::models_status::run(&ctx, args),
                ModelsCommand::Set(args) => commands::models_edit::set(&ctx, args),
                ModelsCommand::Fallbacks(command) => {
                    commands::models_edit::fallbacks(&ctx, command)
                }
                ModelsCommand::Aliases(command) => commands::models_edit::aliases(&ctx, command),
                ModelsCommand::Sync(args) => commands::models_sync::run(&ctx, args),
            }
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}

/// Diagnostics go to stderr through `tracing`; off unless `-v` or `HFCLAW_LOG` asks, so a
/// plain run pays nothing for them.
fn init_tracing(verbose: u8) {
    let filter = match (std::env::var("HFCLAW_LOG").ok(), verbose) {
        (Some(filter), _) => filter,
        (None, 0) => return,
        (None, 1) => {
            "hfclaw=debug,hfclaw_router_client=debug,hfclaw_config_merge=debug,hfclaw_catalog=debug"
                .to_owned()
        }
        (None, _) => "trace".to_owned(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(output::colour_on_stderr())
        .with_target(false)
        .init();
}
