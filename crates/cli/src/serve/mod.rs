//! `hfclaw serve`: a local OpenAI-compatible gateway in front of the Hugging Face router.
//!
//! Clients speak OpenAI's API to it; it resolves refs, aliases, bare `org/model` ids and
//! `default` to router ids, adds the user's token (never shown to clients), applies the
//! config's fallbacks before anything reaches the client, and streams answers through
//! as they arrive.
//!
//! Fallbacks: every chat request gets the config's fallbacks after the model it names
//! (the default, an alias, an explicit ref or a bare id alike), unless it sends
//! `x-hfclaw-no-fallback: 1`. The answer names the model that answered in
//! `x-hfclaw-model` and its place in the chain in `x-hfclaw-fallback` (0 = the one asked
//! for); `x-hfclaw-skipped` says why earlier ones were passed over.
//!
//! Operations: SIGINT/SIGTERM stop accepting and let open streams finish for up to
//! [`SHUTDOWN_GRACE`]; SIGHUP, or a change of the config or `.env` (checked every
//! [`WATCH_INTERVAL`]), reloads the config without dropping connections. With `-v`, one
//! log line per request (method, path, status, model, latency); bodies only at `-vv`;
//! tokens and client keys never.

mod error;
mod routes;
mod state;
mod upstream;

use std::future::IntoFuture;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::serve::ListenerExt;
use hfclaw_router_client::FallbackPolicy;
use tokio::sync::{Mutex, Semaphore, watch};

use crate::args::ServeArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::output::Messages;
use crate::serve::state::{FileStamp, State, watched_files};

/// How long open streams may run on after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How often the config's modification time is checked.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// What every request shares.
pub struct App {
    /// The current snapshot; replaced whole on reload.
    state: RwLock<Arc<State>>,
    /// An owned context, for reloads on a thread of their own.
    ctx: Arc<Context>,
    /// The key clients must send, if any.
    api_key: Option<String>,
    /// Chat requests (and their streams) in flight.
    limit: Arc<Semaphore>,
    /// The size of `limit`.
    max_concurrent: u32,
    /// How long an attempt may take to start answering.
    timeout: Duration,
    /// Retries and waits of the fallback chain.
    policy: FallbackPolicy,
    /// Serialises reloads.
    reloading: Mutex<()>,
}

impl App {
    /// The current snapshot.
    fn state(&self) -> Arc<State> {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests in flight (chat requests and open streams).
    fn in_flight(&self) -> usize {
        (self.max_concurrent as usize).saturating_sub(self.limit.available_permits())
    }

    /// Re-reads the config (catalog from the cache: no network on reload) and swaps the
    /// snapshot; on failure the old one stays and the operator is told why.
    async fn reload(&self, why: &str) {
        let _guard = self.reloading.lock().await;
        let ctx = self.ctx.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        // Loading blocks (files, and a runtime of its own for the cache): keep it off the
        // server's threads.
        let spawned = std::thread::Builder::new()
            .name("hfclaw-reload".to_owned())
            .spawn(move || {
                let _ = tx.send(state::load(&ctx, false));
            });
        if let Err(e) = spawned {
            self.ctx
                .messages
                .warn(format!("cannot reload the config: {e}"));
            return;
        }
        match rx.await {
            Ok(Ok(state)) => {
                self.ctx
                    .messages
                    .status(format!("reloaded the config ({why}): {}", state.summary()));
                *self.state.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(state);
            }
            Ok(Err(e)) => self.ctx.messages.warn(format!(
                "reloading the config ({why}) failed, keeping the previous one: {}",
                e.message()
            )),
            Err(_) => self.ctx.messages.warn("reloading the config failed"),
        }
    }
}

/// Runs the gateway until SIGINT or SIGTERM.
pub fn run(ctx: &Context, args: &ServeArgs) -> CliResult {
    let addr = listen_addr(&args.listen)?;
    let api_key = args.api_key.clone().filter(|k| !k.trim().is_empty());
    if !addr.ip().is_loopback() && api_key.is_none() {
        ctx.messages.warn(format!(
            "listening on {addr} without --api-key: anyone who can reach this port can spend \
             your Hugging Face credits"
        ));
    }
    // Reloads run on their own thread and need a context they own.
    let owned = Arc::new(Context::new(ctx.global.clone())?);
    let state = state::load(&owned, true)?;
    if !state.client.has_token() {
        ctx.messages.warn(
            "no Hugging Face token found: the router will refuse chat requests; run `hfclaw \
             onboard` or set HF_TOKEN",
        );
    }
    ctx.messages.status(format!("serving {}", state.summary()));
    let app = Arc::new(App {
        state: RwLock::new(Arc::new(state)),
        ctx: owned,
        api_key,
        limit: Arc::new(Semaphore::new(args.max_concurrent as usize)),
        max_concurrent: args.max_concurrent,
        timeout: Duration::from_secs(args.timeout),
        policy: FallbackPolicy::default(),
        reloading: Mutex::new(()),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hfclaw-serve")
        .build()
        .map_err(|e| CliError::runtime(format!("starting the async runtime: {e}")))?;
    let result = runtime.block_on(serve(app, addr, ctx.messages));
    // Streams still open after the grace period are cut here.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
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

async fn serve(app: Arc<App>, addr: SocketAddr, messages: Messages) -> CliResult {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        CliError::runtime(format!("cannot listen on {addr}: {e}"))
            .hint("pick another address with --listen HOST:PORT")
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::runtime(format!("cannot read the listening address: {e}")))?;
    let listener = listener.tap_io(|tcp| {
        // Small answers and SSE events must not wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(handle_signals(app.clone(), stop_tx));
    tokio::spawn(watch_files(app.clone()));
    messages.status(format!("listening on http://{local}"));
    let mut graceful = stop_rx.clone();
    let server =
        axum::serve(listener, routes::router(app.clone())).with_graceful_shutdown(async move {
            let _ = graceful.wait_for(|stop| *stop).await;
        });
    let mut deadline = stop_rx;
    let grace_app = app.clone();
    tokio::select! {
        result = server.into_future() => {
            result.map_err(|e| CliError::runtime(format!("the server failed: {e}")))?;
        }
        () = async move {
            let _ = deadline.wait_for(|stop| *stop).await;
            let open = grace_app.in_flight();
            if open > 0 {
                messages.status(format!(
                    "waiting up to {} s for {open} open request(s) to finish",
                    SHUTDOWN_GRACE.as_secs()
                ));
            }
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            messages.warn(format!(
                "{} request(s) still open after {} s were cut off",
                app.in_flight(),
                SHUTDOWN_GRACE.as_secs()
            ));
        }
    }
    messages.status("stopped");
    Ok(())
}

/// SIGINT/SIGTERM start the shutdown; SIGHUP reloads the config.
#[cfg(unix)]
async fn handle_signals(app: Arc<App>, stop: watch::Sender<bool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate), Ok(mut hangup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        app.ctx
            .messages
            .warn("cannot install signal handlers: stop the gateway by killing it");
        return;
    };
    loop {
        tokio::select! {
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
            _ = hangup.recv() => app.reload("SIGHUP").await,
        }
    }
    app.ctx.messages.status("shutting down: no new connections");
    let _ = stop.send(true);
}

/// Ctrl-C starts the shutdown (no SIGHUP here: the file watcher reloads).
#[cfg(not(unix))]
async fn handle_signals(app: Arc<App>, stop: watch::Sender<bool>) {
    if tokio::signal::ctrl_c().await.is_ok() {
        app.ctx.messages.status("shutting down: no new connections");
        let _ = stop.send(true);
    }
}

/// Reloads when the config or `.env` changes: two `stat` calls every few seconds, so
/// requests never pay for the check.
async fn watch_files(app: Arc<App>) {
    let files = watched_files(&app.ctx);
    let mut last = app.state().stamp.clone();
    let mut ticker = tokio::time::interval(WATCH_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = FileStamp::read(&files);
        // Compared with the last stamp seen, not the state's: a config that fails to load
        // is reported once, not every tick.
        if now != last {
            last = now;
            app.reload("config changed").await;
        }
    }
}
