//! Running OpenClaw (`models status --json`) on a case, cut off from the network, and
//! judging what it reports.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::cases::{Case, Expect, Expected, strings};
use super::process::run_captured;
use crate::Result;

/// One `models status` takes ~1.3 s; a minute means something hangs.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// A ready OpenClaw install and how to cut it off from the network.
pub(super) struct OpenClaw {
    pub(super) node: PathBuf,
    pub(super) entry: PathBuf,
    /// Node's module compile cache, kept with the install (OpenClaw would otherwise use
    /// `/tmp/node-compile-cache`); saves ~0.2 s of the ~1.4 s per run.
    pub(super) compile_cache: PathBuf,
    pub(super) isolation: Isolation,
}

/// OpenClaw made no network calls in `models status` when measured (strace), so the
/// namespace is a guard against future versions, not a requirement: fall back gracefully.
#[derive(Clone, Copy)]
pub(super) enum Isolation {
    /// `unshare -n` (root)
    NetNs,
    /// `unshare -rn` (unprivileged user namespace)
    UserNetNs,
    None,
}

impl Isolation {
    pub(super) fn detect() -> Self {
        let works = |args: &[&str]| {
            Command::new("unshare")
                .args(args)
                .arg("true")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if works(&["-n"]) {
            Self::NetNs
        } else if works(&["-rn"]) {
            Self::UserNetNs
        } else {
            Self::None
        }
    }

    pub(super) fn describe(self) -> &'static str {
        match self {
            Self::NetNs => "off (unshare -n)",
            Self::UserNetNs => "off (unshare -rn)",
            Self::None => "not isolated (unshare unavailable)",
        }
    }

    pub(super) fn command(self, program: &Path) -> Command {
        let mut cmd = match self {
            Self::NetNs | Self::UserNetNs => {
                let mut c = Command::new("unshare");
                c.arg(if matches!(self, Self::NetNs) {
                    "-n"
                } else {
                    "-rn"
                });
                c.arg(program);
                c
            }
            Self::None => Command::new(program),
        };
        cmd.stdin(Stdio::null());
        cmd
    }
}

pub(super) struct Outcome {
    pub(super) elapsed: Duration,
    pub(super) summary: String,
}

/// Output of one OpenClaw run.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    config_path: PathBuf,
    elapsed: Duration,
}

/// Runs `openclaw models status --json` against a copy of `case.config` in a fresh,
/// private HOME/state dir/cwd with an empty environment, so nothing from the machine
/// (a real `~/.openclaw`, `HF_TOKEN`, a `.env` in the repo) leaks in.
fn run_status(openclaw: &OpenClaw, case: &Case) -> Result<Run> {
    let dir = tempfile::Builder::new()
        .prefix("hfclaw-interop-")
        .tempdir()?;
    let home = dir.path().join("home");
    let state = dir.path().join("state");
    fs::create_dir_all(&home)?;
    fs::create_dir_all(&state)?;
    let config_path = dir.path().join("openclaw.json");
    fs::copy(&case.config, &config_path).map_err(|e| format!("{}: {e}", case.config.display()))?;
    for (relative, source) in &case.state_files {
        let target = state.join(relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(source, &target).map_err(|e| format!("{}: {e}", source.display()))?;
    }
    let node_dir = openclaw.node.parent().unwrap_or(Path::new("/"));
    let mut cmd = openclaw.isolation.command(&openclaw.node);
    cmd.arg(&openclaw.entry)
        .args(["models", "status", "--json"])
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", node_dir.display()))
        .env("HOME", &home)
        .env("OPENCLAW_STATE_DIR", &state)
        .env("OPENCLAW_CONFIG_PATH", &config_path)
        .env("NO_COLOR", "1")
        .env("NODE_COMPILE_CACHE", &openclaw.compile_cache)
        .current_dir(dir.path());
    let out = run_captured(&mut cmd, dir.path(), "openclaw", RUN_TIMEOUT)?;
    Ok(Run {
        code: out.code,
        stdout: out.stdout,
        stderr: out.stderr,
        config_path,
        elapsed: out.elapsed,
    })
}

pub(super) fn check_case(openclaw: &OpenClaw, case: &Case) -> Result<Outcome> {
    let run = run_status(openclaw, case)?;
    let summary = match &case.expect {
        Expect::Loads(expected) => check_loads(&run, expected)?,
        Expect::RejectsKey { at, key } => check_rejects_key(&run, at, key)?,
        Expect::IgnoresModelsJson { at } => check_ignores_models_json(&run, at)?,
    };
    Ok(Outcome {
        elapsed: run.elapsed,
        summary,
    })
}

/// Stderr line OpenClaw prints when it drops an invalid `models.json`.
const MODELS_JSON_ISSUE: &str = "Invalid models.json schema";
/// Prefix of OpenClaw's stderr warning for any `models.json` it could not use (invalid
/// schema, unparsable JSON, a provider failing its checks); it still exits 0.
const MODEL_CATALOG_ISSUE: &str = "model catalog load issue";

fn check_loads(run: &Run, expected: &Expected) -> Result<String> {
    if run.code != Some(0) {
        return Err(format!("exit {:?}, expected 0\n{}", run.code, excerpt(run)).into());
    }
    if run.stderr.contains(MODELS_JSON_ISSUE) || run.stderr.contains(MODEL_CATALOG_ISSUE) {
        return Err(format!("OpenClaw ignored models.json\n{}", excerpt(run)).into());
    }
    let status: Value = serde_json::from_str(&run.stdout)
        .map_err(|e| format!("stdout is not JSON ({e})\n{}", excerpt(run)))?;
    let mut problems = Vec::new();
    // OpenClaw echoes the file it read; anything else means our isolation leaked.
    let config_path = status.get("configPath").and_then(Value::as_str);
    if config_path != run.config_path.to_str() {
        problems.push(format!(
            "configPath {config_path:?}, expected {:?}",
            run.config_path
        ));
    }
    let default = status
        .get("defaultModel")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if let Some(primary) = &expected.primary
        && default != primary
    {
        problems.push(format!("defaultModel {default:?}, expected {primary:?}"));
    }
    let fallbacks = strings(status.get("fallbacks"));
    if fallbacks != expected.fallbacks {
        problems.push(format!(
            "fallbacks {fallbacks:?}, expected {:?}",
            expected.fallbacks
        ));
    }
    let aliases: BTreeMap<String, String> = status
        .get("aliases")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(alias, target)| Some((alias.clone(), target.as_str()?.to_owned())))
        .collect();
    if aliases != expected.aliases {
        problems.push(format!(
            "aliases {aliases:?}, expected {:?}",
            expected.aliases
        ));
    }
    let mut allowed = strings(status.get("allowed"));
    allowed.sort();
    if let Some(want) = &expected.allowed
        && &allowed != want
    {
        problems.push(format!("allowed {allowed:?}, expected {want:?}"));
    }
    if let Some(want) = &expected.hf_auth {
        let kind = status
            .pointer("/auth/providers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| p.get("provider").and_then(Value::as_str) == Some("huggingface"))
            .and_then(|p| p.pointer("/effective/kind"))
            .and_then(Value::as_str);
        if kind != Some(want.as_str()) {
            problems.push(format!("huggingface auth {kind:?}, expected {want:?}"));
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n").into());
    }
    let mut summary = format!("default {default}");
    if !fallbacks.is_empty() {
        summary.push_str(&format!(", {} fallback(s)", fallbacks.len()));
    }
    if !aliases.is_empty() {
        summary.push_str(&format!(", {} alias(es)", aliases.len()));
    }
    if expected.primary.is_none() {
        summary.push_str(" (OpenClaw's own default; config sets none)");
    }
    Ok(summary)
}

fn check_rejects_key(run: &Run, at: &str, key: &str) -> Result<String> {
    let want = format!("{at}: Unrecognized key: \"{key}\"");
    if run.code == Some(0) {
        return Err(format!("OpenClaw accepted a config it must refuse ({want})").into());
    }
    if !run.stderr.contains(&want) {
        return Err(format!("refused, but not with `{want}`\n{}", excerpt(run)).into());
    }
    Ok(format!("refused (exit {}): {want}", run.code.unwrap_or(-1)))
}

fn check_ignores_models_json(run: &Run, at: &str) -> Result<String> {
    if run.code != Some(0) {
        return Err(format!("exit {:?}, expected 0\n{}", run.code, excerpt(run)).into());
    }
    let flagged = run.stderr.lines().any(|l| l.contains(at));
    if !run.stderr.contains(MODELS_JSON_ISSUE) || !flagged {
        return Err(format!(
            "models.json accepted; expected `{MODELS_JSON_ISSUE}` at {at}\n{}",
            excerpt(run)
        )
        .into());
    }
    Ok(format!("warned: {MODELS_JSON_ISSUE} at {at}"))
}

/// The first lines of what OpenClaw said, for failure messages.
fn excerpt(run: &Run) -> String {
    let mut out = String::new();
    for (label, text) in [("stderr", &run.stderr), ("stdout", &run.stdout)] {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(8)
            .collect();
        if !lines.is_empty() {
            out.push_str(&format!("{label}:\n  {}\n", lines.join("\n  ")));
        }
    }
    out.trim_end().to_owned()
}
