//! `hfclaw chat` against the fake router: streaming, reasoning, fallbacks, errors.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Sandbox, TOKEN};
use hfclaw_e2e::Reply;

const CONFIG: &str = r#"// primary with two fallbacks
{
  agents: { defaults: {
    model: {
      primary: "huggingface/deepseek-ai/DeepSeek-R1",
      fallbacks: ["huggingface/Qwen/Qwen3-8B:cheapest", "huggingface/openai/gpt-oss-120b"],
    },
    models: { "huggingface/Qwen/Qwen3-8B:cheapest": { alias: "qwen" } },
  } },
  models: { providers: { huggingface: { headers: { "X-HF-Bill-To": "my-org" } } } },
}"#;

fn sandbox() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write_config(CONFIG);
    sandbox
}

#[test]
fn streams_the_answer_and_closes_with_model_and_tokens() {
    let s = sandbox();
    s.router.chat(
        "deepseek-ai/DeepSeek-R1",
        [Reply::chat_stream(
            "deepseek-ai/DeepSeek-R1",
            &["think"],
            &["Hel", "lo", "!"],
        )],
    );
    insta::assert_snapshot!(s.run(&["chat", "say hello"]));
    let request = &s.router.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(request.header("x-hf-bill-to"), Some("my-org"));
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["messages"][0]["content"], "say hello");
}

#[test]
fn reasoning_goes_to_stderr_only_when_asked() {
    let s = sandbox();
    s.router.chat(
        "deepseek-ai/DeepSeek-R1",
        [Reply::chat_stream(
            "deepseek-ai/DeepSeek-R1",
            &["Let me ", "think."],
            &["42"],
        )],
    );
    insta::assert_snapshot!(s.run(&["chat", "--show-reasoning", "--system", "be brief", "6*7?"]));
    let body: serde_json::Value = serde_json::from_str(&s.router.requests()[0].body).unwrap();
    assert_eq!(body["messages"][0]["role"], "system");
}

#[test]
fn an_inline_think_block_is_reasoning_not_the_answer() {
    let s = sandbox();
    // DeepSeek-R1 on some providers: the thoughts inside `content`, tags split anywhere.
    let pieces = [
        "<thi",
        "nk>\nweigh ",
        "it</th",
        "ink>\n\nIt is ",
        "42. Use <think> tags freely.",
    ];
    s.router.chat(
        "deepseek-ai/DeepSeek-R1",
        [Reply::chat_stream("deepseek-ai/DeepSeek-R1", &[], &pieces)],
    );
    let out = s.cmd(&["chat", "6*7?"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "It is 42. Use <think> tags freely.\n"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("weigh"));
    let out = s
        .cmd(&["chat", "--show-reasoning", "6*7?"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "It is 42. Use <think> tags freely.\n"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("weigh it"));
    let out = s.cmd(&["chat", "--json", "6*7?"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["content"], "It is 42. Use <think> tags freely.");
    assert_eq!(json["reasoning"], "\nweigh it");
}

#[test]
fn failing_primary_falls_through_in_order_and_says_why() {
    let s = sandbox();
    s.router
        .chat(
            "deepseek-ai/DeepSeek-R1",
            [Reply::error(500, "upstream exploded", None)],
        )
        .chat(
            "Qwen/Qwen3-8B:cheapest",
            [Reply::error(
                400,
                "The requested model is not supported by any provider you have enabled",
                Some("model_not_supported"),
            )],
        )
        .chat(
            "openai/gpt-oss-120b",
            [Reply::chat_stream("openai/gpt-oss-120b", &[], &["fine"])],
        );
    let started = Instant::now();
    insta::assert_snapshot!(s.run(&["chat", "hi"]));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the chain must be quick"
    );
    assert_eq!(
        s.router.chat_models(),
        [
            "deepseek-ai/DeepSeek-R1",
            "deepseek-ai/DeepSeek-R1",
            "deepseek-ai/DeepSeek-R1",
            "Qwen/Qwen3-8B:cheapest",
            "openai/gpt-oss-120b"
        ],
        "500 is retried twice, then each fallback in order"
    );
}

#[test]
fn auth_error_stops_the_chain() {
    let s = sandbox();
    s.router.chat(
        "deepseek-ai/DeepSeek-R1",
        [Reply::json(
            401,
            r#"{"error":"Invalid credentials in Authorization header"}"#,
        )],
    );
    insta::assert_snapshot!(s.run(&["chat", "hi"]));
    assert_eq!(s.router.chat_models(), ["deepseek-ai/DeepSeek-R1"]);
}

#[test]
fn long_retry_after_moves_on_and_payment_is_explained() {
    let s = sandbox();
    s.router
        .chat(
            "deepseek-ai/DeepSeek-R1",
            [Reply::error(429, "slow down", None).with_header("retry-after", "60")],
        )
        .chat(
            "Qwen/Qwen3-8B:cheapest",
            [Reply::error(
                402,
                "You have exceeded your monthly included credits",
                None,
            )],
        )
        .chat("openai/gpt-oss-120b", [Reply::error(403, "gated", None)]);
    let started = Instant::now();
    insta::assert_snapshot!(s.run(&["chat", "hi"]));
    assert!(started.elapsed() < Duration::from_secs(5));
    // A 402 is the account's: the third model bills the same account and is not tried.
    assert_eq!(
        s.router.chat_models(),
        ["deepseek-ai/DeepSeek-R1", "Qwen/Qwen3-8B:cheapest"]
    );
}

#[test]
fn alias_model_no_fallback_and_json() {
    let s = sandbox();
    s.router.chat(
        "Qwen/Qwen3-8B:cheapest",
        [Reply::error(404, "no such model", None)],
    );
    let out = s.run(&["chat", "--model", "qwen", "--no-fallback", "hi"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    assert_eq!(s.router.chat_models(), ["Qwen/Qwen3-8B:cheapest"]);

    let s = sandbox();
    s.router.chat(
        "Qwen/Qwen3-8B:cheapest",
        [Reply::chat_stream("Qwen/Qwen3-8B", &["hmm"], &["a", "b"])],
    );
    insta::assert_snapshot!(s.run(&["chat", "-m", "qwen", "--json", "hi"]));
}

#[test]
fn prompt_from_stdin() {
    let s = sandbox();
    s.router.chat(
        "deepseek-ai/DeepSeek-R1",
        [Reply::chat_stream("deepseek-ai/DeepSeek-R1", &[], &["ok"])],
    );
    let mut child = s
        .cmd(&["chat", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ok\n");
    assert!(s.router.requests()[0].body.contains("from stdin"));
}

#[test]
fn no_token_is_an_input_error() {
    let s = sandbox();
    let out = s.render(&s.cmd_without_token(&["chat", "hi"]).output().unwrap());
    insta::assert_snapshot!(out);
    assert!(s.router.requests().is_empty());
}

#[test]
fn token_never_appears_even_at_trace_level() {
    let s = sandbox();
    s.router.chat(
        "deepseek-ai/DeepSeek-R1",
        [Reply::json(
            401,
            format!(r#"{{"error":"bad token {TOKEN}"}}"#),
        )],
    );
    // `render` panics if the token shows up anywhere.
    let out = s.run(&["-vv", "chat", "hi"]);
    assert!(out.starts_with("exit: 1"), "{out}");
}

/// The router's list as the cache holds it: prices the tests own (not the built-in
/// snapshot's). DeepSeek R1: together $3/$7, cerebras $2/$5; Qwen3 8B: cerebras and
/// novita.
pub const LIVE_MODELS: &str = r#"{"object":"list","data":[
  {"id":"deepseek-ai/DeepSeek-R1","object":"model","owned_by":"deepseek-ai","providers":[
    {"provider":"together","status":"live","pricing":{"input":3,"output":7}},
    {"provider":"cerebras","status":"live","pricing":{"input":2,"output":5}}]},
  {"id":"Qwen/Qwen3-8B","object":"model","owned_by":"Qwen","providers":[
    {"provider":"cerebras","status":"live","pricing":{"input":0.1,"output":0.4}},
    {"provider":"novita","status":"live","pricing":{"input":0.05,"output":0.2}}]}
]}"#;

#[test]
fn the_closing_line_names_the_serving_provider_and_its_live_cost() {
    let s = sandbox();
    s.cache_live_models(LIVE_MODELS);
    s.router.chat(
        "deepseek-ai/DeepSeek-R1",
        [
            Reply::chat_stream("deepseek-ai/DeepSeek-R1", &[], &["Hel", "lo", "!"])
                .with_header("x-inference-provider", "together"),
        ],
    );
    // 5 prompt tokens × $3/1M + 3 completion tokens × $7/1M = $0.000036, exact.
    insta::assert_snapshot!(s.run(&["chat", "say hello"]));
}

#[test]
fn a_fallback_answered_by_another_provider_is_priced_at_that_provider() {
    let s = sandbox();
    s.cache_live_models(LIVE_MODELS);
    s.router
        .chat(
            "deepseek-ai/DeepSeek-R1",
            [Reply::error(404, "no such model", None)],
        )
        .chat(
            "Qwen/Qwen3-8B:cheapest",
            [Reply::chat_stream("Qwen/Qwen3-8B", &[], &["ok"])
                .with_header("x-inference-provider", "cerebras")],
        );
    insta::assert_snapshot!(s.run(&["chat", "hi"]));
    insta::assert_snapshot!(s.run(&["chat", "--json", "hi"]));
}

#[test]
fn without_the_header_the_cost_is_what_the_ref_reaches_marked_estimated() {
    let s = sandbox();
    s.cache_live_models(LIVE_MODELS);
    s.router.chat(
        "deepseek-ai/DeepSeek-R1",
        [Reply::chat_stream(
            "deepseek-ai/DeepSeek-R1",
            &[],
            &["a", "b"],
        )],
    );
    let out = s.run(&["chat", "hi"]);
    // No throughput data, so the provider is unknown: the highest live price (together),
    // 5 × $3/1M + 2 × $7/1M = $0.000029, estimated (it errs high).
    assert!(
        out.contains(
            "answered by huggingface/deepseek-ai/DeepSeek-R1 · [T] s · 7 tokens · ~$[EST]"
        ),
        "{out}"
    );
    let json = s.cmd(&["chat", "--json", "hi"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["provider"], serde_json::Value::Null);
    assert_eq!(json["cost_usd"], 0.000029);
    assert_eq!(json["cost_estimated"], true);
}

#[test]
fn every_chat_is_one_ledger_row_unless_no_ledger() {
    let s = sandbox();
    s.router.chat(
        "deepseek-ai/DeepSeek-R1",
        [Reply::chat_stream("deepseek-ai/DeepSeek-R1", &[], &["ok"])],
    );
    let out = s.run(&["chat", "--no-ledger", "hi"]);
    assert!(out.starts_with("exit: 0"), "{out}");
    assert!(!s.ledger_path().exists(), "--no-ledger writes nothing");
    s.run(&["chat", "hi"]);
    s.router.chat(
        "deepseek-ai/DeepSeek-R1",
        [Reply::error(429, "slow down", None).with_header("retry-after", "60")],
    );
    let out = s.run(&["chat", "--no-fallback", "hi"]);
    assert!(out.starts_with("exit: 1"), "{out}");
    let ledger =
        hfclaw_accounting::Ledger::open(&hfclaw_accounting::LedgerSpec::Sqlite(s.ledger_path()))
            .unwrap();
    let rows = ledger.recent(10).unwrap();
    let summary: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.outcome.class(),
                r.status,
                r.answered_ref.as_deref(),
                r.requested_model.as_str(),
                r.key.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "rate_limited",
                Some(429),
                None,
                "default",
                Some("hfclaw-chat")
            ),
            (
                "ok",
                Some(200),
                Some("huggingface/deepseek-ai/DeepSeek-R1"),
                "default",
                Some("hfclaw-chat")
            ),
        ]
    );
    assert!(rows[1].usage.is_some() && rows[1].streamed && rows[1].ttfb.is_some());
}

#[test]
fn a_broken_ledger_only_warns_and_is_left_untouched() {
    let s = sandbox();
    s.router.chat(
        "deepseek-ai/DeepSeek-R1",
        [Reply::chat_stream("deepseek-ai/DeepSeek-R1", &[], &["ok"])],
    );
    std::fs::create_dir_all(s.ledger_path().parent().unwrap()).unwrap();
    std::fs::write(s.ledger_path(), "not a database").unwrap();
    insta::assert_snapshot!(s.run(&["chat", "hi"]));
    assert_eq!(
        std::fs::read_to_string(s.ledger_path()).unwrap(),
        "not a database"
    );
}
