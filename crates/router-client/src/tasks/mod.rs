//! Inference tasks other than chat, as data: which Hub mapping serves a model, which
//! providers the router reaches for a task and how each one is spoken to.
//!
//! The router routes chat by policy on `/v1`; every other task is routed by the client
//! (as `huggingface.js` and `huggingface_hub` do): read the model's
//! `inferenceProviderMapping` from the Hub ([`mapping`], cached by [`MappingCache`]), pick
//! a live provider that has an adapter for the task ([`providers::TASK_PROVIDERS`], one
//! row per provider and task), and call it through the router under its own prefix,
//! `{router root}/{provider}/…`, with the provider's own model id. A row names the path
//! and the [`providers::Wire`] (request and response shape); [`embeddings`] holds the
//! adapters of the embeddings wires. Image generation and speech join by adding a
//! [`Task`], rows and wires, not a second mechanism.

pub mod cache;
pub mod embeddings;
mod http;
pub mod listing;
pub mod mapping;
pub mod providers;

pub use cache::MappingCache;
pub use mapping::{MappingStatus, NoRoute, ProviderMapping, Route, routes};
pub use providers::{TASK_PROVIDERS, TaskProvider, Wire};

/// A task the router serves through provider mappings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    /// Text embeddings (OpenAI's `POST /v1/embeddings`; the Hub's `feature-extraction`).
    Embeddings,
}

impl Task {
    /// The name users see (`--task embeddings`, the ledger's `api`).
    pub fn label(self) -> &'static str {
        match self {
            Task::Embeddings => "embeddings",
        }
    }

    /// The Hub's pipeline tag for the task (the list endpoint's `pipeline_tag` filter).
    pub fn pipeline_tag(self) -> &'static str {
        match self {
            Task::Embeddings => "feature-extraction",
        }
    }

    /// Reads a `--task` value (`embeddings`, or the Hub's `feature-extraction`).
    pub fn parse(text: &str) -> Option<Task> {
        match text.trim().to_ascii_lowercase().as_str() {
            "embeddings" | "embedding" | "feature-extraction" => Some(Task::Embeddings),
            _ => None,
        }
    }
}
