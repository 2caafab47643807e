//! Real agents through `hfclaw serve`: Claude Code (Anthropic Messages), Codex (OpenAI
//! Responses), OpenClaw's own agent (chat completions) and its memory search (embeddings,
//! in `memory`), unmodified, configured as the README's recipes say, in front of the
//! loopback fake router of the end-to-end tests (`hfclaw_e2e::FakeRouter`, answering any
//! model in each API's format).
//!
//! Each case runs in a helper process (`xtask interop __agent SLUG TOOLS`) that the
//! harness starts in a network namespace of its own when the kernel allows: only loopback
//! exists there, so an agent reaching for anything but the gateway fails, and the gateway
//! listens on the recipes' own `127.0.0.1:4000`. The helper brings loopback up, starts the
//! fake router and `hfclaw serve` (the dev build), runs the agent, checks what it printed
//! and what the router received, and prints its verdict as one JSON line.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use hfclaw_e2e::{FakeRouter, Recorded, Reply};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::gateway::{Gateway, ip};
use super::openclaw::{Isolation, Outcome};
use super::process::{Captured, run_captured, tail};
use crate::{Result, root};

/// Where the recipes' gateway listens; a free port instead when not isolated.
pub(super) const RECIPE_ADDR: &str = "127.0.0.1:4000";
/// The key `hfclaw serve --api-key` gets, as the recipes spell it.
pub(super) const CLIENT_KEY: &str = "my-gateway-key";
/// The user's (fake) Hugging Face token: only the router may see it.
pub(super) const HF_TOKEN: &str = "hf_interopGatewayToken0123456789";
/// The gateway's config: a default with a fallback, and the aliases the agents ask for.
pub(super) const GATEWAY_CONFIG: &str = r#"{
  agents: { defaults: {
    model: {
      primary: "huggingface/deepseek-ai/DeepSeek-R1",
      fallbacks: ["huggingface/Qwen/Qwen3-8B:cheapest"],
    },
    models: {
      "huggingface/deepseek-ai/DeepSeek-R1": { alias: "r1" },
      "huggingface/Qwen/Qwen3-8B:cheapest": { alias: "qwen" },
      "huggingface/openai/gpt-oss-20b:fastest": { alias: "oss" },
      "huggingface/Qwen/Qwen3-Coder-30B-A3B-Instruct": { alias: "claude-coder" },
    },
  } },
}"#;
/// Router ids of the aliases above.
pub(super) const R1: &str = "deepseek-ai/DeepSeek-R1";
pub(super) const QWEN: &str = "Qwen/Qwen3-8B:cheapest";
const OSS: &str = "openai/gpt-oss-20b:fastest";
/// The alias whose name Claude Code's model discovery keeps (it contains `claude`).
const DISCOVERED: &str = "claude-coder";
const CODER: &str = "Qwen/Qwen3-Coder-30B-A3B-Instruct";
pub(super) const PROMPT: &str = "say hi";
/// What the router sees when the default answers 503: two quick retries (SPEC §4), then
/// the fallback.
const AFTER_503: [&str; 4] = [R1, R1, R1, QWEN];
/// The recipes, as files (README quotes them).
const OPENCLAW_RECIPE: &str = "tests/fixtures/interop/gateway-provider.json5";
const CODEX_RECIPE: &str = "tests/fixtures/interop/codex-config.toml";
const OPENAI_SDK_SCRIPT: &str = "tests/sdk/openai-env.mjs";
/// Claude Code's `--debug-file`, in the case's dir.
pub(super) const CLAUDE_DEBUG_LOG: &str = "claude-debug.log";
/// One agent run; OpenClaw's `agent exec` takes ~10 s of CPU, much more on a busy machine.
pub(super) const AGENT_TIMEOUT: Duration = Duration::from_secs(180);
/// The whole helper: gateway start, the agent, the checks.
const HELPER_TIMEOUT: Duration = Duration::from_secs(240);

/// What the fake router answers a request for `model`.
pub(super) fn answer(model: &str) -> String {
    format!("Hello from the fake router, as {model}.")
}

/// One agent talking to the gateway.
pub(super) struct AgentCase {
    pub(super) name: &'static str,
    pub(super) slug: &'static str,
    pub(super) run: fn(&Inside) -> Result<String>,
    /// Flags for `hfclaw serve` beyond the recipe's.
    pub(super) serve_args: &'static [&'static str],
    /// Whether `hfclaw serve` runs before the agent starts (not for `hfclaw run`, which
    /// starts its own).
    pub(super) gateway: bool,
}

/// The route of the README's Claude Code recipe for haiku-tier calls.
const HAIKU_ROUTE: &str = "claude-*haiku*=oss";

/// The cases, in print order.
pub(super) fn cases() -> Vec<AgentCase> {
    let case = |name, slug, run| AgentCase {
        name,
        slug,
        run,
        serve_args: &[],
        gateway: true,
    };
    let mut cases = vec![
        case(
            "Claude Code: claude -p --model qwen (alias)",
            "claude-alias",
            claude_alias,
        ),
        case(
            "Claude Code: --model haiku = DEFAULT_HAIKU_MODEL",
            "claude-haiku",
            claude_haiku,
        ),
        case(
            "Claude Code: ANTHROPIC_MODEL=r1, 503 → fallback",
            "claude-fallback",
            claude_fallback,
        ),
        case(
            "Claude Code: wrong client key → 401 shown",
            "claude-bad-key",
            claude_bad_key,
        ),
        case(
            "Claude Code: no model named → the default",
            "claude-no-model",
            claude_no_model,
        ),
        AgentCase {
            serve_args: &["--route", HAIKU_ROUTE],
            ..case(
                "Claude Code: --model haiku, --route claude-*haiku* → its model",
                "claude-haiku-route",
                claude_haiku_route,
            )
        },
        case(
            "Claude Code: discovery keeps claude-* aliases",
            "claude-discovery",
            claude_discovery,
        ),
        case(
            "Codex: codex exec, wire_api responses, qwen",
            "codex-alias",
            codex_alias,
        ),
        case(
            "Codex: -m r1, router 503 → fallback",
            "codex-fallback",
            codex_fallback,
        ),
        case(
            "OpenClaw: agent exec via provider hfclaw",
            "openclaw-agent",
            openclaw_agent,
        ),
        case(
            "OpenAI SDK (Node): OPENAI_BASE_URL, chat + responses",
            "openai-sdk",
            openai_sdk,
        ),
    ];
    cases.extend(super::memory::cases());
    cases.extend(super::run_agents::cases());
    cases
}

// ---------------------------------------------------------------------------------------
// The cases

/// The Claude Code recipe: base URL, client key as `ANTHROPIC_AUTH_TOKEN` (Bearer), an
/// alias as `--model`, the side-task (haiku) model on another alias.
fn claude_alias(inside: &Inside) -> Result<String> {
    let run = inside.claude(
        &["-p", PROMPT, "--model", "qwen"],
        &[
            ("ANTHROPIC_AUTH_TOKEN", CLIENT_KEY),
            ("ANTHROPIC_DEFAULT_HAIKU_MODEL", "oss"),
        ],
    )?;
    answered(&run, &answer(QWEN))?;
    let sent = inside.routed(&["POST /v1/messages"], &[QWEN], &[QWEN, OSS])?;
    for request in &sent {
        for header in ["anthropic-version", "anthropic-beta"] {
            if request.header(header).is_none() {
                return Err(format!("the router got no {header} header from Claude Code").into());
            }
        }
    }
    Ok(format!(
        "{}; anthropic-version/-beta forwarded",
        summary(&sent)
    ))
}

/// `--model haiku` is Claude Code's side-task model: `ANTHROPIC_DEFAULT_HAIKU_MODEL`
/// points it at an alias. The key goes as `x-api-key` (`ANTHROPIC_API_KEY`).
fn claude_haiku(inside: &Inside) -> Result<String> {
    let run = inside.claude(
        &["-p", PROMPT, "--model", "haiku"],
        &[
            ("ANTHROPIC_API_KEY", CLIENT_KEY),
            ("ANTHROPIC_DEFAULT_HAIKU_MODEL", "oss"),
        ],
    )?;
    answered(&run, &answer(OSS))?;
    Ok(summary(&inside.routed(
        &["POST /v1/messages"],
        &[OSS],
        &[OSS],
    )?))
}

/// The model in `ANTHROPIC_MODEL` instead of `--model`; it is the default, which fails
/// before its first byte: the gateway's fallback answers and Claude Code never sees the
/// failure.
fn claude_fallback(inside: &Inside) -> Result<String> {
    inside
        .router
        .messages(R1, [Reply::error(503, "overloaded", None)]);
    let run = inside.claude(
        &["-p", PROMPT],
        &[
            ("ANTHROPIC_AUTH_TOKEN", CLIENT_KEY),
            ("ANTHROPIC_MODEL", "r1"),
        ],
    )?;
    answered(&run, &answer(QWEN))?;
    Ok(summary(&inside.routed(
        &["POST /v1/messages"],
        &AFTER_503,
        &[R1, QWEN],
    )?))
}

/// A wrong key: Claude Code takes the gateway's Anthropic-shaped 401 for what it is (an
/// `authentication_error`, shown as "Not logged in · Please run /login" with
/// `ANTHROPIC_AUTH_TOKEN`) and gives up; nothing reaches the router. (Claude Code retries
/// a 401 ten times with backoff unless told not to.)
fn claude_bad_key(inside: &Inside) -> Result<String> {
    let run = inside.claude(
        &["-p", PROMPT, "--model", "qwen"],
        &[
            ("ANTHROPIC_AUTH_TOKEN", "not-the-key"),
            ("CLAUDE_CODE_MAX_RETRIES", "0"),
        ],
    )?;
    if run.code == Some(0) {
        return Err(format!("Claude Code exited 0 with a wrong key\n{}", output(&run)).into());
    }
    gateway_said(inside, "401", "authentication_error", &run)?;
    inside.routed(&["POST /v1/messages"], &[], &[])?;
    Ok(format!(
        "exit {}, says {:?}; router saw nothing",
        run.code.unwrap_or(-1),
        run.stdout.trim()
    ))
}

/// No model named and no model variables: Claude Code asks for its own names
/// (`claude-opus-…`/`claude-sonnet-…`, `claude-haiku-…` for side tasks); the built-in
/// routes send them to the default (and haiku-tier calls to the first fallback), and the
/// default's answer reaches the user.
fn claude_no_model(inside: &Inside) -> Result<String> {
    let run = inside.claude(&["-p", PROMPT], &[("ANTHROPIC_AUTH_TOKEN", CLIENT_KEY)])?;
    answered(&run, &answer(R1))?;
    let sent = inside.routed_any_first(&["POST /v1/messages"], &[R1, QWEN])?;
    if !sent.iter().any(|r| r.model().as_deref() == Some(R1)) {
        return Err(format!("the default {R1} got no request: {}", summary(&sent)).into());
    }
    Ok(summary(&sent))
}

/// The README's one route for haiku-tier calls (`--route 'claude-*haiku*=oss'`): Claude
/// Code's own haiku tier (`--model haiku`, no model variables) asks for
/// `claude-haiku-…`, which reaches `oss`.
fn claude_haiku_route(inside: &Inside) -> Result<String> {
    let run = inside.claude(
        &["-p", PROMPT, "--model", "haiku"],
        &[("ANTHROPIC_AUTH_TOKEN", CLIENT_KEY)],
    )?;
    answered(&run, &answer(OSS))?;
    Ok(summary(&inside.routed(
        &["POST /v1/messages"],
        &[OSS],
        &[OSS],
    )?))
}

/// `CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1`: at start Claude Code asks the gateway's
/// `GET /v1/models?limit=1000` (with `anthropic-version`, so in Anthropic's shape) and keeps
/// only the ids that contain `claude` or `anthropic`: of the gateway's list (`default`, the
/// aliases, refs) only the alias `claude-coder`, which it caches for its `/model` picker
/// ("From gateway"); picked (`--model claude-coder`), it reaches the alias's model.
fn claude_discovery(inside: &Inside) -> Result<String> {
    let run = inside.claude(
        &["-p", PROMPT, "--model", DISCOVERED],
        &[
            ("ANTHROPIC_AUTH_TOKEN", CLIENT_KEY),
            ("CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY", "1"),
        ],
    )?;
    answered(&run, &answer(CODER))?;
    let log = fs::read_to_string(inside.dir.join(CLAUDE_DEBUG_LOG)).unwrap_or_default();
    let said = log
        .lines()
        .find_map(|l| l.split_once("[gatewayDiscovery] ").map(|(_, said)| said))
        .ok_or_else(|| {
            format!(
                "Claude Code did not try model discovery
{}",
                output(&run)
            )
        })?;
    let cache = inside.dir.join("home/.claude/cache/gateway-models.json");
    let cached: Value = serde_json::from_str(&fs::read_to_string(&cache).unwrap_or_default())
        .map_err(|e| format!("{}: {e} (Claude Code said {said:?})", cache.display()))?;
    let ids: Vec<&str> = cached["models"]
        .as_array()
        .map(|models| models.iter().filter_map(|m| m["id"].as_str()).collect())
        .unwrap_or_default();
    if ids != [DISCOVERED] {
        return Err(
            format!("Claude Code cached {ids:?}, expected [{DISCOVERED:?}]: {cached}").into(),
        );
    }
    let label = cached["models"][0]["display_name"].as_str().unwrap_or("");
    let sent = inside.routed_any_first(&["POST /v1/messages"], &[CODER, R1, QWEN])?;
    if !sent.iter().any(|r| r.model().as_deref() == Some(CODER)) {
        return Err(format!("{CODER} got no request: {}", summary(&sent)).into());
    }
    Ok(format!("{said}: {label:?}; {}", summary(&sent)))
}

/// Claude Code's debug log holds an API error with `status` and `kind` (what the gateway
/// answered, in Anthropic's envelope).
fn gateway_said(inside: &Inside, status: &str, kind: &str, run: &Captured) -> Result<()> {
    let log = fs::read_to_string(inside.dir.join(CLAUDE_DEBUG_LOG)).unwrap_or_default();
    if log
        .lines()
        .any(|l| l.contains("API error") && l.contains(status) && l.contains(kind))
    {
        return Ok(());
    }
    Err(format!(
        "Claude Code's log shows no {status} {kind} from the gateway\n{}",
        output(run)
    )
    .into())
}

/// The Codex recipe: `config.toml` with a `model_provider` on the gateway's `/v1`,
/// `wire_api = "responses"`, the client key in `HFCLAW_API_KEY`, `codex exec`.
fn codex_alias(inside: &Inside) -> Result<String> {
    let run = inside.codex(&[])?;
    answered(&run, &answer(QWEN))?;
    Ok(summary(&inside.routed(
        &["POST /v1/responses"],
        &[QWEN],
        &[QWEN],
    )?))
}

/// `-m` picks another alias; the default fails before its first byte.
fn codex_fallback(inside: &Inside) -> Result<String> {
    inside
        .router
        .responses(R1, [Reply::error(503, "overloaded", None)]);
    let run = inside.codex(&["-m", "r1"])?;
    answered(&run, &answer(QWEN))?;
    Ok(summary(&inside.routed(
        &["POST /v1/responses"],
        &AFTER_503,
        &[R1, QWEN],
    )?))
}

/// The OpenClaw recipe: a provider block whose `baseUrl` is the gateway; one headless
/// agent turn (system prompt, tools, streaming) with `openclaw agent exec`.
fn openclaw_agent(inside: &Inside) -> Result<String> {
    let dir = inside.dir.join("openclaw");
    fs::create_dir_all(&dir)?;
    fs::write(dir.join("openclaw.json"), inside.recipe(OPENCLAW_RECIPE)?)?;
    let mut cmd = inside.openclaw(&dir)?;
    cmd.args(["agent", "exec", PROMPT, "--json"]);
    let run = run_captured(&mut cmd, &dir, "openclaw", AGENT_TIMEOUT)?;
    if run.code != Some(0) {
        return Err(format!("exit {:?}\n{}", run.code, output(&run)).into());
    }
    let result: Value = serde_json::from_str(&run.stdout)
        .map_err(|e| format!("stdout is not JSON ({e})\n{}", output(&run)))?;
    let field = |name: &str| result.get(name).and_then(Value::as_str).unwrap_or_default();
    let want = answer(QWEN);
    if result.get("ok") != Some(&Value::Bool(true))
        || field("final") != want
        || (field("provider"), field("model")) != ("hfclaw", "qwen")
    {
        return Err(format!(
            "expected ok, final {want:?} from hfclaw/qwen; got {result}\n{}",
            tail(&run.stderr, 8)
        )
        .into());
    }
    Ok(summary(&inside.routed(
        &["POST /v1/chat/completions"],
        &[QWEN],
        &[QWEN],
    )?))
}

/// Any OpenAI SDK: `OPENAI_BASE_URL` and `OPENAI_API_KEY` in the environment; chat (whole
/// and streamed) and Responses with the official Node SDK (the copy OpenClaw ships).
fn openai_sdk(inside: &Inside) -> Result<String> {
    let tools = inside.tools;
    let node_modules = tools
        .openclaw
        .parent()
        .and_then(Path::parent)
        .ok_or("no node_modules above openclaw.mjs")?;
    let manifest: Value = serde_json::from_str(&fs::read_to_string(
        node_modules.join("openai/package.json"),
    )?)?;
    let version = manifest
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let dir = inside.dir.join("sdk");
    fs::create_dir_all(&dir)?;
    let script = dir.join("openai-env.mjs");
    fs::copy(root().join(OPENAI_SDK_SCRIPT), &script)?;
    std::os::unix::fs::symlink(node_modules, dir.join("node_modules"))?;
    let mut cmd = Command::new(&tools.node);
    cmd.arg(&script)
        .env_clear()
        .env("PATH", inside.path_with_node())
        .env("HOME", &dir)
        .env("OPENAI_BASE_URL", format!("http://{}/v1", inside.addr()))
        .env("OPENAI_API_KEY", CLIENT_KEY)
        .current_dir(&dir);
    let run = run_captured(&mut cmd, &dir, "node", AGENT_TIMEOUT)?;
    let got: Value = serde_json::from_str(run.stdout.trim()).map_err(|e| {
        format!(
            "exit {:?}, stdout is not JSON ({e})\n{}",
            run.code,
            output(&run)
        )
    })?;
    let want = answer(QWEN);
    for field in ["chat", "streamed", "responses"] {
        if got.get(field).and_then(Value::as_str) != Some(want.as_str()) {
            return Err(format!("{field}: expected {want:?}; got {got}").into());
        }
    }
    let sent = inside.routed(
        &["POST /v1/chat/completions", "POST /v1/responses"],
        &[QWEN, QWEN, QWEN],
        &[QWEN],
    )?;
    let routes: Vec<&str> = sent.iter().map(|r| r.route.as_str()).collect();
    Ok(format!("openai {version}: {}: {QWEN}", routes.join(", ")))
}

// ---------------------------------------------------------------------------------------
// Checks

/// The agent exited 0 and printed exactly `want` (plus surrounding whitespace).
pub(super) fn answered(run: &Captured, want: &str) -> Result<()> {
    if run.code == Some(0) && run.stdout.trim() == want {
        return Ok(());
    }
    Err(format!(
        "expected exit 0 and the answer {want:?}; got exit {:?}\n{}",
        run.code,
        output(run)
    )
    .into())
}

pub(super) fn output(run: &Captured) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        tail(&run.stdout, 8),
        tail(&run.stderr, 12)
    )
}

/// "1 × POST /v1/messages (stream, 12 tools): Qwen/Qwen3-8B:cheapest"
pub(super) fn summary(sent: &[Recorded]) -> String {
    let Some(first) = sent.first() else {
        return "router saw nothing".to_owned();
    };
    let body: Value = serde_json::from_str(&first.body).unwrap_or_default();
    let stream = body.get("stream") == Some(&Value::Bool(true));
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let mut models: Vec<(String, usize)> = Vec::new();
    for model in sent.iter().filter_map(Recorded::model) {
        match models.last_mut() {
            Some((last, n)) if *last == model => *n += 1,
            _ => models.push((model, 1)),
        }
    }
    let models: Vec<String> = models
        .into_iter()
        .map(|(m, n)| if n > 1 { format!("{m} ×{n}") } else { m })
        .collect();
    format!(
        "{} × {} ({}, {tools} tools): {}",
        sent.len(),
        first.route,
        if stream { "stream" } else { "no stream" },
        models.join(" → ")
    )
}

// ---------------------------------------------------------------------------------------
// Parent side

/// What a helper needs, handed to it as JSON.
#[derive(Serialize, Deserialize)]
pub(super) struct Tools {
    pub(super) hfclaw: PathBuf,
    pub(super) claude: PathBuf,
    /// `bin/codex.js`
    pub(super) codex: PathBuf,
    pub(super) node: PathBuf,
    /// `openclaw.mjs`
    pub(super) openclaw: PathBuf,
    pub(super) compile_cache: PathBuf,
    /// Each case gets `scratch/<slug>`.
    pub(super) scratch: PathBuf,
    /// In a network namespace of its own (gateway on the recipes' port) or not (a free
    /// port, substituted into the recipes).
    pub(super) isolated: bool,
}

/// `isolation` if loopback can be brought up inside it (agents need the gateway), else
/// none.
pub(super) fn loopback_isolation(isolation: Isolation) -> Isolation {
    let mut probe = isolation.command(&ip());
    probe.args(["link", "set", "lo", "up"]);
    let works = probe
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if works { isolation } else { Isolation::None }
}

/// Runs `case` in a helper process, inside `isolation`, and returns its verdict.
pub(super) fn check(tools: &Tools, isolation: Isolation, case: &AgentCase) -> Result<Outcome> {
    let dir = tools.scratch.join(case.slug);
    fs::create_dir_all(&dir)?;
    let mut cmd = isolation.command(&std::env::current_exe()?);
    cmd.args(["interop", "__agent", case.slug])
        .arg(serde_json::to_string(tools)?);
    let run = run_captured(&mut cmd, &dir, "helper", HELPER_TIMEOUT)?;
    let verdict = run
        .stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<Verdict>(line).ok());
    match verdict {
        Some(Verdict { ok: true, text }) => Ok(Outcome {
            elapsed: run.elapsed,
            summary: text,
        }),
        Some(Verdict { ok: false, text }) => Err(text.into()),
        None => Err(format!(
            "the helper exited {:?} without a verdict\n{}",
            run.code,
            output(&run)
        )
        .into()),
    }
}

#[derive(Serialize, Deserialize)]
struct Verdict {
    ok: bool,
    text: String,
}

// ---------------------------------------------------------------------------------------
// Helper side

/// `xtask interop __agent SLUG TOOLS`: runs one case and prints its verdict.
pub(super) fn run_inside(slug: &str, tools: &str) -> Result<()> {
    let tools: Tools = serde_json::from_str(tools)?;
    let case = cases()
        .into_iter()
        .find(|c| c.slug == slug)
        .ok_or_else(|| format!("no agent case {slug:?}"))?;
    let verdict = match Inside::start(&tools, case.slug, case.serve_args, case.gateway) {
        Ok(inside) => match (case.run)(&inside) {
            Ok(text) => Verdict { ok: true, text },
            Err(e) => Verdict {
                ok: false,
                text: match &inside.gateway {
                    Some(gateway) => {
                        format!("{e}\nhfclaw serve said:\n{}", tail(&gateway.log(), 10))
                    }
                    None => e.to_string(),
                },
            },
        },
        Err(e) => Verdict {
            ok: false,
            text: e.to_string(),
        },
    };
    println!("{}", serde_json::to_string(&verdict)?);
    Ok(())
}

/// A started case: the fake router and (unless the case starts its own) `hfclaw serve` in
/// front of it.
pub(super) struct Inside<'a> {
    pub(super) tools: &'a Tools,
    pub(super) dir: PathBuf,
    pub(super) router: FakeRouter,
    gateway: Option<Gateway>,
}

impl<'a> Inside<'a> {
    fn start(tools: &'a Tools, slug: &str, serve_args: &[&str], gateway: bool) -> Result<Self> {
        if tools.isolated {
            let status = Command::new(ip())
                .args(["link", "set", "lo", "up"])
                .status()?;
            if !status.success() {
                return Err(format!("`ip link set lo up` exited with {status}").into());
            }
        }
        let dir = tools.scratch.join(slug);
        fs::create_dir_all(&dir)?;
        let router = FakeRouter::start();
        router.answer_any(answer);
        let listen = if tools.isolated {
            RECIPE_ADDR
        } else {
            "127.0.0.1:0"
        };
        let gateway = if gateway {
            Some(Gateway::start(
                &tools.hfclaw,
                &dir.join("gateway"),
                &router,
                listen,
                serve_args,
            )?)
        } else {
            None
        };
        Ok(Self {
            tools,
            dir,
            router,
            gateway,
        })
    }

    /// Where the gateway listens (`hfclaw serve`'s address; the recipes' when none runs).
    pub(super) fn addr(&self) -> &str {
        self.gateway
            .as_ref()
            .map_or(RECIPE_ADDR, |g| g.addr.as_str())
    }

    /// A recipe file, pointed at where the gateway listens.
    fn recipe(&self, path: &str) -> Result<String> {
        let text = fs::read_to_string(root().join(path)).map_err(|e| format!("{path}: {e}"))?;
        Ok(text.replace(RECIPE_ADDR, self.addr()))
    }

    /// The agents' `TMPDIR` (OpenClaw leaves lock files there).
    pub(super) fn tmp(&self) -> Result<PathBuf> {
        let tmp = self.dir.join("tmp");
        fs::create_dir_all(&tmp)?;
        Ok(tmp)
    }

    /// `node openclaw.mjs` with `DIR/openclaw.json` as its config and `DIR/home`,
    /// `DIR/state` as its HOME and state dir (created), in `DIR`, nothing else in its
    /// environment.
    pub(super) fn openclaw(&self, dir: &Path) -> Result<Command> {
        let (home, state) = (dir.join("home"), dir.join("state"));
        fs::create_dir_all(&home)?;
        fs::create_dir_all(&state)?;
        let mut cmd = Command::new(&self.tools.node);
        cmd.arg(&self.tools.openclaw)
            .env_clear()
            .env("PATH", self.path_with_node())
            .env("HOME", &home)
            .env("OPENCLAW_STATE_DIR", &state)
            .env("OPENCLAW_CONFIG_PATH", dir.join("openclaw.json"))
            .env("NODE_COMPILE_CACHE", &self.tools.compile_cache)
            .env("TMPDIR", self.tmp()?)
            .env("NO_COLOR", "1")
            .current_dir(dir);
        Ok(cmd)
    }

    pub(super) fn path_with_node(&self) -> String {
        let node_dir = self.tools.node.parent().unwrap_or(Path::new("/"));
        format!("{}:/usr/bin:/bin", node_dir.display())
    }

    /// `claude ARGS` as the recipe says (`ANTHROPIC_BASE_URL`, no non-essential traffic)
    /// plus `env`, in a fresh HOME; fails if Claude Code tried to reach anything else.
    fn claude(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Captured> {
        let (home, work) = (self.dir.join("home"), self.dir.join("work"));
        fs::create_dir_all(&home)?;
        fs::create_dir_all(&work)?;
        let debug_log = self.dir.join(CLAUDE_DEBUG_LOG);
        let mut cmd = Command::new(&self.tools.claude);
        cmd.args(args)
            .arg("--debug-file")
            .arg(&debug_log)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &home)
            .env("ANTHROPIC_BASE_URL", format!("http://{}", self.addr()))
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("TMPDIR", self.tmp()?)
            .envs(env.iter().copied())
            .current_dir(&work);
        let run = run_captured(&mut cmd, &self.dir, "claude", AGENT_TIMEOUT)?;
        claude_stayed_inside(&debug_log)?;
        Ok(run)
    }

    /// `codex exec --skip-git-repo-check ARGS "say hi"` with the recipe's `config.toml`
    /// in a fresh `CODEX_HOME` and the client key in `HFCLAW_API_KEY`; fails if Codex
    /// opened a connection to anything else.
    fn codex(&self, args: &[&str]) -> Result<Captured> {
        let (home, work) = (self.dir.join("home"), self.dir.join("work"));
        let codex_home = self.dir.join("codex-home");
        for dir in [&home, &work, &codex_home] {
            fs::create_dir_all(dir)?;
        }
        fs::write(codex_home.join("config.toml"), self.recipe(CODEX_RECIPE)?)?;
        let mut cmd = Command::new(&self.tools.node);
        cmd.arg(&self.tools.codex)
            .args(["exec", "--skip-git-repo-check"])
            .args(args)
            .arg(PROMPT)
            .env_clear()
            .env("PATH", self.path_with_node())
            .env("HOME", &home)
            .env("CODEX_HOME", &codex_home)
            .env("HFCLAW_API_KEY", CLIENT_KEY)
            .env("TMPDIR", self.tmp()?)
            // Logs each connection it opens, so the case sees what else Codex reaches for.
            .env("RUST_LOG", "reqwest::connect=debug")
            .current_dir(&work);
        let run = run_captured(&mut cmd, &self.dir, "codex", AGENT_TIMEOUT)?;
        let gateway = format!("http://{}/", self.addr());
        codex_stayed_inside(&run, |url| url == gateway)?;
        Ok(run)
    }

    /// [`Inside::routed`] for an agent whose first request may be any of `allowed` (side
    /// tasks may come first).
    fn routed_any_first(&self, routes: &[&str], allowed: &[&str]) -> Result<Vec<Recorded>> {
        let models = self
            .router
            .requests()
            .iter()
            .filter(|r| routes.contains(&r.route.as_str()))
            .find_map(Recorded::model);
        let first: Vec<&str> = models.as_deref().into_iter().collect();
        if first.is_empty() {
            return Err("the router got no request".into());
        }
        self.routed(routes, &first, allowed)
    }

    /// The requests the router got, checked against what the gateway must send: the
    /// user's token as Bearer and never the client key, only `routes` (and their
    /// `/count_tokens`; beside the gateway's `GET /v1/models`), router ids starting with
    /// `first` and all in `allowed`.
    pub(super) fn routed(
        &self,
        routes: &[&str],
        first: &[&str],
        allowed: &[&str],
    ) -> Result<Vec<Recorded>> {
        let sent: Vec<Recorded> = self
            .router
            .requests()
            .into_iter()
            .filter(|r| r.route != "GET /v1/models")
            .collect();
        let models: Vec<String> = sent.iter().filter_map(Recorded::model).collect();
        let mut problems = Vec::new();
        for request in &sent {
            let known = routes.iter().any(|route| {
                request.route == *route || request.route == format!("{route}/count_tokens")
            });
            if !known {
                problems.push(format!("unexpected {}", request.route));
            }
            if request.header("authorization") != Some(&format!("Bearer {HF_TOKEN}")) {
                problems.push(format!("{} without the user's token", request.route));
            }
            if request.headers.iter().any(|(_, v)| v.contains(CLIENT_KEY)) {
                problems.push(format!("{} carried the client key", request.route));
            }
        }
        if !models.starts_with(&first.iter().map(|m| (*m).to_owned()).collect::<Vec<_>>()) {
            problems.push(format!(
                "router ids {models:?}, expected to start with {first:?}"
            ));
        }
        if let Some(stray) = models.iter().find(|m| !allowed.contains(&m.as_str())) {
            problems.push(format!("router id {stray:?} is none of {allowed:?}"));
        }
        if first.is_empty() && !sent.is_empty() {
            problems.push(format!("{} request(s), expected none", sent.len()));
        }
        if problems.is_empty() {
            Ok(sent)
        } else {
            Err(problems.join("\n").into())
        }
    }
}

/// Fails if Claude Code's debug log shows it reached for a host (the namespace has none).
pub(super) fn claude_stayed_inside(debug_log: &Path) -> Result<()> {
    let log = fs::read_to_string(debug_log).unwrap_or_default();
    let outside: Vec<&str> = log
        .lines()
        .filter(|l| {
            ["EAI_AGAIN", "ENOTFOUND", "ENETUNREACH"]
                .iter()
                .any(|e| l.contains(e))
        })
        .take(5)
        .collect();
    if outside.is_empty() {
        return Ok(());
    }
    Err(format!(
        "Claude Code tried to reach more than the gateway:\n  {}",
        outside.join("\n  ")
    )
    .into())
}

/// Fails if Codex (under `RUST_LOG=reqwest::connect=debug`) opened a connection to a URL
/// that is not the gateway's.
pub(super) fn codex_stayed_inside(run: &Captured, gateway: impl Fn(&str) -> bool) -> Result<()> {
    let outside: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| {
            l.split_once("starting new connection: ")
                .map(|(_, url)| url)
        })
        .filter(|url| !gateway(url.trim()))
        .take(5)
        .collect();
    if outside.is_empty() {
        return Ok(());
    }
    Err(format!(
        "Codex tried to reach more than the gateway: {}",
        outside.join(", ")
    )
    .into())
}
