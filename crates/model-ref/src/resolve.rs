//! Turning what a user typed (ref, alias or bare `org/model`) into a [`ModelRef`]: the one
//! place that decides what a model name means (SPEC §1), for every command and the gateway.
//!
//! Precedence: a full `huggingface/…` ref is taken as written (exact ref wins over alias;
//! one no catalog lists is accepted with a warning); then a ref the config already uses,
//! as written; then aliases, matched case-insensitively; then a bare `org/model` a catalog
//! lists, which gets the `huggingface/` prefix; then a ref of another provider, written as
//! typed, when its provider is one of the config's (`models.providers.<id>`) or one of
//! OpenClaw's built-in ones. Anything else is unknown, with the nearest names as a "did
//! you mean". A `:<provider>` suffix is checked against the providers the data knows for
//! the model: an error with live (or cached) data, a warning with the built-in snapshot.

use rustc_hash::FxHashMap as HashMap;
use std::fmt;
use std::sync::OnceLock;

use crate::lookup::{Lookup, is_openclaw_provider, nearest};
use crate::user::UserModels;
use crate::{HUGGINGFACE, HUGGINGFACE_PREFIX, ModelRef, ParseError, Suffix};

/// The user's aliases: `agents.defaults.models[ref].alias`, in config order.
#[derive(Debug, Clone, Default)]
pub struct Aliases {
    entries: Vec<(ModelRef, String)>,
    /// The first entry of each ref by the hash of its text, built on the first
    /// [`Aliases::alias_of`]: `models list` asks for every row's alias, and a config may
    /// hold hundreds of thousands (an edit, which never asks, does not pay for it).
    /// [`SHARED`] marks a hash two different refs have.
    first: OnceLock<HashMap<u64, u32>>,
}

/// Two refs of the table share this hash: look them up one by one.
const SHARED: u32 = u32::MAX;

fn ref_hash(model_ref: &ModelRef) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(model_ref.as_str())
}

impl Aliases {
    /// An empty table.
    pub fn new() -> Aliases {
        Aliases::default()
    }

    /// Adds `alias` for `model_ref`; empty aliases are ignored.
    pub fn insert(&mut self, model_ref: ModelRef, alias: impl Into<String>) {
        let alias = alias.into();
        if !alias.trim().is_empty() {
            self.first = OnceLock::new();
            self.entries.push((model_ref, alias));
        }
    }

    /// The alias written for exactly this ref.
    pub fn alias_of(&self, model_ref: &ModelRef) -> Option<&str> {
        let first = self.first.get_or_init(|| {
            let mut first: HashMap<u64, u32> =
                HashMap::with_capacity_and_hasher(self.entries.len(), Default::default());
            for (i, (model_ref, _)) in self.entries.iter().enumerate() {
                let at = first.entry(ref_hash(model_ref)).or_insert(i as u32);
                if *at != SHARED && self.entries[*at as usize].0 != *model_ref {
                    *at = SHARED;
                }
            }
            first
        });
        let i = match *first.get(&ref_hash(model_ref))? {
            SHARED => self.entries.iter().position(|(r, _)| r == model_ref)?,
            i => i as usize,
        };
        let (found, alias) = &self.entries[i];
        (found == model_ref).then_some(alias.as_str())
    }

    /// The refs whose alias matches `alias` case-insensitively, in config order.
    pub fn refs_for(&self, alias: &str) -> Vec<&ModelRef> {
        let wanted = alias.trim();
        self.entries
            .iter()
            .filter(|(_, a)| eq_ignore_case(a.trim(), wanted))
            .map(|(r, _)| r)
            .collect()
    }

    /// All `(ref, alias)` pairs in config order.
    pub fn iter(&self) -> impl Iterator<Item = (&ModelRef, &str)> {
        self.entries.iter().map(|(r, a)| (r, a.as_str()))
    }

    /// Number of aliases.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no alias.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromIterator<(ModelRef, String)> for Aliases {
    fn from_iter<I: IntoIterator<Item = (ModelRef, String)>>(iter: I) -> Self {
        let mut aliases = Aliases::new();
        for (model_ref, alias) in iter {
            aliases.insert(model_ref, alias);
        }
        aliases
    }
}

/// Unicode-aware case-insensitive equality, without allocating.
fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// How a user's input became a ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The input was a full ref.
    Ref,
    /// The input matched this alias.
    Alias(String),
    /// The input was a bare `org/model` a catalog lists; `huggingface/` was added (worth
    /// a note).
    BarePrefixed,
    /// The input is a ref of another provider (the config's or one of OpenClaw's), kept
    /// as typed.
    Provider,
    /// The input is a ref the config already uses, taken as written.
    Config,
    /// No input, or `default`: the configured default.
    Default,
}

/// Something the user should know about a ref that was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A full `huggingface/…` ref no catalog lists: the user's explicit word, kept.
    Unlisted {
        /// The ref.
        model_ref: ModelRef,
        /// Whether the router's list (fresh or cached) was consulted.
        live: bool,
    },
    /// A `:<provider>` suffix the built-in snapshot does not list for the model: not
    /// refused, since only the router's own list is authoritative.
    UncheckedProvider {
        /// The ref.
        model_ref: ModelRef,
        /// The provider in the suffix.
        provider: String,
        /// The providers the snapshot lists for the model.
        known: Vec<String>,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Unlisted {
                model_ref,
                live: true,
            } => write!(
                f,
                "the router does not list {}; using {model_ref} as written (the list may lag)",
                model_ref.model_id()
            ),
            Warning::Unlisted {
                model_ref,
                live: false,
            } => write!(
                f,
                "{} is not in the built-in catalog (the router's list was not checked); using \
                 {model_ref} as written",
                model_ref.model_id()
            ),
            Warning::UncheckedProvider {
                model_ref,
                provider,
                known,
            } => write!(
                f,
                "the built-in snapshot does not list provider \"{provider}\" for {} (it lists {}); \
                 the router's list may know it",
                model_ref.model_id(),
                known.join(", ")
            ),
        }
    }
}

/// A resolved ref and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The ref the input stands for.
    pub model_ref: ModelRef,
    /// How it was found.
    pub via: Via,
    /// What the user should be told about it.
    pub warnings: Vec<Warning>,
}

impl Resolved {
    fn new(model_ref: ModelRef, via: Via) -> Resolved {
        Resolved {
            model_ref,
            via,
            warnings: Vec::new(),
        }
    }
}

/// A name suggested for an input that is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suggestion {
    /// A model id (or ref) the catalog lists.
    Model(String),
    /// One of the user's aliases.
    Alias(String),
}

impl fmt::Display for Suggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Suggestion::Model(id) => write!(f, "\"{id}\""),
            Suggestion::Alias(alias) => write!(f, "the alias \"{alias}\""),
        }
    }
}

/// Why an input does not resolve to a ref.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResolveError {
    /// The input looks like a ref but breaks the grammar.
    Parse(ParseError),
    /// No catalog lists the input, no alias matches and no provider claims it.
    Unknown {
        /// What the user typed.
        input: String,
        /// The nearest catalog ids and aliases (edit distance, ignoring case).
        suggestions: Vec<Suggestion>,
    },
    /// The alias matches more than one ref.
    AmbiguousAlias {
        /// What the user typed.
        alias: String,
        /// Every ref carrying that alias, in config order.
        refs: Vec<ModelRef>,
    },
    /// The ref differs from a known model id only by letter case.
    CaseMismatch {
        /// The ref as typed.
        input: Box<ModelRef>,
        /// The ref with the known id's case.
        suggestion: Box<ModelRef>,
    },
    /// The `:<provider>` suffix names a provider the router's list (live or cached) does
    /// not have for the model.
    UnknownProvider {
        /// The ref as typed.
        model_ref: Box<ModelRef>,
        /// The provider in the suffix.
        provider: String,
        /// The providers the list has for the model.
        known: Vec<String>,
        /// The nearest of them.
        suggestions: Vec<String>,
    },
}

impl ResolveError {
    /// One line telling the user what to do instead.
    pub fn hint(&self) -> String {
        match self {
            ResolveError::Parse(e) => e.hint(),
            ResolveError::Unknown { suggestions, .. } if !suggestions.is_empty() => {
                format!("did you mean {}?", or_list(suggestions))
            }
            ResolveError::Unknown { .. } => {
                "use a ref such as huggingface/deepseek-ai/DeepSeek-R1, a model from `hfclaw models list`, or an alias from `hfclaw models aliases list`".to_owned()
            }
            ResolveError::AmbiguousAlias { refs, .. } => format!(
                "use the full ref, or give one of them another alias with `hfclaw models aliases set {} <ALIAS>`",
                refs.first().map_or("<REF>", ModelRef::as_str)
            ),
            ResolveError::CaseMismatch { suggestion, .. } => {
                format!("did you mean \"{suggestion}\"? model ids are case-sensitive")
            }
            ResolveError::UnknownProvider {
                model_ref,
                suggestions,
                known,
                ..
            } => {
                let pinned: Vec<String> = suggestions
                    .iter()
                    .filter_map(|p| {
                        let suffix = p.parse::<Suffix>().ok()?;
                        Some(model_ref.with_suffix(Some(&suffix)).to_string())
                    })
                    .collect();
                if pinned.is_empty() {
                    format!(
                        "pin one of the providers it has ({}), or use :fastest or :cheapest",
                        known.join(", ")
                    )
                } else {
                    let quoted: Vec<Suggestion> = pinned.into_iter().map(Suggestion::Model).collect();
                    format!("did you mean {}?", or_list(&quoted))
                }
            }
        }
    }

    /// The suggestions, as text to type.
    pub fn suggestions(&self) -> Vec<String> {
        match self {
            ResolveError::Unknown { suggestions, .. } => suggestions
                .iter()
                .map(|s| match s {
                    Suggestion::Model(text) | Suggestion::Alias(text) => text.clone(),
                })
                .collect(),
            ResolveError::CaseMismatch { suggestion, .. } => vec![suggestion.to_string()],
            ResolveError::UnknownProvider { suggestions, .. } => suggestions.clone(),
            ResolveError::Parse(e) => e.suggestion().into_iter().collect(),
            ResolveError::AmbiguousAlias { .. } => Vec::new(),
        }
    }
}

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
fn or_list(items: &[Suggestion]) -> String {
    let shown: Vec<String> = items.iter().map(ToString::to_string).collect();
    match shown.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Parse(e) => e.fmt(f),
            ResolveError::Unknown { input, .. } if input.contains('/') => {
                let provider = input.split('/').next().unwrap_or_default();
                write!(
                    f,
                    "unknown model \"{input}\": no catalog lists it, and \"{provider}\" is not a \
                     provider of your config or of OpenClaw"
                )
            }
            ResolveError::Unknown { input, .. } => {
                write!(f, "\"{input}\" is neither a model ref nor a known alias")
            }
            ResolveError::AmbiguousAlias { alias, refs } => {
                let list: Vec<&str> = refs.iter().map(ModelRef::as_str).collect();
                write!(
                    f,
                    "alias \"{alias}\" matches {} refs: {}",
                    refs.len(),
                    list.join(", ")
                )
            }
            ResolveError::CaseMismatch { input, suggestion } => write!(
                f,
                "unknown model \"{}\"; the catalog has \"{}\"",
                input.model_id(),
                suggestion.model_id()
            ),
            ResolveError::UnknownProvider {
                model_ref,
                provider,
                known,
                ..
            } => write!(
                f,
                "provider \"{provider}\" does not serve {}; the router lists {}",
                model_ref.model_id(),
                if known.is_empty() {
                    "no provider for it".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        }
    }
}

impl std::error::Error for ResolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ResolveError::Parse(e) => Some(e),
            _ => None,
        }
    }
}

/// Resolves user input (trimmed) to a ref: the one rule of SPEC §1, with the user's
/// config (`user`: aliases, refs in use, configured providers) and a catalog (`known`).
pub fn resolve(
    input: &str,
    user: &UserModels,
    known: &dyn Lookup,
) -> Result<Resolved, ResolveError> {
    resolve_with(input, user, known, Suggest::Nearest)
}

/// Whether [`resolve`] would call `input` anything but unknown, without computing the
/// "did you mean" (an edit distance to every catalog id): a gateway asks this for every
/// client name that a route may take (`claude-…`), on the request path.
pub fn is_claimed(input: &str, user: &UserModels, known: &dyn Lookup) -> bool {
    !matches!(
        resolve_with(input, user, known, Suggest::None),
        Err(ResolveError::Unknown { .. })
    )
}

/// Whether an unknown input's error carries the nearest names (costly) or none.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Suggest {
    Nearest,
    None,
}

fn resolve_with(
    input: &str,
    user: &UserModels,
    known: &dyn Lookup,
    suggest: Suggest,
) -> Result<Resolved, ResolveError> {
    let unknown = |input: &str| match suggest {
        Suggest::Nearest => unknown(input, user, known),
        Suggest::None => ResolveError::Unknown {
            input: input.to_owned(),
            suggestions: Vec::new(),
        },
    };
    let input = input.trim();
    if input.starts_with(HUGGINGFACE_PREFIX) {
        let model_ref: ModelRef = input.parse().map_err(ResolveError::Parse)?;
        return checked(model_ref, Via::Ref, known, true);
    }
    if let Ok(model_ref) = input.parse::<ModelRef>()
        && user.uses(&model_ref)
    {
        return Ok(Resolved::new(model_ref, Via::Config));
    }
    match user.aliases.refs_for(input).as_slice() {
        [] => {}
        [one] => return Ok(Resolved::new((*one).clone(), Via::Alias(input.to_owned()))),
        many => {
            return Err(ResolveError::AmbiguousAlias {
                alias: input.to_owned(),
                refs: many.iter().map(|r| (*r).clone()).collect(),
            });
        }
    }
    if !input.contains('/') {
        return Err(unknown(input));
    }
    let model_part = input.split_once(':').map_or(input, |(model, _)| model);
    if model_part.matches('/').count() == 1 {
        let bare = ModelRef::parse_owned(format!("{HUGGINGFACE_PREFIX}{input}"));
        let listed = known.lists(model_part) || known.lists(input);
        if listed || known.listed_ignoring_case(model_part).is_some() {
            let model_ref = bare.map_err(|e| ResolveError::Parse(reanchor(e, input)))?;
            return checked(model_ref, Via::BarePrefixed, known, false);
        }
    }
    let provider = input.split('/').next().unwrap_or_default();
    if provider != HUGGINGFACE && (user.has_provider(provider) || is_openclaw_provider(provider)) {
        let model_ref: ModelRef = input.parse().map_err(ResolveError::Parse)?;
        return Ok(Resolved::new(model_ref, Via::Provider));
    }
    // A bare `org/model` that breaks the grammar says where, before "unknown".
    if model_part.matches('/').count() == 1
        && let Err(e) = ModelRef::parse_owned(format!("{HUGGINGFACE_PREFIX}{input}"))
    {
        return Err(ResolveError::Parse(reanchor(e, input)));
    }
    Err(unknown(input))
}

/// A Hugging Face ref checked against the catalog: letter case, whether it is listed
/// (`explicit`: a full ref no catalog lists is kept, with a warning), its `:<provider>`.
fn checked(
    model_ref: ModelRef,
    via: Via,
    known: &dyn Lookup,
    explicit: bool,
) -> Result<Resolved, ResolveError> {
    let id = model_ref.model_id();
    let listed = known.lists(id) || known.lists(model_ref.router_model_id());
    let mut resolved = Resolved::new(model_ref.clone(), via);
    if !listed {
        if let Some(listed) = known.listed_ignoring_case(id) {
            let suggestion =
                ModelRef::huggingface(&listed, model_ref.suffix()).map_err(ResolveError::Parse)?;
            return Err(ResolveError::CaseMismatch {
                input: Box::new(model_ref),
                suggestion: Box::new(suggestion),
            });
        }
        if explicit {
            resolved.warnings.push(Warning::Unlisted {
                model_ref,
                live: known.live(),
            });
        }
        return Ok(resolved);
    }
    let (Some(Suffix::Provider(provider)), Some(providers)) =
        (model_ref.suffix().cloned(), known.providers(id))
    else {
        return Ok(resolved);
    };
    if providers.contains(&provider) {
        return Ok(resolved);
    }
    if !known.live() {
        resolved.warnings.push(Warning::UncheckedProvider {
            model_ref,
            provider,
            known: providers,
        });
        return Ok(resolved);
    }
    let suggestions = nearest(&provider, providers.iter().map(|p| (p.as_str(), p.clone())));
    Err(ResolveError::UnknownProvider {
        provider,
        model_ref: Box::new(model_ref),
        known: providers,
        suggestions,
    })
}

/// The error for an input nothing claims, with the nearest aliases and catalog ids (for
/// an input without `/`, ids are also compared by their last segment).
fn unknown(input: &str, user: &UserModels, known: &dyn Lookup) -> ResolveError {
    let (model_part, suffix) = match input.split_once(':') {
        Some((model, suffix)) => (model, Some(suffix)),
        None => (input, None),
    };
    let with_suffix = |id: &str| match suffix {
        Some(suffix) => format!("{id}:{suffix}"),
        None => id.to_owned(),
    };
    let mut candidates: Vec<(String, Suggestion)> = user
        .aliases
        .iter()
        .map(|(_, alias)| (alias.to_owned(), Suggestion::Alias(alias.to_owned())))
        .collect();
    let by_name = !model_part.contains('/');
    known.each_id(&mut |id| {
        if id.contains(':') {
            return;
        }
        let compared = if by_name {
            id.rsplit_once('/').map_or(id, |(_, name)| name)
        } else {
            id
        };
        candidates.push((compared.to_owned(), Suggestion::Model(with_suffix(id))));
    });
    let texts: Vec<String> = nearest(
        model_part,
        candidates
            .iter()
            .enumerate()
            .map(|(i, (compared, _))| (compared.as_str(), i.to_string())),
    );
    let suggestions = texts
        .iter()
        .filter_map(|i| i.parse::<usize>().ok())
        .filter_map(|i| candidates.get(i).map(|(_, s)| s.clone()))
        .collect();
    ResolveError::Unknown {
        input: input.to_owned(),
        suggestions,
    }
}

/// Reports a bare input's error against what the user typed, not the prefixed text.
fn reanchor(error: ParseError, input: &str) -> ParseError {
    let offset = error.offset().saturating_sub(HUGGINGFACE_PREFIX.len());
    ParseError::new(input, offset, error.kind().clone())
}
