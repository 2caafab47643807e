//! `hfclaw serve`'s gateway: the local front door of every agent, in front of the
//! Hugging Face router.
//!
//! It answers three wire formats — OpenAI chat completions (OpenClaw, Cursor, most
//! tools), Anthropic Messages (Claude Code) and OpenAI Responses (Codex, the Agents SDK) —
//! through **one** forwarding path ([`forward`]): the request's `model` (a ref, an alias,
//! a bare `org/model` or `default`) becomes a chain of router ids (the model, then the
//! config's fallbacks), models in cooldown are skipped, the chain runs before the first
//! byte reaches the client, and the chosen answer streams through unbuffered. What differs
//! per API is data ([`Api`]): the upstream path, what a valid body holds, how a stream
//! says it has begun or failed, and the error envelope.
//!
//! It owns the HTTP surface, client keys, limits and timeouts (slow clients are cut off),
//! cooldowns, budgets and the accounting of each request (its usage, read off the answer
//! as it passes, priced at the serving provider's rate and recorded in the usage
//! ledger through `hfclaw-accounting`), and reloads; it does not read configs or the environment: the host (the
//! CLI) builds each [`Snapshot`] and is asked for a new one on reload. The user's token
//! lives in the snapshot's router client and never reaches a client or a log.
//!
//! ```no_run
//! # async fn example(snapshot: hfclaw_gateway::Snapshot, host: std::sync::Arc<dyn hfclaw_gateway::Host>) {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await.unwrap();
//! let options = hfclaw_gateway::Options::default();
//! hfclaw_gateway::serve(listener, options, snapshot, host).await.unwrap();
//! # }
//! ```

mod activity;
mod api;
mod app;
mod cooldown;
mod error;
mod forward;
mod labels;
mod meter;
mod metrics;
mod routes;
mod server;
mod snapshot;
mod status_page;
mod tap;
mod upstream;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hfclaw_accounting::{Budgets, Recorder};
use hfclaw_router_client::FallbackPolicy;

pub use api::Api;
pub use cooldown::CooldownPolicy;
pub use routes::{FALLBACK_HEADER, MODEL_HEADER, NO_FALLBACK_HEADER, SKIPPED_HEADER};
pub use server::{GatewayError, serve};
pub use snapshot::{DEFAULT_MODEL, Snapshot, SnapshotParts};

/// A key clients may send, with the label that names it in logs and accounting.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientKey {
    /// A name for the key (never the key itself).
    pub label: String,
    /// The key.
    pub secret: String,
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientKey")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// How the gateway behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Keys clients must send; empty: none needed.
    pub keys: Vec<ClientKey>,
    /// Requests (and their streams) served at once; more get 503 with `Retry-After`.
    pub max_concurrent: u32,
    /// How long a model may take to start answering before the chain moves on.
    pub timeout: Duration,
    /// Retries and waits of the fallback chain.
    pub policy: FallbackPolicy,
    /// How long failing models are skipped.
    pub cooldown: CooldownPolicy,
    /// Rewrite a leading `<think>…</think>` block of chat answers into
    /// `reasoning_content`.
    pub split_reasoning: bool,
    /// Largest request body accepted.
    pub max_body: usize,
    /// A connection must send a complete request header within this time; this also ends
    /// idle keep-alive connections.
    pub header_read_timeout: Duration,
    /// How long open streams may run on after a shutdown signal.
    pub shutdown_grace: Duration,
    /// How often the host's files are checked for changes (reload).
    pub watch_interval: Duration,
    /// Where each finished request is recorded (the usage ledger); `None`: nowhere.
    pub recorder: Option<Recorder>,
    /// Daily spending limits, global and per key label; a request that would start
    /// after one is spent gets 429 `budget_exceeded`.
    pub budgets: Option<Arc<Budgets>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            keys: Vec::new(),
            max_concurrent: 256,
            timeout: Duration::from_secs(300),
            policy: FallbackPolicy::default(),
            cooldown: CooldownPolicy::default(),
            split_reasoning: false,
            // Anthropic's own limit for Messages requests.
            max_body: 32 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            watch_interval: Duration::from_secs(2),
            recorder: None,
            budgets: None,
        }
    }
}

/// What the gateway needs from the program that runs it.
pub trait Host: Send + Sync + 'static {
    /// Builds a fresh snapshot (re-reading the config; no network). Blocking: it is
    /// called on a thread of its own. The error is shown to the operator.
    fn load(&self) -> Result<Snapshot, String>;
    /// Files whose change triggers a reload (the config, the `.env` holding the token).
    fn watched_files(&self) -> Vec<PathBuf>;
    /// A status line for the operator (e.g. "listening on http://…").
    fn status(&self, message: &str);
    /// A warning for the operator.
    fn warn(&self, message: &str);
}
