//! Who spent it, per request (issue 22, item 7; issue 20's route): every ledger row keeps
//! the request id (the client's `x-request-id`, echoed and forwarded, else the gateway's),
//! the end user (OpenAI's `user`, Anthropic's `metadata.user_id`), the `metadata` tags
//! (bounded) and the `--route` pattern; `hfclaw usage --by user|route|tag NAME` totals
//! them. Bodies reach the router byte for byte.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::Sandbox;
use common::gateway::Gateway;
use common::team::{QWEN, sandbox};
use hfclaw_accounting::{Ledger, LedgerSpec, Row, Tags};
use hfclaw_e2e::Reply;

const R1: &str = "deepseek-ai/DeepSeek-R1";
const KEYS: &str = "alice sk-alice-0001\nbob sk-bob-0002\n";

async fn send(
    gw: &Gateway,
    path: &str,
    key: &str,
    body: &str,
    request_id: Option<&str>,
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", gw.base()))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    (status, id)
}

fn rows(s: &Sandbox) -> Vec<Row> {
    let ledger = Ledger::open(&LedgerSpec::Sqlite(s.ledger_path())).unwrap();
    let mut rows = ledger.recent(100).unwrap();
    rows.reverse();
    ledger.close().unwrap();
    rows
}

fn is_uuid(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_keep_request_id_user_tags_and_route_and_usage_totals_them() {
    let s = sandbox();
    s.router
        .messages(QWEN, [Reply::messages_json(QWEN, "hi").via("together")])
        .responses(R1, [Reply::responses_json(R1, "hi").via("together")]);
    let keys = s.write_private("keys.txt", KEYS).display().to_string();
    let gw = Gateway::start(
        &s,
        &["--api-key-file", &keys, "--route", "claude-*haiku*=qwen"],
    );
    // Spacing, key order and a number wider than 64 bits: the router gets these bytes.
    let chat = r#"{ "model":"r1",  "user": "u-1", "seed": 123456789012345678901234567890,
        "metadata": {"team": "ml", "ticket": 42},
        "messages": [{"role": "user", "content": "hi"}] }"#;
    let (_, id) = send(
        &gw,
        "/v1/chat/completions",
        "sk-alice-0001",
        chat,
        Some("client-req-1"),
    )
    .await;
    assert_eq!(id, "client-req-1", "the client's id is echoed");
    let messages = r#"{"model": "claude-haiku-4-5", "max_tokens": 9,
        "metadata": {"user_id": "u-2"}, "messages": [{"role": "user", "content": "hi"}]}"#;
    let (_, made) = send(&gw, "/v1/messages", "sk-bob-0002", messages, None).await;
    assert!(is_uuid(&made), "the gateway makes one: {made}");
    let responses = r#"{"model": "r1", "user": "u-1", "metadata": {"team": "web"}, "input": "hi"}"#;
    send(
        &gw,
        "/v1/responses",
        "sk-alice-0001",
        responses,
        Some("resp-7"),
    )
    .await;
    // An id no header may carry is replaced; 20 tags are cut to 16, long values to 64 bytes.
    let members: Vec<String> = (0..20)
        .map(|i| format!("\"k{i:02}\": \"{}\"", "v".repeat(70)))
        .collect();
    let many = format!(
        r#"{{"model": "r1", "metadata": {{{}}}, "messages": [{{"role": "user", "content": "hi"}}]}}"#,
        members.join(", ")
    );
    let (_, replaced) = send(
        &gw,
        "/v1/chat/completions",
        "sk-bob-0002",
        &many,
        Some("has space"),
    )
    .await;
    assert!(is_uuid(&replaced) && replaced != made, "{replaced}");

    // The router got each request's id and the client's bytes (only `model` replaced).
    let sent = s.router.requests();
    let sent: Vec<_> = sent
        .iter()
        .filter(|r| r.route.starts_with("POST"))
        .collect();
    let ids: Vec<Option<&str>> = sent.iter().map(|r| r.header("x-request-id")).collect();
    assert_eq!(
        ids,
        [
            Some("client-req-1"),
            Some(made.as_str()),
            Some("resp-7"),
            Some(replaced.as_str())
        ]
    );
    assert_eq!(
        sent[0].body,
        chat.replace(r#""model":"r1""#, &format!(r#""model":"{R1}""#))
    );

    gw.signal("TERM");
    let (status, log) = gw.wait(Duration::from_secs(20));
    assert!(status.success(), "{log}");
    let rows = rows(&s);
    let seen: Vec<(Option<&str>, Option<&str>, Option<&str>)> = rows
        .iter()
        .map(|r| {
            (
                r.request_id.as_deref(),
                r.user.as_deref(),
                r.route.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (Some("client-req-1"), Some("u-1"), None),
            (Some(made.as_str()), Some("u-2"), Some("claude-*haiku*")),
            (Some("resp-7"), Some("u-1"), None),
            (Some(replaced.as_str()), None, None),
        ]
    );
    assert_eq!(rows[0].tags, Tags::from([("team", "ml"), ("ticket", "42")]));
    assert!(rows[1].tags.is_empty(), "user_id is the user, not a tag");
    assert_eq!(rows[2].tags, Tags::from([("team", "web")]));
    assert_eq!(rows[3].tags.len(), 16);
    assert_eq!(rows[3].tags.get("k15"), Some("v".repeat(64).as_str()));
    assert_eq!(rows[3].tags.get("k16"), None);

    insta::assert_snapshot!("by_user", s.run(&["usage", "--by", "user"]));
    insta::assert_snapshot!("by_tag", s.run(&["usage", "--by", "tag", "team"]));
    // Within one key: who spent alice's.
    insta::assert_snapshot!(
        "by_user_of_one_key",
        s.run(&["usage", "--by", "user", "--key", "alice"])
    );
    insta::assert_snapshot!("by_route", s.run(&["usage", "--by", "route"]));
    insta::assert_snapshot!(
        "by_tag_json",
        s.run(&["usage", "--by", "tag=team", "--json"])
    );
    insta::assert_snapshot!("by_tag_without_a_name", s.run(&["usage", "--by", "tag"]));
}
