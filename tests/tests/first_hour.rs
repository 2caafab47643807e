//! What a new user meets in the first hour (issue 19), against the fake router: a dead
//! router, errors as JSON, a misbehaving router's model list, `/healthz`, the `-v` log,
//! rejected requests in `hfclaw usage`.

#![allow(clippy::unwrap_used)]

mod common;

use common::Sandbox;
use common::gateway::Gateway;
use hfclaw_e2e::Reply;
use serde_json::Value;

const ROUTER_LIST: &str = include_str!("../fixtures/router-models-synthetic.json");

/// A list from a misbehaving router: one valid entry of four.
const DEGENERATE: &str = r#"{"object":"list","data":[
  {"id":"only/One-1B","providers":[{"provider":"p","status":"live"}]},
  {"id":17,"providers":"none"},
  {"id":["x"],"owned_by":3},
  {"owned_by":"nobody"}
]}"#;

const CONFIG: &str = r#"{
  agents: { defaults: {
    model: { primary: "huggingface/deepseek-ai/DeepSeek-R1", fallbacks: ["huggingface/Qwen/Qwen3-8B:cheapest"] },
  } },
}"#;

/// `http://127.0.0.1:PORT/v1` where nothing listens.
fn dead_router() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/v1")
}

fn stdout(rendered: &str) -> &str {
    let body = rendered.split("--- stdout\n").nth(1).unwrap_or_default();
    body.split("--- stderr").next().unwrap_or_default()
}

#[test]
fn chat_reports_an_unreachable_router_once_with_one_hint() {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    let dead = dead_router();
    let mut cmd = s.cmd(&["chat", "--no-ledger", "hi"]);
    cmd.env("HFCLAW_ROUTER_URL", &dead);
    let out = s.render(&cmd.output().unwrap()).replace(&dead, "[DEAD]");
    insta::assert_snapshot!(out);
    assert_eq!(out.matches("Connection refused").count(), 1, "{out}");
    assert_eq!(out.matches("hint:").count(), 1, "{out}");
}

#[test]
fn chat_json_prints_errors_as_json_on_stdout_too() {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    s.router
        .chat("deepseek-ai/DeepSeek-R1", [Reply::error(404, "gone", None)])
        .chat(
            "Qwen/Qwen3-8B:cheapest",
            [Reply::error(401, "Invalid credentials", None)],
        );
    let out = s.run(&["chat", "--json", "--no-ledger", "hi"]);
    insta::assert_snapshot!(out);
    let error: Value = serde_json::from_str(stdout(&out)).unwrap();
    assert_eq!(error["skipped"].as_array().unwrap().len(), 2, "{error}");
    // An error before any model is tried is an object too.
    let none = Sandbox::new();
    let out = none.run(&["chat", "--json", "--no-ledger", "hi"]);
    assert!(out.starts_with("exit: 2"), "{out}");
    let error: Value = serde_json::from_str(stdout(&out)).unwrap();
    assert_eq!(error["error"]["message"], "no default model");
}

/// Ages the discovery cache past its hour, so the next command fetches.
fn age_cache(s: &Sandbox) {
    let cache = s.home().join(".cache/hfclaw/models.json");
    let mut disk: Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    let two_hours_ago = disk["fetched_at"].as_u64().unwrap() - 2 * 3_600;
    disk["fetched_at"] = two_hours_ago.into();
    std::fs::write(&cache, disk.to_string()).unwrap();
}

#[test]
fn a_mostly_malformed_list_never_replaces_good_data_even_when_forced() {
    let s = Sandbox::new();
    // Nothing cached: the built-in list stays.
    s.router.models(Reply::json(200, DEGENERATE));
    let first = s.run(&["models", "list", "--refresh", "--search", "One-1B"]);
    insta::assert_snapshot!(first);
    assert!(!s.home().join(".cache/hfclaw/models.json").exists());
    // A good list cached, then the degenerate one: the cached list stays.
    s.router.models(Reply::json(200, ROUTER_LIST));
    s.run(&["-q", "models", "list", "--refresh"]);
    let good = std::fs::read_to_string(s.home().join(".cache/hfclaw/models.json")).unwrap();
    s.router.models(Reply::json(200, DEGENERATE));
    let forced = s.run(&["models", "list", "--refresh", "--search", "DeepSeek-R1"]);
    assert!(
        forced.contains(
            "warning: the router's list was refused: 3 of its 4 model entries are malformed; \
             kept the cached list"
        ),
        "{forced}"
    );
    let catalog = forced.lines().find(|l| l.starts_with("catalog: ")).unwrap();
    assert!(
        catalog.starts_with("catalog: cached ")
            && catalog.ends_with(
                " ago (the router's list was refused: 3 of its 4 model entries are malformed)"
            ),
        "{forced}"
    );
    assert!(
        forced.contains("huggingface/deepseek-ai/DeepSeek-R1 "),
        "{forced}"
    );
    let after = std::fs::read_to_string(s.home().join(".cache/hfclaw/models.json")).unwrap();
    assert_eq!(after, good, "the cache is untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_keeps_a_good_cache_over_a_degenerate_list_at_start() {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    s.cache_live_models(ROUTER_LIST);
    age_cache(&s);
    s.router.models(Reply::json(200, DEGENERATE));
    let gw = Gateway::start(&s, &[]);
    let list: Value = reqwest::get(format!("{}/models", gw.v1()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(ids.contains(&"huggingface/Qwen/Qwen3-32B"), "{ids:?}");
    assert!(!ids.contains(&"huggingface/only/One-1B"), "{ids:?}");
    let log = gw.stderr_text();
    assert!(
        log.contains("warning: the router's list was refused: 3 of its 4 model entries are malformed; kept the cached list"),
        "{log}"
    );
    assert!(
        log.contains("catalog: cached 2 h ago (the router's list was refused: "),
        "{log}"
    );
}

#[test]
fn a_list_under_half_the_cached_one_is_refused_by_refresh_too() {
    let s = Sandbox::new();
    s.cache_live_models(ROUTER_LIST);
    s.router.models(Reply::json(
        200,
        r#"{"object":"list","data":[{"id":"only/One-1B","providers":[{"provider":"p","status":"live"}]}]}"#,
    ));
    let out = s.run(&["models", "list", "--refresh", "--search", "One-1B"]);
    assert!(
        out.contains(
            "the router's list was refused: it lists 1 model, fewer than half of the 17 cached"
        ),
        "{out}"
    );
    assert!(!out.contains("huggingface/only/One-1B"), "{out}");
}

/// POSTs `body` (text, sent as JSON) to the gateway's chat completions; status and body.
async fn post_chat(gateway: &Gateway, body: impl Into<String>) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", gateway.v1()))
        .header("content-type", "application/json")
        .body(body.into())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn health(gateway: &Gateway) -> Value {
    let response = reqwest::get(format!("{}/healthz", gateway.base()))
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "HTTP 200 either way");
    response.json().await.unwrap()
}

const HI: &str = r#"{"messages":[{"role":"user","content":"hi"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_degraded_while_every_model_of_the_default_chain_cools() {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    s.router.models(Reply::json(200, ROUTER_LIST));
    let gw = Gateway::start(&s, &[]);
    let ok = health(&gw).await;
    assert_eq!(ok["status"], "ok", "{ok}");
    assert_eq!(ok["reasons"], serde_json::json!([]), "{ok}");
    let broken = Reply::error(500, "upstream exploded", None);
    s.router
        .chat("deepseek-ai/DeepSeek-R1", [broken.clone()])
        .chat("Qwen/Qwen3-8B:cheapest", [broken]);
    let (status, _) = post_chat(&gw, HI).await;
    assert_eq!(status, 502);
    let degraded = health(&gw).await;
    assert_eq!(degraded["status"], "degraded", "{degraded}");
    assert_eq!(
        degraded["reasons"],
        serde_json::json!([
            "every model of the default chain is cooling down (deepseek-ai/DeepSeek-R1, Qwen/Qwen3-8B:cheapest)"
        ])
    );
    assert_eq!(degraded["cooldowns"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_degraded_while_the_router_cannot_be_reached() {
    let mut s = Sandbox::new();
    s.write_config(CONFIG);
    s.router.models(Reply::json(200, ROUTER_LIST));
    let gw = Gateway::start(&s, &[]);
    // The gateway's router goes away (its port closes).
    drop(std::mem::replace(
        &mut s.router,
        hfclaw_e2e::FakeRouter::start(),
    ));
    // Nothing seen since the start: /healthz asks the router itself.
    let degraded = health(&gw).await;
    assert_eq!(degraded["status"], "degraded", "{degraded}");
    assert_eq!(
        degraded["reasons"],
        serde_json::json!(["the router cannot be reached (Connection refused)"])
    );
    // A request that met only network failures says the same.
    let (status, _) = post_chat(&gw, HI).await;
    assert_eq!(status, 502);
    assert_eq!(health(&gw).await["status"], "degraded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_serve_logs_one_plain_line_per_request() {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    s.router.models(Reply::json(200, ROUTER_LIST)).chat(
        "deepseek-ai/DeepSeek-R1",
        [Reply::chat_json("deepseek-ai/DeepSeek-R1", "hello").via("together")],
    );
    let gw = Gateway::start(&s, &["-v"]);
    assert_eq!(post_chat(&gw, HI).await.0, 200);
    assert_eq!(post_chat(&gw, "{not json").await.0, 400);
    let models = reqwest::get(format!("{}/models", gw.v1())).await.unwrap();
    assert_eq!(models.status(), 200);
    // The request log's line may be written just after the answer left: wait for it.
    let started = std::time::Instant::now();
    while gw.stderr_text().matches(" INFO ").count() < 3
        && started.elapsed() < std::time::Duration::from_secs(5)
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let log = gw.stderr_text();
    assert!(
        !log.contains('\u{1b}'),
        "colour escapes in a log file:\n{log}"
    );
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(" INFO ")).collect();
    assert_eq!(lines.len(), 3, "one line per request:\n{log}");
    assert!(
        lines[0].contains(" exchange api=\"chat\" ")
            && lines[0].contains("model=\"huggingface/deepseek-ai/DeepSeek-R1\"")
            && lines[0].contains("provider=\"together\"")
            && lines[0].contains("input_tokens=5 output_tokens=7"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("requested=\"(rejected)\"") && lines[1].contains("status=400"),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains(" request method=GET path=\"/v1/models\" status=200 "));
    // Durations to a tenth of a millisecond.
    for line in &lines {
        for field in line.split(' ').filter(|f| f.contains("_ms=")) {
            let value = field.split('=').nth(1).unwrap();
            let decimals = value.split('.').nth(1).map_or(0, str::len);
            assert!(decimals <= 1, "{field} in {line}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_counts_requests_rejected_before_a_model_apart() {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    let gone = Reply::error(404, "gone", None);
    s.router
        .models(Reply::json(200, ROUTER_LIST))
        .chat(
            "deepseek-ai/DeepSeek-R1",
            [
                Reply::chat_json("deepseek-ai/DeepSeek-R1", "hello").via("together"),
                gone.clone(),
            ],
        )
        .chat("Qwen/Qwen3-8B:cheapest", [gone]);
    let gw = Gateway::start(&s, &["--max-body", "1"]);
    assert_eq!(post_chat(&gw, HI).await.0, 200);
    // Refused before a model was chosen: bad JSON, too large, an invalid body.
    assert_eq!(post_chat(&gw, "{not json").await.0, 400);
    let too_large = format!(
        r#"{{"messages":[{{"role":"user","content":"{}"}}]}}"#,
        "x".repeat(1_100_000)
    );
    assert_eq!(post_chat(&gw, too_large).await.0, 413);
    assert_eq!(post_chat(&gw, r#"{"messages":[]}"#).await.0, 400);
    // A request without `model` that every model of the chain failed is the default's.
    assert_eq!(post_chat(&gw, HI).await.0, 404);
    gw.signal("TERM");
    let (status, _) = gw.wait(std::time::Duration::from_secs(20));
    assert!(status.success());
    insta::assert_snapshot!(s.run(&["usage"]));
}
