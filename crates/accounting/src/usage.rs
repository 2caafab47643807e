//! Token usage from the answers of the three APIs the gateway serves, over `serde_json`
//! values (the gateway decodes each SSE event's `data:` once and hands it here).
//!
//! | API | non-streaming answer | stream |
//! |---|---|---|
//! | chat completions | `usage` | the last chunk carrying `usage` (with `stream_options.include_usage`) |
//! | Anthropic Messages | `usage` | `message_start.message.usage`, then `message_delta.usage` (cumulative: its fields replace earlier ones) |
//! | OpenAI Responses | `usage` | `response.completed` (also `response.incomplete`/`response.failed`): `response.usage` |
//!
//! Normalised so that every API means the same thing: `input_tokens` counts every prompt
//! token, cached ones included (OpenAI's `prompt_tokens`/`input_tokens` already do;
//! Anthropic's `input_tokens` excludes cache reads and writes, so they are added);
//! `cached_tokens` is the part read from a cache, `cache_write_tokens` the part written.

use serde::Serialize;
use serde_json::Value;

/// Which API a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// OpenAI chat completions (`/v1/chat/completions`).
    Chat,
    /// Anthropic Messages (`/v1/messages`).
    Messages,
    /// OpenAI Responses (`/v1/responses`).
    Responses,
    /// OpenAI embeddings (`/v1/embeddings`), served through the Hub's provider mappings.
    Embeddings,
}

impl Api {
    /// The name stored in the ledger and shown by `hfclaw usage`.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Chat => "chat",
            Api::Messages => "messages",
            Api::Responses => "responses",
            Api::Embeddings => "embeddings",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Api> {
        match text {
            "chat" => Some(Api::Chat),
            "messages" => Some(Api::Messages),
            "responses" => Some(Api::Responses),
            "embeddings" => Some(Api::Embeddings),
            _ => None,
        }
    }
}

/// Tokens of one answer (see the module doc for what each count includes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Every prompt token, cached ones included.
    pub input_tokens: u64,
    /// Completion tokens (reasoning included).
    pub output_tokens: u64,
    /// Of `input_tokens`, those read from a prompt cache, when reported.
    pub cached_tokens: Option<u64>,
    /// Of `input_tokens`, those written to a prompt cache, when reported.
    pub cache_write_tokens: Option<u64>,
}

impl Usage {
    /// Input plus output tokens.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// The usage of a complete (non-streaming) answer of `api`; `None` when it has none.
pub fn usage_of_answer(api: Api, answer: &Value) -> Option<Usage> {
    let mut meter = UsageMeter::new(api);
    meter.observe(answer);
    meter.usage()
}

/// Accumulates usage over the decoded events of a stream (or one whole answer).
///
/// Feed it every event's JSON with [`UsageMeter::observe`]; events without usage cost a
/// few field lookups. [`UsageMeter::usage`] is `None` until some usage was seen: a
/// stream that never reported usage stays "unknown", never zero.
#[derive(Debug, Clone)]
pub struct UsageMeter {
    api: Api,
    input: Option<u64>,
    output: Option<u64>,
    cached: Option<u64>,
    cache_write: Option<u64>,
    /// Anthropic's `input_tokens` excludes cache reads and writes; summed at the end.
    anthropic: bool,
}

impl UsageMeter {
    /// A meter for one request of `api`.
    pub fn new(api: Api) -> UsageMeter {
        UsageMeter {
            api,
            input: None,
            output: None,
            cached: None,
            cache_write: None,
            anthropic: false,
        }
    }

    /// The API this meter reads.
    pub fn api(&self) -> Api {
        self.api
    }

    /// Reads one SSE event's JSON (or a whole non-streaming answer).
    pub fn observe(&mut self, event: &Value) {
        match self.api {
            Api::Chat => {
                if let Some(usage) = event.get("usage").filter(|u| u.is_object()) {
                    self.take_openai(
                        usage,
                        "prompt_tokens",
                        "completion_tokens",
                        "prompt_tokens_details",
                    );
                }
            }
            Api::Messages => match event.get("type").and_then(Value::as_str) {
                Some("message_start") => {
                    if let Some(usage) = event.pointer("/message/usage") {
                        self.take_anthropic(usage);
                    }
                }
                // `message_delta`, or a whole answer (`"type": "message"`).
                _ => {
                    if let Some(usage) = event.get("usage").filter(|u| u.is_object()) {
                        self.take_anthropic(usage);
                    }
                }
            },
            Api::Responses => {
                let usage = match event.get("type").and_then(Value::as_str) {
                    Some("response.completed" | "response.incomplete" | "response.failed") => {
                        event.pointer("/response/usage")
                    }
                    // A whole answer: `{"object": "response", …, "usage": {…}}`.
                    Some(_) => None,
                    None => event.get("usage"),
                };
                if let Some(usage) = usage.filter(|u| u.is_object()) {
                    self.take_openai(
                        usage,
                        "input_tokens",
                        "output_tokens",
                        "input_tokens_details",
                    );
                }
            }
            // `usage.prompt_tokens`, no output. 0 means "not counted": no input embeds in
            // 0 tokens, and the gateway writes 0 where the provider counts nothing
            // (`hf-inference`), because SDKs expect the object.
            Api::Embeddings => {
                let prompt = event.pointer("/usage/prompt_tokens").and_then(token_count);
                if let Some(prompt) = prompt.filter(|p| *p > 0) {
                    self.input = Some(prompt);
                    self.output = Some(0);
                }
            }
        }
    }

    /// The usage seen so far; `None` when no event reported any.
    pub fn usage(&self) -> Option<Usage> {
        if self.input.is_none() && self.output.is_none() {
            return None;
        }
        let mut input = self.input.unwrap_or(0);
        if self.anthropic {
            input = input
                .saturating_add(self.cached.unwrap_or(0))
                .saturating_add(self.cache_write.unwrap_or(0));
        }
        Some(Usage {
            input_tokens: input,
            output_tokens: self.output.unwrap_or(0),
            cached_tokens: self.cached,
            cache_write_tokens: self.cache_write,
        })
    }

    /// OpenAI shapes: the last report wins whole (chat streams may report on every chunk).
    fn take_openai(&mut self, usage: &Value, input: &str, output: &str, details: &str) {
        let count = |key: &str| usage.get(key).and_then(token_count);
        let (input, output) = (count(input), count(output));
        if input.is_none() && output.is_none() {
            return;
        }
        self.input = input;
        self.output = output;
        self.cached = usage
            .get(details)
            .and_then(|d| d.get("cached_tokens"))
            .and_then(token_count);
        self.cache_write = usage
            .get(details)
            .and_then(|d| {
                d.get("cache_write_tokens")
                    .or_else(|| d.get("cache_creation_tokens"))
            })
            .and_then(token_count);
    }

    /// Anthropic's shape: each field present replaces the earlier value (`message_delta`
    /// counts are cumulative; absent or `null` fields keep `message_start`'s).
    fn take_anthropic(&mut self, usage: &Value) {
        let count = |key: &str| usage.get(key).and_then(token_count);
        self.anthropic = true;
        if let Some(n) = count("input_tokens") {
            self.input = Some(n);
        }
        if let Some(n) = count("output_tokens") {
            self.output = Some(n);
        }
        if let Some(n) = count("cache_read_input_tokens") {
            self.cached = Some(n);
        }
        if let Some(n) = count("cache_creation_input_tokens") {
            self.cache_write = Some(n);
        }
    }
}

/// A token count: a non-negative integer (a float with no fraction is accepted).
fn token_count(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1e15)
            .map(|f| f as u64)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stream(api: Api, events: &[Value]) -> Option<Usage> {
        let mut meter = UsageMeter::new(api);
        for event in events {
            meter.observe(event);
        }
        meter.usage()
    }

    fn usage(input: u64, output: u64, cached: Option<u64>, write: Option<u64>) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cached_tokens: cached,
            cache_write_tokens: write,
        }
    }

    #[test]
    fn chat_answer_usage_with_cached_tokens() {
        let answer = json!({"id": "c", "choices": [{"message": {"content": "hi"}}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150,
                      "prompt_tokens_details": {"cached_tokens": 100}}});
        assert_eq!(
            usage_of_answer(Api::Chat, &answer),
            Some(usage(120, 30, Some(100), None))
        );
    }

    #[test]
    fn chat_stream_usage_comes_from_the_final_usage_chunk() {
        let events = [
            json!({"choices": [{"delta": {"content": "a"}}]}),
            json!({"choices": [{"delta": {}, "finish_reason": "stop"}], "usage": null}),
            json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}),
        ];
        assert_eq!(stream(Api::Chat, &events), Some(usage(5, 2, None, None)));
        // Continuous usage stats: the last report wins.
        let events = [
            json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 1}}),
            json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 9}}),
        ];
        assert_eq!(stream(Api::Chat, &events), Some(usage(5, 9, None, None)));
    }

    #[test]
    fn a_stream_without_usage_is_unknown_not_zero() {
        let events = [
            json!({"choices": [{"delta": {"content": "a"}}]}),
            json!({"usage": {}}),
        ];
        assert_eq!(stream(Api::Chat, &events), None);
        assert_eq!(stream(Api::Messages, &[json!({"type": "ping"})]), None);
        assert_eq!(
            stream(
                Api::Responses,
                &[json!({"type": "response.created", "response": {"usage": null}})]
            ),
            None
        );
        assert_eq!(
            usage_of_answer(Api::Messages, &json!({"type": "message"})),
            None
        );
    }

    #[test]
    fn anthropic_stream_usage_adds_cache_reads_and_writes_to_input() {
        let events = [
            json!({"type": "message_start", "message": {"id": "msg_1", "usage": {
                "input_tokens": 100, "output_tokens": 1,
                "cache_creation_input_tokens": 20, "cache_read_input_tokens": 10}}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 15}}),
            json!({"type": "message_stop"}),
        ];
        assert_eq!(
            stream(Api::Messages, &events),
            Some(usage(130, 15, Some(10), Some(20)))
        );
    }

    #[test]
    fn anthropic_message_delta_counts_replace_earlier_ones() {
        // Server tools: the final input count arrives in message_delta.
        let events = [
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 0, "output_tokens": 1}}}),
            json!({"type": "message_delta", "usage": {"input_tokens": 472, "output_tokens": 40,
                   "cache_read_input_tokens": null}}),
        ];
        assert_eq!(
            stream(Api::Messages, &events),
            Some(usage(472, 40, None, None))
        );
    }

    #[test]
    fn anthropic_answer_usage() {
        let answer = json!({"id": "msg_1", "type": "message", "role": "assistant",
            "content": [{"type": "text", "text": "Hi"}],
            "usage": {"input_tokens": 12, "output_tokens": 6, "cache_read_input_tokens": 4}});
        assert_eq!(
            usage_of_answer(Api::Messages, &answer),
            Some(usage(16, 6, Some(4), None))
        );
    }

    #[test]
    fn responses_stream_usage_comes_from_response_completed() {
        let events = [
            json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1", "usage": null}}),
            json!({"type": "response.output_text.delta", "delta": "Hi", "sequence_number": 3}),
            json!({"type": "response.completed", "sequence_number": 9, "response": {"id": "resp_1",
                "usage": {"input_tokens": 40, "input_tokens_details": {"cached_tokens": 32},
                          "output_tokens": 8, "output_tokens_details": {"reasoning_tokens": 2},
                          "total_tokens": 48}}}),
        ];
        assert_eq!(
            stream(Api::Responses, &events),
            Some(usage(40, 8, Some(32), None))
        );
        let incomplete = [
            json!({"type": "response.incomplete", "response": {"usage": {"input_tokens": 3, "output_tokens": 100}}}),
        ];
        assert_eq!(
            stream(Api::Responses, &incomplete),
            Some(usage(3, 100, None, None))
        );
    }

    #[test]
    fn responses_answer_usage() {
        let answer = json!({"id": "resp_1", "object": "response", "status": "completed",
            "usage": {"input_tokens": 9, "output_tokens": 3, "total_tokens": 12,
                      "input_tokens_details": {"cached_tokens": 0}}});
        assert_eq!(
            usage_of_answer(Api::Responses, &answer),
            Some(usage(9, 3, Some(0), None))
        );
    }

    #[test]
    fn embeddings_usage_is_the_prompt_and_zero_means_not_counted() {
        let answer = json!({"object": "list", "data": [],
            "usage": {"prompt_tokens": 16, "total_tokens": 16}});
        assert_eq!(
            usage_of_answer(Api::Embeddings, &answer),
            Some(usage(16, 0, None, None))
        );
        let uncounted = json!({"usage": {"prompt_tokens": 0, "total_tokens": 0}});
        assert_eq!(usage_of_answer(Api::Embeddings, &uncounted), None);
        assert_eq!(Api::parse("embeddings"), Some(Api::Embeddings));
    }

    #[test]
    fn odd_counts_are_ignored_not_trusted() {
        let answer = json!({"usage": {"prompt_tokens": -3, "completion_tokens": "7"}});
        assert_eq!(usage_of_answer(Api::Chat, &answer), None);
        let answer = json!({"usage": {"prompt_tokens": 3.0, "completion_tokens": 2.5}});
        assert_eq!(
            usage_of_answer(Api::Chat, &answer),
            Some(usage(3, 0, None, None))
        );
    }
}
