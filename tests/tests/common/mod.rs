//! A sandboxed `hfclaw` run against a fake router: scratch HOME, clean environment, a test
//! token, and output rendered with the volatile parts (paths, ports, timings) redacted.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hfclaw_e2e::{FakeRouter, hfclaw_bin};

pub mod browser;
pub mod gateway;
pub mod team;

/// A token that looks real; tests assert it never shows up in any output.
pub const TOKEN: &str = "hf_e2eSecretToken0123456789abcdWXYZ";

/// A config with a default (R1), one fallback (Qwen, `:cheapest`) and an alias for each.
pub const CHAIN_CONFIG: &str = r#"{
  agents: { defaults: {
    model: {
      primary: "huggingface/deepseek-ai/DeepSeek-R1",
      fallbacks: ["huggingface/Qwen/Qwen3-8B:cheapest"],
    },
    models: {
      "huggingface/Qwen/Qwen3-8B:cheapest": { alias: "qwen" },
      "huggingface/deepseek-ai/DeepSeek-R1": { alias: "r1" },
    },
  } },
}"#;

/// A config whose default is DeepSeek R1 (alias `r1`), without fallbacks.
pub const R1_CONFIG: &str = r#"{
  agents: { defaults: {
    model: { primary: "huggingface/deepseek-ai/DeepSeek-R1" },
    models: { "huggingface/deepseek-ai/DeepSeek-R1": { alias: "r1" } },
  } },
}"#;

/// R1's live prices for tests that check costs: together $3/$7, cerebras $2/$5 per 1M
/// tokens.
pub const R1_LIVE_MODELS: &str = r#"{"object":"list","data":[
  {"id":"deepseek-ai/DeepSeek-R1","object":"model","providers":[
    {"provider":"together","status":"live","pricing":{"input":3,"output":7}},
    {"provider":"cerebras","status":"live","pricing":{"input":2,"output":5}}]}
]}"#;

/// The Python of the venv `cargo xtask ci` makes (`HFCLAW_TEST_PYTHON`: the SDKs,
/// huggingface_hub). The tests that call it are `#[ignore]`d, so a plain `cargo test`
/// lists them as ignored; run with `--ignored` and no venv, they fail, never pass.
pub fn test_python(what: &str) -> PathBuf {
    match std::env::var_os("HFCLAW_TEST_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => panic!(
            "{what} need HFCLAW_TEST_PYTHON, the python of a venv with the SDKs: run them \
             through `cargo xtask ci`, which makes target/pyenv"
        ),
    }
}

/// A fresh database `hfclaw_e2e_<pid>_<name>` on the test PostgreSQL server
/// (`HFCLAW_TEST_POSTGRES_URL`, which `cargo xtask ci` sets); its URL. Blocking.
pub fn postgres_database(name: &str) -> String {
    let url = std::env::var("HFCLAW_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("HFCLAW_TEST_POSTGRES_URL is not set: run through `cargo xtask ci`")
    });
    let name = format!("hfclaw_e2e_{}_{name}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// A scratch home plus a fake router.
pub struct Sandbox {
    dir: tempfile::TempDir,
    pub router: FakeRouter,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
            router: FakeRouter::start(),
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.home().join(".openclaw/openclaw.json")
    }

    /// Writes a file in the home only its owner may read (mode 0600: key files must be).
    pub fn write_private(&self, name: &str, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.home().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    pub fn write_config(&self, text: &str) {
        let path = self.config_path();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// `hfclaw ARGS` with HOME in the sandbox, the test token, and the fake router.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd_without_token(args);
        cmd.env("HF_TOKEN", TOKEN);
        cmd
    }

    pub fn cmd_without_token(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(hfclaw_bin());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.home().join(".cache"))
            .env("HFCLAW_CACHE_DIR", self.home().join(".cache/hfclaw"))
            .env("HFCLAW_DATA_DIR", self.home().join(".local/share/hfclaw"))
            .env("HFCLAW_ROUTER_URL", self.router.base_url())
            .env("HFCLAW_HUB_URL", self.router.hub_url())
            .env("NO_COLOR", "1")
            .args(args);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> String {
        self.render(&self.cmd(args).output().unwrap())
    }

    /// Exit code, stdout and stderr, with the sandbox, router address and timings redacted;
    /// panics if the token leaked into either stream.
    pub fn render(&self, output: &Output) -> String {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
            "the token leaked:\n{stdout}\n{stderr}"
        );
        let text = format!(
            "exit: {}\n--- stdout\n{stdout}--- stderr\n{stderr}",
            output.status.code().unwrap_or(-1)
        );
        let text = text
            .replace(&self.home().display().to_string(), "[HOME]")
            .replace(&self.router.addr().to_string(), "[ROUTER]");
        redact_cache_age(&redact_snapshot_age(&redact_estimated_costs(
            &redact_seconds(&text),
        )))
    }

    /// Fills the discovery cache from `models` (a `GET /v1/models` body), as a
    /// `models list --refresh` does: commands then price answers from live data.
    pub fn cache_live_models(&self, models: &str) {
        self.router.models(hfclaw_e2e::Reply::json(200, models));
        let out = self.run(&["-q", "models", "list", "--refresh"]);
        assert!(out.starts_with("exit: 0"), "{out}");
    }

    /// The usage ledger's SQLite file.
    pub fn ledger_path(&self) -> PathBuf {
        self.home().join(".local/share/hfclaw/usage.sqlite3")
    }
}

/// `built-in snapshot of 2026-07-27, 133 days old` → `…, [N] days old`: the age grows
/// every day.
pub fn redact_snapshot_age(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(" days old") {
        let digits = rest[..i].trim_end_matches(|c: char| c.is_ascii_digit());
        out.push_str(digits);
        if digits.len() < i {
            out.push_str("[N]");
        }
        out.push_str(" days old");
        rest = &rest[i + " days old".len()..];
    }
    out.push_str(rest);
    out
}

/// `catalog: cached 1 s ago` → `catalog: cached [N] s ago`: a loaded machine takes more
/// than a second between two commands.
fn redact_cache_age(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("cached ") {
        let start = i + "cached ".len();
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && rest[digits..].starts_with(" s ago") {
            out.push_str("[N]");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// `~$0.000036` → `~$[EST]`: estimated costs come from the built-in catalog, whose prices
/// change with every snapshot; exact (live) costs stay as they are. In JSON, the
/// `cost_usd` before `"cost_estimated": true` likewise.
fn redact_estimated_costs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("~$") {
        out.push_str(&rest[..i + 2]);
        rest = rest[i + 2..].trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
        out.push_str("[EST]");
    }
    out.push_str(rest);
    let lines: Vec<&str> = out.lines().collect();
    let mut redacted = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let estimated = lines
            .get(i + 1)
            .is_some_and(|next| next.trim() == "\"cost_estimated\": true,");
        match line.split_once("\"cost_usd\": ") {
            Some((indent, _)) if estimated => {
                redacted.push(format!("{indent}\"cost_usd\": \"[EST]\","))
            }
            _ => redacted.push((*line).to_owned()),
        }
    }
    let mut joined = redacted.join("\n");
    if out.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

/// `1.8 s` → `[T] s`, and JSON's `"seconds": 0.1` → `"seconds": "[T]"`, so closing lines
/// and `chat --json` are stable on a loaded machine.
fn redact_seconds(text: &str) -> String {
    let text = redact_json_seconds(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(" s") {
        let head = &rest[..i];
        let start = head
            .char_indices()
            .rfind(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
            .map_or(0, |(j, c)| j + c.len_utf8());
        let number = &head[start..];
        if !number.is_empty() && number.contains('.') {
            out.push_str(&head[..start]);
            out.push_str("[T]");
        } else {
            out.push_str(head);
        }
        out.push_str(" s");
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

fn redact_json_seconds(text: &str) -> String {
    const KEY: &str = "\"seconds\": ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(KEY) {
        out.push_str(&rest[..i + KEY.len()]);
        rest = &rest[i + KEY.len()..];
        let number = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number > 0 {
            out.push_str("\"[T]\"");
            rest = &rest[number..];
        }
    }
    out.push_str(rest);
    out
}
