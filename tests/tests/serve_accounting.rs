//! `hfclaw serve` accounts for what it forwards: every request of the three APIs is one
//! ledger row priced at the serving provider's live rate, budgets stop spending with a
//! 429 in each API's envelope (and hold across restarts), SIGTERM under load loses no
//! row, and the gateway and `hfclaw chat` share one SQLite ledger.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::gateway::Gateway;
use common::{R1_CONFIG as CONFIG, R1_LIVE_MODELS as LIVE_MODELS, Sandbox};
use hfclaw_accounting::{Api, Ledger, LedgerSpec, Row};
use hfclaw_e2e::{Reply, sse_chat_events};
use serde_json::{Value, json};

const R1: &str = "deepseek-ai/DeepSeek-R1";
const KEYS: &str = "# client keys\nalice sk-alice-0001\nbob sk-bob-0002\n";

fn sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    s.cache_live_models(LIVE_MODELS);
    s.write_private("keys.txt", KEYS);
    s
}

fn keys_arg(s: &Sandbox) -> String {
    s.home().join("keys.txt").display().to_string()
}

async fn post(gw: &Gateway, path: &str, key: &str, body: Value) -> (u16, Value, String) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", gw.base()))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value, retry_after)
}

fn chat(stream: bool) -> Value {
    json!({"model": "r1", "stream": stream, "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}]})
}

fn messages(stream: bool) -> Value {
    json!({"model": "r1", "max_tokens": 9, "stream": stream,
        "messages": [{"role": "user", "content": "hi"}]})
}

fn responses(stream: bool) -> Value {
    json!({"model": "r1", "input": "hi", "stream": stream})
}

/// Every row of the sandbox's ledger, oldest first.
fn rows(s: &Sandbox) -> Vec<Row> {
    let ledger = Ledger::open(&LedgerSpec::Sqlite(s.ledger_path())).unwrap();
    let mut rows = ledger.recent(10_000).unwrap();
    rows.reverse();
    ledger.close().unwrap();
    rows
}

/// The JSON a command printed (`Sandbox::run`'s stdout section).
fn stdout_json(out: &str) -> Value {
    let stdout = out.split("--- stdout\n").nth(1).unwrap();
    serde_json::from_str(stdout.split("--- stderr").next().unwrap()).unwrap()
}

fn stop(gw: Gateway) -> String {
    gw.signal("TERM");
    let (status, log) = gw.wait(Duration::from_secs(20));
    assert!(status.success(), "{status:?}\n{log}");
    log
}

fn usd(row: &Row) -> Option<(f64, bool)> {
    row.cost.map(|c| ((c.usd * 1e9).round() / 1e9, c.estimated))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_is_priced_at_the_serving_provider_and_recorded() {
    let s = sandbox();
    s.router
        .chat(R1, [Reply::chat_json(R1, "hi").via("together")])
        .messages(
            R1,
            [Reply::messages_stream(R1, &["a", "b", "c"]).via("cerebras")],
        )
        .responses(
            R1,
            [
                Reply::responses_json(R1, "hi").via("together"),
                // No x-inference-provider: what the ref reaches (no throughput data: the
                // highest live price), estimated.
                Reply::responses_stream(R1, &["x"]),
            ],
        );
    let gw = Gateway::start(&s, &["--api-key-file", &keys_arg(&s)]);
    assert_eq!(
        post(&gw, "/v1/chat/completions", "sk-alice-0001", chat(false))
            .await
            .0,
        200
    );
    assert_eq!(
        post(&gw, "/v1/messages", "sk-bob-0002", messages(true))
            .await
            .0,
        200
    );
    assert_eq!(
        post(&gw, "/v1/responses", "sk-alice-0001", responses(false))
            .await
            .0,
        200
    );
    assert_eq!(
        post(&gw, "/v1/responses", "sk-alice-0001", responses(true))
            .await
            .0,
        200
    );
    // A stream the client asked for without usage is still priced (the gateway asked).
    s.router.chat(
        R1,
        [Reply::sse(sse_chat_events(R1, &[], &["p", "q"])).via("cerebras")],
    );
    assert_eq!(
        post(&gw, "/v1/chat/completions", "sk-bob-0002", chat(true))
            .await
            .0,
        200
    );
    // An unknown model is recorded as an error, unpriced.
    assert_eq!(
        post(
            &gw,
            "/v1/messages",
            "sk-bob-0002",
            json!({"model": "gpt-4o", "max_tokens": 1,
            "messages": [{"role": "user", "content": "x"}]})
        )
        .await
        .0,
        404
    );
    let log = stop(gw);
    assert!(log.contains("recording usage in"), "{log}");
    let rows = rows(&s);
    let view: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.api,
                r.key.as_deref(),
                r.provider.as_deref(),
                r.usage.map(|u| (u.input_tokens, u.output_tokens)),
                usd(r),
                r.outcome.class(),
                r.streamed,
            )
        })
        .collect();
    assert_eq!(
        view,
        [
            // 5 in × $3 + 7 out × $7 per 1M.
            (
                Api::Chat,
                Some("alice"),
                Some("together"),
                Some((5, 7)),
                Some((0.000064, false)),
                "ok",
                false
            ),
            // 5 in × $2 + 3 out × $5.
            (
                Api::Messages,
                Some("bob"),
                Some("cerebras"),
                Some((5, 3)),
                Some((0.000025, false)),
                "ok",
                true
            ),
            (
                Api::Responses,
                Some("alice"),
                Some("together"),
                Some((5, 7)),
                Some((0.000064, false)),
                "ok",
                false
            ),
            // No throughput data, so the provider a bare ref reaches is unknown: the
            // highest live price (together), estimated: 5 × $3 + 7 × $7.
            (
                Api::Responses,
                Some("alice"),
                None,
                Some((5, 7)),
                Some((0.000064, true)),
                "ok",
                true
            ),
            (
                Api::Chat,
                Some("bob"),
                Some("cerebras"),
                Some((5, 2)),
                Some((0.00002, false)),
                "ok",
                true
            ),
            (
                Api::Messages,
                Some("bob"),
                None,
                None,
                None,
                "model_not_found",
                false
            ),
        ]
    );
    assert!(rows.iter().all(|r| {
        r.answered_ref
            .as_deref()
            .is_none_or(|a| a == "huggingface/deepseek-ai/DeepSeek-R1")
    }));
    assert_eq!(rows[0].fallback_index, Some(0));
    assert!(rows[1].ttfb.is_some() && rows[1].ttfb <= Some(rows[1].total));
    // No key is ever stored.
    let file = std::fs::read(s.ledger_path()).unwrap();
    assert!(
        !file
            .windows(8)
            .any(|w| w == b"sk-alice" || w == b"sk-bob-0")
    );
    // `hfclaw usage --by key` adds them up.
    let out = s.run(&["usage", "--by", "key", "--json"]);
    let totals = stdout_json(&out);
    let alice = totals["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "alice")
        .unwrap();
    assert_eq!(
        (alice["requests"].as_u64(), alice["output_tokens"].as_u64()),
        (Some(3), Some(21))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_budget_answers_429_in_each_envelope_and_holds_after_a_restart() {
    let s = sandbox();
    s.router
        .chat(R1, [Reply::chat_json(R1, "hi").via("together")])
        .messages(R1, [Reply::messages_json(R1, "hi").via("together")])
        .responses(R1, [Reply::responses_json(R1, "hi").via("together")]);
    // One chat answer costs $0.000064 and reserves about $0.00017 (its ~32 input tokens
    // and 10 output tokens at the dearest price): after the first, no reservation fits.
    let args = [
        "--api-key-file",
        &keys_arg(&s),
        "--budget-usd-per-day",
        "0.0002",
    ];
    let gw = Gateway::start(&s, &args);
    assert_eq!(
        post(&gw, "/v1/chat/completions", "sk-alice-0001", chat(false))
            .await
            .0,
        200
    );
    let (status, body, retry_after) =
        post(&gw, "/v1/chat/completions", "sk-bob-0002", chat(false)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("budget_exceeded")),
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("the daily budget of $0.0002") && message.contains("resets at"),
        "{message}"
    );
    // Waiting for the reset takes hours: no Retry-After (SDKs would honour it).
    assert_eq!(retry_after, "");
    let (status, body, _) = post(&gw, "/v1/messages", "sk-bob-0002", messages(false)).await;
    assert_eq!(status, 429);
    assert_eq!(
        (body["type"].as_str(), body["error"]["type"].as_str()),
        (Some("error"), Some("budget_exceeded")),
        "{body}"
    );
    let (status, body, _) = post(&gw, "/v1/responses", "sk-bob-0002", responses(false)).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (429, Some("budget_exceeded"))
    );
    // Only the first request reached the router.
    assert_eq!(
        s.router.chat_models().len() + s.router.models_sent_to("POST /v1/messages").len(),
        1
    );
    stop(gw);
    // The spend is in the ledger: a restarted gateway still refuses.
    let gw = Gateway::start(&s, &args);
    let (status, ..) = post(&gw, "/v1/messages", "sk-alice-0001", messages(false)).await;
    assert_eq!(status, 429);
    stop(gw);
    let out = s.run(&["usage"]);
    assert!(
        out.contains("budget: $0.000064 of $0.0002 per UTC day used"),
        "{out}"
    );
    // The refusals are counted apart from errors: none failed, four were over budget.
    let total = out.lines().find(|l| l.starts_with("total")).unwrap();
    let cells: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(&cells[..4], ["total", "5", "0", "4"], "{out}");
    let json = stdout_json(&s.run(&["usage", "--json"]));
    assert_eq!(json["total"]["budget_refusals"], 4);
    assert_eq!(json["total"]["errors"], 0);
    let budget = &json["budgets"][0];
    assert_eq!(
        (&budget["scope"], &budget["period"], &budget["limit_usd"]),
        (
            &Value::from("global"),
            &Value::from("day"),
            &Value::from(0.0002)
        )
    );
    assert_eq!(budget["spent_usd"], 0.000064);
    assert!((budget["remaining_usd"].as_f64().unwrap() - 0.000136).abs() < 1e-12);
    let rows = rows(&s);
    assert_eq!(
        rows.iter()
            .filter(|r| r.outcome.class() == "budget_exceeded")
            .count(),
        4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_budget_stops_only_that_key() {
    let s = sandbox();
    s.router
        .chat(R1, [Reply::chat_json(R1, "hi").via("together")]);
    let gw = Gateway::start(
        &s,
        &[
            "--api-key-file",
            &keys_arg(&s),
            "--key-budget",
            "bob=0.0002",
        ],
    );
    for _ in 0..2 {
        assert_eq!(
            post(&gw, "/v1/chat/completions", "sk-alice-0001", chat(false))
                .await
                .0,
            200
        );
    }
    assert_eq!(
        post(&gw, "/v1/chat/completions", "sk-bob-0002", chat(false))
            .await
            .0,
        200
    );
    let (status, body, _) = post(&gw, "/v1/chat/completions", "sk-bob-0002", chat(false)).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("key \"bob\""),
        "{body}"
    );
    assert_eq!(
        post(&gw, "/v1/chat/completions", "sk-alice-0001", chat(false))
            .await
            .0,
        200
    );
    stop(gw);
    // A budget for a key that is gone is a warning: the gateway starts and serves.
    let gw = Gateway::start(
        &s,
        &["--key-budget", "carol=1", "--api-key-file", &keys_arg(&s)],
    );
    assert_eq!(
        post(&gw, "/v1/chat/completions", "sk-alice-0001", chat(false))
            .await
            .0,
        200
    );
    let log = gw.stderr_text();
    assert!(
        log.contains("warning: --key-budget \"carol\": no client key has that label"),
        "{log}"
    );
    stop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_no_row() {
    let s = sandbox();
    let slow = Reply::Sse {
        pieces: sse_chat_events(R1, &[], &["a", "b", "c", "d"]),
        delay: Duration::from_millis(60),
    };
    s.router
        .chat(R1, [slow.via("together")])
        .messages(R1, [Reply::messages_json(R1, "hi").via("cerebras")]);
    let gw = Gateway::start(&s, &[]);
    let base = gw.base();
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (base, client) = (base.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(i * 5)).await;
            let (path, body) = if i % 2 == 0 {
                ("/v1/chat/completions", chat(true))
            } else {
                ("/v1/messages", messages(false))
            };
            let response = client
                .post(format!("{base}{path}"))
                .json(&body)
                .send()
                .await
                .ok()?;
            let status = response.status().as_u16();
            let text = response.text().await.ok()?;
            Some((status, text))
        }));
    }
    // The shutdown comes while requests are in flight, however slow the machine.
    let started = std::time::Instant::now();
    while s.router.requests().len() < 12 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the load never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    gw.signal("TERM");
    let mut answered = 0;
    for task in tasks {
        if let Some((status, text)) = task.await.unwrap() {
            assert_eq!(status, 200, "{text}");
            answered += 1;
        }
    }
    let (status, log) = gw.wait(Duration::from_secs(20));
    assert!(status.success(), "{log}");
    assert!(answered > 0, "no request was answered before the shutdown");
    let rows = rows(&s);
    assert_eq!(rows.len(), answered, "{log}");
    assert!(rows.iter().all(|r| r.outcome.is_ok() && r.usage.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_and_chat_write_one_ledger_at_once() {
    let s = sandbox();
    s.router
        .chat(R1, [Reply::chat_json(R1, "hi").via("together")]);
    let gw = Gateway::start(&s, &[]);
    let chats: Vec<_> = (0..4)
        .map(|_| {
            s.cmd(&["chat", "--model", "r1", "hi"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut requests = Vec::new();
    for _ in 0..20 {
        requests.push(post(&gw, "/v1/chat/completions", "", chat(false)));
    }
    for request in requests {
        assert_eq!(request.await.0, 200);
    }
    for mut chat in chats {
        assert!(chat.wait().unwrap().success());
    }
    stop(gw);
    let rows = rows(&s);
    assert_eq!(rows.len(), 24);
    assert_eq!(
        rows.iter()
            .filter(|r| r.key.as_deref() == Some("hfclaw-chat"))
            .count(),
        4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_requests_stay_within_a_small_budget() {
    let s = sandbox();
    // Slow streams, so that all eight are in flight at once; each reports 1,000 output
    // tokens: $0.007015 at together's price, near the ~$0.0071 its max_tokens reserves.
    common::team::slow_costly_answers(&s);
    let gw = Gateway::start(&s, &["--budget-usd-per-day", "0.02"]);
    let ask = || async {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", gw.base()))
            .json(&json!({"model": "r1", "stream": true, "max_tokens": 1000,
                "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let answer = (
            response.status().as_u16(),
            header("retry-after"),
            header("x-should-retry"),
        );
        let _ = response.text().await;
        answer
    };
    let answers = futures_util::future::join_all((0..8).map(|_| ask())).await;
    // Two reservations fit in $0.02; the other six are told to retry shortly.
    let served = answers.iter().filter(|a| a.0 == 200).count();
    assert_eq!(served, 2, "{answers:?}");
    for refused in answers.iter().filter(|a| a.0 != 200) {
        assert_eq!(refused, &(429, Some("5".to_owned()), None));
    }
    // $0.01403 spent: one more reservation would pass the budget, and waiting will not help.
    assert_eq!(ask().await, (429, None, Some("false".to_owned())));
    stop(gw);
    let spent: f64 = rows(&s).iter().filter_map(|r| r.cost.map(|c| c.usd)).sum();
    assert!(
        (spent - 2.0 * 0.007015).abs() < 1e-9 && spent <= 0.02,
        "{spent}"
    );
}
