//! Merging built-in, live and config data into one [`Catalog`] (SPEC §2).
//!
//! Per field: live data wins for availability, providers, context (minimum over usable
//! providers) and prices (cheapest live provider); the built-in list fills what the API
//! lacks (names, output limits, reasoning); config entries win over both for every field
//! they set. Entries are keyed by exact id; order is config entries, then the rest by id.

use std::collections::HashMap;

use hfclaw_model_ref::{ModelRef, Suffix};

use crate::config_entry::ConfigModel;
use crate::discovery::LiveModel;
use crate::model::{Model, ProviderInfo, Source, cheapest_live, fastest_live, min_context};
use crate::names::derive_name;

/// The merged catalog.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Config entries first (config order), then the rest sorted by id.
    models: Vec<Model>,
    /// Exact id → index in `models`.
    index: HashMap<String, usize>,
    /// Whether live data (fresh or cached) took part in the merge.
    live: bool,
    /// Config entries that could not be used, one line each.
    warnings: Vec<String>,
}

impl Catalog {
    /// Merges the three sources; `live` is `None` when no discovery data is available.
    pub fn merge(
        builtin: Vec<Model>,
        live: Option<&[LiveModel]>,
        config: &[ConfigModel],
    ) -> Catalog {
        let mut by_id: HashMap<String, Model> =
            builtin.into_iter().map(|m| (m.id.clone(), m)).collect();
        if let Some(live) = live {
            for model in by_id.values_mut() {
                model.available = Some(false);
            }
            for entry in live {
                let model = by_id
                    .remove(&entry.id)
                    .unwrap_or_else(|| skeleton(&entry.id));
                by_id.insert(entry.id.clone(), apply_live(model, entry));
            }
        }
        let mut catalog = Catalog {
            models: Vec::with_capacity(by_id.len() + config.len()),
            index: HashMap::with_capacity(by_id.len() + config.len()),
            live: live.is_some(),
            warnings: Vec::new(),
        };
        for entry in config {
            catalog.push_config_entry(entry, &by_id);
        }
        let mut rest: Vec<Model> = by_id
            .into_values()
            .filter(|m| !catalog.index.contains_key(&m.id))
            .collect();
        rest.sort_by(|a, b| by_id_ignoring_case(&a.id, &b.id));
        for model in rest {
            catalog.push(model);
        }
        catalog
    }

    /// All models: config entries first, then the rest by id.
    pub fn models(&self) -> &[Model] {
        &self.models
    }

    /// The entry with exactly this id (router id, suffix included).
    pub fn get(&self, id: &str) -> Option<&Model> {
        self.index.get(id).map(|&i| &self.models[i])
    }

    /// True when live data (fresh or cached) took part in the merge.
    pub fn has_live_data(&self) -> bool {
        self.live
    }

    /// Config entries that were skipped, one line each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Every id, for "did you mean" checks.
    pub fn ids(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.id.as_str()).collect()
    }

    /// The model a ref stands for, with context and prices of its suffix: the pinned
    /// provider's for `:<provider>`, the fastest live provider's for `:fastest`, the
    /// cheapest live provider's otherwise. An exact config entry for the suffixed id wins.
    pub fn model_for(&self, model_ref: &ModelRef) -> Option<Model> {
        if !model_ref.is_huggingface() {
            return None;
        }
        if let Some(exact) = self.get(model_ref.router_model_id()) {
            return Some(exact.clone());
        }
        let base = self.get(model_ref.model_id())?;
        Some(with_suffix(base, model_ref.suffix()))
    }

    /// Providers known for a model, when live data is present; `None` means "cannot tell".
    pub fn known_providers(&self, model_id: &str) -> Option<Vec<&str>> {
        if !self.live {
            return None;
        }
        let base = model_id.split_once(':').map_or(model_id, |(m, _)| m);
        let model = self.get(base)?;
        Some(model.providers.iter().map(|p| p.name.as_str()).collect())
    }

    fn push(&mut self, model: Model) {
        self.index.insert(model.id.clone(), self.models.len());
        self.models.push(model);
    }

    fn push_config_entry(&mut self, entry: &ConfigModel, by_id: &HashMap<String, Model>) {
        if self.index.contains_key(&entry.id) {
            self.warnings
                .push(format!("duplicate config entry {:?} ignored", entry.id));
            return;
        }
        let model_ref = match ModelRef::from_router_id(&entry.id) {
            Ok(r) => r,
            Err(e) => {
                self.warnings
                    .push(format!("config entry {:?} skipped: {}", entry.id, e.kind()));
                return;
            }
        };
        let base = by_id
            .get(model_ref.model_id())
            .map(|m| with_suffix(m, model_ref.suffix()))
            .unwrap_or_else(|| skeleton(&entry.id));
        let mut model = apply_config(base, entry);
        model.id = entry.id.clone();
        self.push(model);
    }
}

/// Case-insensitive order, so `Qwen/…` sorts among `openai/…` and `zai-org/…`.
fn by_id_ignoring_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
        .then_with(|| a.cmp(b))
}

fn skeleton(id: &str) -> Model {
    Model {
        id: id.to_owned(),
        name: derive_name(id),
        owned_by: None,
        context_window: None,
        max_output_tokens: None,
        cost: None,
        reasoning: false,
        input: vec!["text".to_owned()],
        providers: Vec::new(),
        source: Source::Live,
        available: None,
        options: Default::default(),
    }
}

fn apply_live(mut model: Model, live: &LiveModel) -> Model {
    if let Some(name) = &live.api_name {
        model.name.clone_from(name);
    }
    if live.owned_by.is_some() {
        model.owned_by.clone_from(&live.owned_by);
    }
    if let Some(reasoning) = live.reasoning {
        model.reasoning = reasoning;
    }
    if let Some(input) = &live.input_modalities {
        model.input.clone_from(input);
    }
    model.providers.clone_from(&live.providers);
    if let Some(context) = min_context(&live.providers) {
        model.context_window = Some(context);
    }
    if let Some(cost) = cheapest_live(&live.providers).and_then(|p| p.pricing) {
        model.cost = Some(cost);
    }
    model.available = Some(live.providers.iter().any(ProviderInfo::is_usable));
    model.source = Source::Live;
    model
}

/// A base model seen through a suffix: per-provider values for `:<provider>`, the fastest
/// provider's price for `:fastest`; policies keep the model-level values otherwise.
fn with_suffix(base: &Model, suffix: Option<&Suffix>) -> Model {
    let mut model = base.clone();
    let chosen = match suffix {
        Some(Suffix::Provider(name)) => {
            let pinned = base.providers.iter().find(|p| &p.name == name);
            model.available = match (base.available, pinned) {
                (Some(_), Some(p)) => Some(p.is_usable()),
                (Some(_), None) => Some(false),
                (None, _) => None,
            };
            pinned
        }
        Some(Suffix::Fastest) => fastest_live(&base.providers),
        _ => None,
    };
    if let Some(provider) = chosen {
        if provider.context_length.is_some() {
            model.context_window = provider.context_length;
        }
        if provider.pricing.is_some() {
            model.cost = provider.pricing;
        }
    }
    if let Some(suffix) = suffix {
        model.id = format!("{}:{suffix}", base.id);
    }
    model
}

fn apply_config(mut model: Model, entry: &ConfigModel) -> Model {
    if let Some(name) = entry.name.as_ref().filter(|n| !n.trim().is_empty()) {
        model.name.clone_from(name);
    }
    if entry.context_window.is_some() {
        model.context_window = entry.context_window;
    }
    if entry.max_tokens.is_some() {
        model.max_output_tokens = entry.max_tokens;
    }
    if let Some(cost) = entry.cost {
        model.cost = Some(cost.over(model.cost));
    }
    if let Some(reasoning) = entry.reasoning {
        model.reasoning = reasoning;
    }
    if let Some(input) = &entry.input {
        model.input.clone_from(input);
    }
    model.options.clone_from(&entry.options);
    model.source = Source::Config;
    model
}
