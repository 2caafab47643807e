//! What a committed stream goes through on its way to the client: its events are read
//! for usage, and — only when needed — a chat stream is rewritten: the usage-only chunk
//! the gateway asked for on its own account is dropped (the client did not ask for it),
//! and with `--split-reasoning` a leading `<think>…</think>` block moves from `content`
//! to `reasoning_content`. Without a rewrite every byte passes unchanged, as it arrives.

use bytes::Bytes;
use hfclaw_router_client::sse::SseParser;
use hfclaw_router_client::think::{Split, ThinkSplitter};
use hfclaw_router_client::{ErrorKind, RouterError};
use serde_json::{Map, Value, json};

use crate::api::Api;
use crate::error::ApiError;
use hfclaw_accounting::Usage;

use crate::meter::Meter;

/// Per-stream state between the router and the client.
pub struct Tap {
    parser: SseParser,
    meter: Meter,
    rewrite: Option<ChatRewrite>,
    /// The parser gave up on the stream (an event past its cap).
    stopped: bool,
}

/// How a chat stream is rewritten.
struct ChatRewrite {
    /// Drop chunks that carry only usage (`"choices": []`).
    hide_usage_chunk: bool,
    /// Moves a leading think block of choice 0 into `reasoning_content`.
    splitter: Option<ThinkSplitter>,
}

impl Tap {
    /// A tap for a stream of `api`; the rewrites apply to chat streams only.
    pub fn new(api: Api, hide_usage_chunk: bool, split_reasoning: bool) -> Tap {
        let rewrite =
            (api == Api::Chat && (hide_usage_chunk || split_reasoning)).then(|| ChatRewrite {
                hide_usage_chunk,
                splitter: split_reasoning.then(ThinkSplitter::new),
            });
        Tap {
            parser: SseParser::new(),
            meter: Meter::new(api),
            rewrite,
            stopped: false,
        }
    }

    /// The usage the stream reported so far.
    pub fn usage(&self) -> Option<Usage> {
        self.meter.usage()
    }

    /// What the client gets for `chunk` (possibly nothing yet).
    pub fn chunk(&mut self, chunk: Bytes) -> Bytes {
        let Tap {
            parser,
            meter,
            rewrite,
            stopped,
        } = self;
        match rewrite {
            None => {
                // Bytes pass as they came; an event past the parser's cap only ends the
                // metering of this stream.
                if let Err(e) = parser.feed(&chunk, |e| meter.observe_event(e.data))
                    && !*stopped
                {
                    *stopped = true;
                    tracing::warn!(error = %e, "stopped reading a stream for usage");
                }
                chunk
            }
            Some(_) if *stopped => Bytes::new(),
            Some(rewrite) => {
                let mut out = Vec::with_capacity(chunk.len() + 64);
                let fed = parser.feed(&chunk, |e| rewrite.event(meter, e.event, e.data, &mut out));
                if let Err(e) = fed {
                    // What was held back cannot be rewritten: the client is told the answer
                    // broke off, and gets nothing more.
                    *stopped = true;
                    let error = RouterError::new(ErrorKind::BadResponse, e.to_string());
                    out.extend_from_slice(&ApiError::stream_event(Api::Chat, &error));
                }
                Bytes::from(out)
            }
        }
    }

    /// The end of the stream: what is still held back.
    pub fn finish(&mut self) -> Bytes {
        let Tap {
            parser,
            meter,
            rewrite,
            ..
        } = self;
        match rewrite {
            None => {
                parser.finish(|e| meter.observe_event(e.data));
                Bytes::new()
            }
            Some(rewrite) => {
                let mut out = Vec::new();
                parser.finish(|e| rewrite.event(meter, e.event, e.data, &mut out));
                rewrite.flush(&mut out);
                Bytes::from(out)
            }
        }
    }
}

impl ChatRewrite {
    fn event(&mut self, meter: &mut Meter, event: Option<&str>, data: &str, out: &mut Vec<u8>) {
        if data.trim() == "[DONE]" {
            self.flush(out);
            write_event(out, event, data);
            return;
        }
        let value = match serde_json::from_str::<Value>(data) {
            Ok(value @ Value::Object(_)) => value,
            _ => {
                write_event(out, event, data);
                return;
            }
        };
        meter.observe_value(&value);
        let Value::Object(mut chunk) = value else {
            return;
        };
        let choices = chunk.get("choices").and_then(Value::as_array);
        if self.hide_usage_chunk
            && choices.is_some_and(Vec::is_empty)
            && chunk.get("usage").is_some_and(|u| !u.is_null())
        {
            return;
        }
        if let Some(splitter) = &mut self.splitter {
            split_chunk(splitter, &mut chunk);
        }
        write_event(out, event, &Value::Object(chunk).to_string());
    }

    /// Releases text the splitter still holds, as a chunk of its own.
    fn flush(&mut self, out: &mut Vec<u8>) {
        let Some(splitter) = &mut self.splitter else {
            return;
        };
        let split = splitter.finish();
        if split.is_empty() {
            return;
        }
        let mut delta = Map::new();
        apply_split(&mut delta, split);
        let chunk = json!({
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": null}],
        });
        write_event(out, None, &chunk.to_string());
    }
}

/// Splits choice 0's `delta.content`; a chunk that finishes the choice releases what the
/// splitter holds.
fn split_chunk(splitter: &mut ThinkSplitter, chunk: &mut Map<String, Value>) {
    let Some(choice) = chunk
        .get_mut("choices")
        .and_then(Value::as_array_mut)
        .and_then(|choices| {
            choices
                .iter_mut()
                .find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
        })
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let finishing = choice.get("finish_reason").is_some_and(|f| !f.is_null());
    let Some(delta) = choice.get_mut("delta").and_then(Value::as_object_mut) else {
        return;
    };
    let mut split = match delta.get("content") {
        Some(Value::String(text)) if !splitter.is_passthrough() => {
            let split = splitter.push(text);
            delta.remove("content");
            split
        }
        _ => Split::default(),
    };
    if finishing {
        split.append(splitter.finish());
    }
    apply_split(delta, split);
}

fn apply_split(delta: &mut Map<String, Value>, split: Split) {
    if !split.reasoning.is_empty() {
        let reasoning = match delta.get("reasoning_content") {
            Some(Value::String(before)) => format!("{before}{}", split.reasoning),
            _ => split.reasoning,
        };
        delta.insert("reasoning_content".to_owned(), Value::String(reasoning));
    }
    if !split.content.is_empty() || !delta.contains_key("content") {
        delta.insert("content".to_owned(), Value::String(split.content));
    }
}

/// Moves a leading think block of every choice's `message.content` of a whole chat
/// answer into `message.reasoning_content`; `None` when there is none.
pub fn split_whole_answer(body: &[u8]) -> Option<Bytes> {
    if !crate::api::contains(body, b"<think>") {
        return None;
    }
    let mut answer: Value = serde_json::from_slice(body).ok()?;
    let mut changed = false;
    for choice in answer.get_mut("choices")?.as_array_mut()? {
        let Some(message) = choice.get_mut("message").and_then(Value::as_object_mut) else {
            continue;
        };
        let Some(Value::String(text)) = message.get("content") else {
            continue;
        };
        let mut splitter = ThinkSplitter::new();
        let mut split = splitter.push(text);
        split.append(splitter.finish());
        if split.reasoning.is_empty() && split.content == *text {
            continue;
        }
        message.insert("content".to_owned(), Value::String(split.content));
        message.insert(
            "reasoning_content".to_owned(),
            Value::String(split.reasoning),
        );
        changed = true;
    }
    changed.then(|| Bytes::from(answer.to_string()))
}

fn write_event(out: &mut Vec<u8>, event: Option<&str>, data: &str) {
    if let Some(name) = event {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    for line in data.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn chunk(delta: Value, finish: Option<&str>) -> String {
        let event = json!({"id": "c", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {event}\n\n")
    }

    fn usage_chunk() -> String {
        let event = json!({"id": "c", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}});
        format!("data: {event}\n\n")
    }

    /// Runs `stream` through a tap cut at byte `cut`; returns the client's bytes.
    fn run(tap: &mut Tap, stream: &str, cut: usize) -> String {
        let mut out = Vec::new();
        out.extend_from_slice(&tap.chunk(Bytes::copy_from_slice(&stream.as_bytes()[..cut])));
        out.extend_from_slice(&tap.chunk(Bytes::copy_from_slice(&stream.as_bytes()[cut..])));
        out.extend_from_slice(&tap.finish());
        String::from_utf8(out).unwrap()
    }

    fn events(text: &str) -> Vec<Value> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        parser
            .feed(text.as_bytes(), |e| {
                out.push(serde_json::from_str(e.data).unwrap_or(Value::String(e.data.to_owned())));
            })
            .unwrap();
        out
    }

    #[test]
    fn without_a_rewrite_bytes_pass_unchanged_and_usage_is_read() {
        let stream = [
            chunk(json!({"content": "Hi"}), None),
            usage_chunk(),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        for cut in 0..=stream.len() {
            let mut tap = Tap::new(Api::Chat, false, false);
            assert_eq!(run(&mut tap, &stream, cut), stream);
            assert_eq!(tap.usage().map(|u| u.total_tokens()), Some(7));
        }
    }

    #[test]
    fn the_usage_chunk_the_client_did_not_ask_for_is_dropped() {
        let stream = [
            chunk(json!({"content": "Hi"}), None),
            chunk(json!({}), Some("stop")),
            usage_chunk(),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        for cut in 0..=stream.len() {
            let mut tap = Tap::new(Api::Chat, true, false);
            let got = events(&run(&mut tap, &stream, cut));
            assert_eq!(got.len(), 3, "cut {cut}: {got:?}");
            assert!(got.iter().all(|e| e.get("usage").is_none()));
            assert_eq!(got[2], "[DONE]");
            assert_eq!(tap.usage().map(|u| u.output_tokens), Some(2));
        }
    }

    #[test]
    fn split_reasoning_moves_the_think_block_at_every_cut() {
        let stream = [
            chunk(json!({"role": "assistant", "content": ""}), None),
            chunk(json!({"content": "<thi"}), None),
            chunk(json!({"content": "nk>plan</thi"}), None),
            chunk(json!({"content": "nk>\n\nIt is"}), None),
            chunk(json!({"content": " 4."}), None),
            chunk(json!({}), Some("stop")),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        for cut in 0..=stream.len() {
            let mut tap = Tap::new(Api::Chat, false, true);
            let got = events(&run(&mut tap, &stream, cut));
            let join = |key: &str| -> String {
                got.iter()
                    .filter_map(|e| e["choices"][0]["delta"][key].as_str())
                    .collect()
            };
            assert_eq!(join("reasoning_content"), "plan", "cut {cut}");
            assert_eq!(join("content"), "It is 4.", "cut {cut}");
            assert_eq!(got.last().unwrap(), "[DONE]");
        }
    }

    #[test]
    fn an_unclosed_think_block_is_released_before_done() {
        let stream = [
            chunk(json!({"content": "<think>still"}), None),
            chunk(json!({"content": " going </thi"}), None),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        let mut tap = Tap::new(Api::Chat, false, true);
        let got = events(&run(&mut tap, &stream, 3));
        let reasoning: String = got
            .iter()
            .filter_map(|e| e["choices"][0]["delta"]["reasoning_content"].as_str())
            .collect();
        assert_eq!(reasoning, "still going </thi");
    }

    #[test]
    fn whole_answers_are_split_too() {
        let body = json!({"choices": [{"index": 0, "message": {"role": "assistant",
            "content": "<think>hmm</think>\n\nYes."}}]})
        .to_string();
        let split: Value =
            serde_json::from_slice(&split_whole_answer(body.as_bytes()).unwrap()).unwrap();
        assert_eq!(split["choices"][0]["message"]["content"], "Yes.");
        assert_eq!(split["choices"][0]["message"]["reasoning_content"], "hmm");
        let plain = json!({"choices": [{"message": {"content": "say <think>"}}]}).to_string();
        assert!(split_whole_answer(plain.as_bytes()).is_none());
    }

    #[test]
    fn other_apis_are_only_metered() {
        let stream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}\n\n";
        let mut tap = Tap::new(Api::Messages, true, true);
        assert_eq!(run(&mut tap, stream, 17), stream);
        assert_eq!(tap.usage().map(|u| u.total_tokens()), Some(12));
    }

    #[test]
    fn an_event_past_the_parser_s_cap_ends_a_rewritten_stream_with_an_error_event() {
        let huge = Bytes::from(vec![b'x'; hfclaw_router_client::sse::MAX_EVENT_BYTES + 1]);
        // Rewritten: what was held back is lost, so the client is told and gets nothing more.
        let mut tap = Tap::new(Api::Chat, true, false);
        assert!(tap.chunk(Bytes::from_static(b"data: ")).is_empty());
        let out = tap.chunk(huge.clone());
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("data: {\"error\""), "{text}");
        assert!(text.contains("larger than 16 MiB"), "{text}");
        assert!(
            tap.chunk(Bytes::from_static(b"data: [DONE]\n\n"))
                .is_empty()
        );
        // Passed through: every byte still reaches the client; only metering stops.
        let mut tap = Tap::new(Api::Chat, false, false);
        assert_eq!(tap.chunk(huge.clone()).len(), huge.len());
        assert_eq!(&tap.chunk(Bytes::from_static(b"\n\n"))[..], b"\n\n");
        assert!(tap.usage().is_none());
    }
}
