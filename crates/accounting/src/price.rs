//! Which price applies to an answer, and what the answer cost (pure arithmetic).
//!
//! The rule (SPEC §6, issue 11): the price of the provider that served the request (the
//! router's `x-inference-provider` header), else of the provider a `:provider` suffix
//! pins, else the price of what the ref reaches by the catalog's one rule
//! (`hfclaw_catalog::reach`: the fastest live provider for a bare ref, the cheapest for
//! `:cheapest`; the highest live price when the pick is unknown, so an estimate errs
//! high) — then marked *estimated*, since the router may have picked another backend.
//! Prices that are not live (the built-in snapshot, a config entry's `cost`) are always
//! estimated. Prices are USD per 1M tokens.

use hfclaw_catalog::{Catalog, Cost as CatalogCost, Model, ProviderInfo, RefPrice, reach};
use hfclaw_model_ref::{ModelRef, Suffix};
use serde::Serialize;

use crate::usage::Usage;

/// USD per 1M tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Price {
    /// Prompt tokens.
    pub input: f64,
    /// Completion tokens.
    pub output: f64,
    /// Prompt tokens read from a cache; `None` = billed at `input`.
    pub cache_read: Option<f64>,
    /// Prompt tokens written to a cache; `None` = billed at `input`.
    pub cache_write: Option<f64>,
}

impl From<CatalogCost> for Price {
    fn from(c: CatalogCost) -> Price {
        Price {
            input: c.input,
            output: c.output,
            cache_read: c.cache_read,
            cache_write: c.cache_write,
        }
    }
}

/// Where a chosen price comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceBasis {
    /// The provider the router says served the request.
    ServingProvider,
    /// The provider the ref's `:provider` suffix pins.
    PinnedProvider,
    /// The provider the ref reaches by the catalog's rule (the server is unknown).
    ReachedProvider,
    /// The highest live price: the server and the provider the ref reaches are unknown.
    HighestLive,
    /// The model-level price of the built-in catalog or a config entry.
    ModelPrice,
}

/// The price applied to one answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceChoice {
    /// The price; `None` when nothing is known (cost unknown).
    pub price: Option<Price>,
    /// The provider whose price it is, when it is a provider's.
    pub provider: Option<String>,
    /// How the price was chosen (`None` without a price).
    pub basis: Option<PriceBasis>,
    /// True unless the price is a live one of the provider that (surely) served.
    pub estimated: bool,
}

impl PriceChoice {
    /// No price known: the cost stays unknown.
    pub fn unknown() -> PriceChoice {
        PriceChoice {
            price: None,
            provider: None,
            basis: None,
            estimated: true,
        }
    }
}

/// What an answer cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cost {
    /// US dollars.
    pub usd: f64,
    /// Not exact: the serving provider or its live price was not known.
    pub estimated: bool,
}

/// Chooses the price for an answer of `model` (the catalog's entry for the answered
/// model id, without suffix; `None` when the catalog does not know it), asked for with
/// `suffix`, served by `served_by` (the `x-inference-provider` header, if any).
pub fn choose_price(
    model: Option<&Model>,
    suffix: Option<&Suffix>,
    served_by: Option<&str>,
) -> PriceChoice {
    let Some(model) = model else {
        return PriceChoice::unknown();
    };
    // Providers are live data when the live list took part for this model.
    let live = model.available.is_some();
    let priced = |name: &str| -> Option<&ProviderInfo> {
        model
            .providers
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name) && p.pricing.is_some())
    };
    let from_provider = |p: &ProviderInfo, basis: PriceBasis, estimated: bool| PriceChoice {
        price: p.pricing.map(Price::from),
        provider: Some(p.name.to_string()),
        basis: Some(basis),
        estimated: estimated || !live,
    };
    if let Some(p) = served_by
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(priced)
    {
        return from_provider(p, PriceBasis::ServingProvider, false);
    }
    if let Some(Suffix::Provider(name)) = suffix
        && let Some(p) = priced(name)
    {
        // A pinned ref never fails over on the router's side, so the pinned provider
        // served it — unless the router named another one (whose price is unknown).
        return from_provider(p, PriceBasis::PinnedProvider, served_by.is_some());
    }
    let reached = reach(model, suffix);
    let (cost, basis) = match reached.price {
        RefPrice::At { cost } => (cost, PriceBasis::ReachedProvider),
        RefPrice::Range { high, .. } => (high, PriceBasis::HighestLive),
        RefPrice::Model { cost } => (cost, PriceBasis::ModelPrice),
        RefPrice::Unknown => return PriceChoice::unknown(),
    };
    PriceChoice {
        price: Some(cost.into()),
        provider: (basis == PriceBasis::ReachedProvider)
            .then(|| reached.provider_name().map(str::to_owned))
            .flatten(),
        basis: Some(basis),
        estimated: true,
    }
}

/// [`choose_price`] for an answered ref, looked up in a merged catalog. A config entry
/// for the exact suffixed id (`org/model:cheapest`) is preferred for its model-level
/// price only when the base model is unknown.
pub fn price_in_catalog(
    catalog: &Catalog,
    answered: &ModelRef,
    served_by: Option<&str>,
) -> PriceChoice {
    if !answered.is_huggingface() {
        return PriceChoice::unknown();
    }
    let model = catalog
        .get(answered.model_id())
        .or_else(|| catalog.get(answered.router_model_id()));
    choose_price(model, answered.suffix(), served_by)
}

/// What `usage` cost at `choice`; `None` when the price is unknown.
///
/// Cached reads and cache writes are billed at their own price when the catalog has one,
/// else at the input price (the router publishes no cache discount).
pub fn cost(usage: &Usage, choice: &PriceChoice) -> Option<Cost> {
    let price = choice.price?;
    let cached = usage.cached_tokens.unwrap_or(0).min(usage.input_tokens);
    let written = usage
        .cache_write_tokens
        .unwrap_or(0)
        .min(usage.input_tokens - cached);
    let fresh = usage.input_tokens - cached - written;
    let per_token = |n: u64, per_million: f64| n as f64 * per_million / 1e6;
    let usd = per_token(fresh, price.input)
        + per_token(cached, price.cache_read.unwrap_or(price.input))
        + per_token(written, price.cache_write.unwrap_or(price.input))
        + per_token(usage.output_tokens, price.output);
    Some(Cost {
        usd,
        estimated: choice.estimated,
    })
}

/// `$12.40` from a dollar up, else up to two significant digits (`$0.50`, `$0.0011`,
/// `$0.000036`, `$0.0000009`); a leading `~` when estimated.
pub fn format_usd(usd: f64, estimated: bool) -> String {
    let tilde = if estimated { "~" } else { "" };
    let text = if usd == 0.0 || !usd.is_finite() {
        "0.00".to_owned()
    } else if usd.abs() >= 1.0 {
        format!("{usd:.2}")
    } else {
        let digits = ((-usd.abs().log10()).floor() as usize + 2).clamp(2, 12);
        let text = format!("{usd:.digits$}");
        // `0.050` → `0.05`, `0.00000090` → `0.0000009`; at least two decimals stay.
        let keep = text.find('.').map_or(text.len(), |dot| dot + 3);
        let trimmed = text.trim_end_matches('0');
        text[..trimmed.len().max(keep)].to_owned()
    };
    format!("{tilde}${text}")
}

#[cfg(test)]
mod tests {
    use hfclaw_catalog::{ProviderStatus, Source};

    use super::*;

    fn provider(name: &str, status: ProviderStatus, input: f64, output: f64) -> ProviderInfo {
        ProviderInfo {
            pricing: Some(CatalogCost::new(input, output)),
            ..ProviderInfo::new(name, status)
        }
    }

    /// A model with live data: together $3/$7, cerebras $2/$5, sambanova (staging) $1/$1,
    /// novita without a price.
    fn live_model() -> Model {
        Model {
            providers: vec![
                provider("together", ProviderStatus::Live, 3.0, 7.0),
                provider("cerebras", ProviderStatus::Live, 2.0, 5.0),
                provider("sambanova", ProviderStatus::Staging, 1.0, 1.0),
                ProviderInfo::new("novita", ProviderStatus::Live),
            ],
            cost: Some(CatalogCost::new(2.0, 5.0)),
            available: Some(true),
            ..Model::unknown("org/m".into(), "M".into(), Source::Live)
        }
    }

    fn builtin_model() -> Model {
        Model {
            available: None,
            source: Source::BuiltIn,
            ..live_model()
        }
    }

    fn tokens(input: u64, output: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            ..Usage::default()
        }
    }

    fn chosen(choice: &PriceChoice) -> (Option<&str>, Option<PriceBasis>, bool) {
        (choice.provider.as_deref(), choice.basis, choice.estimated)
    }

    #[test]
    fn the_serving_providers_live_price_is_exact() {
        let model = live_model();
        let choice = choose_price(Some(&model), None, Some("together"));
        assert_eq!(
            chosen(&choice),
            (Some("together"), Some(PriceBasis::ServingProvider), false)
        );
        let cost = cost(&tokens(1_000_000, 100_000), &choice).unwrap();
        assert!((cost.usd - 3.7).abs() < 1e-9, "{cost:?}");
        assert!(!cost.estimated);
    }

    #[test]
    fn a_policy_suffix_answered_by_another_provider_costs_that_providers_price() {
        let model = live_model();
        let choice = choose_price(Some(&model), Some(&Suffix::Cheapest), Some("together"));
        assert_eq!(
            chosen(&choice),
            (Some("together"), Some(PriceBasis::ServingProvider), false)
        );
    }

    #[test]
    fn a_pinned_suffix_without_header_uses_the_pinned_price_exactly() {
        let model = live_model();
        let pinned = Suffix::Provider("together".into());
        let choice = choose_price(Some(&model), Some(&pinned), None);
        assert_eq!(
            chosen(&choice),
            (Some("together"), Some(PriceBasis::PinnedProvider), false)
        );
        // The router naming a provider it has no price for: the pinned one, estimated.
        let choice = choose_price(Some(&model), Some(&pinned), Some("novita"));
        assert_eq!(
            chosen(&choice),
            (Some("together"), Some(PriceBasis::PinnedProvider), true)
        );
    }

    #[test]
    fn an_unknown_server_costs_what_the_ref_reaches_estimated() {
        let model = live_model();
        for served in [None, Some("unheard-of"), Some("novita"), Some("")] {
            // `:cheapest` reaches the cheapest live provider.
            let choice = choose_price(Some(&model), Some(&Suffix::Cheapest), served);
            assert_eq!(
                chosen(&choice),
                (Some("cerebras"), Some(PriceBasis::ReachedProvider), true),
                "{served:?}"
            );
            // Without throughput data a bare ref's provider is unknown: the highest live
            // price, so the estimate errs high.
            let choice = choose_price(Some(&model), None, served);
            assert_eq!(
                chosen(&choice),
                (None, Some(PriceBasis::HighestLive), true),
                "{served:?}"
            );
            assert_eq!(choice.price.map(|p| p.output), Some(7.0));
        }
        let mut fast = live_model();
        fast.providers[0].throughput = Some(100.0);
        let choice = choose_price(Some(&fast), Some(&Suffix::Fastest), None);
        assert_eq!(
            chosen(&choice),
            (Some("together"), Some(PriceBasis::ReachedProvider), true)
        );
    }

    #[test]
    fn built_in_prices_are_always_estimated() {
        let model = builtin_model();
        let choice = choose_price(Some(&model), None, Some("together"));
        assert_eq!(
            chosen(&choice),
            (Some("together"), Some(PriceBasis::ServingProvider), true)
        );
        let bare = Model {
            providers: Vec::new(),
            ..builtin_model()
        };
        let choice = choose_price(Some(&bare), None, Some("together"));
        assert_eq!(chosen(&choice), (None, Some(PriceBasis::ModelPrice), true));
    }

    #[test]
    fn no_price_means_unknown_cost_never_zero() {
        let model = Model::unknown("org/m".into(), "M".into(), Source::Live);
        let choice = choose_price(Some(&model), None, Some("together"));
        assert_eq!(choice, PriceChoice::unknown());
        assert_eq!(cost(&tokens(10, 10), &choice), None);
        assert_eq!(choose_price(None, None, None), PriceChoice::unknown());
    }

    #[test]
    fn cached_tokens_use_the_cache_price_when_known() {
        let choice = PriceChoice {
            price: Some(Price {
                input: 2.0,
                output: 8.0,
                cache_read: Some(0.5),
                cache_write: Some(2.5),
            }),
            provider: Some("x".into()),
            basis: Some(PriceBasis::ServingProvider),
            estimated: false,
        };
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 0,
            cached_tokens: Some(600_000),
            cache_write_tokens: Some(100_000),
        };
        let usd = cost(&usage, &choice).unwrap().usd;
        assert!(
            (usd - (0.3 * 2.0 + 0.6 * 0.5 + 0.1 * 2.5)).abs() < 1e-9,
            "{usd}"
        );
        // Without cache prices every prompt token costs the input price.
        let plain = PriceChoice {
            price: Some(Price {
                cache_read: None,
                cache_write: None,
                ..choice.price.unwrap()
            }),
            ..choice
        };
        assert!((cost(&usage, &plain).unwrap().usd - 2.0).abs() < 1e-9);
    }

    #[test]
    fn catalog_lookup_uses_the_base_model() {
        let catalog = Catalog::merge(vec![live_model()], None, &[]);
        let r: ModelRef = "huggingface/org/m:together".parse().unwrap();
        let choice = price_in_catalog(&catalog, &r, None);
        assert_eq!(
            chosen(&choice),
            (Some("together"), Some(PriceBasis::PinnedProvider), false)
        );
        let unknown: ModelRef = "huggingface/org/other".parse().unwrap();
        assert_eq!(
            price_in_catalog(&catalog, &unknown, None),
            PriceChoice::unknown()
        );
        let foreign: ModelRef = "openai/gpt-5".parse().unwrap();
        assert_eq!(
            price_in_catalog(&catalog, &foreign, None),
            PriceChoice::unknown()
        );
    }

    #[test]
    fn usd_formatting() {
        assert_eq!(format_usd(0.0011, false), "$0.0011");
        assert_eq!(format_usd(0.0011, true), "~$0.0011");
        assert_eq!(format_usd(12.4, false), "$12.40");
        assert_eq!(format_usd(0.000036, false), "$0.000036");
        assert_eq!(format_usd(0.0000361, false), "$0.000036");
        assert_eq!(format_usd(0.0, false), "$0.00");
        assert_eq!(format_usd(0.5, false), "$0.50");
        assert_eq!(format_usd(0.05, false), "$0.05");
        assert_eq!(format_usd(0.0000009, false), "$0.0000009");
        assert_eq!(format_usd(0.0010, false), "$0.001");
        assert_eq!(format_usd(0.000748, true), "~$0.00075");
    }
}

/// Output tokens assumed for a request that sets no limit on a model whose catalog entry
/// gives no maximum output either.
pub const UNKNOWN_MAX_OUTPUT_TOKENS: u64 = 32_768;

/// The most an answer of `model` (a ref of the chain) could cost: `input_tokens` and
/// `output_tokens` (else the model's maximum output) at the highest input and output
/// prices any of its providers charges — the pinned provider's when the ref pins one —
/// else at the model's own price. `None` when no price is known (the request then
/// reserves nothing). What a request reserves against the budgets before it is forwarded.
pub fn worst_case_usd(
    catalog: &Catalog,
    model_ref: &ModelRef,
    input_tokens: u64,
    output_tokens: Option<u64>,
) -> Option<f64> {
    if !model_ref.is_huggingface() {
        return None;
    }
    let model = catalog
        .get(model_ref.model_id())
        .or_else(|| catalog.get(model_ref.router_model_id()))?;
    let pinned = match model_ref.suffix() {
        Some(Suffix::Provider(name)) => Some(name.as_str()),
        _ => None,
    };
    let prices = model
        .providers
        .iter()
        .filter(|p| pinned.is_none_or(|name| p.name.eq_ignore_ascii_case(name)))
        .filter_map(|p| p.pricing);
    let (input, output) = prices
        .map(|c| (c.input, c.output))
        .reduce(|a, b| (a.0.max(b.0), a.1.max(b.1)))
        .or(model.cost.map(|c| (c.input, c.output)))?;
    let output_tokens = output_tokens
        .or(model.max_output_tokens)
        .unwrap_or(UNKNOWN_MAX_OUTPUT_TOKENS);
    let usd = (input_tokens as f64 * input + output_tokens as f64 * output) / 1e6;
    usd.is_finite().then_some(usd)
}

#[cfg(test)]
mod worst_case_tests {
    use hfclaw_catalog::{Cost as CatalogCost, Model, ProviderInfo, ProviderStatus, Source};

    use super::*;

    #[test]
    fn the_worst_case_is_the_dearest_provider_and_the_model_s_max_output() {
        let provider = |name: &str, input: f64, output: f64| ProviderInfo {
            pricing: Some(CatalogCost::new(input, output)),
            ..ProviderInfo::new(name, ProviderStatus::Live)
        };
        let model = Model {
            providers: vec![provider("a", 1.0, 4.0), provider("b", 3.0, 2.0)],
            max_output_tokens: Some(1_000),
            available: Some(true),
            ..Model::unknown("org/m".into(), "M".into(), Source::Live)
        };
        let catalog = Catalog::merge(vec![model], None, &[]);
        let any: ModelRef = "huggingface/org/m"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        // 100 input at $3/M, 10 output at $4/M.
        let usd = worst_case_usd(&catalog, &any, 100, Some(10)).unwrap_or_default();
        assert!((usd - 0.00034).abs() < 1e-12, "{usd}");
        // No limit asked: the model's maximum output.
        let usd = worst_case_usd(&catalog, &any, 0, None).unwrap_or_default();
        assert!((usd - 0.004).abs() < 1e-12, "{usd}");
        // A pinned provider's own price.
        let pinned: ModelRef = "huggingface/org/m:b"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let usd = worst_case_usd(&catalog, &pinned, 100, Some(10)).unwrap_or_default();
        assert!((usd - 0.00032).abs() < 1e-12, "{usd}");
        let unknown: ModelRef = "huggingface/x/y".parse().unwrap_or_else(|_| unreachable!());
        assert_eq!(worst_case_usd(&catalog, &unknown, 1, Some(1)), None);
    }
}
