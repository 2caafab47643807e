//! The Python venv the gateway's SDK client tests run in (`tests/tests/sdk_clients.rs`):
//! the official `openai` and `anthropic` packages (and `huggingface_hub` for
//! `tests/tests/hf_login.rs`), pinned, installed once into
//! `target/pyenv` (~40 s cold, nothing warm) and reused while the pins stay the same.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::{Result, root, run};

/// The SDK versions the tests were written against; bump them together.
/// `huggingface_hub`: the other process sharing an `hf auth login` in
/// `tests/tests/hf_login.rs` (its OAuth refresh, `stored_tokens` and lock).
const REQUIREMENTS: [&str; 3] = [
    "openai==3.57.0",
    "anthropic==2.15.0",
    "huggingface_hub==2.5.0",
];
/// Written last, so a half-finished install is never mistaken for one.
const STAMP_FILE: &str = "installed.txt";

/// The venv's python, installing the venv first when it is missing or stale.
pub fn ensure() -> Result<PathBuf> {
    let dir = std::env::var_os("HFCLAW_PYENV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/pyenv"));
    let python = dir.join("bin/python");
    let stamp = dir.join(STAMP_FILE);
    let wanted = REQUIREMENTS.join("\n");
    if python.exists() && fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return Ok(python);
    }
    println!(
        "pyenv: installing {} into {}",
        REQUIREMENTS.join(", "),
        dir.display()
    );
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(&dir))?;
    run(Command::new(dir.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(REQUIREMENTS))?;
    fs::write(&stamp, wanted)?;
    Ok(python)
}
