//! `cargo xtask`: every project chore in one place (after rust-analyzer's xtask).
//!
//! - `catalog refresh [--snapshot FILE | --live]`: regenerate the built-in catalog
//! - `catalog check`: fail when the generated catalog is stale
//! - `ci`: what CI runs (fmt, clippy, tests, PostgreSQL ledger tests, catalog check, interop)
//! - `postgres`: the ledger's PostgreSQL tests against a throw-away server (part of `ci`)
//! - `bench [ledger|gateway]`: performance numbers against a baseline measured in the same
//!   run (`ledger`: only the usage ledger's; `gateway`: only `hfclaw serve` against nginx)
//! - `interop [--no-install]`: the real OpenClaw loads our fixture configs (see `interop.rs`)
//! - `fuzz [--seconds N] [--target NAME] [--engine stable|libfuzzer]`: the fuzz targets
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod browser;
mod catalog;
mod ci;
mod fuzz;
mod interop;
mod postgres;
mod pyenv;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  catalog refresh [--snapshot FILE | --live]   regenerate the built-in catalog
  catalog check                                 fail if the built-in catalog is stale
  ci                                            fmt check, clippy -D warnings, tests, PostgreSQL tests, catalog check, interop
  postgres                                      the ledger's PostgreSQL tests against a throw-away server
  bench                                         benchmarks with ratios against an in-run baseline
  bench ledger                                  only the usage ledger's benchmarks
  bench gateway                                 only hfclaw serve against nginx (direct, keep-alive proxy), wrk
  interop [--no-install]                        real OpenClaw (npm, cached in target/interop) loads the configs
  fuzz [--seconds N] [--target NAME]            fuzz targets for N s each (libFuzzer on nightly, else stable)
       [--engine stable|libfuzzer]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["catalog", "refresh", rest @ ..] => catalog::refresh(rest),
        ["catalog", "check"] => catalog::check(),
        ["ci"] => ci::run(),
        ["postgres"] => ci::postgres_tests(),
        ["bench"] => bench::run(),
        ["bench", "ledger"] => bench::run_ledger(),
        ["bench", "gateway"] => bench::run_gateway(),
        ["interop", rest @ ..] => interop::run(rest),
        ["fuzz", rest @ ..] => fuzz::run(rest),
        ["help" | "--help" | "-h"] | [] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command\n\n{USAGE}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `cargo ARGS` in the workspace root, with the cargo that runs xtask.
fn cargo(args: &[&str]) -> Result<()> {
    cargo_with_env(args, &[])
}

/// [`cargo`] with extra environment variables (e.g. what the test setup installed).
fn cargo_with_env(args: &[&str], env: &[(&str, String)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = std::process::Command::new(cargo)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(root())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` exited with {status}", args.join(" ")).into())
    }
}

/// Runs `command`; an error when it fails.
fn run(command: &mut std::process::Command) -> Result<()> {
    let status = command.status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} exited with {status}").into())
    }
}

/// The workspace root (xtask lives one level below it).
fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
