//! A running `hfclaw serve` for the agent cases, and the `ip` they bring loopback up with.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use hfclaw_e2e::FakeRouter;

use super::agents::{CLIENT_KEY, GATEWAY_CONFIG, HF_TOKEN};
use super::process::tail;
use crate::Result;

/// `ip`, where iproute2 keeps it (often outside a user's `PATH`).
pub(super) fn ip() -> PathBuf {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("ip"))
}

/// A running `hfclaw serve`; killed when dropped.
pub(super) struct Gateway {
    child: Child,
    /// `127.0.0.1:PORT`, as it printed.
    pub(super) addr: String,
    log: Arc<Mutex<String>>,
}

impl Gateway {
    /// `hfclaw serve --listen LISTEN --api-key KEY EXTRA…` with [`GATEWAY_CONFIG`], the
    /// user's token in `HF_TOKEN` and `router` as the router; waits for "listening on".
    pub(super) fn start(
        hfclaw: &Path,
        dir: &Path,
        router: &FakeRouter,
        listen: &str,
        extra: &[&str],
    ) -> Result<Self> {
        fs::create_dir_all(dir)?;
        let config = dir.join("openclaw.json");
        fs::write(&config, GATEWAY_CONFIG)?;
        let mut child = Command::new(hfclaw)
            .arg("--config")
            .arg(&config)
            .args(["serve", "--listen", listen, "--api-key", CLIENT_KEY])
            .args(["--router-url", &router.base_url()])
            .args(extra)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", dir)
            .env("HFCLAW_CACHE_DIR", dir.join("cache"))
            .env("HFCLAW_DATA_DIR", dir.join("data"))
            .env("HF_TOKEN", HF_TOKEN)
            // The fake router plays the Hub too (embedding models' provider mappings).
            .env("HFCLAW_HUB_URL", router.hub_url())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", hfclaw.display()))?;
        let stderr = child.stderr.take().ok_or("hfclaw serve has no stderr")?;
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.trim().to_owned());
                }
                let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        let mut gateway = Self {
            child,
            addr: String::new(),
            log,
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => gateway.addr = addr,
            Err(_) => {
                return Err(
                    format!("hfclaw serve did not start:\n{}", tail(&gateway.log(), 10)).into(),
                );
            }
        }
        Ok(gateway)
    }

    /// What it printed so far.
    pub(super) fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
