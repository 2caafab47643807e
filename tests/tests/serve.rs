//! `hfclaw serve` end to end: an OpenAI client (async-openai, and reqwest where headers
//! and raw statuses matter) talks to the real binary, which talks to the loopback fake
//! router. Nothing reaches the internet: the router URL, HOME, cache and token are all
//! sandboxed.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestUserMessage, CreateChatCompletionRequest,
    CreateChatCompletionRequestArgs,
};
use common::gateway::Gateway;
use common::{Sandbox, TOKEN};
use futures_util::StreamExt;
use hfclaw_e2e::{Reply, sse_chat_events};
use serde_json::{Value, json};

const ROUTER_LIST: &str = include_str!("../fixtures/router-models-synthetic.json");

const CONFIG: &str = r#"{
  agents: { defaults: {
    model: {
      primary: "huggingface/deepseek-ai/DeepSeek-R1",
      fallbacks: ["huggingface/Qwen/Qwen3-8B:cheapest"],
    },
    models: {
      "huggingface/Qwen/Qwen3-8B:cheapest": { alias: "qwen" },
      "huggingface/deepseek-ai/DeepSeek-R1": { alias: "r1" },
    },
  } },
  models: { providers: { huggingface: { headers: { "X-HF-Bill-To": "my-org" } } } },
}"#;

const R1: &str = "deepseek-ai/DeepSeek-R1";
const QWEN: &str = "Qwen/Qwen3-8B:cheapest";

fn sandbox() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write_config(CONFIG);
    sandbox
}

fn request(model: &str, prompt: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequestArgs::default()
        .model(model)
        .messages([ChatCompletionRequestMessage::User(
            ChatCompletionRequestUserMessage::from(prompt),
        )])
        .build()
        .unwrap()
}

fn body(model: Option<&str>, stream: bool) -> Value {
    let mut body = json!({"messages": [{"role": "user", "content": "hi"}], "stream": stream});
    if let Some(model) = model {
        body["model"] = json!(model);
    }
    body
}

/// POSTs a chat body with reqwest; returns status, headers and body text.
async fn post(
    gateway: &Gateway,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/chat/completions", gateway.v1()))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    assert!(
        !text.contains(TOKEN),
        "the token leaked to a client: {text}"
    );
    (status, headers, text)
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn error_of(text: &str) -> Value {
    let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    value["error"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_list_has_refs_aliases_and_default() {
    let s = sandbox();
    s.router.models(Reply::json(200, ROUTER_LIST));
    let gw = Gateway::start(&s, &[]);
    let list = gw.openai("unused").models().list().await.unwrap();
    let ids: Vec<&str> = list.data.iter().map(|m| m.id.as_str()).collect();
    for id in [
        "default",
        "qwen",
        "r1",
        "huggingface/deepseek-ai/DeepSeek-R1",
        "huggingface/Qwen/Qwen3-8B:cheapest",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert_eq!(ids[0], "default");
    let raw: Value = reqwest::get(format!("{}/models", gw.v1()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw["object"], "list");
    let entry = |id: &str| {
        raw["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        entry("qwen")["target"],
        "huggingface/Qwen/Qwen3-8B:cheapest"
    );
    assert_eq!(
        entry("default")["target"],
        "huggingface/deepseek-ai/DeepSeek-R1"
    );
    let r1 = entry("huggingface/deepseek-ai/DeepSeek-R1");
    assert_eq!(r1["object"], "model");
    assert!(r1["context_window"].as_u64().is_some(), "{r1}");
    assert!(r1["pricing"]["output"].as_f64().is_some(), "{r1}");
    assert!(
        r1["providers"].as_array().is_some_and(|p| !p.is_empty()),
        "{r1}"
    );
    // Retrieve one model by id (ids contain slashes).
    let one: Value = reqwest::get(format!(
        "{}/models/huggingface/deepseek-ai/DeepSeek-R1",
        gw.v1()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(one["id"], "huggingface/deepseek-ai/DeepSeek-R1");
    // The catalog was refreshed from the router at start, with the token.
    let list_requests: Vec<_> = s
        .router
        .requests()
        .into_iter()
        .filter(|r| r.route == "GET /v1/models")
        .collect();
    assert_eq!(list_requests.len(), 1);
    assert_eq!(
        list_requests[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let health = reqwest::get(format!("{}/healthz", gw.base()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    gw.stderr_text();
}

/// `GET /v1/models/{id}` and the front doors decide what a name means by the same rule:
/// what chat accepts can be retrieved (`models.retrieve("Qwen/Qwen3-8B")`), what it
/// refuses is refused alike, with a "did you mean".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_retrieve_and_chat_agree_on_names() {
    let s = sandbox();
    let gw = Gateway::start(&s, &[]);
    let get = |id: &str| {
        let url = format!("{}/models/{id}", gw.v1());
        async move {
            let response = reqwest::get(url).await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, bare) = get("Qwen/Qwen3-8B").await;
    assert_eq!(status, 200, "{bare}");
    assert_eq!(bare["id"], "Qwen/Qwen3-8B");
    assert_eq!(bare["object"], "model");
    let (status, alias) = get("QWEN").await;
    assert_eq!(status, 200, "{alias}");
    assert_eq!(alias["target"], format!("huggingface/{QWEN}"));
    let (status, typo) = get("Qwen/Qwen3-9B").await;
    assert_eq!(status, 404, "{typo}");
    let message = typo["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("did you mean \"Qwen/Qwen3-8B\"?"),
        "{message}"
    );
    // Chat refuses the same typo the same way, before any request reaches the router.
    let (status, _, text) = post(&gw, &body(Some("Qwen/Qwen3-9B"), false), &[]).await;
    assert_eq!(status, 404, "{text}");
    assert!(
        text.contains("did you mean \\\"Qwen/Qwen3-8B\\\"?"),
        "{text}"
    );
    // A pin the router's list does not have for the model: 400, with the nearest pin.
    let (status, _, text) = post(&gw, &body(Some("Qwen/Qwen3-8B:nscal"), false), &[]).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("huggingface/Qwen/Qwen3-8B:nscale"), "{text}");
    assert!(
        s.router
            .requests()
            .iter()
            .all(|r| r.route != "POST /v1/chat/completions")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_streaming_chat_answers_for_the_default_model() {
    let s = sandbox();
    s.router.chat(R1, [Reply::chat_json(R1, "Hello from R1")]);
    let gw = Gateway::start(&s, &[]);
    let answer = gw
        .openai("unused")
        .chat()
        .create(request("default", "say hello"))
        .await
        .unwrap();
    assert_eq!(
        answer.choices[0].message.content.as_deref(),
        Some("Hello from R1")
    );
    let chats: Vec<_> = s
        .router
        .requests()
        .into_iter()
        .filter(|r| r.route == "POST /v1/chat/completions")
        .collect();
    let sent = &chats[0];
    assert_eq!(sent.model().as_deref(), Some(R1));
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(sent.header("x-hf-bill-to"), Some("my-org"));
    let sent_body: Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(sent_body["messages"][0]["content"], "say hello");
    // No `model` at all means the default too; the answer names the model.
    let (status, headers, text) = post(&gw, &body(None, false), &[]).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        header(&headers, "x-hfclaw-model"),
        "huggingface/deepseek-ai/DeepSeek-R1"
    );
    assert_eq!(header(&headers, "x-hfclaw-fallback"), "0");
    assert_eq!(header(&headers, "content-type"), "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["usage"]["total_tokens"],
        12
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_chat_passes_events_through_verbatim() {
    let s = sandbox();
    s.router.chat(
        R1,
        [Reply::chat_stream(R1, &["think"], &["Hel", "lo", "!"])],
    );
    let gw = Gateway::start(&s, &[]);
    let mut with_usage = request("r1", "hi");
    with_usage.stream_options = Some(async_openai::types::chat::ChatCompletionStreamOptions {
        include_usage: Some(true),
        include_obfuscation: None,
    });
    let mut stream = gw
        .openai("unused")
        .chat()
        .create_stream(with_usage)
        .await
        .unwrap();
    let mut content = String::new();
    let mut usage = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        if let Some(choice) = chunk.choices.first() {
            content.push_str(choice.delta.content.as_deref().unwrap_or(""));
        }
        usage = chunk.usage.or(usage);
    }
    assert_eq!(content, "Hello!");
    assert_eq!(usage.map(|u| u.completion_tokens), Some(3));
    // Byte for byte what the router sent, with the gateway's headers.
    let mut asks_usage = body(Some("r1"), true);
    asks_usage["stream_options"] = json!({"include_usage": true});
    let (status, headers, text) = post(&gw, &asks_usage, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "text/event-stream");
    assert_eq!(
        header(&headers, "x-hfclaw-model"),
        "huggingface/deepseek-ai/DeepSeek-R1"
    );
    assert_eq!(
        text,
        sse_chat_events(R1, &["think"], &["Hel", "lo", "!"]).concat()
    );
    // A client that did not ask for usage does not get the usage chunk the gateway asked
    // the router for (to account for the request).
    let (status, _, text) = post(&gw, &body(Some("r1"), true), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        text,
        without_usage(sse_chat_events(R1, &["think"], &["Hel", "lo", "!"]))
    );
    let sent: Vec<Value> = s
        .router
        .requests()
        .iter()
        .filter(|r| r.route == "POST /v1/chat/completions")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert!(
        sent.iter()
            .all(|b| b["stream_options"]["include_usage"] == true),
        "{sent:?}"
    );
}

/// A chat stream's events without the usage-only chunk.
fn without_usage(events: Vec<String>) -> String {
    events
        .into_iter()
        .filter(|e| !e.contains("\"choices\":[]"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_refs_and_bare_ids_resolve() {
    let s = sandbox();
    s.router
        .chat(QWEN, [Reply::chat_json(QWEN, "from qwen")])
        .chat("Qwen/Qwen3-8B", [Reply::chat_json("Qwen/Qwen3-8B", "bare")])
        .chat(
            "Qwen/Qwen3-8B:nscale",
            [Reply::chat_json("Qwen/Qwen3-8B", "pinned")],
        );
    let gw = Gateway::start(&s, &[]);
    let client = gw.openai("unused");
    for (model, expected) in [
        ("qwen", "from qwen"),
        ("QWEN", "from qwen"),
        ("huggingface/Qwen/Qwen3-8B:cheapest", "from qwen"),
        ("Qwen/Qwen3-8B", "bare"),
        ("huggingface/Qwen/Qwen3-8B:nscale", "pinned"),
    ] {
        let answer = client.chat().create(request(model, "hi")).await.unwrap();
        assert_eq!(
            answer.choices[0].message.content.as_deref(),
            Some(expected),
            "{model}"
        );
    }
    assert_eq!(
        s.router.chat_models(),
        [QWEN, QWEN, QWEN, "Qwen/Qwen3-8B", "Qwen/Qwen3-8B:nscale"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falls_back_on_500_and_on_long_429() {
    let s = sandbox();
    s.router
        .chat(R1, [Reply::error(500, "upstream exploded", None)])
        .chat(QWEN, [Reply::chat_stream(QWEN, &[], &["fallback answer"])]);
    let gw = Gateway::start(&s, &[]);
    let started = Instant::now();
    let (status, headers, text) = post(&gw, &body(Some("default"), true), &[]).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the chain must be quick"
    );
    assert!(text.contains("fallback answer"));
    assert_eq!(
        header(&headers, "x-hfclaw-model"),
        "huggingface/Qwen/Qwen3-8B:cheapest"
    );
    assert_eq!(header(&headers, "x-hfclaw-fallback"), "1");
    assert_eq!(
        header(&headers, "x-hfclaw-skipped"),
        "huggingface/deepseek-ai/DeepSeek-R1 (upstream error, HTTP 500)"
    );
    // Two quick retries of the primary, then the fallback.
    assert_eq!(s.router.chat_models(), [R1, R1, R1, QWEN]);

    // A 429 asking for a long wait moves on at once.
    let s = sandbox();
    s.router
        .chat(
            R1,
            [Reply::error(429, "slow down", None).with_header("retry-after", "60")],
        )
        .chat(QWEN, [Reply::chat_json(QWEN, "from qwen")]);
    let gw = Gateway::start(&s, &[]);
    let answer = gw
        .openai("unused")
        .chat()
        .create(request("r1", "hi"))
        .await
        .unwrap();
    assert_eq!(
        answer.choices[0].message.content.as_deref(),
        Some("from qwen")
    );
    assert_eq!(s.router.chat_models(), [R1, QWEN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_event_before_content_falls_back() {
    let s = sandbox();
    let error_stream = Reply::Sse {
        pieces: vec![
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n".to_owned(),
            "data: {\"error\":{\"message\":\"model is overloaded\",\"type\":\"server_error\"}}\n\n".to_owned(),
        ],
        delay: Duration::ZERO,
    };
    s.router
        .chat(R1, [error_stream])
        .chat(QWEN, [Reply::chat_stream(QWEN, &[], &["ok"])]);
    let gw = Gateway::start(&s, &[]);
    let (status, headers, text) = post(&gw, &body(None, true), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-hfclaw-fallback"), "1");
    assert!(!text.contains("overloaded"), "{text}");
    assert_eq!(text, without_usage(sse_chat_events(QWEN, &[], &["ok"])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_401_is_an_auth_error_for_the_operator() {
    let s = sandbox();
    s.router
        .chat(
            R1,
            [Reply::json(
                401,
                r#"{"error":"Invalid credentials in Authorization header"}"#,
            )],
        )
        .chat(QWEN, [Reply::chat_json(QWEN, "never")]);
    let gw = Gateway::start(&s, &[]);
    let error = gw
        .openai("unused")
        .chat()
        .create(request("default", "hi"))
        .await
        .unwrap_err();
    let OpenAIError::ApiError(api) = error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(api.status_code, 401);
    assert_eq!(
        api.api_error.r#type.as_deref(),
        Some("authentication_error")
    );
    let message = &api.api_error.message;
    assert!(message.contains("operator must fix it"), "{message}");
    let (status, _, text) = post(&gw, &body(None, false), &[]).await;
    assert_eq!(status, 401);
    assert_eq!(error_of(&text)["code"], "upstream_token_rejected");
    // A bad token is not a reason to try another model.
    assert_eq!(s.router.chat_models(), [R1, R1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_errors_map_to_openai_statuses() {
    let s = sandbox();
    s.router
        .chat("a/payment", [Reply::error(402, "out of credits", None)])
        .chat("a/gated", [Reply::error(403, "gated model", None)])
        .chat("a/missing", [Reply::error(404, "no such model", None)])
        .chat(
            "a/limited",
            [Reply::error(429, "slow down", None).with_header("retry-after", "60")],
        )
        .chat("a/broken", [Reply::error(503, "down", None)])
        .chat(
            "a/invalid",
            [Reply::error(422, "temperature must be <= 2", None)],
        )
        .chat("a/hangs", [Reply::Hang]);
    let gw = Gateway::start(&s, &["--timeout", "1"]);
    let no_fallback = [("x-hfclaw-no-fallback", "1")];
    // The 402 last: it holds the account, so every later request would get 402 too.
    for (model, expected, code) in [
        ("huggingface/a/gated", 403, "permission_denied"),
        ("huggingface/a/missing", 404, "model_not_found"),
        ("huggingface/a/limited", 429, "rate_limit_exceeded"),
        ("huggingface/a/broken", 502, "upstream_error"),
        ("huggingface/a/invalid", 422, "bad_request"),
        ("huggingface/a/hangs", 504, "upstream_timeout"),
        ("huggingface/a/payment", 402, "insufficient_quota"),
    ] {
        let (status, headers, text) = post(&gw, &body(Some(model), false), &no_fallback).await;
        assert_eq!(status, expected, "{model}: {text}");
        assert_eq!(error_of(&text)["code"], code, "{model}: {text}");
        if model == "huggingface/a/limited" {
            assert_eq!(header(&headers, "retry-after"), "60");
        }
    }
    // The header kept the fallbacks out.
    assert!(!s.router.chat_models().iter().any(|m| m == QWEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_400s_and_404s() {
    let s = sandbox();
    let gw = Gateway::start(&s, &[]);
    let raw = |text: &'static str| {
        let url = format!("{}/chat/completions", gw.v1());
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(text)
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, text) = raw("{not json").await;
    assert_eq!(
        (status, error_of(&text)["code"].as_str()),
        (400, Some("invalid_json"))
    );
    let (status, text) = raw(r#"{"model":"r1"}"#).await;
    assert_eq!(
        (status, error_of(&text)["param"].as_str()),
        (400, Some("messages"))
    );
    let (status, text) = raw(r#"{"model":"r1","messages":[]}"#).await;
    assert_eq!(status, 400, "{text}");
    let (status, text) = raw(r#"{"model":42,"messages":[{"role":"user","content":"x"}]}"#).await;
    assert_eq!(status, 400, "{text}");
    let (status, _, text) = post(&gw, &body(Some("gpt-4o"), false), &[]).await;
    assert_eq!(
        (status, error_of(&text)["code"].as_str()),
        (404, Some("model_not_found"))
    );
    let (status, _, text) = post(
        &gw,
        &body(Some("huggingface/deepseek-ai/deepseek-r1"), false),
        &[],
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        text.contains("huggingface/deepseek-ai/DeepSeek-R1"),
        "{text}"
    );
    let (status, _, text) = post(&gw, &body(Some("openrouter/a/b"), false), &[]).await;
    assert_eq!(
        (status, error_of(&text)["code"].as_str()),
        (400, Some("invalid_model"))
    );
    let response = reqwest::get(format!("{}/v1/images/generations", gw.base()))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        error_of(&response.text().await.unwrap())["code"],
        "unknown_url"
    );
    // ANTHROPIC_BASE_URL with /v1: Anthropic's envelope, and the path it meant.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/v1/messages", gw.base()))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["type"], "error", "{answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("did you mean /v1/messages?") && message.contains("drop the /v1"),
        "{answer}"
    );
    // None of these reached the router.
    assert!(s.router.chat_models().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_key_is_enforced() {
    let s = sandbox();
    s.router.chat(R1, [Reply::chat_json(R1, "hi")]);
    let gw = Gateway::start(&s, &["--api-key", "sk-local-test"]);
    let error = gw
        .openai("sk-wrong")
        .chat()
        .create(request("r1", "hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, OpenAIError::ApiError(ref e) if e.api_error.code.as_deref() == Some("invalid_api_key")),
        "{error:?}"
    );
    let (status, _, _) = post(&gw, &body(Some("r1"), false), &[]).await;
    assert_eq!(status, 401);
    let models = reqwest::get(format!("{}/models", gw.v1())).await.unwrap();
    assert_eq!(models.status(), 401);
    let answer = gw
        .openai("sk-local-test")
        .chat()
        .create(request("r1", "hi"))
        .await
        .unwrap();
    assert_eq!(answer.choices[0].message.content.as_deref(), Some("hi"));
    let (status, _, _) = post(
        &gw,
        &body(Some("r1"), false),
        &[("x-api-key", "sk-local-test")],
    )
    .await;
    assert_eq!(status, 200);
    // Health checks need no key; the router only saw the authorised requests.
    assert_eq!(
        reqwest::get(format!("{}/healthz", gw.base()))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(s.router.chat_models().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_cap_answers_503_with_retry_after() {
    let s = sandbox();
    let slow = Reply::Sse {
        pieces: sse_chat_events(R1, &[], &["a", "b", "c"]),
        delay: Duration::from_millis(300),
    };
    s.router.chat(R1, [slow]);
    let gw = Gateway::start(&s, &["--max-concurrent", "1"]);
    let url = format!("{}/chat/completions", gw.v1());
    let first = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body(body(Some("r1"), true).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let (status, headers, text) = post(&gw, &body(Some("r1"), true), &[]).await;
    assert_eq!(status, 503, "{text}");
    assert_eq!(header(&headers, "retry-after"), "1");
    // Once the stream is done, the slot is free again.
    let _ = first.text().await.unwrap();
    let (status, _, _) = post(&gw, &body(Some("r1"), true), &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_an_open_stream_finish() {
    let s = sandbox();
    let slow = Reply::Sse {
        pieces: sse_chat_events(R1, &[], &["one ", "two ", "three"]),
        delay: Duration::from_millis(250),
    };
    s.router.chat(R1, [slow]);
    let gw = Gateway::start(&s, &["-v"]);
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", gw.v1()))
        .header("content-type", "application/json")
        .body(body(Some("r1"), true).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut received = stream.next().await.unwrap().unwrap().to_vec();
    gw.signal("TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // No new connections once the shutdown started.
    assert!(tokio::net::TcpStream::connect(&gw.addr).await.is_err());
    while let Some(chunk) = stream.next().await {
        received.extend_from_slice(&chunk.unwrap());
    }
    let text = String::from_utf8(received).unwrap();
    assert_eq!(
        text,
        without_usage(sse_chat_events(R1, &[], &["one ", "two ", "three"]))
    );
    let (status, log) = gw.wait(Duration::from_secs(5));
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("shutting down"), "{log}");
    assert!(
        log.contains("status=200") && log.contains("huggingface/deepseek-ai/DeepSeek-R1"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_config_without_a_restart() {
    let s = sandbox();
    s.router.chat(
        "openai/gpt-oss-120b",
        [Reply::chat_json("openai/gpt-oss-120b", "from oss")],
    );
    let gw = Gateway::start(&s, &[]);
    let (status, _, _) = post(&gw, &body(Some("oss"), false), &[]).await;
    assert_eq!(status, 404);
    s.write_config(&CONFIG.replace(
        r#""huggingface/deepseek-ai/DeepSeek-R1": { alias: "r1" },"#,
        r#""huggingface/deepseek-ai/DeepSeek-R1": { alias: "r1" },
      "huggingface/openai/gpt-oss-120b": { alias: "oss" },"#,
    ));
    gw.signal("HUP");
    let started = Instant::now();
    loop {
        let (status, headers, text) = post(&gw, &body(Some("oss"), false), &[]).await;
        if status == 200 {
            assert_eq!(
                header(&headers, "x-hfclaw-model"),
                "huggingface/openai/gpt-oss-120b"
            );
            assert!(text.contains("from oss"));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the config was not reloaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gw.stderr_text().contains("reloaded the config"));
}
