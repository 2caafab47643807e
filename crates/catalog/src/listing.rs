//! Rows of `hfclaw models list`: the merged catalog seen through the user's selection
//! (default, fallbacks, aliases, allowlist), filtered and sorted.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::borrow::Cow;
use std::fmt;

use hfclaw_model_ref::{Aliases, ModelRef, UserModels};
use serde::{Serialize, Serializer};

use crate::builtin;
use crate::merge::Catalog;
use crate::model::{
    Cost, Model, ProviderInfo, ProviderStatus, Source, fastest_live, present_first,
};
use crate::names::derive_name;
use crate::provenance::DataSource;
use crate::reach::reach;

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

impl<'a> From<&'a UserModels> for Selection<'a> {
    fn from(user: &'a UserModels) -> Selection<'a> {
        Selection {
            primary: user.primary.as_ref(),
            fallbacks: &user.fallbacks,
            aliases: &user.aliases,
            allowlist: &user.allowlist,
        }
    }
}

impl<'a> Selection<'a> {
    /// No default, fallbacks or allowlist; only `aliases`.
    pub fn with_aliases(aliases: &'a Aliases) -> Selection<'a> {
        Selection {
            primary: None,
            fallbacks: &[],
            aliases,
            allowlist: &[],
        }
    }
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
    /// Only models a provider serves with tool calling.
    pub tools: bool,
    /// Only models a provider serves with structured output.
    pub structured_output: bool,
    /// Only models that take image input.
    pub image: bool,
    /// Only models with a free offering ([`ProviderInfo::serves_free`]).
    pub free: bool,
    /// Also models live data says are not served.
    pub all: bool,
}

/// The order of `models list --sort`; without it, the user's refs come first, then the
/// catalog by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Display name, A to Z (ignoring case).
    Name,
    /// Context window, largest first.
    Context,
    /// Output price, cheapest first (then input price).
    Price,
    /// Throughput of the fastest live provider, highest first.
    Throughput,
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

/// One row of the listing; also the stable `--json` shape. It borrows what it can from the
/// catalog and the selection: a listing may hold 100,000s of rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row<'a> {
    /// The ref to use in configs and commands.
    #[serde(rename = "ref")]
    pub model_ref: Cow<'a, str>,
    /// Router id (suffix included).
    pub id: Cow<'a, str>,
    /// Display name: the alias when set, else the model's name.
    pub name: Cow<'a, str>,
    /// The user's alias.
    pub alias: Option<Cow<'a, str>>,
    /// Context window in tokens.
    pub context_window: Option<u64>,
    /// Largest completion in tokens.
    pub max_output_tokens: Option<u64>,
    /// Price per 1M tokens at the provider the ref reaches ([`crate::reach`]); the high
    /// end of `cost_range` when that provider is unknown.
    pub cost: Option<Cost>,
    /// The cheapest and priciest live prices, when the provider the ref reaches is unknown
    /// (no throughput data, `:preferred`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_range: Option<[Cost; 2]>,
    /// Usable providers (the pinned one for `:<provider>` refs).
    pub providers: Vec<Cow<'a, str>>,
    /// Tokens per second of the fastest live provider (the pinned one's for `:<provider>`).
    pub throughput: Option<f64>,
    /// Whether a usable provider calls tools: `None` when no provider says.
    pub tools: Option<bool>,
    /// Whether a usable provider does structured output: `None` when no provider says.
    pub structured_output: Option<bool>,
    /// Whether a live offering is free ([`ProviderInfo::serves_free`]).
    pub free: bool,
    /// Reasoning model.
    pub reasoning: bool,
    /// Input modalities.
    pub input: Cow<'a, [String]>,
    /// Where the data comes from.
    pub source: Source,
    /// When the data was taken: the snapshot's date for built-in data, the fetch time for
    /// the router's list; `None` when unknown.
    pub as_of: Option<Cow<'a, str>>,
    /// Labels (a listing may hold 100,000s of rows, most labelled alike: common sets are
    /// borrowed from constants).
    pub tags: Cow<'a, [Tag]>,
}

impl Row<'_> {
    /// The same row owning all its text.
    pub fn into_owned(self) -> Row<'static> {
        let owned = |text: Cow<'_, str>| Cow::Owned(text.into_owned());
        Row {
            model_ref: owned(self.model_ref),
            id: owned(self.id),
            name: owned(self.name),
            alias: self.alias.map(owned),
            providers: self.providers.into_iter().map(owned).collect(),
            input: Cow::Owned(self.input.into_owned()),
            as_of: self.as_of.map(owned),
            context_window: self.context_window,
            max_output_tokens: self.max_output_tokens,
            cost: self.cost,
            cost_range: self.cost_range,
            throughput: self.throughput,
            tools: self.tools,
            structured_output: self.structured_output,
            free: self.free,
            reasoning: self.reasoning,
            source: self.source,
            tags: Cow::Owned(self.tags.into_owned()),
        }
    }
}

/// The rows of `models list`: the user's refs first (default, fallbacks, allowlist, config
/// entries), then the catalog by id; filtered.
pub fn rows<'a>(catalog: &'a Catalog, selection: &Selection<'a>, filter: &Filter) -> Vec<Row<'a>> {
    Listing::new(catalog, selection, filter).rows().collect()
}

/// The listing of [`rows`] without the rows: they are made as they are visited (each a
/// few hundred bytes; a synced config lists 100,000s), so a table or a JSON stream is
/// written from them without holding them all.
pub struct Listing<'a> {
    catalog: &'a Catalog,
    selection: Selection<'a>,
    filter: Filter,
    index: Index<'a>,
    as_of: Option<Cow<'a, str>>,
    /// The user's Hugging Face refs, each router id once, in order.
    user_refs: Vec<&'a ModelRef>,
    /// Their router ids: the catalog's rows skip these.
    seen: HashSet<&'a str>,
}

impl<'a> Listing<'a> {
    /// The listing of `catalog` through `selection`, filtered by `filter`.
    pub fn new(catalog: &'a Catalog, selection: &Selection<'a>, filter: &Filter) -> Listing<'a> {
        // The built-in date is a constant: most rows borrow it.
        let as_of = match catalog.data_source() {
            DataSource::BuiltIn => Some(Cow::Borrowed(builtin::AS_OF)),
            source => source.as_of().map(Cow::Owned),
        };
        // Router ids: every ref here is a Hugging Face one, whose ref is its router id
        // behind the same prefix.
        let mut seen: HashSet<&str> = HashSet::default();
        let user_refs = selection
            .primary
            .into_iter()
            .chain(selection.fallbacks)
            .chain(selection.allowlist)
            .filter(|r| r.is_huggingface() && seen.insert(r.router_model_id()))
            .collect();
        Listing {
            catalog,
            selection: *selection,
            filter: filter.clone(),
            index: Index::of(selection),
            as_of,
            user_refs,
            seen,
        }
    }

    /// The rows, made afresh by each call.
    pub fn rows(&self) -> impl Iterator<Item = Row<'a>> + '_ {
        let users = self
            .user_refs
            .iter()
            .map(|model_ref| self.user_row(model_ref));
        // The catalog's ids are unique: only the user's refs above can repeat one.
        let catalog = self
            .catalog
            .models()
            .iter()
            .filter(|model| !self.seen.contains(model.id.as_str()))
            .filter_map(|model| self.catalog_row(model));
        users.chain(catalog).filter(|row| keep(row, &self.filter))
    }

    fn user_row(&self, model_ref: &'a ModelRef) -> Row<'a> {
        let (selection, index, as_of) = (&self.selection, &self.index, &self.as_of);
        let name = Cow::Borrowed(model_ref.as_str());
        match self.catalog.model_view(model_ref) {
            Some(Cow::Borrowed(model)) => {
                row(name, model_ref, Some(model), selection, index, as_of)
            }
            // A suffix's view of a model, made for this row.
            Some(Cow::Owned(model)) => {
                row(name, model_ref, Some(&model), selection, index, as_of).into_owned()
            }
            None => row(name, model_ref, None, selection, index, as_of),
        }
    }

    fn catalog_row(&self, model: &'a Model) -> Option<Row<'a>> {
        let model_ref = ModelRef::from_router_id(&model.id).ok()?;
        // The ref's own text goes in below (no copy; an empty `String` allocates nothing).
        let mut row = row(
            Cow::Owned(String::new()),
            &model_ref,
            Some(model),
            &self.selection,
            &self.index,
            &self.as_of,
        );
        row.model_ref = Cow::Owned(model_ref.into_string());
        Some(row)
    }
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
        let mut fallbacks = HashMap::default();
        for (i, f) in selection.fallbacks.iter().enumerate() {
            fallbacks.entry(f).or_insert(i);
        }
        Index {
            fallbacks,
            allowlist: selection.allowlist.iter().collect(),
        }
    }
}

/// Sorts rows by `key`; rows without the value go last, ties keep their order.
pub fn sort_rows(rows: &mut [Row<'_>], key: SortKey) {
    match key {
        SortKey::Name => rows.sort_by_cached_key(|r| r.name.to_lowercase()),
        SortKey::Context => {
            rows.sort_by(|a, b| present_first(a.context_window, b.context_window, |a, b| b.cmp(&a)))
        }
        SortKey::Price => rows.sort_by(|a, b| {
            present_first(a.cost, b.cost, |a, b| {
                a.output
                    .total_cmp(&b.output)
                    .then(a.input.total_cmp(&b.input))
            })
        }),
        SortKey::Throughput => {
            rows.sort_by(|a, b| present_first(a.throughput, b.throughput, |a, b| b.total_cmp(&a)))
        }
    }
}

/// `text` is `model_ref` as text, borrowed when it can be; `as_of` is the catalog's date
/// for data that is not built-in. What the row borrows lives as long as `model` and the
/// selection's tables; `model_ref` is only read.
fn row<'a>(
    text: Cow<'a, str>,
    model_ref: &ModelRef,
    model: Option<&'a Model>,
    selection: &Selection<'a>,
    index: &Index<'_>,
    as_of: &Option<Cow<'a, str>>,
) -> Row<'a> {
    let alias = selection.aliases.alias_of(model_ref);
    let mut tags = TagBuf::default();
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
    let id = match &text {
        Cow::Borrowed(text) => {
            Cow::Borrowed(&text[text.len() - model_ref.router_model_id().len()..])
        }
        Cow::Owned(_) => match model {
            // A catalog row: its ref was made from the model's id.
            Some(model) if model.id == model_ref.router_model_id() => {
                Cow::Borrowed(model.id.as_str())
            }
            _ => Cow::Owned(model_ref.router_model_id().to_owned()),
        },
    };
    let Some(model) = model else {
        tags.push(Tag::Unknown);
        return Row {
            model_ref: text,
            id,
            name: alias.map_or_else(
                || Cow::Owned(derive_name(model_ref.model_id())),
                Cow::Borrowed,
            ),
            alias: alias.map(Cow::Borrowed),
            context_window: None,
            max_output_tokens: None,
            cost: None,
            cost_range: None,
            providers: Vec::new(),
            throughput: None,
            tools: None,
            structured_output: None,
            free: false,
            reasoning: false,
            input: Cow::Borrowed(&[]),
            source: Source::Config,
            as_of: None,
            tags: tags.into_cow(),
        };
    };
    if model.available == Some(false) {
        tags.push(Tag::NotServed);
    }
    let pinned = model_ref.suffix().and_then(|s| s.provider());
    let serving = || {
        model
            .providers
            .iter()
            .filter(move |p| p.is_usable() && pinned.is_none_or(|name| name == p.name))
    };
    let throughput = match pinned {
        Some(_) => serving().find_map(|p| p.throughput),
        None => fastest_live(&model.providers).and_then(|p| p.throughput),
    };
    let any = |feature: fn(&ProviderInfo) -> Option<bool>| -> Option<bool> {
        serving().filter_map(feature).reduce(|a, b| a || b)
    };
    let as_of = match model.source {
        Source::BuiltIn => Some(Cow::Borrowed(builtin::AS_OF)),
        Source::Live | Source::Config => as_of.clone(),
    };
    Row {
        model_ref: text,
        id,
        name: Cow::Borrowed(alias.unwrap_or(&model.name)),
        alias: alias.map(Cow::Borrowed),
        context_window: model.context_window,
        max_output_tokens: model.max_output_tokens,
        cost: model.cost,
        // A config entry's own price is the user's word: no range.
        cost_range: (model.source != Source::Config)
            .then(|| reach(model, model_ref.suffix()).price.range())
            .flatten()
            .map(|(low, high)| [low, high]),
        providers: serving().map(|p| Cow::Borrowed(p.name.as_str())).collect(),
        throughput,
        tools: any(|p| p.supports_tools),
        structured_output: any(|p| p.supports_structured_output),
        free: serving().any(|p| p.status == ProviderStatus::Live && p.serves_free()),
        reasoning: model.reasoning,
        input: Cow::Borrowed(&model.input),
        source: model.source,
        as_of,
        tags: tags.into_cow(),
    }
}

/// A row's tags while they are gathered (at most one of each kind: five).
#[derive(Default)]
struct TagBuf {
    tags: [Option<Tag>; 6],
    len: usize,
}

impl TagBuf {
    fn push(&mut self, tag: Tag) {
        if let Some(slot) = self.tags.get_mut(self.len) {
            *slot = Some(tag);
            self.len += 1;
        }
    }

    /// The tags, borrowed when they are one of the common sets.
    fn into_cow(self) -> Cow<'static, [Tag]> {
        const COMMON: [&[Tag]; 6] = [
            &[],
            &[Tag::Configured],
            &[Tag::Alias, Tag::Configured],
            &[Tag::Alias],
            &[Tag::NotServed],
            &[Tag::Configured, Tag::NotServed],
        ];
        let tags = &self.tags[..self.len];
        let same = |common: &[Tag]| {
            common.len() == tags.len() && common.iter().zip(tags).all(|(a, b)| Some(*a) == *b)
        };
        match COMMON.into_iter().find(|common| same(common)) {
            Some(common) => Cow::Borrowed(common),
            None => Cow::Owned(tags.iter().flatten().copied().collect()),
        }
    }
}

fn keep(row: &Row<'_>, filter: &Filter) -> bool {
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
    if filter.tools && row.tools != Some(true)
        || filter.structured_output && row.structured_output != Some(true)
        || filter.image && !row.input.iter().any(|i| i == "image")
        || filter.free && !row.free
    {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hfclaw_model_ref::Aliases;

    use super::*;
    use crate::parse_model_list;

    fn catalog(body: &str) -> Catalog {
        let got = parse_model_list(body.as_bytes()).unwrap();
        assert!(got.warnings.is_empty(), "{:?}", got.warnings);
        Catalog::merge(Vec::new(), Some(got.models), &[])
    }

    /// Three models covering every filter: tools/structured flags, image input, free.
    const LIST: &str = r#"{"data":[
        {"id":"a/Tools","architecture":{"input_modalities":["text","image"]},"providers":[
            {"provider":"p","status":"live","context_length":131072,"pricing":{"input":1,"output":2},
             "supports_tools":true,"supports_structured_output":false,"throughput":50}]},
        {"id":"b/Plain","providers":[
            {"provider":"p","status":"live","context_length":64000,"pricing":{"input":0.1,"output":0.2}},
            {"provider":"q","status":"error","supports_tools":true}]},
        {"id":"c/Free","providers":[
            {"provider":"p","status":"live","pricing":{"input":0,"output":0},
             "supports_structured_output":true,"throughput":120},
            {"provider":"q","status":"live","pricing":{"input":0,"output":0},"is_free":false}]}
    ]}"#;

    fn ids(catalog: &Catalog, filter: &Filter, sort: Option<SortKey>) -> Vec<String> {
        let aliases = Aliases::new();
        let selection = Selection::with_aliases(&aliases);
        let mut got = rows(catalog, &selection, filter);
        if let Some(key) = sort {
            sort_rows(&mut got, key);
        }
        got.into_iter().map(|r| r.id.into_owned()).collect()
    }

    #[test]
    fn capability_filters_need_a_usable_provider_that_says_so() {
        let c = catalog(LIST);
        let only = |f: Filter| ids(&c, &f, None);
        // b/Plain's tool-calling provider is in error: it does not count.
        assert_eq!(
            only(Filter {
                tools: true,
                ..Filter::default()
            }),
            ["a/Tools"]
        );
        assert_eq!(
            only(Filter {
                structured_output: true,
                ..Filter::default()
            }),
            ["c/Free"]
        );
        assert_eq!(
            only(Filter {
                image: true,
                ..Filter::default()
            }),
            ["a/Tools"]
        );
        assert_eq!(
            only(Filter {
                free: true,
                ..Filter::default()
            }),
            ["c/Free"]
        );
        let both = Filter {
            tools: true,
            free: true,
            ..Filter::default()
        };
        assert!(only(both).is_empty(), "filters compose with AND");
    }

    #[test]
    fn free_follows_is_free_before_a_zero_price() {
        let c = catalog(LIST);
        let free = c.get("c/Free").unwrap();
        assert!(free.providers[0].serves_free(), "0/0 without is_free");
        assert!(
            !free.providers[1].serves_free(),
            "is_free: false wins over 0/0"
        );
    }

    #[test]
    fn sort_orders_with_missing_values_last() {
        let c = catalog(LIST);
        let all = Filter::default();
        assert_eq!(
            ids(&c, &all, Some(SortKey::Price)),
            ["c/Free", "b/Plain", "a/Tools"]
        );
        assert_eq!(
            ids(&c, &all, Some(SortKey::Context)),
            ["a/Tools", "b/Plain", "c/Free"],
            "largest first; c/Free states no context"
        );
        assert_eq!(
            ids(&c, &all, Some(SortKey::Throughput)),
            ["c/Free", "a/Tools", "b/Plain"]
        );
        assert_eq!(
            ids(&c, &all, Some(SortKey::Name)),
            ["c/Free", "b/Plain", "a/Tools"],
            "by display name: Free, Plain, Tools"
        );
    }

    #[test]
    fn rows_carry_the_catalogs_date() {
        let c = catalog(LIST).dated(crate::DataSource::Cache {
            fetched_at: 1_785_166_260,
        });
        let aliases = Aliases::new();
        let selection = Selection::with_aliases(&aliases);
        let got = rows(&c, &selection, &Filter::default());
        assert_eq!(got[0].as_of.as_deref(), Some("2026-07-27T15:31:00Z"));
        let offline = Catalog::merge(crate::builtin::models(), None, &[]);
        let got = rows(&offline, &selection, &Filter::default());
        assert!(got.iter().all(|r| r.as_of.as_deref() == Some("2026-07-27")));
    }
}
