//! `hfclaw models list` and `doctor` with live data from the fake router, and the cache.

#![allow(clippy::unwrap_used)]

mod common;

use common::Sandbox;
use hfclaw_e2e::Reply;

const ROUTER_LIST: &str = include_str!("../fixtures/router-models-synthetic.json");
/// A real router answer (pydantic/genai-prices' trimmed capture): it carries throughput.
const REAL_EXCERPT: &str = include_str!(
    "../../crates/catalog/tests/fixtures/real/router-models-genai-prices-fixture.json"
);

#[test]
fn live_list_is_fetched_cached_and_reused_offline() {
    let s = Sandbox::new();
    s.router
        .models(Reply::json(200, ROUTER_LIST).with_header("etag", "\"v1\""));
    let live = s.run(&["models", "list", "--search", "DeepSeek-R1"]);
    insta::assert_snapshot!(live);
    assert!(s.home().join(".cache/hfclaw/models.json").exists());
    assert!(
        !live.contains("catalog:"),
        "live data needs no source line: {live}"
    );
    // Fresh cache: no second fetch; --offline reads the cache too. Both say so.
    let again = s.run(&["models", "list", "--search", "DeepSeek-R1"]);
    assert_eq!(stdout(&again), stdout(&live));
    assert!(again.contains("\ncatalog: cached "), "{again}");
    let offline = s.run(&["--offline", "models", "list", "--search", "DeepSeek-R1"]);
    assert_eq!(stdout(&offline), stdout(&live));
    assert!(offline.contains(" ago (--offline)\n"), "{offline}");
    assert_eq!(fetches(&s), 1);
    // --refresh revalidates with the ETag.
    s.router.models(Reply::json(304, ""));
    let refreshed = s.run(&["models", "list", "--refresh", "--search", "DeepSeek-R1"]);
    assert_eq!(stdout(&refreshed), stdout(&live));
    let last = s.router.requests().into_iter().last().unwrap();
    assert_eq!(last.header("if-none-match"), Some("\"v1\""));
}

/// The stdout part of a rendered run.
fn stdout(rendered: &str) -> &str {
    rendered.split("--- stderr").next().unwrap_or_default()
}

fn fetches(s: &Sandbox) -> usize {
    s.router
        .requests()
        .iter()
        .filter(|r| r.route == "GET /v1/models")
        .count()
}

#[test]
fn a_failed_fetch_is_not_repeated_by_the_next_commands() {
    let s = Sandbox::new();
    s.router.models(Reply::json(503, "down"));
    let first = s.run(&["models", "list", "--search", "Kimi-K3"]);
    assert_eq!(fetches(&s), 1);
    let next = s.run(&["models", "show", "moonshotai/Kimi-K3"]);
    let status = s.run(&["models", "status"]);
    assert_eq!(
        fetches(&s),
        1,
        "the failure is remembered: no second request"
    );
    // The wait left depends on how long the first command took.
    insta::with_settings!({filters => vec![(r"failed \d+ s ago; next try in [^,]+,", "failed [N] s ago; next try in [N],")]}, {
        insta::assert_snapshot!(format!("{first}\n{next}"));
    });
    assert!(
        status.contains(
            "catalog    built-in snapshot of 2026-07-27, [N] days old (the last fetch failed "
        ),
        "{status}"
    );
    // --refresh always asks.
    s.run(&["models", "list", "--refresh", "--search", "Kimi-K3"]);
    assert_eq!(fetches(&s), 2);
}

#[test]
fn a_shrunken_list_does_not_replace_a_good_cache() {
    let s = Sandbox::new();
    s.router.models(Reply::json(200, ROUTER_LIST));
    s.run(&["models", "list"]);
    // Age the cache past its hour, then let the router answer with one model.
    let cache = s.home().join(".cache/hfclaw/models.json");
    let mut disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    let two_hours_ago = disk["fetched_at"].as_u64().unwrap() - 2 * 3_600;
    disk["fetched_at"] = two_hours_ago.into();
    std::fs::write(&cache, disk.to_string()).unwrap();
    s.router.models(Reply::json(
        200,
        r#"{"object":"list","data":[{"id":"only/One-1B","providers":[{"provider":"p","status":"live"}]}]}"#,
    ));
    insta::assert_snapshot!(s.run(&["models", "list", "--search", "DeepSeek-R1"]));
    // --refresh skips the wait, not the guard (issue 19, defect 14).
    let forced = s.run(&["models", "list", "--refresh", "--all"]);
    assert!(!forced.contains("huggingface/only/One-1B"), "{forced}");
    assert!(
        forced.contains("fewer than half of the 17 cached; kept the cached list"),
        "{forced}"
    );
}

#[test]
fn show_marks_what_each_suffix_picks_from_live_data() {
    let s = Sandbox::new();
    s.router.models(Reply::json(200, REAL_EXCERPT));
    insta::assert_snapshot!(s.run(&["models", "show", "moonshotai/Kimi-K3"]));
    insta::assert_snapshot!(s.run(&[
        "models",
        "show",
        "--refresh",
        "huggingface/zai-org/GLM-5.2:together"
    ]));
}

#[test]
fn router_failure_falls_back_to_builtin_with_a_warning() {
    let s = Sandbox::new();
    s.router.models(Reply::json(500, "oops"));
    insta::assert_snapshot!(s.run(&["models", "list", "--search", "Kimi"]));
}

#[test]
fn garbage_list_is_a_warning_not_a_crash() {
    let s = Sandbox::new();
    s.router.models(Reply::json(200, "<html>not json</html>"));
    let out = s.run(&["models", "list", "--search", "Kimi"]);
    assert!(out.starts_with("exit: 0"), "{out}");
    assert!(out.contains("warning:"), "{out}");
}

#[test]
fn doctor_reports_each_check() {
    let s = Sandbox::new();
    s.write_config(
        r#"{ agents: { defaults: { model: { primary: "huggingface/deepseek-ai/DeepSeek-R1:together",
                                            fallbacks: ["huggingface/Qwen/Qwen3-8B:nosuchprovider"] } } } }"#,
    );
    s.router.models(Reply::json(200, ROUTER_LIST)).whoami(Reply::json(
        200,
        r#"{"name":"alice","auth":{"accessToken":{"role":"fineGrained","fineGrained":{"scoped":[],"global":["inference.serverless.write"]}}}}"#,
    ));
    insta::assert_snapshot!(s.run(&["doctor"]));
}

#[test]
fn doctor_flags_a_rejected_token() {
    let s = Sandbox::new();
    s.write_config(r#"{ agents: { defaults: { model: "huggingface/deepseek-ai/DeepSeek-R1" } } }"#);
    s.router.models(Reply::json(200, ROUTER_LIST));
    insta::assert_snapshot!(s.run(&["doctor"]));
}

/// One model, three providers: `fast` (highest throughput), `cheap`, `broken` (error).
const PRICED: &str = r#"{"object":"list","data":[{"id":"acme/Chat-1","owned_by":"acme","providers":[
  {"provider":"fast","status":"live","context_length":131072,"pricing":{"input":1,"output":7},"throughput":300},
  {"provider":"cheap","status":"live","context_length":32768,"pricing":{"input":0.2,"output":0.7},"throughput":20},
  {"provider":"broken","status":"error","context_length":8192,"pricing":{"input":0.1,"output":0.1}}]}]}"#;

/// A ref is priced at the provider it reaches, everywhere: the bare ref at the fastest
/// provider (with the context every provider can hold, and the pick's own), `:cheap` at
/// that one; a pin no live provider serves has no price and says why; a pin the list
/// lacks is refused with the nearest one, by `models show` and `models set` alike.
#[test]
fn a_ref_is_priced_at_the_provider_it_reaches() {
    let s = Sandbox::new();
    s.router.models(Reply::json(200, PRICED));
    insta::assert_snapshot!(s.run(&["models", "list", "--search", "Chat-1"]));
    insta::assert_snapshot!(s.run(&["models", "show", "acme/Chat-1"]));
    insta::assert_snapshot!(s.run(&["models", "show", "acme/Chat-1:cheap"]));
    insta::assert_snapshot!(s.run(&["models", "show", "acme/Chat-1:broken"]));
    insta::assert_snapshot!(s.run(&["models", "show", "acme/Chat-1:chep"]));
    let set = s.run(&["models", "set", "acme/Chat-1:chep"]);
    assert!(set.starts_with("exit: 2"), "{set}");
    assert!(
        set.contains("did you mean \"huggingface/acme/Chat-1:cheap\"?"),
        "{set}"
    );
    assert!(!s.config_path().exists(), "{set}");
}
