//! Headless Chromium for end-to-end tests (the status page, the access guard).
//!
//! Chromium comes from `cargo xtask ci` (Debian's `chromium`, installed with apt-get when
//! missing), which sets `HFCLAW_TEST_CHROMIUM` and `HFCLAW_REQUIRE_BROWSER_TESTS=1`; a
//! plain `cargo test` without it skips browser tests with a note on stderr, CI never does.
#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Chromium to test with, or `None` (and a note) when this run has none.
pub fn chromium() -> Option<PathBuf> {
    match std::env::var_os("HFCLAW_TEST_CHROMIUM") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            assert!(
                std::env::var_os("HFCLAW_REQUIRE_BROWSER_TESTS").is_none(),
                "HFCLAW_REQUIRE_BROWSER_TESTS is set but HFCLAW_TEST_CHROMIUM is not"
            );
            eprintln!(
                "note: browser test skipped: no HFCLAW_TEST_CHROMIUM (cargo xtask ci provides one)"
            );
            None
        }
    }
}

/// Runs headless Chromium with a fresh profile; returns its stdout. Killed after 90 s.
pub fn run_chromium(chromium: &Path, dir: &Path, profile: &str, args: &[&str]) -> String {
    let profile = dir.join(format!("profile-{profile}"));
    let out_path = dir.join(format!("{}.out", profile.display()));
    let err_path = dir.join(format!("{}.err", profile.display()));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish in 90 s:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "chromium failed ({status}):\n{}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    std::fs::read_to_string(&out_path).unwrap()
}
