//! The data types of the catalog: models, their providers, prices.

use compact_str::CompactString;
use hfclaw_model_ref::Suffix;
use serde::{Deserialize, Serialize};

/// A model as hfclaw knows it after merging built-in, live and config data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    /// Router id without provider prefix; config entries may carry a suffix (`org/m:cheapest`).
    pub id: String,
    /// Display name (an alias still overrides it in output).
    pub name: String,
    /// Owner on the hub, when known.
    pub owned_by: Option<CompactString>,
    /// Context window in tokens.
    pub context_window: Option<u64>,
    /// Largest completion in tokens.
    pub max_output_tokens: Option<u64>,
    /// Price per 1M tokens.
    pub cost: Option<Cost>,
    /// Whether the model emits reasoning (from data, never guessed from the name).
    pub reasoning: bool,
    /// Input modalities such as `text`, `image`.
    pub input: Vec<String>,
    /// Backends serving the model.
    pub providers: Vec<ProviderInfo>,
    /// Where the winning data comes from.
    pub source: Source,
    /// `Some(true)` when the live list serves it, `Some(false)` when live data says it is not
    /// served, `None` without live data.
    pub available: Option<bool>,
    /// The user's own options from a config entry (`compat`, `headers`, `params`, …).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub options: serde_json::Map<String, serde_json::Value>,
}

impl Model {
    /// A model known only by id and name: no limits, prices, providers or input types.
    pub fn unknown(id: String, name: String, source: Source) -> Model {
        Model {
            id,
            name,
            owned_by: None,
            context_window: None,
            max_output_tokens: None,
            cost: None,
            reasoning: false,
            input: Vec::new(),
            providers: Vec::new(),
            source,
            available: None,
            options: Default::default(),
        }
    }
}

/// Price in USD per 1M tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    /// Prompt tokens.
    pub input: f64,
    /// Completion tokens.
    pub output: f64,
    /// Cached prompt tokens read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// Cached prompt tokens written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

impl Cost {
    /// A cost with input and output prices only.
    pub fn new(input: f64, output: f64) -> Cost {
        Cost {
            input,
            output,
            cache_read: None,
            cache_write: None,
        }
    }
}

/// Where a model's data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Source {
    /// The catalog compiled into hfclaw.
    #[serde(rename = "built-in")]
    BuiltIn,
    /// The router's `GET /v1/models` answer (fresh or cached).
    #[serde(rename = "live")]
    Live,
    /// An entry of `models.providers.huggingface.models` in the user's config.
    #[serde(rename = "config")]
    Config,
}

impl Source {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::BuiltIn => "built-in",
            Source::Live => "live",
            Source::Config => "config",
        }
    }
}

/// One backend serving a model, as the router reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderInfo {
    /// Provider name, e.g. `together`; usable as a `:<provider>` suffix.
    pub name: CompactString,
    /// Live, staging or error.
    pub status: ProviderStatus,
    /// Context length this backend serves.
    pub context_length: Option<u64>,
    /// This backend's price per 1M tokens.
    pub pricing: Option<Cost>,
    /// Tool calling support.
    pub supports_tools: Option<bool>,
    /// Structured output support.
    pub supports_structured_output: Option<bool>,
    /// Measured latency to the first token.
    pub first_token_latency_ms: Option<f64>,
    /// Measured tokens per second.
    pub throughput: Option<f64>,
    /// The router's `is_free` flag for this offering.
    pub is_free: Option<bool>,
    /// Whether this backend is the model's author (e.g. `zai-org` serving GLM).
    pub is_model_author: Option<bool>,
}

impl ProviderInfo {
    /// A provider with a name and status only.
    pub fn new(name: impl Into<CompactString>, status: ProviderStatus) -> ProviderInfo {
        ProviderInfo {
            name: name.into(),
            status,
            context_length: None,
            pricing: None,
            supports_tools: None,
            supports_structured_output: None,
            first_token_latency_ms: None,
            throughput: None,
            is_free: None,
            is_model_author: None,
        }
    }

    /// False when the router reports the backend as failing.
    pub fn is_usable(&self) -> bool {
        self.status != ProviderStatus::Error
    }

    /// Whether using this offering costs nothing: the router's `is_free`, else a stated
    /// price of 0 in and out. (`is_free: false` wins over a 0/0 price.)
    pub fn serves_free(&self) -> bool {
        self.is_free.unwrap_or_else(|| {
            self.pricing
                .is_some_and(|c| c.input == 0.0 && c.output == 0.0)
        })
    }

    /// The `:<provider>` suffix that pins this backend, when its name can be one.
    pub fn pin_suffix(&self) -> Option<Suffix> {
        match self.name.parse::<Suffix>() {
            Ok(suffix @ Suffix::Provider(_)) => Some(suffix),
            _ => None,
        }
    }
}

/// A provider's status on the router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderStatus {
    /// Serving.
    Live,
    /// Serving in a trial phase.
    Staging,
    /// Failing.
    Error,
    /// A status this version does not know; treated as usable.
    #[serde(untagged)]
    Other(String),
}

impl ProviderStatus {
    /// Reads the router's status string.
    pub fn parse(text: &str) -> ProviderStatus {
        match text {
            "live" => ProviderStatus::Live,
            "staging" => ProviderStatus::Staging,
            "error" => ProviderStatus::Error,
            other => ProviderStatus::Other(other.to_owned()),
        }
    }

    /// The status as the router writes it.
    pub fn as_str(&self) -> &str {
        match self {
            ProviderStatus::Live => "live",
            ProviderStatus::Staging => "staging",
            ProviderStatus::Error => "error",
            ProviderStatus::Other(other) => other,
        }
    }
}

/// Context rule of SPEC §2: the minimum over usable providers that report one.
pub fn min_context(providers: &[ProviderInfo]) -> Option<u64> {
    providers
        .iter()
        .filter(|p| p.is_usable())
        .filter_map(|p| p.context_length)
        .min()
}

/// Price rule of SPEC §2: the live provider with the lowest output price (then input price).
pub fn cheapest_live(providers: &[ProviderInfo]) -> Option<&ProviderInfo> {
    providers
        .iter()
        .filter(|p| p.status == ProviderStatus::Live && p.pricing.is_some())
        .min_by(|a, b| {
            let ((a_out, a_in), (b_out, b_in)) = (price_key(a), price_key(b));
            a_out.total_cmp(&b_out).then(a_in.total_cmp(&b_in))
        })
}

/// Every live provider `:cheapest` may pick: the lowest output price, then the lowest
/// input price; more than one when they tie.
pub fn cheapest_live_all(providers: &[ProviderInfo]) -> Vec<&ProviderInfo> {
    let Some(best) = cheapest_live(providers) else {
        return Vec::new();
    };
    let key = price_key(best);
    providers
        .iter()
        .filter(|p| p.status == ProviderStatus::Live && p.pricing.is_some())
        .filter(|p| price_key(p) == key)
        .collect()
}

/// The live provider with the highest measured throughput, what `:fastest` picks.
pub fn fastest_live(providers: &[ProviderInfo]) -> Option<&ProviderInfo> {
    providers
        .iter()
        .filter(|p| p.status == ProviderStatus::Live)
        .filter(|p| p.throughput.is_some())
        .max_by(|a, b| {
            let (a, b) = (a.throughput.unwrap_or(0.0), b.throughput.unwrap_or(0.0));
            a.total_cmp(&b)
        })
}

/// Orders present values by `cmp` and puts missing ones last.
pub(crate) fn present_first<T>(
    a: Option<T>,
    b: Option<T>,
    cmp: impl Fn(T, T) -> std::cmp::Ordering,
) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Some(a), Some(b)) => cmp(a, b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn price_key(p: &ProviderInfo) -> (f64, f64) {
    p.pricing
        .map_or((f64::MAX, f64::MAX), |c| (c.output, c.input))
}
