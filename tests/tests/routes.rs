//! Routes for the model names clients choose (issue 20, item 1), end to end: Claude
//! Code's own `claude-*` names on all three front doors and on token counting, `--route`
//! order, `HFCLAW_ROUTES`, `--no-default-routes`, and the `x-hfclaw-model` /
//! `x-hfclaw-route` headers that say what happened.
#![allow(clippy::unwrap_used)]

mod common;

use common::gateway::Gateway;
use common::{CHAIN_CONFIG, Sandbox};
use hfclaw_e2e::Reply;
use serde_json::{Value, json};

const R1: &str = "deepseek-ai/DeepSeek-R1";
const QWEN: &str = "Qwen/Qwen3-8B:cheapest";
const CHAT: &str = "/v1/chat/completions";
const MESSAGES: &str = "/v1/messages";
const RESPONSES: &str = "/v1/responses";

/// The chain config, with every model answering on every API (naming itself).
fn sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.write_config(CHAIN_CONFIG);
    for model in [R1, QWEN] {
        s.router
            .chat(model, [Reply::chat_json(model, model)])
            .messages(model, [Reply::messages_json(model, model)])
            .responses(model, [Reply::responses_json(model, model)]);
    }
    s
}

fn body(path: &str, model: &str) -> Value {
    match path {
        CHAT => json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
        MESSAGES => json!({"model": model, "max_tokens": 64,
            "messages": [{"role": "user", "content": "hi"}]}),
        _ => json!({"model": model, "input": "hi"}),
    }
}

/// Asks for `name` on `path`; returns the status and the two headers.
async fn ask(gw: &Gateway, path: &str, name: &str) -> (u16, String, String) {
    let answer = gw.post(path, &body(path, name), &[]).await;
    (
        answer.status,
        answer.header("x-hfclaw-model").to_owned(),
        answer.header("x-hfclaw-route").to_owned(),
    )
}

fn hf(id: &str) -> String {
    format!("huggingface/{id}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_names_reach_the_default_and_haiku_names_the_first_fallback_on_every_api() {
    let s = sandbox();
    let gw = Gateway::start(&s, &[]);
    let cases = [
        ("claude-sonnet-5-5", R1, "claude-*"),
        ("claude-opus-4-1-20250805", R1, "claude-*"),
        ("claude-haiku-4-5-20251001", QWEN, "claude-*haiku*"),
        ("claude-3-5-haiku-latest", QWEN, "claude-*haiku*"),
    ];
    for path in [CHAT, MESSAGES, RESPONSES] {
        for (name, model, route) in cases {
            assert_eq!(
                ask(&gw, path, name).await,
                (200, hf(model), route.to_owned()),
                "{path} {name}"
            );
        }
        assert_eq!(
            s.router.models_sent_to(&format!("POST {path}")),
            [R1, R1, QWEN, QWEN],
            "{path}"
        );
    }
    // A name of the user's own is never routed: no route header.
    assert_eq!(ask(&gw, CHAT, "qwen").await, (200, hf(QWEN), String::new()));
    // Streams say it too (headers go before the first byte).
    s.router
        .messages(R1, [Reply::messages_stream(R1, &["he", "llo"])]);
    let mut streamed = body(MESSAGES, "claude-sonnet-5-5");
    streamed["stream"] = json!(true);
    let answer = gw.post(MESSAGES, &streamed, &[]).await;
    assert_eq!(
        (answer.status, answer.header("x-hfclaw-route")),
        (200, "claude-*")
    );
    assert!(answer.text.contains("llo"), "{}", answer.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routed_name_keeps_the_whole_chain() {
    let s = sandbox();
    s.router.chat(R1, [Reply::error(503, "overloaded", None)]);
    let gw = Gateway::start(&s, &[]);
    let answer = gw.post(CHAT, &body(CHAT, "claude-sonnet-5-5"), &[]).await;
    assert_eq!(
        (
            answer.status,
            answer.header("x-hfclaw-model"),
            answer.header("x-hfclaw-fallback")
        ),
        (200, hf(QWEN).as_str(), "1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_routes_come_first_in_order_and_no_default_routes_turns_the_built_in_ones_off() {
    let s = sandbox();
    let gw = Gateway::start(
        &s,
        &[
            "--route",
            "claude-*haiku*=r1",
            "--route",
            "claude-*=qwen",
            "--route",
            "GPT-*=default",
            "--no-default-routes",
        ],
    );
    assert_eq!(
        ask(&gw, MESSAGES, "claude-haiku-4-5-20251001").await,
        (200, hf(R1), "claude-*haiku*".to_owned())
    );
    assert_eq!(
        ask(&gw, MESSAGES, "claude-sonnet-5-5").await,
        (200, hf(QWEN), "claude-*".to_owned())
    );
    assert_eq!(
        ask(&gw, CHAT, "gpt-4o-mini").await,
        (200, hf(R1), "GPT-*".to_owned())
    );
    let gw = Gateway::start(&s, &["--no-default-routes"]);
    let answer = gw
        .post(MESSAGES, &body(MESSAGES, "claude-sonnet-5-5"), &[])
        .await;
    assert_eq!(answer.status, 404, "{}", answer.text);
    assert_eq!(answer.json()["error"]["type"], "not_found_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_counting_follows_the_routes() {
    let s = sandbox();
    s.router.on(
        "/v1/messages/count_tokens",
        QWEN,
        [Reply::json(200, r#"{"input_tokens":42}"#)],
    );
    let gw = Gateway::start(&s, &[]);
    let answer = gw
        .post(
            "/v1/messages/count_tokens",
            &body(MESSAGES, "claude-haiku-4-5-20251001"),
            &[("anthropic-version", "2023-06-01")],
        )
        .await;
    assert_eq!(
        (
            answer.status,
            answer.json(),
            answer.header("x-hfclaw-route")
        ),
        (200, json!({"input_tokens": 42}), "claude-*haiku*")
    );
    assert_eq!(
        s.router.models_sent_to("POST /v1/messages/count_tokens"),
        [QWEN]
    );
}

/// `serve` refuses a route that is not PATTERN=MODEL or leads to no model (exit 2), from
/// the flag or from `HFCLAW_ROUTES`, before it listens.
#[test]
fn bad_routes_stop_serve_before_it_listens() {
    let s = sandbox();
    let router = s.router.base_url();
    let run = |args: &[&str], env: Option<&str>| {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0", "--router-url", &router];
        all.extend_from_slice(args);
        let mut cmd = s.cmd(&all);
        if let Some(routes) = env {
            cmd.env("HFCLAW_ROUTES", routes);
        }
        let output = cmd.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&["--route", "claude-*"], None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("error: invalid --route: \"claude-*\" is not PATTERN=MODEL"),
        "{stderr}"
    );
    let (code, stderr) = run(&[], Some("claude-*haiku*=qwen;claude-*=nope"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--route claude-*=nope: the model \"nope\" does not exist"),
        "{stderr}"
    );
    assert!(!stderr.contains("listening on"), "{stderr}");
}

/// `GET /v1/models` answers Anthropic clients (`anthropic-version` or `x-api-key`) in
/// Anthropic's list shape, everyone else in OpenAI's, with the same models.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_list_speaks_anthropic_to_anthropic_clients() {
    let s = sandbox();
    let gw = Gateway::start(&s, &[]);
    let list = |header: Option<(&'static str, &'static str)>| {
        let url = format!("{}/v1/models", gw.base());
        async move {
            let mut request = reqwest::Client::new().get(url);
            if let Some((name, value)) = header {
                request = request.header(name, value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let openai = list(None).await;
    assert_eq!(openai["object"], "list");
    for header in [("anthropic-version", "2023-06-01"), ("x-api-key", "any")] {
        let anthropic = list(Some(header)).await;
        let data = anthropic["data"].as_array().unwrap();
        assert_eq!(data.len(), openai["data"].as_array().unwrap().len());
        assert_eq!(
            (
                &anthropic["has_more"],
                &anthropic["first_id"],
                &anthropic["last_id"]
            ),
            (&json!(false), &data[0]["id"], &data[data.len() - 1]["id"])
        );
        assert_eq!(data[0]["id"], "default");
        assert_eq!(
            data[0]["display_name"],
            "default → huggingface/deepseek-ai/DeepSeek-R1"
        );
        assert!(
            data.iter().all(|m| m["type"] == "model"
                && m["created_at"] == "1970-01-01T00:00:00Z"
                && m["display_name"].is_string()),
            "{anthropic}"
        );
        assert!(data.iter().any(|m| m["id"] == "qwen"), "{anthropic}");
    }
}
