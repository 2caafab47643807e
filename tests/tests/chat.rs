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
