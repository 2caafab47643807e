//! `hfclaw run claude|codex`: the real agents started by hfclaw with no gateway running
//! beforehand (hfclaw starts one in its own process on a free loopback port) and no model
//! named, so each gets the default model's answer; and the closing cost line.
//!
//! The agents are found on `PATH` as a user's would be (`claude`, `codex` in a `bin` dir of
//! the case); the config is the gateway cases' ([`GATEWAY_CONFIG`]), the token the user's,
//! the router the fake one.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::agents::{
    AGENT_TIMEOUT, AgentCase, CLAUDE_DEBUG_LOG, GATEWAY_CONFIG, HF_TOKEN, Inside, PROMPT, QWEN, R1,
    answer, answered, claude_stayed_inside, codex_stayed_inside, output, summary,
};
use super::process::{Captured, run_captured};
use crate::Result;

/// The cases, in print order.
pub(super) fn cases() -> Vec<AgentCase> {
    let case = |name, slug, run| AgentCase {
        name,
        slug,
        run,
        serve_args: &[],
        gateway: false,
    };
    vec![
        case(
            "hfclaw run claude -p (no gateway before)",
            "run-claude",
            run_claude,
        ),
        case(
            "hfclaw run codex exec (no gateway before)",
            "run-codex",
            run_codex,
        ),
    ]
}

/// Claude Code with no `--model` and no model variable: its own `claude-*` names reach
/// the default through the gateway's built-in routes (a haiku-tier call, if any, the first
/// fallback).
fn run_claude(inside: &Inside) -> Result<String> {
    let debug_log = inside.dir.join(CLAUDE_DEBUG_LOG);
    let debug_log_arg = debug_log.to_string_lossy();
    let run = hfclaw_run(
        inside,
        &["claude", "-p", PROMPT, "--debug-file", &debug_log_arg],
        &[("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")],
    )?;
    answered(&run, &answer(R1))?;
    claude_stayed_inside(&debug_log)?;
    let line = cost_line(&run)?;
    let sent = inside.routed(&["POST /v1/messages"], &[R1], &[R1, QWEN])?;
    Ok(format!("{}; {line}", summary(&sent)))
}

/// Codex with hfclaw's `-c` overrides and the user's own after them (no analytics, no
/// plugins: only the gateway is reached), in a `CODEX_HOME` with no config at all.
fn run_codex(inside: &Inside) -> Result<String> {
    let run = hfclaw_run(
        inside,
        &[
            "codex",
            "-c",
            "analytics.enabled=false",
            "-c",
            "features.plugins=false",
            "exec",
            "--skip-git-repo-check",
            PROMPT,
        ],
        // Logs each connection it opens, so the case sees what else Codex reaches for.
        &[("RUST_LOG", "reqwest::connect=debug")],
    )?;
    answered(&run, &answer(R1))?;
    codex_stayed_inside(&run, |url| url.starts_with("http://127.0.0.1:"))?;
    if inside.dir.join("codex-home/config.toml").exists() {
        return Err("hfclaw run wrote a Codex config.toml".into());
    }
    let line = cost_line(&run)?;
    let sent = inside.routed(&["POST /v1/responses"], &[R1], &[R1])?;
    Ok(format!("{}; {line}", summary(&sent)))
}

/// `hfclaw --config … run ARGS` in a fresh HOME, with the agents on `PATH`, the user's
/// token, the fake router, and nothing listening on the default gateway address.
fn hfclaw_run(inside: &Inside, args: &[&str], env: &[(&str, &str)]) -> Result<Captured> {
    let tools = inside.tools;
    let (home, work, bin) = (
        inside.dir.join("home"),
        inside.dir.join("work"),
        inside.dir.join("bin"),
    );
    let codex_home = inside.dir.join("codex-home");
    for dir in [&home, &work, &bin, &codex_home] {
        fs::create_dir_all(dir)?;
    }
    link(&tools.claude, &bin.join("claude"))?;
    link(&tools.codex, &bin.join("codex"))?;
    let config = inside.dir.join("openclaw.json");
    fs::write(&config, GATEWAY_CONFIG)?;
    let mut cmd = Command::new(&tools.hfclaw);
    cmd.arg("--config")
        .arg(&config)
        .arg("run")
        .args(args)
        .env_clear()
        .env(
            "PATH",
            format!("{}:{}", bin.display(), inside.path_with_node()),
        )
        .env("HOME", &home)
        .env("CODEX_HOME", &codex_home)
        .env("HFCLAW_CACHE_DIR", inside.dir.join("cache"))
        .env("HFCLAW_DATA_DIR", inside.dir.join("data"))
        .env("HFCLAW_ROUTER_URL", inside.router.base_url())
        .env("HF_TOKEN", HF_TOKEN)
        .env("NO_COLOR", "1")
        .env("TMPDIR", inside.tmp()?)
        .envs(env.iter().copied())
        .current_dir(&work);
    run_captured(&mut cmd, &inside.dir, "hfclaw-run", AGENT_TIMEOUT)
}

fn link(target: &Path, link: &Path) -> Result<()> {
    if fs::symlink_metadata(link).is_err() {
        std::os::unix::fs::symlink(target, link)?;
    }
    Ok(())
}

/// hfclaw's closing line, which must name the default model as the one that answered.
fn cost_line(run: &Captured) -> Result<String> {
    let want = format!("answered by huggingface/{R1}");
    run.stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("hfclaw: ") && l.contains(&want))
        .map(str::to_owned)
        .ok_or_else(|| format!("no closing line saying {want:?}\n{}", output(run)).into())
}
