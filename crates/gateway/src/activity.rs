//! What the status page shows of recent traffic, kept in memory: the last requests (a
//! bounded ring), today's totals per model (UTC days; at most [`MAX_MODELS_TODAY`] models,
//! the rest under `other`), and what the last request that reached the router says about
//! it. One short lock per finished request.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::api::Api;
use crate::exchange::Exchange;
use crate::labels::OTHER;
use hfclaw_accounting::{BUDGET_EXCEEDED, Usage};

/// Requests kept for the page.
pub const RECENT: usize = 50;
/// Models with a total of their own today.
pub const MAX_MODELS_TODAY: usize = 100;
/// Longest model name kept for the page (a client may send anything).
const MAX_NAME: usize = 160;

/// One finished request, as the page lists it.
#[derive(Debug, Clone)]
pub struct Recent {
    /// When it ended.
    pub at: SystemTime,
    /// Which API it called.
    pub api: Api,
    /// The model that answered, else the `model` the client sent (shortened).
    pub model: Option<String>,
    /// The backend that answered.
    pub provider: Option<String>,
    /// The answering model's place in the chain.
    pub fallback: Option<usize>,
    /// The usage the answer reported.
    pub tokens: Option<Usage>,
    /// What it cost, when known.
    pub cost_usd: Option<f64>,
    /// Time to the first byte.
    pub ttfb: Option<Duration>,
    /// Time to the end.
    pub total: Duration,
    /// `None` when it succeeded; else the error type and HTTP status.
    pub error: Option<(String, u16)>,
    /// Whether it streamed.
    pub streamed: bool,
}

/// One model's totals for a day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayTotals {
    /// Requests.
    pub requests: u64,
    /// Requests that failed, budget refusals aside.
    pub errors: u64,
    /// Requests a spending budget refused (429 `budget_exceeded`).
    pub budget_refusals: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Spend of the requests whose cost is known.
    pub cost_usd: f64,
    /// How many requests had a known cost.
    pub costed: u64,
}

/// What the last request that reached the router says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterSeen {
    /// When.
    pub at: SystemTime,
    /// `None`: a model answered; else the error type and HTTP status the gateway sent.
    pub failure: Option<(String, u16)>,
}

/// A copy of the activity, for one page.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// The last requests, newest first.
    pub recent: Vec<Recent>,
    /// Today's totals by model label, most requests first.
    pub today: Vec<(String, DayTotals)>,
    /// The last word from the router.
    pub router: Option<RouterSeen>,
}

#[derive(Debug, Default)]
struct Inner {
    recent: VecDeque<Recent>,
    /// Days since the epoch (UTC) `today` counts.
    day: u64,
    today: HashMap<String, DayTotals>,
    router: Option<RouterSeen>,
}

/// The activity the status page shows.
#[derive(Debug, Default)]
pub struct Activity {
    inner: Mutex<Inner>,
}

/// Days since the Unix epoch (UTC) at `at`.
pub fn day_of(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400)
}

/// True when an error of this type came from the router (rather than from the client's
/// request or the gateway's own limits).
fn from_router(class: &str) -> bool {
    // The router-client's error classes (`ErrorKind::as_str`), also as `stream_…` for a
    // stream that broke after it began; the gateway's own refusals use other codes.
    let class = class.strip_prefix("stream_").unwrap_or(class);
    matches!(
        class,
        "auth"
            | "forbidden"
            | "payment"
            | "not_found"
            | "rate_limited"
            | "upstream"
            | "timeout"
            | "network"
            | "bad_request"
            | "bad_response"
    )
}

impl Activity {
    /// Nothing seen yet.
    pub fn new() -> Activity {
        Activity::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A request is over; `model` is its label (see `LabelBook`).
    pub fn record(&self, exchange: &Exchange, model: &str, at: SystemTime) {
        let shown = exchange
            .answered
            .as_ref()
            .map(|m| m.as_str())
            .or(exchange.requested.as_deref())
            .map(shorten);
        let entry = Recent {
            at,
            api: exchange.api,
            model: shown,
            provider: exchange.provider.as_deref().map(shorten),
            fallback: exchange.fallback,
            tokens: exchange.usage,
            cost_usd: exchange.cost_usd,
            ttfb: exchange.ttfb,
            total: exchange.total,
            error: exchange.error.clone(),
            streamed: exchange.streamed,
        };
        let reached_router = exchange.answered.is_some()
            || exchange
                .error
                .as_ref()
                .is_some_and(|(class, _)| from_router(class));
        let day = day_of(at);
        let mut inner = self.lock();
        if inner.recent.len() == RECENT {
            inner.recent.pop_back();
        }
        inner.recent.push_front(entry);
        if reached_router {
            inner.router = Some(RouterSeen {
                at,
                failure: exchange
                    .error
                    .clone()
                    .filter(|_| exchange.answered.is_none()),
            });
        }
        if inner.day != day {
            inner.day = day;
            inner.today.clear();
        }
        let key = if inner.today.contains_key(model) || inner.today.len() < MAX_MODELS_TODAY {
            model
        } else {
            OTHER
        };
        let totals = match inner.today.get_mut(key) {
            Some(totals) => totals,
            None => inner.today.entry(key.to_owned()).or_default(),
        };
        totals.requests += 1;
        let refused = exchange
            .error
            .as_ref()
            .is_some_and(|(class, _)| class == BUDGET_EXCEEDED);
        totals.errors += u64::from(exchange.error.is_some() && !refused);
        totals.budget_refusals += u64::from(refused);
        if let Some(usage) = exchange.usage {
            totals.input_tokens += usage.input_tokens;
            totals.output_tokens += usage.output_tokens;
        }
        if let Some(cost) = exchange.cost_usd.filter(|c| c.is_finite() && *c >= 0.0) {
            totals.cost_usd += cost;
            totals.costed += 1;
        }
    }

    /// A copy for a page rendered at `now` (yesterday's totals are not today's).
    pub fn view(&self, now: SystemTime) -> View {
        let (recent, mut today, router) = {
            let inner = self.lock();
            let today: Vec<(String, DayTotals)> = if inner.day == day_of(now) {
                inner
                    .today
                    .iter()
                    .map(|(model, totals)| (model.clone(), totals.clone()))
                    .collect()
            } else {
                Vec::new()
            };
            (
                inner.recent.iter().cloned().collect(),
                today,
                inner.router.clone(),
            )
        };
        today.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then_with(|| a.0.cmp(&b.0)));
        View {
            recent,
            today,
            router,
        }
    }
}

/// `text`, cut to [`MAX_NAME`] characters.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_NAME) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn exchange(requested: &str, error: Option<(&'static str, u16)>) -> Exchange {
        let ok = error.is_none();
        Exchange {
            requested: Some(requested.to_owned()),
            answered: ok.then(|| "huggingface/a/b".parse().unwrap()),
            provider: ok.then(|| "groq".to_owned()),
            fallback: ok.then_some(0),
            error: error.map(|(class, status)| (class.to_owned(), status)),
            usage: Some(Usage {
                input_tokens: 3,
                output_tokens: 2,
                ..Usage::default()
            }),
            cost_usd: Some(0.5),
            total: Duration::from_millis(5),
            ..Exchange::for_test(Api::Chat)
        }
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn the_ring_keeps_the_newest_requests() {
        let a = Activity::new();
        for i in 0..RECENT + 5 {
            a.record(
                &exchange(&format!("m{i}"), Some(("invalid_request_error", 400))),
                "other",
                at(10),
            );
        }
        let view = a.view(at(10));
        assert_eq!(view.recent.len(), RECENT);
        assert_eq!(
            view.recent[0].model.as_deref(),
            Some(&*format!("m{}", RECENT + 4))
        );
        assert_eq!(view.recent[RECENT - 1].model.as_deref(), Some("m5"));
        // Client errors say nothing about the router.
        assert_eq!(view.router, None);
    }

    #[test]
    fn today_counts_per_model_and_starts_over_each_day() {
        let a = Activity::new();
        let day = 86_400 * 20_000;
        a.record(&exchange("x", None), "huggingface/a/b", at(day + 5));
        a.record(&exchange("x", None), "huggingface/a/b", at(day + 6));
        a.record(
            &exchange("y", Some(("upstream", 502))),
            "huggingface/c/d",
            at(day + 7),
        );
        let view = a.view(at(day + 8));
        assert_eq!(view.today[0].0, "huggingface/a/b");
        assert_eq!(
            view.today[0].1,
            DayTotals {
                requests: 2,
                errors: 0,
                input_tokens: 6,
                output_tokens: 4,
                cost_usd: 1.0,
                costed: 2,
                budget_refusals: 0,
            }
        );
        assert_eq!((view.today[1].1.requests, view.today[1].1.errors), (1, 1));
        // A budget refusal is counted apart from the errors.
        a.record(
            &exchange("y", Some(("budget_exceeded", 429))),
            "huggingface/c/d",
            at(day + 9),
        );
        let view = a.view(at(day + 10));
        let totals = &view.today[1].1;
        assert_eq!(
            (totals.requests, totals.errors, totals.budget_refusals),
            (2, 1, 1)
        );
        assert_eq!(
            view.router,
            Some(RouterSeen {
                at: at(day + 7),
                failure: Some(("upstream".to_owned(), 502))
            })
        );
        // The next day: nothing yet, and a new request starts a new day.
        assert!(a.view(at(day + 86_400)).today.is_empty());
        a.record(&exchange("x", None), "huggingface/a/b", at(day + 86_401));
        let view = a.view(at(day + 86_402));
        assert_eq!(view.today.len(), 1);
        assert_eq!(view.today[0].1.requests, 1);
        assert_eq!(view.router.unwrap().failure, None);
    }

    #[test]
    fn models_past_the_cap_are_counted_as_other_and_names_are_shortened() {
        let a = Activity::new();
        for i in 0..MAX_MODELS_TODAY + 3 {
            a.record(&exchange(&"x".repeat(500), None), &format!("m{i}"), at(1));
        }
        let view = a.view(at(2));
        assert_eq!(view.today.len(), MAX_MODELS_TODAY + 1);
        assert_eq!(
            view.today[0],
            (
                "other".to_owned(),
                DayTotals {
                    requests: 3,
                    errors: 0,
                    input_tokens: 9,
                    output_tokens: 6,
                    cost_usd: 1.5,
                    costed: 3,
                    budget_refusals: 0,
                }
            )
        );
        assert_eq!(view.recent[0].model.as_deref(), Some("huggingface/a/b"));
        let failed = exchange(&"é".repeat(500), Some(("invalid_request_error", 400)));
        a.record(&failed, "other", at(3));
        let shown = a.view(at(3)).recent[0].model.clone().unwrap();
        assert_eq!(shown.chars().count(), MAX_NAME + 1);
    }
}
