//! `cargo xtask fuzz [--seconds N] [--target NAME] [--engine stable|libfuzzer]`: runs the
//! fuzz targets of `crates/fuzz` for N seconds each (default 60).
//!
//! Engines: `libfuzzer` (`cargo +nightly fuzz`, coverage-guided; the default when
//! cargo-fuzz and a nightly toolchain are installed) and `stable` (`hfclaw_fuzz::engine`,
//! random mutation of the corpus; what CI runs, a few seconds per target, two at a time).
//! Either way the checked-in seeds (`crates/fuzz/corpus/<target>/`) are replayed first;
//! libFuzzer's new inputs go to `target/fuzz/corpus/<target>/`, failures to
//! `target/fuzz/failures/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hfclaw_fuzz::engine::{self, Report};
use hfclaw_fuzz::{TARGETS, Target, corpus_dir};

use crate::{Result, root};

/// Seconds per target in `cargo xtask ci`: seven targets, two at a time, ~12 s.
const CI_SECONDS: u64 = 3;

/// `cargo xtask fuzz …`.
pub fn run(args: &[&str]) -> Result<()> {
    let mut seconds = 60;
    let mut only = None;
    let mut engine = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match *arg {
            "--seconds" => seconds = args.next().ok_or("--seconds needs a number")?.parse()?,
            "--target" => only = Some(*args.next().ok_or("--target needs a name")?),
            "--engine" => engine = Some(*args.next().ok_or("--engine needs stable or libfuzzer")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let targets: Vec<&'static Target> = match only {
        Some(name) => vec![hfclaw_fuzz::target(name).ok_or_else(|| {
            let names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
            format!("no target {name}; targets: {}", names.join(", "))
        })?],
        None => TARGETS.iter().collect(),
    };
    let engine = match engine {
        Some("stable") => "stable",
        Some("libfuzzer") => "libfuzzer",
        Some(other) => return Err(format!("unknown engine {other}").into()),
        None if has_cargo_fuzz() => "libfuzzer",
        None => {
            println!("fuzz: cargo-fuzz or a nightly toolchain is missing: the stable engine runs");
            "stable"
        }
    };
    if engine == "libfuzzer" {
        for target in targets {
            libfuzzer(target, seconds)?;
        }
        Ok(())
    } else {
        stable(&targets, Duration::from_secs(seconds))
    }
}

/// What `cargo xtask ci` runs: every target on the stable engine, briefly.
pub fn run_for_ci() -> Result<()> {
    let targets: Vec<&'static Target> = TARGETS.iter().collect();
    stable(&targets, Duration::from_secs(CI_SECONDS))
}

fn stable(targets: &[&'static Target], budget: Duration) -> Result<()> {
    engine::quiet_panics();
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let queue = Mutex::new(targets.to_vec());
    let reports = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for worker in 0..2u64 {
            let (queue, reports) = (&queue, &reports);
            scope.spawn(move || {
                while let Some(target) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    let seeds = engine::read_corpus(&corpus_dir(target.name));
                    let start = Instant::now();
                    let report = engine::run(target, &seeds, budget, seed ^ worker);
                    if let Ok(mut reports) = reports.lock() {
                        reports.push((report, start.elapsed()));
                    }
                }
            });
        }
    });
    let mut reports = reports.into_inner().map_err(|_| "a fuzz worker panicked")?;
    reports.sort_by_key(|(r, _)| r.target);
    let mut failures = Vec::new();
    for (report, took) in &reports {
        println!(
            "fuzz: {:<14} {:>9} executions in {:.1} s ({:.0}/s), {} seeds{}",
            report.target,
            report.executions,
            took.as_secs_f64(),
            report.executions as f64 / took.as_secs_f64().max(1e-9),
            report.seeds,
            if report.failure.is_some() {
                ", FAILED"
            } else {
                ", no failure"
            }
        );
        if let Some(failure) = save_failure(report)? {
            failures.push(failure);
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}

/// Writes a failing input under `target/fuzz/failures/` and describes it.
fn save_failure(report: &Report) -> Result<Option<String>> {
    let Some((input, message)) = &report.failure else {
        return Ok(None);
    };
    let dir = root().join("target/fuzz/failures");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}-{:016x}", report.target, fnv(input)));
    std::fs::write(&path, input)?;
    Ok(Some(format!(
        "{}: {message}\n  input: {} (replay: copy it into crates/fuzz/corpus/{}/ and run `cargo test -p hfclaw-fuzz`)",
        report.target,
        path.display(),
        report.target
    )))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn has_cargo_fuzz() -> bool {
    Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One target under libFuzzer for `seconds`; prints its execution count.
fn libfuzzer(target: &Target, seconds: u64) -> Result<()> {
    let root = root();
    let scratch = root.join("target/fuzz/corpus").join(target.name);
    let artifacts: PathBuf = root.join("target/fuzz/failures").join(target.name);
    std::fs::create_dir_all(&scratch)?;
    std::fs::create_dir_all(&artifacts)?;
    let output = Command::new("cargo")
        .current_dir(&root)
        // No sanitizer: hfclaw forbids `unsafe`, and ASan would rebuild the whole tree
        // (reqwest, aws-lc) at half the speed; coverage guidance is what we are after.
        .args([
            "+nightly",
            "fuzz",
            "run",
            "--sanitizer",
            "none",
            target.name,
        ])
        .arg(&scratch)
        .arg(corpus_dir(target.name))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-max_len=4096")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .output()?;
    let log = String::from_utf8_lossy(&output.stderr);
    let done = log
        .lines()
        .rev()
        .find(|l| l.contains("DONE") || l.starts_with("Done "))
        .unwrap_or("(no summary line)");
    println!("fuzz: {:<14} libFuzzer: {done}", target.name);
    if output.status.success() {
        Ok(())
    } else {
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!(
            "{} failed under libFuzzer; inputs in {}\n{}",
            target.name,
            relative(&artifacts, &root),
            tail.join("\n")
        )
        .into())
    }
}

fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
