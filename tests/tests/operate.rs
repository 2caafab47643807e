//! Operating `hfclaw serve`: `GET /metrics` parsed by a Prometheus text parser after a
//! scripted load, and the status page at `GET /`, loaded by a real headless Chromium
//! (its DOM and a screenshot checked).
//!
//! Chromium comes from `cargo xtask ci` (see `common/browser.rs`); a plain `cargo test`
//! without it skips the browser test with a note on stderr, CI never does.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::path::Path;

use common::browser::{chromium, run_chromium};
use common::gateway::Gateway;
use common::{CHAIN_CONFIG, Sandbox, TOKEN};
use hfclaw_e2e::Reply;
use prometheus_parse::{Scrape, Value};
use serde_json::{Value as Json, json};

const R1: &str = "deepseek-ai/DeepSeek-R1";
const QWEN: &str = "Qwen/Qwen3-8B:cheapest";
const OSS: &str = "openai/gpt-oss-120b:groq";
const R1_REF: &str = "huggingface/deepseek-ai/DeepSeek-R1";
const QWEN_REF: &str = "huggingface/Qwen/Qwen3-8B:cheapest";
const KEY: &str = "operator-key-0123";

/// A gateway with a client key, after this load:
///
/// | requests | API | model | router answer | label |
/// |---|---|---|---|---|
/// | 3 | chat | `qwen` | ok via cerebras | Qwen ref, cerebras |
/// | 2 | messages | `r1` | ok via together | R1 ref, together |
/// | 1 | responses (stream) | R1 ref | ok via together | R1 ref, together |
/// | 1 | chat | `openai/gpt-oss-120b:groq` | ok via `evil<provider>` | base ref, other |
/// | 1 | chat | `huggingface/made-up/model` | 404 | other, none |
/// | 1 | chat | `gpt-4o` | (not sent) 404 | other, none |
/// | 1 | chat | `default` | R1 500 thrice, then Qwen via cerebras | Qwen ref, fallback |
async fn loaded() -> (Sandbox, Gateway) {
    let s = Sandbox::new();
    s.write_config(CHAIN_CONFIG);
    s.router
        .chat(QWEN, [Reply::chat_json(QWEN, "from qwen").via("cerebras")])
        .chat(R1, [Reply::error(500, "upstream exploded", None)])
        .chat(OSS, [Reply::chat_json(OSS, "oss").via("evil<provider>")])
        .messages(R1, [Reply::messages_json(R1, "from r1").via("together")])
        .responses(
            R1,
            [Reply::responses_stream(R1, &["str", "eam"]).via("together")],
        );
    let gw = Gateway::start(&s, &["--api-key", KEY]);
    let chat =
        |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    for _ in 0..3 {
        assert_eq!(
            post(&gw, "/v1/chat/completions", &chat("qwen"), &[]).await,
            200
        );
    }
    let messages =
        json!({"model": "r1", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]});
    for _ in 0..2 {
        assert_eq!(post(&gw, "/v1/messages", &messages, &[]).await, 200);
    }
    let responses = json!({"model": R1_REF, "input": "hi", "stream": true});
    assert_eq!(post(&gw, "/v1/responses", &responses, &[]).await, 200);
    let oss = chat("openai/gpt-oss-120b:groq");
    assert_eq!(post(&gw, "/v1/chat/completions", &oss, &[]).await, 200);
    let no_fallback = [("x-hfclaw-no-fallback", "1")];
    let made_up = chat("huggingface/made-up/model");
    assert_eq!(
        post(&gw, "/v1/chat/completions", &made_up, &no_fallback).await,
        404
    );
    assert_eq!(
        post(&gw, "/v1/chat/completions", &chat("gpt-4o"), &[]).await,
        404
    );
    assert_eq!(
        post(&gw, "/v1/chat/completions", &chat("default"), &[]).await,
        200
    );
    (s, gw)
}

/// POSTs `body` to `path` with the client key; returns the status once the whole answer
/// (stream included) has been read.
async fn post(gw: &Gateway, path: &str, body: &Json, headers: &[(&str, &str)]) -> u16 {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", gw.base()))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert!(!text.contains(TOKEN));
    status
}

fn sample_value(value: &Value) -> f64 {
    match value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
        Value::Summary(_) => panic!("no summaries expected"),
    }
}

/// The sum of `metric`'s samples whose labels include `labels`.
fn sum(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| sample_value(&s.value))
        .sum()
}

fn series(scrape: &Scrape, metric: &str) -> usize {
    scrape.samples.iter().filter(|s| s.metric == metric).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_the_scripted_load() {
    let (_s, gw) = loaded().await;
    let url = format!("{}/metrics", gw.base());
    // The client key protects the scrape; a browser is asked for Basic credentials.
    let refused = reqwest::get(&url).await.unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Basic realm="), "{challenge}");
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(!text.contains(TOKEN) && !text.contains(KEY));
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let requests = "hfclaw_requests_total";
    let count = |labels: &[(&str, &str)]| sum(&scrape, requests, labels);
    assert_eq!(count(&[]), 10.0, "{text}");
    assert_eq!(
        count(&[
            ("api", "chat"),
            ("model", QWEN_REF),
            ("provider", "cerebras"),
            ("outcome", "ok")
        ]),
        4.0,
        "{text}"
    );
    assert_eq!(
        count(&[
            ("api", "messages"),
            ("model", R1_REF),
            ("provider", "together")
        ]),
        2.0
    );
    assert_eq!(
        count(&[("api", "responses"), ("model", R1_REF), ("outcome", "ok")]),
        1.0
    );
    // A catalog model under a suffix nobody configured: its base ref; an unknown
    // provider name: `other`.
    assert_eq!(
        count(&[
            ("model", "huggingface/openai/gpt-oss-120b"),
            ("provider", "other")
        ]),
        1.0
    );
    // The router refused the made-up model; the gateway itself knew no `gpt-4o`.
    for outcome in ["not_found", "model_not_found"] {
        assert_eq!(
            count(&[
                ("model", "other"),
                ("provider", "none"),
                ("outcome", outcome)
            ]),
            1.0,
            "{outcome}"
        );
    }
    assert_eq!(series(&scrape, requests), 6, "{text}");
    assert!(!text.contains("made-up") && !text.contains("gpt-4o") && !text.contains("evil"));

    // Every request has a duration; the eight answers a time to first byte.
    assert_eq!(sum(&scrape, "hfclaw_request_duration_seconds", &[]), 10.0);
    assert_eq!(sum(&scrape, "hfclaw_time_to_first_byte_seconds", &[]), 8.0);
    assert_eq!(
        sum(
            &scrape,
            "hfclaw_time_to_first_byte_seconds",
            &[("api", "messages"), ("model", R1_REF)]
        ),
        2.0
    );
    // Usage: 5 in / 7 out per answer, the stream's included.
    assert_eq!(
        sum(&scrape, "hfclaw_tokens_total", &[("direction", "input")]),
        40.0
    );
    assert_eq!(
        sum(&scrape, "hfclaw_tokens_total", &[("direction", "output")]),
        56.0
    );
    assert_eq!(
        sum(
            &scrape,
            "hfclaw_fallbacks_total",
            &[("from", R1_REF), ("to", QWEN_REF)]
        ),
        1.0
    );
    assert_eq!(series(&scrape, "hfclaw_fallbacks_total"), 1);
    // R1 failed with 500s: cooling; the fallback is listed, healthy.
    assert_eq!(
        sum(&scrape, "hfclaw_cooldown_active", &[("model", R1_REF)]),
        1.0
    );
    assert_eq!(
        sum(&scrape, "hfclaw_cooldown_active", &[("model", QWEN_REF)]),
        0.0
    );
    assert_eq!(series(&scrape, "hfclaw_cooldown_active"), 2);
    assert_eq!(sum(&scrape, "hfclaw_inflight_requests", &[]), 0.0);
    // Answers with usage are priced (from the built-in catalog here: estimated, but a
    // cost); the ones without a price or usage add no series.
    let qwen_cost = sum(
        &scrape,
        "hfclaw_cost_usd_total",
        &[("model", QWEN_REF), ("provider", "cerebras")],
    );
    assert!(qwen_cost > 0.0, "{text}");
    assert!(
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == "hfclaw_cost_usd_total")
            .all(|s| sample_value(&s.value) > 0.0),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_needs_the_key_and_shows_the_load() {
    let (_s, gw) = loaded().await;
    let url = format!("{}/", gw.base());
    let refused = reqwest::get(&url).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("www-authenticate"));
    let wrong = reqwest::Client::new()
        .get(&url)
        .basic_auth("me", Some("not-the-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let response = reqwest::Client::new()
        .get(&url)
        .basic_auth("anyone", Some(KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(!html.contains(KEY) && !html.contains(TOKEN));
    for expected in [
        // Refs as the chart and the tables show them (issue 19, defect 11).
        "<div class=\"mono\"><span title=\"huggingface/deepseek-ai/DeepSeek-R1\">\
         deepseek-ai/<wbr>DeepSeek-R1</span></div>",
        "<li class=\"mono\"><span title=\"huggingface/Qwen/Qwen3-8B:cheapest\">\
         Qwen/<wbr>Qwen3-8B:cheapest</span></li>",
        "answering: last answer",
        "<b>10</b>requests",
        "<b>2</b>errors",
        "<span class=\"pill bad\">404 model_not_found</span>",
        "fallback 1",
        "evil&lt;provider&gt;",
    ] {
        assert!(html.contains(expected), "{expected} missing:\n{html}");
    }
    // R1 cools after its 500s.
    let cooldowns = &html[html.find("<h2>Cooldowns</h2>").unwrap()..];
    assert!(
        cooldowns.starts_with(
            "<h2>Cooldowns</h2><table><tr><th>model</th><th class=\"num\">seconds left</th></tr>\
             <tr><td class=\"mono\"><span title=\"huggingface/deepseek-ai/DeepSeek-R1\">\
             deepseek-ai/<wbr>DeepSeek-R1</span></td>"
        ),
        "{cooldowns}"
    );
    // A Bearer key works too (curl, scripts).
    let bearer = reqwest::Client::new()
        .get(&url)
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);

    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Chromium sends the userinfo of a top-level URL as Basic credentials.
    let page_url = format!("http://operator:{KEY}@{}/", gw.addr);
    let dom = run_chromium(&chromium, dir.path(), "dom", &["--dump-dom", &page_url]);
    assert!(dom.contains("<h1>hfclaw gateway</h1>"), "{dom}");
    assert!(!dom.contains(KEY));
    let svg = &dom[dom.find("<svg class=\"chart\"").expect("the chart")..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    // Four models today: Qwen, R1, gpt-oss, other; errors drawn for `other` only.
    assert_eq!(svg.matches("class=\"bar req\"").count(), 4 + 1, "{svg}");
    assert_eq!(svg.matches("class=\"bar err\"").count(), 1 + 1, "{svg}");

    let shot = dir.path().join("status.png");
    let shot_arg = format!("--screenshot={}", shot.display());
    run_chromium(
        &chromium,
        dir.path(),
        "shot",
        &[&shot_arg, "--window-size=1200,900", &page_url],
    );
    let (width, height, pixels) = decode_png(&shot);
    assert_eq!((width, height), (1200, 900));
    if let Some(keep) = std::env::var_os("HFCLAW_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
    // Not blank: plenty of pixels differ from the background, and the chart's request
    // bars (#4f6bed) are visible.
    let background = most_common(&pixels);
    let drawn = pixels.iter().filter(|p| **p != background).count();
    assert!(
        drawn > pixels.len() / 20,
        "only {drawn} of {} pixels drawn",
        pixels.len()
    );
    let bars = pixels
        .iter()
        .filter(|[r, g, b]| near(*r, 0x4f) && near(*g, 0x6b) && near(*b, 0xed))
        .count();
    assert!(bars > 2000, "only {bars} chart-blue pixels");

    // A phone's 420 px (issue 19, defect 11): the chart scales into its card and nothing
    // is wider than the screen. Where a row's left edge is the page's background (below the
    // header), so is its right edge: no card reaches past it.
    let narrow = dir.path().join("narrow.png");
    let narrow_arg = format!("--screenshot={}", narrow.display());
    run_chromium(
        &chromium,
        dir.path(),
        "narrow",
        &[&narrow_arg, "--window-size=420,900", &page_url],
    );
    let (width, height, pixels) = decode_png(&narrow);
    assert_eq!((width, height), (420, 900));
    if let Some(keep) = std::env::var_os("HFCLAW_KEEP_NARROW_SCREENSHOT") {
        std::fs::copy(&narrow, keep).unwrap();
    }
    let background = most_common(&pixels);
    let at = |x: u32, y: u32| pixels[(y * width + x) as usize];
    let overflowing: Vec<u32> = (0..height)
        .filter(|&y| at(2, y) == background && at(width - 3, y) != background)
        .collect();
    assert!(
        overflowing.len() < 3,
        "rows reaching past a 420 px screen: {overflowing:?}"
    );
    let blue: Vec<u32> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let [r, g, b] = at(x, y);
            near(r, 0x4f) && near(g, 0x6b) && near(b, 0xed)
        })
        .map(|(x, _)| x)
        .collect();
    assert!(blue.len() > 500, "only {} chart-blue pixels", blue.len());
    let rightmost = blue.iter().max().copied().unwrap_or(0);
    assert!(
        rightmost < width - 40,
        "the chart's bars reach x = {rightmost} of {width}: not scaled to the screen"
    );
}

fn near(a: u8, b: u8) -> bool {
    a.abs_diff(b) <= 6
}

/// Width, height and RGB pixels of a PNG.
fn decode_png(path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let mut decoder =
        png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| match channels {
            1 | 2 => [p[0], p[0], p[0]],
            _ => [p[0], p[1], p[2]],
        })
        .collect();
    (info.width, info.height, pixels)
}

fn most_common(pixels: &[[u8; 3]]) -> [u8; 3] {
    let mut counts = std::collections::HashMap::new();
    for p in pixels {
        *counts.entry(*p).or_insert(0usize) += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(p, _)| p)
        .unwrap()
}
