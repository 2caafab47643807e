//! The three wire formats the gateway answers, as data: where each one is forwarded, what
//! a valid request holds, which router headers of the client go along, and how a stream
//! says "the answer has begun" or "this failed". Everything else — resolution, fallbacks,
//! cooldowns, limits, logging, streaming — is one shared path ([`crate::forward`]).

use hfclaw_catalog::Needs;
use hfclaw_router_client::{JsonBody, RouterError};
use serde_json::Value;

/// One of the APIs the gateway serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// OpenAI chat completions (`POST /v1/chat/completions`).
    Chat,
    /// Anthropic Messages (`POST /v1/messages`), as Claude Code speaks it.
    Messages,
    /// OpenAI Responses (`POST /v1/responses`), as Codex and the Agents SDK speak it.
    Responses,
    /// OpenAI embeddings (`POST /v1/embeddings`), as OpenClaw's memory search speaks it:
    /// answered by a provider of the model's Hub mapping (`crate::embeddings`), not by
    /// the router's `/v1`.
    Embeddings,
}

/// A field the API requires is missing or empty (a 400 in the API's envelope: `error.rs`
/// turns it into an [`ApiError`](crate::error::ApiError)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingField {
    /// The field (`messages`, `input`).
    pub param: &'static str,
    /// What the client is told.
    pub message: &'static str,
}

/// What a stream's event means for committing the answer to the client.
#[derive(Debug, Clone, PartialEq)]
pub enum Peek {
    /// Nothing decisive yet (a `ping`, a role-only chunk, `response.created` …).
    Wait,
    /// The answer has begun: commit.
    Commit,
    /// The stream reports an error before any answer: the chain may move on.
    Error(RouterError),
}

impl From<Api> for hfclaw_accounting::Api {
    fn from(api: Api) -> Self {
        match api {
            Api::Chat => hfclaw_accounting::Api::Chat,
            Api::Messages => hfclaw_accounting::Api::Messages,
            Api::Responses => hfclaw_accounting::Api::Responses,
            Api::Embeddings => hfclaw_accounting::Api::Embeddings,
        }
    }
}

impl Api {
    /// The short name used in logs, metrics and the ledger.
    pub fn label(self) -> &'static str {
        match self {
            Api::Chat => "chat",
            Api::Messages => "messages",
            Api::Responses => "responses",
            Api::Embeddings => "embeddings",
        }
    }

    /// The path under the router base URL (`…/v1`) this API is forwarded to (embeddings
    /// go to each provider's own path instead: `hfclaw_router_client::tasks`).
    pub fn upstream_path(self) -> &'static str {
        match self {
            Api::Chat => "/chat/completions",
            Api::Messages => "/messages",
            Api::Responses => "/responses",
            Api::Embeddings => "/embeddings",
        }
    }

    /// The API a gateway path belongs to (for the error envelope of answers that come
    /// before any handler, such as a missing client key).
    pub fn for_path(path: &str) -> Api {
        if path.starts_with("/v1/messages") {
            Api::Messages
        } else if path.starts_with("/v1/responses") {
            Api::Responses
        } else if path.starts_with("/v1/embeddings") {
            Api::Embeddings
        } else {
            Api::Chat
        }
    }

    /// Client headers passed on to the router (lower-case). Everything else — the
    /// client's key above all — stays here.
    pub fn forwarded_request_headers(self) -> &'static [&'static str] {
        match self {
            Api::Chat | Api::Responses | Api::Embeddings => &[],
            Api::Messages => &["anthropic-version", "anthropic-beta"],
        }
    }

    /// The body's members that name the end user, first found wins: OpenAI's `user`
    /// (and `safety_identifier`, its successor in chat and Responses); Anthropic names the
    /// user inside `metadata` instead ([`Api::metadata_user`]).
    pub fn user_members(self) -> &'static [&'static str] {
        match self {
            Api::Chat | Api::Responses => &["user", "safety_identifier"],
            Api::Embeddings => &["user"],
            Api::Messages => &[],
        }
    }

    /// The member of `metadata` that names the end user (Anthropic's `user_id`); every
    /// other member of `metadata` is a tag.
    pub fn metadata_user(self) -> Option<&'static str> {
        match self {
            Api::Messages => Some("user_id"),
            Api::Chat | Api::Responses | Api::Embeddings => None,
        }
    }

    /// Checks what the API itself requires of a body (beyond `model`, which the shared
    /// path resolves).
    pub fn validate(self, body: &JsonBody) -> Result<(), MissingField> {
        match self {
            Api::Chat => {
                if !body.is_non_empty_array("messages") {
                    return Err(MissingField {
                        param: "messages",
                        message: "`messages` is required: a non-empty array of {\"role\", \
                                  \"content\"} objects",
                    });
                }
            }
            Api::Messages => {
                if !body.is_non_empty_array("messages") {
                    return Err(MissingField {
                        param: "messages",
                        message: "messages: field required: a non-empty array of \
                                  {\"role\", \"content\"} objects",
                    });
                }
            }
            Api::Responses => {
                if body.is_absent_or_null("input") {
                    return Err(MissingField {
                        param: "input",
                        message: "`input` is required: a string or an array of input items",
                    });
                }
            }
            // `input` is checked in full by the task's adapter; an embedding has no
            // default model (the configured default is a chat model).
            Api::Embeddings => {
                if body.is_absent_or_null("model") {
                    return Err(MissingField {
                        param: "model",
                        message: "`model` is required: an embedding model (huggingface/org/model, \
                                  org/model or an alias); `hfclaw models list --task embeddings` \
                                  lists them",
                    });
                }
            }
        }
        Ok(())
    }

    /// What of `wanted` the request needs of a model (`hfclaw_catalog::needs`): image
    /// parts in its conversation (chat's `image_url` parts, Anthropic's `image` blocks —
    /// also inside tool results —, Responses' `input_image`), a non-empty `tools` (or
    /// chat's older `functions`). Only what is wanted is looked for: the chain's fallbacks
    /// decide, and a request is scanned only when one of them could be skipped.
    pub fn needs(self, body: &JsonBody, wanted: Needs) -> Needs {
        let (conversation, image_types): (&str, &[&str]) = match self {
            Api::Chat => ("messages", &["image_url"]),
            Api::Messages => ("messages", &["image"]),
            Api::Responses => ("input", &["input_image"]),
            Api::Embeddings => return Needs::default(),
        };
        Needs {
            image_input: wanted.image_input && body.has_typed_part(conversation, image_types),
            tools: wanted.tools
                && (body.is_non_empty_array("tools")
                    || self == Api::Chat && body.is_non_empty_array("functions")),
        }
    }

    /// True when the body asks for a stream.
    pub fn wants_stream(self, body: &JsonBody) -> bool {
        self != Api::Embeddings && body.is_true("stream")
    }

    /// What one SSE event means before the answer is committed. `data` is the event's
    /// parsed JSON when it is JSON.
    pub fn peek(self, event: Option<&str>, data: &str) -> Peek {
        match self {
            Api::Chat | Api::Embeddings => peek_chat(event, data),
            Api::Messages => peek_messages(event, data),
            Api::Responses => peek_responses(event, data),
        }
    }

    /// The error a 2xx JSON answer reports instead of an answer, if any.
    pub fn error_in_body(self, body: &[u8]) -> Option<RouterError> {
        // Only bodies that mention `"error"` are parsed: answers are passed on untouched.
        if !contains(body, b"\"error\"") {
            return None;
        }
        let value: Value = serde_json::from_slice(body).ok()?;
        match self {
            Api::Chat | Api::Embeddings => value
                .get("error")
                .filter(|e| !e.is_null())
                .map(|_| RouterError::from_error_event(&value)),
            // `{"type":"error","error":{…}}`.
            Api::Messages => (value.get("type").and_then(Value::as_str) == Some("error"))
                .then(|| RouterError::from_error_event(&value)),
            // A failed response: `{"status":"failed","error":{…}}`.
            Api::Responses => value
                .get("error")
                .filter(|e| e.is_object())
                .filter(|_| value.get("status").and_then(Value::as_str) != Some("completed"))
                .map(|_| RouterError::from_error_event(&value)),
        }
    }
}

fn peek_chat(event: Option<&str>, data: &str) -> Peek {
    let data = data.trim();
    if data == "[DONE]" {
        return Peek::Commit;
    }
    let Ok(value) = serde_json::from_str::<Value>(data) else {
        return Peek::Wait;
    };
    if event == Some("error") || value.get("error").is_some_and(|e| !e.is_null()) {
        return Peek::Error(RouterError::from_error_event(&value));
    }
    if value.get("usage").is_some_and(|u| !u.is_null()) {
        return Peek::Commit;
    }
    let meaningful = value
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|choice| {
            choice.get("finish_reason").is_some_and(|f| !f.is_null())
                || choice.get("delta").is_some_and(|delta| {
                    ["content", "reasoning_content", "reasoning", "tool_calls"]
                        .iter()
                        .any(|k| match delta.get(*k) {
                            Some(Value::String(s)) => !s.is_empty(),
                            Some(Value::Null) | None => false,
                            Some(_) => true,
                        })
                })
        });
    if meaningful { Peek::Commit } else { Peek::Wait }
}

fn peek_messages(event: Option<&str>, data: &str) -> Peek {
    let kind = event.map(str::to_owned).or_else(|| {
        serde_json::from_str::<Value>(data)
            .ok()?
            .get("type")?
            .as_str()
            .map(str::to_owned)
    });
    match kind.as_deref() {
        Some("error") => Peek::Error(error_of(data)),
        // `message_start` and `ping` come before anything the model said.
        Some("message_start" | "ping") | None => Peek::Wait,
        Some(_) => Peek::Commit,
    }
}

fn peek_responses(event: Option<&str>, data: &str) -> Peek {
    let value = serde_json::from_str::<Value>(data).ok();
    let kind = event
        .map(str::to_owned)
        .or_else(|| value.as_ref()?.get("type")?.as_str().map(str::to_owned));
    match kind.as_deref() {
        Some("error") => Peek::Error(error_of(data)),
        Some("response.failed") => Peek::Error(
            value
                .as_ref()
                .and_then(|v| v.get("response"))
                .map_or_else(|| error_of(data), RouterError::from_error_event),
        ),
        Some("response.created" | "response.in_progress" | "response.queued") | None => Peek::Wait,
        Some(_) => Peek::Commit,
    }
}

fn error_of(data: &str) -> RouterError {
    match serde_json::from_str::<Value>(data) {
        Ok(value) => RouterError::from_error_event(&value),
        Err(_) => RouterError::new(hfclaw_router_client::ErrorKind::Upstream, data),
    }
}

/// True when `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use hfclaw_router_client::ErrorKind;

    use super::*;

    #[test]
    fn each_api_finds_its_own_image_parts_and_tools() {
        let all = Needs {
            image_input: true,
            tools: true,
        };
        let needs = |api: Api, text: &str, wanted: Needs| {
            let body = JsonBody::parse(bytes::Bytes::copy_from_slice(text.as_bytes()));
            api.needs(&body.unwrap_or_else(|e| panic!("{e}")), wanted)
        };
        let chat = r#"{"messages":[{"role":"user","content":[{"type":"image_url",
            "image_url":{"url":"data:image/png;base64,AAAA"}}]}],"tools":[{"type":"function"}]}"#;
        assert_eq!(needs(Api::Chat, chat, all), all);
        // Only what is wanted is looked for.
        assert_eq!(needs(Api::Chat, chat, Needs::default()), Needs::default());
        // Anthropic's block in a tool result; an empty tools list needs none.
        let messages = r#"{"messages":[{"role":"user","content":[{"type":"tool_result",
            "tool_use_id":"t","content":[{"type":"image","source":{"type":"base64"}}]}]}],
            "tools":[]}"#;
        let images_only = Needs {
            image_input: true,
            tools: false,
        };
        assert_eq!(needs(Api::Messages, messages, all), images_only);
        // Each API's own name: an `image_url` part is not an Anthropic image.
        assert!(!needs(Api::Messages, chat, all).image_input);
        let responses = r#"{"input":[{"role":"user","content":[{"type":"input_image",
            "image_url":"https://x/y.png"}]}],"tools":[{"type":"web_search"}]}"#;
        assert_eq!(needs(Api::Responses, responses, all), all);
        assert!(
            needs(
                Api::Chat,
                r#"{"messages":[],"functions":[{"name":"f"}]}"#,
                all
            )
            .tools
        );
        assert_eq!(needs(Api::Embeddings, chat, all), Needs::default());
    }

    fn kind(peek: Peek) -> Option<ErrorKind> {
        match peek {
            Peek::Error(e) => Some(e.kind),
            _ => None,
        }
    }

    #[test]
    fn chat_commits_on_the_first_meaningful_chunk() {
        let role = r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#;
        assert_eq!(Api::Chat.peek(None, role), Peek::Wait);
        let text = r#"{"choices":[{"delta":{"content":"Hi"}}]}"#;
        assert_eq!(Api::Chat.peek(None, text), Peek::Commit);
        let tools = r#"{"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}"#;
        assert_eq!(Api::Chat.peek(None, tools), Peek::Commit);
        assert_eq!(Api::Chat.peek(None, "[DONE]"), Peek::Commit);
        let error = r#"{"error":{"message":"busy","type":"server_error"}}"#;
        assert_eq!(kind(Api::Chat.peek(None, error)), Some(ErrorKind::Upstream));
    }

    #[test]
    fn messages_wait_for_content_and_read_anthropic_errors() {
        let start = r#"{"type":"message_start","message":{"usage":{"input_tokens":3}}}"#;
        assert_eq!(Api::Messages.peek(Some("message_start"), start), Peek::Wait);
        assert_eq!(
            Api::Messages.peek(Some("ping"), r#"{"type":"ping"}"#),
            Peek::Wait
        );
        let block = r#"{"type":"content_block_start","index":0}"#;
        assert_eq!(
            Api::Messages.peek(Some("content_block_start"), block),
            Peek::Commit
        );
        // Without `event:` lines the type field decides.
        assert_eq!(Api::Messages.peek(None, block), Peek::Commit);
        let overloaded =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            kind(Api::Messages.peek(Some("error"), overloaded)),
            Some(ErrorKind::Upstream)
        );
        let missing = r#"{"type":"error","error":{"type":"not_found_error","message":"no"}}"#;
        assert_eq!(
            kind(Api::Messages.peek(None, missing)),
            Some(ErrorKind::NotFound)
        );
    }

    #[test]
    fn responses_wait_past_created_and_fail_on_failed() {
        let created = r#"{"type":"response.created","response":{"status":"in_progress"}}"#;
        assert_eq!(
            Api::Responses.peek(Some("response.created"), created),
            Peek::Wait
        );
        let delta = r#"{"type":"response.output_text.delta","delta":"Hi"}"#;
        assert_eq!(Api::Responses.peek(None, delta), Peek::Commit);
        let failed = r#"{"type":"response.failed","response":{"status":"failed","error":{"code":"rate_limit_exceeded","message":"slow down"}}}"#;
        assert_eq!(
            kind(Api::Responses.peek(Some("response.failed"), failed)),
            Some(ErrorKind::RateLimited)
        );
        let error = r#"{"type":"error","code":"server_error","message":"boom"}"#;
        assert_eq!(
            kind(Api::Responses.peek(Some("error"), error)),
            Some(ErrorKind::Upstream)
        );
    }

    #[test]
    fn error_bodies_are_recognised_per_api() {
        let chat_ok = br#"{"choices":[{"message":{"content":"an \"error\" word"}}]}"#;
        assert!(Api::Chat.error_in_body(chat_ok).is_none());
        assert!(
            Api::Chat
                .error_in_body(br#"{"error":null,"choices":[]}"#)
                .is_none()
        );
        let e = Api::Chat.error_in_body(br#"{"error":{"message":"boom","type":"server_error"}}"#);
        assert_eq!(e.map(|e| e.kind), Some(ErrorKind::Upstream));
        let msg_ok = br#"{"type":"message","content":[{"type":"text","text":"\"error\""}]}"#;
        assert!(Api::Messages.error_in_body(msg_ok).is_none());
        let msg_err = br#"{"type":"error","error":{"type":"overloaded_error","message":"x"}}"#;
        assert!(Api::Messages.error_in_body(msg_err).is_some());
        let resp_ok = br#"{"status":"completed","error":null,"output":[]}"#;
        assert!(Api::Responses.error_in_body(resp_ok).is_none());
        let resp_err = br#"{"status":"failed","error":{"code":"server_error","message":"x"}}"#;
        assert!(Api::Responses.error_in_body(resp_err).is_some());
    }

    #[test]
    fn paths_pick_the_envelope() {
        assert_eq!(Api::for_path("/v1/messages/count_tokens"), Api::Messages);
        assert_eq!(Api::for_path("/v1/responses/resp_1"), Api::Responses);
        assert_eq!(Api::for_path("/v1/chat/completions"), Api::Chat);
        assert_eq!(Api::for_path("/v1/embeddings"), Api::Embeddings);
        assert_eq!(Api::for_path("/v1/models"), Api::Chat);
    }
}
