//! Client keys in the ledger database (issue 22): made, listed, updated and revoked with
//! `hfclaw keys`, honoured by a running gateway within 5 s without a restart; unknown,
//! revoked and expired keys get 401 and other models 403 in each API's envelope; the
//! status page and `/metrics` need an admin key; a key file others can read, or one key
//! under two labels, is refused. The key itself is never in the database.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::Sandbox;
use common::gateway::Gateway;
use common::team::{chat, key_lifecycle, ok, post, sandbox, until_status};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_made_updated_and_revoked_take_effect_on_a_running_gateway() {
    let s = sandbox();
    // No key anywhere yet: the gateway lets requests through.
    let gw = Gateway::start(&s, &[]);
    assert_eq!(
        post(&gw, "/v1/chat/completions", "", chat("r1")).await.0,
        200
    );
    key_lifecycle(&s, &[], &[&gw]).await;
    // The SQLite file holds hashes, never a key.
    let list = ok(&s, &["keys", "list", "--json"]);
    assert!(list.contains("\"prefix\": \"hfk_"));
    drop(gw);
    let mut bytes = std::fs::read(s.ledger_path()).unwrap();
    bytes.extend(std::fs::read(s.ledger_path().with_extension("sqlite3-wal")).unwrap_or_default());
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("alice"));
    for word in text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
        assert!(
            !(word.starts_with("hfk_") && word.len() > 12),
            "a key in the database: {word}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_key_is_refused_saying_so() {
    let s = sandbox();
    let key = ok(&s, &["keys", "create", "temp", "--expires", "2s"])
        .trim()
        .to_owned();
    let gw = Gateway::start(&s, &[]);
    assert_eq!(
        post(&gw, "/v1/chat/completions", &key, chat("r1")).await.0,
        200
    );
    until_status(
        Duration::from_secs(5),
        async || post(&gw, "/v1/chat/completions", &key, chat("r1")).await.0,
        401,
    )
    .await;
    let (_, body) = post(
        &gw,
        "/v1/messages",
        &key,
        json!({"model": "r1", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(body["error"]["type"], "authentication_error", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"temp\" expired"),
        "{body}"
    );
}

#[test]
fn key_commands_refuse_bad_input() {
    let s = Sandbox::new();
    insta::assert_snapshot!(s.run(&["keys", "list"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: no client keys in this ledger yet
    hint: make one with `hfclaw keys create LABEL`
    ");
    assert!(s.run(&["keys", "create", "al ice"]).starts_with("exit: 2"));
    assert!(
        s.run(&["keys", "create", "bob", "--expires", "yesterday-ish"])
            .starts_with("exit: 2")
    );
    assert!(
        s.run(&["keys", "create", "bob", "--rpm", "-1"])
            .starts_with("exit: 2")
    );
    ok(&s, &["keys", "create", "bob"]);
    let out = s.run(&["keys", "create", "bob"]);
    assert!(
        out.starts_with("exit: 1") && out.contains("a client key labelled \"bob\" exists already"),
        "{out}"
    );
    let out = s.run(&["keys", "revoke", "carol"]);
    assert!(out.contains("no client key is labelled \"carol\""), "{out}");
    ok(
        &s,
        &[
            "budget",
            "set",
            "--usd-per-day",
            "20",
            "--usd-per-month",
            "300",
        ],
    );
    assert!(
        s.run(&["budget", "set", "--usd-per-day", "lots"])
            .starts_with("exit: 2")
    );
}

#[test]
fn key_files_others_can_read_or_with_one_key_twice_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let s = Sandbox::new();
    let path = s.write_private("keys.txt", "alice sk-1\nbob sk-1\n");
    let file = path.display().to_string();
    let out = s.run(&["serve", "--api-key-file", &file]);
    assert!(out.starts_with("exit: 2"), "{out}");
    assert!(
        out.contains("one client key is given under two labels, \"alice\" and \"bob\""),
        "{out}"
    );
    std::fs::write(&path, "alice sk-1\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = s.run(&["serve", "--api-key-file", &file]);
    assert!(out.contains("readable by group and others"), "{out}");
    assert!(
        out.contains("hint: run `chmod 600 [HOME]/keys.txt`"),
        "{out}"
    );
    let out = s.run(&["keys", "import", &file]);
    assert!(
        out.starts_with("exit: 2") && out.contains("chmod 600"),
        "{out}"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = s.run(&["keys", "import", &file]);
    assert!(
        out.starts_with("exit: 0") && out.contains("imported 1 key(s)"),
        "{out}"
    );
    let out = s.run(&["keys", "import", &file]);
    assert!(
        out.contains("imported 0 key(s)") && out.contains("1 were there already"),
        "{out}"
    );
    let list = ok(&s, &["keys", "list", "--json"]);
    assert!(
        list.contains("\"prefix\": \"sha256:") && !list.contains("sk-1"),
        "{list}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_sees_its_own_limits_spend_and_what_is_left() {
    let s = sandbox();
    let key = ok(
        &s,
        &[
            "keys",
            "create",
            "alice",
            "--budget-usd-per-day",
            "1",
            "--budget-usd-per-month",
            "10",
            "--rpm",
            "60",
        ],
    )
    .trim()
    .to_owned();
    ok(&s, &["budget", "set", "--usd-per-day", "20"]);
    let gw = Gateway::start(&s, &[]);
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{}/v1/chat/completions", gw.base()))
        .bearer_auth(&key)
        .json(&chat("r1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // One answer at together's price ($0.000064) off the key's $1 a day, the least left.
    let left = response.headers()["x-hfclaw-budget-remaining-usd"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(left, "0.999936");
    let me: serde_json::Value = client
        .get(format!("{}/v1/hfclaw/me", gw.base()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["label"], "alice");
    assert_eq!(me["limits"]["rpm"], 60);
    let budgets: Vec<(&str, f64, f64)> = me["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["budget"].as_str().unwrap(),
                b["limit_usd"].as_f64().unwrap(),
                b["spent_usd"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        budgets,
        [
            ("the daily budget", 20.0, 0.000064),
            ("the daily budget of key \"alice\"", 1.0, 0.000064),
            ("the monthly budget of key \"alice\"", 10.0, 0.000064),
        ]
    );
    assert_eq!(me["remaining_usd"], 0.999936);
    // Without a key: 401 like any route.
    let status = client
        .get(format!("{}/v1/hfclaw/me", gw.base()))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_tokens_per_minute_per_key() {
    let s = sandbox();
    let rpm = ok(&s, &["keys", "create", "slow", "--rpm", "2"])
        .trim()
        .to_owned();
    let tpm = ok(&s, &["keys", "create", "thrifty", "--tpm", "20"])
        .trim()
        .to_owned();
    let gw = Gateway::start(&s, &[]);
    let client = reqwest::Client::new();
    let ask = async |key: &str| {
        let response = client
            .post(format!("{}/v1/chat/completions", gw.base()))
            .bearer_auth(key)
            .json(&chat("r1"))
            .send()
            .await
            .unwrap();
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        (
            status,
            retry,
            body["error"]["code"].as_str().map(str::to_owned),
        )
    };
    assert_eq!(ask(&rpm).await.0, 200);
    assert_eq!(ask(&rpm).await.0, 200);
    let (status, retry, code) = ask(&rpm).await;
    assert_eq!(
        (status, code.as_deref()),
        (429, Some("key_rate_limit_exceeded"))
    );
    assert!(retry.is_some_and(|s| (1..=60).contains(&s)), "{retry:?}");
    // 12 tokens an answer: the third request finds 24 of 20 used.
    assert_eq!(ask(&tpm).await.0, 200);
    assert_eq!(ask(&tpm).await.0, 200);
    let (status, _, code) = ask(&tpm).await;
    assert_eq!(
        (status, code.as_deref()),
        (429, Some("key_rate_limit_exceeded"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_on_the_command_line_is_warned_about() {
    let s = sandbox();
    let gw = Gateway::start(&s, &["--api-key", "sk-visible-in-ps"]);
    assert_eq!(
        post(&gw, "/v1/chat/completions", "sk-visible-in-ps", chat("r1"))
            .await
            .0,
        200
    );
    let log = gw.stderr_text();
    assert!(
        log.contains("warning: --api-key on the command line is visible to every user"),
        "{log}"
    );
    assert!(!log.contains("sk-visible-in-ps"), "{log}");
}
