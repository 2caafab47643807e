//! A running `hfclaw serve` for the gateway benchmarks (`load-gen`, and `cargo xtask bench
//! gateway`, which includes this file with `#[path]`).
#![allow(dead_code)] // each includer uses part of it

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A running `hfclaw serve`.
pub struct Gateway {
    child: Child,
    /// `host:port` it listens on.
    pub addr: String,
}

/// `hfclaw` with the benchmarks' environment: `home` as HOME (config, data dir, so the
/// ledger too), the fake as router and Hub.
pub fn command(hfclaw: &Path, home: &Path, router_url: &str) -> Command {
    let mut command = Command::new(hfclaw);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("HFCLAW_CACHE_DIR", home.join("cache"))
        // The fake plays the Hub too (embedding models' provider mappings).
        .env("HFCLAW_HUB_URL", router_url.trim_end_matches("/v1"))
        .env("HF_TOKEN", "hf_benchBenchBenchBench0000")
        .env("NO_COLOR", "1");
    command
}

impl Gateway {
    pub fn start(hfclaw: &Path, home: &Path, router_url: &str, extra: &[&str]) -> Result<Gateway> {
        let config = home.join(".openclaw/openclaw.json");
        std::fs::create_dir_all(config.parent().ok_or("no config dir")?)?;
        std::fs::write(
            &config,
            r#"{agents:{defaults:{model:{primary:"huggingface/deepseek-ai/DeepSeek-R1"}}}}"#,
        )?;
        let mut child = command(hfclaw, home, router_url)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--router-url",
                router_url,
            ])
            .args(["--max-concurrent", "4096", "--timeout", "60"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => Ok(Gateway { child, addr }),
            Err(_) => {
                let _ = child.kill();
                Err("hfclaw serve did not start".into())
            }
        }
    }

    /// Resident set size now, from `/proc/PID/status`.
    pub fn rss_mib(&self) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or("no VmRSS in /proc/PID/status")?;
        Ok(kib / 1024.0)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User plus system CPU time the process has used.
    pub fn cpu_seconds(&self) -> Result<f64> {
        cpu_seconds_of(self.child.id())
    }

    /// SIGTERM, then waits (up to 15 s) for a graceful stop.
    pub fn stop(mut self) -> Result<()> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while self.child.try_wait()?.is_none() {
            if started.elapsed() > Duration::from_secs(15) {
                self.child.kill()?;
                return Err("hfclaw serve did not stop on SIGTERM".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// User plus system CPU time process `pid` has used, from `/proc/PID/stat`.
pub fn cpu_seconds_of(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at `) `.
    let after = stat.rsplit_once(") ").ok_or("bad /proc/PID/stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64> {
        Ok(fields
            .get(i)
            .ok_or("short /proc/PID/stat")?
            .parse::<f64>()?)
    };
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    Ok((ticks(11)? + ticks(12)?) / hz)
}
