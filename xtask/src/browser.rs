//! The browser the status page test runs in (`tests/tests/operate.rs`): Debian's
//! `chromium` package (with `fonts-liberation`, so text renders), installed with apt-get
//! when `/usr/bin/chromium` is missing (~1 min and ~300 MB once; nothing when present).

use std::path::PathBuf;
use std::process::Command;

use crate::{Result, run};

/// Where Debian's package puts it.
const CHROMIUM: &str = "/usr/bin/chromium";
const PACKAGES: [&str; 2] = ["chromium", "fonts-liberation"];

/// The Chromium binary, installing it first when it is missing.
pub fn ensure() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("HFCLAW_TEST_CHROMIUM") {
        return Ok(PathBuf::from(path));
    }
    let chromium = PathBuf::from(CHROMIUM);
    if chromium.exists() {
        return Ok(chromium);
    }
    println!("browser: installing {} with apt-get", PACKAGES.join(", "));
    // A fresh machine has no package lists yet: install, and on failure update and retry.
    if apt_install().is_err() {
        run(Command::new("apt-get").args(["update", "-q"]))?;
        apt_install()?;
    }
    if chromium.exists() {
        Ok(chromium)
    } else {
        Err(format!(
            "apt-get installed {} but {CHROMIUM} is missing",
            PACKAGES[0]
        )
        .into())
    }
}

fn apt_install() -> Result<()> {
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(PACKAGES)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
