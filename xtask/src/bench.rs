//! `cargo xtask bench`: builds release binaries, measures, and prints each number next to
//! a baseline measured in the same run and the target it must meet.
//!
//! Timings are best-of-N or medians of many runs, never single shots: the machine is shared.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use hfclaw_accounting::time;
use serde::Deserialize;

use crate::{Result, cargo, root};

mod proxy;

/// One measured number with its in-run baseline.
#[derive(Debug, Deserialize)]
struct Measurement {
    name: String,
    value: f64,
    unit: String,
    baseline: String,
    baseline_value: f64,
}

/// A target a measurement must meet.
#[derive(Debug, Clone, Copy)]
enum Target {
    AtMost(f64),
    AtLeast(f64),
    /// At least this fraction of the in-run baseline.
    RatioAtLeast(f64),
    /// The value divided by its in-run baseline.
    RatioAtMost(f64),
    /// At most this much more than the in-run baseline (in the measurement's unit).
    AddsAtMost(f64),
}

impl Target {
    fn met(self, m: &Measurement) -> bool {
        match self {
            Target::AtMost(limit) => m.value <= limit,
            Target::AtLeast(limit) => m.value >= limit,
            Target::RatioAtLeast(ratio) => m.value >= ratio * m.baseline_value,
            Target::RatioAtMost(limit) => m.value <= limit * m.baseline_value,
            Target::AddsAtMost(limit) => m.value - m.baseline_value <= limit,
        }
    }

    fn describe(self, unit: &str) -> String {
        match self {
            Target::AtMost(limit) => format!("≤ {limit} {unit}"),
            Target::AtLeast(limit) => format!("≥ {limit} {unit}"),
            Target::RatioAtLeast(ratio) => format!("≥ {:.0}% of baseline", ratio * 100.0),
            Target::RatioAtMost(limit) => format!("ratio ≤ {limit}"),
            Target::AddsAtMost(limit) => format!("≤ baseline + {limit} {unit}"),
        }
    }
}

/// The release binaries the benchmarks run, and a home directory for them.
struct Binaries {
    hfclaw: PathBuf,
    runner: PathBuf,
    load_gen: PathBuf,
    home: tempfile::TempDir,
}

fn build() -> Result<Binaries> {
    cargo(&[
        "build",
        "--release",
        "--locked",
        "-p",
        "hfclaw",
        "-p",
        "xtask",
        "--bin",
        "hfclaw",
        "--bin",
        "bench-runner",
        "--bin",
        "load-gen",
    ])?;
    let release = root().join("target/release");
    Ok(Binaries {
        hfclaw: release.join("hfclaw"),
        runner: release.join("bench-runner"),
        load_gen: release.join("load-gen"),
        home: tempfile::tempdir()?,
    })
}

/// Runs every benchmark and prints the report; fails when a target is missed.
pub fn run() -> Result<()> {
    let bin = build()?;
    let mut results = cli(&bin)?;
    results.extend(ledger(&bin)?);
    results.extend(gateway(&bin)?);
    results.extend(proxy::run_comparison(&bin.hfclaw)?);
    report(&results)
}

/// `cargo xtask bench gateway`: only the gateway against nginx (`proxy.rs`).
pub fn run_gateway() -> Result<()> {
    let bin = build()?;
    report(&proxy::run_comparison(&bin.hfclaw)?)
}

/// `cargo xtask bench ledger`: only the usage ledger's entries (the whole run is long).
pub fn run_ledger() -> Result<()> {
    let bin = build()?;
    report(&ledger(&bin)?)
}

fn report(results: &[(Measurement, Target)]) -> Result<()> {
    print_report(results);
    let missed = results.iter().filter(|(m, t)| !t.met(m)).count();
    if missed > 0 {
        return Err(format!("{missed} benchmark target(s) missed").into());
    }
    Ok(())
}

/// Start-up, parsing, streaming and config edits.
fn cli(bin: &Binaries) -> Result<Vec<(Measurement, Target)>> {
    let (hfclaw, runner, home) = (&bin.hfclaw, &bin.runner, bin.home.path());
    let config = root().join("tests/fixtures/seed-configs/3-primary-with-fallback.json5");
    let mut results: Vec<(Measurement, Target)> = Vec::new();
    let list_args = [
        "--config",
        path_str(&config)?,
        "--offline",
        "models",
        "list",
    ];
    results.push((
        cli_wall_time(hfclaw, &list_args, home)?,
        Target::AtMost(5.0),
    ));
    results.push((
        cli_peak_rss(runner, hfclaw, &list_args, home)?,
        Target::AtMost(10.0),
    ));
    results.push((
        cli_wall_time(
            hfclaw,
            &[
                "--config",
                path_str(&config)?,
                "--offline",
                "models",
                "show",
                "huggingface/openai/gpt-oss-120b",
            ],
            home,
        )?,
        Target::AtMost(5.0),
    ));
    results.push((
        list_with_unreachable_router(hfclaw, &config)?,
        Target::RatioAtMost(1.2),
    ));
    results.push((runner_measurement(runner, "refs")?, Target::AtLeast(5.0)));
    results.push((
        runner_measurement(runner, "routes")?,
        Target::AddsAtMost(1.0),
    ));
    results.push((
        runner_measurement(runner, "discovery")?,
        Target::AtMost(20.0),
    ));
    results.push((runner_measurement(runner, "sse")?, Target::AtLeast(200.0)));
    // The gateway's access guard (issue 24): ≤ 1 µs per request.
    results.push((runner_measurement(runner, "guard")?, Target::AtMost(1000.0)));
    // Reading a request's needs for fallbacks (issue 20), when the byte search cannot
    // settle it, costs about one more pass over the conversation (measured 2.2×).
    results.push((
        runner_measurement(runner, "needs")?,
        Target::RatioAtMost(3.0),
    ));
    results.push((
        runner_measurement(runner, "embeddings-convert")?,
        Target::AtMost(0.5),
    ));
    let hfclaw_arg = path_str(hfclaw)?;
    results.push((
        runner_measurement_with(runner, &["first-byte", hfclaw_arg])?,
        Target::AtMost(1.0),
    ));
    results.push((
        runner_measurement_with(runner, &["chain", hfclaw_arg])?,
        Target::AtMost(1000.0),
    ));
    results.push((
        cli_set_big_config(runner, hfclaw, home)?,
        Target::AtMost(10.0),
    ));
    results.push((
        runner_measurement(runner, "array-edit")?,
        Target::AtMost(20.0),
    ));
    results.extend(huge_config_runs(runner, hfclaw, home)?);
    Ok(results)
}

/// The usage ledger: 1M rows written through the real writer, then read by `hfclaw usage`.
fn ledger(bin: &Binaries) -> Result<Vec<(Measurement, Target)>> {
    let (hfclaw, runner, home) = (&bin.hfclaw, &bin.runner, bin.home.path());
    let mut results: Vec<(Measurement, Target)> = Vec::new();
    let ledger_dir = tempfile::tempdir()?;
    let ledger = ledger_dir.path().join("usage.sqlite3");
    let ledger_arg = path_str(&ledger)?;
    // File size per 1M rows, then the writer's cost per row.
    let fill = measurements(runner, &["ledger-fill", ledger_arg, "1000000"])?;
    results.extend(
        fill.into_iter()
            .zip([Target::AtMost(250.0), Target::AtMost(20.0)]),
    );
    results.push((
        cli_usage_wall(hfclaw, ledger_arg, &[], home)?,
        Target::AtMost(200.0),
    ));
    results.push((
        cli_usage_wall(hfclaw, ledger_arg, &["--by", "day", "--since", "7d"], home)?,
        Target::AtMost(200.0),
    ));
    // The rollup's worst case: both bounds a minute inside a day, so almost two days of
    // rows are read from the table.
    let today = time::day_of(time::unix_ms(SystemTime::now()));
    let since = format!("{}T00:01", time::format_day(today - 8));
    let until = format!("{}T23:59", time::format_day(today - 2));
    results.push((
        cli_usage_wall(
            hfclaw,
            ledger_arg,
            &["--since", &since, "--until", &until],
            home,
        )?,
        Target::AtMost(200.0),
    ));
    results.push((
        runner_measurement(runner, "ledger-record")?,
        Target::AtMost(2_000.0),
    ));
    Ok(results)
}

/// The gateway under load (`load-gen`).
fn gateway(bin: &Binaries) -> Result<Vec<(Measurement, Target)>> {
    let hfclaw_arg = path_str(&bin.hfclaw)?;
    // The gateway load run prints, in order: chat's added latency p50 and p99, what
    // Messages, Responses and (warm) embeddings add on top of chat's (p50, p99 each),
    // throughput, CPU per request, what the usage ledger adds (p50, throughput against
    // --no-ledger), what a database key with limits adds over a file key (p50) and RSS
    // with open streams.
    let gateway_targets = [
        Target::AtMost(0.2),
        Target::AtMost(1.0),
        Target::AtMost(0.05),
        Target::AtMost(0.05),
        Target::AtMost(0.05),
        Target::AtMost(0.05),
        Target::AtMost(0.05),
        Target::AtMost(0.05),
        Target::RatioAtLeast(0.5),
        Target::AtMost(0.05),
        Target::AtMost(0.05),
        Target::RatioAtLeast(0.9),
        // A database key's lookup, limit checks and budget reservation (issue 22).
        Target::AtMost(0.02),
        Target::AtMost(100.0),
    ];
    let gateway = measurements(&bin.load_gen, &[hfclaw_arg])?;
    if gateway.len() != gateway_targets.len() {
        return Err(format!(
            "load-gen printed {} measurements, expected {}",
            gateway.len(),
            gateway_targets.len()
        )
        .into());
    }
    Ok(gateway.into_iter().zip(gateway_targets).collect())
}

fn print_report(results: &[(Measurement, Target)]) {
    println!();
    println!(
        "{:<44} {:>14}   {:<34} {:>7}   {:<14}",
        "benchmark", "result", "baseline (same run)", "ratio", "target"
    );
    for (m, target) in results {
        let ratio = if m.baseline_value > 0.0 {
            m.value / m.baseline_value
        } else {
            f64::NAN
        };
        let mark = if target.met(m) { "✓" } else { "✗" };
        println!(
            "{:<44} {:>14}   {:<34} {:>6.2}x   {:<14} {mark}",
            m.name,
            format!("{:.2} {}", m.value, m.unit),
            format!("{}: {:.2} {}", m.baseline, m.baseline_value, m.unit),
            ratio,
            target.describe(&m.unit),
        );
    }
}

/// Median wall time of `hfclaw ARGS` over many runs, against the process-spawn floor (`true`).
fn cli_wall_time(hfclaw: &Path, args: &[&str], home: &Path) -> Result<Measurement> {
    const RUNS: usize = 200;
    let ours = median_wall(RUNS, || spawn_quiet(hfclaw, args, home))?;
    let floor = median_wall(RUNS, || spawn_quiet(Path::new("true"), &[], home))?;
    Ok(Measurement {
        name: format!("`hfclaw {}` wall, median", args[3..].join(" ")),
        value: ms(ours),
        unit: "ms".to_owned(),
        baseline: "spawn `true`".to_owned(),
        baseline_value: ms(floor),
    })
}

/// `hfclaw models list` on its default path (it may fetch) when the router refuses
/// connections, after one failed attempt, against `--offline` in the same home: the
/// failure is remembered, so the default path should cost what `--offline` costs.
/// Runs alternate, so both see the same machine.
fn list_with_unreachable_router(hfclaw: &Path, config: &Path) -> Result<Measurement> {
    const RUNS: usize = 100;
    let home_dir = tempfile::tempdir()?;
    let home = home_dir.path();
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let router = format!("http://127.0.0.1:{port}/v1");
    let config = path_str(config)?;
    let run = |offline: bool| -> Result<Duration> {
        let mut cmd = Command::new(hfclaw);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("HFCLAW_CACHE_DIR", home.join("cache"))
            .env("HFCLAW_ROUTER_URL", &router)
            .args(["--config", config])
            .args(offline.then_some("--offline"))
            .args(["models", "list"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let start = Instant::now();
        let status = cmd.status()?;
        if !status.success() {
            return Err(format!("hfclaw models list exited with {status}").into());
        }
        Ok(start.elapsed())
    };
    run(false)?; // the first attempt fails and is remembered
    let (mut default, mut offline) = (Vec::with_capacity(RUNS), Vec::with_capacity(RUNS));
    for _ in 0..RUNS {
        default.push(run(false)?);
        offline.push(run(true)?);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    Ok(Measurement {
        name: "`hfclaw models list`, router refusing, after 1 failure, median".to_owned(),
        value: ms(median(&mut default)),
        unit: "ms".to_owned(),
        baseline: "same with --offline".to_owned(),
        baseline_value: ms(median(&mut offline)),
    })
}

/// Size of the generated config for the big-config benchmarks.
const HUGE_MB: u64 = 50;

/// `models list --offline`, `models status` and `models set` on a generated 50 MB
/// config: wall time (median of 3, against `cat` of the file: the I/O floor), ≤ 1 s, and
/// peak RSS against the file's size, ≤ 4×.
fn huge_config_runs(
    runner: &Path,
    hfclaw: &Path,
    home: &Path,
) -> Result<Vec<(Measurement, Target)>> {
    let config = home.join("huge.json5");
    let status = Command::new(runner)
        .arg("huge-config")
        .arg(&config)
        .arg(HUGE_MB.to_string())
        .status()?;
    if !status.success() {
        return Err("bench-runner huge-config failed".into());
    }
    let size_mib = std::fs::metadata(&config)?.len() as f64 / (1024.0 * 1024.0);
    let config_arg = path_str(&config)?.to_owned();
    let floor = median_wall(3, || spawn_quiet(Path::new("cat"), &[&config_arg], home))?;
    let mut out = Vec::new();
    let refs = [
        "huggingface/Qwen/Qwen3-8B",
        "huggingface/deepseek-ai/DeepSeek-R1",
    ];
    for command in [
        &["models", "list"][..],
        &["models", "status"],
        &["models", "set", refs[0]],
    ] {
        let mut turn = 0;
        let wall = median_wall(3, || {
            let mut args = vec!["--config", &config_arg, "--offline", "-q"];
            args.extend_from_slice(command);
            if command[1] == "set" {
                // Alternate the ref so every run really writes.
                turn += 1;
                args[6] = refs[turn % 2];
            }
            spawn_quiet(hfclaw, &args, home)
        })?;
        let shown = if command[1] == "list" {
            "models list --offline".to_owned()
        } else {
            command.join(" ")
        };
        out.push((
            Measurement {
                name: format!("`hfclaw {shown}` on a {size_mib:.0} MiB config"),
                value: ms(wall),
                unit: "ms".to_owned(),
                baseline: "`cat` of the file".to_owned(),
                baseline_value: ms(floor),
            },
            Target::AtMost(1000.0),
        ));
        let mut args = vec!["--config", &config_arg, "--offline", "-q"];
        args.extend_from_slice(command);
        let rss = peak_rss_mib(runner, hfclaw, &args, home)?;
        out.push((
            Measurement {
                name: format!("`hfclaw {shown}` peak RSS / file size"),
                value: rss / size_mib,
                unit: "×".to_owned(),
                baseline: format!("{rss:.0} MiB; the file (MiB)"),
                baseline_value: size_mib,
            },
            Target::AtMost(4.0),
        ));
    }
    Ok(out)
}

/// Peak RSS of `program ARGS` in MiB, by `bench-runner rss`.
fn peak_rss_mib(runner: &Path, program: &Path, args: &[&str], home: &Path) -> Result<f64> {
    let output = Command::new(runner)
        .arg("rss")
        .arg("--")
        .arg(program)
        .args(args)
        .env("HOME", home)
        .output()?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned().into());
    }
    let kib: f64 = String::from_utf8_lossy(&output.stdout).trim().parse()?;
    Ok(kib / 1024.0)
}

/// Median wall time of `hfclaw models set` on a ~1 MB commented config, alternating two
/// refs so every run really writes; baseline: `cat` of the same file.
fn cli_set_big_config(runner: &Path, hfclaw: &Path, home: &Path) -> Result<Measurement> {
    let config = home.join("big.json5");
    let status = Command::new(runner)
        .arg("big-config")
        .arg(&config)
        .status()?;
    if !status.success() {
        return Err("bench-runner big-config failed".into());
    }
    let size = std::fs::metadata(&config)?.len() as f64 / 1e6;
    let config_arg = path_str(&config)?.to_owned();
    let refs = [
        "huggingface/Qwen/Qwen3-8B",
        "huggingface/deepseek-ai/DeepSeek-R1",
    ];
    let mut turn = 0;
    let ours = median_wall(60, || {
        turn += 1;
        let args = [
            "--config",
            &config_arg,
            "-q",
            "models",
            "set",
            refs[turn % 2],
        ];
        spawn_quiet(hfclaw, &args, home)
    })?;
    let floor = median_wall(60, || spawn_quiet(Path::new("cat"), &[&config_arg], home))?;
    Ok(Measurement {
        name: format!("`hfclaw models set` on a {size:.1} MB config"),
        value: ms(ours),
        unit: "ms".to_owned(),
        baseline: "`cat` of the file".to_owned(),
        baseline_value: ms(floor),
    })
}

/// Median wall time of `hfclaw usage ARGS` over the 1M-row ledger, against the same
/// command for the last hour only (start-up and open, almost no rows).
fn cli_usage_wall(hfclaw: &Path, ledger: &str, extra: &[&str], home: &Path) -> Result<Measurement> {
    let mut args = vec!["usage", "--ledger", ledger];
    args.extend_from_slice(extra);
    let ours = median_wall(15, || spawn_quiet(hfclaw, &args, home))?;
    let floor = median_wall(15, || {
        spawn_quiet(
            hfclaw,
            &["usage", "--ledger", ledger, "--since", "1h"],
            home,
        )
    })?;
    let shown = if extra.is_empty() {
        String::new()
    } else {
        format!(" {}", extra.join(" "))
    };
    Ok(Measurement {
        name: format!("`hfclaw usage{shown}` over 1M rows"),
        value: ms(ours),
        unit: "ms".to_owned(),
        baseline: "`usage --since 1h` (no scan)".to_owned(),
        baseline_value: ms(floor),
    })
}

fn cli_peak_rss(runner: &Path, hfclaw: &Path, args: &[&str], home: &Path) -> Result<Measurement> {
    let rss_of = |program: &Path, args: &[&str]| peak_rss_mib(runner, program, args, home);
    Ok(Measurement {
        name: format!("`hfclaw {}` peak RSS", args[3..].join(" ")),
        value: rss_of(hfclaw, args)?,
        unit: "MiB".to_owned(),
        baseline: "`true`".to_owned(),
        baseline_value: rss_of(Path::new("/bin/true"), &[])?,
    })
}

fn runner_measurement(runner: &Path, which: &str) -> Result<Measurement> {
    runner_measurement_with(runner, &[which])
}

fn runner_measurement_with(runner: &Path, args: &[&str]) -> Result<Measurement> {
    measurements(runner, args)?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{} {} printed nothing", runner.display(), args.join(" ")).into())
}

/// Every measurement line a bench binary prints.
fn measurements(program: &Path, args: &[&str]) -> Result<Vec<Measurement>> {
    let which = args.first().copied().unwrap_or_default();
    let output = Command::new(program)
        .args(args)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!("{} {which} failed", program.display()).into());
    }
    let text = String::from_utf8(output.stdout)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Ok(serde_json::from_str(l)?))
        .collect()
}

fn spawn_quiet(program: &Path, args: &[&str], home: &Path) -> Result<()> {
    let status = Command::new(program)
        .args(args)
        .env("HOME", home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {} exited with {status}",
            program.display(),
            args.join(" ")
        )
        .into())
    }
}

fn median_wall(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[runs / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| format!("non-UTF-8 path {}", path.display()).into())
}
