//! In-process measurements for `cargo xtask bench`, built in release mode.
//!
//! Each subcommand prints one JSON object per measurement on stdout:
//! `{"name", "value", "unit", "baseline", "baseline_value"}`; the xtask orchestrator adds
//! targets and ratios. A baseline is always measured in the same run, on the same input.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::hint::black_box;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use hfclaw_catalog::{Catalog, builtin, parse_model_list};
use hfclaw_model_ref::ModelRef;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("refs") => bench_refs(),
        Some("discovery") => bench_discovery(),
        Some("rss") => rss(&args[1..]),
        _ => Err("usage: bench-runner refs|discovery|rss -- CMD...".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn emit(name: &str, value: f64, unit: &str, baseline: &str, baseline_value: f64) {
    let line = serde_json::json!({
        "name": name, "value": value, "unit": unit,
        "baseline": baseline, "baseline_value": baseline_value,
    });
    println!("{line}");
}

/// Runs `f` repeatedly for about `budget` and returns the best time per call: the best,
/// not the mean, because on a shared 2-core machine noise only ever adds time.
fn best_time(budget: Duration, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    let mut best = Duration::MAX;
    while start.elapsed() < budget {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
    }
    best
}

fn sample_refs() -> Vec<String> {
    let orgs = [
        "deepseek-ai",
        "Qwen",
        "meta-llama",
        "openai",
        "zai-org",
        "moonshotai",
    ];
    let names = [
        "DeepSeek-R1",
        "Qwen2.5-7B-Instruct",
        "Llama-3.3-70B-Instruct",
        "gpt-oss-120b",
        "GLM-4.7",
    ];
    let suffixes = [
        "",
        ":fastest",
        ":cheapest",
        ":preferred",
        ":together",
        ":fireworks-ai",
    ];
    let mut refs = Vec::with_capacity(10_000);
    for i in 0..10_000 {
        refs.push(format!(
            "huggingface/{}/{}{}",
            orgs[i % orgs.len()],
            names[i % names.len()],
            suffixes[i % suffixes.len()]
        ));
    }
    refs
}

fn bench_refs() -> Result<()> {
    let refs = sample_refs();
    let parse = best_time(Duration::from_millis(800), || {
        for r in &refs {
            black_box(black_box(r.as_str()).parse::<ModelRef>().ok());
        }
    });
    // Baseline: copying each ref into a new String, the allocation a parse cannot avoid.
    let copy = best_time(Duration::from_millis(800), || {
        for r in &refs {
            black_box(black_box(r.as_str()).to_owned());
        }
    });
    let per_sec = |d: Duration| refs.len() as f64 / d.as_secs_f64() / 1e6;
    emit(
        "ref parsing throughput",
        per_sec(parse),
        "M refs/s",
        "String copy",
        per_sec(copy),
    );
    Ok(())
}

/// A router list of `n` models with 1–4 providers each, shaped like the live answer.
pub fn synthetic_list(n: usize) -> String {
    let providers = [
        "together",
        "novita",
        "fireworks-ai",
        "groq",
        "cerebras",
        "nebius",
        "sambanova",
    ];
    let mut data = Vec::with_capacity(n);
    for i in 0..n {
        let count = 1 + i % 4;
        let ps: Vec<serde_json::Value> = (0..count)
            .map(|j| {
                serde_json::json!({
                    "provider": providers[(i + j) % providers.len()],
                    "status": if (i + j) % 11 == 0 { "error" } else { "live" },
                    "context_length": 32768 * (1 + (i + j) % 4),
                    "pricing": {"input": 0.1 * (1 + j) as f64, "output": 0.3 * (1 + j) as f64},
                    "supports_tools": true, "supports_structured_output": j % 2 == 0,
                    "is_model_author": false, "first_token_latency_ms": 300.5 + j as f64,
                    "throughput": 100.25 * (1 + j) as f64,
                })
            })
            .collect();
        data.push(serde_json::json!({
            "id": format!("org-{}/Model-{i}-7B-Instruct", i % 97),
            "object": "model", "created": 1_737_331_200u64 + i as u64, "owned_by": format!("org-{}", i % 97),
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
            "providers": ps,
        }));
    }
    serde_json::json!({"object": "list", "data": data}).to_string()
}

fn bench_discovery() -> Result<()> {
    let body = synthetic_list(10_000);
    let merge = best_time(Duration::from_millis(1500), || {
        if let Ok(list) = parse_model_list(black_box(body.as_bytes())) {
            black_box(Catalog::merge(builtin::models(), Some(list.models), &[]));
        }
    });
    let value = if std::env::var_os("NO_BASELINE").is_some() {
        Duration::ZERO
    } else {
        best_time(Duration::from_millis(1500), || {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(body.as_bytes())).ok());
        })
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    emit(
        &format!(
            "parse+merge 10,000 models ({:.1} MB)",
            body.len() as f64 / 1e6
        ),
        ms(merge),
        "ms",
        "serde_json::Value parse",
        ms(value),
    );
    Ok(())
}

/// `rss -- CMD ARGS…`: runs the command once and prints its peak RSS in KiB.
fn rss(args: &[String]) -> Result<()> {
    let [dashdash, program, rest @ ..] = args else {
        return Err("usage: bench-runner rss -- CMD ARGS...".into());
    };
    if dashdash != "--" {
        return Err("usage: bench-runner rss -- CMD ARGS...".into());
    }
    let status = Command::new(program)
        .args(rest)
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("{program} exited with {status}").into());
    }
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)?;
    println!("{}", usage.max_rss());
    Ok(())
}
