//! `cargo xtask bench gateway`: `hfclaw serve` against what a proxy does on this machine,
//! in one run (issue 23).
//!
//! An nginx answering `return 200` is the upstream. Four targets are measured against it:
//! the upstream direct, nginx as a keep-alive reverse proxy (the in-run limit), and
//! `hfclaw serve` with its usage ledger (the default) and with `--no-ledger`. For a
//! 200-byte and a 200 KB chat body, each round runs every target in turn (rounds
//! interleave, so the machine's drift hits all alike): wrk with 16 connections for
//! throughput (and the proxy's CPU time per request over that run), then wrk with one
//! connection for p50/p99. Results are medians over the rounds, reported against
//! nginx-proxy.
//!
//! nginx and wrk are Debian's packages, downloaded on first use and unpacked under
//! `target/bench-tools/` (`apt-get download` + `dpkg -x`: nothing is installed on the
//! system, and no nginx service is started).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{Measurement, Target};
use crate::{Result, root, run};

#[path = "../bin/shared/gateway.rs"]
mod gateway;
use gateway::Gateway;

/// Debian packages the bench needs (wrk's LuaJIT comes along).
const PACKAGES: [&str; 3] = ["nginx", "wrk", "libluajit2-5.1-2"];
/// Rounds; each number is the median over them.
const ROUNDS: usize = 3;
/// Length of one wrk run.
const RUN: Duration = Duration::from_secs(3);
/// Connections of the throughput runs.
const CLIENTS: usize = 16;
/// The model the bodies ask for (the gateway resolves it; the upstream ignores it).
const MODEL: &str = "deepseek-ai/DeepSeek-R1";
/// The upstream's answer to every chat request (usage included, so the gateway meters).
const ANSWER: &str = r#"{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"deepseek-ai/DeepSeek-R1","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I help you today?"}}],"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}}"#;

/// wrk's script: POST the body in `$BODY_FILE`, then print one JSON line of results.
const WRK_SCRIPT: &str = r#"
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\n{"requests":%d,"duration_us":%d,"p50_us":%.1f,"p99_us":%.1f,"errors":%d,"status_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"#;

/// The four targets, in the order they run and are shown.
const TARGETS: [&str; 4] = [
    "upstream direct",
    "nginx keep-alive proxy",
    "hfclaw serve",
    "hfclaw serve --no-ledger",
];

/// What one wrk run printed.
#[derive(Debug, Deserialize)]
struct WrkResult {
    requests: u64,
    duration_us: u64,
    p50_us: f64,
    p99_us: f64,
    errors: u64,
    status_errors: u64,
}

/// One target's numbers in one round.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    rate: f64,
    cpu_us: f64,
    p50_us: f64,
    p99_us: f64,
}

/// The unpacked tools.
struct Tools {
    nginx: PathBuf,
    wrk: PathBuf,
    libs: PathBuf,
}

/// Runs the comparison; the measurements carry the issue's targets.
pub(super) fn run_comparison(hfclaw: &Path) -> Result<Vec<(Measurement, Target)>> {
    let tools = tools()?;
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("post.lua");
    std::fs::write(&script, WRK_SCRIPT)?;
    let upstream = Nginx::start(&tools, &dir.path().join("upstream"), &upstream_conf)?;
    let up_port = upstream.port;
    let proxy = Nginx::start(&tools, &dir.path().join("proxy"), &|port, prefix| {
        proxy_conf(port, prefix, up_port)
    })?;
    let router = format!("http://127.0.0.1:{up_port}/v1");
    let home = dir.path().join("home");
    let start =
        |extra: &[&str]| Gateway::start(hfclaw, &home, &router, extra).map_err(|e| e.to_string());
    let gateway = start(&[])?;
    let unrecorded = start(&["--no-ledger"])?;
    let urls = [
        format!("http://127.0.0.1:{up_port}/v1/chat/completions"),
        format!("http://127.0.0.1:{}/v1/chat/completions", proxy.port),
        format!("http://{}/v1/chat/completions", gateway.addr),
        format!("http://{}/v1/chat/completions", unrecorded.addr),
    ];
    // Whose CPU time a target costs: the upstream's for direct, else the proxy's.
    let pids: [Vec<u32>; 4] = [
        upstream.pids(),
        proxy.pids(),
        vec![gateway.pid()],
        vec![unrecorded.pid()],
    ];
    let mut results = Vec::new();
    for (size, body) in [("200 B", small_body()), ("200 KB", large_body())] {
        let body_file = dir.path().join("body.json");
        std::fs::write(&body_file, &body)?;
        let wrk = Wrk {
            tools: &tools,
            script: &script,
            body: &body_file,
        };
        // Warm-up: connections, the gateway's first requests, nginx's buffers.
        for url in &urls {
            wrk.run(url, 2, Duration::from_secs(1))?;
        }
        let mut rounds: Vec<[Sample; 4]> = Vec::new();
        for round in 0..ROUNDS {
            let mut samples = [Sample::default(); 4];
            for (i, url) in urls.iter().enumerate() {
                let cpu_before = cpu_seconds(&pids[i])?;
                let load = wrk.run(url, CLIENTS, RUN)?;
                let cpu = cpu_seconds(&pids[i])? - cpu_before;
                let one = wrk.run(url, 1, RUN)?;
                samples[i] = Sample {
                    rate: load.requests as f64 / (load.duration_us as f64 / 1e6),
                    cpu_us: cpu * 1e6 / load.requests.max(1) as f64,
                    p50_us: one.p50_us,
                    p99_us: one.p99_us,
                };
            }
            eprintln!(
                "bench gateway: {size} body, round {} of {ROUNDS} done",
                round + 1
            );
            rounds.push(samples);
        }
        let medians: Vec<Sample> = (0..TARGETS.len())
            .map(|i| Sample {
                rate: median(rounds.iter().map(|r| r[i].rate)),
                cpu_us: median(rounds.iter().map(|r| r[i].cpu_us)),
                p50_us: median(rounds.iter().map(|r| r[i].p50_us)),
                p99_us: median(rounds.iter().map(|r| r[i].p99_us)),
            })
            .collect();
        print_table(size, body.len(), &medians, &rounds);
        results.extend(measurements(size, &medians, &rounds));
    }
    unrecorded.stop().map_err(|e| e.to_string())?;
    gateway.stop().map_err(|e| e.to_string())?;
    Ok(results)
}

/// The issue's targets, from one body size's medians: hfclaw's throughput ≥ 60% of
/// nginx-proxy's; the p99 hfclaw adds over direct ≤ 2× what nginx adds; the ledger's p99
/// cost ≤ 0.05 ms (each round's ledger-minus-no-ledger, then the median).
fn measurements(size: &str, m: &[Sample], rounds: &[[Sample; 4]]) -> Vec<(Measurement, Target)> {
    let (direct, nginx, hfclaw, no_ledger) = (m[0], m[1], m[2], m[3]);
    let ledger_cost = median(rounds.iter().map(|r| r[2].p99_us - r[3].p99_us));
    let yardstick = P99Yardstick::of(m, rounds);
    let p99_baseline = if yardstick.floored() {
        format!(
            "noise floor (nginx adds {:+.0} µs)",
            yardstick.nginx_added_us
        )
    } else {
        "nginx proxy's p99 added".to_owned()
    };
    vec![
        (
            Measurement {
                name: format!("hfclaw serve req/s, {CLIENTS} clients, {size}"),
                value: hfclaw.rate,
                unit: "req/s".to_owned(),
                baseline: "nginx keep-alive proxy".to_owned(),
                baseline_value: nginx.rate,
            },
            Target::RatioAtLeast(0.6),
        ),
        (
            Measurement {
                name: format!("hfclaw serve p99 added, 1 client, {size}"),
                value: (hfclaw.p99_us - direct.p99_us) / 1e3,
                unit: "ms".to_owned(),
                baseline: p99_baseline,
                baseline_value: yardstick.us() / 1e3,
            },
            Target::RatioAtMost(2.0),
        ),
        (
            Measurement {
                name: format!("usage ledger p99 cost, 1 client, {size}"),
                value: ledger_cost / 1e3,
                unit: "ms".to_owned(),
                baseline: "--no-ledger p99".to_owned(),
                baseline_value: no_ledger.p99_us / 1e3,
            },
            Target::AtMost(0.05),
        ),
    ]
}

/// The table the README shows, with each target's spread over the rounds.
fn print_table(size: &str, bytes: usize, m: &[Sample], rounds: &[[Sample; 4]]) {
    let nginx = m[1];
    let direct = m[0];
    let yardstick = P99Yardstick::of(m, rounds);
    println!();
    println!(
        "gateway vs nginx, {size} chat POST ({bytes} bytes), median of {ROUNDS} interleaved rounds"
    );
    println!();
    if yardstick.floored() {
        println!(
            "(nginx-proxy's added p99, {:+.0} µs, is within the noise of direct's p99 over the rounds: \
             added p99s are compared with that noise, {:.0} µs, instead)",
            yardstick.nginx_added_us,
            yardstick.us()
        );
        println!();
    }
    println!(
        "| target | req/s at {CLIENTS} clients | p50 / p99 at 1 client | CPU per request | req/s vs nginx-proxy | p99 added vs nginx-proxy's |"
    );
    println!("|---|---|---|---|---|---|");
    for (i, name) in TARGETS.iter().enumerate() {
        let s = m[i];
        let range = |f: fn(&Sample) -> f64| {
            let values: Vec<f64> = rounds.iter().map(|r| f(&r[i])).collect();
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (lo, hi)
        };
        let (rate_lo, rate_hi) = range(|s| s.rate);
        let (p99_lo, p99_hi) = range(|s| s.p99_us);
        let cpu_owner = if i == 0 { " (upstream)" } else { "" };
        let ratio_rate = format!("{:.2}×", s.rate / nginx.rate);
        let added = s.p99_us - direct.p99_us;
        let ratio_p99 = match i {
            0 => "—".to_owned(),
            1 if yardstick.floored() => format!("within noise ({added:+.0} µs)"),
            _ => format!("{:.2}× ({added:+.0} µs)", added / yardstick.us()),
        };
        println!(
            "| {name} | {:.0} ({rate_lo:.0}–{rate_hi:.0}) | {:.0} / {:.0} µs ({p99_lo:.0}–{p99_hi:.0}) | {:.1} µs{cpu_owner} | {ratio_rate} | {ratio_p99} |",
            s.rate, s.p50_us, s.p99_us, s.cpu_us,
        );
    }
}

/// Below this, a p99 difference at one client is not told apart from noise whatever the
/// rounds say (a few scheduler wake-ups).
const P99_NOISE_MIN_US: f64 = 10.0;

/// What the p99 hfclaw adds over direct is compared with: what nginx-proxy adds, unless
/// that is within the noise (direct's own p99 varies over the rounds by more than nginx
/// adds, or nginx even measures below direct); then the noise itself. A ratio to a
/// baseline near zero or below it would pass or fail by chance.
struct P99Yardstick {
    nginx_added_us: f64,
    noise_us: f64,
}

impl P99Yardstick {
    fn of(m: &[Sample], rounds: &[[Sample; 4]]) -> P99Yardstick {
        let direct: Vec<f64> = rounds.iter().map(|r| r[0].p99_us).collect();
        let lo = direct.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = direct.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let spread = if direct.is_empty() { 0.0 } else { hi - lo };
        P99Yardstick {
            nginx_added_us: m[1].p99_us - m[0].p99_us,
            noise_us: spread.max(P99_NOISE_MIN_US),
        }
    }

    /// True when nginx's added p99 is within the noise.
    fn floored(&self) -> bool {
        self.nginx_added_us < self.noise_us
    }

    /// The yardstick in µs (always positive).
    fn us(&self) -> f64 {
        self.nginx_added_us.max(self.noise_us)
    }
}

/// A small chat body (about 200 bytes).
fn small_body() -> Vec<u8> {
    serde_json::json!({
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Say hello in one short sentence, please."},
        ],
        "max_tokens": 64,
    })
    .to_string()
    .into_bytes()
}

/// An agent turn of about 200 KB: tool definitions and a long conversation, as Claude
/// Code sends them, with the escapes and numbers real bodies carry.
fn large_body() -> Vec<u8> {
    let tools: Vec<serde_json::Value> = (0..40)
        .map(|i| {
            serde_json::json!({"type": "function", "function": {
                "name": format!("tool_{i}"),
                "description": format!("Runs step {i} of the task.\nIt reads \"files\" and writes a report. ").repeat(6),
                "parameters": {"type": "object", "properties": {
                    "path": {"type": "string", "description": "A path, e.g. C:\\work\\src"},
                    "limit": {"type": "integer", "minimum": 0, "maximum": 100000}},
                    "required": ["path"]}}})
        })
        .collect();
    let mut messages =
        vec![serde_json::json!({"role": "system", "content": "You are a coding agent."})];
    let mut i = 0;
    while serde_json::to_vec(&messages).map_or(0, |v| v.len()) < 180_000 {
        messages.push(serde_json::json!({"role": "user", "content":
            format!("Turn {i}: here is the file you asked for:\n```rust\nfn main() {{ println!(\"héllo {i}\"); }}\n```\n").repeat(8)}));
        messages.push(serde_json::json!({"role": "assistant", "content":
            format!("I read it (turn {i}). Next I will run the tests and report back.\t✓ ").repeat(8)}));
        i += 1;
    }
    serde_json::json!({"model": MODEL, "messages": messages, "tools": tools, "max_tokens": 4096,
        "temperature": 0.2})
    .to_string()
    .into_bytes()
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// nginx and wrk, unpacked under `target/bench-tools/` on first use.
fn tools() -> Result<Tools> {
    let dir = root().join("target/bench-tools");
    let unpacked = dir.join("root");
    let tools = Tools {
        nginx: unpacked.join("usr/sbin/nginx"),
        wrk: unpacked.join("usr/bin/wrk"),
        libs: unpacked.join("usr/lib/x86_64-linux-gnu"),
    };
    if tools.nginx.exists() && tools.wrk.exists() {
        return Ok(tools);
    }
    let debs = dir.join("debs");
    std::fs::create_dir_all(&debs)?;
    println!(
        "bench: downloading {} (Debian packages) into {}",
        PACKAGES.join(", "),
        dir.display()
    );
    let download = || {
        run(Command::new("apt-get")
            .args(["download", "-q"])
            .args(PACKAGES)
            .current_dir(&debs))
    };
    // A fresh machine has no package lists yet: on failure update and retry.
    if download().is_err() {
        run(Command::new("apt-get").args(["update", "-q"]))?;
        download()?;
    }
    for entry in std::fs::read_dir(&debs)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "deb") {
            run(Command::new("dpkg").arg("-x").arg(&path).arg(&unpacked))?;
        }
    }
    if tools.nginx.exists() && tools.wrk.exists() {
        Ok(tools)
    } else {
        Err(format!("unpacking {} gave no nginx or wrk", PACKAGES.join(", ")).into())
    }
}

struct Wrk<'a> {
    tools: &'a Tools,
    script: &'a Path,
    body: &'a Path,
}

impl Wrk<'_> {
    /// One run with `connections` connections (one wrk thread per core, at most one per
    /// connection); an error when any request failed or answered other than 2xx.
    fn run(&self, url: &str, connections: usize, length: Duration) -> Result<WrkResult> {
        let threads = connections.min(2);
        let output = Command::new(&self.tools.wrk)
            .args(["-t", &threads.to_string(), "-c", &connections.to_string()])
            .args(["-d", &format!("{}s", length.as_secs())])
            .arg("-s")
            .arg(self.script)
            .arg(url)
            .env("LD_LIBRARY_PATH", &self.tools.libs)
            .env("BODY_FILE", self.body)
            .stderr(Stdio::inherit())
            .output()?;
        if !output.status.success() {
            return Err(format!("wrk {url} exited with {}", output.status).into());
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .ok_or_else(|| format!("wrk {url} printed no result:\n{text}"))?;
        let result: WrkResult = serde_json::from_str(line)?;
        if result.errors > 0 || result.status_errors > 0 || result.requests == 0 {
            return Err(format!(
                "wrk {url}: {} requests, {} failed, {} answered non-2xx",
                result.requests, result.errors, result.status_errors
            )
            .into());
        }
        Ok(result)
    }
}

/// A free loopback port (bound, then let go).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The upstream: a fixed answer to every chat request, an empty model list.
fn upstream_conf(port: u16, prefix: &Path) -> String {
    let answer = ANSWER.replace('\'', "\\'");
    let server = format!(
        "server {{
    listen 127.0.0.1:{port};
    location = /v1/models {{ default_type application/json; return 200 '{{\"object\":\"list\",\"data\":[]}}'; }}
    location / {{ default_type application/json; return 200 '{answer}'; }}
  }}"
    );
    http_conf(prefix, &server)
}

/// The proxy: nginx's usual keep-alive reverse-proxy setup in front of the upstream.
fn proxy_conf(port: u16, prefix: &Path, upstream: u16) -> String {
    let server = format!(
        "upstream router {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://router;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }}
  }}"
    );
    http_conf(prefix, &server)
}

/// One worker per core (the gateway's runtime has one thread per core too); bodies up to
/// 1 MiB are kept in memory; every path under `prefix`.
fn http_conf(prefix: &Path, server: &str) -> String {
    let p = prefix.display();
    format!(
        "daemon off;
master_process on;
worker_processes auto;
pid {p}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {p}/tmp/body;
  proxy_temp_path {p}/tmp/proxy;
  fastcgi_temp_path {p}/tmp/fastcgi;
  uwsgi_temp_path {p}/tmp/uwsgi;
  scgi_temp_path {p}/tmp/scgi;
  client_body_buffer_size 1m;
  client_max_body_size 16m;
  keepalive_requests 10000000;
  {server}
}}
"
    )
}

/// A running nginx (master and workers), stopped on drop.
struct Nginx {
    child: Child,
    port: u16,
}

impl Nginx {
    fn start(tools: &Tools, prefix: &Path, conf: &dyn Fn(u16, &Path) -> String) -> Result<Nginx> {
        std::fs::create_dir_all(prefix.join("tmp"))?;
        let port = free_port()?;
        let conf_path = prefix.join("nginx.conf");
        std::fs::write(&conf_path, conf(port, prefix))?;
        let child = Command::new(&tools.nginx)
            .arg("-p")
            .arg(prefix)
            .arg("-c")
            .arg(&conf_path)
            .args(["-e", "stderr"])
            .env("LD_LIBRARY_PATH", &tools.libs)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()?;
        let nginx = Nginx { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(format!("nginx did not listen on port {port}").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(nginx)
    }

    /// The master and its workers.
    fn pids(&self) -> Vec<u32> {
        let master = self.child.id();
        let mut pids = vec![master];
        pids.extend(children_of(master));
        pids
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: fast shutdown of the master and its workers.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    let after = stat.rsplit_once(") ")?.1.to_owned();
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// User plus system CPU time of `pids` together, in seconds.
fn cpu_seconds(pids: &[u32]) -> Result<f64> {
    let mut total = 0.0;
    for &pid in pids {
        total += gateway::cpu_seconds_of(pid).map_err(|e| e.to_string())?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(direct: f64, nginx: f64) -> [Sample; 4] {
        let p99 = |p99_us| Sample {
            p99_us,
            ..Sample::default()
        };
        [p99(direct), p99(nginx), p99(0.0), p99(0.0)]
    }

    #[test]
    fn a_negative_or_tiny_nginx_p99_is_replaced_by_the_noise() {
        // nginx measured 666 µs below direct: a ratio to it would mean nothing.
        let rounds = [round(700.0, 40.0), round(760.0, 90.0), round(720.0, 60.0)];
        let medians = [rounds[2][0], rounds[2][1]];
        let stick = P99Yardstick::of(&medians, &rounds);
        assert!(stick.floored());
        assert_eq!(stick.nginx_added_us, -660.0);
        assert_eq!(stick.us(), 60.0); // direct's spread over the rounds
        // Quiet rounds: the floor is the minimum.
        let rounds = [round(30.0, 31.0), round(30.0, 32.0), round(30.0, 33.0)];
        let stick = P99Yardstick::of(&[rounds[1][0], rounds[1][1]], &rounds);
        assert!(stick.floored());
        assert_eq!(stick.us(), P99_NOISE_MIN_US);
    }

    #[test]
    fn a_clear_nginx_p99_is_the_yardstick() {
        let rounds = [round(26.0, 80.0), round(31.0, 86.0), round(28.0, 58.0)];
        let stick = P99Yardstick::of(&[rounds[2][0], rounds[0][1]], &rounds);
        assert!(!stick.floored());
        assert_eq!(stick.us(), 52.0);
    }
}
