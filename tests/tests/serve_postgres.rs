//! Two `hfclaw serve` replicas sharing one PostgreSQL ledger: both write every request,
//! and a budget spent through one is refused by the other. Needs a real server:
//! `cargo xtask ci` starts one and runs these with `--ignored`, its URL in
//! `HFCLAW_TEST_POSTGRES_URL`; a plain `cargo test` lists them as ignored, never passed.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, SystemTime};

use common::Sandbox;
use common::gateway::Gateway;
use hfclaw_accounting::{GroupBy, Ledger, LedgerSpec};
use hfclaw_e2e::Reply;
use serde_json::json;

const LIVE_MODELS: &str = r#"{"object":"list","data":[
  {"id":"deepseek-ai/DeepSeek-R1","object":"model","providers":[
    {"provider":"together","status":"live","pricing":{"input":3,"output":7}}]}
]}"#;

const R1: &str = "deepseek-ai/DeepSeek-R1";

async fn ask(gw: &Gateway) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.base()))
        .json(&json!({"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a PostgreSQL server: run through `cargo xtask ci`"]
async fn two_replicas_share_one_ledger_and_its_budget() {
    // The postgres client blocks: not on the runtime's own threads.
    let url = tokio::task::block_in_place(|| common::postgres_database("budget"));
    let s = Sandbox::new();
    s.write_config(r#"{ agents: { defaults: { model: { primary: "huggingface/deepseek-ai/DeepSeek-R1" } } } }"#);
    s.cache_live_models(LIVE_MODELS);
    s.router
        .chat(R1, [Reply::chat_json(R1, "hi").via("together")]);
    // One answer costs $0.000064; the budget holds five of them.
    let args = ["--ledger", &url, "--budget-usd-per-day", "0.0003"];
    let a = Gateway::start(&s, &args);
    let b = Gateway::start(&s, &args);
    // Both replicas write at once.
    let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        from_a.push(ask(&a));
        from_b.push(ask(&b));
    }
    for status in futures_util::future::join_all(from_a.into_iter().chain(from_b)).await {
        assert_eq!(status, 200);
    }
    // Replica A spends the rest of the budget…
    let mut served = 0;
    while ask(&a).await == 200 {
        served += 1;
        assert!(served < 10, "the budget never stopped replica A");
    }
    // …and replica B, once it has re-read today's spend (every 5 s), refuses too.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(ask(&b).await, 429);
    for gw in [a, b] {
        gw.signal("TERM");
        let (status, log) = gw.wait(Duration::from_secs(20));
        assert!(status.success(), "{log}");
    }
    let totals = tokio::task::block_in_place(|| {
        let ledger = Ledger::open(&LedgerSpec::parse(&url)).unwrap();
        let totals = ledger
            .totals(GroupBy::Api, SystemTime::UNIX_EPOCH, SystemTime::now())
            .unwrap();
        ledger.close().unwrap();
        totals
    });
    let answered = 4 + served;
    assert_eq!(totals.total.requests, answered + 2);
    assert_eq!(totals.total.errors, 2);
    let cost = totals.total.cost_usd;
    assert!((cost - answered as f64 * 0.000064).abs() < 1e-9, "{cost}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a PostgreSQL server: run through `cargo xtask ci`"]
async fn two_replicas_honour_new_updated_and_revoked_keys_within_5_s() {
    let url = tokio::task::block_in_place(|| common::postgres_database("keys"));
    let s = common::team::sandbox();
    let a = Gateway::start(&s, &["--ledger", &url]);
    let b = Gateway::start(&s, &["--ledger", &url]);
    common::team::key_lifecycle(&s, &["--ledger", &url], &[&a, &b]).await;
    // A dump of the keys table holds hashes and prefixes, never a key.
    let dump = tokio::task::block_in_place(|| {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let rows = client
            .query("SELECT CAST(k AS TEXT) FROM hfclaw_keys AS k", &[])
            .unwrap();
        rows.iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n")
    });
    assert!(dump.contains("alice"), "{dump}");
    for word in dump.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
        assert!(
            !(word.starts_with("hfk_") && word.len() > 12),
            "a key in the database: {word}"
        );
    }
}
