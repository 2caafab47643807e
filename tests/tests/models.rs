//! `hfclaw models list` and `doctor` with live data from the fake router, and the cache.

#![allow(clippy::unwrap_used)]

mod common;

use common::Sandbox;
use hfclaw_e2e::Reply;

const ROUTER_LIST: &str = include_str!("../fixtures/router-models-synthetic.json");

#[test]
fn live_list_is_fetched_cached_and_reused_offline() {
    let s = Sandbox::new();
    s.router
        .models(Reply::json(200, ROUTER_LIST).with_header("etag", "\"v1\""));
    let live = s.run(&["models", "list", "--search", "DeepSeek-R1"]);
    insta::assert_snapshot!(live);
    assert!(s.home().join(".cache/hfclaw/models.json").exists());
    let fetches = || {
        s.router
            .requests()
            .iter()
            .filter(|r| r.route == "GET /v1/models")
            .count()
    };
    assert_eq!(fetches(), 1);
    // Fresh cache: no second fetch; --offline reads the cache too.
    let again = s.run(&["models", "list", "--search", "DeepSeek-R1"]);
    assert_eq!(again, live);
    assert_eq!(
        s.run(&["--offline", "models", "list", "--search", "DeepSeek-R1"]),
        live
    );
    assert_eq!(fetches(), 1);
    // --refresh revalidates with the ETag.
    s.router.models(Reply::json(304, ""));
    assert_eq!(
        s.run(&["models", "list", "--refresh", "--search", "DeepSeek-R1"]),
        live
    );
    let last = s.router.requests().into_iter().last().unwrap();
    assert_eq!(last.header("if-none-match"), Some("\"v1\""));
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
