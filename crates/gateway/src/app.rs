//! What every request shares: the current snapshot, the options, the concurrency limit,
//! the cooldowns, and what happens once a request is over ([`App::record`]: its price at
//! the serving provider's rate, the day's budgets, the usage ledger, `/metrics`, the
//! status page's activity, the log line).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use hfclaw_accounting::keys::rate::RateLimits;
use hfclaw_accounting::{Outcome, Row, cost, format_usd, price_in_catalog};
use hfclaw_model_ref::ModelRef;
use hfclaw_router_client::tasks::MappingCache;
use tokio::sync::{Mutex, Semaphore};

use crate::activity::Activity;
use crate::cooldown::Cooldowns;
use crate::exchange::{Exchange, log_millis};
use crate::health::RouterHealth;
use crate::metrics::Metrics;
use crate::options::{Host, Options};
use crate::snapshot::{DEFAULT_MODEL, Snapshot};

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
    /// The router as requests last saw it (for `/healthz`).
    pub router_health: RouterHealth,
    /// Requests and tokens per minute of the keys with such limits.
    pub rates: RateLimits,
    /// The Hub's provider mappings of embedding models (kept across reloads).
    pub mappings: MappingCache,
    /// What `/metrics` counts.
    pub metrics: Metrics,
    /// What the status page shows of recent traffic.
    pub activity: Activity,
    /// When the gateway started.
    pub started: std::time::Instant,
    /// Serialises reloads.
    reloading: Mutex<()>,
}

impl App {
    /// The shared state for `snapshot`.
    pub fn new(snapshot: Snapshot, options: Options, host: Arc<dyn Host>) -> App {
        App {
            snapshot: RwLock::new(Arc::new(snapshot)),
            host,
            limit: Arc::new(Semaphore::new(options.max_concurrent as usize)),
            cooldowns: Cooldowns::new(options.cooldown),
            router_health: RouterHealth::default(),
            mappings: MappingCache::default(),
            options,
            rates: RateLimits::default(),
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

    /// Prices an answered exchange from its usage at the serving provider's rate; leaves
    /// the cost unknown (never 0) when the usage or a price is.
    pub fn price(&self, exchange: &mut Exchange) {
        if let (Some(usage), Some(answered)) = (&exchange.usage, &exchange.answered) {
            let choice = price_in_catalog(
                &self.snapshot().catalog,
                answered,
                exchange.provider.as_deref(),
            );
            if let Some(cost) = cost(usage, &choice) {
                exchange.cost_usd = Some(cost.usd);
                exchange.cost_estimated = cost.estimated;
            }
        }
    }

    /// A request is over: price it (unless done), count it against the budgets, record it in
    /// the ledger (never blocking) and the tally, and log it.
    pub fn record(&self, mut exchange: Exchange) {
        if exchange.cost_usd.is_none() {
            self.price(&mut exchange);
        }
        let tokens = exchange
            .usage
            .map_or(0, |u| u.input_tokens + u.output_tokens);
        if let (Some(key), Some(_)) = (&exchange.key, &exchange.usage) {
            self.rates.add_tokens(
                key,
                tokens,
                hfclaw_accounting::time::unix_ms(SystemTime::now()),
            );
        }
        // The reservation gives way to the real cost (nothing, when unknown).
        let mut shared = None;
        match (&exchange.hold, &self.options.budgets, exchange.cost_usd) {
            (Some(slot), budgets, cost) => {
                // The first copy of the exchange recorded settles; later ones find nothing.
                if let Some(holds) = slot.take() {
                    match (holds.local, budgets, cost) {
                        (Some(local), _, cost) => local.settle(cost, SystemTime::now()),
                        (None, Some(budgets), Some(usd)) => {
                            budgets.add(exchange.key.as_deref(), usd, SystemTime::now());
                        }
                        _ => {}
                    }
                    shared = holds.shared;
                }
            }
            (None, Some(budgets), Some(usd)) => {
                budgets.add(exchange.key.as_deref(), usd, SystemTime::now());
            }
            _ => {}
        }
        if self.options.recorder.is_some() || self.options.tally.is_some() {
            let row = row_of(&exchange);
            if let Some(tally) = &self.options.tally {
                tally.record(&row);
            }
            if let Some(recorder) = &self.options.recorder {
                recorder.record(row);
            }
        }
        // After the row: its cost is spend in the database before the hold lets go.
        if let Some(shared) = shared {
            shared.end(tokens);
        }
        let snapshot = self.snapshot();
        // The first model of the request's chain (fallbacks aside), for the labels.
        let asked = || {
            self.options
                .routes
                .choose(&snapshot, exchange.requested.as_deref(), true)
                .ok()
                .and_then(|choice| choice.chain.into_iter().next())
        };
        let names = snapshot.labels.names(&snapshot.catalog, &exchange, asked);
        self.metrics.observe(&exchange, &names);
        self.activity
            .record(&exchange, &names.model, SystemTime::now());
        if tracing::enabled!(tracing::Level::INFO) {
            let answered = exchange.answered.as_ref().map(ModelRef::as_str);
            tracing::info!(
                api = exchange.api.label(),
                key = exchange.key.as_deref().unwrap_or("-"),
                request_id = exchange.request_id.as_deref(),
                user = exchange.user.as_deref(),
                requested = exchange.requested.as_deref().unwrap_or("-"),
                route = exchange.route.as_deref(),
                model = answered.unwrap_or("-"),
                provider = exchange.provider.as_deref().unwrap_or("-"),
                fallback = exchange.fallback.map_or(-1, |f| f as i64),
                outcome = exchange
                    .error
                    .as_ref()
                    .map_or("ok", |(class, _)| class.as_str()),
                status = exchange.error.as_ref().map_or(200, |(_, status)| *status),
                input_tokens = exchange.usage.map(|u| u.input_tokens),
                output_tokens = exchange.usage.map(|u| u.output_tokens),
                cost = exchange
                    .cost_usd
                    .map(|usd| format_usd(usd, exchange.cost_estimated)),
                ttfb_ms = exchange.ttfb.map(log_millis),
                total_ms = log_millis(exchange.total),
                streamed = exchange.streamed,
                "exchange"
            );
        }
    }
}

/// The ledger's row for an exchange.
fn row_of(exchange: &Exchange) -> Row {
    let mut row = Row::new(
        exchange.at,
        exchange.api.into(),
        exchange.requested.as_deref().unwrap_or(DEFAULT_MODEL),
    );
    row.key.clone_from(&exchange.key);
    row.answered_ref = exchange.answered.as_ref().map(ToString::to_string);
    row.provider.clone_from(&exchange.provider);
    row.fallback_index = exchange.fallback.and_then(|f| u32::try_from(f).ok());
    match &exchange.error {
        None => row.status = Some(200),
        Some((class, status)) => {
            row.outcome = Outcome::error(class.clone());
            row.status = Some(*status);
        }
    }
    row.usage = exchange.usage;
    row.cost = exchange.cost_usd.map(|usd| hfclaw_accounting::Cost {
        usd,
        estimated: exchange.cost_estimated,
    });
    row.ttfb = exchange.ttfb;
    row.total = exchange.total;
    row.streamed = exchange.streamed;
    row.request_id = exchange.request_id.as_deref().map(str::to_owned);
    row.user.clone_from(&exchange.user);
    row.tags.clone_from(&exchange.tags);
    row.route = exchange.route.as_deref().map(str::to_owned);
    row
}
