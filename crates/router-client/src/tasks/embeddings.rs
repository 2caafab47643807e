//! The embeddings adapters: OpenAI's `POST /v1/embeddings` request, checked and turned
//! into each [`Wire`]'s request, and each wire's answer turned into OpenAI's answer
//! (`{object: "list", data: [{object: "embedding", index, embedding}], model, usage}`).
//!
//! Answers are converted without parsing their numbers when the client asked for floats:
//! the vectors' text is checked to hold only number characters and copied, so a
//! 64 × 1,024 `hf-inference` answer costs a scan and a copy. `base64` (little-endian
//! f32, as OpenAI sends it) parses them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::providers::Wire;
use crate::error::{ErrorKind, RouterError};

/// Most inputs in one request (OpenAI's limit).
pub const MAX_INPUTS: usize = 2048;

/// What to embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Texts (a single string is one text).
    Texts(Vec<String>),
    /// Token arrays (a single array of integers is one input).
    Tokens(Vec<Vec<u64>>),
}

/// How vectors are written in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// JSON arrays of numbers (the default).
    Float,
    /// Base64 of little-endian `f32`s.
    Base64,
}

/// A checked embeddings request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingsRequest {
    /// The inputs.
    pub input: Input,
    /// The answer's encoding.
    pub encoding: Encoding,
    /// Output dimensions, for models and providers that take them.
    pub dimensions: Option<u64>,
}

/// A request OpenAI's API would refuse (400 `invalid_request_error` on `param`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidRequest {
    /// The field at fault.
    pub param: &'static str,
    /// What to fix.
    pub message: String,
}

fn invalid(param: &'static str, message: impl Into<String>) -> InvalidRequest {
    InvalidRequest {
        param,
        message: message.into(),
    }
}

impl EmbeddingsRequest {
    /// Reads and checks OpenAI's fields (`input`, `encoding_format`, `dimensions`);
    /// `model` is the caller's, other fields are not forwarded.
    pub fn from_body(body: &Map<String, Value>) -> Result<EmbeddingsRequest, InvalidRequest> {
        const SHAPE: &str = "a string, an array of strings, or an array of token arrays";
        let input = match body.get("input") {
            None | Some(Value::Null) => {
                return Err(invalid("input", format!("`input` is required: {SHAPE}")));
            }
            Some(Value::String(text)) => {
                if text.is_empty() {
                    return Err(invalid("input", "`input` must not be an empty string"));
                }
                Input::Texts(vec![text.clone()])
            }
            Some(Value::Array(items)) => read_items(items)?,
            Some(_) => return Err(invalid("input", format!("`input` must be {SHAPE}"))),
        };
        let encoding = match body.get("encoding_format") {
            None | Some(Value::Null) => Encoding::Float,
            Some(Value::String(s)) if s == "float" => Encoding::Float,
            Some(Value::String(s)) if s == "base64" => Encoding::Base64,
            Some(_) => {
                return Err(invalid(
                    "encoding_format",
                    "`encoding_format` must be \"float\" or \"base64\"",
                ));
            }
        };
        let dimensions =
            match body.get("dimensions") {
                None | Some(Value::Null) => None,
                Some(value) => Some(value.as_u64().filter(|d| *d > 0).ok_or_else(|| {
                    invalid("dimensions", "`dimensions` must be a positive integer")
                })?),
            };
        Ok(EmbeddingsRequest {
            input,
            encoding,
            dimensions,
        })
    }

    /// How many vectors the answer holds.
    pub fn len(&self) -> usize {
        match &self.input {
            Input::Texts(texts) => texts.len(),
            Input::Tokens(tokens) => tokens.len(),
        }
    }

    /// Never true for a checked request; here for clippy's `len` rule.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Why `wire` cannot take this request, if it cannot.
    pub fn unsupported_by(&self, wire: Wire) -> Option<&'static str> {
        if matches!(self.input, Input::Tokens(_)) && !wire.takes_tokens() {
            return Some("token-array inputs");
        }
        if self.dimensions.is_some() && !wire.takes_dimensions() {
            return Some("`dimensions`");
        }
        None
    }

    /// The request body for `wire`, with the provider's model id.
    pub fn body_for(&self, wire: Wire, provider_id: &str) -> Bytes {
        let input = match &self.input {
            Input::Texts(texts) => json!(texts),
            Input::Tokens(tokens) => json!(tokens),
        };
        let body = match wire {
            Wire::OpenAiEmbeddings => {
                let mut body = json!({"input": input, "model": provider_id});
                if let Some(dimensions) = self.dimensions {
                    body["dimensions"] = json!(dimensions);
                }
                body
            }
            // A list even for one text, so the answer is always a list of vectors.
            Wire::HfFeatureExtraction => json!({"inputs": input}),
        };
        Bytes::from(body.to_string())
    }
}

fn read_items(items: &[Value]) -> Result<Input, InvalidRequest> {
    if items.is_empty() {
        return Err(invalid("input", "`input` must not be an empty array"));
    }
    if items.len() > MAX_INPUTS {
        return Err(invalid(
            "input",
            format!(
                "`input` holds {} items; at most {MAX_INPUTS} are allowed per request",
                items.len()
            ),
        ));
    }
    match &items[0] {
        Value::String(_) => {
            let mut texts = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(text) if !text.is_empty() => texts.push(text.clone()),
                    Value::String(_) => {
                        return Err(invalid("input", format!("`input[{i}]` is an empty string")));
                    }
                    _ => {
                        return Err(invalid(
                            "input",
                            format!(
                                "`input[{i}]` is not a string: an array of strings must hold only strings"
                            ),
                        ));
                    }
                }
            }
            Ok(Input::Texts(texts))
        }
        Value::Number(_) => Ok(Input::Tokens(vec![tokens(items, "input")?])),
        Value::Array(_) => {
            let mut all = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let Value::Array(inner) = item else {
                    return Err(invalid(
                        "input",
                        format!("`input[{i}]` is not a token array"),
                    ));
                };
                if inner.is_empty() {
                    return Err(invalid("input", format!("`input[{i}]` is an empty array")));
                }
                all.push(tokens(inner, "input")?);
            }
            Ok(Input::Tokens(all))
        }
        _ => Err(invalid(
            "input",
            "`input[0]` is not a string: `input` must be a string, an array of strings, or an array of token arrays",
        )),
    }
}

fn tokens(items: &[Value], param: &'static str) -> Result<Vec<u64>, InvalidRequest> {
    items
        .iter()
        .map(|v| {
            v.as_u64()
                .ok_or_else(|| invalid(param, "token arrays must hold non-negative integers"))
        })
        .collect()
}

/// Token counts a provider reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddingUsage {
    /// `usage.prompt_tokens`.
    pub prompt_tokens: u64,
    /// `usage.total_tokens` (the prompt tokens when absent).
    pub total_tokens: u64,
}

/// An answer in OpenAI's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// The body for the client.
    pub body: Vec<u8>,
    /// What the provider reported, if anything (`hf-inference` reports nothing).
    pub usage: Option<EmbeddingUsage>,
}

fn bad(message: impl Into<String>) -> RouterError {
    RouterError::new(ErrorKind::BadResponse, message)
}

/// Turns `wire`'s answer to `request` into OpenAI's answer naming `model`. An answer
/// that is not what the wire promises (not JSON, token-level vectors, a count that does
/// not match the inputs) is a `BadResponse`: the chain may try the next provider.
pub fn convert(
    wire: Wire,
    answer: &[u8],
    request: &EmbeddingsRequest,
    model: &str,
) -> Result<Converted, RouterError> {
    let (vectors, usage) = match wire {
        Wire::OpenAiEmbeddings => return convert_openai(answer, request, model),
        Wire::HfFeatureExtraction => (hf_vectors(answer).map_err(bad)?, None),
    };
    if vectors.len() != request.len() {
        return Err(bad(format!(
            "the provider answered {} vectors for {} inputs",
            vectors.len(),
            request.len()
        )));
    }
    let mut out = Vec::with_capacity(answer.len() + 64 * vectors.len() + 128);
    write_head(&mut out);
    for (index, vector) in vectors.into_iter().enumerate() {
        write_item(&mut out, index, Vector::Floats(vector), request.encoding)?;
    }
    write_tail(&mut out, model, usage);
    Ok(Converted { body: out, usage })
}

#[derive(Deserialize)]
struct OpenAiAnswer<'a> {
    #[serde(borrow)]
    data: Vec<OpenAiItem<'a>>,
    #[serde(default)]
    usage: Option<OpenAiUsage>,
}

#[derive(Deserialize)]
struct OpenAiItem<'a> {
    #[serde(borrow)]
    embedding: &'a RawValue,
    #[serde(default)]
    index: Option<usize>,
}

#[derive(Deserialize)]
struct OpenAiUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
}

fn convert_openai(
    answer: &[u8],
    request: &EmbeddingsRequest,
    model: &str,
) -> Result<Converted, RouterError> {
    let parsed: OpenAiAnswer<'_> = serde_json::from_slice(answer).map_err(|e| {
        bad(format!(
            "the provider's embeddings answer is not readable ({e})"
        ))
    })?;
    let n = request.len();
    if parsed.data.len() != n {
        return Err(bad(format!(
            "the provider answered {} vectors for {n} inputs",
            parsed.data.len()
        )));
    }
    let mut ordered: Vec<Option<&RawValue>> = vec![None; n];
    for (position, item) in parsed.data.iter().enumerate() {
        let index = item.index.unwrap_or(position);
        match ordered.get_mut(index) {
            Some(slot @ None) => *slot = Some(item.embedding),
            _ => {
                return Err(bad(format!(
                    "the provider's answer repeats or skips index {index}"
                )));
            }
        }
    }
    let usage = parsed.usage.and_then(|u| {
        let prompt = u.prompt_tokens.or(u.total_tokens)?;
        Some(EmbeddingUsage {
            prompt_tokens: prompt,
            total_tokens: u.total_tokens.unwrap_or(prompt),
        })
    });
    let mut out = Vec::with_capacity(answer.len() + 64 * n + 128);
    write_head(&mut out);
    for (index, raw) in ordered.into_iter().flatten().enumerate() {
        let text = raw.get().as_bytes();
        let vector = match text.first() {
            Some(b'[') if only_numbers(&text[1..text.len() - 1]) => Vector::Floats(text),
            Some(b'"') => Vector::Base64(
                serde_json::from_str::<String>(raw.get())
                    .map_err(|_| bad("an embedding is not a base64 string"))?,
            ),
            _ => return Err(bad("an embedding is neither numbers nor base64")),
        };
        write_item(&mut out, index, vector, request.encoding)?;
    }
    write_tail(&mut out, model, usage);
    Ok(Converted { body: out, usage })
}

enum Vector<'a> {
    /// `[n, n, …]` as sent.
    Floats(&'a [u8]),
    /// Base64 of little-endian f32s as sent.
    Base64(String),
}

fn write_head(out: &mut Vec<u8>) {
    out.extend_from_slice(br#"{"object":"list","data":["#);
}

fn write_item(
    out: &mut Vec<u8>,
    index: usize,
    vector: Vector<'_>,
    encoding: Encoding,
) -> Result<(), RouterError> {
    if index > 0 {
        out.push(b',');
    }
    out.extend_from_slice(br#"{"object":"embedding","index":"#);
    out.extend_from_slice(index.to_string().as_bytes());
    out.extend_from_slice(br#","embedding":"#);
    match (vector, encoding) {
        (Vector::Floats(text), Encoding::Float) => out.extend_from_slice(text),
        (Vector::Floats(text), Encoding::Base64) => {
            let mut bytes = Vec::with_capacity(text.len() / 2);
            for number in text[1..text.len() - 1].split(|b| *b == b',') {
                let number = std::str::from_utf8(number)
                    .ok()
                    .map(str::trim)
                    .and_then(|n| n.parse::<f32>().ok())
                    .ok_or_else(|| bad("an embedding holds something that is not a number"))?;
                bytes.extend_from_slice(&number.to_le_bytes());
            }
            out.push(b'"');
            out.extend_from_slice(STANDARD.encode(&bytes).as_bytes());
            out.push(b'"');
        }
        (Vector::Base64(text), Encoding::Base64) => {
            out.extend_from_slice(json!(text).to_string().as_bytes());
        }
        (Vector::Base64(text), Encoding::Float) => {
            let bytes = STANDARD
                .decode(text.as_bytes())
                .map_err(|_| bad("an embedding is not valid base64"))?;
            let floats: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            out.extend_from_slice(json!(floats).to_string().as_bytes());
        }
    }
    out.push(b'}');
    Ok(())
}

fn write_tail(out: &mut Vec<u8>, model: &str, usage: Option<EmbeddingUsage>) {
    // Clients' SDKs expect `usage`; unknown counts are written as 0 here and recorded as
    // unknown by the caller (it has `Converted::usage`).
    let usage = usage.unwrap_or(EmbeddingUsage {
        prompt_tokens: 0,
        total_tokens: 0,
    });
    out.extend_from_slice(br#"],"model":"#);
    out.extend_from_slice(Value::from(model).to_string().as_bytes());
    out.extend_from_slice(
        format!(
            r#","usage":{{"prompt_tokens":{},"total_tokens":{}}}}}"#,
            usage.prompt_tokens, usage.total_tokens
        )
        .as_bytes(),
    );
}

/// Bytes that may appear between the brackets of a vector of JSON numbers.
const NUMBER_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let allowed = b"0123456789+-.eE, \t\r\n";
    let mut i = 0;
    while i < allowed.len() {
        table[allowed[i] as usize] = true;
        i += 1;
    }
    table
};

/// True when `text` holds at least one digit and nothing but number characters,
/// commas and whitespace (no `NaN`, strings or nesting).
fn only_numbers(text: &[u8]) -> bool {
    // A fold without early exit: the loop is branch-free and runs at memory speed.
    let ok = text
        .iter()
        .fold(true, |ok, &b| ok & NUMBER_BYTES[b as usize]);
    ok && text.iter().any(u8::is_ascii_digit)
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// The vectors of an `hf-inference` answer, `[[n, …], …]` (or `[n, …]`, one vector),
/// as the text of each vector, brackets included.
fn hf_vectors(body: &[u8]) -> Result<Vec<&[u8]>, String> {
    let body = trim(body);
    let inner = body
        .strip_prefix(b"[")
        .and_then(|b| b.strip_suffix(b"]"))
        .ok_or_else(|| "the provider's answer is not a JSON array of vectors".to_owned())?;
    if trim(inner).first() != Some(&b'[') {
        return if only_numbers(inner) {
            Ok(vec![body])
        } else {
            Err("the provider's answer is not an array of numbers".to_owned())
        };
    }
    let mut vectors = Vec::new();
    let mut rest = inner;
    loop {
        rest = rest.trim_ascii_start();
        if rest.first() != Some(&b'[') {
            return Err("the provider's answer is not an array of vectors".to_owned());
        }
        let close = memchr::memchr(b']', rest)
            .ok_or_else(|| "the provider's answer ends inside a vector".to_owned())?;
        let numbers = &rest[1..close];
        if memchr::memchr(b'[', numbers).is_some() {
            return Err(
                "the model answers one vector per token, not one per input (it has no sentence \
                 pooling): pick a sentence-embedding model"
                    .to_owned(),
            );
        }
        if !only_numbers(numbers) {
            return Err(
                "a vector of the provider's answer holds something that is not a number".to_owned(),
            );
        }
        vectors.push(&rest[..=close]);
        rest = rest[close + 1..].trim_ascii_start();
        match rest.first() {
            None => return Ok(vectors),
            Some(b',') => rest = &rest[1..],
            Some(_) => return Err("the provider's answer is not an array of vectors".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn request(body: Value) -> Result<EmbeddingsRequest, InvalidRequest> {
        EmbeddingsRequest::from_body(body.as_object().unwrap())
    }

    fn texts(n: usize) -> EmbeddingsRequest {
        EmbeddingsRequest {
            input: Input::Texts(vec!["x".to_owned(); n]),
            encoding: Encoding::Float,
            dimensions: None,
        }
    }

    #[test]
    fn inputs_are_checked_like_openai() {
        let ok = request(json!({"input": "hi"})).unwrap();
        assert_eq!(ok.input, Input::Texts(vec!["hi".to_owned()]));
        assert_eq!(
            request(json!({"input": [1, 2]})).unwrap().input,
            Input::Tokens(vec![vec![1, 2]])
        );
        assert_eq!(
            request(json!({"input": [[1], [2, 3]]})).unwrap().input,
            Input::Tokens(vec![vec![1], vec![2, 3]])
        );
        let param = |body: Value| request(body).unwrap_err().param;
        assert_eq!(param(json!({})), "input");
        assert_eq!(param(json!({"input": ""})), "input");
        assert_eq!(param(json!({"input": []})), "input");
        assert_eq!(param(json!({"input": ["a", 3]})), "input");
        assert_eq!(param(json!({"input": ["a", ""]})), "input");
        assert_eq!(param(json!({"input": {"a": 1}})), "input");
        assert_eq!(param(json!({"input": [[1], "a"]})), "input");
        assert_eq!(param(json!({"input": vec!["a"; 2049]})), "input");
        assert!(request(json!({"input": vec!["a"; 2048]})).is_ok());
        assert_eq!(
            param(json!({"input": "a", "encoding_format": "int8"})),
            "encoding_format"
        );
        assert_eq!(param(json!({"input": "a", "dimensions": 0})), "dimensions");
        let message = request(json!({"input": ["a", 3]})).unwrap_err().message;
        assert!(message.contains("`input[1]` is not a string"), "{message}");
    }

    #[test]
    fn bodies_follow_each_wire() {
        let mut r = request(json!({"input": "hi", "dimensions": 256, "user": "u"})).unwrap();
        assert_eq!(
            r.body_for(Wire::OpenAiEmbeddings, "bge-m3"),
            r#"{"input":["hi"],"model":"bge-m3","dimensions":256}"#
        );
        assert_eq!(
            r.unsupported_by(Wire::HfFeatureExtraction),
            Some("`dimensions`")
        );
        r.dimensions = None;
        assert_eq!(r.unsupported_by(Wire::HfFeatureExtraction), None);
        assert_eq!(
            r.body_for(Wire::HfFeatureExtraction, "BAAI/bge-m3"),
            r#"{"inputs":["hi"]}"#
        );
        let tokens = request(json!({"input": [[1, 2]]})).unwrap();
        assert_eq!(
            tokens.unsupported_by(Wire::HfFeatureExtraction),
            Some("token-array inputs")
        );
    }

    #[test]
    fn hf_inference_arrays_become_openai_embeddings() {
        let answer = b"[[0.25, -1.5e-3],\n [1,2]]";
        let out = convert(Wire::HfFeatureExtraction, answer, &texts(2), "BAAI/bge-m3").unwrap();
        assert_eq!(out.usage, None);
        let value: Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(
            value,
            json!({"object": "list", "data": [
                {"object": "embedding", "index": 0, "embedding": [0.25, -1.5e-3]},
                {"object": "embedding", "index": 1, "embedding": [1, 2]}],
                "model": "BAAI/bge-m3", "usage": {"prompt_tokens": 0, "total_tokens": 0}})
        );
        // One text answered with one flat vector (older pipelines).
        let flat = convert(Wire::HfFeatureExtraction, b"[1.0,2.0]", &texts(1), "m").unwrap();
        let value: Value = serde_json::from_slice(&flat.body).unwrap();
        assert_eq!(value["data"][0]["embedding"], json!([1.0, 2.0]));
    }

    #[test]
    fn hf_inference_answers_that_are_not_sentence_vectors_are_bad_responses() {
        let kind = |answer: &[u8], n| {
            convert(Wire::HfFeatureExtraction, answer, &texts(n), "m")
                .unwrap_err()
                .kind
        };
        // facebook/bart-base: one vector per token (recorded shape 1×T×768).
        assert_eq!(kind(b"[[[1,2],[3,4]]]", 1), ErrorKind::BadResponse);
        assert_eq!(kind(b"[[1,2]]", 2), ErrorKind::BadResponse);
        assert_eq!(kind(b"[[1,NaN]]", 1), ErrorKind::BadResponse);
        assert_eq!(kind(br#"{"error":"x"}"#, 1), ErrorKind::BadResponse);
        assert_eq!(kind(b"[[1,2]", 1), ErrorKind::BadResponse);
        assert_eq!(kind(b"[[1,2] x]", 1), ErrorKind::BadResponse);
    }

    #[test]
    fn openai_answers_are_reordered_and_keep_their_usage() {
        // Recorded shape (sambanova's answer in huggingface.js' tapes, trimmed).
        let answer = br#"{"data":[{"embedding":[0.5,0.25],"index":1,"object":"embedding"},{"embedding":[0.125,1],"index":0,"object":"embedding"}],"model":"E5","object":"list","usage":{"prompt_tokens":16,"total_tokens":16}}"#;
        let out = convert(Wire::OpenAiEmbeddings, answer, &texts(2), "intfloat/e5").unwrap();
        assert_eq!(
            out.usage,
            Some(EmbeddingUsage {
                prompt_tokens: 16,
                total_tokens: 16
            })
        );
        let value: Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(value["data"][0]["embedding"], json!([0.125, 1]));
        assert_eq!(value["data"][1]["index"], 1);
        assert_eq!(value["model"], "intfloat/e5");
        let short = convert(Wire::OpenAiEmbeddings, answer, &texts(3), "m").unwrap_err();
        assert_eq!(short.kind, ErrorKind::BadResponse);
    }

    #[test]
    fn base64_is_little_endian_f32_both_ways() {
        let mut r = texts(1);
        r.encoding = Encoding::Base64;
        let out = convert(Wire::HfFeatureExtraction, b"[[1.0, -2.5]]", &r, "m").unwrap();
        let value: Value = serde_json::from_slice(&out.body).unwrap();
        let encoded = value["data"][0]["embedding"].as_str().unwrap();
        let bytes = STANDARD.decode(encoded).unwrap();
        let floats: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(floats, [1.0, -2.5]);
        // A provider that sent base64 to a float request is decoded.
        let answer = format!(r#"{{"data":[{{"embedding":"{encoded}"}}]}}"#);
        let out = convert(Wire::OpenAiEmbeddings, answer.as_bytes(), &texts(1), "m").unwrap();
        let value: Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(value["data"][0]["embedding"], json!([1.0, -2.5]));
    }
}
