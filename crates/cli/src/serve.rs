//! `hfclaw serve`: composes the gateway (`hfclaw-gateway`) from the config — flags into
//! options, client keys from `--api-key`/`--api-key-file` and the ledger database, the
//! usage ledger, budgets and the follower that keeps keys and budgets in step with the
//! database (`hfclaw-accounting`), the config into snapshots (again on reload), messages
//! onto stderr.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hfclaw_accounting::keys::follower::{
    FOLLOW_INTERVAL, FlagBudgets, Followed, Follower, effective_budgets,
};
use hfclaw_accounting::keys::{KeyDirectory, KeyEntry, KeyHash, KeySource, file};
use hfclaw_accounting::shared::SharedLimits;
use hfclaw_accounting::{BudgetConfig, Budgets, Ledger, format_usd, key_label, redact_url};
use hfclaw_gateway::{Access, AccessError, Host, ModelRoute, ModelRoutes, Options, Snapshot};

use crate::args::{RouteArgs, ServeArgs};
use crate::context::{Context, user_models};
use crate::error::{CliError, CliResult};

/// How often an `hf auth login` token is looked at between its refresh deadlines (a
/// cached decision: no file is read, no request made until one is due).
const LOGIN_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// The gateway's listening socket, bound before the start is announced.
fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, CliError> {
    let listener = std::net::TcpListener::bind(addr).map_err(|e| {
        let error = CliError::runtime(format!("cannot listen on {addr}: {e}"));
        if e.kind() == std::io::ErrorKind::AddrInUse {
            error.hint(format!(
                "something already listens there — if it is an hfclaw gateway (`curl \
                 http://{addr}/healthz`), use it; else pick another address with --listen \
                 HOST:PORT"
            ))
        } else {
            error.hint("pick another address with --listen HOST:PORT")
        }
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| CliError::runtime(format!("cannot listen on {addr}: {e}")))?;
    Ok(listener)
}

/// Runs the gateway until SIGINT or SIGTERM.
pub fn run(ctx: &Context, args: &ServeArgs) -> CliResult {
    let addr = listen_addr(&args.listen)?;
    // Bound first: a port that is taken fails the start before anything is announced.
    let listener = bind(addr)?;
    let directory = Arc::new(KeyDirectory::new(configured_keys(args)?));
    let flags = flag_budgets(args)?;
    let routes = model_routes(&args.routes)?;
    let access = access(&args.listen, addr, args)?;
    // Reloads run on a thread of their own and need a context they own.
    let host = Arc::new(CliHost {
        ctx: Context::new(ctx.global.clone(), &ctx.command)?,
        status_lines: true,
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
    check_routes(ctx, &routes, &snapshot)?;
    warn_about_visible_secrets(ctx, args);
    let ledger = if args.ledger.no_ledger {
        None
    } else {
        let spec = crate::ledger::spec_at(&args.ledger.location)?;
        Some(Arc::new(crate::ledger::open(&spec)?))
    };
    let budgets = Arc::new(Budgets::new(BudgetConfig::default()));
    let mut follower = start_following(ctx, ledger.as_ref(), &directory, &budgets, flags)?;
    // Budgets and per-key rates checked across every replica of the ledger's database.
    let shared = match &ledger {
        Some(ledger) => SharedLimits::start(ledger)?.map(Arc::new),
        None => None,
    };
    // Keys may be in the database: known only once the follower has read it.
    if !addr.ip().is_loopback() && directory.is_empty() {
        if !args.allow_unauthenticated_lan {
            return Err(CliError::input(format!(
                "refusing to listen on {addr} without a client key: anyone who can reach this \
                 port could spend your Hugging Face credits"
            ))
            .hint(
                "make a key with `hfclaw keys create LABEL` (or give one with --api-key-file), \
                 listen on 127.0.0.1, or pass --allow-unauthenticated-lan if every host that can \
                 reach it is trusted",
            ));
        }
        ctx.messages.warn(format!(
            "listening on {addr} without a client key: anyone who can reach this port can \
             spend your Hugging Face credits"
        ));
    }
    // Announced only once every check that can refuse the start has passed.
    ctx.messages
        .status(format!("serving {}", snapshot.summary()));
    let list: Vec<String> = routes.iter().map(ToString::to_string).collect();
    if !list.is_empty() {
        ctx.messages.status(format!("routes: {}", list.join(", ")));
    }
    let options = Options {
        keys: directory,
        access,
        max_concurrent: args.max_concurrent,
        timeout: Duration::from_secs(args.timeout),
        split_reasoning: args.split_reasoning,
        max_body: args.max_body as usize * 1024 * 1024,
        header_read_timeout: Duration::from_secs(args.header_timeout),
        recorder: ledger.as_ref().map(|l| l.recorder()),
        budgets: Some(budgets),
        shared: shared.clone(),
        routes,
        hub_url: hfclaw_router_client::resolve_hub_url(&crate::context::env),
        ..Options::default()
    };
    if let Some(ledger) = &ledger {
        ctx.messages
            .status(format!("recording usage in {}", ledger.location()));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hfclaw-serve")
        .build()
        .map_err(|e| CliError::runtime(format!("starting the async runtime: {e}")))?;
    let login = keep_login_fresh(&host);
    let result = runtime.block_on(async move {
        if let Some(login) = login {
            tokio::spawn(login);
        }
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| CliError::runtime(format!("cannot listen on {addr}: {e}")))?;
        hfclaw_gateway::serve(listener, options, snapshot, host)
            .await
            .map_err(|e| CliError::runtime(e.to_string()))
    });
    // Streams still open after the grace period are cut here (and recorded as cut).
    runtime.shutdown_timeout(Duration::from_secs(1));
    if let Some(follower) = &mut follower {
        follower.stop();
    }
    if let Some(shared) = shared {
        shared.stop();
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
/// apply.
pub fn check_routes(ctx: &Context, routes: &ModelRoutes, snapshot: &Snapshot) -> CliResult {
    let check = routes.check(snapshot);
    for warning in &check.warnings {
        ctx.messages.warn(warning);
    }
    if let Some(error) = check.errors.first() {
        return Err(CliError::input(error.clone()).hint(
            "point the route at a ref, an alias or org/model that `hfclaw models list` shows, or at default",
        ));
    }
    Ok(())
}

/// The refresh of an `hf auth login` token when due, to spawn on the gateway's runtime;
/// the rewritten token file makes the file watcher reload the snapshot with it.
pub fn keep_login_fresh(
    host: &Arc<CliHost>,
) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
    host.ctx.hf_login().cloned().map(|refresher| {
        let reporter = host.clone();
        refresher.keep_fresh(LOGIN_CHECK_INTERVAL, move |event| {
            crate::login::report(&reporter.ctx, event);
        })
    })
}

/// The configured keys: `--api-key` (labelled by its hash; an admin key, the operator's
/// own) and the lines of `--api-key-file`; one key under two labels, or two keys under one
/// label, is an error. Only their hashes are kept.
fn configured_keys(args: &ServeArgs) -> CliResult<Vec<KeyEntry>> {
    let mut keys: Vec<(String, KeyHash, KeySource, bool)> = args
        .api_key
        .iter()
        .map(|k| k.trim())
        .filter(|k| !k.is_empty())
        .map(|secret| {
            (
                key_label(secret),
                KeyHash::of(secret),
                KeySource::Flag,
                true,
            )
        })
        .collect();
    let bad_file = |e: file::KeyFileError| CliError::input(e.to_string()).hint(e.hint());
    if let Some(path) = &args.api_key_file {
        let lines = file::read(path).map_err(bad_file)?;
        keys.extend(
            lines
                .into_iter()
                .map(|k| (k.label.clone(), k.hash(), KeySource::File, k.admin)),
        );
    }
    file::check_unique(keys.iter().map(|(label, hash, ..)| (label.as_str(), *hash)))
        .map_err(bad_file)?;
    Ok(keys
        .into_iter()
        .map(|(label, hash, source, admin)| KeyEntry::configured(&label, hash, source, admin))
        .collect())
}

/// Every user of the machine sees a process's command line (`ps`): a client key or a
/// ledger password given there is said to belong in the environment or a file.
fn warn_about_visible_secrets(ctx: &Context, args: &ServeArgs) {
    let argv: Vec<String> = std::env::args().collect();
    if argv
        .iter()
        .any(|a| a == "--api-key" || a.starts_with("--api-key="))
    {
        ctx.messages.warn(
            "--api-key on the command line is visible to every user of this machine (`ps`): \
             set HFCLAW_SERVE_API_KEY, use --api-key-file, or `hfclaw keys create`",
        );
    }
    if let Some(url) = &args.ledger.location.ledger
        && redact_url(url) != url.trim()
        && argv.iter().any(|a| a.contains(url.trim()))
    {
        ctx.messages.warn(
            "the --ledger URL's password is visible to every user of this machine (`ps`): \
             put the URL in HFCLAW_LEDGER_URL or in a file read with --ledger-file",
        );
    }
}

/// `--budget-usd-per-day` and `--key-budget LABEL=USD`.
fn flag_budgets(args: &ServeArgs) -> CliResult<FlagBudgets> {
    let invalid = |flag: &str, text: &str| {
        CliError::input(format!("invalid {flag} {text:?}: not an amount of USD"))
            .hint("use a number of US dollars, e.g. 5 or 0.50")
    };
    if let Some(limit) = args.budget_usd_per_day
        && !(limit.is_finite() && limit >= 0.0)
    {
        return Err(invalid("--budget-usd-per-day", &limit.to_string()));
    }
    let mut per_key = Vec::new();
    for entry in &args.key_budget {
        let Some((label, amount)) = entry.split_once('=') else {
            return Err(CliError::input(format!("invalid --key-budget {entry:?}"))
                .hint("use LABEL=USD, e.g. --key-budget ci=2"));
        };
        let usd = amount
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| invalid("--key-budget", amount))?;
        per_key.push((label.trim().to_owned(), usd));
    }
    Ok(FlagBudgets {
        usd_per_day: args.budget_usd_per_day,
        per_key_usd_per_day: per_key,
    })
}

/// Reads the database's keys and budgets once (so the gateway starts with them), seeds
/// the budgets with the spend of the day and month, and starts the follower that keeps
/// both in step; without a ledger, only the flags' budgets count.
fn start_following(
    ctx: &Context,
    ledger: Option<&Arc<Ledger>>,
    directory: &Arc<KeyDirectory>,
    budgets: &Arc<Budgets>,
    flags: FlagBudgets,
) -> CliResult<Option<Follower>> {
    let follower = match ledger {
        Some(ledger) => {
            let followed = Followed {
                ledger: ledger.clone(),
                directory: directory.clone(),
                budgets: budgets.clone(),
                flags: flags.clone(),
            };
            followed.sync(true)?;
            // What the flags add to the database's budgets, for `hfclaw usage` (which reads
            // the database's itself, so they stay current).
            ledger.set_budgets(&BudgetConfig {
                usd_per_day: flags.usd_per_day,
                per_key_usd_per_day: flags.per_key_usd_per_day.iter().cloned().collect(),
                ..BudgetConfig::default()
            })?;
            let follower = Follower::spawn(followed, FOLLOW_INTERVAL).map_err(|e| {
                CliError::runtime(format!("cannot start the keys and budgets follower: {e}"))
            })?;
            Some(follower)
        }
        None => {
            budgets.set_config(effective_budgets(&flags, None, &[]));
            if !flags.per_key_usd_per_day.is_empty() || flags.usd_per_day.is_some() {
                ctx.messages.warn(
                    "budgets without a usage ledger (--no-ledger) start from zero on every restart",
                );
            }
            None
        }
    };
    // A label without a key is a warning, never a failed start: under a service manager
    // a refused start would cut everyone off.
    let labels: Vec<String> = directory
        .entries()
        .iter()
        .map(|e| e.label.clone())
        .collect();
    for (label, _) in &flags.per_key_usd_per_day {
        if !labels.contains(label) {
            ctx.messages.warn(format!(
                "--key-budget {label:?}: no client key has that label (yet); it applies once one does"
            ));
        }
    }
    for status in budgets.status(SystemTime::now()) {
        ctx.messages.status(format!(
            "budget: {} of {} spent ({})",
            format_usd(status.spent, false),
            format_usd(status.limit, false),
            status.name()
        ));
    }
    Ok(follower)
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
pub struct CliHost {
    /// Where the config is, and the messages.
    pub ctx: Context,
    /// Whether the gateway's status lines (listening on, reloaded) are printed; else they
    /// go to the `-v` log.
    pub status_lines: bool,
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
        if self.status_lines {
            self.ctx.messages.status(message);
        } else {
            tracing::debug!("gateway: {message}");
        }
    }

    fn warn(&self, message: &str) {
        self.ctx.messages.warn(message);
    }
}

/// Why a snapshot is built.
#[derive(Debug, Clone, Copy)]
pub enum Start {
    /// The gateway starts: the router's list is fetched when the cache is stale (or
    /// `refresh`), and the `catalog:` line says where the numbers come from.
    Now { refresh: bool },
    /// A gateway starts for one agent run (`hfclaw run`): the cache or the built-in list,
    /// as `hfclaw chat` (no fetch before the agent starts), and no `catalog:` line.
    ForRun,
    /// The config changed: the cache is read, never the network.
    Reload,
}

/// Builds a snapshot from the config; at start the catalog may be refreshed from the
/// router (only when a token exists). Blocking: call it outside the server's runtime.
pub fn load(ctx: &Context, start: Start) -> CliResult<Snapshot> {
    let view = ctx.load_view()?;
    let user = user_models(&view);
    for problem in &user.problems {
        ctx.messages
            .warn(format!("{}: {problem}", ctx.paths.config.display()));
    }
    let token = ctx.token(&view)?.map(|(token, _)| token);
    let (network, refresh) = match start {
        Start::Now { refresh } => (token.is_some() || refresh, refresh),
        Start::ForRun | Start::Reload => (false, false),
    };
    let (catalog, retry) = ctx.dated_catalog(&view, network, refresh)?;
    if let Start::Now { .. } = start {
        ctx.report_catalog(&catalog, retry.as_ref());
    }
    let client = ctx.client(&view, token)?;
    Ok(Snapshot::new(user, catalog, client))
}
