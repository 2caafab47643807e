//! The names `/metrics` and the status page give models and providers, bounded whatever
//! clients send: a model the user configured (default, fallbacks, alias targets,
//! allowlist) keeps its ref as written; another catalog model is named by its base ref
//! (the provider label says which backend served it); anything else is `other`. A
//! provider the catalog does not know is `other` too. Built with each snapshot, so a
//! request only looks names up.

use std::collections::HashSet;

use hfclaw_catalog::Catalog;
use hfclaw_model_ref::{HUGGINGFACE_PREFIX, ModelRef};

use crate::exchange::Exchange;

/// The label of every model or provider that is not known.
pub const OTHER: &str = "other";
/// The provider label of a request no backend answered.
pub const NONE: &str = "none";
/// The provider label of an answer without `x-inference-provider`.
pub const UNKNOWN: &str = "unknown";

/// A finished request's names, as [`LabelBook`] gave them.
#[derive(Debug, Clone)]
pub struct Names {
    /// The model that answered, else the one asked for.
    pub model: String,
    /// The backend that answered.
    pub provider: String,
    /// For an answer from a fallback: the model asked for.
    pub fell_back_from: Option<String>,
}

/// Which names may become label values.
#[derive(Debug, Default)]
pub struct LabelBook {
    /// The user's refs, as written.
    configured: HashSet<String>,
    /// Every provider the catalog or a configured suffix names.
    providers: HashSet<String>,
}

impl LabelBook {
    /// The names of `configured` refs and of `catalog`'s providers.
    pub fn new<'a>(configured: impl IntoIterator<Item = &'a ModelRef>, catalog: &Catalog) -> Self {
        let mut book = LabelBook::default();
        for model_ref in configured {
            if !model_ref.is_huggingface() {
                continue;
            }
            if let Some(provider) = model_ref.suffix().and_then(|s| s.provider()) {
                book.providers.insert(provider.to_owned());
            }
            book.configured.insert(model_ref.as_str().to_owned());
        }
        for model in catalog.models() {
            for provider in &model.providers {
                if !book.providers.contains(provider.name.as_str()) {
                    book.providers.insert(provider.name.to_string());
                }
            }
        }
        book
    }

    /// The label of `model_ref`.
    pub fn model(&self, model_ref: &ModelRef, catalog: &Catalog) -> String {
        if self.configured.contains(model_ref.as_str()) {
            return model_ref.as_str().to_owned();
        }
        if model_ref.is_huggingface() && catalog.get(model_ref.model_id()).is_some() {
            return format!("{HUGGINGFACE_PREFIX}{}", model_ref.model_id());
        }
        OTHER.to_owned()
    }

    /// The label of a router model id (`org/model[:suffix]`, as cooldowns name models).
    pub fn router_id(&self, id: &str, catalog: &Catalog) -> String {
        ModelRef::from_router_id(id).map_or_else(|_| OTHER.to_owned(), |m| self.model(&m, catalog))
    }

    /// The names of a finished request: the model that answered (else the first one it
    /// would have tried, `asked`), the backend, and for a fallback's answer the model asked
    /// for. `asked` resolves the request again: it is called only when no model answered
    /// or a fallback did, both rarer than a plain answer.
    pub fn names(
        &self,
        catalog: &Catalog,
        exchange: &Exchange,
        asked: impl Fn() -> Option<ModelRef>,
    ) -> Names {
        let label = |model: &ModelRef| self.model(model, catalog);
        let model = match &exchange.answered {
            Some(answered) => label(answered),
            None => asked().map_or_else(|| OTHER.to_owned(), |m| label(&m)),
        };
        let fell_back_from = match exchange.fallback {
            Some(index) if index > 0 => asked().map(|m| label(&m)),
            _ => None,
        };
        Names {
            provider: self.provider(exchange.provider.as_deref(), exchange.answered.is_some()),
            model,
            fell_back_from,
        }
    }

    /// The label of the backend that answered (`None`: no answer came).
    pub fn provider(&self, provider: Option<&str>, answered: bool) -> String {
        match provider {
            Some(name) if self.providers.contains(name) => name.to_owned(),
            Some(_) => OTHER.to_owned(),
            None if answered => UNKNOWN.to_owned(),
            None => NONE.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hfclaw_catalog::builtin;

    use super::*;

    fn r(text: &str) -> ModelRef {
        text.parse().unwrap()
    }

    #[test]
    fn configured_refs_keep_their_suffix_catalog_models_their_base_and_others_fold() {
        let catalog = Catalog::merge(builtin::models(), None, &[]);
        let configured = [
            r("huggingface/Qwen/Qwen3-8B:cheapest"),
            r("huggingface/my-org/private-model"),
        ];
        let book = LabelBook::new(&configured, &catalog);
        let label = |text: &str| book.model(&r(text), &catalog);
        assert_eq!(
            label("huggingface/Qwen/Qwen3-8B:cheapest"),
            "huggingface/Qwen/Qwen3-8B:cheapest"
        );
        assert_eq!(
            label("huggingface/my-org/private-model"),
            "huggingface/my-org/private-model"
        );
        // A catalog model under a suffix nobody configured: its base ref.
        assert_eq!(
            label("huggingface/deepseek-ai/DeepSeek-R1:together"),
            "huggingface/deepseek-ai/DeepSeek-R1"
        );
        assert_eq!(label("huggingface/someone/made-up"), OTHER);
        assert_eq!(label("huggingface/someone/made-up:groq"), OTHER);
        assert_eq!(label("openai/gpt-5"), OTHER);
    }

    #[test]
    fn providers_outside_the_catalog_fold() {
        let catalog = Catalog::merge(builtin::models(), None, &[]);
        let book = LabelBook::new(&[r("huggingface/a/b:my-backend")], &catalog);
        let known = catalog.models()[0].providers[0].name.clone();
        assert_eq!(book.provider(Some(&known), true), known);
        assert_eq!(book.provider(Some("my-backend"), true), "my-backend");
        assert_eq!(book.provider(Some("<script>"), true), OTHER);
        assert_eq!(book.provider(None, true), UNKNOWN);
        assert_eq!(book.provider(None, false), NONE);
    }
}
