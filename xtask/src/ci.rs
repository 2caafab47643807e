//! `cargo xtask ci`: exactly what CI runs, so a green local run means a green CI run.

use crate::{Result, cargo};

/// Runs fmt check, clippy with warnings denied, every test, the catalog freshness check,
/// every fuzz target for a few seconds, and the real OpenClaw loading configs hfclaw wrote
/// (installed on first use).
pub fn run() -> Result<()> {
    step("fmt", cargo(&["fmt", "--all", "--", "--check"]))?;
    step(
        "clippy",
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    step("test", cargo(&["test", "--workspace", "--locked"]))?;
    step("catalog", crate::catalog::check())?;
    step("fuzz", crate::fuzz::run_for_ci())?;
    step("interop", crate::interop::run_for_ci())?;
    println!("ci: all green");
    Ok(())
}

fn step(name: &str, result: Result<()>) -> Result<()> {
    println!("ci: {name}");
    result.map_err(|e| format!("{name} failed: {e}").into())
}
