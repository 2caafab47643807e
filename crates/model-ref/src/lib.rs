//! Model refs: `huggingface/<org>/<model>[:fastest|:cheapest|:preferred|:<provider>]`.
//!
//! This crate owns the grammar of a model ref (SPEC §1), its typed parse errors (which part
//! is wrong and at which byte), the mapping from a ref to the id the router expects, the
//! user's model choices ([`UserModels`]) and the one decision of what a user's input (a
//! ref, an alias, a bare `org/model`, another provider's ref) means ([`resolve`]), with a
//! "did you mean" for names nothing knows, and the chain of models a request tries.
//!
//! It does no I/O, no async and knows nothing of configs or the network: callers hand it
//! strings and a catalog behind the [`Lookup`] trait (the catalog crate implements it).
//!
//! ```
//! use hfclaw_model_ref::{ModelRef, Suffix};
//!
//! let r: ModelRef = "huggingface/deepseek-ai/DeepSeek-R1:cheapest".parse().unwrap();
//! assert_eq!(r.model_id(), "deepseek-ai/DeepSeek-R1");
//! assert_eq!(r.suffix(), Some(&Suffix::Cheapest));
//! assert_eq!(r.router_model_id(), "deepseek-ai/DeepSeek-R1:cheapest");
//! assert_eq!(r.to_string(), "huggingface/deepseek-ai/DeepSeek-R1:cheapest");
//! ```

mod error;
mod lookup;
mod resolve;
mod user;

use std::fmt;
use std::str::FromStr;

pub use error::{ParseError, ParseErrorKind};
pub use lookup::{AlsoListing, Ids, Lookup, OPENCLAW_PROVIDERS, is_openclaw_provider, nearest};
pub use resolve::{Aliases, ResolveError, Resolved, Suggestion, Via, Warning, is_claimed, resolve};
pub use user::{Chain, ChainError, DEFAULT_MODEL, UserModels};

/// The provider id of Hugging Face Inference Providers in OpenClaw refs.
pub const HUGGINGFACE: &str = "huggingface";

/// The `huggingface/` prefix every Hugging Face ref starts with.
pub const HUGGINGFACE_PREFIX: &str = "huggingface/";

/// A parsed model ref such as `huggingface/Qwen/Qwen3-8B:cheapest`.
///
/// Refs of other providers (`openai/gpt-5`, `openrouter/a/b`) parse too, as *foreign*
/// refs whose model part is kept verbatim and never interpreted.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelRef {
    /// The whole ref exactly as written; valid per the grammar (checked by `parse`).
    raw: String,
    /// Byte length of the provider part, before the first `/`.
    provider_len: usize,
    /// Byte index where the model id ends: the `:` of the suffix, or `raw.len()`.
    model_end: usize,
    /// The interpreted suffix; always `None` for foreign refs.
    suffix: Option<Suffix>,
}

/// The part after `:` in a Hugging Face ref: a router policy or a pinned provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Suffix {
    /// `:fastest`, highest throughput (also the router's behaviour without a suffix).
    Fastest,
    /// `:cheapest`, lowest price per output token.
    Cheapest,
    /// `:preferred`, first available provider in the user's order on hf.co.
    Preferred,
    /// `:<provider>`, one pinned backend such as `together` (no router-side failover).
    Provider(String),
}

impl Suffix {
    /// The suffix as written after the `:`.
    pub fn as_str(&self) -> &str {
        match self {
            Suffix::Fastest => "fastest",
            Suffix::Cheapest => "cheapest",
            Suffix::Preferred => "preferred",
            Suffix::Provider(name) => name,
        }
    }

    /// True for `:fastest`, `:cheapest` and `:preferred`, which leave the backend to the router.
    pub fn is_policy(&self) -> bool {
        !matches!(self, Suffix::Provider(_))
    }

    /// The pinned provider name, for `:<provider>` suffixes.
    pub fn provider(&self) -> Option<&str> {
        match self {
            Suffix::Provider(name) => Some(name),
            _ => None,
        }
    }

    fn from_valid(text: &str) -> Suffix {
        match text {
            "fastest" => Suffix::Fastest,
            "cheapest" => Suffix::Cheapest,
            "preferred" => Suffix::Preferred,
            other => Suffix::Provider(other.to_owned()),
        }
    }
}

impl fmt::Display for Suffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Suffix {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        check_suffix(s, s, 0)?;
        Ok(Suffix::from_valid(s))
    }
}

impl ModelRef {
    /// Builds a Hugging Face ref from a router model id (`org/model`) and an optional suffix.
    pub fn huggingface(model_id: &str, suffix: Option<&Suffix>) -> Result<ModelRef, ParseError> {
        let mut raw = String::with_capacity(HUGGINGFACE_PREFIX.len() + model_id.len() + 12);
        raw.push_str(HUGGINGFACE_PREFIX);
        raw.push_str(model_id);
        if let Some(suffix) = suffix {
            raw.push(':');
            raw.push_str(suffix.as_str());
        }
        ModelRef::parse_owned(raw)
    }

    /// Builds a Hugging Face ref from a router id that may carry a suffix (`org/model:cheapest`).
    pub fn from_router_id(router_id: &str) -> Result<ModelRef, ParseError> {
        ModelRef::parse_owned(format!("{HUGGINGFACE_PREFIX}{router_id}"))
    }

    /// The provider part, e.g. `huggingface`.
    pub fn provider(&self) -> &str {
        &self.raw[..self.provider_len]
    }

    /// True when the provider is `huggingface`, the only provider hfclaw talks to.
    pub fn is_huggingface(&self) -> bool {
        self.provider() == HUGGINGFACE
    }

    /// The model id without provider and suffix, e.g. `deepseek-ai/DeepSeek-R1`.
    pub fn model_id(&self) -> &str {
        &self.raw[self.provider_len + 1..self.model_end]
    }

    /// The organisation part of the model id, when it has one.
    pub fn org(&self) -> Option<&str> {
        self.model_id().rsplit_once('/').map(|(org, _)| org)
    }

    /// The last segment of the model id, e.g. `DeepSeek-R1`.
    pub fn name(&self) -> &str {
        let id = self.model_id();
        id.rsplit_once('/').map_or(id, |(_, name)| name)
    }

    /// The suffix, when the ref has one (always `None` for foreign refs).
    pub fn suffix(&self) -> Option<&Suffix> {
        self.suffix.as_ref()
    }

    /// The id sent to the router: model id plus suffix, without `huggingface/`.
    pub fn router_model_id(&self) -> &str {
        &self.raw[self.provider_len + 1..]
    }

    /// The ref as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The ref as written, without a copy.
    pub fn into_string(self) -> String {
        self.raw
    }

    /// The same ref without its suffix.
    pub fn base(&self) -> ModelRef {
        self.with_suffix(None)
    }

    /// The same model with another suffix (or none).
    pub fn with_suffix(&self, suffix: Option<&Suffix>) -> ModelRef {
        let mut raw = String::with_capacity(self.model_end + 12);
        raw.push_str(&self.raw[..self.model_end]);
        if let Some(suffix) = suffix {
            raw.push(':');
            raw.push_str(suffix.as_str());
        }
        ModelRef {
            raw,
            provider_len: self.provider_len,
            model_end: self.model_end,
            suffix: suffix.cloned(),
        }
    }

    fn parse_owned(raw: String) -> Result<ModelRef, ParseError> {
        let parts = parse_parts(&raw)?;
        Ok(ModelRef {
            provider_len: parts.provider_len,
            model_end: parts.model_end,
            suffix: parts.suffix,
            raw,
        })
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModelRef({:?})", self.raw)
    }
}

impl FromStr for ModelRef {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts = parse_parts(s)?;
        Ok(ModelRef {
            raw: s.to_owned(),
            provider_len: parts.provider_len,
            model_end: parts.model_end,
            suffix: parts.suffix,
        })
    }
}

impl AsRef<str> for ModelRef {
    fn as_ref(&self) -> &str {
        &self.raw
    }
}

struct Parts {
    provider_len: usize,
    model_end: usize,
    suffix: Option<Suffix>,
}

fn parse_parts(input: &str) -> Result<Parts, ParseError> {
    let fail = |offset, kind| Err(ParseError::new(input, offset, kind));
    if input.is_empty() {
        return fail(0, ParseErrorKind::Empty);
    }
    let Some(slash) = input.find('/') else {
        return fail(input.len(), ParseErrorKind::MissingSlash);
    };
    let provider = &input[..slash];
    check_provider(input, provider)?;
    let rest_start = slash + 1;
    let rest = &input[rest_start..];
    if provider != HUGGINGFACE {
        return parse_foreign(input, slash, rest);
    }
    if rest.is_empty() {
        return fail(rest_start, ParseErrorKind::EmptyModel);
    }
    if let Some(after) = rest.strip_prefix(HUGGINGFACE_PREFIX) {
        let suggestion = format!("{HUGGINGFACE_PREFIX}{after}");
        return fail(rest_start, ParseErrorKind::DoubledPrefix { suggestion });
    }
    let (model, suffix_text) = match rest.find(':') {
        Some(colon) => (&rest[..colon], Some(colon)),
        None => (rest, None),
    };
    check_model_id(input, model, rest_start)?;
    let model_end = rest_start + model.len();
    let suffix = match suffix_text {
        None => None,
        Some(colon) => {
            let start = rest_start + colon + 1;
            let text = &input[start..];
            if let Some(second) = text.find(':') {
                return fail(start + second, ParseErrorKind::TwoSuffixes);
            }
            check_suffix(input, text, start)?;
            Some(Suffix::from_valid(text))
        }
    };
    Ok(Parts {
        provider_len: slash,
        model_end,
        suffix,
    })
}

fn check_provider(input: &str, provider: &str) -> Result<(), ParseError> {
    if provider.is_empty() {
        return Err(ParseError::new(input, 0, ParseErrorKind::EmptyProvider));
    }
    for (i, b) in provider.bytes().enumerate() {
        if b.is_ascii_uppercase() {
            let lower = provider.to_ascii_lowercase();
            return Err(ParseError::new(
                input,
                i,
                ParseErrorKind::ProviderCase { lower },
            ));
        }
        if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
            return Err(invalid_char(input, i, "provider"));
        }
    }
    Ok(())
}

/// Foreign refs: the model part is opaque, but must be non-empty and free of whitespace.
fn parse_foreign(input: &str, slash: usize, rest: &str) -> Result<Parts, ParseError> {
    if rest.is_empty() {
        return Err(ParseError::new(
            input,
            slash + 1,
            ParseErrorKind::EmptyModel,
        ));
    }
    if let Some((i, _)) = rest
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || c.is_control())
    {
        return Err(invalid_char(input, slash + 1 + i, "model id"));
    }
    Ok(Parts {
        provider_len: slash,
        model_end: input.len(),
        suffix: None,
    })
}

fn check_model_id(input: &str, model: &str, start: usize) -> Result<(), ParseError> {
    let fail = |offset, kind| Err(ParseError::new(input, offset, kind));
    let (org, name, name_start) = match model.find('/') {
        Some(slash) => (
            Some(&model[..slash]),
            &model[slash + 1..],
            start + slash + 1,
        ),
        None => (None, model, start),
    };
    if let Some(org) = org {
        if org.is_empty() {
            return fail(start, ParseErrorKind::EmptyOrg);
        }
        check_segment(input, org, start)?;
    }
    if let Some(extra) = name.find('/') {
        return fail(name_start + extra, ParseErrorKind::TooManySegments);
    }
    if name.is_empty() {
        return fail(name_start, ParseErrorKind::EmptyModel);
    }
    check_segment(input, name, name_start)
}

fn check_segment(input: &str, segment: &str, start: usize) -> Result<(), ParseError> {
    let bytes = segment.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.') {
            return Err(invalid_char(input, start + i, "model id"));
        }
        if b == b'.' && bytes.get(i + 1) == Some(&b'.') {
            return Err(ParseError::new(input, start + i, ParseErrorKind::DoubleDot));
        }
    }
    if bytes.first() == Some(&b'.') {
        return Err(ParseError::new(input, start, ParseErrorKind::EdgeDot));
    }
    if bytes.last() == Some(&b'.') {
        let offset = start + bytes.len() - 1;
        return Err(ParseError::new(input, offset, ParseErrorKind::EdgeDot));
    }
    Ok(())
}

fn check_suffix(input: &str, text: &str, start: usize) -> Result<(), ParseError> {
    if text.is_empty() {
        return Err(ParseError::new(input, start, ParseErrorKind::EmptySuffix));
    }
    let mut upper = None;
    for (i, b) in text.bytes().enumerate() {
        if b.is_ascii_uppercase() {
            upper.get_or_insert(i);
        } else if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(invalid_char(input, start + i, "suffix"));
        }
    }
    match upper {
        Some(i) => Err(ParseError::new(
            input,
            start + i,
            ParseErrorKind::SuffixCase {
                found: text.to_owned(),
                lower: text.to_ascii_lowercase(),
            },
        )),
        None => Ok(()),
    }
}

fn invalid_char(input: &str, offset: usize, part: &'static str) -> ParseError {
    let found = input[offset..].chars().next().unwrap_or('\u{fffd}');
    ParseError::new(input, offset, ParseErrorKind::InvalidChar { found, part })
}

#[cfg(test)]
mod tests;
