//! What resolution asks of a catalog, without knowing one: the [`Lookup`] trait (the
//! catalog crate implements it), the provider ids OpenClaw has built in, and the nearest
//! names for a "did you mean".

/// What a catalog (built-in, cached or live list, config entries) tells resolution.
///
/// `model-ref` does no I/O: the caller hands it whatever catalog it has. A plain list of
/// ids ([`Ids`]) is a catalog without provider data.
pub trait Lookup {
    /// Whether the catalog lists exactly this router id (`org/model`, or a config entry's
    /// `org/model:suffix`).
    fn lists(&self, id: &str) -> bool;

    /// The listed id that equals `id` ignoring ASCII case, when `id` itself is not listed.
    fn listed_ignoring_case(&self, id: &str) -> Option<String>;

    /// Calls `each` with every listed id; walked only to suggest a name for an input that
    /// is not listed.
    fn each_id(&self, each: &mut dyn FnMut(&str));

    /// The providers the data knows for the listed model `id` (without suffix); `None`
    /// when the model is not listed or its data names no provider.
    fn providers(&self, id: &str) -> Option<Vec<String>>;

    /// Whether the providers come from the router's list (fresh or cached); `false` when
    /// only the built-in snapshot is known, which may lag.
    fn live(&self) -> bool;
}

/// A catalog that also lists the bare `org/model` a user typed, without provider data: for
/// a task whose models another source answers for (the Hub's provider mapping of an
/// embedding model, read right after resolution, confirms the model or says it does not
/// exist). A `:provider` pin of that model is then not checked against chat providers.
#[derive(Clone, Copy)]
pub struct AlsoListing<'a> {
    /// The catalog.
    pub inner: &'a dyn Lookup,
    /// The model part (no `huggingface/`, no suffix) of the input, when it is `org/model`.
    pub asked: Option<&'a str>,
}

impl<'a> AlsoListing<'a> {
    /// `inner`, also listing what `input` names as `org/model` (`huggingface/` and a
    /// `:suffix` stripped).
    pub fn input(inner: &'a dyn Lookup, input: Option<&'a str>) -> AlsoListing<'a> {
        let asked = input
            .map(str::trim)
            .map(|r| r.strip_prefix(crate::HUGGINGFACE_PREFIX).unwrap_or(r))
            .map(|r| r.split_once(':').map_or(r, |(model, _)| model))
            .filter(|r| r.matches('/').count() == 1);
        AlsoListing { inner, asked }
    }
}

impl Lookup for AlsoListing<'_> {
    fn lists(&self, id: &str) -> bool {
        Some(id) == self.asked || self.inner.lists(id)
    }

    fn listed_ignoring_case(&self, id: &str) -> Option<String> {
        // The other source's ids are what the user typed: no catalog id corrects them.
        if Some(id) == self.asked {
            return None;
        }
        self.inner.listed_ignoring_case(id)
    }

    fn each_id(&self, each: &mut dyn FnMut(&str)) {
        self.inner.each_id(each);
    }

    fn providers(&self, id: &str) -> Option<Vec<String>> {
        if Some(id) == self.asked {
            return None;
        }
        self.inner.providers(id)
    }

    fn live(&self) -> bool {
        self.inner.live()
    }
}

/// A catalog that is only a list of model ids (no provider data, not live); `Ids(&[])`
/// knows nothing.
#[derive(Debug, Clone, Copy)]
pub struct Ids<'a>(pub &'a [&'a str]);

impl Lookup for Ids<'_> {
    fn lists(&self, id: &str) -> bool {
        self.0.contains(&id)
    }

    fn listed_ignoring_case(&self, id: &str) -> Option<String> {
        self.0
            .iter()
            .find(|known| known.eq_ignore_ascii_case(id))
            .map(|known| (*known).to_owned())
    }

    fn each_id(&self, each: &mut dyn FnMut(&str)) {
        for id in self.0 {
            each(id);
        }
    }

    fn providers(&self, _id: &str) -> Option<Vec<String>> {
        None
    }

    fn live(&self) -> bool {
        false
    }
}

/// Provider ids OpenClaw knows without a `models.providers` entry (its built-in catalog
/// and bundled provider plugins, from docs.openclaw.ai/providers, 2026-12). A bare `a/b`
/// no catalog lists is that provider's ref when `a` is one of these.
pub const OPENCLAW_PROVIDERS: &[&str] = &[
    "alibaba",
    "amazon-bedrock",
    "anthropic",
    "anthropic-vertex",
    "arcee",
    "azure",
    "bedrock",
    "byteplus",
    "cerebras",
    "chutes",
    "cloudflare-ai-gateway",
    "cohere",
    "copilot-proxy",
    "deepinfra",
    "deepseek",
    "fal",
    "fireworks",
    "github-copilot",
    "glm",
    "google",
    "google-antigravity",
    "google-gemini-cli",
    "google-vertex",
    "groq",
    "inferrs",
    "kilocode",
    "kimi-coding",
    "litellm",
    "lmstudio",
    "minimax",
    "mistral",
    "moonshot",
    "nvidia",
    "ollama",
    "openai",
    "openai-codex",
    "opencode",
    "opencode-go",
    "openrouter",
    "perplexity",
    "qianfan",
    "qwen",
    "sglang",
    "stepfun",
    "synthetic",
    "together",
    "venice",
    "vercel-ai-gateway",
    "vllm",
    "volcengine",
    "xai",
    "xiaomi",
    "zai",
];

/// Whether `provider` is one of [`OPENCLAW_PROVIDERS`].
pub fn is_openclaw_provider(provider: &str) -> bool {
    OPENCLAW_PROVIDERS.binary_search(&provider).is_ok()
}

/// At most this many names are suggested.
const SUGGESTIONS: usize = 3;

/// The candidates nearest to `input` by edit distance, ignoring case: those at the
/// smallest distance, when it is small for the input's length (a third of it, at least
/// 1 and at most 3), in the order given, at most three. Each candidate is the text
/// compared and the suggestion it stands for. Every "did you mean" of hfclaw uses it.
pub fn nearest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = (&'a str, String)>,
) -> Vec<String> {
    let wanted = input.to_lowercase();
    let limit = (wanted.chars().count() / 3).clamp(1, 3);
    let mut best = limit + 1;
    let mut found: Vec<String> = Vec::new();
    for (compared, suggestion) in candidates {
        let distance = strsim::levenshtein(&wanted, &compared.to_lowercase());
        if distance > limit || distance > best {
            continue;
        }
        if distance < best {
            best = distance;
            found.clear();
        }
        if found.len() < SUGGESTIONS && !found.contains(&suggestion) {
            found.push(suggestion);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openclaw_providers_are_sorted_for_the_binary_search() {
        assert!(OPENCLAW_PROVIDERS.is_sorted());
        assert!(is_openclaw_provider("openai"));
        assert!(is_openclaw_provider("lmstudio"));
        assert!(!is_openclaw_provider("huggingface-ish"));
    }

    #[test]
    fn also_listing_adds_the_typed_org_model_without_provider_data() {
        let catalog = Ids(&["Qwen/Qwen3-8B"]);
        let hub = AlsoListing::input(&catalog, Some(" huggingface/BAAI/bge-m3:together"));
        assert_eq!(hub.asked, Some("BAAI/bge-m3"));
        assert!(hub.lists("BAAI/bge-m3") && hub.lists("Qwen/Qwen3-8B"));
        assert!(!hub.lists("BAAI/other"));
        assert_eq!(hub.providers("BAAI/bge-m3"), None);
        assert_eq!(hub.listed_ignoring_case("BAAI/bge-m3"), None);
        assert_eq!(AlsoListing::input(&catalog, Some("memory")).asked, None);
        assert_eq!(AlsoListing::input(&catalog, None).asked, None);
    }

    #[test]
    fn nearest_names_ignore_case_and_keep_the_closest() {
        let ids = ["Qwen/Qwen3-8B", "Qwen/Qwen3-32B", "deepseek-ai/DeepSeek-R1"];
        let pairs = || ids.iter().map(|id| (*id, (*id).to_owned()));
        assert_eq!(nearest("Qwen/Qwen3-9B", pairs()), ["Qwen/Qwen3-8B"]);
        assert_eq!(nearest("qwen/qwen3-8b", pairs()), ["Qwen/Qwen3-8B"]);
        assert!(nearest("meta-llama/Llama-9", pairs()).is_empty());
        let providers = [
            ("groq", "groq".to_owned()),
            ("together", "together".to_owned()),
        ];
        assert_eq!(nearest("grok", providers.clone()), ["groq"]);
        assert!(nearest("x", providers).is_empty());
    }
}
