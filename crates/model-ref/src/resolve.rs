//! Turning what a user typed (ref, alias or bare `org/model`) into a [`ModelRef`].
//!
//! Precedence (SPEC §1): a full `huggingface/…` ref is taken as written (exact ref wins over
//! alias); then aliases, matched case-insensitively; then a bare hub id, which gets the
//! `huggingface/` prefix; then a foreign ref such as `openrouter/a/b`.

use rustc_hash::FxHashMap as HashMap;
use std::fmt;
use std::sync::OnceLock;

use crate::{HUGGINGFACE_PREFIX, ModelRef, ParseError};

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
    /// The input was a bare `org/model`; `huggingface/` was added (worth a note).
    BarePrefixed,
}

/// A resolved ref and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The ref the input stands for.
    pub model_ref: ModelRef,
    /// How it was found.
    pub via: Via,
}

/// Why an input does not resolve to a ref.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResolveError {
    /// The input looks like a ref but breaks the grammar.
    Parse(ParseError),
    /// The input is neither a ref nor a known alias.
    Unknown {
        /// What the user typed.
        input: String,
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
}

impl ResolveError {
    /// One line telling the user what to do instead.
    pub fn hint(&self) -> String {
        match self {
            ResolveError::Parse(e) => e.hint(),
            ResolveError::Unknown { .. } => {
                "use a ref such as huggingface/deepseek-ai/DeepSeek-R1, or an alias from `hfclaw models aliases list`".to_owned()
            }
            ResolveError::AmbiguousAlias { refs, .. } => format!(
                "use the full ref, or give one of them another alias with `hfclaw models aliases set {} <ALIAS>`",
                refs.first().map_or("<REF>", ModelRef::as_str)
            ),
            ResolveError::CaseMismatch { suggestion, .. } => {
                format!("did you mean \"{suggestion}\"? model ids are case-sensitive")
            }
        }
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Parse(e) => e.fmt(f),
            ResolveError::Unknown { input } => {
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

/// Resolves user input (trimmed) to a ref, using the alias table and the model ids the
/// catalog knows (for the "did you mean" check on letter case; pass `&[]` to skip it).
pub fn resolve(
    input: &str,
    aliases: &Aliases,
    known_ids: &[&str],
) -> Result<Resolved, ResolveError> {
    let input = input.trim();
    if input.starts_with(HUGGINGFACE_PREFIX) {
        let model_ref: ModelRef = input.parse().map_err(ResolveError::Parse)?;
        check_case(&model_ref, known_ids)?;
        return Ok(Resolved {
            model_ref,
            via: Via::Ref,
        });
    }
    match aliases.refs_for(input).as_slice() {
        [] => {}
        [one] => {
            return Ok(Resolved {
                model_ref: (*one).clone(),
                via: Via::Alias(input.to_owned()),
            });
        }
        many => {
            return Err(ResolveError::AmbiguousAlias {
                alias: input.to_owned(),
                refs: many.iter().map(|r| (*r).clone()).collect(),
            });
        }
    }
    if !input.contains('/') {
        return Err(ResolveError::Unknown {
            input: input.to_owned(),
        });
    }
    let model_part = input.split_once(':').map_or(input, |(model, _)| model);
    let bare = ModelRef::parse_owned(format!("{HUGGINGFACE_PREFIX}{input}"));
    if model_part.matches('/').count() == 1 {
        let model_ref = bare.map_err(|e| ResolveError::Parse(reanchor(e, input)))?;
        check_case(&model_ref, known_ids)?;
        return Ok(Resolved {
            model_ref,
            via: Via::BarePrefixed,
        });
    }
    let model_ref: ModelRef = input.parse().map_err(ResolveError::Parse)?;
    Ok(Resolved {
        model_ref,
        via: Via::Ref,
    })
}

/// Reports a bare input's error against what the user typed, not the prefixed text.
fn reanchor(error: ParseError, input: &str) -> ParseError {
    let offset = error.offset().saturating_sub(HUGGINGFACE_PREFIX.len());
    ParseError::new(input, offset, error.kind().clone())
}

fn check_case(model_ref: &ModelRef, known_ids: &[&str]) -> Result<(), ResolveError> {
    let id = model_ref.model_id();
    if known_ids.is_empty() || known_ids.contains(&id) {
        return Ok(());
    }
    let Some(known) = known_ids.iter().find(|k| k.eq_ignore_ascii_case(id)) else {
        return Ok(());
    };
    let suggestion =
        ModelRef::huggingface(known, model_ref.suffix()).map_err(ResolveError::Parse)?;
    Err(ResolveError::CaseMismatch {
        input: Box::new(model_ref.clone()),
        suggestion: Box::new(suggestion),
    })
}
