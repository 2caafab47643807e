//! The provider table: for each task, the providers hfclaw can call through the router,
//! where and in which shape. Built from the provider builders of `huggingface.js`
//! (`packages/inference/src/providers/*.ts`, `getProviderHelper.ts`) and `huggingface_hub`
//! (`src/huggingface_hub/inference/_providers/*.py`), read on 2026-12-07 at
//! huggingface.js fe42e68 (2026-08-21) and huggingface_hub ee0a451 (2026-08-20). Both
//! register `feature-extraction` for exactly these four providers; `nebius` and
//! `sambanova` had embeddings builders until huggingface_hub #4447 (2026-07-01) removed
//! them with the providers themselves from the Hub's routing layer.

use super::Task;

/// How a provider is spoken to: the request it takes and the answer it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wire {
    /// OpenAI's embeddings API: `{"input", "model": providerId, "dimensions"?}` →
    /// `{"data": [{"embedding": […]}], "usage"?}`.
    OpenAiEmbeddings,
    /// `hf-inference`'s feature-extraction pipeline: `{"inputs": [texts]}` → `[[f32…]…]`
    /// (strings only; no `dimensions`; no usage).
    HfFeatureExtraction,
}

impl Wire {
    /// Whether the wire takes token arrays (`input: [[1, 2, 3]]`) as well as text.
    pub fn takes_tokens(self) -> bool {
        matches!(self, Wire::OpenAiEmbeddings)
    }

    /// Whether the wire takes OpenAI's `dimensions`.
    pub fn takes_dimensions(self) -> bool {
        matches!(self, Wire::OpenAiEmbeddings)
    }
}

/// One provider of one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskProvider {
    /// The task.
    pub task: Task,
    /// The provider's name in Hub mappings and router prefixes.
    pub provider: &'static str,
    /// The path under the router root; `{id}` stands for the provider's model id.
    pub path: &'static str,
    /// Its request and answer shape.
    pub wire: Wire,
    /// The mapping tasks (`task` of a Hub mapping) this row serves.
    pub mapping_tasks: &'static [&'static str],
}

impl TaskProvider {
    /// The path to call for the provider's model id `provider_id`.
    pub fn path_for(&self, provider_id: &str) -> String {
        self.path.replace("{id}", provider_id)
    }

    /// True for rows whose answers are converted rather than passed on in the client's
    /// own shape (tried last when nothing is pinned).
    pub fn converted(&self) -> bool {
        self.wire == Wire::HfFeatureExtraction
    }
}

/// Every provider of every task. Order does not matter here: the Hub's mapping order
/// decides among OpenAI-shaped providers, converted ones come last ([`super::routes`]).
pub const TASK_PROVIDERS: &[TaskProvider] = &[
    // ScalewayFeatureExtractionTask: route `v1/embeddings`, `{input, model}`, `data[].embedding`.
    TaskProvider {
        task: Task::Embeddings,
        provider: "scaleway",
        path: "/scaleway/v1/embeddings",
        wire: Wire::OpenAiEmbeddings,
        mapping_tasks: &["feature-extraction"],
    },
    // TogetherFeatureExtractionTask: route `v1/embeddings`, `{input, model, …parameters}`.
    TaskProvider {
        task: Task::Embeddings,
        provider: "together",
        path: "/together/v1/embeddings",
        wire: Wire::OpenAiEmbeddings,
        mapping_tasks: &["feature-extraction"],
    },
    // DeepInfraFeatureExtractionTask: route `v1/openai/embeddings` (DeepInfra's OpenAI
    // namespace), `{input, …parameters, model}`.
    TaskProvider {
        task: Task::Embeddings,
        provider: "deepinfra",
        path: "/deepinfra/v1/openai/embeddings",
        wire: Wire::OpenAiEmbeddings,
        mapping_tasks: &["feature-extraction"],
    },
    // HFInferenceFeatureExtractionTask: `models/{id}/pipeline/feature-extraction`, raw
    // arrays. On hf-inference the two sentence-transformers tasks are interchangeable
    // (EQUIVALENT_SENTENCE_TRANSFORMERS_TASKS), so a `sentence-similarity` mapping embeds
    // plain inputs too.
    TaskProvider {
        task: Task::Embeddings,
        provider: "hf-inference",
        path: "/hf-inference/models/{id}/pipeline/feature-extraction",
        wire: Wire::HfFeatureExtraction,
        mapping_tasks: &["feature-extraction", "sentence-similarity"],
    },
];

/// The row of `provider` for `task`, if hfclaw can call it.
pub fn task_provider(task: Task, provider: &str) -> Option<&'static TaskProvider> {
    TASK_PROVIDERS
        .iter()
        .find(|p| p.task == task && p.provider == provider)
}

/// The providers of `task`, in table order (for help texts and errors).
pub fn providers_of(task: Task) -> impl Iterator<Item = &'static str> {
    TASK_PROVIDERS
        .iter()
        .filter(move |p| p.task == task)
        .map(|p| p.provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_paths_follow_the_builders() {
        let path = |p: &str, id: &str| task_provider(Task::Embeddings, p).map(|r| r.path_for(id));
        assert_eq!(
            path("hf-inference", "BAAI/bge-m3").as_deref(),
            Some("/hf-inference/models/BAAI/bge-m3/pipeline/feature-extraction")
        );
        assert_eq!(
            path("deepinfra", "BAAI/bge-m3").as_deref(),
            Some("/deepinfra/v1/openai/embeddings")
        );
        assert_eq!(
            path("together", "x").as_deref(),
            Some("/together/v1/embeddings")
        );
        assert_eq!(
            path("scaleway", "x").as_deref(),
            Some("/scaleway/v1/embeddings")
        );
        assert_eq!(path("nebius", "x"), None);
        assert_eq!(
            providers_of(Task::Embeddings).collect::<Vec<_>>(),
            ["scaleway", "together", "deepinfra", "hf-inference"]
        );
    }
}
