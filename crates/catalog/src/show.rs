//! `hfclaw models show`: one model and every provider serving it, with what each costs
//! and which one `:fastest` and `:cheapest` would pick under the router's rules.
//!
//! Router rules (SPEC §1): `:fastest` takes the live provider with the highest
//! throughput (also what a ref without suffix gets), `:cheapest` the live provider with
//! the lowest output price, `:<provider>` pins one. When the data carries no throughput,
//! the fastest pick is unknown and said so, never guessed.

use std::cmp::Ordering;

use hfclaw_model_ref::{ModelRef, Suffix};
use serde::Serialize;

use crate::builtin;
use crate::config_entry::ConfigModel;
use crate::listing::{Selection, Tag};
use crate::merge::Catalog;
use crate::model::{
    Cost, ProviderInfo, ProviderStatus, Source, cheapest_live_all, fastest_live, present_first,
};

/// What `models show` prints; also the stable `--json` shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Details {
    /// The ref shown, as resolved from the user's input.
    #[serde(rename = "ref")]
    pub model_ref: String,
    /// Router id of the model, without suffix.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The user's alias for this ref.
    pub alias: Option<String>,
    /// Reasoning model.
    pub reasoning: bool,
    /// Input modalities.
    pub input: Vec<String>,
    /// Context window for this ref: the minimum over usable providers (a prompt must fit
    /// wherever the router fails over), the pinned provider's for `:<provider>`.
    pub context_window: Option<u64>,
    /// The context of the provider this ref reaches, when it differs.
    pub provider_context_window: Option<u64>,
    /// Largest completion in tokens.
    pub max_output_tokens: Option<u64>,
    /// Price per 1M tokens for this ref: at the provider it reaches ([`crate::reach`]);
    /// the high end of `cost_range` when that provider is unknown.
    pub cost: Option<Cost>,
    /// The cheapest and priciest live prices, when the provider this ref reaches is unknown.
    pub cost_range: Option<[Cost; 2]>,
    /// The provider this ref reaches, when the data says.
    pub reaches: Option<String>,
    /// Whether a provider serves this ref now (`None` without live data).
    pub available: Option<bool>,
    /// Where the config uses this model (default, fallbacks), with the ref it uses.
    pub used_as: Vec<Use>,
    /// The config's entries for this model (`models.providers.huggingface.models`).
    pub config_entries: Vec<ConfigModel>,
    /// The provider `:fastest` picks; `None` when no live provider reports throughput.
    pub fastest: Option<String>,
    /// The providers `:cheapest` may pick (several when they tie).
    pub cheapest: Vec<String>,
    /// Every provider, live ones first, then by output price.
    pub providers: Vec<ProviderRow>,
    /// Where the model's data comes from.
    pub source: Source,
    /// When that data was taken.
    pub as_of: Option<String>,
}

/// A use of the model in the config.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Use {
    /// `default` or `fallback#n`.
    pub role: Tag,
    /// The ref as the config writes it.
    #[serde(rename = "ref")]
    pub model_ref: String,
}

/// Which policy would pick a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pick {
    /// `:fastest`.
    Fastest,
    /// `:cheapest`.
    Cheapest,
}

/// One provider of the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderRow {
    /// Provider name.
    pub name: String,
    /// The suffix that pins it (`:together`); `None` when the name cannot be one.
    pub suffix: Option<String>,
    /// Router status.
    pub status: ProviderStatus,
    /// Context length this provider serves.
    pub context_length: Option<u64>,
    /// Its price per 1M tokens.
    pub pricing: Option<Cost>,
    /// Measured tokens per second.
    pub throughput: Option<f64>,
    /// Measured latency to the first token, in ms.
    pub first_token_latency_ms: Option<f64>,
    /// Tool calling.
    pub supports_tools: Option<bool>,
    /// Structured output.
    pub supports_structured_output: Option<bool>,
    /// The router's `is_free`.
    pub is_free: Option<bool>,
    /// Whether the provider is the model's author.
    pub is_model_author: Option<bool>,
    /// The policies that would pick it.
    pub picks: Vec<Pick>,
    /// True for the provider this ref goes to, when that is known.
    pub selected: bool,
}

/// The details of `model_ref`, or `None` when the catalog does not know the model.
/// `config` is the user's `models.providers.huggingface.models`.
pub fn details(
    catalog: &Catalog,
    selection: &Selection<'_>,
    config: &[ConfigModel],
    model_ref: &ModelRef,
) -> Option<Details> {
    let view = catalog.model_for(model_ref)?;
    let reached = catalog.reach(model_ref)?;
    let base = catalog
        .get(model_ref.model_id())
        .or_else(|| catalog.get(model_ref.router_model_id()))?;
    let fastest = fastest_live(&base.providers).map(|p| p.name.to_string());
    let cheapest: Vec<String> = cheapest_live_all(&base.providers)
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    // The provider this ref reaches, when the suffix says (a bare ref goes the fastest way).
    let selected = match model_ref.suffix() {
        Some(Suffix::Provider(name)) => vec![name.clone()],
        None | Some(Suffix::Fastest) => fastest.iter().cloned().collect(),
        Some(Suffix::Cheapest) => cheapest.clone(),
        Some(Suffix::Preferred) => Vec::new(),
    };
    let mut providers: Vec<ProviderRow> = base
        .providers
        .iter()
        .map(|p| provider_row(p, fastest.as_deref(), &cheapest, &selected))
        .collect();
    providers.sort_by(by_usefulness);
    let as_of = match view.source {
        Source::BuiltIn => Some(builtin::AS_OF.to_owned()),
        Source::Live | Source::Config => catalog.data_source().as_of(),
    };
    let base_id = model_ref.model_id();
    Some(Details {
        model_ref: model_ref.to_string(),
        id: base_id.to_owned(),
        name: view.name.clone(),
        alias: selection.aliases.alias_of(model_ref).map(str::to_owned),
        reasoning: view.reasoning,
        input: view.input.clone(),
        context_window: reached.context,
        provider_context_window: reached.provider_context(),
        max_output_tokens: view.max_output_tokens,
        cost: reached.price.for_config(),
        cost_range: reached.price.range().map(|(low, high)| [low, high]),
        reaches: reached.provider_name().map(str::to_owned),
        available: view.available,
        used_as: uses(selection, base_id),
        config_entries: config
            .iter()
            .filter(|e| e.id.split_once(':').map_or(e.id.as_str(), |(id, _)| id) == base_id)
            .cloned()
            .collect(),
        fastest,
        cheapest,
        providers,
        source: view.source,
        as_of,
    })
}

fn provider_row(
    p: &ProviderInfo,
    fastest: Option<&str>,
    cheapest: &[String],
    selected: &[String],
) -> ProviderRow {
    let mut picks = Vec::new();
    if fastest == Some(p.name.as_str()) {
        picks.push(Pick::Fastest);
    }
    if cheapest.iter().any(|c| *c == p.name) {
        picks.push(Pick::Cheapest);
    }
    ProviderRow {
        name: p.name.to_string(),
        suffix: p.pin_suffix().map(|s| format!(":{s}")),
        status: p.status.clone(),
        context_length: p.context_length,
        pricing: p.pricing,
        throughput: p.throughput,
        first_token_latency_ms: p.first_token_latency_ms,
        supports_tools: p.supports_tools,
        supports_structured_output: p.supports_structured_output,
        is_free: p.is_free,
        is_model_author: p.is_model_author,
        picks,
        selected: selected.iter().any(|s| *s == p.name),
    }
}

/// Live first (then staging, unknown, error); then cheapest output, cheapest input,
/// fastest; then by name. Missing values sort after present ones.
fn by_usefulness(a: &ProviderRow, b: &ProviderRow) -> Ordering {
    fn rank(status: &ProviderStatus) -> u8 {
        match status {
            ProviderStatus::Live => 0,
            ProviderStatus::Staging => 1,
            ProviderStatus::Other(_) => 2,
            ProviderStatus::Error => 3,
        }
    }
    let output = |r: &ProviderRow| r.pricing.map(|c| c.output);
    let input = |r: &ProviderRow| r.pricing.map(|c| c.input);
    rank(&a.status)
        .cmp(&rank(&b.status))
        .then_with(|| present_first(output(a), output(b), |a, b| a.total_cmp(&b)))
        .then_with(|| present_first(input(a), input(b), |a, b| a.total_cmp(&b)))
        .then_with(|| present_first(a.throughput, b.throughput, |a, b| b.total_cmp(&a)))
        .then_with(|| a.name.cmp(&b.name))
}

/// The default and fallbacks that use `model_id` (with any suffix).
fn uses(selection: &Selection<'_>, model_id: &str) -> Vec<Use> {
    let same = |r: &&ModelRef| r.is_huggingface() && r.model_id() == model_id;
    let primary = selection.primary.filter(same).map(|r| Use {
        role: Tag::Default,
        model_ref: r.to_string(),
    });
    let fallbacks = selection
        .fallbacks
        .iter()
        .enumerate()
        .filter(|(_, r)| same(r))
        .map(|(i, r)| Use {
            role: Tag::Fallback(i + 1),
            model_ref: r.to_string(),
        });
    primary.into_iter().chain(fallbacks).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hfclaw_model_ref::Aliases;

    use super::*;
    use crate::{DataSource, parse_model_list};

    fn r(s: &str) -> ModelRef {
        s.parse().unwrap()
    }

    fn offline() -> Catalog {
        Catalog::merge(builtin::models(), None, &[])
    }

    /// The real genai-prices excerpt as the live list: it carries throughput.
    fn live() -> Catalog {
        let body = include_bytes!("../tests/fixtures/real/router-models-genai-prices-fixture.json");
        let models = parse_model_list(body).unwrap().models;
        Catalog::merge(builtin::models(), Some(models), &[]).dated(DataSource::Cache {
            fetched_at: 1_785_240_000,
        })
    }

    fn show(catalog: &Catalog, model_ref: &str) -> Details {
        let aliases = Aliases::new();
        let selection = Selection::with_aliases(&aliases);
        details(catalog, &selection, &[], &r(model_ref)).unwrap()
    }

    #[test]
    fn cheapest_is_the_lowest_output_price_among_live_providers() {
        let d = show(&offline(), "huggingface/openai/gpt-oss-120b");
        assert_eq!(d.providers.len(), 10);
        assert_eq!(d.cheapest, ["deepinfra"]);
        assert_eq!(d.providers[0].name, "deepinfra");
        assert_eq!(d.providers[0].picks, [Pick::Cheapest]);
        assert_eq!(d.as_of.as_deref(), Some("2026-07-27"));
    }

    #[test]
    fn fastest_is_unknown_without_throughput_never_guessed() {
        let d = show(&offline(), "huggingface/openai/gpt-oss-120b");
        assert_eq!(d.fastest, None);
        assert!(
            d.providers
                .iter()
                .all(|p| !p.picks.contains(&Pick::Fastest))
        );
        assert!(
            d.providers.iter().all(|p| !p.selected),
            "a bare ref goes the fastest way"
        );
    }

    #[test]
    fn fastest_is_the_highest_throughput_live_provider() {
        let d = show(&live(), "huggingface/moonshotai/Kimi-K3:fastest");
        assert_eq!(d.fastest.as_deref(), Some("fireworks-ai"));
        // Same price on both: the tie is shown, not broken at random.
        assert_eq!(d.cheapest, ["together", "fireworks-ai"]);
        let fireworks = d
            .providers
            .iter()
            .find(|p| p.name == "fireworks-ai")
            .unwrap();
        assert_eq!(fireworks.picks, [Pick::Fastest, Pick::Cheapest]);
        assert!(fireworks.selected);
        assert_eq!(d.as_of.as_deref(), Some("2026-07-28T12:00:00Z"));
    }

    #[test]
    fn pinned_provider_is_selected_and_sets_the_refs_numbers() {
        let d = show(&live(), "huggingface/zai-org/GLM-5.2:together");
        assert_eq!(d.cost, Some(Cost::new(1.4, 4.4)));
        assert_eq!(d.context_window, Some(512_000));
        let selected: Vec<&str> = d
            .providers
            .iter()
            .filter(|p| p.selected)
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(selected, ["together"]);
        assert_eq!(d.providers[0].suffix.as_deref(), Some(":together"));
    }

    #[test]
    fn providers_sort_live_then_by_output_price_with_unpriced_last() {
        let d = show(&offline(), "huggingface/zai-org/GLM-4.7");
        let order: Vec<&str> = d.providers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            order,
            [
                "deepinfra",
                "novita",
                "cerebras",
                "featherless-ai",
                "zai-org"
            ]
        );
        let author = d.providers.iter().find(|p| p.name == "zai-org").unwrap();
        assert_eq!(author.is_model_author, Some(true));
        assert_eq!(author.pricing, None, "missing stays missing");
    }

    #[test]
    fn config_uses_and_entries_are_shown() {
        let primary = r("huggingface/openai/gpt-oss-120b:groq");
        let fallbacks = [
            r("huggingface/Qwen/Qwen3-8B"),
            r("huggingface/openai/gpt-oss-120b"),
        ];
        let mut aliases = Aliases::new();
        aliases.insert(r("huggingface/openai/gpt-oss-120b"), "oss");
        let selection = Selection {
            primary: Some(&primary),
            fallbacks: &fallbacks,
            aliases: &aliases,
            allowlist: &[],
        };
        let entry = ConfigModel {
            id: "openai/gpt-oss-120b:groq".to_owned(),
            name: Some("OSS on Groq".to_owned()),
            ..ConfigModel::default()
        };
        let catalog = Catalog::merge(builtin::models(), None, std::slice::from_ref(&entry));
        let d = details(
            &catalog,
            &selection,
            &[entry],
            &r("huggingface/openai/gpt-oss-120b"),
        )
        .unwrap();
        assert_eq!(d.alias.as_deref(), Some("oss"));
        let uses: Vec<String> = d
            .used_as
            .iter()
            .map(|u| format!("{} {}", u.role, u.model_ref))
            .collect();
        assert_eq!(
            uses,
            [
                "default huggingface/openai/gpt-oss-120b:groq",
                "fallback#2 huggingface/openai/gpt-oss-120b"
            ]
        );
        assert_eq!(d.config_entries.len(), 1);
    }

    #[test]
    fn unknown_models_have_no_details() {
        let aliases = Aliases::new();
        let selection = Selection::with_aliases(&aliases);
        assert_eq!(
            details(&offline(), &selection, &[], &r("huggingface/no/such")),
            None
        );
    }
}
