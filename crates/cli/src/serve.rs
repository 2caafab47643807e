//! `hfclaw serve`: composes the gateway (`hfclaw-gateway`) from the config — flags into
//! options, client keys from `--api-key`/`--api-key-file`, the usage ledger and budgets
//! (`hfclaw-accounting`), the config into snapshots (again on reload), messages onto
//! stderr.

use std::collections::{BTreeMap, HashSet};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use hfclaw_accounting::time::{from_unix_ms, start_of_day, unix_ms};
use hfclaw_accounting::{BudgetConfig, Budgets, Ledger, key_label};
use hfclaw_gateway::{
    Access, AccessError, ClientKey, Host, ModelRoute, ModelRoutes, Options, Snapshot,
};

use crate::args::{RouteArgs, ServeArgs};
use crate::context::{Context, user_models};
use crate::error::{CliError, CliResult};

/// How often a gateway with budgets re-reads today's spend from the ledger, so that
/// other writers (replicas on PostgreSQL, `hfclaw chat`) count too.
const BUDGET_SYNC_INTERVAL: Duration = Duration::from_secs(5);
/// How often an `hf auth login` token is looked at between its refresh deadlines (a
/// cached decision: no file is read, no request made until one is due).
const LOGIN_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Runs the gateway until SIGINT or SIGTERM.
pub fn run(ctx: &Context, args: &ServeArgs) -> CliResult {
    let addr = listen_addr(&args.listen)?;
    let keys = client_keys(args)?;
    let routes = model_routes(&args.routes)?;
    let budget_config = budget_config(args, &keys)?;
    if !addr.ip().is_loopback() && keys.is_empty() {
        if !args.allow_unauthenticated_lan {
            return Err(CliError::input(format!(
                "refusing to listen on {addr} without a client key: anyone who can reach this \
                 port could spend your Hugging Face credits"
            ))
            .hint(
                "give clients a key with --api-key or --api-key-file, listen on 127.0.0.1, or \
                 pass --allow-unauthenticated-lan if every host that can reach it is trusted",
            ));
        }
        ctx.messages.warn(format!(
            "listening on {addr} without --api-key: anyone who can reach this port can spend \
             your Hugging Face credits"
        ));
    }
    let access = access(&args.listen, addr, args)?;
    // Reloads run on a thread of their own and need a context they own.
    let host = Arc::new(CliHost {
        ctx: Context::new(ctx.global.clone(), &ctx.command)?,
    });
    let snapshot = load(
        &host.ctx,
        Start::Now {
            refresh: args.refresh,
        },
    )?;
    if !snapshot.client.has_token() {
        ctx.messages.warn(
            "no Hugging Face token found: the router will refuse chat requests; run `hfclaw \
             onboard` or set HF_TOKEN",
        );
    }
    ctx.messages
        .status(format!("serving {}", snapshot.summary()));
    check_routes(ctx, &routes, &snapshot)?;
    let ledger = if args.ledger.no_ledger {
        None
    } else {
        let spec = crate::ledger::spec(args.ledger.ledger.as_deref())?;
        Some(Arc::new(crate::ledger::open(&spec)?))
    };
    let budgets = start_budgets(ctx, ledger.as_deref(), budget_config)?;
    let options = Options {
        keys,
        access,
        max_concurrent: args.max_concurrent,
        timeout: Duration::from_secs(args.timeout),
        split_reasoning: args.split_reasoning,
        max_body: args.max_body as usize * 1024 * 1024,
        header_read_timeout: Duration::from_secs(args.header_timeout),
        recorder: ledger.as_ref().map(|l| l.recorder()),
        budgets: budgets.clone(),
        routes,
        ..Options::default()
    };
    if let Some(ledger) = &ledger {
        ctx.messages
            .status(format!("recording usage in {}", ledger.location()));
    }
    let syncing = Arc::new(AtomicBool::new(true));
    let sync = match (&ledger, &budgets) {
        (Some(ledger), Some(budgets)) => {
            sync_budgets(ledger.clone(), budgets.clone(), syncing.clone())
        }
        _ => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hfclaw-serve")
        .build()
        .map_err(|e| CliError::runtime(format!("starting the async runtime: {e}")))?;
    // An `hf auth login` token is refreshed when due; the rewritten token file makes the
    // file watcher reload the snapshot with it.
    let login = host.ctx.hf_login().cloned().map(|refresher| {
        let reporter = host.clone();
        refresher.keep_fresh(LOGIN_CHECK_INTERVAL, move |event| {
            crate::login::report(&reporter.ctx, event);
        })
    });
    let result = runtime.block_on(async move {
        if let Some(login) = login {
            tokio::spawn(login);
        }
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            CliError::runtime(format!("cannot listen on {addr}: {e}"))
                .hint("pick another address with --listen HOST:PORT")
        })?;
        hfclaw_gateway::serve(listener, options, snapshot, host)
            .await
            .map_err(|e| CliError::runtime(e.to_string()))
    });
    // Streams still open after the grace period are cut here (and recorded as cut).
    runtime.shutdown_timeout(Duration::from_secs(1));
    syncing.store(false, Ordering::Release);
    if let Some(sync) = sync {
        let _ = sync.join();
    }
    if let Some(ledger) = ledger {
        // Every row of a request that was answered is written before the process ends.
        if let Err(e) = ledger.close() {
            ctx.messages.warn(format!("the usage ledger: {e}"));
        }
        let stats = ledger.stats();
        if stats.dropped > 0 || stats.write_failures > 0 {
            ctx.messages.warn(format!(
                "the usage ledger dropped {} row(s) and saw {} write failure(s)",
                stats.dropped, stats.write_failures
            ));
        }
    }
    result
}

/// `--route PATTERN=MODEL` (or `HFCLAW_ROUTES`) in order, then the built-in routes unless
/// `--no-default-routes`. Empty entries (a trailing `;`) are skipped.
pub fn model_routes(args: &RouteArgs) -> CliResult<ModelRoutes> {
    let user = args
        .routes
        .iter()
        .filter(|text| !text.trim().is_empty())
        .map(|text| {
            text.parse::<ModelRoute>().map_err(|e| {
                CliError::input(format!("invalid --route: {e}")).hint(
                    "use --route 'PATTERN=MODEL', e.g. --route 'claude-*haiku*=qwen' (MODEL is \
                     a ref, an alias, org/model or default)",
                )
            })
        })
        .collect::<CliResult<Vec<_>>>()?;
    Ok(ModelRoutes::new(user, !args.no_default_routes))
}

/// Refuses routes whose target is no model of `snapshot`; warns about routes that never
/// apply; says which routes the gateway serves.
fn check_routes(ctx: &Context, routes: &ModelRoutes, snapshot: &Snapshot) -> CliResult {
    let check = routes.check(snapshot);
    for warning in &check.warnings {
        ctx.messages.warn(warning);
    }
    if let Some(error) = check.errors.first() {
        return Err(CliError::input(error.clone()).hint(
            "point the route at a ref, an alias or org/model that `hfclaw models list` shows, or at default",
        ));
    }
    let list: Vec<String> = routes.iter().map(ToString::to_string).collect();
    if !list.is_empty() {
        ctx.messages.status(format!("routes: {}", list.join(", ")));
    }
    Ok(())
}

/// The client keys: `--api-key` (labelled by its hash) and the lines of `--api-key-file`.
fn client_keys(args: &ServeArgs) -> CliResult<Vec<ClientKey>> {
    let mut keys: Vec<ClientKey> = args
        .api_key
        .iter()
        .map(|k| k.trim())
        .filter(|k| !k.is_empty())
        .map(|secret| ClientKey {
            label: key_label(secret),
            secret: secret.to_owned(),
        })
        .collect();
    if let Some(path) = &args.api_key_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::input(format!(
                "cannot read --api-key-file {}: {e}",
                path.display()
            ))
            .hint("pass a readable file with one key per line (`KEY` or `LABEL KEY`)")
        })?;
        keys.extend(parse_key_file(path, &text)?);
    }
    let mut labels = HashSet::new();
    for key in &keys {
        if !labels.insert(key.label.as_str()) {
            return Err(
                CliError::input(format!("two client keys are labelled {:?}", key.label))
                    .hint("give each key its own label (`LABEL KEY` in --api-key-file)"),
            );
        }
    }
    Ok(keys)
}

/// One key per line: `KEY` or `LABEL KEY`; blank lines and `#` comments are skipped.
fn parse_key_file(path: &Path, text: &str) -> CliResult<Vec<ClientKey>> {
    let mut keys = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (label, secret) = match words.as_slice() {
            [secret] => (key_label(secret), *secret),
            [label, secret] => ((*label).to_owned(), *secret),
            _ => {
                // The line may hold a key: say where, never what.
                return Err(CliError::input(format!(
                    "{}:{}: expected `KEY` or `LABEL KEY`, found {} words",
                    path.display(),
                    number + 1,
                    words.len()
                ))
                .hint("one key per line, optionally after a label without spaces"));
            }
        };
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(CliError::input(format!(
                "{}:{}: the label {label:?} may only hold letters, digits, `-`, `_` and `.`",
                path.display(),
                number + 1
            ))
            .hint("labels name keys in `hfclaw usage --by key`"));
        }
        keys.push(ClientKey {
            label,
            secret: secret.to_owned(),
        });
    }
    Ok(keys)
}

/// `--budget-usd-per-day` and `--key-budget LABEL=USD` (labels must name a client key).
fn budget_config(args: &ServeArgs, keys: &[ClientKey]) -> CliResult<BudgetConfig> {
    let usd = |text: &str, flag: &str| -> CliResult<f64> {
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                CliError::input(format!("invalid {flag} {text:?}: not an amount of USD"))
                    .hint("use a number of US dollars, e.g. 5 or 0.50")
            })
    };
    if let Some(limit) = args.budget_usd_per_day
        && !(limit.is_finite() && limit >= 0.0)
    {
        return Err(
            CliError::input(format!("invalid --budget-usd-per-day {limit}"))
                .hint("use a number of US dollars, e.g. 5 or 0.50"),
        );
    }
    let mut per_key = BTreeMap::new();
    for entry in &args.key_budget {
        let Some((label, amount)) = entry.split_once('=') else {
            return Err(CliError::input(format!("invalid --key-budget {entry:?}"))
                .hint("use LABEL=USD, e.g. --key-budget ci=2"));
        };
        let label = label.trim();
        if !keys.iter().any(|k| k.label == label) {
            let known: Vec<&str> = keys.iter().map(|k| k.label.as_str()).collect();
            return Err(CliError::input(format!(
                "--key-budget {label:?}: no client key has that label"
            ))
            .hint(if known.is_empty() {
                "define keys with --api-key-file (`LABEL KEY` per line)".to_owned()
            } else {
                format!("the keys are labelled {}", known.join(", "))
            }));
        }
        per_key.insert(label.to_owned(), usd(amount, "--key-budget")?);
    }
    Ok(BudgetConfig {
        usd_per_day: args.budget_usd_per_day,
        per_key_usd_per_day: per_key,
    })
}

/// The budget tracker, seeded with today's spend from the ledger (so a budget survives
/// restarts); the configured budgets are stored in the ledger for `hfclaw usage`.
fn start_budgets(
    ctx: &Context,
    ledger: Option<&Ledger>,
    config: BudgetConfig,
) -> CliResult<Option<Arc<Budgets>>> {
    if let Some(ledger) = ledger {
        ledger.set_budgets(&config)?;
    }
    if config.is_empty() {
        return Ok(None);
    }
    let budgets = Budgets::new(config);
    let now = SystemTime::now();
    match ledger {
        Some(ledger) => {
            let today = from_unix_ms(start_of_day(unix_ms(now)));
            budgets.seed(&ledger.spend_since(today)?, now);
        }
        None => ctx
            .messages
            .warn("budgets without a usage ledger (--no-ledger) start from zero on every restart"),
    }
    for status in budgets.status(now) {
        ctx.messages.status(format!(
            "budget: {} of {} spent today ({})",
            hfclaw_accounting::format_usd(status.spent, false),
            hfclaw_accounting::format_usd(status.limit, false),
            status.which
        ));
    }
    Ok(Some(Arc::new(budgets)))
}

/// Re-reads today's spend every few seconds (a thread: ledger reads block), so requests
/// recorded by other gateways or `hfclaw chat` count against the budgets too.
fn sync_budgets(
    ledger: Arc<Ledger>,
    budgets: Arc<Budgets>,
    running: Arc<AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("hfclaw-budgets".to_owned())
        .spawn(move || {
            let tick = Duration::from_millis(100);
            let mut waited = Duration::ZERO;
            while running.load(Ordering::Acquire) {
                std::thread::sleep(tick);
                waited += tick;
                if waited < BUDGET_SYNC_INTERVAL {
                    continue;
                }
                waited = Duration::ZERO;
                let now = SystemTime::now();
                let today = from_unix_ms(start_of_day(unix_ms(now)));
                match ledger.spend_since(today) {
                    Ok(spend) => budgets.sync(&spend, now),
                    Err(e) => tracing::warn!(error = %e, "reading today's spend failed"),
                }
            }
        })
        .ok()
}

/// What the gateway answers: the loopback names, the listen address (and the name in
/// `--listen NAME:PORT`), `--allowed-host` names and `--cors-origin` origins.
fn access(listen: &str, addr: SocketAddr, args: &ServeArgs) -> CliResult<Access> {
    let mut access = Access::new(addr, &args.allowed_host, &args.cors_origin).map_err(|e| {
        let hint = match e {
            AccessError::Host(_) => {
                "--allowed-host takes a host name or address, e.g. --allowed-host gw.example.com"
            }
            AccessError::Origin(_) => {
                "--cors-origin takes an origin as a browser writes it, e.g. --cors-origin \
                 http://localhost:3000"
            }
        };
        CliError::input(e.to_string()).hint(hint)
    })?;
    if let Some((name, _port)) = listen.rsplit_once(':')
        && name.parse::<std::net::IpAddr>().is_err()
        && !name.starts_with('[')
    {
        access.add_host(name);
    }
    Ok(access)
}

/// `--listen`: `IP:PORT` or `HOST:PORT` (first address the host resolves to).
fn listen_addr(text: &str) -> CliResult<SocketAddr> {
    let invalid = |reason: String| {
        CliError::input(format!("invalid --listen {text:?}: {reason}"))
            .hint("use HOST:PORT, e.g. --listen 127.0.0.1:4000 (port 0 picks a free one)")
    };
    text.to_socket_addrs()
        .map_err(|e| invalid(e.to_string()))?
        .next()
        .ok_or_else(|| invalid("it resolves to no address".to_owned()))
}

/// The gateway's host: the config behind a context.
struct CliHost {
    ctx: Context,
}

impl Host for CliHost {
    fn load(&self) -> Result<Snapshot, String> {
        load(&self.ctx, Start::Reload).map_err(|e| e.message().to_owned())
    }

    fn watched_files(&self) -> Vec<PathBuf> {
        let mut files = vec![
            self.ctx.paths.config.clone(),
            self.ctx.paths.env_file.clone(),
        ];
        // `hf auth login`, `hf auth switch` and refreshes (by hf or by us) change these.
        if let Some(login) = self.ctx.hf_login() {
            files.push(login.files().token().to_owned());
            files.push(login.files().stored_tokens().to_owned());
        }
        files
    }

    fn status(&self, message: &str) {
        self.ctx.messages.status(message);
    }

    fn warn(&self, message: &str) {
        self.ctx.messages.warn(message);
    }
}

/// Why a snapshot is built.
#[derive(Debug, Clone, Copy)]
enum Start {
    /// The gateway starts: the router's list is fetched when the cache is stale (or
    /// `refresh`), and the `catalog:` line says where the numbers come from.
    Now { refresh: bool },
    /// The config changed: the cache is read, never the network.
    Reload,
}

/// Builds a snapshot from the config; at start the catalog may be refreshed from the
/// router (only when a token exists). Blocking: call it outside the server's runtime.
fn load(ctx: &Context, start: Start) -> CliResult<Snapshot> {
    let view = ctx.load_view()?;
    let user = user_models(&view);
    for problem in &user.problems {
        ctx.messages
            .warn(format!("{}: {problem}", ctx.paths.config.display()));
    }
    let token = ctx.token(&view)?.map(|(token, _)| token);
    let (network, refresh) = match start {
        Start::Now { refresh } => (token.is_some() || refresh, refresh),
        Start::Reload => (false, false),
    };
    let (catalog, retry) = ctx.dated_catalog(&view, network, refresh)?;
    if let Start::Now { .. } = start {
        ctx.report_catalog(&catalog, retry.as_ref());
    }
    let client = ctx.client(&view, token)?;
    Ok(Snapshot::new(user, catalog, client))
}
