//! The user's model choices — default, fallbacks, aliases, allowlist and the providers
//! the config declares — as typed refs: one type for every command and the gateway, and
//! the chain of models a request tries.

use std::fmt;

use crate::lookup::Lookup;
use crate::resolve::{ResolveError, Resolved, Via, resolve};
use crate::{Aliases, ModelRef};

/// The request `model` that means "the configured default" (as does no `model` at all),
/// unless an alias is named so.
pub const DEFAULT_MODEL: &str = "default";

/// What the user's config says about models.
#[derive(Debug, Clone, Default)]
pub struct UserModels {
    /// `agents.defaults.model.primary`.
    pub primary: Option<ModelRef>,
    /// `agents.defaults.model.fallbacks`, in order.
    pub fallbacks: Vec<ModelRef>,
    /// Aliases from `agents.defaults.models`.
    pub aliases: Aliases,
    /// Keys of `agents.defaults.models` (OpenClaw's allowlist).
    pub allowlist: Vec<ModelRef>,
    /// Provider ids of `models.providers` (huggingface included).
    pub providers: Vec<String>,
    /// Refs of the config that do not parse, one line each.
    pub problems: Vec<String>,
}

impl UserModels {
    /// Parses the config's refs; ones that do not parse become [`UserModels::problems`].
    /// `entries` are the keys of `agents.defaults.models` with their aliases.
    pub fn parse<'a>(
        primary: Option<&str>,
        fallbacks: impl IntoIterator<Item = &'a str>,
        entries: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
        providers: Vec<String>,
    ) -> UserModels {
        let mut user = UserModels {
            providers,
            ..UserModels::default()
        };
        let mut problems = Vec::new();
        let mut parse = |what: &str, text: &str| match text.parse::<ModelRef>() {
            Ok(r) => Some(r),
            Err(e) => {
                problems.push(format!("{what}: {e}"));
                None
            }
        };
        user.primary = primary.and_then(|p| parse("primary", p));
        user.fallbacks = fallbacks
            .into_iter()
            .filter_map(|f| parse("fallback", f))
            .collect();
        for (key, alias) in entries {
            if let Some(model_ref) = parse("agents.defaults.models key", key) {
                if let Some(alias) = alias {
                    user.aliases.insert(model_ref.clone(), alias);
                }
                user.allowlist.push(model_ref);
            }
        }
        user.problems = problems;
        user
    }

    /// Whether the config uses this exact ref (default, fallback or allowlist).
    pub fn uses(&self, model_ref: &ModelRef) -> bool {
        self.primary.as_ref() == Some(model_ref)
            || self.fallbacks.contains(model_ref)
            || self.allowlist.contains(model_ref)
    }

    /// Whether `models.providers.<provider>` exists.
    pub fn has_provider(&self, provider: &str) -> bool {
        self.providers.iter().any(|p| p == provider)
    }

    /// What `input` names: [`resolve`] with this config.
    pub fn resolve(&self, input: &str, known: &dyn Lookup) -> Result<Resolved, ResolveError> {
        resolve(input, self, known)
    }

    /// Whether `input` names anything with this config: [`is_claimed`](crate::is_claimed).
    pub fn claims(&self, input: &str, known: &dyn Lookup) -> bool {
        crate::resolve::is_claimed(input, self, known)
    }

    /// True when a request's `model` asks for the configured default: none, `""` or
    /// `"default"` (unless an alias is named `default`).
    pub fn means_default(&self, requested: Option<&str>) -> bool {
        requested
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .is_none_or(|r| {
                r.eq_ignore_ascii_case(DEFAULT_MODEL) && self.aliases.refs_for(r).is_empty()
            })
    }

    /// The model a request asks for: the configured default when
    /// [`UserModels::means_default`]; anything else is resolved.
    pub fn requested(
        &self,
        requested: Option<&str>,
        known: &dyn Lookup,
    ) -> Result<Resolved, ChainError> {
        let wants_default = self.means_default(requested);
        match requested.map(str::trim) {
            Some(input) if !wants_default => {
                self.resolve(input, known).map_err(ChainError::Resolve)
            }
            _ => match &self.primary {
                Some(primary) => Ok(Resolved {
                    model_ref: primary.clone(),
                    via: Via::Default,
                    warnings: Vec::new(),
                }),
                None => Err(ChainError::NoDefault),
            },
        }
    }

    /// The models to try, in order: `first`, then the fallbacks unless `no_fallback`,
    /// each once. Refs of other providers cannot go through the Hugging Face router:
    /// fallbacks (and a default) of other providers are left out, a requested one is an
    /// error.
    pub fn chain(&self, first: &Resolved, no_fallback: bool) -> Result<Chain, ChainError> {
        if !first.model_ref.is_huggingface() && first.via != Via::Default {
            return Err(ChainError::NotHuggingFace(Box::new(
                first.model_ref.clone(),
            )));
        }
        let mut chain = Chain::default();
        let fallbacks = if no_fallback {
            &[][..]
        } else {
            &self.fallbacks
        };
        for model_ref in std::iter::once(&first.model_ref).chain(fallbacks) {
            if chain.refs.contains(model_ref) || chain.left_out.contains(model_ref) {
                continue;
            }
            if model_ref.is_huggingface() {
                chain.refs.push(model_ref.clone());
            } else {
                chain.left_out.push(model_ref.clone());
            }
        }
        if chain.refs.is_empty() {
            return Err(ChainError::NothingToTry(chain.left_out));
        }
        Ok(chain)
    }
}

/// The models a request tries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// Hugging Face refs, in order.
    pub refs: Vec<ModelRef>,
    /// Refs of other providers that were left out (worth a note).
    pub left_out: Vec<ModelRef>,
}

/// Why a request has no model to try.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainError {
    /// No model asked for, and no default configured.
    NoDefault,
    /// The model asked for does not resolve.
    Resolve(ResolveError),
    /// The model asked for is another provider's.
    NotHuggingFace(Box<ModelRef>),
    /// Every model of the chain is another provider's.
    NothingToTry(Vec<ModelRef>),
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::NoDefault => f.write_str("no model given and no default model set"),
            ChainError::Resolve(e) => e.fmt(f),
            ChainError::NotHuggingFace(model_ref) => write!(
                f,
                "{model_ref} is a model of provider \"{}\", not of Hugging Face",
                model_ref.provider()
            ),
            ChainError::NothingToTry(left_out) if left_out.is_empty() => {
                f.write_str("no Hugging Face model to try")
            }
            ChainError::NothingToTry(left_out) => {
                let refs: Vec<&str> = left_out.iter().map(ModelRef::as_str).collect();
                write!(
                    f,
                    "no Hugging Face model to try ({} of other providers left out)",
                    refs.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for ChainError {}
