//! What `hfclaw serve`'s answers say beyond the router's bytes (issue 20): the cost of a
//! whole answer in `x-hfclaw-cost-usd` (`x-hfclaw-cost-estimated` when the price is an
//! estimate, absent when unknown), bodies byte for byte.
#![allow(clippy::unwrap_used)]

mod common;

use common::Sandbox;
use common::gateway::Gateway;
use hfclaw_e2e::Reply;
use serde_json::json;

const CONFIG: &str = r#"{
  agents: { defaults: {
    model: { primary: "huggingface/deepseek-ai/DeepSeek-R1" },
  } },
}"#;

/// together $3/$7 and cerebras $2/$5 per 1M tokens for R1; no price for `acme/unpriced`.
const LIVE_MODELS: &str = r#"{"object":"list","data":[
  {"id":"deepseek-ai/DeepSeek-R1","object":"model","providers":[
    {"provider":"together","status":"live","pricing":{"input":3,"output":7}},
    {"provider":"cerebras","status":"live","pricing":{"input":2,"output":5}}]},
  {"id":"acme/unpriced","object":"model","providers":[
    {"provider":"together","status":"live"}]}
]}"#;

const R1: &str = "deepseek-ai/DeepSeek-R1";
const UNPRICED: &str = "acme/unpriced";

fn sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    s.cache_live_models(LIVE_MODELS);
    s
}

fn body_of(reply: &Reply) -> String {
    match reply {
        Reply::Json { body, .. } => body.clone(),
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_answers_carry_their_cost_and_bodies_stay_byte_for_byte() {
    let s = sandbox();
    // 5 input and 7 output tokens (the fake's usage) at together's $3/$7: $0.000064.
    let chat = Reply::chat_json(R1, "hi");
    let messages = Reply::messages_json(R1, "hi");
    s.router
        .chat(R1, [chat.clone().via("together"), chat.clone()])
        .messages(R1, [messages.clone().via("cerebras")])
        .chat(UNPRICED, [Reply::chat_json(UNPRICED, "hi").via("together")]);
    let gw = Gateway::start(&s, &[]);
    let ask = |path: &'static str, model: &'static str| {
        let gw = &gw;
        async move {
            let body = json!({"model": model, "max_tokens": 9,
                "messages": [{"role": "user", "content": "hi"}]});
            let answer = gw.post(path, &body, &[]).await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            answer
        }
    };
    let priced = ask("/v1/chat/completions", R1).await;
    assert_eq!(
        (
            priced.header("x-hfclaw-cost-usd"),
            priced.header("x-hfclaw-cost-estimated")
        ),
        ("0.000064", "")
    );
    assert_eq!(priced.text, body_of(&chat));
    // No x-inference-provider and no throughput data: the highest live price (together),
    // an estimate that errs high.
    let estimated = ask("/v1/chat/completions", R1).await;
    assert_eq!(
        (
            estimated.header("x-hfclaw-cost-usd"),
            estimated.header("x-hfclaw-cost-estimated")
        ),
        ("0.000064", "true")
    );
    // Anthropic Messages too: 5 in, 7 out at cerebras' $2/$5.
    let anthropic = ask("/v1/messages", R1).await;
    assert_eq!(anthropic.header("x-hfclaw-cost-usd"), "0.000045");
    assert_eq!(anthropic.header("x-hfclaw-cost-estimated"), "");
    assert_eq!(anthropic.text, body_of(&messages));
    // No price anywhere: no header, never "0".
    let unknown = ask("/v1/chat/completions", UNPRICED).await;
    assert!(
        unknown.headers.get("x-hfclaw-cost-usd").is_none()
            && unknown.headers.get("x-hfclaw-cost-estimated").is_none(),
        "{:?}",
        unknown.headers
    );
}

/// A default (R1) with a fallback (Qwen).
const CHAIN: &str = r#"{
  agents: { defaults: {
    model: {
      primary: "huggingface/deepseek-ai/DeepSeek-R1",
      fallbacks: ["huggingface/Qwen/Qwen3-8B:cheapest"],
    },
  } },
}"#;

/// A 402 is the account's: the chain stops there (the fallback bills the same account),
/// the client gets the billing hint in its API's envelope, and during the hold every
/// request gets the same answer at once without reaching the router; `/healthz` says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_402_ends_the_chain_and_holds_the_account() {
    let s = Sandbox::new();
    s.write_config(CHAIN);
    s.router
        .chat(
            R1,
            [Reply::error(
                402,
                "You have exceeded your monthly included credits",
                None,
            )],
        )
        .chat("Qwen/Qwen3-8B:cheapest", [Reply::chat_json("q", "hi")]);
    let gw = Gateway::start(&s, &[]);
    let chat = json!({"messages": [{"role": "user", "content": "hi"}]});
    let first = gw.post("/v1/chat/completions", &chat, &[]).await;
    assert_eq!(first.status, 402, "{}", first.text);
    assert_eq!(first.json()["error"]["code"], "insufficient_quota");
    let message = first.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("huggingface.co/settings/billing"),
        "{message}"
    );
    assert_eq!(s.router.chat_models(), [R1], "the fallback was tried");
    // Held: the same answer at once, in each API's envelope, and nothing sent.
    let again = gw.post("/v1/chat/completions", &chat, &[]).await;
    assert_eq!(again.status, 402);
    let retry_after: u64 = again.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let messages = gw
        .post(
            "/v1/messages",
            &json!({"max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]}),
            &[],
        )
        .await;
    assert_eq!(
        (messages.status, messages.json()["error"]["type"].as_str()),
        (402, Some("billing_error"))
    );
    assert_eq!(s.router.chat_models(), [R1]);
    assert!(s.router.models_sent_to("POST /v1/messages").is_empty());
    let health: serde_json::Value = reqwest::get(format!("{}/healthz", gw.base()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["account"]["held"], true, "{health}");
    assert!(
        health["reasons"][0].as_str().unwrap().contains("402"),
        "{health}"
    );
    // The model is not cooling: the account is.
    assert_eq!(health["cooldowns"], json!([]), "{health}");
}
