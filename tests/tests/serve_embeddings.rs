//! `POST /v1/embeddings` end to end: the real `hfclaw serve` reads the model's provider
//! mapping from the fake Hub and calls each provider's own path on the fake router,
//! answering in OpenAI's shape; pinning, fallback, the mapping cache, base64, errors in
//! OpenAI's envelope, and the ledger's fourth API.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::gateway::Gateway;
use common::{Sandbox, TOKEN};
use hfclaw_accounting::{Api, Ledger, LedgerSpec};
use hfclaw_e2e::{Mapping, Reply};
use serde_json::{Value, json};

const CONFIG: &str = r#"{
  agents: { defaults: {
    model: { primary: "huggingface/deepseek-ai/DeepSeek-R1" },
    models: { "huggingface/BAAI/bge-m3": { alias: "memory" } },
  } },
}"#;

const BGE: &str = "BAAI/bge-m3";

fn sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    s
}

/// POSTs to `/v1/embeddings`; status, headers, body.
async fn embed(gw: &Gateway, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/embeddings", gw.v1()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, value)
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).map_or("", |v| v.to_str().unwrap())
}

/// The answer's vectors, as f32s (the providers' own precision: serde_json may read the
/// 17-digit text 1 ulp off as f64).
fn vectors(answer: &Value) -> Vec<Vec<f32>> {
    answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

/// The fake's vector for `text`, as f32s.
fn expected(text: &str, dims: usize) -> Vec<f32> {
    hfclaw_e2e::hub::vector(text, dims)
        .into_iter()
        .map(|x| x as f32)
        .collect()
}

fn body_of(request: &hfclaw_e2e::Recorded) -> Value {
    serde_json::from_str(&request.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_inference_answers_are_converted_to_openai_embeddings() {
    let s = sandbox();
    s.router
        .embedding_model(BGE, 4, &[Mapping::live("hf-inference", BGE)]);
    let gw = Gateway::start(&s, &[]);
    let (status, headers, answer) =
        embed(&gw, json!({"model": "memory", "input": ["hello", "world"]})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["object"], "list");
    assert_eq!(answer["model"], BGE);
    assert_eq!(answer["data"][1]["object"], "embedding");
    assert_eq!(answer["data"][1]["index"], 1);
    let got = vectors(&answer);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], expected("hello", 4));
    assert_eq!(got[1], expected("world", 4));
    assert_eq!(
        header(&headers, "x-hfclaw-model"),
        "huggingface/BAAI/bge-m3:hf-inference"
    );
    assert_eq!(header(&headers, "x-inference-provider"), "hf-inference");
    let calls = s.router.provider_requests();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].route,
        "POST /hf-inference/models/BAAI/bge-m3/pipeline/feature-extraction"
    );
    assert_eq!(body_of(&calls[0]), json!({"inputs": ["hello", "world"]}));
    assert_eq!(
        calls[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    // The Hub was asked with the token, for this model's mapping.
    let hub = s.router.hub_requests();
    assert_eq!(hub.len(), 1);
    assert_eq!(hub[0].route, "GET /api/models/BAAI/bge-m3");
    // A single string is one input too.
    let (status, _, answer) = embed(&gw, json!({"model": BGE, "input": "one"})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(vectors(&answer), [expected("one", 4)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_openai_shaped_provider_gets_its_path_and_model_id() {
    let s = sandbox();
    s.router.embedding_model(
        BGE,
        3,
        &[
            Mapping::live("scaleway", "bge-m3"),
            Mapping::live("together", "BAAI/bge-m3-together"),
            Mapping::live("deepinfra", "BAAI/bge-m3"),
        ],
    );
    let gw = Gateway::start(&s, &[]);
    for (provider, path, provider_id) in [
        ("scaleway", "/scaleway/v1/embeddings", "bge-m3"),
        (
            "together",
            "/together/v1/embeddings",
            "BAAI/bge-m3-together",
        ),
        (
            "deepinfra",
            "/deepinfra/v1/openai/embeddings",
            "BAAI/bge-m3",
        ),
    ] {
        let model = format!("huggingface/{BGE}:{provider}");
        let (status, headers, answer) =
            embed(&gw, json!({"model": model, "input": ["a b c"]})).await;
        assert_eq!(status, 200, "{provider}: {answer}");
        assert_eq!(header(&headers, "x-hfclaw-model"), model);
        assert_eq!(header(&headers, "x-inference-provider"), provider);
        assert_eq!(answer["model"], BGE);
        // Usage as the provider counted it (3 words + 1 in the fake).
        assert_eq!(
            answer["usage"],
            json!({"prompt_tokens": 4, "total_tokens": 4})
        );
        assert_eq!(vectors(&answer), [expected("a b c", 3)]);
        let last = s.router.provider_requests().pop().unwrap();
        assert_eq!(last.route, format!("POST {path}"));
        assert_eq!(
            body_of(&last),
            json!({"input": ["a b c"], "model": provider_id})
        );
        // The request's id (the gateway's: the client sent none) reaches the provider's
        // path too, and is the answer's.
        let id = header(&headers, "x-request-id");
        assert_eq!((last.header("x-request-id"), id.len()), (Some(id), 36));
    }
    // `dimensions` goes to OpenAI-shaped providers.
    let (status, _, answer) = embed(
        &gw,
        json!({"model": format!("{BGE}:together"), "input": "x", "dimensions": 2}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(vectors(&answer)[0].len(), 2);
    assert_eq!(
        body_of(&s.router.provider_requests().pop().unwrap())["dimensions"],
        2
    );
    // Unpinned: the Hub's order among OpenAI-shaped providers.
    embed(&gw, json!({"model": BGE, "input": "x"})).await;
    let last = s.router.provider_requests().pop().unwrap();
    assert_eq!(last.route, "POST /scaleway/v1/embeddings");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_provider_falls_back_to_the_next_and_cools_down() {
    let s = sandbox();
    // hf-inference first in the Hub's mapping, yet tried last.
    s.router.embedding_model(
        BGE,
        2,
        &[
            Mapping::live("hf-inference", BGE),
            Mapping::live("together", "baai-bge-m3"),
        ],
    );
    s.router.on(
        "/together/v1/embeddings",
        "baai-bge-m3",
        [Reply::json(
            503,
            r#"{"error":{"message":"overloaded","type":"server_error"}}"#,
        )],
    );
    let gw = Gateway::start(&s, &[]);
    let (status, headers, answer) = embed(&gw, json!({"model": BGE, "input": ["hi"]})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(header(&headers, "x-inference-provider"), "hf-inference");
    assert_eq!(header(&headers, "x-hfclaw-fallback"), "1");
    let skipped = header(&headers, "x-hfclaw-skipped");
    assert!(
        skipped.contains("huggingface/BAAI/bge-m3:together") && skipped.contains("HTTP 503"),
        "{skipped}"
    );
    let routes: Vec<String> = s
        .router
        .provider_requests()
        .into_iter()
        .map(|r| r.route)
        .collect();
    // Two quick retries of the 5xx, then the next provider.
    assert_eq!(
        routes,
        [
            "POST /together/v1/embeddings",
            "POST /together/v1/embeddings",
            "POST /together/v1/embeddings",
            "POST /hf-inference/models/BAAI/bge-m3/pipeline/feature-extraction"
        ]
    );
    // The failed provider cools down: the next request goes straight to hf-inference.
    let (status, headers, _) = embed(&gw, json!({"model": BGE, "input": ["hi"]})).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-inference-provider"), "hf-inference");
    assert_eq!(s.router.provider_requests().len(), 5);
    // A request the provider refuses (400) stops: the next one would refuse it too.
    s.router.on(
        "/hf-inference/models/BAAI/bge-m3/pipeline/feature-extraction",
        "",
        [Reply::json(
            400,
            r#"{"error":"Input validation error: inputs too long"}"#,
        )],
    );
    let (status, _, answer) = embed(&gw, json!({"model": BGE, "input": ["hi"]})).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("inputs too long"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mapping_is_cached_so_a_warm_request_asks_no_hub() {
    let s = sandbox();
    s.router
        .embedding_model(BGE, 2, &[Mapping::live("deepinfra", BGE)]);
    let gw = Gateway::start(&s, &[]);
    for _ in 0..3 {
        let (status, _, answer) = embed(&gw, json!({"model": BGE, "input": "x"})).await;
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(s.router.hub_requests().len(), 1);
    assert_eq!(s.router.provider_requests().len(), 3);
    // Unknown on the Hub: remembered too.
    for _ in 0..2 {
        let (status, _, answer) =
            embed(&gw, json!({"model": "nobody/nothing", "input": "x"})).await;
        assert_eq!(status, 404, "{answer}");
        assert_eq!(answer["error"]["code"], "model_not_found");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not a model on the Hugging Face Hub"),
            "{answer}"
        );
    }
    assert_eq!(s.router.hub_requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base64_is_little_endian_f32_like_openai() {
    let s = sandbox();
    s.router.embedding_model(
        BGE,
        3,
        &[
            Mapping::live("hf-inference", BGE),
            Mapping::live("scaleway", "bge-m3"),
        ],
    );
    let gw = Gateway::start(&s, &[]);
    for pin in ["hf-inference", "scaleway"] {
        let body =
            json!({"model": format!("{BGE}:{pin}"), "input": ["hi"], "encoding_format": "base64"});
        let (status, _, answer) = embed(&gw, body).await;
        assert_eq!(status, 200, "{answer}");
        let encoded = answer["data"][0]["embedding"].as_str().unwrap();
        let bytes = base64_decode(encoded);
        let floats: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(floats, expected("hi", 3), "{pin}");
        // Providers are asked for floats; the gateway encodes.
        let last = s.router.provider_requests().pop().unwrap();
        assert!(!last.body.contains("base64"), "{}", last.body);
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|a| *a == byte).unwrap() as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_without_a_live_embeddings_provider_is_a_404_naming_what_serves_it() {
    let s = sandbox();
    s.router.embedding_model(
        "deepseek-ai/DeepSeek-R1",
        2,
        &[Mapping::new(
            "together",
            "deepseek-ai/DeepSeek-R1",
            "live",
            "conversational",
        )],
    );
    s.router.embedding_model(
        BGE,
        2,
        &[
            Mapping::new("together", "x", "error", "feature-extraction"),
            Mapping::live("hf-inference", BGE),
        ],
    );
    let gw = Gateway::start(&s, &[]);
    let (status, _, answer) = embed(
        &gw,
        json!({"model": "deepseek-ai/DeepSeek-R1", "input": "x"}),
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"]["type"], "invalid_request_error");
    assert_eq!(answer["error"]["code"], "model_not_supported");
    assert_eq!(answer["error"]["param"], "model");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("huggingface/deepseek-ai/DeepSeek-R1")
            && message.contains("together (conversational, live)")
            && message.contains("hfclaw models list --task embeddings"),
        "{message}"
    );
    // A pin to a provider whose mapping is not live.
    let (status, _, answer) = embed(
        &gw,
        json!({"model": format!("{BGE}:together"), "input": "x"}),
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("together (feature-extraction, error)") && message.contains(":together"),
        "{message}"
    );
    // What only OpenAI-shaped providers take, sent where only hf-inference serves.
    let (status, _, answer) =
        embed(&gw, json!({"model": BGE, "input": "x", "dimensions": 8})).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["param"], "dimensions");
    assert!(s.router.provider_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_400_before_any_hub_or_provider_call() {
    let s = sandbox();
    s.router
        .embedding_model(BGE, 2, &[Mapping::live("together", BGE)]);
    let gw = Gateway::start(&s, &[]);
    let many: Vec<String> = (0..2049).map(|i| format!("text {i}")).collect();
    for (body, param, words) in [
        (json!({"model": BGE, "input": ""}), "input", "empty"),
        (json!({"model": BGE, "input": []}), "input", "empty"),
        (json!({"model": BGE, "input": many}), "input", "2049"),
        (
            json!({"model": BGE, "input": ["a", 7]}),
            "input",
            "`input[1]` is not a string",
        ),
        (
            json!({"model": BGE, "input": [{"text": "a"}]}),
            "input",
            "not a string",
        ),
        (json!({"model": BGE}), "input", "required"),
        (json!({"input": "a"}), "model", "required"),
        (
            json!({"model": BGE, "input": "a", "encoding_format": "int8"}),
            "encoding_format",
            "base64",
        ),
    ] {
        let (status, _, answer) = embed(&gw, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["type"], "invalid_request_error", "{answer}");
        assert_eq!(answer["error"]["param"], param, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: {message}");
    }
    let (status, _, answer) = embed(&gw, json!({"model": "no/such/ref!", "input": "a"})).await;
    assert!(matches!(status, 400 | 404), "{answer}");
    assert!(s.router.hub_requests().is_empty());
    assert!(s.router.provider_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embeddings_are_the_fourth_api_in_the_ledger_metrics_and_key_check() {
    let s = sandbox();
    s.router.embedding_model(
        BGE,
        2,
        &[
            Mapping::live("together", "baai/bge-m3"),
            Mapping::live("hf-inference", BGE),
        ],
    );
    let gw = Gateway::start(&s, &["--api-key", "sk-local-test"]);
    // The client key guards this door too, in OpenAI's envelope.
    let (status, _, answer) = embed(&gw, json!({"model": BGE, "input": "x"})).await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer["error"]["message"].is_string(), "{answer}");
    let client = reqwest::Client::new();
    let post = |model: String| {
        client
            .post(format!("{}/embeddings", gw.v1()))
            .bearer_auth("sk-local-test")
            .json(&json!({"model": model, "input": ["one two", "three"]}))
            .send()
    };
    assert_eq!(post(BGE.to_owned()).await.unwrap().status(), 200);
    assert_eq!(
        post(format!("{BGE}:hf-inference")).await.unwrap().status(),
        200
    );
    let metrics = client
        .get(format!("{}/metrics", gw.base()))
        .bearer_auth("sk-local-test")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("hfclaw_requests_total{") && l.contains("api=\"embeddings\"")),
        "{metrics}"
    );
    gw.signal("TERM");
    let (status, log) = gw.wait(Duration::from_secs(20));
    assert!(status.success(), "{log}");
    let ledger = Ledger::open(&LedgerSpec::Sqlite(s.ledger_path())).unwrap();
    let mut rows = ledger.recent(100).unwrap();
    rows.reverse();
    ledger.close().unwrap();
    let ok: Vec<_> = rows.iter().filter(|r| r.status == Some(200)).collect();
    assert_eq!(ok.len(), 2, "{rows:?}");
    assert!(ok.iter().all(|r| r.api == Api::Embeddings));
    assert_eq!(ok[0].provider.as_deref(), Some("together"));
    assert_eq!(
        ok[0].answered_ref.as_deref(),
        Some("huggingface/BAAI/bge-m3:together")
    );
    // together counted 3 + 2 tokens; no price is known, so no cost (never 0).
    assert_eq!(ok[0].usage.map(|u| u.input_tokens), Some(5));
    assert_eq!(ok[0].cost, None);
    // hf-inference counts nothing: unknown, not 0.
    assert_eq!(ok[1].provider.as_deref(), Some("hf-inference"));
    assert_eq!(ok[1].usage, None);
    let out = s.run(&["usage", "--by", "api", "--json"]);
    assert!(out.contains("\"embeddings\""), "{out}");
}
