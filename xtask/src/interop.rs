//! `cargo xtask interop`: the real OpenClaw judges whether configs load, and real agents
//! talk through `hfclaw serve`.
//!
//! OpenClaw refuses a whole config file over one unknown key, so "our writer only emits
//! OpenClaw's keys" is a claim only OpenClaw itself can check; and "Claude Code works
//! through the gateway" only Claude Code can. This task:
//!
//! 1. installs a pinned OpenClaw (npm `openclaw`) and a pinned Node 24 binary (npm
//!    `node-linux-<arch>`; OpenClaw needs Node >= 24.16; elsewhere point
//!    `$HFCLAW_INTEROP_NODE` at one) into a cache dir, once (`$HFCLAW_INTEROP_DIR`, else
//!    `target/interop/`, ~850 MB, ~30 s cold), and next to them Claude Code and Codex
//!    (~850 MB more, ~40 s cold);
//! 2. builds `hfclaw` (dev profile: the build the tests already made) and runs it
//!    (offline, empty environment) to write configs: `onboard`, `models set`,
//!    `fallbacks`, `aliases`, `sync` (also into `models.json`), starting from nothing, from
//!    seed configs and from a commented JSON5 fixture whose comments must all survive;
//! 3. for each [`Case`] (group `configs`), copies the config into a fresh
//!    temp dir used as OpenClaw's config path, state dir, HOME and cwd, runs `openclaw
//!    models status --json` with a cleared environment and (where the kernel allows) no
//!    network, and compares what OpenClaw reports with what the config says, or for
//!    hfclaw's configs with what the commands asked for;
//! 4. for each [`AgentCase`] (group `agents`), runs an unmodified agent (Claude Code,
//!    Codex, OpenClaw's agent, the OpenAI SDK) configured as the README's recipes say,
//!    against `hfclaw serve` in front of a fake router, in a network namespace where
//!    only loopback exists, and checks its answer and what the router received.
//!
//! `--no-install` turns a missing cache into a skip (exit 0) instead of an npm install,
//! for CI runners without registry access; a FILTER argument runs one group or the cases
//! whose name contains it. Findings about OpenClaw's schema (and the agents) that these
//! cases rely on are in `interop/NOTES.md`.
//!
//! Modules: [`install`] (the cache dir), [`cases`] (fixture cases and what OpenClaw must
//! report), [`hfclaw_configs`] (configs the `hfclaw` binary writes), [`openclaw`] (running
//! `models status` and judging it), [`agents`] (agents through the gateway), [`gateway`]
//! (`hfclaw serve` for them), [`memory`] (OpenClaw's memory index and search on the
//! gateway's embeddings), [`run_agents`] (`hfclaw run claude|codex`, which starts its own
//! gateway), [`process`] (running a tool with a deadline).

mod agents;
mod cases;
mod gateway;
mod hfclaw_configs;
mod install;
mod memory;
mod openclaw;
mod process;
mod run_agents;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::{Result, root};
use agents::{AgentCase, Tools};
use cases::Case;
use install::{
    CLAUDE_CODE_VERSION, CODEX_VERSION, NODE_VERSION, OPENCLAW_VERSION, cache_dir, ensure_agents,
    ensure_installed,
};
use openclaw::{Isolation, OpenClaw, Outcome};

const USAGE: &str = "usage: cargo xtask interop [--no-install] [FILTER]

  --no-install   skip (exit 0) instead of installing when the OpenClaw cache is missing
  FILTER         run only the cases whose name contains FILTER (e.g. `Claude Code`), or
                 one group: `configs` (OpenClaw loads configs) or `agents` (through hfclaw serve)";

/// What to do when the OpenClaw cache is missing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Install {
    /// Install it; failing to is an error.
    Required,
    /// Skip the run (exit 0).
    Never,
    /// Try to install it; when that fails (no registry access), skip with a warning.
    /// What `cargo xtask ci` uses: a real incompatibility still fails, a missing network
    /// does not.
    OrSkip,
}

/// Entry point: `cargo xtask interop [--no-install]`.
pub fn run(args: &[&str]) -> Result<()> {
    match args {
        // Internal: one agent case, run by `agents::check` in its network namespace.
        ["__agent", slug, tools] => agents::run_inside(slug, tools),
        ["--no-install", rest @ ..] if rest.len() <= 1 => run_with(Install::Never, rest.first()),
        [filter] if !filter.starts_with('-') => run_with(Install::Required, Some(filter)),
        [] => run_with(Install::Required, None),
        _ => Err(format!("unknown arguments {args:?}\n\n{USAGE}").into()),
    }
}

/// The `cargo xtask ci` step: installs OpenClaw on first use, skips only when it cannot.
pub fn run_for_ci() -> Result<()> {
    run_with(Install::OrSkip, None)
}

fn run_with(install: Install, filter: Option<&&str>) -> Result<()> {
    let started = Instant::now();
    let dir = cache_dir();
    let installed = match ensure_installed(&dir, install != Install::Never) {
        Err(e) if install == Install::OrSkip => {
            println!(
                "interop: skipped: installing OpenClaw {OPENCLAW_VERSION} failed: {e}\n\
                 warning: configs were not checked against the real OpenClaw; \
                 run `cargo xtask interop` where the npm registry is reachable"
            );
            return Ok(());
        }
        other => other?,
    };
    let Some(openclaw) = installed else {
        println!(
            "interop: skipped: OpenClaw {OPENCLAW_VERSION} is not installed in {}\n\
             hint: run `cargo xtask interop` once with npm registry access to install it",
            dir.display()
        );
        return Ok(());
    };
    let scratch = tempfile::Builder::new()
        .prefix("hfclaw-interop-cases-")
        .tempdir()?;
    let preparing = Instant::now();
    let mut cases = cases::cases(&root(), scratch.path())?;
    let wanted = |group: &str, name: &str| filter.is_none_or(|f| *f == group || name.contains(*f));
    cases.retain(|c| wanted("configs", &c.name));
    let agents = agent_tools(&dir, &openclaw, install, scratch.path())?;
    println!(
        "interop: OpenClaw {OPENCLAW_VERSION} on Node {NODE_VERSION}, network: {}, {} cases \
         (built hfclaw and wrote its configs in {:.1} s)",
        openclaw.isolation.describe(),
        cases.len(),
        preparing.elapsed().as_secs_f64()
    );
    let mut agent_cases = if agents.is_some() {
        agents::cases()
    } else {
        Vec::new()
    };
    agent_cases.retain(|c| wanted("agents", c.name));
    // Agents first: the longest runs start early and overlap the many short ones.
    let jobs: Vec<Job<'_>> = agent_cases
        .iter()
        .map(Job::Agent)
        .chain(cases.iter().map(Job::Config))
        .collect();
    let results = run_parallel(&jobs, |job| match (job, &agents) {
        (Job::Config(case), _) => openclaw::check_case(&openclaw, case),
        (Job::Agent(case), Some((tools, isolation))) => agents::check(tools, *isolation, case),
        (Job::Agent(_), None) => Err("no agents installed".into()),
    });
    let (agent_results, config_results) = results.split_at(agent_cases.len());
    let mut failed = report(cases.iter().map(|c| c.name.as_str()), config_results);
    if let Some((_, isolation)) = &agents {
        println!(
            "interop: through hfclaw serve: Claude Code {CLAUDE_CODE_VERSION}, Codex \
             {CODEX_VERSION}, OpenClaw {OPENCLAW_VERSION}; gateway on {}",
            match isolation {
                Isolation::None => "a free loopback port (network not isolated)",
                _ => "127.0.0.1:4000 in a network namespace of its own (loopback only)",
            }
        );
        failed += report(agent_cases.iter().map(|c| c.name), agent_results);
    }
    let total = started.elapsed().as_secs_f64();
    if failed == 0 {
        println!(
            "interop: {} of {} passed in {total:.1} s",
            jobs.len(),
            jobs.len()
        );
        Ok(())
    } else {
        Err(format!(
            "interop: {failed} of {} cases failed ({total:.1} s)",
            jobs.len()
        )
        .into())
    }
}

/// One thing to check: a config OpenClaw loads, or an agent through the gateway.
enum Job<'a> {
    Config(&'a Case),
    Agent(&'a AgentCase),
}

/// Claude Code and Codex (installed on first use, like OpenClaw) and what a helper needs
/// to run them; `None` (with a note) when they are not installed and may not be.
fn agent_tools(
    dir: &Path,
    openclaw: &OpenClaw,
    install: Install,
    scratch: &Path,
) -> Result<Option<(Tools, Isolation)>> {
    let installed = match ensure_agents(dir, &openclaw.node, install != Install::Never) {
        Err(e) if install == Install::OrSkip => {
            println!(
                "interop: warning: installing Claude Code {CLAUDE_CODE_VERSION} and Codex \
                 {CODEX_VERSION} failed ({e}); the agent cases through hfclaw serve are SKIPPED"
            );
            return Ok(None);
        }
        other => other?,
    };
    let Some(installed) = installed else {
        println!(
            "interop: agent cases skipped: Claude Code {CLAUDE_CODE_VERSION} / Codex \
             {CODEX_VERSION} are not installed in {}",
            dir.display()
        );
        return Ok(None);
    };
    let isolation = agents::loopback_isolation(openclaw.isolation);
    let tools = Tools {
        hfclaw: hfclaw_configs::build_binary(&root(), "hfclaw", "hfclaw")?,
        claude: installed.claude,
        codex: installed.codex,
        node: openclaw.node.clone(),
        openclaw: openclaw.entry.clone(),
        compile_cache: openclaw.compile_cache.clone(),
        scratch: scratch.join("agents"),
        isolated: !matches!(isolation, Isolation::None),
    };
    Ok(Some((tools, isolation)))
}

/// Prints one line per case (and the error under a failed one); returns the failures.
fn report<'a>(names: impl Iterator<Item = &'a str>, results: &[Result<Outcome>]) -> usize {
    let mut failed = 0;
    for (name, result) in names.zip(results) {
        match result {
            Ok(outcome) => println!(
                "  ✓ {name:<44} {:>5.1} s  {}",
                outcome.elapsed.as_secs_f64(),
                outcome.summary
            ),
            Err(e) => {
                failed += 1;
                println!("  ✗ {name}");
                for line in e.to_string().lines() {
                    println!("      {line}");
                }
            }
        }
    }
    failed
}

/// Runs `check` on every item on a few threads: each run is mostly one single-threaded
/// process (node, an agent).
fn run_parallel<T: Sync>(
    items: &[T],
    check: impl Fn(&T) -> Result<Outcome> + Sync,
) -> Vec<Result<Outcome>> {
    // Errors cross threads as strings: the boxed error type is not Send.
    type Slot = Mutex<Option<std::result::Result<Outcome, String>>>;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let next = AtomicUsize::new(0);
    let slots: Vec<Slot> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = check(item).map_err(|e| e.to_string());
                    if let Some(slot) = slots.get(i)
                        && let Ok(mut slot) = slot.lock()
                    {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| match slot.into_inner() {
            Ok(Some(result)) => result.map_err(Into::into),
            _ => Err("case did not run (worker thread panicked)".into()),
        })
        .collect()
}
