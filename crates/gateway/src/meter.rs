//! Usage read off an answer as it passes, with the accounting crate's [`UsageMeter`]:
//! events that cannot hold usage are skipped by a byte search before any JSON is parsed,
//! and a whole answer is read for its `usage` field only.

use hfclaw_accounting::{Usage, UsageMeter};
use serde_json::Value;

use crate::api::{Api, contains};

/// Reads usage from one answer, event by event or whole.
#[derive(Debug, Clone)]
pub struct Meter {
    inner: UsageMeter,
}

impl Meter {
    /// A meter for an answer of `api`.
    pub fn new(api: Api) -> Meter {
        Meter {
            inner: UsageMeter::new(api.into()),
        }
    }

    /// The usage seen, if the answer reported any.
    pub fn usage(&self) -> Option<Usage> {
        self.inner.usage()
    }

    /// One SSE event of a stream.
    pub fn observe_event(&mut self, data: &str) {
        if !contains(data.as_bytes(), b"usage") {
            return;
        }
        if let Ok(value) = serde_json::from_str::<Value>(data) {
            self.inner.observe(&value);
        }
    }

    /// An event already parsed.
    pub fn observe_value(&mut self, value: &Value) {
        self.inner.observe(value);
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
        if let Ok(UsageOnly { usage: Some(usage) }) = serde_json::from_slice(body) {
            // The other fields of an answer do not matter to the meter.
            let mut answer = serde_json::Map::new();
            answer.insert("usage".to_owned(), usage);
            self.inner.observe(&Value::Object(answer));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(meter: &Meter) -> Option<(u64, u64, Option<u64>)> {
        meter
            .usage()
            .map(|u| (u.input_tokens, u.output_tokens, u.cached_tokens))
    }

    #[test]
    fn chat_usage_comes_from_the_body_or_the_last_chunk() {
        let mut m = Meter::new(Api::Chat);
        m.observe_body(br#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":2}}}"#);
        assert_eq!(tokens(&m), Some((5, 7, Some(2))));
        let mut m = Meter::new(Api::Chat);
        m.observe_event(r#"{"choices":[{"delta":{"content":"usage"}}]}"#);
        assert_eq!(tokens(&m), None);
        m.observe_event(r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#);
        assert_eq!(tokens(&m), Some((3, 4, None)));
        let mut m = Meter::new(Api::Chat);
        m.observe_body(br#"{"choices":[]}"#);
        assert_eq!(tokens(&m), None);
    }

    #[test]
    fn anthropic_usage_adds_up_start_and_delta() {
        let mut m = Meter::new(Api::Messages);
        m.observe_event(r#"{"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":4,"output_tokens":1}}}"#);
        m.observe_event(r#"{"type":"message_delta","usage":{"output_tokens":12}}"#);
        assert_eq!(tokens(&m), Some((14, 12, Some(4))));
        let mut m = Meter::new(Api::Messages);
        m.observe_body(br#"{"type":"message","usage":{"input_tokens":2,"output_tokens":3}}"#);
        assert_eq!(tokens(&m), Some((2, 3, None)));
    }

    #[test]
    fn responses_usage_comes_from_completed_or_the_whole_answer() {
        let mut m = Meter::new(Api::Responses);
        m.observe_event(r#"{"type":"response.in_progress","response":{"usage":null}}"#);
        assert_eq!(tokens(&m), None);
        m.observe_event(r#"{"type":"response.completed","response":{"usage":{"input_tokens":8,"output_tokens":9,"input_tokens_details":{"cached_tokens":1}}}}"#);
        assert_eq!(tokens(&m), Some((8, 9, Some(1))));
        let mut m = Meter::new(Api::Responses);
        m.observe_body(br#"{"object":"response","status":"completed","usage":{"input_tokens":5,"output_tokens":7}}"#);
        assert_eq!(tokens(&m), Some((5, 7, None)));
    }
}
