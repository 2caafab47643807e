//! `hf auth login` tokens that expire: the real binary refreshes them against the fake
//! Hub's `POST /oauth/token` the way huggingface_hub does, shares the login with other
//! processes through `stored_tokens.lock`, says when a new login is needed, and a running
//! gateway picks up a refreshed or changed token without a restart.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::gateway::Gateway;
use common::{CHAIN_CONFIG, Sandbox};
use hfclaw_e2e::{Recorded, Reply};

const OLD: &str = "hf_oauthAccessOld0000000000000AAAA";
const NEW: &str = "hf_oauthAccessNew1111111111111BBBB";
const REFRESH: &str = "hf_oauthRefreshSecret22222222222CCCC";
const ROTATED: &str = "hf_oauthRefreshRotated3333333333DDDD";
const CLIENT_ID: &str = "26be6b09-91c5-47da-9861-d2d2bb7a7e36";
const MINUTE: i64 = 60;
const DAY: i64 = 86_400;

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

/// The Hugging Face CLI's directory in the sandbox (`$XDG_CACHE_HOME/huggingface`).
fn hf_dir(sandbox: &Sandbox) -> PathBuf {
    sandbox.home().join(".cache/huggingface")
}

/// What `hf auth login` (browser) leaves: the token file and its `stored_tokens` section,
/// beside a classic token saved under another name.
fn log_in(sandbox: &Sandbox, token: &str, refresh: &str, expires_at: i64) {
    let dir = hf_dir(sandbox);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("token"), token).unwrap();
    std::fs::write(
        dir.join("stored_tokens"),
        format!(
            "[oauth-alice]\nhf_token = {token}\nrefresh_token = {refresh}\nexpires_at = {expires_at}\n\n[work]\nhf_token = hf_classicWorkToken999999999\n\n"
        ),
    )
    .unwrap();
}

fn token_file(sandbox: &Sandbox) -> String {
    std::fs::read_to_string(hf_dir(sandbox).join("token")).unwrap()
}

fn stored_tokens(sandbox: &Sandbox) -> String {
    std::fs::read_to_string(hf_dir(sandbox).join("stored_tokens")).unwrap()
}

fn granted(access: &str, refresh: Option<&str>, expires_in: i64) -> Reply {
    let mut body = serde_json::json!({
        "access_token": access, "expires_in": expires_in, "token_type": "bearer"
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = refresh.into();
    }
    Reply::json(200, body.to_string())
}

fn refresh_calls(sandbox: &Sandbox) -> Vec<Recorded> {
    sandbox
        .router
        .requests()
        .into_iter()
        .filter(|r| r.route == "POST /oauth/token")
        .collect()
}

/// A login with 90 minutes left (due: less than a day) and a Hub that grants a new token
/// for 30 days less an hour ("29 days" however long a command takes) and a rotated
/// refresh token.
fn due_login(sandbox: &Sandbox) {
    log_in(sandbox, OLD, REFRESH, now() + 90 * MINUTE);
    sandbox.router.oauth_token(
        [granted(NEW, Some(ROTATED), 30 * DAY - 3600)],
        Duration::ZERO,
    );
}

/// A login with 90 minutes left and a Hub that grants one refresh (then says
/// `invalid_grant`) after 1.5 s: slow enough that two processes both find the login due
/// before either is done.
fn due_login_with_a_slow_hub(sandbox: &Sandbox) {
    log_in(sandbox, OLD, REFRESH, now() + 90 * MINUTE);
    sandbox.router.oauth_token(
        [
            granted(NEW, Some(ROTATED), 30 * DAY),
            Reply::json(400, r#"{"error":"invalid_grant"}"#),
        ],
        Duration::from_millis(1500),
    );
}

fn spawn_piped(mut command: std::process::Command) -> std::process::Child {
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// `hfclaw ARGS` with the token from the Hugging Face CLI's file only.
fn run(sandbox: &Sandbox, args: &[&str]) -> (Output, String) {
    let output = sandbox.cmd_without_token(args).output().unwrap();
    let text = sandbox.render(&output);
    assert_no_secret(&text);
    (output, text)
}

/// No refresh token ever, and access tokens only in their redacted form.
fn assert_no_secret(text: &str) {
    for secret in [OLD, NEW, REFRESH, ROTATED] {
        assert!(!text.contains(secret), "a secret leaked:\n{text}");
    }
    for part in ["RefreshSecret", "RefreshRotated"] {
        assert!(!text.contains(part), "a refresh token leaked:\n{text}");
    }
}

fn redacted(token: &str) -> String {
    format!("hf_…{}", &token[token.len() - 4..])
}

#[test]
fn hf_login_token_with_less_than_a_day_left_is_refreshed_before_use() {
    let sandbox = Sandbox::new();
    due_login(&sandbox);
    let (output, text) = run(&sandbox, &["models", "status"]);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "token      {} (from Hugging Face CLI token file [HOME]/.cache/huggingface/token)",
            redacted(NEW)
        )),
        "{text}"
    );
    assert!(
        text.contains("login      `oauth-alice` (hf auth login) expires in 29 days; refreshed automatically when less than a day is left"),
        "{text}"
    );
    assert!(
        text.contains("refreshed the Hugging Face login `oauth-alice` (hf auth login)"),
        "{text}"
    );
    // Exactly huggingface_hub's request.
    let calls = refresh_calls(&sandbox);
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].body,
        format!("grant_type=refresh_token&refresh_token={REFRESH}&client_id={CLIENT_ID}")
    );
    assert_eq!(
        calls[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    // Both files rewritten as hf writes them; the other login untouched.
    assert_eq!(token_file(&sandbox), NEW);
    let stored = stored_tokens(&sandbox);
    assert!(
        stored.starts_with(&format!(
            "[oauth-alice]\nhf_token = {NEW}\nrefresh_token = {ROTATED}\nexpires_at = "
        )),
        "{stored}"
    );
    assert!(
        stored.ends_with("\n\n[work]\nhf_token = hf_classicWorkToken999999999\n\n"),
        "{stored}"
    );
    assert!(hf_dir(&sandbox).join("stored_tokens.lock").exists());
    // Good for 30 days: the next command asks nothing.
    let (_, text) = run(&sandbox, &["models", "status"]);
    assert!(text.contains(&redacted(NEW)), "{text}");
    assert_eq!(refresh_calls(&sandbox).len(), 1);
}

#[test]
fn hf_login_refresh_without_a_rotated_token_keeps_the_old_one() {
    let sandbox = Sandbox::new();
    log_in(&sandbox, OLD, REFRESH, now() - MINUTE);
    sandbox
        .router
        .oauth_token([granted(NEW, None, 8 * 3600)], Duration::ZERO);
    let (output, text) = run(&sandbox, &["models", "status", "--json"]);
    assert!(output.status.success(), "{text}");
    assert!(
        stored_tokens(&sandbox).starts_with(&format!(
            "[oauth-alice]\nhf_token = {NEW}\nrefresh_token = {REFRESH}\nexpires_at = "
        )),
        "{}",
        stored_tokens(&sandbox)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let login = &json["token"]["login"];
    assert_eq!(login["name"], "oauth-alice");
    assert_eq!(login["expired"], false);
    assert_eq!(login["refreshable"], true);
    assert!(
        login["expires_at"].as_str().unwrap().ends_with('Z'),
        "{login}"
    );
}

#[test]
fn hf_login_invalid_grant_says_run_hf_auth_login() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHAIN_CONFIG);
    log_in(&sandbox, OLD, REFRESH, now() + 90 * MINUTE);
    sandbox.router.oauth_token(
        [Reply::json(
            400,
            format!(
                r#"{{"error":"invalid_grant","error_description":"refresh token {REFRESH} revoked"}}"#
            ),
        )],
        Duration::ZERO,
    );
    let (output, text) = run(&sandbox, &["models", "status"]);
    assert!(output.status.success(), "{text}");
    let warning = "warning: the Hugging Face login `oauth-alice` cannot be refreshed (the session expired or was revoked) and its token stops working in 1 h: run `hf auth login`";
    assert_eq!(text.matches(warning).count(), 1, "one warning:\n{text}");
    assert!(
        text.contains("login      `oauth-alice` (hf auth login) has expired: the session expired or was revoked; run `hf auth login`"),
        "{text}"
    );
    assert!(
        text.contains("- the Hugging Face login `oauth-alice` (hf auth login) has expired"),
        "{text}"
    );
    assert_eq!(token_file(&sandbox), OLD, "nothing rewritten");

    let (output, text) = run(&sandbox, &["doctor"]);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("✗ login   `oauth-alice` (hf auth login) has expired: the session expired or was revoked; run `hf auth login`"),
        "{text}"
    );
    assert_eq!(text.matches(warning).count(), 1, "{text}");
}

#[test]
fn hf_login_hub_error_keeps_the_token_and_warns_once() {
    let sandbox = Sandbox::new();
    log_in(&sandbox, OLD, REFRESH, now() + 90 * MINUTE);
    sandbox.router.oauth_token(
        [Reply::json(500, "<html>Internal Server Error</html>")],
        Duration::ZERO,
    );
    let (output, text) = run(&sandbox, &["models", "status"]);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("warning: could not refresh the Hugging Face login `oauth-alice`: the Hub's answer (HTTP 500) is not an OAuth token answer; trying again in 5 min"),
        "{text}"
    );
    assert!(text.contains(&redacted(OLD)), "{text}");
    assert!(
        text.contains(
            "login      `oauth-alice` (hf auth login) expires in 1 h; refreshing it failed"
        ),
        "{text}"
    );
    assert_eq!(token_file(&sandbox), OLD);
}

#[test]
fn hf_login_two_processes_refreshing_at_once_make_one_call() {
    let sandbox = Sandbox::new();
    due_login_with_a_slow_hub(&sandbox);
    let children: Vec<_> = (0..2)
        .map(|_| spawn_piped(sandbox.cmd_without_token(&["models", "status", "--json"])))
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    assert_eq!(refresh_calls(&sandbox).len(), 1, "one refresh for both");
    let mut refreshed = 0;
    for output in &outputs {
        let text = sandbox.render(output);
        assert_no_secret(&text);
        assert!(output.status.success(), "{text}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(json["token"]["redacted"], redacted(NEW).as_str(), "{text}");
        refreshed += usize::from(text.contains("refreshed the Hugging Face login"));
    }
    assert_eq!(refreshed, 1, "the other process adopted the refresh");
    assert_eq!(token_file(&sandbox), NEW);
}

#[test]
fn hf_login_secrets_stay_out_of_verbose_logs() {
    let sandbox = Sandbox::new();
    due_login(&sandbox);
    let (output, text) = run(&sandbox, &["-vv", "models", "status"]);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("refreshed"), "{text}");
    // A Hub that echoes the secrets in its error: still nothing in the log or the error.
    let sandbox = Sandbox::new();
    log_in(&sandbox, OLD, REFRESH, now() - MINUTE);
    sandbox.router.oauth_token(
        [Reply::json(
            400,
            format!(
                r#"{{"error":"invalid_request","error_description":"bad refresh_token={REFRESH} for {OLD}"}}"#
            ),
        )],
        Duration::ZERO,
    );
    sandbox.write_config(CHAIN_CONFIG);
    let (_, text) = run(&sandbox, &["-vv", "doctor"]);
    assert!(text.contains("could not refresh"), "{text}");
    let (_, text) = run(&sandbox, &["-vv", "chat", "hello"]);
    assert!(text.contains("could not refresh"), "{text}");
}

/// Sends one chat request through the gateway; returns the `Authorization` the fake
/// router saw for it.
fn bearer_through(gateway: &Gateway, sandbox: &Sandbox) -> String {
    let before = sandbox.router.chat_models().len();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/chat/completions", gateway.v1()))
            .header("content-type", "application/json")
            .body(r#"{"model":"r1","messages":[{"role":"user","content":"hi"}]}"#)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    let chats: Vec<Recorded> = sandbox
        .router
        .requests()
        .into_iter()
        .filter(|r| r.route == "POST /v1/chat/completions")
        .collect();
    assert_eq!(chats.len(), before + 1);
    chats[before]
        .header("authorization")
        .unwrap_or_default()
        .to_owned()
}

/// Asks until the router sees `Bearer {token}` (at most 30 s).
fn wait_for_bearer(gateway: &Gateway, sandbox: &Sandbox, token: &str) {
    let started = Instant::now();
    loop {
        if bearer_through(gateway, sandbox) == format!("Bearer {token}") {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the gateway never used {}:\n{}",
            redacted(token),
            gateway.stderr_text()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn gateway_picks_up_a_refreshed_or_changed_login_without_restarting() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHAIN_CONFIG);
    sandbox
        .router
        .answer_any(|model| format!("hello from {model}"));
    // Due in 8 s: the gateway starts with OLD, then its timer refreshes it.
    log_in(&sandbox, OLD, REFRESH, now() + DAY + 8);
    sandbox
        .router
        .oauth_token([granted(NEW, Some(ROTATED), 30 * DAY)], Duration::ZERO);
    let gateway = Gateway::start_without_token(&sandbox, &[]);
    assert_eq!(bearer_through(&gateway, &sandbox), format!("Bearer {OLD}"));
    wait_for_bearer(&gateway, &sandbox, NEW);
    assert_eq!(refresh_calls(&sandbox).len(), 1);
    assert_eq!(token_file(&sandbox), NEW);
    // `hf auth login` elsewhere (another account, a classic token): picked up too.
    std::fs::write(
        hf_dir(&sandbox).join("token"),
        "hf_classicWorkToken999999999",
    )
    .unwrap();
    wait_for_bearer(&gateway, &sandbox, "hf_classicWorkToken999999999");
    let log = gateway.stderr_text();
    assert_no_secret(&log);
    assert_eq!(
        log.matches("refreshed the Hugging Face login `oauth-alice` (hf auth login)")
            .count(),
        1,
        "{log}"
    );
    assert_eq!(refresh_calls(&sandbox).len(), 1);
}

#[test]
fn gateway_warns_once_when_the_login_cannot_be_refreshed() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHAIN_CONFIG);
    sandbox
        .router
        .answer_any(|model| format!("hello from {model}"));
    log_in(&sandbox, OLD, REFRESH, now() + 90 * MINUTE);
    sandbox.router.oauth_token(
        [Reply::json(400, r#"{"error":"invalid_grant"}"#)],
        Duration::ZERO,
    );
    let gateway = Gateway::start_without_token(&sandbox, &[]);
    // It keeps serving with the token it has (valid for another 90 minutes).
    assert_eq!(bearer_through(&gateway, &sandbox), format!("Bearer {OLD}"));
    // A reload (config touched) does not ask or warn again.
    sandbox.write_config(&format!("{CHAIN_CONFIG}\n"));
    let started = Instant::now();
    while !gateway.stderr_text().contains("reloaded") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            gateway.stderr_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = gateway.stderr_text();
    assert_eq!(
        log.matches("run `hf auth login`").count(),
        1,
        "one warning:\n{log}"
    );
    assert_eq!(refresh_calls(&sandbox).len(), 1);
}

// --- With huggingface_hub itself (the venv of `cargo xtask ci`) as the other process.

/// The venv's python (with huggingface_hub): these tests are `#[ignore]`d, and `cargo
/// xtask ci` runs them with `--ignored` in its venv, as it does the SDK tests.
fn python() -> PathBuf {
    common::test_python("huggingface_hub tests")
}

/// `python tests/sdk/hf_login.py ARGS` with huggingface_hub pointed at the sandbox.
fn hf_python(sandbox: &Sandbox, python: &PathBuf, args: &[&str]) -> std::process::Command {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sdk/hf_login.py");
    let mut command = std::process::Command::new(python);
    command
        .arg(script)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sandbox.home())
        .env("HF_HOME", hf_dir(sandbox))
        .env("HF_ENDPOINT", sandbox.router.hub_url())
        .env("HF_HUB_DISABLE_TELEMETRY", "1");
    command
}

fn python_token(sandbox: &Sandbox, python: &PathBuf) -> String {
    let output = hf_python(sandbox, python, &["get_token"]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
#[ignore = "needs the Python SDK venv: run through `cargo xtask ci`"]
fn huggingface_hub_reads_what_hfclaw_refreshed() {
    let python = python();
    let sandbox = Sandbox::new();
    due_login(&sandbox);
    let (output, text) = run(&sandbox, &["models", "status"]);
    assert!(output.status.success(), "{text}");
    // huggingface_hub parses our stored_tokens, finds the login fresh, asks nothing.
    assert_eq!(python_token(&sandbox, &python), NEW);
    assert_eq!(refresh_calls(&sandbox).len(), 1);
}

#[test]
#[ignore = "needs the Python SDK venv: run through `cargo xtask ci`"]
fn hfclaw_reads_what_huggingface_hub_refreshed() {
    let python = python();
    let sandbox = Sandbox::new();
    due_login(&sandbox);
    assert_eq!(python_token(&sandbox, &python), NEW);
    let calls = refresh_calls(&sandbox);
    assert_eq!(calls.len(), 1);
    // The same request hfclaw sends.
    assert_eq!(
        calls[0].body,
        format!("grant_type=refresh_token&refresh_token={REFRESH}&client_id={CLIENT_ID}")
    );
    let (_, text) = run(&sandbox, &["models", "status"]);
    assert!(text.contains(&redacted(NEW)), "{text}");
    assert!(text.contains("expires in 29 days"), "{text}");
    assert_eq!(refresh_calls(&sandbox).len(), 1);
}

#[test]
#[ignore = "needs the Python SDK venv: run through `cargo xtask ci`"]
fn huggingface_hub_and_hfclaw_refreshing_at_once_make_one_call() {
    let python = python();
    let sandbox = Sandbox::new();
    due_login_with_a_slow_hub(&sandbox);
    let hf = spawn_piped(hf_python(&sandbox, &python, &["get_token"]));
    let hfclaw = spawn_piped(sandbox.cmd_without_token(&["models", "status", "--json"]));
    let hf = hf.wait_with_output().unwrap();
    let hfclaw = hfclaw.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&hf.stdout).trim(), NEW);
    let json: serde_json::Value = serde_json::from_slice(&hfclaw.stdout).unwrap();
    assert_eq!(json["token"]["redacted"], redacted(NEW).as_str());
    assert_eq!(refresh_calls(&sandbox).len(), 1, "one refresh for both");
}

#[test]
#[ignore = "needs the Python SDK venv: run through `cargo xtask ci`"]
fn hfclaw_waits_for_huggingface_hubs_lock() {
    use std::io::BufRead;
    let python = python();
    let sandbox = Sandbox::new();
    due_login(&sandbox);
    let mut holder = hf_python(&sandbox, &python, &["hold_lock", "2"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(holder.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "locked");
    let started = Instant::now();
    let (output, text) = run(&sandbox, &["models", "status"]);
    let waited = started.elapsed();
    assert!(output.status.success(), "{text}");
    assert!(holder.wait().unwrap().success());
    assert!(
        waited >= Duration::from_millis(1500),
        "hfclaw did not wait for filelock's lock ({waited:?})"
    );
    assert!(text.contains(&redacted(NEW)), "{text}");
    assert_eq!(refresh_calls(&sandbox).len(), 1);
}
