//! The official Python SDKs (`anthropic`, `openai`) as unmodified clients of `hfclaw
//! serve`, against the loopback fake router: Anthropic `messages.create` and
//! `messages.stream`, OpenAI `responses.create` with and without `stream=True`, chat
//! streaming, the SDKs' exception classes for the gateway's errors, and a budget refusal
//! that both SDKs return at once (no retry, no wait).
//!
//! The venv comes from `cargo xtask ci` (`target/pyenv`, created once), which runs these
//! `#[ignore]`d tests with `--ignored` and `HFCLAW_TEST_PYTHON`; a plain `cargo test` lists
//! them as ignored, and `--ignored` without the venv fails: they never pass unrun.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::gateway::Gateway;
use common::{CHAIN_CONFIG, Sandbox};
use hfclaw_e2e::Reply;
use serde_json::{Value, json};

const R1: &str = "deepseek-ai/DeepSeek-R1";
const QWEN: &str = "Qwen/Qwen3-8B:cheapest";
const KEY: &str = "sdk-client-key";

/// The venv's python (a test without one fails).
fn python() -> PathBuf {
    common::test_python("SDK client tests")
}

/// Runs the SDK `cases` (functions of `tests/sdk/clients.py`) in one Python process;
/// returns what each one printed.
fn run(python: &PathBuf, gw: &Gateway, cases: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sdk/clients.py");
    let output = Command::new(python)
        .arg(script)
        .args([gw.base().as_str(), KEY])
        .args(cases)
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{cases:?} failed:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
#[ignore = "needs the Python SDK venv: run through `cargo xtask ci`"]
fn anthropic_sdk_messages_through_the_gateway() {
    let python = python();
    let s = Sandbox::new();
    s.write_config(CHAIN_CONFIG);
    s.router
        .messages(
            QWEN,
            [
                Reply::messages_json(QWEN, "Hello from Qwen"),
                Reply::messages_stream(QWEN, &["Hel", "lo", "!"]),
            ],
        )
        // The default model fails before its first byte: the SDK's stream comes from the
        // fallback.
        .messages(R1, [Reply::error(503, "overloaded", None)]);
    let gw = Gateway::start(&s, &["--api-key", KEY]);
    let got = run(
        &python,
        &gw,
        &[
            "messages_create",
            "messages_stream",
            "messages_not_found",
            "messages_bad_key",
        ],
    );
    assert_eq!(
        got["messages_create"],
        json!({"text": "Hello from Qwen", "model": QWEN, "stop_reason": "end_turn", "output_tokens": 7})
    );
    assert_eq!(
        got["messages_stream"],
        json!({"pieces": ["Hel", "lo", "!"], "text": "Hello!", "stop_reason": "end_turn", "output_tokens": 3})
    );
    assert_eq!(
        got["messages_not_found"],
        json!({"error": "NotFoundError", "status": 404, "type": "not_found_error"})
    );
    assert_eq!(
        got["messages_bad_key"],
        json!({"error": "AuthenticationError", "status": 401, "type": "authentication_error"})
    );
    let sent = s.router.requests();
    assert!(
        sent.iter()
            .filter(|r| r.route == "POST /v1/messages")
            .all(|r| r.header("anthropic-version").is_some()),
        "the SDK's anthropic-version header was not forwarded"
    );
}

#[test]
#[ignore = "needs the Python SDK venv: run through `cargo xtask ci`"]
fn openai_sdk_responses_and_chat_through_the_gateway() {
    let python = python();
    let s = Sandbox::new();
    s.write_config(CHAIN_CONFIG);
    s.router
        .responses(
            R1,
            [
                Reply::responses_json(R1, "Hi from R1"),
                Reply::responses_stream(R1, &["Hi", " there"]),
            ],
        )
        .responses(
            "a/limited",
            [Reply::error(429, "slow down", None).with_header("retry-after", "60")],
        )
        .responses(
            QWEN,
            [Reply::error(429, "slow down", None).with_header("retry-after", "60")],
        )
        .chat(QWEN, [Reply::chat_stream(QWEN, &[], &["Hel", "lo"])]);
    let gw = Gateway::start(&s, &["--api-key", KEY]);
    let got = run(
        &python,
        &gw,
        &[
            "responses_create",
            "responses_stream",
            "responses_rate_limited",
            "chat_stream",
        ],
    );
    assert_eq!(
        got["responses_create"],
        json!({"text": "Hi from R1", "status": "completed", "output_tokens": 7})
    );
    assert_eq!(
        got["responses_stream"],
        json!({"deltas": ["Hi", " there"], "text": "Hi there", "output_tokens": 7})
    );
    assert_eq!(
        got["responses_rate_limited"],
        json!({"error": "RateLimitError", "status": 429, "code": "rate_limit_exceeded"})
    );
    assert_eq!(got["chat_stream"], json!({"text": "Hello"}));
}

#[test]
#[ignore = "needs the Python SDK venv: run through `cargo xtask ci`"]
fn both_sdks_return_at_once_on_a_budget_refusal() {
    let python = python();
    let s = Sandbox::new();
    s.write_config(CHAIN_CONFIG);
    // A spent budget (zero): the refusal would last until UTC midnight.
    let gw = Gateway::start(&s, &["--api-key", KEY, "--budget-usd-per-day", "0"]);
    let got = run(
        &python,
        &gw,
        &["budget_refused_messages", "budget_refused_chat"],
    );
    let refused = json!({"error": "RateLimitError", "status": 429, "at_once": true});
    assert_eq!(got["budget_refused_messages"], refused);
    assert_eq!(got["budget_refused_chat"], refused);
    // Each SDK sent its request once: no retry.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let ledger =
        hfclaw_accounting::Ledger::open(&hfclaw_accounting::LedgerSpec::Sqlite(s.ledger_path()))
            .unwrap();
    let rows = ledger.recent(10).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r.outcome.class() == "budget_exceeded"));
}

#[test]
#[ignore = "needs the Python SDK venv: run through `cargo xtask ci`"]
fn openai_sdk_embeddings_through_the_gateway() {
    let python = python();
    let s = Sandbox::new();
    s.write_config(CHAIN_CONFIG);
    s.router.embedding_model(
        "BAAI/bge-m3",
        4,
        &[
            hfclaw_e2e::Mapping::live("together", "baai-bge-m3"),
            hfclaw_e2e::Mapping::live("hf-inference", "BAAI/bge-m3"),
        ],
    );
    s.router.embedding_model(
        R1,
        4,
        &[hfclaw_e2e::Mapping::new(
            "together",
            R1,
            "live",
            "conversational",
        )],
    );
    let gw = Gateway::start(&s, &["--api-key", KEY]);
    let got = run(
        &python,
        &gw,
        &[
            "embeddings_create",
            "embeddings_default",
            "embeddings_not_supported",
        ],
    );
    let f32s = |text: &str| -> Vec<f32> {
        hfclaw_e2e::hub::vector(text, 4)
            .into_iter()
            .map(|x| x as f32)
            .collect()
    };
    let vectors = |case: &str| -> Vec<Vec<f32>> {
        serde_json::from_value::<Vec<Vec<f64>>>(got[case]["vectors"].clone())
            .unwrap()
            .into_iter()
            .map(|v| v.into_iter().map(|x| x as f32).collect())
            .collect()
    };
    // `encoding_format="float"`, a list of texts: together, with its usage.
    assert_eq!(vectors("embeddings_create"), [f32s("hello"), f32s("world")]);
    assert_eq!(got["embeddings_create"]["indexes"], json!([0, 1]));
    assert_eq!(got["embeddings_create"]["model"], "BAAI/bge-m3");
    assert_eq!(got["embeddings_create"]["prompt_tokens"], 4);
    // The SDK's default asks for base64 and decodes it itself (hf-inference, pinned).
    assert_eq!(vectors("embeddings_default"), [f32s("one")]);
    assert_eq!(
        got["embeddings_not_supported"],
        json!({"error": "NotFoundError", "status": 404, "code": "model_not_supported"})
    );
    let sent: Vec<String> = s
        .router
        .provider_requests()
        .into_iter()
        .map(|r| r.route)
        .collect();
    assert_eq!(
        sent,
        [
            "POST /together/v1/embeddings",
            "POST /hf-inference/models/BAAI/bge-m3/pipeline/feature-extraction"
        ]
    );
}
