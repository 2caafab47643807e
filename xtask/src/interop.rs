//! `cargo xtask interop`: the real OpenClaw judges whether configs load.
//!
//! OpenClaw refuses a whole config file over one unknown key, so "our writer only emits
//! OpenClaw's keys" is a claim only OpenClaw itself can check. This task:
//!
//! 1. installs a pinned OpenClaw (npm `openclaw`) and a pinned Node 24 binary (npm
//!    `node-linux-<arch>`; OpenClaw needs Node >= 24.16; elsewhere point
//!    `$HFCLAW_INTEROP_NODE` at one) into a cache dir, once (`$HFCLAW_INTEROP_DIR`, else
//!    `target/interop/`, ~850 MB, ~30 s cold);
//! 2. builds `hfclaw` (dev profile: the build the tests already made) and runs it (offline, empty environment) to write
//!    configs: `onboard`, `models set`, `fallbacks`, `aliases`, `sync` (also into
//!    `models.json`), starting from nothing, from seed configs and from a commented JSON5
//!    fixture whose comments must all survive;
//! 3. for each [`Case`](cases::Case), copies the config into a fresh temp dir used as OpenClaw's
//!    config path, state dir, HOME and cwd, runs `openclaw models status --json` with a
//!    cleared environment and (where the kernel allows) no network, and compares what
//!    OpenClaw reports with what the config says, or for hfclaw's configs with what the
//!    commands asked for.
//!
//! `--no-install` turns a missing cache into a skip (exit 0) instead of an npm install,
//! for CI runners without registry access. Findings about OpenClaw's schema that these
//! cases rely on are in `interop/NOTES.md`.
//!
//! Modules: [`install`] (the cache dir), [`cases`] (fixture cases and what OpenClaw must
//! report), [`hfclaw_configs`] (configs the `hfclaw` binary writes), [`openclaw`] (running
//! `models status` and judging it).

mod cases;
mod hfclaw_configs;
mod install;
mod openclaw;

use std::time::Instant;

use crate::{Result, root};
use install::{NODE_VERSION, OPENCLAW_VERSION, cache_dir, ensure_installed};
use openclaw::run_cases;

const USAGE: &str = "usage: cargo xtask interop [--no-install]

  --no-install   skip (exit 0) instead of installing when the OpenClaw cache is missing";

/// What to do when the OpenClaw cache is missing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Install {
    /// Install it; failing to is an error.
    Required,
    /// Skip the run (exit 0).
    Never,
    /// Try to install it; when that fails (no registry access), skip with a warning.
    /// What `cargo xtask ci` uses: a real incompatibility still fails, a missing network
    /// does not.
    OrSkip,
}

/// Entry point: `cargo xtask interop [--no-install]`.
pub fn run(args: &[&str]) -> Result<()> {
    match args {
        [] => run_with(Install::Required),
        ["--no-install"] => run_with(Install::Never),
        _ => Err(format!("unknown arguments {args:?}\n\n{USAGE}").into()),
    }
}

/// The `cargo xtask ci` step: installs OpenClaw on first use, skips only when it cannot.
pub fn run_for_ci() -> Result<()> {
    run_with(Install::OrSkip)
}

fn run_with(install: Install) -> Result<()> {
    let started = Instant::now();
    let dir = cache_dir();
    let installed = match ensure_installed(&dir, install != Install::Never) {
        Err(e) if install == Install::OrSkip => {
            println!(
                "interop: skipped: installing OpenClaw {OPENCLAW_VERSION} failed: {e}\n\
                 warning: configs were not checked against the real OpenClaw; \
                 run `cargo xtask interop` where the npm registry is reachable"
            );
            return Ok(());
        }
        other => other?,
    };
    let Some(openclaw) = installed else {
        println!(
            "interop: skipped: OpenClaw {OPENCLAW_VERSION} is not installed in {}\n\
             hint: run `cargo xtask interop` once with npm registry access to install it",
            dir.display()
        );
        return Ok(());
    };
    let scratch = tempfile::Builder::new()
        .prefix("hfclaw-interop-cases-")
        .tempdir()?;
    let preparing = Instant::now();
    let cases = cases::cases(&root(), scratch.path())?;
    println!(
        "interop: OpenClaw {OPENCLAW_VERSION} on Node {NODE_VERSION}, network: {}, {} cases \
         (built hfclaw and wrote its configs in {:.1} s)",
        openclaw.isolation.describe(),
        cases.len(),
        preparing.elapsed().as_secs_f64()
    );
    let results = run_cases(&openclaw, &cases);
    let mut failed = 0;
    for (case, result) in cases.iter().zip(&results) {
        match result {
            Ok(outcome) => println!(
                "  ✓ {:<44} {:>5.1} s  {}",
                case.name,
                outcome.elapsed.as_secs_f64(),
                outcome.summary
            ),
            Err(e) => {
                failed += 1;
                println!("  ✗ {}", case.name);
                for line in e.to_string().lines() {
                    println!("      {line}");
                }
            }
        }
    }
    let total = started.elapsed().as_secs_f64();
    if failed == 0 {
        println!(
            "interop: {} of {} passed in {total:.1} s",
            cases.len(),
            cases.len()
        );
        Ok(())
    } else {
        Err(format!(
            "interop: {failed} of {} cases failed ({total:.1} s)",
            cases.len()
        )
        .into())
    }
}
