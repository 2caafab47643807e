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

fn chain_sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.write_config(CHAIN);
    s
}

const QWEN: &str = "Qwen/Qwen3-8B:cheapest";

/// A name the client chose is kept: an unknown one is a 404 with a did-you-mean before
/// anything is sent; the router's 404 for a model the client named ends the chain (no
/// other model answers in its name), while `default` keeps the whole chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_the_client_named_is_kept_and_its_404_is_the_answer() {
    let s = chain_sandbox();
    s.router
        .chat(
            R1,
            [Reply::error(
                400,
                "The requested model is not supported by any provider you have enabled",
                Some("model_not_supported"),
            )],
        )
        .chat(QWEN, [Reply::chat_json(QWEN, "hi")]);
    let gw = Gateway::start(&s, &[]);
    let ask = |model: Option<&'static str>| {
        let gw = &gw;
        async move {
            let mut body = json!({"messages": [{"role": "user", "content": "hi"}]});
            if let Some(model) = model {
                body["model"] = json!(model);
            }
            gw.post("/v1/chat/completions", &body, &[]).await
        }
    };
    let typo = ask(Some("deepseek-ai/DeepSeek-R2")).await;
    assert_eq!(typo.status, 404, "{}", typo.text);
    let message = typo.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("deepseek-ai/DeepSeek-R1"), "{message}");
    for unknown in ["nope/nope", "gpt-4o"] {
        assert_eq!(ask(Some(unknown)).await.status, 404, "{unknown}");
    }
    assert!(s.router.chat_models().is_empty(), "sent before refusing");
    // Named (a bare id, then a ref): the router's verdict is the answer, no fallback.
    for named in [R1, "huggingface/deepseek-ai/DeepSeek-R1"] {
        let answer = ask(Some(named)).await;
        assert_eq!(answer.status, 404, "{}", answer.text);
        assert_eq!(answer.json()["error"]["code"], "model_not_supported");
        assert_eq!(answer.header("x-should-retry"), "false");
    }
    assert_eq!(s.router.chat_models(), [R1, R1]);
    // The default keeps its chain.
    let default = ask(None).await;
    assert_eq!(
        (default.status, default.header("x-hfclaw-model")),
        (200, "huggingface/Qwen/Qwen3-8B:cheapest")
    );
}

/// With every model of the chain rate-limited (Retry-After 90 s and 30 s), the answer says
/// when the first of them can serve again (30 s, not the last one's), and that the
/// client's SDK should not retry what the gateway already tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_model_is_limited_retry_after_is_the_soonest_and_sdks_do_not_retry() {
    let s = chain_sandbox();
    s.router
        .chat(
            R1,
            [Reply::error(429, "slow down", None).with_header("retry-after", "90")],
        )
        .chat(
            QWEN,
            [Reply::error(429, "slow down", None).with_header("retry-after", "30")],
        );
    let gw = Gateway::start(&s, &[]);
    let body = json!({"messages": [{"role": "user", "content": "hi"}]});
    let limited = gw.post("/v1/chat/completions", &body, &[]).await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert_eq!(
        (
            limited.header("retry-after"),
            limited.header("x-should-retry")
        ),
        ("30", "false")
    );
    assert_eq!(s.router.chat_models(), [R1, QWEN]);
}

/// Cooldowns are per provider where the ref pins one: a failing `:groq` puts `…:groq` in
/// cooldown, and the same model on `:cerebras`, or bare, still goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_provider_cools_alone() {
    let s = Sandbox::new();
    s.write_config(
        r#"{ agents: { defaults: { model: {
            primary: "huggingface/deepseek-ai/DeepSeek-R1:groq",
            fallbacks: ["huggingface/deepseek-ai/DeepSeek-R1:cerebras"],
        } } } }"#,
    );
    let (groq, cerebras) = (
        "deepseek-ai/DeepSeek-R1:groq",
        "deepseek-ai/DeepSeek-R1:cerebras",
    );
    s.router
        .chat(groq, [Reply::error(503, "groq is down", None)])
        .chat(cerebras, [Reply::chat_json(cerebras, "hi")])
        .chat(R1, [Reply::chat_json(R1, "hi")]);
    let gw = Gateway::start(&s, &[]);
    let ask = |model: Option<&'static str>| {
        let gw = &gw;
        async move {
            let mut body = json!({"messages": [{"role": "user", "content": "hi"}]});
            if let Some(model) = model {
                body["model"] = json!(model);
            }
            gw.post("/v1/chat/completions", &body, &[]).await
        }
    };
    let first = ask(None).await;
    assert_eq!(first.header("x-hfclaw-fallback"), "1", "{}", first.text);
    // groq cools: the next request goes straight to cerebras; the bare model goes out.
    let second = ask(None).await;
    assert_eq!(
        (second.status, second.header("x-hfclaw-model")),
        (200, "huggingface/deepseek-ai/DeepSeek-R1:cerebras")
    );
    assert!(
        second.header("x-hfclaw-skipped").contains("cooling down"),
        "{:?}",
        second.headers
    );
    assert_eq!(ask(Some(R1)).await.status, 200);
    assert_eq!(
        s.router.chat_models(),
        [groq, groq, groq, cerebras, cerebras, R1]
    );
    let health: serde_json::Value = reqwest::get(format!("{}/healthz", gw.base()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["cooldowns"][0]["model"], groq, "{health}");
    assert_eq!(health["cooldowns"].as_array().unwrap().len(), 1, "{health}");
}

/// A 429 on a policy ref (bare = `:fastest`, `:cheapest`) moves on to the next model, not
/// to the same model under another policy: the router already chose among that model's
/// providers (policies fail over on its side), so another policy would meet the same
/// limit (documented in the README).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_a_policy_ref_moves_on_to_the_next_model() {
    let s = chain_sandbox();
    s.router
        .chat(
            R1,
            [Reply::error(429, "slow down", None).with_header("retry-after", "60")],
        )
        .chat(QWEN, [Reply::chat_json(QWEN, "hi")]);
    let gw = Gateway::start(&s, &[]);
    let body = json!({"messages": [{"role": "user", "content": "hi"}]});
    let answer = gw.post("/v1/chat/completions", &body, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(s.router.chat_models(), [R1, QWEN]);
}

/// A chain whose models differ in what they can serve (issue 20, item 6): the default sees
/// images and serves tools; `text-only` has text input; `no-tools` sees images but no
/// usable provider serves tools (the one that would is failing); `tools-unknown` has text
/// input and a provider that does not say; `unlisted` is in no catalog; `vision` does all.
const NEEDS_CONFIG: &str = r#"{
  agents: { defaults: { model: {
    primary: "huggingface/acme/primary",
    fallbacks: ["huggingface/acme/text-only", "huggingface/acme/no-tools",
      "huggingface/acme/tools-unknown", "huggingface/acme/unlisted", "huggingface/acme/vision"],
  } } },
}"#;

const NEEDS_MODELS: &str = r#"{"object":"list","data":[
  {"id":"acme/primary","architecture":{"input_modalities":["text","image"]},"providers":[
    {"provider":"together","status":"live","supports_tools":true}]},
  {"id":"acme/text-only","architecture":{"input_modalities":["text"]},"providers":[
    {"provider":"together","status":"live","supports_tools":true}]},
  {"id":"acme/no-tools","architecture":{"input_modalities":["text","image"]},"providers":[
    {"provider":"together","status":"live","supports_tools":false},
    {"provider":"groq","status":"error","supports_tools":true}]},
  {"id":"acme/tools-unknown","architecture":{"input_modalities":["text"]},"providers":[
    {"provider":"together","status":"live"}]},
  {"id":"acme/vision","architecture":{"input_modalities":["text","image"]},"providers":[
    {"provider":"together","status":"live","supports_tools":true}]}
]}"#;

fn needs_sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.write_config(NEEDS_CONFIG);
    s.cache_live_models(NEEDS_MODELS);
    s
}

fn not_found() -> Reply {
    Reply::error(404, "model not found", None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_with_images_skips_fallbacks_without_image_input() {
    let s = needs_sandbox();
    s.router
        .chat("acme/primary", [not_found()])
        .chat(
            "acme/no-tools",
            [Reply::chat_json("acme/no-tools", "a cat")],
        )
        .chat("acme/text-only", [Reply::chat_json("acme/text-only", "hi")]);
    let gw = Gateway::start(&s, &[]);
    let image = json!([{"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]);
    let body = json!({"messages": [{"role": "user", "content": image}]});
    let answer = gw.post("/v1/chat/completions", &body, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("x-hfclaw-model"), "huggingface/acme/no-tools");
    assert_eq!(answer.header("x-hfclaw-fallback"), "2");
    assert_eq!(
        answer.header("x-hfclaw-skipped"),
        "huggingface/acme/primary (model not found or not supported, HTTP 404), \
         huggingface/acme/text-only (no image input)"
    );
    assert_eq!(s.router.chat_models(), ["acme/primary", "acme/no-tools"]);

    // Responses' `input_image` likewise.
    s.router.responses("acme/primary", [not_found()]).responses(
        "acme/no-tools",
        [Reply::responses_json("acme/no-tools", "a cat")],
    );
    let input = json!({"input": [{"role": "user", "content": [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}]}]});
    let answer = gw.post("/v1/responses", &input, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        (
            answer.header("x-hfclaw-fallback"),
            answer.header("x-hfclaw-skipped")
        ),
        (
            "2",
            "huggingface/acme/primary (model not found or not supported, HTTP 404), \
             huggingface/acme/text-only (no image input)"
        )
    );

    // The model the client names is tried whatever the catalog says of it.
    let named =
        json!({"model": "acme/text-only", "messages": [{"role": "user", "content": image}]});
    let answer = gw.post("/v1/chat/completions", &named, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.header("x-hfclaw-model"),
        "huggingface/acme/text-only"
    );

    // Images and tools: every model tried fails; the error names the ones left out.
    let both = json!({"messages": [{"role": "user", "content": image}],
        "tools": [{"type": "function", "function": {"name": "look", "parameters": {}}}]});
    let before = s.router.chat_models().len();
    let answer = gw.post("/v1/chat/completions", &both, &[]).await;
    assert_eq!(answer.status, 404, "{}", answer.text);
    assert_eq!(
        s.router.chat_models()[before..],
        ["acme/primary", "acme/unlisted", "acme/vision"]
    );
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with("all 3 models failed: huggingface/acme/primary: "),
        "{message}"
    );
    assert!(
        message.ends_with(
            "; not tried: huggingface/acme/text-only (no image input), \
             huggingface/acme/no-tools (no provider serves tools), \
             huggingface/acme/tools-unknown (no image input)"
        ),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_with_tools_skips_fallbacks_no_provider_serves_tools_with() {
    let s = needs_sandbox();
    s.router
        .messages("acme/vision", [Reply::messages_json("acme/vision", "done")])
        .messages(
            "acme/no-tools",
            [Reply::messages_json("acme/no-tools", "no")],
        );
    let gw = Gateway::start(&s, &[]);
    // As Claude Code asks: tools, and an image inside a tool result of an earlier turn
    // would also count; here text only, so text-only models stay in.
    let body = json!({"max_tokens": 64, "messages": [{"role": "user", "content": "ls"}],
        "tools": [{"name": "Bash", "input_schema": {"type": "object"}}]});
    let answer = gw.post("/v1/messages", &body, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("x-hfclaw-model"), "huggingface/acme/vision");
    assert_eq!(answer.header("x-hfclaw-fallback"), "5");
    // The fake answers 400 `model_not_supported` for models it has no script for, as the
    // router's Messages API does. What the catalog does not know (a provider without `supports_tools`, a model it
    // does not list) is tried.
    assert_eq!(
        answer.header("x-hfclaw-skipped"),
        "huggingface/acme/primary (model not found or not supported, HTTP 400), \
         huggingface/acme/text-only (model not found or not supported, HTTP 400), \
         huggingface/acme/no-tools (no provider serves tools), \
         huggingface/acme/tools-unknown (model not found or not supported, HTTP 400), \
         huggingface/acme/unlisted (model not found or not supported, HTTP 400)"
    );
    assert_eq!(
        s.router.models_sent_to("POST /v1/messages"),
        [
            "acme/primary",
            "acme/text-only",
            "acme/tools-unknown",
            "acme/unlisted",
            "acme/vision"
        ]
    );
    // An image block inside a tool result needs image input: text-only models are left
    // out too.
    let screenshot = json!({"max_tokens": 64, "messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
             "data": "iVBORw0KGgo="}}]}]}]});
    let before = s.router.models_sent_to("POST /v1/messages").len();
    let answer = gw.post("/v1/messages", &screenshot, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("x-hfclaw-model"), "huggingface/acme/no-tools");
    assert_eq!(
        answer.header("x-hfclaw-skipped"),
        "huggingface/acme/primary (model not found or not supported, HTTP 400), \
         huggingface/acme/text-only (no image input)"
    );
    assert_eq!(
        s.router.models_sent_to("POST /v1/messages")[before..],
        ["acme/primary", "acme/no-tools"]
    );
}
