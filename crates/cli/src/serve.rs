//! `hfclaw serve`: composes the gateway (`hfclaw-gateway`) from the config — flags into
//! options, the config into snapshots (again on reload), messages onto stderr.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hfclaw_gateway::{ClientKey, Host, Options, Snapshot, SnapshotParts};

use crate::args::ServeArgs;
use crate::context::{Context, UserModels};
use crate::error::{CliError, CliResult};

/// Runs the gateway until SIGINT or SIGTERM.
pub fn run(ctx: &Context, args: &ServeArgs) -> CliResult {
    let addr = listen_addr(&args.listen)?;
    let keys = client_keys(args);
    if !addr.ip().is_loopback() && keys.is_empty() {
        ctx.messages.warn(format!(
            "listening on {addr} without --api-key: anyone who can reach this port can spend \
             your Hugging Face credits"
        ));
    }
    // Reloads run on a thread of their own and need a context they own.
    let host = Arc::new(CliHost {
        ctx: Context::new(ctx.global.clone())?,
    });
    let snapshot = load(&host.ctx, true)?;
    if !snapshot.client.has_token() {
        ctx.messages.warn(
            "no Hugging Face token found: the router will refuse chat requests; run `hfclaw \
             onboard` or set HF_TOKEN",
        );
    }
    ctx.messages
        .status(format!("serving {}", snapshot.summary()));
    let options = Options {
        keys,
        max_concurrent: args.max_concurrent,
        timeout: Duration::from_secs(args.timeout),
        split_reasoning: args.split_reasoning,
        max_body: args.max_body as usize * 1024 * 1024,
        header_read_timeout: Duration::from_secs(args.header_timeout),
        ..Options::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hfclaw-serve")
        .build()
        .map_err(|e| CliError::runtime(format!("starting the async runtime: {e}")))?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            CliError::runtime(format!("cannot listen on {addr}: {e}"))
                .hint("pick another address with --listen HOST:PORT")
        })?;
        hfclaw_gateway::serve(listener, options, snapshot, host)
            .await
            .map_err(|e| CliError::runtime(e.to_string()))
    });
    // Streams still open after the grace period are cut here.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// `--api-key`: one key, labelled `default`.
fn client_keys(args: &ServeArgs) -> Vec<ClientKey> {
    args.api_key
        .iter()
        .filter(|k| !k.trim().is_empty())
        .map(|secret| ClientKey {
            label: "default".to_owned(),
            secret: secret.trim().to_owned(),
        })
        .collect()
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
        load(&self.ctx, false).map_err(|e| e.message().to_owned())
    }

    fn watched_files(&self) -> Vec<PathBuf> {
        vec![
            self.ctx.paths.config.clone(),
            self.ctx.paths.env_file.clone(),
        ]
    }

    fn status(&self, message: &str) {
        self.ctx.messages.status(message);
    }

    fn warn(&self, message: &str) {
        self.ctx.messages.warn(message);
    }
}

/// Builds a snapshot from the config; `network` lets the catalog be refreshed from the
/// router (only done when a token exists). Blocking: call it outside the server's runtime.
fn load(ctx: &Context, network: bool) -> CliResult<Snapshot> {
    let view = ctx.load_view()?;
    let user = UserModels::from_view(&view);
    for problem in &user.problems {
        ctx.messages
            .warn(format!("{}: {problem}", ctx.paths.config.display()));
    }
    let token = ctx.token(&view)?.map(|(token, _)| token);
    let catalog = ctx.catalog(&view, &user, network && token.is_some(), false)?;
    let client = ctx.client(&view, token)?;
    let UserModels {
        primary,
        fallbacks,
        aliases,
        allowlist,
        ..
    } = user;
    Ok(Snapshot::new(SnapshotParts {
        primary,
        fallbacks,
        aliases,
        allowlist,
        catalog,
        client,
    }))
}
