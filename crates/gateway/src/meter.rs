//! Token counts read off an answer as it passes: the `usage` of a chat completion (or of
//! a stream's final usage chunk), Anthropic's `message_start`/`message_delta` usage, the
//! Responses API's `response.completed` usage. Events that cannot hold usage are skipped
//! by a byte search before any JSON is parsed.

use serde_json::Value;

use crate::api::{Api, contains};

/// What an answer used.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tokens {
    /// Prompt (input) tokens, cached ones included.
    pub input: Option<u64>,
    /// Completion (output) tokens, reasoning included.
    pub output: Option<u64>,
    /// Input tokens served from the provider's prompt cache.
    pub cached: Option<u64>,
}

impl Tokens {
    /// Input plus output, when both are known.
    pub fn total(&self) -> Option<u64> {
        Some(self.input? + self.output?)
    }
}

/// Reads usage from one answer, event by event or whole.
#[derive(Debug, Clone)]
pub struct Meter {
    api: Api,
    tokens: Tokens,
    seen: bool,
}

impl Meter {
    /// A meter for an answer of `api`.
    pub fn new(api: Api) -> Meter {
        Meter {
            api,
            tokens: Tokens::default(),
            seen: false,
        }
    }

    /// The usage seen, if the answer reported any.
    pub fn tokens(&self) -> Option<Tokens> {
        self.seen.then_some(self.tokens)
    }

    /// One SSE event of a stream.
    pub fn observe_event(&mut self, event: Option<&str>, data: &str) {
        if !contains(data.as_bytes(), b"usage") {
            return;
        }
        let Ok(value) = serde_json::from_str::<Value>(data) else {
            return;
        };
        self.observe_value(event, &value);
    }

    /// An event already parsed.
    pub fn observe_value(&mut self, event: Option<&str>, value: &Value) {
        let kind = event.or_else(|| value.get("type").and_then(Value::as_str));
        match self.api {
            Api::Chat => self.chat(value.get("usage")),
            Api::Messages => match kind {
                Some("message_start") => {
                    self.anthropic(value.get("message").and_then(|m| m.get("usage")));
                }
                Some("message_delta") => self.anthropic(value.get("usage")),
                _ => {}
            },
            Api::Responses => {
                if matches!(kind, Some("response.completed" | "response.incomplete")) {
                    self.responses(value.get("response").and_then(|r| r.get("usage")));
                }
            }
        }
    }

    /// A whole (non-streamed) answer.
    pub fn observe_body(&mut self, body: &[u8]) {
        if !contains(body, b"usage") {
            return;
        }
        #[derive(serde::Deserialize)]
        struct UsageOnly {
            #[serde(default)]
            usage: Option<Value>,
        }
        let Ok(answer) = serde_json::from_slice::<UsageOnly>(body) else {
            return;
        };
        match self.api {
            Api::Chat => self.chat(answer.usage.as_ref()),
            Api::Messages => self.anthropic(answer.usage.as_ref()),
            Api::Responses => self.responses(answer.usage.as_ref()),
        }
    }

    fn chat(&mut self, usage: Option<&Value>) {
        let Some(usage) = usage.filter(|u| u.is_object()) else {
            return;
        };
        self.seen = true;
        self.tokens = Tokens {
            input: number(usage, "prompt_tokens"),
            output: number(usage, "completion_tokens"),
            cached: usage
                .get("prompt_tokens_details")
                .and_then(|d| number(d, "cached_tokens")),
        };
    }

    fn anthropic(&mut self, usage: Option<&Value>) {
        let Some(usage) = usage.filter(|u| u.is_object()) else {
            return;
        };
        self.seen = true;
        // Anthropic counts cache reads and writes apart from `input_tokens`.
        let cache_read = number(usage, "cache_read_input_tokens");
        let cache_write = number(usage, "cache_creation_input_tokens");
        if let Some(input) = number(usage, "input_tokens") {
            let total = input + cache_read.unwrap_or(0) + cache_write.unwrap_or(0);
            self.tokens.input = Some(total);
        }
        if cache_read.is_some() {
            self.tokens.cached = cache_read;
        }
        // `message_delta` carries the cumulative output count.
        if let Some(output) = number(usage, "output_tokens") {
            self.tokens.output = Some(output);
        }
    }

    fn responses(&mut self, usage: Option<&Value>) {
        let Some(usage) = usage.filter(|u| u.is_object()) else {
            return;
        };
        self.seen = true;
        self.tokens = Tokens {
            input: number(usage, "input_tokens"),
            output: number(usage, "output_tokens"),
            cached: usage
                .get("input_tokens_details")
                .and_then(|d| number(d, "cached_tokens")),
        };
    }
}

fn number(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: u64, output: u64, cached: Option<u64>) -> Option<Tokens> {
        Some(Tokens {
            input: Some(input),
            output: Some(output),
            cached,
        })
    }

    #[test]
    fn chat_usage_comes_from_the_body_or_the_last_chunk() {
        let mut m = Meter::new(Api::Chat);
        m.observe_body(br#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":2}}}"#);
        assert_eq!(m.tokens(), tokens(5, 7, Some(2)));
        let mut m = Meter::new(Api::Chat);
        m.observe_event(None, r#"{"choices":[{"delta":{"content":"usage"}}]}"#);
        assert_eq!(m.tokens(), None);
        m.observe_event(
            None,
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
        );
        assert_eq!(m.tokens(), tokens(3, 4, None));
        let mut m = Meter::new(Api::Chat);
        m.observe_body(br#"{"choices":[]}"#);
        assert_eq!(m.tokens(), None);
    }

    #[test]
    fn anthropic_usage_adds_up_start_and_delta() {
        let mut m = Meter::new(Api::Messages);
        m.observe_event(
            Some("message_start"),
            r#"{"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":4,"output_tokens":1}}}"#,
        );
        m.observe_event(
            Some("message_delta"),
            r#"{"type":"message_delta","usage":{"output_tokens":12}}"#,
        );
        assert_eq!(m.tokens(), tokens(14, 12, Some(4)));
        let mut m = Meter::new(Api::Messages);
        m.observe_body(br#"{"type":"message","usage":{"input_tokens":2,"output_tokens":3}}"#);
        assert_eq!(m.tokens(), tokens(2, 3, None));
    }

    #[test]
    fn responses_usage_comes_from_completed() {
        let mut m = Meter::new(Api::Responses);
        m.observe_event(
            Some("response.in_progress"),
            r#"{"type":"response.in_progress","response":{"usage":null}}"#,
        );
        assert_eq!(m.tokens(), None);
        m.observe_event(
            Some("response.completed"),
            r#"{"type":"response.completed","response":{"usage":{"input_tokens":8,"output_tokens":9,"input_tokens_details":{"cached_tokens":1}}}}"#,
        );
        assert_eq!(m.tokens(), tokens(8, 9, Some(1)));
    }
}
