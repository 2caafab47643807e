//! How the gateway is set up: its [`Options`] (with the keys clients may send), and
//! the [`Host`] that runs it (and builds each [`Snapshot`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hfclaw_accounting::keys::KeyDirectory;
use hfclaw_accounting::shared::SharedLimits;
use hfclaw_accounting::{Budgets, Recorder, Tally};
use hfclaw_router_client::FallbackPolicy;

use crate::cooldown::CooldownPolicy;
use crate::guard::Access;
use crate::model_routes::ModelRoutes;
use crate::snapshot::Snapshot;

/// How the gateway behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Keys clients must send (the database's kept in step by the host's follower);
    /// none at all: no key needed.
    pub keys: Arc<KeyDirectory>,
    /// The host names and browser origins the gateway answers (issue 24).
    pub access: Access,
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
    /// Totals of the requests this gateway served, in memory (what `hfclaw run` reports
    /// when its agent exits); `None`: not kept.
    pub tally: Option<Arc<Tally>>,
    /// Daily spending limits, global and per key label; a request that would start
    /// after one is spent gets 429 `budget_exceeded`.
    pub budgets: Option<Arc<Budgets>>,
    /// Budgets and per-key rates shared with the other replicas of the ledger's database
    /// (`None`: this replica's own counts only).
    pub shared: Option<Arc<SharedLimits>>,
    /// Routes for the model names clients choose (`--route`), built-in ones included.
    pub routes: ModelRoutes,
    /// The Hugging Face Hub, for the provider mappings of embedding models.
    pub hub_url: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            keys: Arc::new(KeyDirectory::default()),
            access: Access::default(),
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
            tally: None,
            budgets: None,
            shared: None,
            routes: ModelRoutes::default(),
            hub_url: hfclaw_router_client::DEFAULT_HUB_URL.to_owned(),
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
