//! What `GET /metrics` says (its handler is in `routes.rs`): Prometheus text format
//! (0.0.4), with the Prometheus project's own Rust client (`prometheus-client`). Each
//! finished request ([`Metrics::observe`], from `App::record`) bumps a few atomic counters
//! and one histogram, each found under a read lock (a write lock only the first time a
//! label set appears); what is a reading rather than a count — requests in flight, models
//! cooling — is taken at scrape time, so requests never pay for it.
//!
//! Label values are bounded twice: model and provider names go through the
//! [`LabelBook`](crate::labels::LabelBook) (unknown ones become `other`), and each family
//! holds at most a fixed number of label sets; past it, new sets are counted under
//! `model="other"` (and `provider="other"`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::exchange::Exchange;
use crate::labels::{Names, OTHER};

/// The `Content-Type` of a scrape.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Label sets of `hfclaw_requests_total` kept before new ones fold into `other`.
const MAX_REQUEST_SERIES: usize = 1000;
/// Label sets of each histogram (each one is ~15 lines of a scrape).
const MAX_HISTOGRAM_SERIES: usize = 200;
/// Label sets of the cost and fallback counters.
const MAX_PAIR_SERIES: usize = 500;

/// Upper bounds (seconds) of the request duration buckets: streams run for minutes.
const DURATION_BUCKETS: [f64; 13] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
];
/// Upper bounds (seconds) of the time-to-first-byte buckets.
const TTFB_BUCKETS: [f64; 12] = [
    0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    api: &'static str,
    model: String,
    provider: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiModel {
    api: &'static str,
    model: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Direction {
    direction: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelProvider {
    model: String,
    provider: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FromTo {
    from: String,
    to: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Model {
    model: String,
}

/// Builds histograms with fixed buckets (a plain `fn`, so families stay `Send + Sync`).
#[derive(Debug, Clone, Copy)]
struct Buckets(&'static [f64]);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

/// What a scrape reads off the gateway at that moment.
#[derive(Debug, Clone, Default)]
pub struct Readings {
    /// Requests (and streams) in flight.
    pub in_flight: i64,
    /// Models of the current chain and models cooling: `(label, cooling)`.
    pub cooldowns: Vec<(String, bool)>,
}

/// The gateway's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Capped<RequestLabels, Counter>,
    duration: Capped<ApiModel, Histogram, Buckets>,
    ttfb: Capped<ApiModel, Histogram, Buckets>,
    tokens: Family<Direction, Counter>,
    cost: Capped<ModelProvider, Counter<f64, AtomicU64>>,
    fallbacks: Capped<FromTo, Counter>,
    cooldown: Family<Model, Gauge>,
    in_flight: Gauge,
    /// One scrape at a time: readings are set, then encoded.
    scrape: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric at zero.
    pub fn new() -> Metrics {
        let mut metrics = Metrics {
            registry: Registry::default(),
            requests: Capped::new(Family::default(), MAX_REQUEST_SERIES),
            duration: Capped::new(
                Family::new_with_constructor(Buckets(&DURATION_BUCKETS)),
                MAX_HISTOGRAM_SERIES,
            ),
            ttfb: Capped::new(
                Family::new_with_constructor(Buckets(&TTFB_BUCKETS)),
                MAX_HISTOGRAM_SERIES,
            ),
            tokens: Family::default(),
            cost: Capped::new(Family::default(), MAX_PAIR_SERIES),
            fallbacks: Capped::new(Family::default(), MAX_PAIR_SERIES),
            cooldown: Family::default(),
            in_flight: Gauge::default(),
            scrape: Mutex::new(()),
        };
        for direction in ["input", "output", "cached"] {
            let _ = metrics.tokens.get_or_create(&Direction { direction });
        }
        let r = &mut metrics.registry;
        r.register(
            "hfclaw_requests",
            "Requests served, by API, model (the one that answered, else the one asked for), \
             provider and outcome (ok or the error type)",
            metrics.requests.family.clone(),
        );
        r.register(
            "hfclaw_request_duration_seconds",
            "Time from the request to the end of its answer (whole streams included)",
            metrics.duration.family.clone(),
        );
        r.register(
            "hfclaw_time_to_first_byte_seconds",
            "Time from the request to the first byte of its answer",
            metrics.ttfb.family.clone(),
        );
        r.register(
            "hfclaw_tokens",
            "Tokens the answers reported: input (cached included), output, cached input",
            metrics.tokens.clone(),
        );
        r.register(
            "hfclaw_cost_usd",
            "Spend in US dollars of the requests whose cost is known",
            metrics.cost.family.clone(),
        );
        r.register(
            "hfclaw_fallbacks",
            "Requests answered by a fallback: from the model asked for, to the one that answered",
            metrics.fallbacks.family.clone(),
        );
        r.register(
            "hfclaw_cooldown_active",
            "1 while a model is skipped after failing (the configured chain is listed at 0)",
            metrics.cooldown.clone(),
        );
        r.register(
            "hfclaw_inflight_requests",
            "Requests and streams being served now",
            metrics.in_flight.clone(),
        );
        metrics
    }

    /// Counts a finished request.
    pub fn observe(&self, exchange: &Exchange, names: &Names) {
        let api = exchange.api.label();
        let outcome = exchange
            .error
            .as_ref()
            .map_or("ok", |(class, _)| class.as_str())
            .to_owned();
        let labels = RequestLabels {
            api,
            model: names.model.clone(),
            provider: names.provider.clone(),
            outcome,
        };
        self.requests
            .get(labels, |l| {
                l.model = OTHER.to_owned();
                l.provider = OTHER.to_owned();
            })
            .inc();
        let labels = ApiModel {
            api,
            model: names.model.clone(),
        };
        let fold = |l: &mut ApiModel| l.model = OTHER.to_owned();
        self.duration
            .get(labels.clone(), fold)
            .observe(exchange.total.as_secs_f64());
        if let Some(ttfb) = exchange.ttfb {
            self.ttfb.get(labels, fold).observe(ttfb.as_secs_f64());
        }
        if let Some(usage) = exchange.usage {
            for (direction, count) in [
                ("input", Some(usage.input_tokens)),
                ("output", Some(usage.output_tokens)),
                ("cached", usage.cached_tokens),
            ] {
                if let Some(count) = count.filter(|c| *c > 0) {
                    self.tokens
                        .get_or_create(&Direction { direction })
                        .inc_by(count);
                }
            }
        }
        if let Some(cost) = exchange.cost_usd.filter(|c| c.is_finite() && *c >= 0.0) {
            let labels = ModelProvider {
                model: names.model.clone(),
                provider: names.provider.clone(),
            };
            self.cost
                .get(labels, |l| {
                    l.model = OTHER.to_owned();
                    l.provider = OTHER.to_owned();
                })
                .inc_by(cost);
        }
        if let Some(from) = &names.fell_back_from {
            let labels = FromTo {
                from: from.clone(),
                to: names.model.clone(),
            };
            self.fallbacks
                .get(labels, |l| {
                    l.from = OTHER.to_owned();
                    l.to = OTHER.to_owned();
                })
                .inc();
        }
    }

    /// The scrape: the counters plus `readings`.
    pub fn render(&self, readings: &Readings) -> String {
        let _one_at_a_time = self.scrape.lock().unwrap_or_else(PoisonError::into_inner);
        self.in_flight.set(readings.in_flight);
        self.cooldown.clear();
        for (model, cooling) in &readings.cooldowns {
            self.cooldown
                .get_or_create(&Model {
                    model: model.clone(),
                })
                .set(i64::from(*cooling));
        }
        let mut out = String::with_capacity(16 * 1024);
        if let Err(e) = prometheus_text::encode(&mut out, &self.registry) {
            // Writing to a String cannot fail; should the encoder, say so in the scrape.
            tracing::warn!(error = %e, "encoding the metrics failed");
            out.push_str("# encoding failed\n");
        }
        out
    }
}

/// A family that holds at most `cap` label sets; past it, new sets are folded first.
#[derive(Debug)]
struct Capped<S, M, C = fn() -> M> {
    family: Family<S, M, C>,
    /// Label sets created (a race may count one twice: never more than `cap` plus the
    /// requests in flight).
    series: AtomicUsize,
    cap: usize,
}

impl<S, M, C> Capped<S, M, C>
where
    S: Clone + std::hash::Hash + Eq,
    M: Clone,
    C: MetricConstructor<M>,
{
    fn new(family: Family<S, M, C>, cap: usize) -> Self {
        Capped {
            family,
            series: AtomicUsize::new(0),
            cap,
        }
    }

    /// The metric of `labels`, or of `fold(labels)` when the family is full.
    fn get(&self, mut labels: S, fold: impl FnOnce(&mut S)) -> M {
        if let Some(metric) = self.family.get(&labels) {
            return metric.clone();
        }
        if self.series.load(Ordering::Relaxed) >= self.cap {
            fold(&mut labels);
            if let Some(metric) = self.family.get(&labels) {
                return metric.clone();
            }
        }
        self.series.fetch_add(1, Ordering::Relaxed);
        self.family.get_or_create_owned(&labels)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use prometheus_parse::{Sample, Scrape, Value};

    use super::*;
    use crate::api::Api;
    use hfclaw_accounting::Usage;

    fn exchange(api: Api) -> Exchange {
        Exchange::for_test(api)
    }

    fn names(model: &str, provider: &str) -> Names {
        Names {
            model: model.to_owned(),
            provider: provider.to_owned(),
            fell_back_from: None,
        }
    }

    fn parse(text: &str) -> Scrape {
        Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
    }

    fn find<'a>(scrape: &'a Scrape, metric: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == metric)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .collect()
    }

    fn counter(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
        find(scrape, metric, labels)
            .iter()
            .map(|s| match s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
                _ => panic!("{metric} is not a counter"),
            })
            .sum()
    }

    #[test]
    fn a_scrape_counts_requests_tokens_cost_and_fallbacks() {
        let m = Metrics::new();
        let mut ok = exchange(Api::Chat);
        ok.usage = Some(Usage {
            input_tokens: 10,
            output_tokens: 4,
            cached_tokens: Some(3),
            cache_write_tokens: None,
        });
        ok.ttfb = Some(Duration::from_millis(40));
        ok.cost_usd = Some(0.25);
        let r1 = names("huggingface/a/b", "groq");
        m.observe(&ok, &r1);
        m.observe(&ok, &r1);
        let mut failed = exchange(Api::Messages);
        failed.error = Some(("rate_limited".to_owned(), 429));
        m.observe(&failed, &names("huggingface/a/b", "none"));
        let mut fell_back = exchange(Api::Responses);
        fell_back.ttfb = Some(Duration::from_secs(3));
        let mut via = names("huggingface/c/d", "together");
        via.fell_back_from = Some("huggingface/a/b".to_owned());
        m.observe(&fell_back, &via);

        let text = m.render(&Readings {
            in_flight: 2,
            cooldowns: vec![
                ("huggingface/a/b".to_owned(), true),
                ("huggingface/c/d".to_owned(), false),
            ],
        });
        let s = parse(&text);
        let requests = "hfclaw_requests_total";
        assert_eq!(
            counter(
                &s,
                requests,
                &[
                    ("api", "chat"),
                    ("model", "huggingface/a/b"),
                    ("provider", "groq"),
                    ("outcome", "ok")
                ]
            ),
            2.0,
            "{text}"
        );
        assert_eq!(
            counter(
                &s,
                requests,
                &[("api", "messages"), ("outcome", "rate_limited")]
            ),
            1.0
        );
        assert_eq!(counter(&s, requests, &[]), 4.0);
        assert_eq!(
            counter(&s, "hfclaw_tokens_total", &[("direction", "input")]),
            20.0
        );
        assert_eq!(
            counter(&s, "hfclaw_tokens_total", &[("direction", "output")]),
            8.0
        );
        assert_eq!(
            counter(&s, "hfclaw_tokens_total", &[("direction", "cached")]),
            6.0
        );
        // Cost only for exchanges that had one.
        let cost = find(&s, "hfclaw_cost_usd_total", &[]);
        assert_eq!(cost.len(), 1, "{text}");
        assert_eq!(cost[0].labels.get("provider"), Some("groq"));
        assert_eq!(counter(&s, "hfclaw_cost_usd_total", &[]), 0.5);
        assert_eq!(
            counter(
                &s,
                "hfclaw_fallbacks_total",
                &[("from", "huggingface/a/b"), ("to", "huggingface/c/d")]
            ),
            1.0
        );
        assert_eq!(counter(&s, "hfclaw_inflight_requests", &[]), 2.0);
        assert_eq!(
            counter(
                &s,
                "hfclaw_cooldown_active",
                &[("model", "huggingface/a/b")]
            ),
            1.0
        );
        assert_eq!(
            find(
                &s,
                "hfclaw_cooldown_active",
                &[("model", "huggingface/c/d")]
            )
            .len(),
            1
        );
        // Histograms: every request has a duration, three a time to first byte.
        let histogram = |metric: &str, labels: &[(&str, &str)]| -> u64 {
            find(&s, metric, labels)
                .iter()
                .map(|s| match &s.value {
                    Value::Histogram(buckets) => buckets.last().map_or(0, |b| b.count as u64),
                    other => panic!("{metric}: {other:?}"),
                })
                .sum()
        };
        assert_eq!(histogram("hfclaw_request_duration_seconds", &[]), 4);
        assert_eq!(histogram("hfclaw_time_to_first_byte_seconds", &[]), 3);
        let slow = find(
            &s,
            "hfclaw_time_to_first_byte_seconds",
            &[("api", "responses")],
        );
        let Value::Histogram(buckets) = &slow[0].value else {
            panic!()
        };
        let under = |bound: f64| {
            buckets
                .iter()
                .find(|b| (b.less_than - bound).abs() < 1e-9)
                .unwrap()
                .count
        };
        assert_eq!((under(2.0), under(5.0)), (0.0, 1.0));
    }

    #[test]
    fn cooldown_readings_replace_the_previous_ones() {
        let m = Metrics::new();
        m.render(&Readings {
            in_flight: 0,
            cooldowns: vec![("huggingface/a/b".to_owned(), true)],
        });
        let s = parse(&m.render(&Readings::default()));
        assert!(find(&s, "hfclaw_cooldown_active", &[]).is_empty());
    }

    #[test]
    fn label_sets_past_the_cap_fold_into_other() {
        let m = Metrics::new();
        let e = exchange(Api::Chat);
        for i in 0..MAX_REQUEST_SERIES + 50 {
            m.observe(&e, &names(&format!("huggingface/org/m{i}"), "groq"));
        }
        let s = parse(&m.render(&Readings::default()));
        let series = find(&s, "hfclaw_requests_total", &[]);
        assert_eq!(series.len(), MAX_REQUEST_SERIES + 1);
        assert_eq!(
            counter(
                &s,
                "hfclaw_requests_total",
                &[("model", OTHER), ("provider", OTHER)]
            ),
            50.0
        );
        assert_eq!(
            counter(&s, "hfclaw_requests_total", &[]),
            (MAX_REQUEST_SERIES + 50) as f64
        );
        let durations = find(&s, "hfclaw_request_duration_seconds", &[]);
        assert_eq!(durations.len(), MAX_HISTOGRAM_SERIES + 1);
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.observe(&exchange(Api::Chat), &names("a\"b\\c\nd", "p"));
        let text = m.render(&Readings::default());
        assert!(text.contains(r#"model="a\"b\\c\nd""#), "{text}");
        parse(&text);
    }
}
