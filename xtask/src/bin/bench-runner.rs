//! In-process measurements for `cargo xtask bench`, built in release mode.
//!
//! Each subcommand prints one JSON object per measurement on stdout:
//! `{"name", "value", "unit", "baseline", "baseline_value"}`; the xtask orchestrator adds
//! targets and ratios. A baseline is always measured in the same run, on the same input.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "shared/emit.rs"]
mod emit;
use emit::emit;
#[path = "shared/ledger.rs"]
mod ledger;

use std::hint::black_box;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use hfclaw_catalog::{Catalog, builtin, parse_model_list};
use hfclaw_gateway::{ModelRoute, ModelRoutes};
use hfclaw_model_ref::ModelRef;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("refs") => bench_refs(),
        Some("routes") => bench_routes(),
        Some("discovery") => bench_discovery(),
        Some("sse") => bench_sse(),
        Some("first-byte") => first_byte(&args[1..]),
        Some("chain") => chain(&args[1..]),
        Some("array-edit") => bench_array_edit(),
        Some("embeddings-convert") => bench_embeddings_convert(),
        Some("big-config") => big_config(&args[1..]),
        Some("huge-config") => huge_config(&args[1..]),
        Some("rss") => rss(&args[1..]),
        Some("ledger-fill") => ledger::fill(&args[1..]),
        Some("ledger-record") => ledger::record(),
        Some("guard") => bench_guard(),
        Some("needs") => bench_needs(),
        _ => Err(
            "usage: bench-runner refs|routes|discovery|sse|embeddings-convert|first-byte HFCLAW|chain HFCLAW|guard|needs|ledger-fill PATH ROWS|ledger-record|rss -- CMD..."
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
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

/// An `hf-inference` feature-extraction answer of 64 inputs × 1,024 floats, turned into
/// OpenAI's embeddings answer; baseline: parsing the same answer into `Vec<Vec<f32>>`
/// with serde_json (what a converter that reads the numbers would do first).
fn bench_embeddings_convert() -> Result<()> {
    use hfclaw_router_client::tasks::Wire;
    use hfclaw_router_client::tasks::embeddings::{EmbeddingsRequest, Encoding, Input, convert};
    let (inputs, dims) = (64, 1024);
    // Numbers as a provider prints f32s: `-0.14440970122814178`.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let vectors: Vec<Vec<f64>> = (0..inputs)
        .map(|_| {
            (0..dims)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    f64::from((seed >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0)
                })
                .collect()
        })
        .collect();
    let answer = serde_json::to_vec(&vectors)?;
    let request = EmbeddingsRequest {
        input: Input::Texts(vec!["text".to_owned(); inputs]),
        encoding: Encoding::Float,
        dimensions: None,
    };
    let converted = convert(Wire::HfFeatureExtraction, &answer, &request, "BAAI/bge-m3")?;
    let check: serde_json::Value = serde_json::from_slice(&converted.body)?;
    if check["data"].as_array().map(Vec::len) != Some(inputs) {
        return Err("the converted answer does not hold 64 vectors".into());
    }
    let budget = Duration::from_secs(2);
    let ours = best_time(budget, || {
        black_box(convert(
            Wire::HfFeatureExtraction,
            black_box(&answer),
            &request,
            "BAAI/bge-m3",
        ))
        .ok();
    });
    let parse = best_time(budget, || {
        black_box(serde_json::from_slice::<Vec<Vec<f32>>>(black_box(&answer))).ok();
    });
    emit(
        &format!(
            "hf-inference answer → OpenAI embeddings, 64×1024 ({} KiB)",
            answer.len() / 1024
        ),
        ours.as_secs_f64() * 1e3,
        "ms",
        "serde_json parse of the floats",
        parse.as_secs_f64() * 1e3,
    );
    Ok(())
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

/// Route matching of client model names (`hfclaw serve --route`): the time per request
/// to find the route of a name with 20 user routes and the built-in ones, against no
/// routes at all, over names as agents send them (refs, aliases, Claude Code's names,
/// one that the last user route takes, one that none takes).
fn bench_routes() -> Result<()> {
    let user: Vec<ModelRoute> = (0..20)
        .map(|i| format!("vendor{i}-*-model*=qwen").parse())
        .collect::<std::result::Result<_, _>>()?;
    let twenty = ModelRoutes::new(user, true);
    let none = ModelRoutes::none();
    let names = [
        "huggingface/deepseek-ai/DeepSeek-R1",
        "qwen",
        "deepseek-ai/DeepSeek-R1",
        "claude-sonnet-5-5",
        "claude-haiku-4-5-20251001",
        "vendor19-large-model-2026",
        "gpt-4o-mini",
        "default",
    ];
    let per_request = |routes: &ModelRoutes| {
        let best = best_time(Duration::from_millis(800), || {
            for name in &names {
                black_box(routes.find(black_box(name)));
            }
        });
        best.as_secs_f64() * 1e6 / names.len() as f64
    };
    emit(
        "route matching, 20 routes + built-ins",
        per_request(&twenty),
        "µs/request",
        "no routes",
        per_request(&none),
    );
    Ok(())
}

/// What a request needs of a fallback (issue 20: image parts, tools), read from a ~200 KB
/// Claude Code turn (12 tools, 40 tool round trips) whose text mentions images, so the
/// byte search does not settle it and the whole conversation is walked: the scan every
/// request already gets plus the needs, against that scan alone. (Without the word, the
/// byte search alone answers: printed on stderr.)
fn bench_needs() -> Result<()> {
    use hfclaw_catalog::Needs;
    use hfclaw_gateway::Api;
    use hfclaw_router_client::JsonBody;
    let turn = |word: &str| {
        let text = format!("{word} ").repeat(200);
        let tools: Vec<serde_json::Value> = (0..12)
            .map(|i| {
                serde_json::json!({"name": format!("Tool{i}"), "description": text,
                "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}})
            })
            .collect();
        let mut messages = Vec::new();
        for i in 0..40 {
            messages.push(serde_json::json!({"role": "assistant", "content": [
                {"type": "text", "text": text},
                {"type": "tool_use", "id": format!("t{i}"), "name": "Tool1", "input": {"path": "a"}}]}));
            messages.push(serde_json::json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": format!("t{i}"), "content": [
                    {"type": "text", "text": text}]}]}));
        }
        let body = serde_json::json!({"model": "claude-sonnet-5-5", "max_tokens": 32000,
            "stream": true, "system": [{"type": "text", "text": text}], "tools": tools,
            "messages": messages});
        JsonBody::parse(serde_json::to_vec(&body).unwrap_or_default().into())
    };
    let all = Needs {
        image_input: true,
        tools: true,
    };
    let time = |turn: &JsonBody, needs: bool| {
        best_time(Duration::from_millis(1000), || {
            if let Ok(body) = JsonBody::parse(black_box(turn.bytes().clone()))
                && needs
            {
                black_box(Api::Messages.needs(&body, all));
            }
        })
    };
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let walked = turn("image.png")?;
    let searched = turn("photo.png")?;
    eprintln!(
        "needs: {} KB body, byte search only: {:.0} µs vs {:.0} µs for the scan",
        searched.bytes().len() / 1000,
        us(time(&searched, true)),
        us(time(&searched, false))
    );
    emit(
        "request scan + fallback needs, 200 KB turn, walked",
        us(time(&walked, true)),
        "µs",
        "the request scan alone",
        us(time(&walked, false)),
    );
    Ok(())
}

/// The gateway's access guard (issue 24: Host, Origin, content type) on the headers of a
/// real SDK request (the OpenAI Python SDK's, 12 headers), against a no-op that only
/// reads the same headers' `Host`: the time per request the checks add.
fn bench_guard() -> Result<()> {
    use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
    let access = hfclaw_gateway::Access::new(
        "127.0.0.1:4000".parse()?,
        &["gw.example.com".to_owned()],
        &["http://localhost:3000".to_owned()],
    )?;
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("host", "127.0.0.1:4000"),
        ("accept-encoding", "gzip, deflate"),
        ("connection", "keep-alive"),
        ("accept", "application/json"),
        ("content-type", "application/json"),
        ("user-agent", "OpenAI/Python 3.57.0"),
        ("x-stainless-lang", "python"),
        ("x-stainless-package-version", "3.57.0"),
        ("x-stainless-os", "Linux"),
        ("x-stainless-arch", "x64"),
        ("authorization", "Bearer my-gateway-key"),
        ("content-length", "97"),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    let requests = 100_000u32;
    let guard = best_time(Duration::from_millis(800), || {
        for _ in 0..requests {
            black_box(access.check(black_box(&Method::POST), black_box(&headers)));
        }
    });
    let no_op = best_time(Duration::from_millis(800), || {
        for _ in 0..requests {
            black_box(black_box(&headers).get("host"));
        }
    });
    let ns = |d: Duration| d.as_secs_f64() * 1e9 / f64::from(requests);
    emit(
        "access guard per request",
        ns(guard),
        "ns",
        "a Host lookup",
        ns(no_op),
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
    let value = best_time(Duration::from_millis(1500), || {
        black_box(serde_json::from_slice::<serde_json::Value>(black_box(body.as_bytes())).ok());
    });
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

/// A chat stream of `events` chunks shaped like the router's, reasoning then content.
fn synthetic_stream(events: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..events {
        let delta = if i < events / 4 {
            serde_json::json!({"reasoning_content": format!("step {i} of the reasoning, ")})
        } else {
            serde_json::json!({"content": format!("word{i} and some more text ")})
        };
        let chunk = serde_json::json!({
            "id": "chatcmpl-7f3a", "object": "chat.completion.chunk", "created": 1_737_331_200u64,
            "model": "deepseek-ai/DeepSeek-R1", "system_fingerprint": "fp_1",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": null}],
        });
        out.extend_from_slice(format!("data: {chunk}\n\n").as_bytes());
        if i % 100 == 0 {
            out.extend_from_slice(b": keep-alive\n\n");
        }
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

/// SSE decoding (parser + OpenAI chunk decoding) in 1.4 KB network-sized reads.
fn bench_sse() -> Result<()> {
    let stream = synthetic_stream(40_000);
    let decode = best_time(Duration::from_millis(1500), || {
        let mut decoder = hfclaw_router_client::sse::ChatDecoder::new();
        let mut events = Vec::new();
        for chunk in black_box(&stream).chunks(1400) {
            decoder.push(chunk, &mut events);
            events.clear();
        }
        decoder.finish(&mut events);
        black_box(&events);
    });
    let parse_json = best_time(Duration::from_millis(1500), || {
        for line in black_box(&stream).split(|b| *b == b'\n') {
            if let Some(data) = line.strip_prefix(b"data: ") {
                black_box(serde_json::from_slice::<serde_json::Value>(data).ok());
            }
        }
    });
    let mb_per_s = |d: Duration| stream.len() as f64 / d.as_secs_f64() / 1e6;
    emit(
        "SSE chat decoding throughput",
        mb_per_s(decode),
        "MB/s",
        "split lines + serde_json::Value",
        mb_per_s(parse_json),
    );
    Ok(())
}

/// A one-connection-at-a-time HTTP/1.1 server on loopback that answers each request with
/// `respond(request_body, stream)`. Enough for the chat benches, and it lets them take
/// timestamps exactly where bytes are written.
fn serve_loopback(
    respond: impl Fn(&str, &mut std::net::TcpStream) -> std::io::Result<()> + Send + 'static,
) -> Result<std::net::SocketAddr> {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_nodelay(true);
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let mut length = 0usize;
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let _ = respond(&String::from_utf8_lossy(&body), &mut stream);
        }
    });
    Ok(addr)
}

fn sse_event(delta: &serde_json::Value, finish: Option<&str>) -> String {
    let chunk = serde_json::json!({"id": "c", "object": "chat.completion.chunk", "created": 1,
        "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {chunk}\n\n")
}

fn http_chunk(text: &str) -> String {
    format!("{:x}\r\n{text}\r\n", text.len())
}

/// A sandbox for running `hfclaw chat` against `addr`: config with a primary and two
/// fallbacks, a test token, an empty cache dir.
fn chat_command(
    hfclaw: &str,
    home: &std::path::Path,
    addr: std::net::SocketAddr,
) -> Result<Command> {
    let config = home.join("openclaw.json");
    std::fs::write(
        &config,
        r#"{ agents: { defaults: { model: { primary: "huggingface/a/one",
             fallbacks: ["huggingface/b/two", "huggingface/c/three"] } } } }"#,
    )?;
    let mut cmd = Command::new(hfclaw);
    cmd.env_clear()
        .env("HOME", home)
        .env("HFCLAW_CACHE_DIR", home.join("cache"))
        .env("HF_TOKEN", "hf_benchToken000000000000")
        .args(["--config"])
        .arg(&config)
        .args(["--router-url", &format!("http://{addr}/v1"), "chat", "hi"]);
    Ok(cmd)
}

/// Time from the fake router writing the first content byte to `hfclaw chat` printing
/// it on stdout, median of 40 runs; the baseline is the same hop through a plain pipe.
fn first_byte(args: &[String]) -> Result<()> {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    let hfclaw = args
        .first()
        .ok_or("usage: bench-runner first-byte HFCLAW")?;
    let sent_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let stamp = sent_at.clone();
    let addr = serve_loopback(move |_, stream| {
        stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n")?;
        stream.write_all(
            http_chunk(&sse_event(
                &serde_json::json!({"role": "assistant", "content": ""}),
                None,
            ))
            .as_bytes(),
        )?;
        std::thread::sleep(Duration::from_millis(20));
        // Stamped before the write: stamped after it, a descheduled server thread could
        // let the reader see the byte first and find no timestamp (the bench then failed
        // on a loaded machine). The write's own microseconds count against hfclaw.
        *stamp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
        stream.write_all(
            http_chunk(&sse_event(&serde_json::json!({"content": "X"}), None)).as_bytes(),
        )?;
        stream.flush()?;
        std::thread::sleep(Duration::from_millis(20));
        let end = sse_event(&serde_json::json!({}), Some("stop")) + "data: [DONE]\n\n";
        stream.write_all(http_chunk(&end).as_bytes())?;
        stream.write_all(b"0\r\n\r\n")
    })?;
    let home = tempfile::tempdir()?;
    let mut added = Vec::new();
    for _ in 0..40 {
        let mut child = chat_command(hfclaw, home.path(), addr)?
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let mut stdout = child.stdout.take().ok_or("no stdout")?;
        let mut byte = [0u8; 1];
        stdout.read_exact(&mut byte)?;
        let received = Instant::now();
        let sent = sent_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .ok_or("no timestamp")?;
        added.push(received.saturating_duration_since(sent));
        let mut rest = Vec::new();
        stdout.read_to_end(&mut rest)?;
        child.wait()?;
    }
    // Baseline: one write through a pipe to a child that echoes it (`cat`), same clock.
    let mut pipe_times = Vec::new();
    for _ in 0..40 {
        let mut cat = Command::new("cat")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let mut stdin = cat.stdin.take().ok_or("no stdin")?;
        let mut out = cat.stdout.take().ok_or("no stdout")?;
        let start = Instant::now();
        stdin.write_all(b"X")?;
        let mut byte = [0u8; 1];
        out.read_exact(&mut byte)?;
        pipe_times.push(start.elapsed());
        drop(stdin);
        cat.wait()?;
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    emit(
        "`hfclaw chat` router byte → stdout, median",
        median(&mut added).as_secs_f64() * 1e3,
        "ms",
        "pipe through `cat`",
        median(&mut pipe_times).as_secs_f64() * 1e3,
    );
    Ok(())
}

/// Wall time of `hfclaw chat` when the primary and the first fallback answer 500 and the
/// second fallback answers, with the default policy (retries included); the baseline is
/// the same command when the primary answers at once.
fn chain(args: &[String]) -> Result<()> {
    use std::io::Write;
    let hfclaw = args.first().ok_or("usage: bench-runner chain HFCLAW")?;
    let addr = serve_loopback(|body, stream| {
        if body.contains("\"c/three\"") || body.contains("\"a/ok\"") {
            let text = sse_event(&serde_json::json!({"content": "fine"}), Some("stop"))
                + "data: [DONE]\n\n";
            write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            )
        } else {
            let text = r#"{"error":{"message":"upstream failed","type":"server_error"}}"#;
            write!(
                stream,
                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            )
        }
    })?;
    let home = tempfile::tempdir()?;
    let time = |model: Option<&str>| -> Result<Duration> {
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let mut cmd = chat_command(hfclaw, home.path(), addr)?;
            if let Some(model) = model {
                cmd.args(["--model", model]);
            }
            let start = Instant::now();
            let status = cmd
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()?;
            let elapsed = start.elapsed();
            if !status.success() {
                return Err(format!("hfclaw chat failed: {status}").into());
            }
            best = best.min(elapsed);
        }
        Ok(best)
    };
    let chain = time(None)?;
    let direct = time(Some("huggingface/a/ok"))?;
    emit(
        "fallback chain 500→500→200 (3 models)",
        chain.as_secs_f64() * 1e3,
        "ms",
        "primary answers at once",
        direct.as_secs_f64() * 1e3,
    );
    Ok(())
}

/// A commented JSON5 config whose provider block lists `entries` models.
fn config_with_models(entries: usize) -> String {
    let mut text = String::from(
        "// generated for benchmarks\n{\n  agents: {\n    defaults: {\n      model: { primary: 'huggingface/deepseek-ai/DeepSeek-R1' }, // default\n      models: { 'huggingface/deepseek-ai/DeepSeek-R1': { alias: 'R1' } },\n    },\n  },\n  models: {\n    providers: {\n      huggingface: {\n        baseUrl: 'https://router.huggingface.co/v1',\n        models: [\n",
    );
    for i in 0..entries {
        text.push_str(&format!(
            "          {{ id: 'org-{}/Model-{i}-Instruct', name: 'Model {i}', contextWindow: 131072, maxTokens: 8192, cost: {{ input: 0.1, output: 0.3 }} }}, // #{i}\n",
            i % 97
        ));
    }
    text.push_str("        ],\n      },\n    },\n  },\n}\n");
    text
}

/// `big-config PATH`: writes a ~1 MB commented config for the CLI wall-time bench.
fn big_config(args: &[String]) -> Result<()> {
    let path = args.first().ok_or("usage: bench-runner big-config PATH")?;
    let mut entries = 1000;
    let mut text = config_with_models(entries);
    while text.len() < 1_000_000 {
        entries += 200;
        text = config_with_models(entries);
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// `huge-config PATH MB`: a valid, commented config of about MB megabytes shaped like a
/// config synced with a huge catalog: three quarters provider entries (one per line, a
/// comment each), a tenth aliases (which are also the allowlist), the rest another
/// tool's data under `plugins` that hfclaw carries through.
fn huge_config(args: &[String]) -> Result<()> {
    let [path, mb] = args else {
        return Err("usage: bench-runner huge-config PATH MB".into());
    };
    let target = mb.parse::<usize>()? * 1024 * 1024;
    let mut text = String::with_capacity(target + 4096);
    text.push_str("// generated for benchmarks: a config of a huge catalog\n{\n  agents: {\n    defaults: {\n      model: { primary: 'huggingface/deepseek-ai/DeepSeek-R1', fallbacks: ['huggingface/Qwen/Qwen3-8B'] },\n      models: {\n");
    let mut i = 0;
    while text.len() < target / 10 {
        text.push_str(&format!(
            "        'huggingface/org-{}/Model-{i}-Instruct': {{ alias: 'model {i}' }},\n",
            i % 97
        ));
        i += 1;
    }
    text.push_str("        'huggingface/deepseek-ai/DeepSeek-R1': { alias: 'R1' },\n      },\n    },\n  },\n  plugins: { entries: {\n");
    i = 0;
    while text.len() < target / 4 {
        text.push_str(&format!(
            "    'plugin-{i}': {{ enabled: true, config: {{ list: [1, 2, 3, 'x{i}'], nested: {{ a: {{ b: null }} }} }} }},\n"
        ));
        i += 1;
    }
    text.push_str("  } },\n  models: {\n    providers: {\n      huggingface: {\n        baseUrl: 'https://router.huggingface.co/v1',\n        models: [\n");
    i = 0;
    while text.len() < target {
        text.push_str(&format!(
            "          {{ id: 'org-{}/Model-{i}-Instruct', name: 'Model {i}', contextWindow: 131072, maxTokens: 8192, reasoning: false, input: ['text'], cost: {{ input: 0.1, output: 0.3, cacheRead: 0, cacheWrite: 0 }} }}, // #{i}\n",
            i % 97
        ));
        i += 1;
    }
    text.push_str("        ],\n      },\n    },\n  },\n}\n");
    std::fs::write(path, text)?;
    Ok(())
}

/// Parse + merge of one new entry into a 10,000-entry models array + serialise, in
/// process; the baseline is parsing the same text with json5 alone.
fn bench_array_edit() -> Result<()> {
    use hfclaw_config_merge::Editor;
    let text = config_with_models(10_000);
    let entry = hfclaw_catalog::ConfigModel {
        id: "new-org/New-Model".to_owned(),
        name: Some("New Model".to_owned()),
        context_window: Some(32768),
        ..Default::default()
    };
    let path = std::path::Path::new("openclaw.json");
    let edit = best_time(Duration::from_millis(3000), || {
        if let Ok(mut editor) = Editor::new(path, black_box(&text)) {
            let _ = editor.merge_provider_models(std::slice::from_ref(&entry));
            black_box(editor.text());
        }
    });
    let parse = best_time(Duration::from_millis(1500), || {
        black_box(json5::from_str::<serde_json::Value>(black_box(&text)).ok());
    });
    emit(
        &format!(
            "edit of a 10,000-entry models array ({:.1} MB)",
            text.len() as f64 / 1e6
        ),
        edit.as_secs_f64() * 1e3,
        "ms",
        "json5 parse only",
        parse.as_secs_f64() * 1e3,
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
