//! The server: its own accept loop over hyper (so slow clients can be cut off: a request
//! header must arrive within [`Options::header_read_timeout`], which also ends idle
//! keep-alive connections), signals, reloads and graceful shutdown.
//!
//! SIGINT/SIGTERM stop accepting and let open streams finish for up to
//! [`Options::shutdown_grace`]; SIGHUP, or a change of one of the host's files (checked
//! every [`Options::watch_interval`]), reloads without dropping connections.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::options::{Host, Options};
use crate::routes;
use crate::snapshot::Snapshot;

/// Why the gateway could not run.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The listening socket's address could not be read.
    #[error("cannot read the listening address: {0}")]
    Address(std::io::Error),
}

/// Serves on `listener` until SIGINT or SIGTERM (Ctrl-C elsewhere), then lets open
/// requests finish within the grace period. SIGHUP reloads.
pub async fn serve(
    listener: TcpListener,
    options: Options,
    snapshot: Snapshot,
    host: Arc<dyn Host>,
) -> Result<(), GatewayError> {
    run(listener, options, snapshot, host, Stop::Signals).await
}

/// Serves on `listener` until `stop` completes, then lets open requests finish within
/// the grace period; signals are left to the caller (a gateway started for one agent's
/// lifetime must not stop when the terminal's Ctrl-C meant the agent).
pub async fn serve_until(
    listener: TcpListener,
    options: Options,
    snapshot: Snapshot,
    host: Arc<dyn Host>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    run(
        listener,
        options,
        snapshot,
        host,
        Stop::When(Box::pin(stop)),
    )
    .await
}

/// What ends the accept loop.
enum Stop {
    /// SIGINT or SIGTERM.
    Signals,
    /// The future completing.
    When(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>),
}

async fn run(
    listener: TcpListener,
    options: Options,
    snapshot: Snapshot,
    host: Arc<dyn Host>,
    stop: Stop,
) -> Result<(), GatewayError> {
    let local = listener.local_addr().map_err(GatewayError::Address)?;
    let app = Arc::new(App::new(snapshot, options, host.clone()));
    let (stop_tx, mut stop_rx) = watch::channel(false);
    match stop {
        Stop::Signals => {
            tokio::spawn(handle_signals(app.clone(), stop_tx));
        }
        Stop::When(stop) => {
            tokio::spawn(async move {
                stop.await;
                let _ = stop_tx.send(true);
            });
        }
    }
    tokio::spawn(watch_files(app.clone()));
    let router = routes::router(app.clone());
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(app.options.header_read_timeout);
    let graceful = GracefulShutdown::new();
    host.status(&format!("listening on http://{local}"));
    host.status(&format!(
        "status page http://{local}/, Prometheus metrics http://{local}/metrics"
    ));
    loop {
        let (tcp, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop_rx) => break,
        };
        // Small answers and SSE events must not wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = builder.serve_connection(TokioIo::new(tcp), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let open = app.in_flight();
    let grace = app.options.shutdown_grace;
    if open > 0 {
        host.status(&format!(
            "waiting up to {} s for {open} open request(s) to finish",
            grace.as_secs()
        ));
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            host.warn(&format!(
                "{} request(s) still open after {} s were cut off",
                app.in_flight(),
                grace.as_secs()
            ));
        }
    }
    host.status("stopped");
    Ok(())
}

/// Until the stop flag is set. (The flag's guard is dropped here, so a server future
/// stays `Send` for [`serve_until`]'s callers to spawn it.)
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
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
        app.host
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
    app.host.status("shutting down: no new connections");
    let _ = stop.send(true);
}

/// Ctrl-C starts the shutdown (no SIGHUP here: the file watcher reloads).
#[cfg(not(unix))]
async fn handle_signals(app: Arc<App>, stop: watch::Sender<bool>) {
    if tokio::signal::ctrl_c().await.is_ok() {
        app.host.status("shutting down: no new connections");
        let _ = stop.send(true);
    }
}

/// Modification times of the watched files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct FileStamp(Vec<Option<SystemTime>>);

impl FileStamp {
    /// Reads the times now; a missing file counts as `None`.
    fn read(paths: &[PathBuf]) -> FileStamp {
        FileStamp(paths.iter().map(|p| modified(p)).collect())
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Reloads when a watched file changes: a few `stat` calls every few seconds, so requests
/// never pay for the check.
async fn watch_files(app: Arc<App>) {
    let files = app.host.watched_files();
    let mut last = FileStamp::read(&files);
    let mut ticker = tokio::time::interval(app.options.watch_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = FileStamp::read(&files);
        // Compared with the last stamp seen: a config that fails to load is reported
        // once, not every tick.
        if now != last {
            last = now;
            app.reload("config changed").await;
        }
    }
}
