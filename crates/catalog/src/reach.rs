//! Which provider a ref reaches, and what it costs and holds there: the one rule of
//! SPEC §2 that `models list`, `models show`, `/v1/models`, the entries `onboard` and
//! `models sync` write and the ledger's estimates all ask.
//!
//! A bare ref and `:fastest` reach the live provider with the highest throughput (the
//! router's default policy), `:cheapest` the live one with the lowest output price,
//! `:<provider>` that provider. Where the pick is known, its price is *the* price. Where
//! it is not (no throughput data, `:preferred`), the price is the range over the live
//! providers: tables show it, configs get its high end (an estimate that errs high,
//! never low). The context is the minimum over usable providers (a prompt must fit
//! wherever the router fails over), the pinned provider's own for `:<provider>` (no
//! failover). A pin no usable provider matches has no price.

use hfclaw_model_ref::{ModelRef, Suffix};
use serde::Serialize;

use crate::merge::Catalog;
use crate::model::{
    Cost, Model, ProviderInfo, ProviderStatus, Source, cheapest_live, fastest_live, min_context,
};

/// How the provider of a ref is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pick {
    /// Highest throughput (a bare ref, `:fastest`).
    Fastest,
    /// Lowest output price (`:cheapest`).
    Cheapest,
    /// Pinned by `:<provider>`.
    Pinned,
    /// The router decides by data hfclaw lacks (`:preferred`).
    Preferred,
}

/// A ref's price.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RefPrice {
    /// The price of the provider the ref reaches.
    At {
        /// USD per 1M tokens.
        cost: Cost,
    },
    /// The provider is unknown: from the cheapest live offering (by output price) to the
    /// priciest.
    Range {
        /// The cheapest live provider's price.
        low: Cost,
        /// The priciest live provider's price.
        high: Cost,
    },
    /// No provider prices: the model-level price of the built-in list or a config entry.
    Model {
        /// USD per 1M tokens.
        cost: Cost,
    },
    /// Nothing known (or a pin no usable provider matches).
    Unknown,
}

impl RefPrice {
    /// The one price a config entry or a `/v1/models` entry gets: the high end of a range.
    pub fn for_config(&self) -> Option<Cost> {
        match *self {
            RefPrice::At { cost } | RefPrice::Model { cost } => Some(cost),
            RefPrice::Range { high, .. } => Some(high),
            RefPrice::Unknown => None,
        }
    }

    /// The range, when the provider the ref reaches is unknown.
    pub fn range(&self) -> Option<(Cost, Cost)> {
        match *self {
            RefPrice::Range { low, high } => Some((low, high)),
            _ => None,
        }
    }
}

/// Where a ref goes and what it costs there.
#[derive(Debug, Clone, PartialEq)]
pub struct Reach<'a> {
    /// How the provider is chosen.
    pub pick: Pick,
    /// The provider the ref reaches, when the data says which.
    pub provider: Option<&'a ProviderInfo>,
    /// Its price.
    pub price: RefPrice,
    /// The context a prompt can count on: the minimum over usable providers (the pinned
    /// provider's for `:<provider>`), else the model's.
    pub context: Option<u64>,
}

impl Reach<'_> {
    /// The provider's name, when known.
    pub fn provider_name(&self) -> Option<&str> {
        self.provider.map(|p| p.name.as_str())
    }

    /// The reached provider's own context, when it differs from [`Reach::context`].
    pub fn provider_context(&self) -> Option<u64> {
        self.provider
            .and_then(|p| p.context_length)
            .filter(|own| Some(*own) != self.context)
    }
}

/// What `model` (a base model, with its providers) reaches under `suffix`.
pub fn reach<'a>(model: &'a Model, suffix: Option<&Suffix>) -> Reach<'a> {
    let providers = &model.providers;
    let (pick, provider) = match suffix {
        None | Some(Suffix::Fastest) => (Pick::Fastest, fastest_live(providers)),
        Some(Suffix::Cheapest) => (Pick::Cheapest, cheapest_live(providers)),
        Some(Suffix::Provider(name)) => (
            Pick::Pinned,
            providers.iter().find(|p| p.name == *name && p.is_usable()),
        ),
        Some(Suffix::Preferred) => (Pick::Preferred, None),
    };
    let price = match (pick, provider.and_then(|p| p.pricing)) {
        (_, Some(cost)) => RefPrice::At { cost },
        // A pin no usable provider matches (when providers are known): no price.
        (Pick::Pinned, None) if !providers.is_empty() => RefPrice::Unknown,
        _ => live_range(providers).map_or_else(
            || {
                model
                    .cost
                    .map_or(RefPrice::Unknown, |cost| RefPrice::Model { cost })
            },
            |(low, high)| {
                if low == high {
                    RefPrice::At { cost: low }
                } else {
                    RefPrice::Range { low, high }
                }
            },
        ),
    };
    let context = match pick {
        Pick::Pinned => provider.and_then(|p| p.context_length),
        _ => min_context(providers),
    }
    .or(model.context_window);
    Reach {
        pick,
        provider,
        price,
        context,
    }
}

/// The price a bare ref of these providers gets in a config: the fastest live one's,
/// else the highest live price; `None` without live prices.
pub(crate) fn bare_price(providers: &[ProviderInfo]) -> Option<Cost> {
    if let Some(cost) = fastest_live(providers).and_then(|p| p.pricing) {
        return Some(cost);
    }
    live_range(providers).map(|(_, high)| high)
}

/// The cheapest and priciest live prices, by output price then input price.
fn live_range(providers: &[ProviderInfo]) -> Option<(Cost, Cost)> {
    let priced = || {
        providers
            .iter()
            .filter(|p| p.status == ProviderStatus::Live)
            .filter_map(|p| p.pricing)
    };
    let key = |c: &Cost| (c.output, c.input);
    let by_key = |a: &Cost, b: &Cost| {
        let ((ao, ai), (bo, bi)) = (key(a), key(b));
        ao.total_cmp(&bo).then(ai.total_cmp(&bi))
    };
    let low = priced().min_by(by_key)?;
    let high = priced().max_by(by_key)?;
    Some((low, high))
}

impl Catalog {
    /// What `model_ref` reaches: the provider, its price, the context; `None` when the
    /// catalog does not know the model. A config entry for exactly this id that sets a
    /// price keeps it (the user's word wins).
    pub fn reach(&self, model_ref: &ModelRef) -> Option<Reach<'_>> {
        if !model_ref.is_huggingface() {
            return None;
        }
        let exact = self.get(model_ref.router_model_id());
        let base = self.get(model_ref.model_id()).or(exact)?;
        let mut reach = reach(base, model_ref.suffix());
        if let Some(entry) = exact.filter(|m| m.source == Source::Config) {
            if let Some(cost) = entry.cost {
                reach.price = RefPrice::Model { cost };
            }
            if entry.context_window.is_some() {
                reach.context = entry.context_window;
            }
        }
        Some(reach)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn provider(name: &str, out: f64, throughput: Option<f64>, context: u64) -> ProviderInfo {
        ProviderInfo {
            pricing: Some(Cost::new(out / 4.0, out)),
            throughput,
            context_length: Some(context),
            ..ProviderInfo::new(name, ProviderStatus::Live)
        }
    }

    fn model(providers: Vec<ProviderInfo>) -> Model {
        Model {
            providers,
            cost: Some(Cost::new(9.0, 9.0)),
            ..Model::unknown("org/m".into(), "M".into(), Source::Live)
        }
    }

    fn with_throughput() -> Model {
        model(vec![
            provider("cheap", 0.7, Some(20.0), 32_000),
            provider("fast", 7.0, Some(300.0), 128_000),
            provider("middle", 2.0, Some(90.0), 64_000),
        ])
    }

    fn suffix(text: &str) -> Suffix {
        text.parse().unwrap()
    }

    #[test]
    fn a_bare_ref_and_fastest_are_priced_at_the_highest_throughput_provider() {
        let m = with_throughput();
        for s in [None, Some(suffix("fastest"))] {
            let r = reach(&m, s.as_ref());
            assert_eq!(r.provider_name(), Some("fast"));
            assert_eq!(
                r.price,
                RefPrice::At {
                    cost: Cost::new(1.75, 7.0)
                }
            );
        }
        assert_eq!(bare_price(&m.providers), Some(Cost::new(1.75, 7.0)));
    }

    #[test]
    fn cheapest_and_a_pin_are_priced_at_their_provider() {
        let m = with_throughput();
        let r = reach(&m, Some(&suffix("cheapest")));
        assert_eq!((r.pick, r.provider_name()), (Pick::Cheapest, Some("cheap")));
        assert_eq!(r.price.for_config(), Some(Cost::new(0.175, 0.7)));
        let r = reach(&m, Some(&suffix("middle")));
        assert_eq!(r.price.for_config(), Some(Cost::new(0.5, 2.0)));
        assert_eq!(r.context, Some(64_000), "a pin has its provider's context");
    }

    #[test]
    fn an_unknown_pick_is_the_range_and_configs_get_its_high_end() {
        let m = model(vec![
            provider("a", 0.7, None, 32_000),
            provider("b", 7.0, None, 128_000),
        ]);
        let r = reach(&m, None);
        assert_eq!(r.provider, None);
        assert_eq!(
            r.price.range(),
            Some((Cost::new(0.175, 0.7), Cost::new(1.75, 7.0)))
        );
        assert_eq!(r.price.for_config(), Some(Cost::new(1.75, 7.0)));
        assert_eq!(bare_price(&m.providers), Some(Cost::new(1.75, 7.0)));
        assert!(
            reach(&m, Some(&suffix("preferred")))
                .price
                .range()
                .is_some()
        );
    }

    #[test]
    fn the_context_is_the_minimum_over_usable_providers_and_the_picks_own_is_told() {
        let m = with_throughput();
        let r = reach(&m, None);
        assert_eq!(r.context, Some(32_000));
        assert_eq!(r.provider_context(), Some(128_000));
    }

    #[test]
    fn a_pin_no_usable_provider_matches_has_no_price() {
        let mut m = with_throughput();
        m.providers[1].status = ProviderStatus::Error;
        for pin in ["fast", "nobody"] {
            let r = reach(&m, Some(&suffix(pin)));
            assert_eq!((r.provider, r.price), (None, RefPrice::Unknown), "{pin}");
        }
        // Without provider data, the model-level price stays.
        let bare = model(Vec::new());
        let r = reach(&bare, Some(&suffix("nobody")));
        assert_eq!(
            r.price,
            RefPrice::Model {
                cost: Cost::new(9.0, 9.0)
            }
        );
    }
}
