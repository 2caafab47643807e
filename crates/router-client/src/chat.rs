//! Chat completion request and response types (OpenAI schema, as the router speaks it).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ErrorKind, RouterError};
use crate::sse::{ChatEvent, LooseStr, LooseUsage, MessageText};

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// A string, or OpenAI content parts (text, image_url …).
    pub content: Value,
}

impl Message {
    /// A message with a text content.
    pub fn text(role: impl Into<String>, content: impl Into<String>) -> Message {
        Message {
            role: role.into(),
            content: Value::String(content.into()),
        }
    }

    /// A `system` message.
    pub fn system(content: impl Into<String>) -> Message {
        Message::text("system", content)
    }

    /// A `user` message.
    pub fn user(content: impl Into<String>) -> Message {
        Message::text("user", content)
    }

    /// An `assistant` message.
    pub fn assistant(content: impl Into<String>) -> Message {
        Message::text("assistant", content)
    }
}

/// A `POST /chat/completions` request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    /// The router model id (`org/model[:suffix]`, without `huggingface/`).
    pub model: String,
    /// The conversation.
    pub messages: Vec<Message>,
    /// `max_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// `temperature`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Any other OpenAI parameter, carried through as is (`stream` is set by the method).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// A request for `model` with `messages` and no parameters.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            messages,
            max_tokens: None,
            temperature: None,
            extra: Map::new(),
        }
    }

    /// The same request for another model (for fallbacks).
    pub fn with_model(&self, model: impl Into<String>) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            ..self.clone()
        }
    }

    /// The JSON body, streaming or not: `stream` is forced, and a streaming body asks for
    /// usage (`stream_options.include_usage: true`, other stream options kept).
    pub fn to_body(&self, stream: bool) -> Value {
        let mut body = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        prepare_body(&mut body, stream);
        Value::Object(body)
    }
}

/// Sets `stream` (and `stream_options.include_usage` when streaming) on a raw body.
pub fn prepare_body(body: &mut Map<String, Value>, stream: bool) {
    body.insert("stream".to_owned(), Value::Bool(stream));
    if stream {
        let options = body
            .entry("stream_options")
            .or_insert_with(|| Value::Object(Map::new()));
        if !options.is_object() {
            *options = Value::Object(Map::new());
        }
        if let Value::Object(options) = options {
            options.insert("include_usage".to_owned(), Value::Bool(true));
        }
    } else {
        body.remove("stream_options");
    }
}

/// Token counts of one completion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Output tokens (reasoning included).
    pub completion_tokens: u64,
    /// Their sum (as reported, else computed).
    pub total_tokens: u64,
}

/// A non-streaming chat completion, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    /// The completion id.
    pub id: Option<String>,
    /// The model the router reports (may name the provider's id).
    pub model: Option<String>,
    /// The answer text of the first choice (empty when the model sent none).
    pub content: String,
    /// Reasoning text (`reasoning_content`, else `reasoning`), when sent.
    pub reasoning: Option<String>,
    /// `finish_reason` of the first choice.
    pub finish_reason: Option<String>,
    /// Token usage, when sent.
    pub usage: Option<Usage>,
    /// The provider that served it (the router's `x-inference-provider`), if named.
    pub provider: Option<String>,
    /// The whole answer as received, for fields this crate does not surface.
    pub raw: Value,
}

impl ChatResponse {
    /// Decodes a 2xx body; an `{"error": …}` body is returned as the error it reports.
    pub fn from_body(body: &[u8]) -> Result<ChatResponse, RouterError> {
        let raw: Value = serde_json::from_slice(body).map_err(|e| {
            RouterError::new(
                ErrorKind::BadResponse,
                format!("the chat answer is not JSON ({e})"),
            )
        })?;
        if raw.get("error").is_some_and(|e| !e.is_null()) {
            return Err(RouterError::from_error_event(&raw));
        }
        #[derive(Deserialize)]
        struct Body<'a> {
            #[serde(default, borrow)]
            id: LooseStr<'a>,
            #[serde(default, borrow)]
            model: LooseStr<'a>,
            #[serde(default, borrow)]
            choices: Option<Vec<Choice<'a>>>,
            #[serde(default)]
            usage: Option<LooseUsage>,
        }
        #[derive(Deserialize)]
        struct Choice<'a> {
            #[serde(default, borrow)]
            message: Option<MessageText<'a>>,
            #[serde(default, borrow)]
            finish_reason: LooseStr<'a>,
        }
        let parsed: Body<'_> = serde_json::from_slice(body).map_err(|e| {
            RouterError::new(
                ErrorKind::BadResponse,
                format!("the chat answer has an unexpected shape ({e})"),
            )
        })?;
        let Some(choice) = parsed.choices.and_then(|c| c.into_iter().next()) else {
            return Err(RouterError::new(
                ErrorKind::BadResponse,
                "the chat answer has no choices",
            ));
        };
        let (content, reasoning) = match choice.message {
            Some(mut m) => {
                let reasoning = m.take_reasoning().map(Cow::into_owned);
                (
                    m.content.0.map(Cow::into_owned).unwrap_or_default(),
                    reasoning,
                )
            }
            None => (String::new(), None),
        };
        Ok(ChatResponse {
            id: parsed.id.0.map(|s| s.into_owned()),
            model: parsed.model.0.map(|s| s.into_owned()),
            content,
            reasoning,
            finish_reason: choice.finish_reason.0.map(|s| s.into_owned()),
            usage: parsed.usage.map(LooseUsage::into_usage),
            provider: None,
            raw,
        })
    }

    /// The same answer as stream events (for servers that ignore `stream: true`).
    pub fn into_events(self) -> Vec<ChatEvent> {
        let mut out = Vec::new();
        if let Some(reasoning) = self.reasoning {
            out.push(ChatEvent::Reasoning(reasoning));
        }
        if !self.content.is_empty() {
            out.push(ChatEvent::Content(self.content));
        }
        if let Some(reason) = self.finish_reason {
            out.push(ChatEvent::Finish(reason));
        }
        if let Some(usage) = self.usage {
            out.push(ChatEvent::Usage(usage));
        }
        out.push(ChatEvent::Done);
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn body_carries_extra_and_sets_stream() {
        let mut req = ChatRequest::new("Qwen/Qwen3-8B:cheapest", vec![Message::user("hi")]);
        req.max_tokens = Some(16);
        req.extra.insert("top_p".into(), json!(0.9));
        req.extra.insert("stream".into(), json!(true));
        req.extra.insert(
            "stream_options".into(),
            json!({"continuous_usage_stats": true}),
        );
        assert_eq!(
            req.to_body(true),
            json!({"model":"Qwen/Qwen3-8B:cheapest","messages":[{"role":"user","content":"hi"}],
                   "max_tokens":16,"top_p":0.9,"stream":true,
                   "stream_options":{"continuous_usage_stats":true,"include_usage":true}})
        );
        assert_eq!(
            req.to_body(false),
            json!({"model":"Qwen/Qwen3-8B:cheapest","messages":[{"role":"user","content":"hi"}],
                   "max_tokens":16,"top_p":0.9,"stream":false})
        );
        assert_eq!(req.with_model("a/b").model, "a/b");
    }

    #[test]
    fn response_decoding() {
        let body = br#"{"id":"c1","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello","reasoning_content":"hmm"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#;
        let r = ChatResponse::from_body(body).unwrap();
        assert_eq!(r.content, "Hello");
        assert_eq!(r.reasoning.as_deref(), Some("hmm"));
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        assert_eq!(r.usage.unwrap().total_tokens, 7);
        let e =
            ChatResponse::from_body(br#"{"error":{"message":"no","code":"model_not_supported"}}"#)
                .unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(
            ChatResponse::from_body(b"<html>").unwrap_err().kind,
            ErrorKind::BadResponse
        );
        assert_eq!(
            ChatResponse::from_body(br#"{"choices":[]}"#)
                .unwrap_err()
                .kind,
            ErrorKind::BadResponse
        );
        let null_content = ChatResponse::from_body(
            br#"{"choices":[{"message":{"content":null,"reasoning":"r"}}]}"#,
        )
        .unwrap();
        assert_eq!(
            (
                null_content.content.as_str(),
                null_content.reasoning.as_deref()
            ),
            ("", Some("r"))
        );
    }
}
