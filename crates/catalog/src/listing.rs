//! Rows of `hfclaw models list`: the merged catalog seen through the user's selection
//! (default, fallbacks, aliases, allowlist) and filters.

use std::collections::{HashMap, HashSet};
use std::fmt;

use hfclaw_model_ref::{Aliases, ModelRef};
use serde::{Serialize, Serializer};

use crate::merge::Catalog;
use crate::model::{Cost, Model, Source};
use crate::names::derive_name;

/// What the user's config says about models.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// `agents.defaults.model.primary`.
    pub primary: Option<&'a ModelRef>,
    /// `agents.defaults.model.fallbacks`, in order.
    pub fallbacks: &'a [ModelRef],
    /// `agents.defaults.models[ref].alias`.
    pub aliases: &'a Aliases,
    /// The keys of `agents.defaults.models`.
    pub allowlist: &'a [ModelRef],
}

/// Filters of `models list`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Case-insensitive text matched against ref, name and alias.
    pub search: Option<String>,
    /// Only models this provider serves.
    pub provider: Option<String>,
    /// Only reasoning models.
    pub reasoning: bool,
    /// Also models live data says are not served.
    pub all: bool,
}

/// A label on a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// The primary model.
    Default,
    /// The n-th fallback (1-based).
    Fallback(usize),
    /// The user gave it an alias.
    Alias,
    /// Named in the config (allowlist or provider entry).
    Configured,
    /// Live data says no provider serves it.
    NotServed,
    /// Neither the catalog nor the router knows it.
    Unknown,
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::Default => f.write_str("default"),
            Tag::Fallback(n) => write!(f, "fallback#{n}"),
            Tag::Alias => f.write_str("alias"),
            Tag::Configured => f.write_str("configured"),
            Tag::NotServed => f.write_str("not-served"),
            Tag::Unknown => f.write_str("unknown"),
        }
    }
}

impl Serialize for Tag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One row of the listing; also the stable `--json` shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The ref to use in configs and commands.
    #[serde(rename = "ref")]
    pub model_ref: String,
    /// Router id (suffix included).
    pub id: String,
    /// Display name: the alias when set, else the model's name.
    pub name: String,
    /// The user's alias.
    pub alias: Option<String>,
    /// Context window in tokens.
    pub context_window: Option<u64>,
    /// Largest completion in tokens.
    pub max_output_tokens: Option<u64>,
    /// Price per 1M tokens.
    pub cost: Option<Cost>,
    /// Usable providers (the pinned one for `:<provider>` refs).
    pub providers: Vec<String>,
    /// Reasoning model.
    pub reasoning: bool,
    /// Input modalities.
    pub input: Vec<String>,
    /// Where the data comes from.
    pub source: Source,
    /// Labels.
    pub tags: Vec<Tag>,
}

/// The rows of `models list`: the user's refs first (default, fallbacks, allowlist, config
/// entries), then the catalog by id; filtered.
pub fn rows(catalog: &Catalog, selection: &Selection<'_>, filter: &Filter) -> Vec<Row> {
    let index = Index::of(selection);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let user_refs = selection
        .primary
        .into_iter()
        .chain(selection.fallbacks)
        .chain(selection.allowlist)
        .filter(|r| r.is_huggingface());
    for model_ref in user_refs {
        if seen.insert(model_ref.as_str().to_owned()) {
            let model = catalog.model_for(model_ref);
            out.push(row(model_ref, model.as_ref(), selection, &index));
        }
    }
    for model in catalog.models() {
        let Ok(model_ref) = ModelRef::from_router_id(&model.id) else {
            continue;
        };
        if seen.insert(model_ref.as_str().to_owned()) {
            out.push(row(&model_ref, Some(model), selection, &index));
        }
    }
    out.retain(|r| keep(r, filter));
    out
}

/// The selection's lists as lookups: every row asks them, and a config may name hundreds
/// of thousands of refs (rows × list would be quadratic).
struct Index<'a> {
    /// Each fallback's first position.
    fallbacks: HashMap<&'a ModelRef, usize>,
    allowlist: HashSet<&'a ModelRef>,
}

impl<'a> Index<'a> {
    fn of(selection: &Selection<'a>) -> Index<'a> {
        let mut fallbacks = HashMap::new();
        for (i, f) in selection.fallbacks.iter().enumerate() {
            fallbacks.entry(f).or_insert(i);
        }
        Index {
            fallbacks,
            allowlist: selection.allowlist.iter().collect(),
        }
    }
}

fn row(
    model_ref: &ModelRef,
    model: Option<&Model>,
    selection: &Selection<'_>,
    index: &Index<'_>,
) -> Row {
    let alias = selection.aliases.alias_of(model_ref).map(str::to_owned);
    let mut tags = Vec::new();
    if selection.primary == Some(model_ref) {
        tags.push(Tag::Default);
    }
    if let Some(i) = index.fallbacks.get(model_ref) {
        tags.push(Tag::Fallback(i + 1));
    }
    if alias.is_some() {
        tags.push(Tag::Alias);
    }
    let configured =
        index.allowlist.contains(model_ref) || model.is_some_and(|m| m.source == Source::Config);
    if configured {
        tags.push(Tag::Configured);
    }
    let Some(model) = model else {
        tags.push(Tag::Unknown);
        return Row {
            model_ref: model_ref.to_string(),
            id: model_ref.router_model_id().to_owned(),
            name: alias
                .clone()
                .unwrap_or_else(|| derive_name(model_ref.model_id())),
            alias,
            context_window: None,
            max_output_tokens: None,
            cost: None,
            providers: Vec::new(),
            reasoning: false,
            input: Vec::new(),
            source: Source::Config,
            tags,
        };
    };
    if model.available == Some(false) {
        tags.push(Tag::NotServed);
    }
    let pinned = model_ref.suffix().and_then(|s| s.provider());
    let providers = model
        .providers
        .iter()
        .filter(|p| p.is_usable() && pinned.is_none_or(|name| name == p.name))
        .map(|p| p.name.clone())
        .collect();
    Row {
        model_ref: model_ref.to_string(),
        id: model_ref.router_model_id().to_owned(),
        name: alias.clone().unwrap_or_else(|| model.name.clone()),
        alias,
        context_window: model.context_window,
        max_output_tokens: model.max_output_tokens,
        cost: model.cost,
        providers,
        reasoning: model.reasoning,
        input: model.input.clone(),
        source: model.source,
        tags,
    }
}

fn keep(row: &Row, filter: &Filter) -> bool {
    let users_own = row
        .tags
        .iter()
        .any(|t| !matches!(t, Tag::NotServed | Tag::Unknown));
    if !filter.all && row.tags.contains(&Tag::NotServed) && !users_own {
        return false;
    }
    if filter.reasoning && !row.reasoning {
        return false;
    }
    if let Some(provider) = &filter.provider
        && !row
            .providers
            .iter()
            .any(|p| p.eq_ignore_ascii_case(provider))
    {
        return false;
    }
    if let Some(text) = &filter.search {
        let text = text.to_lowercase();
        let hit = [Some(&row.model_ref), Some(&row.name), row.alias.as_ref()]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(&text));
        if !hit {
            return false;
        }
    }
    true
}
