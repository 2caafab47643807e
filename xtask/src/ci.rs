//! `cargo xtask ci`: exactly what CI runs, so a green local run means a green CI run.

use crate::{Result, cargo, cargo_with_env};

/// Runs fmt check, clippy with warnings denied, every test (with the Python SDK venv and
/// Chromium they need, installed on first use), the catalog freshness check, and the real
/// OpenClaw loading configs hfclaw wrote (installed on first use).
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
    let mut env = Vec::new();
    match crate::pyenv::ensure() {
        Ok(python) => {
            env.push(("HFCLAW_TEST_PYTHON", python.display().to_string()));
            env.push(("HFCLAW_REQUIRE_SDK_TESTS", "1".to_owned()));
        }
        Err(e) => println!(
            "ci: warning: the Python SDK venv could not be installed ({e}); the gateway's \
             SDK client tests will be SKIPPED. Run `cargo xtask ci` where PyPI is reachable"
        ),
    }
    match crate::browser::ensure() {
        Ok(chromium) => {
            env.push(("HFCLAW_TEST_CHROMIUM", chromium.display().to_string()));
            env.push(("HFCLAW_REQUIRE_BROWSER_TESTS", "1".to_owned()));
        }
        Err(e) => println!(
            "ci: warning: Chromium could not be installed ({e}); the status page's browser \
             test will be SKIPPED. Run `cargo xtask ci` as root where Debian's packages are \
             reachable"
        ),
    }
    step(
        "test",
        cargo_with_env(&["test", "--workspace", "--locked"], &env),
    )?;
    step("catalog", crate::catalog::check())?;
    step("interop", crate::interop::run_for_ci())?;
    println!("ci: all green");
    Ok(())
}

fn step(name: &str, result: Result<()>) -> Result<()> {
    println!("ci: {name}");
    result.map_err(|e| format!("{name} failed: {e}").into())
}
