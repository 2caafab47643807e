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

/// What one streamed answer of 1,000 output tokens costs at together's DeepSeek-R1 price
/// (`LIVE_MODELS`); its reservation (max_tokens 1000, the body's bytes as input) is a
/// hair more.
pub const COSTLY_ANSWER_USD: f64 = 0.007015;
/// What [`costly`] reserves, at most.
pub const COSTLY_RESERVATION_USD: f64 = 0.0072;

/// Makes DeepSeek-R1 answer with slow streams (0.45 s, so that concurrent requests are
/// all in flight at once) reporting 1,000 output tokens.
pub fn slow_costly_answers(s: &Sandbox) {
    let mut pieces = hfclaw_e2e::sse_chat_events(R1, &[], &["a", "b", "c"]);
    let usage = pieces.len() - 2;
    pieces[usage] = pieces[usage].replace("\"completion_tokens\":3", "\"completion_tokens\":1000");
    assert!(pieces[usage].contains(":1000"));
    s.router.chat(
        R1,
        [Reply::Sse {
            pieces,
            delay: Duration::from_millis(150),
        }
        .via("together")],
    );
}

/// One streamed request asking for up to 1,000 tokens; its status once read to the end.
pub async fn costly(gw: &Gateway) -> u16 {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.base()))
        .json(&json!({"model": "r1", "stream": true, "max_tokens": 1000,
            "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let _ = response.text().await;
    status
}

/// `per_replica` concurrent [`costly`] requests at each replica at once; how many were
/// served (the others must be budget refusals).
pub async fn costly_at_once(replicas: &[&Gateway], per_replica: usize) -> usize {
    let asks = replicas
        .iter()
        .flat_map(|gw| (0..per_replica).map(move |_| costly(gw)));
    let statuses = futures_util::future::join_all(asks).await;
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    statuses.iter().filter(|s| **s == 200).count()
}

/// `n` requests of `key` at each replica, one after the other per replica, the replicas
/// at once; how many were served (the others must be rate refusals).
pub async fn requests_per_replica(replicas: &[&Gateway], key: &str, n: usize) -> usize {
    let each = replicas.iter().map(|gw| async move {
        let mut served = 0;
        for _ in 0..n {
            let (status, body) = post(gw, "/v1/chat/completions", key, chat("r1")).await;
            match status {
                200 => served += 1,
                429 => assert_eq!(body["error"]["code"], "key_rate_limit_exceeded", "{body}"),
                other => panic!("{other}: {body}"),
            }
        }
        served
    });
    futures_util::future::join_all(each).await.into_iter().sum()
}

/// Stops a gateway with SIGTERM, asserting a clean exit; its log.
pub fn stop(gw: Gateway) -> String {
    gw.signal("TERM");
    let (status, log) = gw.wait(Duration::from_secs(20));
    assert!(status.success(), "{status:?}\n{log}");
    log
}

/// The known cost of every row of a ledger.
pub fn ledger_spend(spec: &hfclaw_accounting::LedgerSpec) -> f64 {
    let ledger = hfclaw_accounting::Ledger::open(spec).unwrap();
    let totals = ledger
        .totals(
            hfclaw_accounting::GroupBy::Api,
            std::time::SystemTime::UNIX_EPOCH,
            std::time::SystemTime::now(),
        )
        .unwrap();
    ledger.close().unwrap();
    totals.total.cost_usd
}
