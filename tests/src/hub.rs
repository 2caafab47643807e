//! The fake router's Hub mapping endpoints and provider paths, for embeddings.
//!
//! - `GET /api/models/{org}/{model}?expand[]=inferenceProviderMapping`: the dict shape
//!   (`{provider: {providerId, status, task}}`), 404 `Repository not found` for models
//!   not set up;
//! - `GET /api/models?…&expand[]=inferenceProviderMapping`: the list shape, one entry per
//!   model set up (or a scripted reply);
//! - the providers' own paths, written here independently of hfclaw's table:
//!   `/scaleway/v1/embeddings`, `/together/v1/embeddings`, `/deepinfra/v1/openai/embeddings`
//!   (OpenAI's shape, as sambanova's recorded answer in huggingface.js' tapes) and
//!   `/hf-inference/models/{id}/pipeline/feature-extraction` (raw arrays: a flat vector for
//!   a string input, a list of vectors for a list, as recorded there). Scripted replies
//!   ([`crate::FakeRouter::on`] with the path and the provider's model id, `""` for
//!   hf-inference) win over the computed answer.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::Reply;

/// One provider's mapping of a model.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// `together`, `hf-inference` …
    pub provider: String,
    /// The model's id there.
    pub provider_id: String,
    /// `live`, `staging`, `error`.
    pub status: String,
    /// `feature-extraction`, `sentence-similarity`, `conversational` …
    pub task: String,
}

impl Mapping {
    /// A live `feature-extraction` mapping.
    pub fn live(provider: &str, provider_id: &str) -> Mapping {
        Mapping::new(provider, provider_id, "live", "feature-extraction")
    }

    /// Any mapping.
    pub fn new(provider: &str, provider_id: &str, status: &str, task: &str) -> Mapping {
        Mapping {
            provider: provider.to_owned(),
            provider_id: provider_id.to_owned(),
            status: status.to_owned(),
            task: task.to_owned(),
        }
    }
}

/// What the fake Hub knows.
#[derive(Debug, Default)]
pub struct HubScript {
    /// Mappings per Hub model id.
    pub models: BTreeMap<String, Vec<Mapping>>,
    /// Vector size per Hub model id.
    pub dims: BTreeMap<String, usize>,
    /// A scripted answer to the list endpoint (else built from `models`).
    pub list: Option<Reply>,
}

/// The path a provider serves embeddings on.
pub fn provider_path(provider: &str, provider_id: &str) -> Option<String> {
    Some(match provider {
        "scaleway" => "/scaleway/v1/embeddings".to_owned(),
        "together" => "/together/v1/embeddings".to_owned(),
        "deepinfra" => "/deepinfra/v1/openai/embeddings".to_owned(),
        "hf-inference" => format!("/hf-inference/models/{provider_id}/pipeline/feature-extraction"),
        _ => return None,
    })
}

impl HubScript {
    /// `GET /api/models/{id}`.
    pub fn model_reply(&self, id: &str) -> Reply {
        match self.models.get(id) {
            Some(mappings) => {
                let mapping: serde_json::Map<String, Value> = mappings
                    .iter()
                    .map(|m| {
                        (
                            m.provider.clone(),
                            json!({"status": m.status, "providerId": m.provider_id, "task": m.task}),
                        )
                    })
                    .collect();
                let body = json!({"_id": "fake", "id": id, "inferenceProviderMapping": mapping});
                Reply::json(200, body.to_string())
                    .with_header("etag", &format!("W/\"{}\"", mappings.len()))
            }
            None => Reply::json(404, r#"{"error":"Repository not found"}"#),
        }
    }

    /// `GET /api/models?…`.
    pub fn list_reply(&self) -> Reply {
        if let Some(reply) = &self.list {
            return reply.clone();
        }
        let models: Vec<Value> = self
            .models
            .iter()
            .map(|(id, mappings)| {
                let list: Vec<Value> = mappings
                    .iter()
                    .map(|m| {
                        json!({"provider": m.provider, "providerId": m.provider_id,
                        "status": m.status, "task": m.task})
                    })
                    .collect();
                json!({"_id": "fake", "id": id, "pipeline_tag": "feature-extraction",
                    "likes": 10, "downloads": 1000, "inferenceProviderMapping": list})
            })
            .collect();
        Reply::json(200, Value::Array(models).to_string())
    }

    /// The computed answer of a provider path, if the request is for a model set up here.
    pub fn provider_reply(&self, path: &str, body: &Value) -> Option<Reply> {
        for (id, mappings) in &self.models {
            for m in mappings {
                if provider_path(&m.provider, &m.provider_id).as_deref() != Some(path) {
                    continue;
                }
                let dims = self.dims.get(id).copied().unwrap_or(8);
                if m.provider == "hf-inference" {
                    return Some(hf_answer(body, dims).via("hf-inference"));
                }
                if body.get("model").and_then(Value::as_str) == Some(m.provider_id.as_str()) {
                    return Some(openai_answer(body, &m.provider_id, dims).via(&m.provider));
                }
            }
        }
        None
    }
}

/// The texts of a request (`input` or `inputs`), each token array as its numbers joined.
fn texts(value: Option<&Value>) -> (Vec<String>, bool) {
    match value {
        Some(Value::String(s)) => (vec![s.clone()], true),
        Some(Value::Array(items)) if items.iter().all(Value::is_number) => {
            (vec![Value::Array(items.clone()).to_string()], false)
        }
        Some(Value::Array(items)) => (
            items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect(),
            false,
        ),
        _ => (Vec::new(), false),
    }
}

/// A deterministic vector for `text`: the same text always embeds the same, and texts
/// that share words lie close (a bag of its words of 4+ letters, each hashed to a signed
/// axis, plus a little noise from the whole text so that no two texts embed alike), so a
/// real client's similarity search finds the document that shares the query's words.
pub fn vector(text: &str, dims: usize) -> Vec<f64> {
    let mut sum = vec![0.0f64; dims];
    let words = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4);
    for word in words {
        let hash = fnv1a(&word.to_lowercase());
        let axis = (hash % dims.max(1) as u64) as usize;
        if let Some(x) = sum.get_mut(axis) {
            *x += if hash >> 63 == 0 { 1.0 } else { -1.0 };
        }
    }
    let norm = sum.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut seed = fnv1a(text);
    (0..dims)
        .map(|i| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407 + i as u64);
            let noise = f64::from(((seed >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0);
            let word = if norm > 0.0 { sum[i] / norm } else { 0.0 };
            // Real answers carry f32s printed as f64s: -0.14440970122814178.
            f64::from((word + noise * 0.1) as f32)
        })
        .collect()
}

/// FNV-1a, 64 bits.
fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn openai_answer(body: &Value, provider_id: &str, dims: usize) -> Reply {
    let (texts, _) = texts(body.get("input"));
    let dims = body
        .get("dimensions")
        .and_then(Value::as_u64)
        .map_or(dims, |d| d as usize);
    let tokens: usize = texts.iter().map(|t| t.split_whitespace().count() + 1).sum();
    let data: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"embedding": vector(t, dims), "index": i, "object": "embedding"}))
        .collect();
    let answer = json!({"data": data, "model": provider_id, "object": "list",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}});
    Reply::json(200, answer.to_string())
}

fn hf_answer(body: &Value, dims: usize) -> Reply {
    let (texts, single) = texts(body.get("inputs"));
    let answer = if single {
        json!(vector(&texts[0], dims))
    } else {
        json!(texts.iter().map(|t| vector(t, dims)).collect::<Vec<_>>())
    };
    Reply::json(200, answer.to_string())
}
