//! `cargo xtask ci`: exactly what CI runs, so a green local run means a green CI run.

use crate::{Result, cargo, cargo_with_env, postgres};

/// Runs fmt check, clippy with warnings denied, every test (with the Chromium they need,
/// installed on first use), the `#[ignore]`d tests that need the Python SDK venv (made on
/// first use) with `--ignored`, the ledger's PostgreSQL tests against a
/// server started here, the catalog freshness check, every fuzz target for a few seconds,
/// and the real OpenClaw loading configs hfclaw wrote (installed on first use).
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
    let python = match crate::pyenv::ensure() {
        Ok(python) => Some(python),
        Err(e) => {
            let bar = "!".repeat(78);
            println!(
                "{bar}\nWARNING: the Python SDK venv could not be installed ({e}): the gateway's \
                 SDK client tests and the huggingface_hub tests were SKIPPED (listed as ignored).\n\
                 WARNING: run `cargo xtask ci` where PyPI is reachable.\n{bar}"
            );
            None
        }
    };
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
    if let Some(python) = python {
        step("python", python_tests(&python, &env))?;
    }
    step("postgres", postgres_tests())?;
    step("catalog", crate::catalog::check())?;
    step("fuzz", crate::fuzz::run_for_ci())?;
    step("interop", crate::interop::run_for_ci())?;
    println!("ci: all green");
    Ok(())
}

/// The `#[ignore]`d tests that need the Python venv: the official SDKs against the gateway
/// (`sdk_clients`) and huggingface_hub sharing an `hf auth login` (`hf_login`, the tests
/// whose names say `huggingface_hub`), with `HFCLAW_TEST_PYTHON` set.
fn python_tests(python: &std::path::Path, env: &[(&str, String)]) -> Result<()> {
    let mut env = env.to_vec();
    env.push(("HFCLAW_TEST_PYTHON", python.display().to_string()));
    for (test, filter) in [("sdk_clients", ""), ("hf_login", "huggingface_hub")] {
        let mut args = vec!["test", "--locked", "-p", "hfclaw-e2e", "--test", test, "--"];
        if !filter.is_empty() {
            args.push(filter);
        }
        args.push("--ignored");
        cargo_with_env(&args, &env)?;
    }
    Ok(())
}

/// The `#[ignore]`d PostgreSQL tests, against a server started (and stopped) here. When
/// no server can be had the step is skipped with a loud warning: `cargo test` has already
/// listed those tests as ignored, never as passed.
pub fn postgres_tests() -> Result<()> {
    let server = match postgres::start() {
        Ok(server) => server,
        Err(e) => {
            let bar = "!".repeat(78);
            println!(
                "{bar}\nWARNING: the PostgreSQL ledger tests were SKIPPED: no PostgreSQL server ({e}).\n\
                 WARNING: install Debian's postgresql package (apt-get install postgresql) and rerun.\n{bar}"
            );
            return Ok(());
        }
    };
    // `server` lives until the tests end; dropping it stops the server, on failure too.
    let env = [(postgres::URL_VAR, server.url.clone())];
    for (package, test) in [
        ("hfclaw-accounting", "postgres"),
        ("hfclaw-e2e", "serve_postgres"),
    ] {
        cargo_with_env(
            &[
                "test",
                "--locked",
                "-p",
                package,
                "--test",
                test,
                "--",
                "--ignored",
            ],
            &env,
        )?;
    }
    Ok(())
}

fn step(name: &str, result: Result<()>) -> Result<()> {
    println!("ci: {name}");
    result.map_err(|e| format!("{name} failed: {e}").into())
}
