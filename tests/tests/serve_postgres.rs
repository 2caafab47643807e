//! Two `hfclaw serve` replicas sharing one PostgreSQL ledger: both write every request,
//! a budget spent through one is refused by the other, concurrent requests and a key's
//! requests per minute stay within one request per replica of their limits. Needs a real server:
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
    // One answer costs $0.000064 and reserves ~$0.0001; the budget holds four answers.
    let args = ["--ledger", &url, "--budget-usd-per-day", "0.0003"];
    let a = Gateway::start(&s, &args);
    let b = Gateway::start(&s, &args);
    // Both replicas write at once.
    let (first_a, first_b) = futures_util::join!(ask(&a), ask(&b));
    assert_eq!((first_a, first_b), (200, 200));
    // Replica A spends the rest of the budget…
    let mut served = 0;
    while ask(&a).await == 200 {
        served += 1;
        assert!(served < 10, "the budget never stopped replica A");
    }
    // …and replica B refuses too, through the database, after at most one request on the
    // totals it last read (the bound: one request per replica).
    let mut extra = 0;
    while ask(&b).await == 200 {
        extra += 1;
        assert!(
            extra <= 1,
            "replica B passed the budget by {extra} requests"
        );
    }
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
    let answered = 2 + served + extra;
    assert_eq!(totals.total.requests, answered + 2);
    // The two refusals are counted apart from errors.
    assert_eq!((totals.total.errors, totals.total.budget_refusals), (0, 2));
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

/// Five reservations fit, not six (`common::team::costly`).
const SMALL_BUDGET: &str = "0.039";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a PostgreSQL server: run through `cargo xtask ci`"]
async fn eight_concurrent_requests_stay_within_one_reservation_per_replica() {
    use common::team::{
        COSTLY_ANSWER_USD, COSTLY_RESERVATION_USD, costly_at_once, ledger_spend,
        slow_costly_answers, stop,
    };
    for replicas in [1, 2] {
        let url = tokio::task::block_in_place(|| {
            common::postgres_database(&format!("concurrent_{replicas}"))
        });
        let s = common::team::sandbox();
        slow_costly_answers(&s);
        let args = ["--ledger", &url, "--budget-usd-per-day", SMALL_BUDGET];
        let gateways: Vec<Gateway> = (0..replicas).map(|_| Gateway::start(&s, &args)).collect();
        let served = costly_at_once(&gateways.iter().collect::<Vec<_>>(), 8).await;
        for gw in gateways {
            stop(gw);
        }
        // One replica: exactly what fits; two (each alone would serve five): one
        // reservation more per replica at most.
        let most = if replicas == 1 { 5 } else { 7 };
        assert!(
            (5..=most).contains(&served),
            "{replicas} replica(s): {served} served"
        );
        let spent = tokio::task::block_in_place(|| ledger_spend(&LedgerSpec::parse(&url)));
        assert!(
            (spent - served as f64 * COSTLY_ANSWER_USD).abs() < 1e-9
                && spent <= 0.039 + (replicas - 1) as f64 * 2.0 * COSTLY_RESERVATION_USD,
            "{spent}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a PostgreSQL server: run through `cargo xtask ci`"]
async fn a_keys_requests_per_minute_hold_across_two_replicas() {
    let url = tokio::task::block_in_place(|| common::postgres_database("rpm"));
    let s = common::team::sandbox();
    let key = common::team::ok(
        &s,
        &["keys", "create", "team", "--rpm", "10", "--ledger", &url],
    )
    .trim()
    .to_owned();
    let a = Gateway::start(&s, &["--ledger", &url]);
    let b = Gateway::start(&s, &["--ledger", &url]);
    // Fifteen each, at once: each replica alone would serve ten (twenty in all).
    let served = common::team::requests_per_replica(&[&a, &b], &key, 15).await;
    common::team::stop(a);
    common::team::stop(b);
    assert!((10..=12).contains(&served), "{served} served");
}
