//! Merging built-in, live and config data into one [`Catalog`] (SPEC §2).
//!
//! Per field: live data wins for availability, providers, context (minimum over usable
//! providers) and prices (cheapest live provider); the built-in list fills what the API
//! lacks (names, output limits, reasoning); config entries win over both for every field
//! they set. Entries are keyed by exact id; order is config entries, then the rest by id.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::borrow::Cow;

use hfclaw_model_ref::{Lookup, ModelRef, Suffix};

use crate::config_entry::ConfigModel;
use crate::discovery::LiveModel;
use crate::model::{Model, ProviderInfo, Source, min_context};
use crate::names::derive_name;
use crate::provenance::DataSource;
use crate::reach::{bare_price, reach};

/// The merged catalog.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Config entries first (config order), then the rest sorted by id (case-insensitive).
    models: Vec<Model>,
    /// How many leading entries of `models` come from the config.
    config_len: usize,
    /// The position of each config entry's id among those leading entries: lookups run
    /// once per row of `models list`, and a config may hold 100,000s of entries.
    /// The config entries by a hash of their id (the ids are not copied: a synced config
    /// may hold 200,000); [`SHARED`] marks a hash two ids have.
    config_index: HashMap<u64, u32>,
    /// Whether live data (fresh or cached) took part in the merge.
    live: bool,
    /// Where the router data comes from.
    source: DataSource,
    /// Config entries that could not be used, one line each.
    warnings: Vec<String>,
}

impl Catalog {
    /// Merges the three sources; `live` is `None` when no discovery data is available.
    /// Live entries are moved, not copied: a 10,000-model list merges in a few ms.
    pub fn merge(
        builtin: Vec<Model>,
        live: Option<Vec<LiveModel>>,
        config: &[ConfigModel],
    ) -> Catalog {
        Catalog::merge_from(builtin, live, Cow::Borrowed(config))
    }

    /// [`Catalog::merge`] of config entries borrowed or owned: owned ones are moved into
    /// the catalog's models instead of copied (a synced config may hold 200,000).
    pub fn merge_from(
        builtin: Vec<Model>,
        live: Option<Vec<LiveModel>>,
        config: Cow<'_, [ConfigModel]>,
    ) -> Catalog {
        let has_live = live.is_some();
        let rest = match live {
            Some(live) => merge_live(builtin, live),
            None => builtin,
        };
        let rest = sorted_unique(rest);
        let mut catalog = Catalog {
            models: Vec::with_capacity(rest.len() + config.len()),
            config_len: 0,
            config_index: HashMap::default(),
            live: has_live,
            source: if has_live {
                DataSource::Live { fetched_at: None }
            } else {
                DataSource::BuiltIn
            },
            warnings: Vec::new(),
        };
        // Entries whose id an earlier entry took: a set, because a synced config may hold
        // thousands of entries and a linear check per entry would be quadratic.
        let repeated: Vec<bool> = {
            let mut seen: HashSet<&str> = HashSet::default();
            config.iter().map(|e| !seen.insert(e.id.as_str())).collect()
        };
        let entries: Box<dyn Iterator<Item = Cow<'_, ConfigModel>>> = match config {
            Cow::Borrowed(config) => Box::new(config.iter().map(Cow::Borrowed)),
            Cow::Owned(config) => Box::new(config.into_iter().map(Cow::Owned)),
        };
        for (entry, repeated) in entries.zip(repeated) {
            if repeated {
                catalog
                    .warnings
                    .push(format!("duplicate config entry {:?} ignored", entry.id));
                continue;
            }
            catalog.push_config_entry(entry, &rest);
        }
        catalog.config_len = catalog.models.len();
        let mut index: HashMap<u64, u32> =
            HashMap::with_capacity_and_hasher(catalog.config_len, Default::default());
        for (i, model) in catalog.models.iter().enumerate() {
            // Config ids are unique here (duplicates were skipped above).
            index
                .entry(id_hash(&model.id))
                .and_modify(|at| *at = SHARED)
                .or_insert(i as u32);
        }
        catalog.config_index = index;
        let replaced: Vec<bool> = rest
            .iter()
            .map(|m| catalog.config_entry(&m.id).is_some())
            .collect();
        catalog.models.extend(
            rest.into_iter()
                .zip(replaced)
                .filter_map(|(m, replaced)| (!replaced).then_some(m)),
        );
        catalog
    }

    /// All models: config entries first, then the rest by id.
    pub fn models(&self) -> &[Model] {
        &self.models
    }

    /// The entry with exactly this id (router id, suffix included).
    pub fn get(&self, id: &str) -> Option<&Model> {
        match self.config_entry(id) {
            Some(i) => self.models.get(i),
            None => find_sorted(&self.models[self.config_len..], id),
        }
    }

    /// The position of the config entry with exactly this id.
    fn config_entry(&self, id: &str) -> Option<usize> {
        let config = &self.models[..self.config_len];
        match *self.config_index.get(&id_hash(id))? {
            SHARED => config.iter().position(|m| m.id == id),
            i => (config.get(i as usize)?.id == id).then_some(i as usize),
        }
    }

    /// True when live data (fresh or cached) took part in the merge.
    pub fn has_live_data(&self) -> bool {
        self.live
    }

    /// Where the router data comes from: [`DataSource::BuiltIn`] without a live list,
    /// else what [`Catalog::dated`] said (live, time unknown, by default).
    pub fn data_source(&self) -> DataSource {
        self.source
    }

    /// The same catalog, saying where its live list came from (the cache, or this run's
    /// fetch and when). Ignored for a catalog without live data: it is built-in.
    pub fn dated(mut self, source: DataSource) -> Catalog {
        if self.live && source != DataSource::BuiltIn {
            self.source = source;
        }
        self
    }

    /// Config entries that were skipped, one line each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The entry whose id equals `id` ignoring ASCII case (the exact one first): the
    /// sorted part is searched by its case-insensitive order, the config's one by one.
    pub fn get_ignoring_case(&self, id: &str) -> Option<&Model> {
        if let Some(exact) = self.get(id) {
            return Some(exact);
        }
        let config = &self.models[..self.config_len];
        if let Some(found) = config.iter().find(|m| m.id.eq_ignore_ascii_case(id)) {
            return Some(found);
        }
        let rest = &self.models[self.config_len..];
        let lower = |a: &str, b: &str| {
            let (x, y) = (a.as_bytes(), b.as_bytes());
            x.iter()
                .map(u8::to_ascii_lowercase)
                .cmp(y.iter().map(u8::to_ascii_lowercase))
        };
        let at = rest.partition_point(|m| lower(&m.id, id).is_lt());
        rest.get(at).filter(|m| m.id.eq_ignore_ascii_case(id))
    }

    /// The model a ref stands for, with context and prices of its suffix: the pinned
    /// provider's for `:<provider>`, the fastest live provider's for `:fastest`, the
    /// cheapest live provider's otherwise. An exact config entry for the suffixed id wins.
    pub fn model_for(&self, model_ref: &ModelRef) -> Option<Model> {
        self.model_view(model_ref).map(Cow::into_owned)
    }

    /// [`Catalog::model_for`], borrowing the entry when the ref names one as it is: the
    /// rows of `models list` ask for each of the user's refs.
    pub(crate) fn model_view(&self, model_ref: &ModelRef) -> Option<Cow<'_, Model>> {
        if !model_ref.is_huggingface() {
            return None;
        }
        if let Some(exact) = self.get(model_ref.router_model_id()) {
            return Some(Cow::Borrowed(exact));
        }
        let base = self.get(model_ref.model_id())?;
        Some(Cow::Owned(with_suffix(base, model_ref.suffix())))
    }

    fn push_config_entry(&mut self, entry: Cow<'_, ConfigModel>, rest: &[Model]) {
        let model_ref = match ModelRef::from_router_id(&entry.id) {
            Ok(r) => r,
            Err(e) => {
                self.warnings
                    .push(format!("config entry {:?} skipped: {}", entry.id, e.kind()));
                return;
            }
        };
        let Some(base) = find_sorted(rest, model_ref.model_id()) else {
            // Only the config knows it: the skeleton's name and input where the entry sets
            // none, made after the entry is applied (a synced config's 200,000 entries
            // would otherwise allocate and derive each one only to replace it).
            let sets_name = entry.name.as_ref().is_some_and(|n| !n.trim().is_empty());
            let sets_input = entry.input.is_some();
            let mut model = apply_config(
                Model::unknown(String::new(), String::new(), Source::Live),
                entry,
            );
            if !sets_name {
                model.name = derive_name(&model.id);
            }
            if !sets_input {
                model.input = vec!["text".to_owned()];
            }
            self.models.push(model);
            return;
        };
        let model = apply_config(with_suffix(base, model_ref.suffix()), entry);
        self.models.push(model);
    }
}

/// What resolution (`hfclaw_model_ref::resolve`) asks of the catalog.
impl Lookup for Catalog {
    fn lists(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    fn listed_ignoring_case(&self, id: &str) -> Option<String> {
        self.get_ignoring_case(id).map(|m| m.id.clone())
    }

    fn each_id(&self, each: &mut dyn FnMut(&str)) {
        for model in &self.models {
            each(&model.id);
        }
    }

    fn providers(&self, id: &str) -> Option<Vec<String>> {
        let model = self.get(id)?;
        (!model.providers.is_empty())
            .then(|| model.providers.iter().map(|p| p.name.to_string()).collect())
    }

    fn live(&self) -> bool {
        self.live
    }
}

/// Two config ids share this hash: look them up one by one.
const SHARED: u32 = u32::MAX;

fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

/// Sorts by id (case-insensitive) and drops later duplicates of an id. Sorts indices and
/// moves each model once: models are large and a list may hold 10,000 of them.
fn sorted_unique(models: Vec<Model>) -> Vec<Model> {
    if models.is_sorted_by(|a, b| by_id_ignoring_case(&a.id, &b.id).is_lt()) {
        return models;
    }
    // Most comparisons are settled by the first 16 bytes, packed into an integer next to
    // the index: a sort of 10,000 ids then rarely follows a pointer into a model.
    let mut order: Vec<(u128, usize)> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (prefix_key(&m.id), i))
        .collect();
    // Stable, so the first of duplicate ids (in the router's order) comes first.
    order.sort_by(|(key_a, a), (key_b, b)| {
        key_a
            .cmp(key_b)
            .then_with(|| by_id_ignoring_case(&models[*a].id, &models[*b].id))
    });
    order.dedup_by(|(_, later), (_, first)| models[*later].id == models[*first].id);
    let mut slots: Vec<Option<Model>> = models.into_iter().map(Some).collect();
    order.iter().filter_map(|&(_, i)| slots[i].take()).collect()
}

/// The first 16 bytes of `id`, lower-cased, big-endian, zero-padded: ordering two keys
/// orders the ids as [`by_id_ignoring_case`] does, or ties.
fn prefix_key(id: &str) -> u128 {
    let mut key = [0u8; 16];
    for (slot, b) in key.iter_mut().zip(id.as_bytes()) {
        *slot = b.to_ascii_lowercase();
    }
    u128::from_be_bytes(key)
}

/// Binary search in a slice sorted by [`by_id_ignoring_case`].
fn find_sorted<'a>(sorted: &'a [Model], id: &str) -> Option<&'a Model> {
    sorted
        .binary_search_by(|m| by_id_ignoring_case(&m.id, id))
        .ok()
        .map(|i| &sorted[i])
}

/// Built-in models updated from the live list; built-ins the router no longer lists stay,
/// marked unavailable. Unsorted.
fn merge_live(builtin: Vec<Model>, live: Vec<LiveModel>) -> Vec<Model> {
    let index: HashMap<&str, usize> = builtin
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let mut taken = vec![false; builtin.len()];
    let mut seen: Vec<(usize, usize)> = Vec::new();
    for (live_index, entry) in live.iter().enumerate() {
        if let Some(&i) = index.get(entry.id.as_str())
            && !taken[i]
        {
            taken[i] = true;
            seen.push((live_index, i));
        }
    }
    drop(index);
    let mut builtin: Vec<Option<Model>> = builtin.into_iter().map(Some).collect();
    let mut from_builtin: Vec<Option<Model>> = Vec::new();
    from_builtin.resize_with(live.len(), || None);
    for (live_index, i) in seen {
        from_builtin[live_index] = builtin[i].take();
    }
    let mut out = Vec::with_capacity(live.len() + builtin.len());
    for (entry, base) in live.into_iter().zip(from_builtin) {
        out.push(apply_live(base, entry));
    }
    out.extend(builtin.into_iter().flatten().map(|mut m| {
        m.available = Some(false);
        m
    }));
    out
}

/// Case-insensitive order, so `Qwen/…` sorts among `openai/…` and `zai-org/…`.
fn by_id_ignoring_case(a: &str, b: &str) -> std::cmp::Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    for (p, q) in x.iter().zip(y) {
        let (p, q) = (p.to_ascii_lowercase(), q.to_ascii_lowercase());
        if p != q {
            return p.cmp(&q);
        }
    }
    x.len().cmp(&y.len()).then_with(|| a.cmp(b))
}

/// Live data over a built-in entry (or over nothing, for a model only the router knows).
fn apply_live(base: Option<Model>, live: LiveModel) -> Model {
    let context = min_context(&live.providers);
    let cost = bare_price(&live.providers);
    let available = Some(live.providers.iter().any(ProviderInfo::is_usable));
    let mut model = match base {
        Some(model) => model,
        None => {
            // The API's name replaces this below; deriving one would be wasted work.
            let name = match &live.api_name {
                Some(_) => String::new(),
                None => derive_name(&live.id),
            };
            Model::unknown(live.id, name, Source::Live)
        }
    };
    if let Some(name) = live.api_name {
        model.name = name;
    }
    if live.owned_by.is_some() {
        model.owned_by = live.owned_by;
    }
    if let Some(reasoning) = live.reasoning {
        model.reasoning = reasoning;
    }
    match live.input_modalities {
        Some(input) => model.input = input,
        None if model.input.is_empty() => model.input = vec!["text".to_owned()],
        None => {}
    }
    model.providers = live.providers;
    if context.is_some() {
        model.context_window = context;
    }
    if cost.is_some() {
        model.cost = cost;
    }
    model.available = available;
    model.source = Source::Live;
    model
}

/// A base model seen through a suffix: the context and price of what the suffix reaches
/// ([`reach`], a config's single price: the high end when the provider is unknown), and
/// for `:<provider>` whether that provider serves it.
fn with_suffix(base: &Model, suffix: Option<&Suffix>) -> Model {
    let mut model = base.clone();
    if let Some(Suffix::Provider(name)) = suffix {
        let pinned = base.providers.iter().find(|p| p.name == *name);
        model.available = match (base.available, pinned) {
            (Some(_), Some(p)) => Some(p.is_usable()),
            (Some(_), None) => Some(false),
            (None, _) => None,
        };
    }
    if !base.providers.is_empty() {
        let reached = reach(base, suffix);
        model.context_window = reached.context;
        model.cost = reached.price.for_config();
    }
    if let Some(suffix) = suffix {
        model.id = format!("{}:{suffix}", base.id);
    }
    model
}

/// The entry over `model` (moved when owned): its id, what it sets, its options.
fn apply_config(mut model: Model, entry: Cow<'_, ConfigModel>) -> Model {
    // Every field is taken below: a borrowed entry is copied whole.
    let entry = entry.into_owned();
    if let Some(name) = entry.name.filter(|n| !n.trim().is_empty()) {
        model.name = name;
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
    if let Some(input) = entry.input {
        model.input = input;
    }
    model.options = entry.options;
    model.id = entry.id;
    model.source = Source::Config;
    model
}

#[cfg(test)]
mod tests {
    use super::{by_id_ignoring_case, prefix_key};

    #[test]
    fn prefix_keys_order_ids_like_the_full_comparison_or_tie() {
        let ids = [
            "",
            "a",
            "A",
            "a\0",
            "ab",
            "Qwen/Qwen3-8B",
            "qwen/qwen3-8b",
            "openai/gpt-oss-120b",
            "openai/gpt-oss-120b-x",
            "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
            "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
            "zai-org/GLM-4.7",
            "é/x",
        ];
        for a in ids {
            for b in ids {
                let key = prefix_key(a).cmp(&prefix_key(b));
                assert!(
                    key.is_eq() || key == by_id_ignoring_case(a, b),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }
}
