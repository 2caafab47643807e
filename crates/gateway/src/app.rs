//! What every request shares: the current snapshot, the options, the concurrency limit,
//! the cooldowns, and what happens once a request is over (its log line, `/metrics` and
//! the status page's activity; the usage ledger and budgets hang off [`App::record`] too).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use hfclaw_model_ref::ModelRef;
use tokio::sync::{Mutex, Semaphore};

use crate::activity::Activity;
use crate::api::Api;
use crate::cooldown::Cooldowns;
use crate::labels;
use crate::meter::Tokens;
use crate::metrics::Metrics;
use crate::snapshot::Snapshot;
use crate::{Host, Options};

/// The gateway's shared state.
pub struct App {
    /// The current snapshot; replaced whole on reload.
    snapshot: RwLock<Arc<Snapshot>>,
    /// The program running the gateway.
    pub host: Arc<dyn Host>,
    /// The options it was started with.
    pub options: Options,
    /// Requests (and their streams) in flight.
    pub limit: Arc<Semaphore>,
    /// Models skipped for a while after failing.
    pub cooldowns: Cooldowns,
    /// What `/metrics` counts.
    pub metrics: Metrics,
    /// What the status page shows of recent traffic.
    pub activity: Activity,
    /// When the gateway started.
    pub started: std::time::Instant,
    /// Serialises reloads.
    reloading: Mutex<()>,
}

/// How a request ended, for the log and the accounts.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Which API it called.
    pub api: Api,
    /// The label of the client key it sent.
    pub key: Option<String>,
    /// The `model` as the client wrote it.
    pub requested: Option<String>,
    /// The model that answered.
    pub answered: Option<ModelRef>,
    /// The backend that served it (`x-inference-provider`).
    pub provider: Option<String>,
    /// The answering model's place in the chain (0 = the one asked for).
    pub fallback: Option<usize>,
    /// The models given up on before (or instead of) it.
    pub skipped: Vec<ModelRef>,
    /// `None` when it succeeded; else the error class and HTTP status sent.
    pub error: Option<(&'static str, u16)>,
    /// The usage the answer reported.
    pub tokens: Option<Tokens>,
    /// What it cost in US dollars, when known (`None` until the usage ledger prices it).
    pub cost_usd: Option<f64>,
    /// Time to the first byte sent to the client.
    pub ttfb: Option<Duration>,
    /// Time until the answer ended.
    pub total: Duration,
    /// Whether the answer was streamed.
    pub streamed: bool,
}

#[cfg(test)]
impl Exchange {
    /// A request of `api` that answered nothing yet, 120 ms long (for tests).
    pub fn for_test(api: Api) -> Exchange {
        Exchange {
            api,
            key: None,
            requested: None,
            answered: None,
            provider: None,
            fallback: None,
            skipped: Vec::new(),
            error: None,
            tokens: None,
            cost_usd: None,
            ttfb: None,
            total: Duration::from_millis(120),
            streamed: false,
        }
    }
}

impl App {
    /// The shared state for `snapshot`.
    pub fn new(snapshot: Snapshot, options: Options, host: Arc<dyn Host>) -> App {
        App {
            snapshot: RwLock::new(Arc::new(snapshot)),
            host,
            limit: Arc::new(Semaphore::new(options.max_concurrent as usize)),
            cooldowns: Cooldowns::new(options.cooldown),
            options,
            metrics: Metrics::new(),
            activity: Activity::new(),
            started: std::time::Instant::now(),
            reloading: Mutex::new(()),
        }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests in flight (requests and open streams).
    pub fn in_flight(&self) -> usize {
        (self.options.max_concurrent as usize).saturating_sub(self.limit.available_permits())
    }

    /// Asks the host for a new snapshot and swaps it in; on failure the old one stays and
    /// the operator is told why.
    pub async fn reload(&self, why: &str) {
        let _guard = self.reloading.lock().await;
        let host = self.host.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        // Loading blocks (files, and a runtime of its own for the cache): keep it off the
        // server's threads.
        let spawned = std::thread::Builder::new()
            .name("hfclaw-reload".to_owned())
            .spawn(move || {
                let _ = tx.send(host.load());
            });
        if let Err(e) = spawned {
            self.host.warn(&format!("cannot reload the config: {e}"));
            return;
        }
        match rx.await {
            Ok(Ok(snapshot)) => {
                self.host.status(&format!(
                    "reloaded the config ({why}): {}",
                    snapshot.summary()
                ));
                *self
                    .snapshot
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
            }
            Ok(Err(e)) => self.host.warn(&format!(
                "reloading the config ({why}) failed, keeping the previous one: {e}"
            )),
            Err(_) => self.host.warn("reloading the config failed"),
        }
    }

    /// A request is over.
    pub fn record(&self, exchange: Exchange) {
        let names = labels::names(&self.snapshot(), &exchange);
        self.metrics.observe(&exchange, &names);
        self.activity
            .record(&exchange, &names.model, SystemTime::now());
        if tracing::enabled!(tracing::Level::INFO) {
            let answered = exchange.answered.as_ref().map(ModelRef::as_str);
            tracing::info!(
                api = exchange.api.label(),
                key = exchange.key.as_deref().unwrap_or("-"),
                requested = exchange.requested.as_deref().unwrap_or("-"),
                model = answered.unwrap_or("-"),
                provider = exchange.provider.as_deref().unwrap_or("-"),
                fallback = exchange.fallback.map_or(-1, |f| f as i64),
                outcome = exchange.error.map_or("ok", |(class, _)| class),
                status = exchange.error.map_or(200, |(_, status)| status),
                input_tokens = exchange.tokens.and_then(|t| t.input),
                output_tokens = exchange.tokens.and_then(|t| t.output),
                ttfb_ms = exchange.ttfb.map(|d| d.as_secs_f64() * 1e3),
                total_ms = exchange.total.as_secs_f64() * 1e3,
                streamed = exchange.streamed,
                "exchange"
            );
        }
    }
}
