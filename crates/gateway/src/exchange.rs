//! What a request leaves behind as it passes through the gateway: who sent it
//! ([`ClientLabel`], set by the key check), whether its one log line is `App::record`'s
//! ([`Recorded`]), and how it ended ([`Exchange`], which `App::record` prices, meters and
//! logs). Records only, so every layer can import them.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use hfclaw_accounting::shared::SharedHold;
use hfclaw_accounting::{Hold, Tags, Usage};
use hfclaw_model_ref::ModelRef;

use crate::api::Api;

/// The label of the client key a request sent (a request extension).
#[derive(Debug, Clone)]
pub struct ClientLabel(pub String);

/// The request's id (a request extension, set by the request-id layer): the client's
/// `x-request-id`, else one the gateway made.
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

/// Marks the response of a request that `App::record` logs (a response extension): the
/// request log skips it, so a request is one line.
#[derive(Debug, Clone, Copy)]
pub struct Recorded;

/// A duration in milliseconds for the log, to a tenth (`16.4`, not `16.396087`).
pub fn log_millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e4).round() / 10.0
}

/// How a request ended, for the log and the accounts.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// When it arrived.
    pub at: SystemTime,
    /// Which API it called.
    pub api: Api,
    /// The label of the client key it sent.
    pub key: Option<String>,
    /// The `model` as the client wrote it.
    pub requested: Option<String>,
    /// The `--route` pattern that chose the model for a name the client chose.
    pub route: Option<Arc<str>>,
    /// The model that answered.
    pub answered: Option<ModelRef>,
    /// The backend that served it (`x-inference-provider`).
    pub provider: Option<String>,
    /// The answering model's place in the chain (0 = the one asked for).
    pub fallback: Option<usize>,
    /// The models given up on before (or instead of) it.
    pub skipped: Vec<ModelRef>,
    /// `None` when it succeeded; else the error class (e.g. `rate_limit_exceeded`,
    /// `budget_exceeded`, `client_closed`) and the HTTP status.
    pub error: Option<(String, u16)>,
    /// The usage the answer reported (`None`: unknown, never zero).
    pub usage: Option<Usage>,
    /// What it cost, when both usage and a price are known (set by `App::record`).
    pub cost_usd: Option<f64>,
    /// True when the price was not the serving provider's live one.
    pub cost_estimated: bool,
    /// Time to the first byte sent to the client.
    pub ttfb: Option<Duration>,
    /// Time until the answer ended.
    pub total: Duration,
    /// Whether the answer was streamed.
    pub streamed: bool,
    /// The request's reservation against the budgets, settled by `App::record`.
    pub hold: Option<HoldSlot>,
    /// The request's id ([`RequestId`]).
    pub request_id: Option<Arc<str>>,
    /// The end user the body names (`user`, `metadata.user_id`), bounded.
    pub user: Option<String>,
    /// The body's `metadata` tags, bounded.
    pub tags: Tags,
}

/// A request's reservations — against this replica's budgets, and its row in the limits
/// replicas share — held by the copies of its exchange; the first [`HoldSlot::take`]
/// gets them (dropped untaken, they are released).
#[derive(Debug, Clone)]
pub struct HoldSlot(Arc<Mutex<Option<Holds>>>);

/// What a request holds.
#[derive(Debug)]
pub struct Holds {
    /// Against this replica's budgets.
    pub local: Option<Hold>,
    /// In the database replicas share.
    pub shared: Option<SharedHold>,
}

impl HoldSlot {
    /// A slot holding `holds`.
    pub fn new(holds: Holds) -> HoldSlot {
        HoldSlot(Arc::new(Mutex::new(Some(holds))))
    }

    /// The holds, once.
    pub fn take(&self) -> Option<Holds> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl Exchange {
    /// A request of `api` that arrived `at` and has answered nothing yet (no model, usage
    /// or error): the caller fills in what it learned.
    pub fn unanswered(at: SystemTime, api: Api, total: Duration) -> Exchange {
        Exchange {
            at,
            api,
            key: None,
            requested: None,
            route: None,
            answered: None,
            provider: None,
            fallback: None,
            skipped: Vec::new(),
            error: None,
            usage: None,
            cost_usd: None,
            cost_estimated: false,
            ttfb: None,
            total,
            streamed: false,
            hold: None,
            request_id: None,
            user: None,
            tags: Tags::default(),
        }
    }

    /// A request of `api` that answered nothing yet, 120 ms long (for tests).
    #[cfg(test)]
    pub fn for_test(api: Api) -> Exchange {
        Exchange::unanswered(std::time::UNIX_EPOCH, api, Duration::from_millis(120))
    }
}
