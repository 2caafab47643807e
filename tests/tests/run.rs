//! `hfclaw run AGENT [ARGS…]` with fake agents: shell scripts named `claude` and `codex`
//! on `PATH` that print their arguments and environment and call the gateway with curl,
//! against the loopback fake router — with no gateway running beforehand (one is started
//! for the agent, with a one-time key) and with a running gateway (the service's address
//! in its unit file) reused; exit codes and signals pass through.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::gateway::Gateway;
use common::{R1_CONFIG as CONFIG, R1_LIVE_MODELS as LIVE_MODELS, Sandbox};
use hfclaw_e2e::Reply;

const R1: &str = "deepseek-ai/DeepSeek-R1";

/// Claude Code as far as the gateway can tell: its arguments and environment, one
/// Messages request for one of its own model names with what `ANTHROPIC_*` says (the
/// gateway's built-in routes send it to the default), the answer's text; exit
/// `$FAKE_EXIT`.
const FAKE_CLAUDE: &str = r#"#!/bin/sh
printf 'args:'; for a in "$@"; do printf ' [%s]' "$a"; done; echo
echo "ANTHROPIC_BASE_URL=$ANTHROPIC_BASE_URL"
echo "ANTHROPIC_AUTH_TOKEN=$ANTHROPIC_AUTH_TOKEN"
echo "ANTHROPIC_API_KEY=${ANTHROPIC_API_KEY-unset}"
curl -sS -X POST "$ANTHROPIC_BASE_URL/v1/messages" \
  -H "authorization: Bearer $ANTHROPIC_AUTH_TOKEN" -H "content-type: application/json" \
  -H "anthropic-version: 2023-06-01" \
  -d '{"model":"claude-sonnet-5-5","max_tokens":16,"messages":[{"role":"user","content":"say hi"}]}' \
  | sed 's/.*"text":"\([^"]*\)".*/answer: \1/'
echo
exit "${FAKE_EXIT:-0}"
"#;

/// Codex as far as the gateway can tell: its `-c` overrides name the provider; one
/// Responses request to its `base_url` with the key from its `env_key`.
const FAKE_CODEX: &str = r#"#!/bin/sh
printf 'args:'; for a in "$@"; do printf ' [%s]' "$a"; done; echo
echo "HFCLAW_API_KEY=$HFCLAW_API_KEY"
base=$(printf '%s\n' "$@" | sed -n 's/^model_providers.hfclaw.base_url="\(.*\)"$/\1/p')
curl -sS -X POST "$base/responses" \
  -H "authorization: Bearer $HFCLAW_API_KEY" -H "content-type: application/json" \
  -d '{"model":"default","input":"say hi"}' \
  | sed 's/.*"text":"\([^"]*\)".*/answer: \1/'
echo
"#;

/// An agent that waits for a signal: says `ready`, then on SIGTERM or SIGINT says so and
/// exits 42.
const FAKE_WAITING: &str = r#"#!/bin/sh
trap 'echo "got TERM"; exit 42' TERM
trap 'echo "got INT"; exit 42' INT
echo ready
while :; do sleep 0.05; done
"#;

/// A sandbox with the config, live prices, a directory of fake agents on `PATH`, and a
/// service unit whose `--listen` is `listen` (where `hfclaw run` looks for a gateway).
struct RunSandbox {
    sandbox: Sandbox,
    bin: PathBuf,
}

impl RunSandbox {
    fn new() -> RunSandbox {
        let sandbox = Sandbox::new();
        sandbox.write_config(CONFIG);
        sandbox.cache_live_models(LIVE_MODELS);
        let bin = sandbox.home().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let run = RunSandbox { sandbox, bin };
        // Where nothing listens: a port just freed.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap().to_string();
        drop(closed);
        run.service(&["--listen", &addr]);
        run
    }

    fn agent(&self, name: &str, script: &str) {
        let path = self.bin.join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// An installed service running `hfclaw serve FLAGS` (its unit file; systemd need
    /// not run it).
    fn service(&self, flags: &[&str]) {
        let dir = self.sandbox.home().join(".config/systemd/user");
        std::fs::create_dir_all(&dir).unwrap();
        let unit = format!(
            "[Service]\nExecStart=/usr/local/bin/hfclaw serve {}\n",
            flags.join(" ")
        );
        std::fs::write(dir.join("hfclaw.service"), unit).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.sandbox.cmd(args);
        cmd.env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()));
        cmd
    }

    /// Exit code and output with the sandbox, ports and the one-time key redacted.
    fn run(&self, cmd: &mut Command) -> String {
        let output = cmd.output().unwrap();
        redact(&self.sandbox.render(&output))
    }
}

/// `127.0.0.1:NNNN` → `127.0.0.1:[PORT]`; `hfk_<hex>` (a key hfclaw made) → `[ONE-TIME KEY]`.
fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = [
            ("127.0.0.1:", "127.0.0.1:[PORT]"),
            ("hfk_", "[ONE-TIME KEY]"),
        ]
        .into_iter()
        .filter_map(|(needle, shown)| rest.find(needle).map(|i| (i, needle, shown)))
        .min_by_key(|(i, _, _)| *i);
        let Some((i, needle, shown)) = next else {
            break;
        };
        out.push_str(&rest[..i]);
        out.push_str(shown);
        rest = rest[i + needle.len()..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
    }
    out.push_str(rest);
    out
}

#[test]
fn run_claude_starts_a_gateway_for_the_agent_and_says_what_it_cost() {
    let run = RunSandbox::new();
    run.agent("claude", FAKE_CLAUDE);
    run.sandbox.router.messages(
        R1,
        [Reply::messages_json(R1, "Hello from R1").via("together")],
    );
    let out = run.run(
        run.cmd(&[
            "run",
            "claude",
            "-p",
            "say hi",
            "--model",
            "x y",
            "-v",
            "--config",
            "theirs.json",
            "--",
            "--help",
        ])
        .env("ANTHROPIC_API_KEY", "sk-ant-users-own"),
    );
    insta::assert_snapshot!(out, @r"
    exit: 0
    --- stdout
    args: [-p] [say hi] [--model] [x y] [-v] [--config] [theirs.json] [--] [--help]
    ANTHROPIC_BASE_URL=http://127.0.0.1:[PORT]
    ANTHROPIC_AUTH_TOKEN=[ONE-TIME KEY]
    ANTHROPIC_API_KEY=unset
    answer: Hello from R1
    --- stderr
    hfclaw: 1 request, 12 tokens, $0.000064, answered by huggingface/deepseek-ai/DeepSeek-R1
    ");
    // The gateway got the one-time key; the router got the user's token only.
    let sent = run.sandbox.router.requests();
    let messages: Vec<_> = sent
        .iter()
        .filter(|r| r.route == "POST /v1/messages")
        .collect();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].header("authorization"),
        Some(format!("Bearer {}", common::TOKEN).as_str())
    );
    // The run is in the usage ledger under its key's label.
    let usage = run
        .sandbox
        .run(&["usage", "--by", "key", "--json"])
        .replace(' ', "");
    assert!(usage.contains(r#""key":"run-claude""#), "{usage}");
}

#[test]
fn run_passes_the_agents_exit_code_through() {
    let run = RunSandbox::new();
    run.agent("claude", FAKE_CLAUDE);
    run.sandbox
        .router
        .messages(R1, [Reply::error(503, "overloaded", None)]);
    let out = run.run(run.cmd(&["run", "claude"]).env("FAKE_EXIT", "7"));
    assert!(out.starts_with("exit: 7\n"), "{out}");
    assert!(
        out.contains("hfclaw: 1 request (1 failed)\n"),
        "the failure is counted:\n{out}"
    );
    // Killed by a signal: 128 + its number.
    run.agent("claude", "#!/bin/sh\nkill -KILL $$\n");
    let out = run.run(&mut run.cmd(&["run", "claude"]));
    assert!(out.starts_with("exit: 137\n"), "{out}");
    assert!(out.contains("hfclaw: no requests\n"), "{out}");
}

#[test]
fn run_codex_gets_a_responses_provider_on_the_command_line() {
    let run = RunSandbox::new();
    run.agent("codex", FAKE_CODEX);
    run.sandbox.router.responses(
        R1,
        [Reply::responses_json(R1, "Hello from R1").via("together")],
    );
    // The user's Codex config is not touched (it has none here, and gets none).
    let out = run.run(&mut run.cmd(&["run", "codex", "exec", "-m", "r1", "say hi"]));
    insta::assert_snapshot!(out, @r#"
    exit: 0
    --- stdout
    args: [-c] [model_provider="hfclaw"] [-c] [model_providers.hfclaw.name="hfclaw"] [-c] [model_providers.hfclaw.base_url="http://127.0.0.1:[PORT]/v1"] [-c] [model_providers.hfclaw.wire_api="responses"] [-c] [model_providers.hfclaw.env_key="HFCLAW_API_KEY"] [-c] [model="default"] [exec] [-m] [r1] [say hi]
    HFCLAW_API_KEY=[ONE-TIME KEY]
    answer: Hello from R1
    --- stderr
    hfclaw: 1 request, 12 tokens, $0.000064, answered by huggingface/deepseek-ai/DeepSeek-R1
    "#);
    assert!(!run.sandbox.home().join(".codex").exists());
}

#[test]
fn run_uses_the_running_gateway_and_reads_its_ledger() {
    let run = RunSandbox::new();
    run.agent("claude", FAKE_CLAUDE);
    run.sandbox.router.messages(
        R1,
        [Reply::messages_json(R1, "Hello from R1").via("together")],
    );
    let key_file = run.sandbox.home().join("keys");
    std::fs::write(&key_file, "team s3cret-key\n").unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let gateway = Gateway::start(
        &run.sandbox,
        &["--api-key-file", key_file.to_str().unwrap()],
    );
    run.service(&[
        "--listen",
        &gateway.addr,
        "--api-key-file",
        key_file.to_str().unwrap(),
    ]);
    let out = run.run(&mut run.cmd(&["run", "claude", "-p", "say hi"]));
    insta::assert_snapshot!(out, @r"
    exit: 0
    --- stdout
    args: [-p] [say hi]
    ANTHROPIC_BASE_URL=http://127.0.0.1:[PORT]
    ANTHROPIC_AUTH_TOKEN=s3cret-key
    ANTHROPIC_API_KEY=unset
    answer: Hello from R1
    --- stderr
    hfclaw: 1 request, 12 tokens, $0.000064, answered by huggingface/deepseek-ai/DeepSeek-R1 (through the gateway at 127.0.0.1:[PORT])
    ");
    // A key the gateway does not take: said, before the agent starts.
    std::fs::write(&key_file, "wrong-key\n").unwrap();
    let out = run.run(&mut run.cmd(&["run", "claude"]));
    insta::assert_snapshot!(out, @r"
    exit: 2
    --- stdout
    --- stderr
    error: the gateway at 127.0.0.1:[PORT] needs a client key
    hint: set HFCLAW_SERVE_API_KEY to one of its keys, or stop it to let hfclaw run start its own
    ");
    let out = run.run(
        run.cmd(&["run", "claude"])
            .env("HFCLAW_SERVE_API_KEY", "s3cret-key"),
    );
    assert!(out.contains("ANTHROPIC_AUTH_TOKEN=s3cret-key\n"), "{out}");
    drop(gateway);
}

#[test]
fn run_refuses_unknown_agents_missing_binaries_and_no_token() {
    let run = RunSandbox::new();
    let out = run.run(&mut run.cmd(&["run", "cursor", "--help"]));
    insta::assert_snapshot!(out, @r#"
    exit: 2
    --- stdout
    --- stderr
    error: unknown agent "cursor": hfclaw run supports claude (Claude Code) and codex (Codex)
    hint: for another agent, run `hfclaw serve` and point it at http://127.0.0.1:[PORT] (README: recipes)
    "#);
    let out = run.run(&mut run.cmd(&["run", "codex", "exec", "hi"]));
    insta::assert_snapshot!(out, @r"
    exit: 2
    --- stdout
    --- stderr
    error: Codex (`codex`) is not on PATH
    hint: install it with `npm i -g @openai/codex`, then run `hfclaw run codex` again
    ");
    run.agent("claude", FAKE_CLAUDE);
    let mut cmd = run.sandbox.cmd_without_token(&["run", "claude"]);
    cmd.env("PATH", format!("{}:/usr/bin:/bin", run.bin.display()));
    let out = run.run(&mut cmd);
    insta::assert_snapshot!(out, @r"
    exit: 2
    --- stdout
    --- stderr
    error: no Hugging Face token found
    hint: run `hfclaw onboard`, set HF_TOKEN, or pass --token (see `hfclaw models status`)
    ");
}

#[test]
fn run_passes_signals_sent_to_hfclaw_on_to_the_agent() {
    for signal in ["TERM", "INT"] {
        let run = RunSandbox::new();
        run.agent("claude", FAKE_WAITING);
        let mut child = run
            .cmd(&["run", "claude"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        let exit = loop {
            if let Some(exit) = child.try_wait().unwrap() {
                break exit;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "hfclaw run did not end after SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(lines.next().unwrap().unwrap(), format!("got {signal}"));
        // hfclaw outlived the signal, stopped its gateway and passed the agent's code on.
        assert_eq!(exit.code(), Some(42), "SIG{signal}");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(stderr, "hfclaw: no requests\n");
    }
}
