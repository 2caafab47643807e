//! The Hub's `inferenceProviderMapping`: which providers serve a model, under which of
//! their own ids, for which task and in which state, and the routes a task can take
//! through them.
//!
//! `GET {hub}/api/models/{id}?expand[]=inferenceProviderMapping` gives a dict
//! `{provider: {providerId, status, task, …}}`; the list endpoint gives a list of
//! `{provider, providerId, status, task, …}` (huggingface_hub's `ModelInfo` and
//! huggingface.js' `normalizeInferenceProviderMapping` read both; so does this).

use serde::Deserialize;
use serde_json::Value;

use super::Task;
use super::providers::{TaskProvider, task_provider};

/// Whether a provider serves a mapping now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingStatus {
    /// In service.
    Live,
    /// Being set up (test use only).
    Staging,
    /// Failing.
    Error,
    /// A status this version does not know.
    Other(String),
}

impl MappingStatus {
    fn parse(text: &str) -> MappingStatus {
        match text {
            "live" => MappingStatus::Live,
            "staging" => MappingStatus::Staging,
            "error" => MappingStatus::Error,
            other => MappingStatus::Other(other.to_owned()),
        }
    }

    /// The Hub's word for it.
    pub fn as_str(&self) -> &str {
        match self {
            MappingStatus::Live => "live",
            MappingStatus::Staging => "staging",
            MappingStatus::Error => "error",
            MappingStatus::Other(other) => other,
        }
    }
}

/// One provider's mapping of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMapping {
    /// The provider (`together`, `hf-inference`).
    pub provider: String,
    /// The model's id at the provider (sent as `model`, or in `hf-inference`'s path).
    pub provider_id: String,
    /// Its state.
    pub status: MappingStatus,
    /// The Hub task it serves (`feature-extraction`, `conversational`, …).
    pub task: String,
}

/// The Hub's answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Hub's provider mapping is not readable: {0}")]
pub struct MappingError(pub String);

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    provider: Option<String>,
    #[serde(rename = "providerId", default)]
    provider_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    task: Option<String>,
}

fn mapping(provider: Option<String>, entry: Entry) -> Option<ProviderMapping> {
    let provider = provider.or(entry.provider)?;
    let provider_id = entry.provider_id.filter(|id| !id.trim().is_empty())?;
    Some(ProviderMapping {
        provider,
        provider_id,
        status: MappingStatus::parse(entry.status.as_deref().unwrap_or("")),
        task: entry.task.unwrap_or_default(),
    })
}

/// Reads an `inferenceProviderMapping` value, dict or list; malformed entries are
/// skipped, `null` or absent is no mapping.
pub fn read_mapping(value: Option<&Value>) -> Vec<ProviderMapping> {
    match value {
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(provider, entry)| {
                let entry = Entry::deserialize(entry).ok()?;
                mapping(Some(provider.clone()), entry)
            })
            .collect(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|entry| mapping(None, Entry::deserialize(entry).ok()?))
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads `GET {hub}/api/models/{id}?expand[]=inferenceProviderMapping`.
pub fn parse_model_mapping(body: &[u8]) -> Result<Vec<ProviderMapping>, MappingError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| MappingError(format!("not JSON ({e})")))?;
    if !value.is_object() {
        return Err(MappingError("not a JSON object".to_owned()));
    }
    Ok(read_mapping(value.get("inferenceProviderMapping")))
}

/// One model of the Hub's list endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubModel {
    /// `org/model`.
    pub id: String,
    /// The Hub's pipeline tag.
    pub pipeline_tag: Option<String>,
    /// Its provider mappings.
    pub mappings: Vec<ProviderMapping>,
}

/// Reads `GET {hub}/api/models?…&expand[]=inferenceProviderMapping` (a JSON array);
/// entries without an id are skipped.
pub fn parse_model_list(body: &[u8]) -> Result<Vec<HubModel>, MappingError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| MappingError(format!("not JSON ({e})")))?;
    let Value::Array(items) = value else {
        return Err(MappingError("not a JSON array".to_owned()));
    };
    Ok(items
        .iter()
        .filter_map(|item| {
            let id = item.get("id").or_else(|| item.get("modelId"))?.as_str()?;
            Some(HubModel {
                id: id.to_owned(),
                pipeline_tag: item
                    .get("pipeline_tag")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                mappings: read_mapping(item.get("inferenceProviderMapping")),
            })
        })
        .collect())
}

/// A way to serve a task: a provider hfclaw can call and the model's id there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The provider's row.
    pub provider: &'static TaskProvider,
    /// The model's id at the provider.
    pub provider_id: String,
}

/// No provider hfclaw can call serves the task for the model: what does serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRoute {
    /// The task asked for.
    pub task: Task,
    /// The pinned provider, if any.
    pub pinned: Option<String>,
    /// Every mapping of the model: `(provider, task, status)`.
    pub served: Vec<(String, String, String)>,
}

impl NoRoute {
    /// What serves the model, for an error message: `together (conversational, live),
    /// hf-inference (feature-extraction, error)`, or `no inference provider`.
    pub fn served_text(&self) -> String {
        if self.served.is_empty() {
            return "no inference provider".to_owned();
        }
        self.served
            .iter()
            .map(|(provider, task, status)| format!("{provider} ({task}, {status})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The routes for `task` through `mappings`: live mappings of a task a provider row
/// serves, OpenAI-shaped providers first in the Hub's order, converted ones
/// (`hf-inference`) last; only `pinned` when a provider is pinned.
pub fn routes(
    task: Task,
    mappings: &[ProviderMapping],
    pinned: Option<&str>,
) -> Result<Vec<Route>, NoRoute> {
    let mut routes: Vec<Route> = mappings
        .iter()
        .filter(|m| m.status == MappingStatus::Live)
        .filter(|m| pinned.is_none_or(|p| p.eq_ignore_ascii_case(&m.provider)))
        .filter_map(|m| {
            let provider = task_provider(task, &m.provider)?;
            provider
                .mapping_tasks
                .contains(&m.task.as_str())
                .then(|| Route {
                    provider,
                    provider_id: m.provider_id.clone(),
                })
        })
        .collect();
    // Stable: the Hub's order holds within each group.
    routes.sort_by_key(|r| r.provider.converted());
    if routes.is_empty() {
        return Err(NoRoute {
            task,
            pinned: pinned.map(str::to_owned),
            served: mappings
                .iter()
                .map(|m| {
                    (
                        m.provider.clone(),
                        m.task.clone(),
                        m.status.as_str().to_owned(),
                    )
                })
                .collect(),
        });
    }
    Ok(routes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const MODEL: &str = r#"{"_id":"1","id":"BAAI/bge-m3","inferenceProviderMapping":{
        "hf-inference":{"status":"live","providerId":"BAAI/bge-m3","task":"feature-extraction"},
        "deepinfra":{"status":"live","providerId":"BAAI/bge-m3","task":"feature-extraction"},
        "nebius":{"status":"live","providerId":"BAAI/bge-m3","task":"feature-extraction"},
        "together":{"status":"error","providerId":"BAAI/bge-m3","task":"feature-extraction"},
        "scaleway":{"status":"live","providerId":"bge-m3","task":"feature-extraction"}}}"#;

    fn names(routes: &[Route]) -> Vec<(&str, &str)> {
        routes
            .iter()
            .map(|r| (r.provider.provider, r.provider_id.as_str()))
            .collect()
    }

    #[test]
    fn routes_put_openai_shaped_providers_first_and_skip_dead_or_unknown_ones() {
        let mappings = parse_model_mapping(MODEL.as_bytes()).unwrap();
        assert_eq!(mappings.len(), 5);
        let routes = routes(Task::Embeddings, &mappings, None).unwrap();
        assert_eq!(
            names(&routes),
            [
                ("deepinfra", "BAAI/bge-m3"),
                ("scaleway", "bge-m3"),
                ("hf-inference", "BAAI/bge-m3")
            ]
        );
    }

    #[test]
    fn a_pin_keeps_only_its_provider() {
        let mappings = parse_model_mapping(MODEL.as_bytes()).unwrap();
        let routes = routes(Task::Embeddings, &mappings, Some("hf-inference")).unwrap();
        assert_eq!(names(&routes), [("hf-inference", "BAAI/bge-m3")]);
        let none = super::routes(Task::Embeddings, &mappings, Some("together")).unwrap_err();
        assert!(
            none.served_text()
                .contains("together (feature-extraction, error)")
        );
    }

    #[test]
    fn sentence_similarity_counts_on_hf_inference_only() {
        let list = r#"[{"id":"a/b","pipeline_tag":"sentence-similarity","inferenceProviderMapping":[
            {"provider":"hf-inference","providerId":"a/b","status":"live","task":"sentence-similarity"},
            {"provider":"together","providerId":"a-b","status":"live","task":"sentence-similarity"}]},
            {"no":"id"}]"#;
        let models = parse_model_list(list.as_bytes()).unwrap();
        assert_eq!(models.len(), 1);
        let routes = routes(Task::Embeddings, &models[0].mappings, None).unwrap();
        assert_eq!(names(&routes), [("hf-inference", "a/b")]);
    }

    #[test]
    fn a_chat_model_has_no_embeddings_route_and_says_what_serves_it() {
        let body = r#"{"id":"x/chat","inferenceProviderMapping":{
            "together":{"status":"live","providerId":"x/chat","task":"conversational"}}}"#;
        let mappings = parse_model_mapping(body.as_bytes()).unwrap();
        let none = routes(Task::Embeddings, &mappings, None).unwrap_err();
        assert_eq!(none.served_text(), "together (conversational, live)");
        let none = routes(Task::Embeddings, &[], None).unwrap_err();
        assert_eq!(none.served_text(), "no inference provider");
        assert!(parse_model_mapping(b"[1]").is_err());
        assert_eq!(
            parse_model_mapping(br#"{"id":"x","inferenceProviderMapping":null}"#).unwrap(),
            []
        );
    }
}
