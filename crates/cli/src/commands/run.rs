//! `hfclaw run AGENT [ARGS…]`: Claude Code or Codex with its environment pointed at an
//! hfclaw gateway — the one already answering at the configured address (the installed
//! service's `--listen`, else `127.0.0.1:4000`), or else one started in this process on a
//! free loopback port for the agent's lifetime, with a one-time client key.
//!
//! The agent gets every argument untouched, the signals a process sends to hfclaw (the
//! terminal's Ctrl-C reaches it directly: it shares hfclaw's process group), and its exit
//! code becomes hfclaw's (128 + the signal when it was killed). At the end one stderr line
//! says what the run cost, from the gateway's own records: the tally of the gateway
//! started here, or the usage ledger of a running one over the agent's lifetime.

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hfclaw_accounting::keys::{self, KeyDirectory, KeyEntry, KeyHash, KeySource};
use hfclaw_accounting::{GroupBy, LedgerOptions, LedgerSpec, Tally, Totals, format_usd};
use hfclaw_gateway::{GatewayError, Options};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::args::{DEFAULT_LISTEN, RunArgs};
use crate::commands::service::{find_in_path, installed_command, unit::flag_value};
use crate::context::{Context, env, env_os, no_token};
use crate::error::{CliError, CliResult};
use crate::serve::{self, CliHost, Start};

/// The agents `hfclaw run` knows how to point at the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agent {
    /// Claude Code: Anthropic Messages.
    Claude,
    /// Codex: OpenAI Responses.
    Codex,
}

/// The variable holding the client key Codex sends (its provider's `env_key`), as the
/// README's Codex recipe names it.
const CODEX_KEY_VAR: &str = "HFCLAW_API_KEY";
/// The client key an agent sends to a gateway that needs none (an agent without any key
/// may refuse to start, or ask for a login).
const NO_KEY: &str = "hfclaw";
/// How long a request to a running gateway's `/healthz` or `/v1/models` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long requests still open when the agent exits may run on.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

impl Agent {
    const ALL: [Agent; 2] = [Agent::Claude, Agent::Codex];

    fn named(name: &str) -> CliResult<Agent> {
        Agent::ALL
            .into_iter()
            .find(|a| a.program() == name)
            .ok_or_else(|| {
                let known: Vec<String> = Agent::ALL
                    .iter()
                    .map(|a| format!("{} ({})", a.program(), a.title()))
                    .collect();
                CliError::input(format!(
                    "unknown agent {name:?}: hfclaw run supports {}",
                    known.join(" and ")
                ))
                .hint(format!(
                    "for another agent, run `hfclaw serve` and point it at http://{DEFAULT_LISTEN} (README: recipes)"
                ))
            })
    }

    /// The command's name, as on `PATH`.
    fn program(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Agent::Claude => "Claude Code",
            Agent::Codex => "Codex",
        }
    }

    /// Its npm package.
    fn package(self) -> &'static str {
        match self {
            Agent::Claude => "@anthropic-ai/claude-code",
            Agent::Codex => "@openai/codex",
        }
    }

    /// The label of the one-time key of a gateway started for it (`hfclaw usage --by key`).
    fn key_label(self) -> String {
        format!("run-{}", self.program())
    }

    /// The agent's command: `program`, the settings that point it at `gateway`, then the
    /// user's arguments untouched.
    fn command(self, program: &Path, gateway: &Endpoint, user_args: &[OsString]) -> Command {
        let key = gateway.key.as_deref().unwrap_or(NO_KEY);
        let mut command = Command::new(program);
        match self {
            Agent::Claude => {
                // `ANTHROPIC_AUTH_TOKEN` goes as `Authorization: Bearer`; an Anthropic key
                // in the environment would go too (`x-api-key`), and is not the gateway's.
                command
                    .env("ANTHROPIC_BASE_URL", format!("http://{}", gateway.addr))
                    .env("ANTHROPIC_AUTH_TOKEN", key)
                    .env_remove("ANTHROPIC_API_KEY");
            }
            Agent::Codex => {
                // Overrides of this run only (`-c`, TOML values): the user's Codex config is
                // never edited. `model` is the gateway's default unless `-m` says otherwise
                // (Codex's flags win over `-c`).
                command.env(CODEX_KEY_VAR, key);
                for (name, value) in codex_overrides(gateway.addr) {
                    command
                        .arg("-c")
                        .arg(format!("{name}={}", toml_string(&value)));
                }
            }
        }
        command.args(user_args);
        command
    }
}

/// Codex's settings for a model provider `hfclaw` on the gateway's `/v1`, speaking
/// Responses.
fn codex_overrides(addr: SocketAddr) -> Vec<(&'static str, String)> {
    vec![
        ("model_provider", "hfclaw".to_owned()),
        ("model_providers.hfclaw.name", "hfclaw".to_owned()),
        (
            "model_providers.hfclaw.base_url",
            format!("http://{addr}/v1"),
        ),
        ("model_providers.hfclaw.wire_api", "responses".to_owned()),
        ("model_providers.hfclaw.env_key", CODEX_KEY_VAR.to_owned()),
        ("model", hfclaw_gateway::DEFAULT_MODEL.to_owned()),
    ]
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Where the agent sends its requests, and the key it sends.
#[derive(Debug, Clone)]
struct Endpoint {
    addr: SocketAddr,
    key: Option<String>,
}

/// The gateway the agent uses.
enum Gateway {
    /// One that was already answering (the service).
    Running(Endpoint),
    /// One started in this process for the agent.
    Started(Started),
}

struct Started {
    endpoint: Endpoint,
    tally: Arc<Tally>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), GatewayError>>,
    ledger: Option<Arc<hfclaw_accounting::Ledger>>,
}

impl Gateway {
    fn endpoint(&self) -> &Endpoint {
        match self {
            Gateway::Running(endpoint) => endpoint,
            Gateway::Started(started) => &started.endpoint,
        }
    }
}

/// Runs `hfclaw run`; the agent's exit code.
pub fn run(ctx: &Context, args: &RunArgs) -> CliResult<u8> {
    let (name, agent_args) = match args.command.split_first() {
        Some((name, rest)) => (name.to_string_lossy(), rest),
        None => (Default::default(), &[][..]),
    };
    let agent = Agent::named(&name)?;
    let program = find_in_path(agent.program(), env_os("PATH").as_deref()).ok_or_else(|| {
        CliError::input(format!(
            "{} (`{}`) is not on PATH",
            agent.title(),
            agent.program()
        ))
        .hint(format!(
            "install it with `npm i -g {}`, then run `hfclaw run {}` again",
            agent.package(),
            agent.program()
        ))
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("hfclaw-run")
        .build()
        .map_err(|e| CliError::runtime(format!("starting the async runtime: {e}")))?;
    let gateway = match running_gateway(ctx, &runtime)? {
        Some(endpoint) => Gateway::Running(endpoint),
        None => Gateway::Started(start_gateway(ctx, args, agent, &runtime)?),
    };
    tracing::debug!(
        "{} through the gateway at http://{} ({})",
        agent.title(),
        gateway.endpoint().addr,
        match gateway {
            Gateway::Running(_) => "already running",
            Gateway::Started(_) => "started for this run",
        }
    );
    let since = SystemTime::now();
    let command = agent.command(&program, gateway.endpoint(), agent_args);
    let status = run_agent(command, &program);
    let line = match gateway {
        Gateway::Started(started) => {
            let totals = stop(ctx, &runtime, started);
            Some(summary_line(&totals, None))
        }
        Gateway::Running(endpoint) => {
            running_totals(ctx, args, since).map(|t| summary_line(&t, Some(endpoint.addr)))
        }
    };
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    let status = status?;
    if let Some(line) = line {
        ctx.messages.status(line);
    }
    Ok(exit_code(status))
}

/// The gateway answering at the configured address, with a key it takes; `None` when
/// nothing (or something that is not hfclaw) answers there.
fn running_gateway(ctx: &Context, runtime: &Runtime) -> CliResult<Option<Endpoint>> {
    let service = installed_command();
    let listen = service
        .as_deref()
        .and_then(|c| flag_value(c, "--listen"))
        .unwrap_or(DEFAULT_LISTEN);
    let Some(addr) = connect_addr(listen) else {
        ctx.messages.warn(format!(
            "cannot read the service's address {listen:?}; starting a gateway for this run"
        ));
        return Ok(None);
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(PROBE_TIMEOUT)
        .timeout(PROBE_TIMEOUT)
        .build()
        .map_err(|e| CliError::runtime(format!("cannot make an HTTP client: {e}")))?;
    let healthz = runtime.block_on(async {
        let answer = client.get(format!("http://{addr}/healthz")).send().await?;
        let ok = answer.status().is_success();
        let body = answer.bytes().await?;
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        Ok::<_, reqwest::Error>(ok && hfclaw_gateway::is_health_body(&body))
    });
    match healthz {
        Ok(true) => {}
        Ok(false) => {
            ctx.messages.note(format!(
                "{addr} answers, but not as an hfclaw gateway; starting one for this run"
            ));
            return Ok(None);
        }
        Err(e) if e.is_connect() => return Ok(None),
        Err(e) => {
            ctx.messages.note(format!(
                "{addr} does not answer as an hfclaw gateway ({e}); starting one for this run"
            ));
            return Ok(None);
        }
    }
    // The key a client of this gateway would have: the one `hfclaw serve` takes from the
    // environment, else the service's key file.
    let mut keys: Vec<String> = env("HFCLAW_SERVE_API_KEY")
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .into_iter()
        .collect();
    if let Some(file) = service
        .as_deref()
        .and_then(|c| flag_value(c, "--api-key-file"))
    {
        match keys::file::read(Path::new(file)) {
            Ok(found) => keys.extend(found.into_iter().map(|k| k.secret)),
            Err(e) => ctx.messages.warn(format!("the service's keys: {e}")),
        }
    }
    let candidates = std::iter::once(None).chain(keys.into_iter().map(Some));
    for key in candidates {
        let mut request = client.get(format!("http://{addr}/v1/models"));
        if let Some(key) = &key {
            request = request.bearer_auth(key);
        }
        let status = runtime
            .block_on(async { request.send().await })
            .map_err(|e| CliError::runtime(format!("the gateway at {addr}: {e}")))?
            .status();
        if status.is_success() {
            return Ok(Some(Endpoint { addr, key }));
        }
        if status != reqwest::StatusCode::UNAUTHORIZED {
            return Err(CliError::runtime(format!(
                "the gateway at {addr} answered {status} to GET /v1/models"
            ))
            .hint("see `hfclaw service status`, or stop it to let hfclaw run start its own"));
        }
    }
    Err(
        CliError::input(format!("the gateway at {addr} needs a client key")).hint(
            "set HFCLAW_SERVE_API_KEY to one of its keys, or stop it to let hfclaw run start its own",
        ),
    )
}

/// The address to connect to for a listen address: the address itself, or loopback for
/// one that listens on every interface.
pub(crate) fn connect_addr(listen: &str) -> Option<SocketAddr> {
    let mut addr = listen.to_socket_addrs().ok()?.next()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    Some(addr)
}

/// Starts a gateway on a free loopback port, as `hfclaw serve` would with the config,
/// that takes only a one-time key.
fn start_gateway(
    ctx: &Context,
    args: &RunArgs,
    agent: Agent,
    runtime: &Runtime,
) -> CliResult<Started> {
    let view = ctx.load_view()?;
    if ctx.token(&view)?.is_none() {
        return Err(no_token());
    }
    let host = Arc::new(CliHost {
        ctx: Context::new(ctx.global.clone(), &ctx.command)?,
        status_lines: false,
    });
    let routes = serve::model_routes(&args.routes)?;
    let snapshot = serve::load(&host.ctx, Start::ForRun)?;
    serve::check_routes(ctx, &routes, &snapshot)?;
    let ledger = if args.ledger.no_ledger {
        None
    } else {
        match crate::ledger::spec_at(&args.ledger.location).and_then(|s| crate::ledger::open(&s)) {
            Ok(ledger) => Some(Arc::new(ledger)),
            Err(e) => {
                ctx.messages.warn(format!(
                    "this run's requests are not recorded in the usage ledger: {}",
                    e.message()
                ));
                None
            }
        }
    };
    let key = one_time_key()?;
    let tally = Arc::new(Tally::new());
    let entry = KeyEntry::configured(
        &agent.key_label(),
        KeyHash::of(&key),
        KeySource::Flag,
        false,
    );
    let options = Options {
        keys: Arc::new(KeyDirectory::new(vec![entry])),
        recorder: ledger.as_ref().map(|l| l.recorder()),
        tally: Some(tally.clone()),
        routes,
        shutdown_grace: SHUTDOWN_GRACE,
        ..Options::default()
    };
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .and_then(|l| Ok((l.local_addr()?, l)))
        .map_err(|e| CliError::runtime(format!("cannot listen on a loopback port: {e}")))?;
    let (addr, listener) = listener;
    if let Some(login) = serve::keep_login_fresh(&host) {
        runtime.spawn(login);
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let server = runtime.spawn(hfclaw_gateway::serve_until(
        listener,
        options,
        snapshot,
        host,
        async move {
            let _ = stopped.await;
        },
    ));
    Ok(Started {
        endpoint: Endpoint {
            addr,
            key: Some(key),
        },
        tally,
        stop,
        server,
        ledger,
    })
}

/// A fresh random client key, as `hfclaw keys create` makes them.
fn one_time_key() -> CliResult<String> {
    keys::new_secret().map_err(|e| CliError::runtime(format!("cannot make a client key: {e}")))
}

/// Stops the gateway started for the agent, writes its ledger rows, and returns what it
/// served.
fn stop(ctx: &Context, runtime: &Runtime, started: Started) -> Totals {
    let Started {
        tally,
        stop,
        server,
        ledger,
        ..
    } = started;
    let _ = stop.send(());
    // The grace period, and a little for the accept loop to notice.
    let limit = SHUTDOWN_GRACE + Duration::from_secs(1);
    match runtime.block_on(async { tokio::time::timeout(limit, server).await }) {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => ctx.messages.warn(format!("the gateway: {e}")),
        Ok(Err(e)) => ctx.messages.warn(format!("the gateway stopped: {e}")),
        Err(_) => tracing::debug!("the gateway did not stop within {limit:?}"),
    }
    if let Some(ledger) = ledger
        && let Err(e) = ledger.close()
    {
        ctx.messages.warn(format!("the usage ledger: {e}"));
    }
    tally.totals()
}

/// What a running gateway recorded in the usage ledger while the agent ran; `None` (with
/// a note) when there is no ledger to read.
fn running_totals(ctx: &Context, args: &RunArgs, since: SystemTime) -> Option<Totals> {
    if args.ledger.no_ledger {
        return None;
    }
    let spec = crate::ledger::spec_at(&args.ledger.location).ok()?;
    if spec.is_missing_file() {
        ctx.messages.note(format!(
            "no usage ledger at {}: the running gateway's usage is unknown here",
            spec.location()
        ));
        return None;
    }
    // The gateway writes its rows in batches, at most a flush interval after a request
    // ends.
    std::thread::sleep(LedgerOptions::default().flush_interval + Duration::from_millis(150));
    let read = |spec: &LedgerSpec| {
        let ledger = crate::ledger::open(spec)?;
        let totals = ledger.totals(GroupBy::Model, since, SystemTime::now())?;
        let _ = ledger.close();
        Ok::<_, CliError>(totals)
    };
    match read(&spec) {
        Ok(totals) => Some(totals),
        Err(e) => {
            ctx.messages
                .warn(format!("reading the usage ledger: {}", e.message()));
            None
        }
    }
}

/// Runs the agent to its end, passing on the signals a process sends to hfclaw.
#[cfg(unix)]
fn run_agent(mut command: Command, program: &Path) -> CliResult<ExitStatus> {
    use std::sync::atomic::{AtomicBool, Ordering};

    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    use signal_hook::iterator::SignalsInfo;
    use signal_hook::iterator::exfiltrator::WithOrigin;

    // Caught from before the agent starts: none may end hfclaw (and its gateway) under it.
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        .map_err(|e| CliError::runtime(format!("cannot handle signals: {e}")))?;
    let handle = signals.handle();
    let mut child = command
        .spawn()
        .map_err(|e| CliError::runtime(format!("cannot start {}: {e}", program.display())))?;
    let pid = rustix::process::Pid::from_child(&child);
    let exited = Arc::new(AtomicBool::new(false));
    let done = exited.clone();
    let forwarder = std::thread::Builder::new()
        .name("hfclaw-signals".to_owned())
        .spawn(move || {
            for origin in signals.forever() {
                // The terminal's Ctrl-C, Ctrl-\ and hang-up come from the kernel and reach
                // the agent too (one foreground process group); a signal another process
                // sent (`kill`) came to hfclaw alone.
                let from_a_process = origin.process.is_some_and(|p| p.pid != 0);
                if !from_a_process || done.load(Ordering::Acquire) {
                    continue;
                }
                if let Some(signal) = rustix::process::Signal::from_named_raw(origin.signal) {
                    tracing::debug!("passing signal {} on to the agent", origin.signal);
                    let _ = rustix::process::kill_process(pid, signal);
                }
            }
        });
    let status = child.wait();
    exited.store(true, Ordering::Release);
    handle.close();
    if let Ok(forwarder) = forwarder {
        let _ = forwarder.join();
    }
    status.map_err(|e| CliError::runtime(format!("waiting for {}: {e}", program.display())))
}

/// Runs the agent to its end.
#[cfg(not(unix))]
fn run_agent(mut command: Command, program: &Path) -> CliResult<ExitStatus> {
    command
        .status()
        .map_err(|e| CliError::runtime(format!("cannot start {}: {e}", program.display())))
}

/// The agent's exit code; 128 + the signal that killed it.
fn exit_code(status: ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return u8::try_from(128 + signal).unwrap_or(255);
        }
    }
    1
}

/// The closing line: `hfclaw: 14 requests, 48k tokens, $0.021, answered by …`; `via`
/// names a running gateway (whose ledger counts every client's requests meanwhile).
fn summary_line(totals: &Totals, via: Option<SocketAddr>) -> String {
    let t = &totals.total;
    let mut line = if t.requests == 0 {
        "hfclaw: no requests".to_owned()
    } else {
        let mut parts = vec![plural(t.requests, "request")];
        if t.errors > 0 {
            parts[0].push_str(&format!(" ({} failed)", t.errors));
        }
        let tokens = t.input_tokens + t.output_tokens;
        if tokens > 0 {
            parts.push(format!("{} tokens", compact(tokens)));
        }
        let answered = t.requests - t.errors;
        if t.unpriced_requests >= answered && t.cost_usd == 0.0 {
            if answered > 0 {
                parts.push("cost unknown".to_owned());
            }
        } else {
            let mut cost = format_usd(t.cost_usd, t.estimated_cost_usd > 0.0);
            if t.unpriced_requests > 0 {
                cost.push_str(&format!(" (+{} unpriced)", t.unpriced_requests));
            }
            parts.push(cost);
        }
        let mut models: Vec<(&str, u64)> = totals
            .groups
            .iter()
            .filter(|g| g.counts.requests > g.counts.errors)
            .filter_map(|g| Some((g.group.as_deref()?, g.counts.requests - g.counts.errors)))
            .collect();
        models.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        match models.as_slice() {
            [] => {}
            [(model, _)] => parts.push(format!("answered by {model}")),
            _ => {
                const SHOWN: usize = 3;
                let mut named: Vec<String> = models
                    .iter()
                    .take(SHOWN)
                    .map(|(model, n)| format!("{model} ({n})"))
                    .collect();
                if models.len() > SHOWN {
                    named.push(format!("{} more", models.len() - SHOWN));
                }
                parts.push(format!("answered by {}", named.join(", ")));
            }
        }
        format!("hfclaw: {}", parts.join(", "))
    };
    if let Some(addr) = via {
        line.push_str(&format!(" (through the gateway at {addr})"));
    }
    line
}

fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// `412`, `1.2k`, `48k`, `1.3M`.
fn compact(n: u64) -> String {
    let scaled = |value: f64, unit: &str| {
        let text = if value < 10.0 {
            format!("{value:.1}")
        } else {
            format!("{value:.0}")
        };
        format!("{}{unit}", text.strip_suffix(".0").unwrap_or(&text))
    };
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => scaled(n as f64 / 1e3, "k"),
        _ => scaled(n as f64 / 1e6, "M"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hfclaw_accounting::{Counts, GroupTotals};

    use super::*;

    fn group(model: &str, requests: u64, errors: u64, usd: f64) -> GroupTotals {
        GroupTotals {
            group: Some(model.to_owned()),
            counts: Counts {
                requests,
                errors,
                input_tokens: 1000 * requests,
                output_tokens: 200 * requests,
                cost_usd: usd,
                ..Counts::default()
            },
        }
    }

    fn totals(groups: Vec<GroupTotals>) -> Totals {
        let mut total = Counts::default();
        for g in &groups {
            total.requests += g.counts.requests;
            total.errors += g.counts.errors;
            total.input_tokens += g.counts.input_tokens;
            total.output_tokens += g.counts.output_tokens;
            total.cost_usd += g.counts.cost_usd;
            total.unpriced_requests += g.counts.unpriced_requests;
        }
        Totals {
            by: GroupBy::Model,
            groups,
            total,
        }
    }

    #[test]
    fn the_closing_line_counts_requests_tokens_cost_and_who_answered() {
        let r1 = "huggingface/deepseek-ai/DeepSeek-R1";
        let qwen = "huggingface/Qwen/Qwen3-8B:cheapest";
        assert_eq!(
            summary_line(&totals(vec![group(r1, 14, 0, 0.021)]), None),
            "hfclaw: 14 requests, 17k tokens, $0.021, answered by huggingface/deepseek-ai/DeepSeek-R1"
        );
        let mixed = totals(vec![
            group(r1, 2, 0, 0.01),
            group(qwen, 12, 1, 0.002),
            group("claude-opus-5-5", 1, 1, 0.0),
        ]);
        assert_eq!(
            summary_line(&mixed, None),
            "hfclaw: 15 requests (2 failed), 18k tokens, $0.012, answered by \
             huggingface/Qwen/Qwen3-8B:cheapest (11), huggingface/deepseek-ai/DeepSeek-R1 (2)"
        );
        assert_eq!(
            summary_line(&totals(Vec::new()), "127.0.0.1:4000".parse().ok()),
            "hfclaw: no requests (through the gateway at 127.0.0.1:4000)"
        );
        let mut unpriced = totals(vec![group(r1, 1, 0, 0.0)]);
        unpriced.total.unpriced_requests = 1;
        assert_eq!(
            summary_line(&unpriced, None),
            "hfclaw: 1 request, 1.2k tokens, cost unknown, answered by huggingface/deepseek-ai/DeepSeek-R1"
        );
    }

    #[test]
    fn token_counts_are_compact() {
        assert_eq!(compact(412), "412");
        assert_eq!(compact(1_000), "1k");
        assert_eq!(compact(1_250), "1.2k");
        assert_eq!(compact(48_213), "48k");
        assert_eq!(compact(999_999), "1000k");
        assert_eq!(compact(1_300_000), "1.3M");
    }

    #[test]
    fn an_unknown_agent_is_refused_with_the_known_ones() {
        let e = Agent::named("cursor").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.message(),
            "unknown agent \"cursor\": hfclaw run supports claude (Claude Code) and codex (Codex)"
        );
    }

    #[test]
    fn codex_gets_a_responses_provider_as_overrides() {
        let gateway = Endpoint {
            addr: "127.0.0.1:4321".parse().unwrap(),
            key: Some("k".to_owned()),
        };
        let command = Agent::Codex.command(
            Path::new("/bin/codex"),
            &gateway,
            &["exec".into(), "say hi".into()],
        );
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "-c",
                "model_provider=\"hfclaw\"",
                "-c",
                "model_providers.hfclaw.name=\"hfclaw\"",
                "-c",
                "model_providers.hfclaw.base_url=\"http://127.0.0.1:4321/v1\"",
                "-c",
                "model_providers.hfclaw.wire_api=\"responses\"",
                "-c",
                "model_providers.hfclaw.env_key=\"HFCLAW_API_KEY\"",
                "-c",
                "model=\"default\"",
                "exec",
                "say hi"
            ]
        );
        assert_eq!(toml_string("a\"b\\c"), r#""a\"b\\c""#);
    }

    #[test]
    fn a_service_on_every_interface_is_reached_on_loopback() {
        assert_eq!(connect_addr("0.0.0.0:4000"), "127.0.0.1:4000".parse().ok());
        assert_eq!(connect_addr("[::]:4000"), "[::1]:4000".parse().ok());
        assert_eq!(
            connect_addr("127.0.0.1:4001"),
            "127.0.0.1:4001".parse().ok()
        );
        assert_eq!(connect_addr("nonsense"), None);
    }
}
