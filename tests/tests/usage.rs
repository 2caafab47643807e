//! `hfclaw usage` over ledgers written by `hfclaw chat` against the fake router.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::SystemTime;

use common::Sandbox;
use hfclaw_accounting::time::{day_of, format_day, unix_ms};
use hfclaw_accounting::{BudgetConfig, Ledger, LedgerSpec};
use hfclaw_e2e::Reply;

const CONFIG: &str = r#"{
  agents: { defaults: {
    model: { primary: "huggingface/deepseek-ai/DeepSeek-R1", fallbacks: ["huggingface/Qwen/Qwen3-8B:cheapest"] },
  } },
}"#;

/// Prices the tests own (see chat.rs).
const LIVE_MODELS: &str = r#"{"object":"list","data":[
  {"id":"deepseek-ai/DeepSeek-R1","object":"model","providers":[
    {"provider":"together","status":"live","pricing":{"input":3,"output":7}},
    {"provider":"cerebras","status":"live","pricing":{"input":2,"output":5}}]},
  {"id":"Qwen/Qwen3-8B","object":"model","providers":[
    {"provider":"cerebras","status":"live","pricing":{"input":0.1,"output":0.4}}]}
]}"#;

fn sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.write_config(CONFIG);
    s.cache_live_models(LIVE_MODELS);
    s
}

/// Three chats: R1 via together, R1 without the header (estimated), a fallback to Qwen
/// via cerebras; then one that fails everywhere.
fn three_answers_and_a_failure(s: &Sandbox) {
    let r1 = "deepseek-ai/DeepSeek-R1";
    s.router.chat(
        r1,
        [
            Reply::chat_stream(r1, &[], &["a", "b", "c"])
                .with_header("x-inference-provider", "together"),
            Reply::chat_stream(r1, &[], &["a", "b"]),
            Reply::error(404, "gone", None),
        ],
    );
    s.router.chat(
        "Qwen/Qwen3-8B:cheapest",
        [
            Reply::chat_stream("Qwen/Qwen3-8B", &[], &["q"])
                .with_header("x-inference-provider", "cerebras"),
            Reply::error(403, "gated", None),
        ],
    );
    for expect in ["exit: 0", "exit: 0", "exit: 0", "exit: 1"] {
        let out = s.run(&["chat", "hi"]);
        assert!(out.starts_with(expect), "{out}");
    }
}

fn today() -> String {
    format_day(day_of(unix_ms(SystemTime::now())))
}

#[test]
fn an_empty_ledger_is_a_note_and_exit_0() {
    let s = sandbox();
    insta::assert_snapshot!(s.run(&["usage"]));
    insta::assert_snapshot!(s.run(&["usage", "--json"]));
}

#[test]
fn totals_by_model_sorted_by_cost_with_a_total_line() {
    let s = sandbox();
    three_answers_and_a_failure(&s);
    insta::assert_snapshot!(s.run(&["usage"]));
}

#[test]
fn usage_json_by_each_grouping() {
    let s = sandbox();
    three_answers_and_a_failure(&s);
    for by in ["model", "provider", "key", "api"] {
        insta::assert_snapshot!(format!("by_{by}"), s.run(&["usage", "--json", "--by", by]));
    }
    let by_day = s.run(&["usage", "--json", "--by", "day", "--since", "7d"]);
    insta::assert_snapshot!(by_day.replace(&today(), "[TODAY]"));
    // A period with nothing in it.
    insta::assert_snapshot!(s.run(&["usage", "--json", "--until", "2020-01-01"]));
}

#[test]
fn since_garbage_is_an_input_error_listing_the_accepted_forms() {
    let s = sandbox();
    insta::assert_snapshot!(s.run(&["usage", "--since", "last tuesday"]));
    let out = s.run(&["usage", "--since", "today", "--until", "yesterday"]);
    assert!(out.starts_with("exit: 2"), "{out}");
}

#[test]
fn budget_status_comes_from_the_gateways_stored_budgets() {
    let s = sandbox();
    three_answers_and_a_failure(&s);
    let ledger = Ledger::open(&LedgerSpec::Sqlite(s.ledger_path())).unwrap();
    ledger
        .set_budgets(&BudgetConfig {
            usd_per_day: Some(0.00005),
            per_key_usd_per_day: [("team-a".to_owned(), 2.0)].into(),
            ..BudgetConfig::default()
        })
        .unwrap();
    ledger.close().unwrap();
    let tomorrow = format_day(day_of(unix_ms(SystemTime::now())) + 1);
    insta::assert_snapshot!(
        s.run(&["usage", "--by", "api"])
            .replace(&tomorrow, "[TOMORROW]")
    );
}

#[test]
fn a_corrupt_ledger_is_an_error_naming_the_file_left_untouched() {
    let s = sandbox();
    std::fs::create_dir_all(s.ledger_path().parent().unwrap()).unwrap();
    std::fs::write(s.ledger_path(), "garbage garbage garbage").unwrap();
    insta::assert_snapshot!(s.run(&["usage"]));
    assert_eq!(
        std::fs::read_to_string(s.ledger_path()).unwrap(),
        "garbage garbage garbage"
    );
}

#[test]
fn concurrent_chats_all_land_in_one_sqlite_ledger() {
    let s = sandbox();
    let r1 = "deepseek-ai/DeepSeek-R1";
    s.router.chat(
        r1,
        [Reply::chat_stream(r1, &[], &["ok"]).with_header("x-inference-provider", "together")],
    );
    let children: Vec<_> = (0..8)
        .map(|_| {
            s.cmd(&["-q", "chat", "hi"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let out = s
        .cmd(&["usage", "--json", "--by", "provider"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows["groups"][0]["provider"], "together");
    assert_eq!(rows["groups"][0]["requests"], 8);
}
