//! `hfclaw serve`'s Anthropic Messages and OpenAI Responses front doors, end to end: the
//! real binary between reqwest (where statuses, headers and bytes matter) and the loopback
//! fake router, which serves `/v1/messages` and `/v1/responses` like the real one.
#![allow(clippy::unwrap_used)]

mod common;

use common::gateway::{Answer, Gateway};
use common::{CHAIN_CONFIG, Sandbox, TOKEN};
use hfclaw_e2e::{Reply, anthropic_events, responses_events, sse_chat_events};
use serde_json::{Value, json};

const R1: &str = "deepseek-ai/DeepSeek-R1";
const QWEN: &str = "Qwen/Qwen3-8B:cheapest";

fn sandbox() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHAIN_CONFIG);
    sandbox
}

/// POSTs `body` to the gateway's `path` (e.g. `/v1/messages`) with `headers`.
async fn post(gw: &Gateway, path: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
    gw.post(path, body, headers).await
}

fn messages_body(model: Option<&str>, stream: bool) -> Value {
    let mut body = json!({"max_tokens": 64, "stream": stream,
        "messages": [{"role": "user", "content": "hi"}]});
    if let Some(model) = model {
        body["model"] = json!(model);
    }
    body
}

fn responses_body(model: Option<&str>, stream: bool) -> Value {
    let mut body = json!({"input": "hi", "stream": stream});
    if let Some(model) = model {
        body["model"] = json!(model);
    }
    body
}

/// The Anthropic error envelope's `error.type`, checking the envelope's shape.
fn anthropic_error_type(answer: &Answer) -> String {
    let body = answer.json();
    assert_eq!(body["type"], "error", "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    body["error"]["type"].as_str().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_resolve_aliases_and_forward_with_the_users_token() {
    let s = sandbox();
    s.router.messages(
        QWEN,
        [Reply::messages_json(QWEN, "Hello from Qwen").via("cerebras")],
    );
    let gw = Gateway::start(&s, &["--api-key", "client-secret"]);
    // Claude Code sends `?beta=true`, its key as x-api-key and Anthropic's headers.
    let answer = post(
        &gw,
        "/v1/messages?beta=true",
        &messages_body(Some("QWEN"), false),
        &[
            ("x-api-key", "client-secret"),
            ("anthropic-version", "2023-06-01"),
            ("anthropic-beta", "prompt-caching-2024-07-31"),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["content"][0]["text"], "Hello from Qwen");
    assert_eq!(
        answer.header("x-hfclaw-model"),
        "huggingface/Qwen/Qwen3-8B:cheapest"
    );
    assert_eq!(answer.header("x-hfclaw-fallback"), "0");
    assert_eq!(answer.header("x-inference-provider"), "cerebras");
    let sent = s.router.requests();
    let sent = sent
        .iter()
        .find(|r| r.route == "POST /v1/messages")
        .unwrap();
    assert_eq!(sent.model().as_deref(), Some(QWEN));
    assert_eq!(
        sent.header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(sent.header("x-api-key"), None);
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        sent.header("anthropic-beta"),
        Some("prompt-caching-2024-07-31")
    );
    assert!(!sent.body.contains("client-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_default_and_bare_ids_resolve_like_chat() {
    let s = sandbox();
    s.router
        .messages(R1, [Reply::messages_json(R1, "r1 here")])
        .messages(QWEN, [Reply::messages_json(QWEN, "qwen here")]);
    let gw = Gateway::start(&s, &[]);
    for model in [
        None,
        Some("default"),
        Some(R1),
        Some("huggingface/deepseek-ai/DeepSeek-R1"),
    ] {
        let answer = post(&gw, "/v1/messages", &messages_body(model, false), &[]).await;
        assert_eq!(answer.status, 200, "{model:?}: {}", answer.text);
        assert_eq!(answer.json()["content"][0]["text"], "r1 here", "{model:?}");
    }
    assert_eq!(s.router.models_sent_to("POST /v1/messages"), [R1; 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_streams_pass_through_unchanged() {
    let s = sandbox();
    s.router
        .messages(R1, [Reply::messages_stream(R1, &["Hel", "lo"])]);
    let gw = Gateway::start(&s, &[]);
    let answer = post(&gw, "/v1/messages", &messages_body(Some("r1"), true), &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), "text/event-stream");
    assert_eq!(answer.text, anthropic_events(R1, &["Hel", "lo"]).concat());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_split_at_every_byte_arrives_whole() {
    let s = sandbox();
    let whole = anthropic_events(R1, &["one ", "two"]).concat();
    let bytes: Vec<String> = whole.chars().map(String::from).collect();
    s.router.messages(R1, [Reply::sse(bytes)]);
    let whole_responses = responses_events(QWEN, &["a", "b"]).concat();
    let bytes: Vec<String> = whole_responses.chars().map(String::from).collect();
    s.router.responses(QWEN, [Reply::sse(bytes)]);
    let gw = Gateway::start(&s, &[]);
    let answer = post(&gw, "/v1/messages", &messages_body(Some("r1"), true), &[]).await;
    assert_eq!(answer.text, whole);
    let answer = post(
        &gw,
        "/v1/responses",
        &responses_body(Some("qwen"), true),
        &[],
    )
    .await;
    assert_eq!(answer.text, whole_responses);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_fall_back_before_the_first_byte() {
    let s = sandbox();
    let overloaded = Reply::sse(vec![
        anthropic_events(R1, &[])[0].clone(),
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".to_owned(),
    ]);
    s.router
        .messages(
            R1,
            [Reply::error(500, "upstream exploded", None), overloaded],
        )
        .messages(QWEN, [Reply::messages_stream(QWEN, &["ok"])]);
    let gw = Gateway::start(&s, &[]);
    // 500, retried twice quickly, then the fallback (non-streaming request).
    let answer = post(&gw, "/v1/messages", &messages_body(None, false), &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("x-hfclaw-fallback"), "1");
    assert!(answer.header("x-hfclaw-skipped").contains("DeepSeek-R1"));
    // R1 is now cooling down: the next request starts at the fallback, without asking R1.
    let before = s.router.models_sent_to("POST /v1/messages").len();
    let answer = post(&gw, "/v1/messages", &messages_body(None, true), &[]).await;
    assert_eq!(answer.text, anthropic_events(QWEN, &["ok"]).concat());
    assert_eq!(answer.header("x-hfclaw-fallback"), "1");
    assert!(
        answer.header("x-hfclaw-skipped").contains("cooling down"),
        "{:?}",
        answer.headers
    );
    assert_eq!(
        s.router.models_sent_to("POST /v1/messages")[before..],
        [QWEN]
    );
    let health: Value = reqwest::get(format!("{}/healthz", gw.base()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["cooldowns"][0]["model"], R1, "{health}");
    let left = health["cooldowns"][0]["seconds_left"].as_u64().unwrap();
    assert!((1..=30).contains(&left), "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_event_before_content_moves_on_in_each_api() {
    let s = sandbox();
    let overloaded = Reply::sse(vec![
        anthropic_events(R1, &[])[0].clone(),
        "event: ping\ndata: {\"type\":\"ping\"}\n\n".to_owned(),
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".to_owned(),
    ]);
    let failed = Reply::sse(vec![
        responses_events(R1, &[])[0].clone(),
        "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"boom\"}}}\n\n".to_owned(),
    ]);
    s.router
        .messages(R1, [overloaded])
        .messages(QWEN, [Reply::messages_stream(QWEN, &["fine"])])
        .responses(R1, [failed])
        .responses(QWEN, [Reply::responses_stream(QWEN, &["fine"])]);
    let gw = Gateway::start(&s, &[]);
    let answer = post(&gw, "/v1/messages", &messages_body(None, true), &[]).await;
    assert_eq!(answer.text, anthropic_events(QWEN, &["fine"]).concat());
    assert!(!answer.text.contains("Overloaded"));
    let answer = post(&gw, "/v1/responses", &responses_body(Some("r1"), true), &[]).await;
    assert_eq!(answer.text, responses_events(QWEN, &["fine"]).concat());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_503_fall_back_for_both_apis() {
    let s = sandbox();
    s.router
        .messages(
            R1,
            [Reply::error(429, "slow down", None).with_header("retry-after", "60")],
        )
        .messages(QWEN, [Reply::messages_json(QWEN, "q")])
        .responses(R1, [Reply::error(503, "unavailable", None)])
        .responses(QWEN, [Reply::responses_json(QWEN, "q")]);
    let gw = Gateway::start(&s, &[]);
    let answer = post(&gw, "/v1/messages", &messages_body(Some("r1"), false), &[]).await;
    assert_eq!(
        (answer.status, answer.header("x-hfclaw-fallback")),
        (200, "1")
    );
    let answer = post(
        &gw,
        "/v1/responses",
        &responses_body(Some("r1"), false),
        &[],
    )
    .await;
    assert_eq!(
        (answer.status, answer.header("x-hfclaw-fallback")),
        (200, "1")
    );
    assert_eq!(answer.json()["output"][0]["content"][0]["text"], "q");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_401_stops_the_chain_in_anthropic_s_envelope() {
    let s = sandbox();
    s.router
        .messages(R1, [Reply::error(401, "Invalid credentials", None)])
        .responses(R1, [Reply::error(401, "Invalid credentials", None)]);
    let gw = Gateway::start(&s, &[]);
    let answer = post(&gw, "/v1/messages", &messages_body(None, false), &[]).await;
    assert_eq!(answer.status, 401);
    assert_eq!(anthropic_error_type(&answer), "authentication_error");
    let answer = post(&gw, "/v1/responses", &responses_body(None, false), &[]).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["error"]["type"], "authentication_error");
    // The fallback was never asked.
    assert!(
        !s.router
            .models_sent_to("POST /v1/messages")
            .contains(&QWEN.to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_each_api_s_error_shape() {
    let s = sandbox();
    let gw = Gateway::start(&s, &[]);
    let raw = |path: &'static str, text: &'static str| {
        let url = format!("{}{path}", gw.base());
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(text)
                .send()
                .await
                .unwrap();
            Answer {
                status: response.status().as_u16(),
                headers: response.headers().clone(),
                text: response.text().await.unwrap(),
            }
        }
    };
    let answer = raw("/v1/messages", "{not json").await;
    assert_eq!(answer.status, 400);
    assert_eq!(anthropic_error_type(&answer), "invalid_request_error");
    let answer = raw("/v1/messages", r#"{"model":"r1","max_tokens":5}"#).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("messages")
    );
    let answer = post(
        &gw,
        "/v1/messages",
        &messages_body(Some("gpt-4o"), false),
        &[],
    )
    .await;
    assert_eq!(answer.status, 404);
    assert_eq!(anthropic_error_type(&answer), "not_found_error");
    let answer = raw("/v1/responses", r#"{"model":"r1"}"#).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["param"], "input");
    let answer = post(
        &gw,
        "/v1/responses",
        &responses_body(Some("gpt-4o"), false),
        &[],
    )
    .await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json()["error"]["code"], "model_not_found");
    assert!(
        s.router
            .requests()
            .iter()
            .all(|r| !r.route.starts_with("POST"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_keys_work_as_x_api_key_and_bearer_for_every_api() {
    let s = sandbox();
    s.router
        .messages(R1, [Reply::messages_json(R1, "ok")])
        .responses(R1, [Reply::responses_json(R1, "ok")]);
    let gw = Gateway::start(&s, &["--api-key", "k-123"]);
    for path in ["/v1/messages", "/v1/responses"] {
        let body = if path == "/v1/messages" {
            messages_body(None, false)
        } else {
            responses_body(None, false)
        };
        for auth in [("x-api-key", "k-123"), ("authorization", "Bearer k-123")] {
            let answer = post(&gw, path, &body, &[auth]).await;
            assert_eq!(answer.status, 200, "{path} {auth:?}: {}", answer.text);
        }
        for auth in [("x-api-key", "wrong"), ("authorization", "Bearer wrong")] {
            let answer = post(&gw, path, &body, &[auth]).await;
            assert_eq!(answer.status, 401, "{path} {auth:?}");
        }
        let answer = post(&gw, path, &body, &[]).await;
        assert_eq!(answer.status, 401);
        if path == "/v1/messages" {
            assert_eq!(anthropic_error_type(&answer), "authentication_error");
        } else {
            assert_eq!(answer.json()["error"]["code"], "invalid_api_key");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_tokens_and_stored_responses_pass_through_as_answered() {
    let s = sandbox();
    s.router
        .on(
            "/v1/messages/count_tokens",
            QWEN,
            [Reply::json(200, r#"{"input_tokens":42}"#)],
        )
        .on(
            "/v1/responses/*",
            "",
            [Reply::json(
                404,
                r#"{"error":{"message":"no stored responses","type":"invalid_request_error"}}"#,
            )],
        );
    let gw = Gateway::start(&s, &[]);
    let answer = post(
        &gw,
        "/v1/messages/count_tokens?beta=true",
        &json!({"model": "qwen", "messages": [{"role": "user", "content": "hi"}]}),
        &[("anthropic-version", "2023-06-01")],
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({"input_tokens": 42}))
    );
    let sent = s.router.requests();
    let sent = sent
        .iter()
        .find(|r| r.route == "POST /v1/messages/count_tokens")
        .unwrap();
    assert_eq!(sent.model().as_deref(), Some(QWEN));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    let response = reqwest::get(format!("{}/v1/responses/resp_123", gw.base()))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let text = response.text().await.unwrap();
    assert!(text.contains("no stored responses"), "{text}");
    assert!(
        s.router
            .requests()
            .iter()
            .any(|r| r.route == "GET /v1/responses/resp_123")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_reasoning_rewrites_think_blocks_of_chat_streams() {
    let s = sandbox();
    let stream = Reply::sse(sse_chat_events(
        R1,
        &[],
        &["<thi", "nk>plan", "</think>\n\nHello", "!"],
    ));
    s.router.chat(R1, [stream.clone()]);
    let gw = Gateway::start(&s, &["--split-reasoning"]);
    let body = json!({"model": "r1", "stream": true,
        "messages": [{"role": "user", "content": "hi"}]});
    let answer = post(&gw, "/v1/chat/completions", &body, &[]).await;
    let (mut reasoning, mut content) = (String::new(), String::new());
    for line in answer.text.lines() {
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let Ok(event) = serde_json::from_str::<Value>(data) else {
            continue;
        };
        let delta = &event["choices"][0]["delta"];
        reasoning.push_str(delta["reasoning_content"].as_str().unwrap_or(""));
        content.push_str(delta["content"].as_str().unwrap_or(""));
    }
    assert_eq!((reasoning.as_str(), content.as_str()), ("plan", "Hello!"));
    assert!(answer.text.ends_with("data: [DONE]\n\n"));
    // Without the flag, content passes unchanged.
    let gw = Gateway::start(&s, &[]);
    let mut asks_usage = body.clone();
    asks_usage["stream_options"] = json!({"include_usage": true});
    let answer = post(&gw, "/v1/chat/completions", &asks_usage, &[]).await;
    assert_eq!(
        answer.text,
        sse_chat_events(R1, &[], &["<thi", "nk>plan", "</think>\n\nHello", "!"]).concat()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooling_chain_is_tried_anyway_when_every_model_cools() {
    let s = sandbox();
    s.router
        .responses(R1, [Reply::error(502, "bad gateway", None)])
        .responses(QWEN, [Reply::error(502, "bad gateway", None)]);
    let gw = Gateway::start(&s, &[]);
    let answer = post(&gw, "/v1/responses", &responses_body(None, false), &[]).await;
    assert_eq!(answer.status, 502);
    let count = |s: &Sandbox| s.router.models_sent_to("POST /v1/responses").len();
    let before = count(&s);
    // Both cool now; the next request still tries them rather than refusing.
    s.router
        .responses(QWEN, [Reply::responses_json(QWEN, "back")]);
    let answer = post(&gw, "/v1/responses", &responses_body(None, false), &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(count(&s) > before);
}

/// Each attempt sends the client's bytes with only `model` changed (issue 23): spacing,
/// escapes, key order and an integer wider than 64 bits reach the router as written, in
/// every API, on a fallback, and for token counting; a chat stream gets only its
/// `stream_options` added besides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_gets_the_clients_bytes_with_only_the_model_changed() {
    let s = sandbox();
    s.router
        .chat(
            R1,
            [
                Reply::chat_stream(R1, &[], &["streamed"]),
                Reply::error(500, "upstream exploded", None),
            ],
        )
        .chat(QWEN, [Reply::chat_json(QWEN, "from qwen")])
        .messages(R1, [Reply::messages_json(R1, "hi")])
        .responses(R1, [Reply::responses_json(R1, "hi")])
        .on(
            "/v1/messages/count_tokens",
            R1,
            [Reply::json(200, r#"{"input_tokens":42}"#)],
        );
    let gw = Gateway::start(&s, &[]);
    // A chat stream that did not ask for usage gets `stream_options` added, nothing else.
    let body = "{\"model\":\"r1\", \"stream\" :true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"seed\":123456789012345678901234567890}";
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.base()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();
    let last = s
        .router
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.route == "POST /v1/chat/completions")
        .unwrap();
    assert_eq!(
        last.body,
        format!(
            "{{\"model\":\"{R1}\", \"stream\" :true,\"messages\":[{{\"role\":\"user\",\"content\":\"x\"}}],\"seed\":123456789012345678901234567890,\"stream_options\":{{\"include_usage\":true}}}}"
        )
    );
    let written = |model: &str, rest: &str| {
        format!(
            "{{ \"seed\": 123456789012345678901234567890,\n  \"model\" : \"{model}\", \
             {rest}, \"temperature\": 0.10 }}"
        )
    };
    let messages = r#""messages":[ {"role":"user","content":"caf\u00e9 \/ \"q\" é"} ]"#;
    // Chat last: its primary fails (and then cools down).
    let cases = [
        ("/v1/messages", "POST /v1/messages", messages),
        (
            "/v1/responses",
            "POST /v1/responses",
            r#""input" : "caf\u00e9""#,
        ),
        (
            "/v1/messages/count_tokens",
            "POST /v1/messages/count_tokens",
            messages,
        ),
        (
            "/v1/chat/completions",
            "POST /v1/chat/completions",
            messages,
        ),
    ];
    for (path, route, rest) in cases {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", gw.base()))
            .header("content-type", "application/json")
            .header("anthropic-version", "2023-06-01")
            .body(written("default", rest))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "{path}: {}",
            response.text().await.unwrap()
        );
        let sent: Vec<_> = s
            .router
            .requests()
            .into_iter()
            .filter(|r| r.route == route && r.body != last.body)
            .collect();
        assert!(!sent.is_empty(), "{path} reached no router");
        for request in sent {
            let model = request.model().unwrap();
            assert_eq!(request.body, written(&model, rest), "{path}");
        }
    }
    // Chat tried the primary (and its retries), then the fallback: each got the bytes.
    assert_eq!(s.router.chat_models(), [R1, R1, R1, R1, QWEN]);
}
