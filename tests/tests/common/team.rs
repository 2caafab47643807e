//! Helpers of the team tests (issue 22: keys, budgets, limits), shared by `serve_keys`
//! (SQLite) and `serve_postgres` (replicas on PostgreSQL).
#![allow(dead_code, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use hfclaw_e2e::Reply;
use serde_json::{Value, json};

use super::Sandbox;
use super::gateway::Gateway;

pub const CONFIG: &str = r#"{
  agents: { defaults: {
    model: { primary: "huggingface/deepseek-ai/DeepSeek-R1" },
    models: {
      "huggingface/deepseek-ai/DeepSeek-R1": { alias: "r1" },
      "huggingface/Qwen/Qwen3-8B": { alias: "qwen" },
    },
  } },
}"#;

pub const LIVE_MODELS: &str = r#"{"object":"list","data":[
  {"id":"deepseek-ai/DeepSeek-R1","object":"model","providers":[
    {"provider":"together","status":"live","pricing":{"input":3,"output":7}}]},
  {"id":"Qwen/Qwen3-8B","object":"model","providers":[
    {"provider":"together","status":"live","pricing":{"input":1,"output":1}}]}
]}"#;

const R1: &str = "deepseek-ai/DeepSeek-R1";
pub const QWEN: &str = "Qwen/Qwen3-8B";

pub fn sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    s.cache_live_models(LIVE_MODELS);
    s.router
        .chat(R1, [Reply::chat_json(R1, "hi").via("together")])
        .chat(QWEN, [Reply::chat_json(QWEN, "hi").via("together")])
        .messages(R1, [Reply::messages_json(R1, "hi").via("together")]);
    s
}

/// `hfclaw ARGS`, asserting exit 0; its stdout.
pub fn ok(s: &Sandbox, args: &[&str]) -> String {
    let output = s.cmd(args).output().unwrap();
    let text = s.render(&output);
    assert!(text.starts_with("exit: 0"), "{args:?}: {text}");
    String::from_utf8(output.stdout).unwrap()
}

pub async fn post(gw: &Gateway, path: &str, key: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", gw.base()))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn get(gw: &Gateway, path: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}{path}", gw.base()))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

pub fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

/// Polls until `status` answers `want` (at most `limit`); the time it took.
pub async fn until_status(
    limit: Duration,
    mut status: impl AsyncFnMut() -> u16,
    want: u16,
) -> Duration {
    let started = Instant::now();
    loop {
        let got = status().await;
        if got == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "still {got} after {limit:?}, wanted {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn key_lifecycle(s: &Sandbox, ledger: &[&str], replicas: &[&Gateway]) {
    let with = |args: &[&str]| -> Vec<String> {
        args.iter().chain(ledger).map(|a| (*a).to_owned()).collect()
    };
    let run = |args: &[&str]| {
        let all = with(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        ok(s, &all)
    };
    // An admin key made first: every gateway needs keys from now on.
    let admin = run(&["keys", "create", "ops", "--admin"]).trim().to_owned();
    let alice = run(&[
        "keys",
        "create",
        "alice",
        "--models",
        "r1",
        "--budget-usd-per-day",
        "5",
    ]);
    let alice = alice.trim().to_owned();
    assert!(alice.starts_with("hfk_") && alice.len() == 68, "{alice}");
    for gw in replicas {
        // Once the gateway has read the new keys, a key nobody made is refused.
        until_status(
            Duration::from_secs(5),
            async || {
                post(gw, "/v1/chat/completions", "hfk_nope", chat("r1"))
                    .await
                    .0
            },
            401,
        )
        .await;
        assert_eq!(
            post(gw, "/v1/chat/completions", &alice, chat("r1")).await.0,
            200
        );
        // No key, or one nobody made: 401 in each envelope.
        let (status, body) = post(gw, "/v1/chat/completions", "hfk_nope", chat("r1")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("invalid_api_key"))
        );
        let (status, body) = post(gw, "/v1/messages", "", json!({"model": "r1", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})).await;
        assert_eq!(
            (status, body["error"]["type"].as_str()),
            (401, Some("authentication_error")),
            "{body}"
        );
        // Restricted to r1: Qwen is 403, in the OpenAI envelope.
        let (status, body) = post(gw, "/v1/chat/completions", &alice, chat("qwen")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("model_not_allowed")),
            "{body}"
        );
        // The operator's pages: the admin key only.
        assert_eq!(get(gw, "/metrics", &alice).await, 403);
        assert_eq!(get(gw, "/metrics", &admin).await, 200);
        assert_eq!(get(gw, "/", &admin).await, 200);
    }
    // Listed with a prefix, limits and spend, never the key.
    let list = run(&["keys", "list", "--json"]);
    assert!(!list.contains(&alice) && !list.contains(&admin));
    let keys: Value = serde_json::from_str(&list).unwrap();
    let entry = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["label"] == "alice")
        .unwrap();
    assert_eq!(entry["prefix"].as_str(), Some(&alice[..12]));
    assert_eq!(entry["limits"]["usd_per_day"], 5.0);
    assert_eq!(entry["models"], json!(["r1"]));
    assert_eq!(entry["state"], "active");
    // Lifted restriction, then revoked by prefix: every replica refuses within 5 s.
    run(&["keys", "update", "alice", "--models", "any"]);
    for gw in replicas {
        until_status(
            Duration::from_secs(5),
            async || {
                post(gw, "/v1/chat/completions", &alice, chat("qwen"))
                    .await
                    .0
            },
            200,
        )
        .await;
    }
    run(&["keys", "revoke", &alice[..12]]);
    for gw in replicas {
        until_status(
            Duration::from_secs(5),
            async || post(gw, "/v1/chat/completions", &alice, chat("r1")).await.0,
            401,
        )
        .await;
        let (_, body) = post(gw, "/v1/chat/completions", &alice, chat("r1")).await;
        assert_eq!(body["error"]["code"], "key_revoked", "{body}");
    }
    let list = run(&["keys", "list"]);
    assert!(list.contains("alice") && list.contains("revoked"), "{list}");
}
