//! Server-sent events: an incremental, synchronous parser and the decoding of OpenAI chat
//! completion chunks into [`ChatEvent`]s.
//!
//! The parser accepts chunks split at any byte (inside a UTF-8 character, between `\r`
//! and `\n`) and gives the same events as for the whole stream. Lines end with `\n`,
//! `\r\n` or `\r`; `data:` lines of one event are joined with `\n`; comment lines (`:`)
//! are ignored; a UTF-8 BOM at the start is skipped. Complete lines are read in place from
//! the chunk; only a line split across chunks is copied. An event (its lines or its joined
//! data) larger than [`MAX_EVENT_BYTES`] is an error ([`SseError`]), so a stream that never
//! ends a line cannot fill the memory.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::chat::Usage;
use crate::error::{ErrorKind, RouterError};

/// The largest event the parser holds (a line being read, or an event's joined data):
/// 16 MiB, far above any real chunk (a chat delta is a few hundred bytes; a whole answer
/// of a million tokens in one event is about 4 MiB).
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// Why a stream cannot be parsed further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A line or an event's data passed [`MAX_EVENT_BYTES`].
    #[error("the stream sent an event larger than {} MiB without ending it", MAX_EVENT_BYTES / (1024 * 1024))]
    EventTooLarge,
}

/// One server-sent event, borrowed from the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The `event:` field, when set.
    pub event: Option<&'a str>,
    /// The `data:` lines joined with `\n`.
    pub data: &'a str,
}

/// One server-sent event, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedSseEvent {
    /// The `event:` field, when set.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

impl From<SseEvent<'_>> for OwnedSseEvent {
    fn from(e: SseEvent<'_>) -> Self {
        OwnedSseEvent {
            event: e.event.map(str::to_owned),
            data: e.data.to_owned(),
        }
    }
}

/// Incremental SSE parser; feed it chunks as they arrive.
#[derive(Debug, Default)]
pub struct SseParser {
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
    /// Data of the event being read.
    data: Vec<u8>,
    /// Whether a `data` field was seen for the event being read.
    has_data: bool,
    /// The `event` field of the event being read.
    event: Vec<u8>,
    /// The previous chunk ended with `\r`: a leading `\n` belongs to that line end.
    skip_lf: bool,
    /// No line has been completed yet (for the BOM check).
    at_start: bool,
    /// An event passed [`MAX_EVENT_BYTES`]: nothing more is parsed.
    too_large: bool,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> SseParser {
        SseParser {
            at_start: true,
            ..SseParser::default()
        }
    }

    /// Feeds a chunk, calling `on_event` for each event it completes. Once an event passes
    /// [`MAX_EVENT_BYTES`] the parser lets go of what it held and every call fails.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        mut on_event: impl FnMut(SseEvent<'_>),
    ) -> Result<(), SseError> {
        if self.too_large {
            return Err(SseError::EventTooLarge);
        }
        let mut rest = chunk;
        if rest.is_empty() {
            return Ok(());
        }
        if self.skip_lf {
            self.skip_lf = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(i) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            if self.partial.is_empty() {
                self.line(&rest[..i], &mut on_event);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&rest[..i]);
                self.line(&line, &mut on_event);
                line.clear();
                self.partial = line;
            }
            let mut end = i + 1;
            if rest[i] == b'\r' {
                match rest.get(end) {
                    Some(b'\n') => end += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            rest = &rest[end..];
            if self.too_large {
                return self.give_up();
            }
        }
        if self.partial.len() + rest.len() > MAX_EVENT_BYTES {
            return self.give_up();
        }
        self.partial.extend_from_slice(rest);
        Ok(())
    }

    /// An event passed the cap: frees what was held.
    fn give_up(&mut self) -> Result<(), SseError> {
        self.too_large = true;
        self.partial = Vec::new();
        self.data = Vec::new();
        self.event = Vec::new();
        Err(SseError::EventTooLarge)
    }

    /// Feeds a chunk and returns the events it completes, owned.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<OwnedSseEvent>, SseError> {
        let mut out = Vec::new();
        self.feed(chunk, |e| out.push(e.into()))?;
        Ok(out)
    }

    /// Ends the stream: an unterminated last line and a pending event are delivered
    /// (leniently, for servers that close without the final blank line).
    pub fn finish(&mut self, mut on_event: impl FnMut(SseEvent<'_>)) {
        if self.too_large {
            return;
        }
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line, &mut on_event);
        }
        self.dispatch(&mut on_event);
        self.skip_lf = false;
    }

    fn line(&mut self, mut line: &[u8], on_event: &mut impl FnMut(SseEvent<'_>)) {
        if self.at_start {
            self.at_start = false;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(on_event);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                if self.data.len() + value.len() + 1 > MAX_EVENT_BYTES {
                    self.too_large = true;
                    return;
                }
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                self.event.extend_from_slice(value);
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, on_event: &mut impl FnMut(SseEvent<'_>)) {
        if self.has_data {
            let data = String::from_utf8_lossy(&self.data);
            let event = String::from_utf8_lossy(&self.event);
            on_event(SseEvent {
                event: (!event.is_empty()).then_some(&*event),
                data: &data,
            });
        }
        self.data.clear();
        self.event.clear();
        self.has_data = false;
    }
}

/// What a chat completion stream says, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// Answer text (`delta.content`).
    Content(String),
    /// Reasoning text (`delta.reasoning_content`, else HF's `delta.reasoning`).
    Reasoning(String),
    /// Token usage (may come more than once; the last one wins).
    Usage(Usage),
    /// `finish_reason` of the first choice, e.g. `stop` or `length`.
    Finish(String),
    /// An `{"error": …}` event (or an `event: error`).
    Error(RouterError),
    /// `data: [DONE]`.
    Done,
}

/// Decodes one SSE event of a chat completion stream into `out`.
///
/// Data that is not JSON, and chunks without anything this crate surfaces, add nothing.
pub fn decode_event(event: SseEvent<'_>, out: &mut Vec<ChatEvent>) {
    let data = event.data.trim();
    if data == "[DONE]" {
        out.push(ChatEvent::Done);
        return;
    }
    if event.event == Some("error") {
        let error = match serde_json::from_str::<serde_json::Value>(data) {
            Ok(value) => RouterError::from_error_event(&value),
            Err(_) => RouterError::new(ErrorKind::Upstream, data),
        };
        out.push(ChatEvent::Error(error));
        return;
    }
    let chunk: Chunk<'_> = match serde_json::from_str(data) {
        Ok(chunk) => chunk,
        Err(e) => {
            tracing::debug!(error = %e, bytes = data.len(), "ignoring an event that is not a chat chunk");
            return;
        }
    };
    if let Some(error) = chunk.error.filter(|e| e.get() != "null") {
        let value = serde_json::json!({ "error": serde_json::from_str::<serde_json::Value>(error.get()).unwrap_or_default() });
        out.push(ChatEvent::Error(RouterError::from_error_event(&value)));
        return;
    }
    if let Some(choice) = chunk
        .choices
        .into_iter()
        .flatten()
        .find(|c| c.index.unwrap_or(0) == 0)
    {
        if let Some(mut delta) = choice.delta {
            if let Some(text) = delta.take_reasoning() {
                out.push(ChatEvent::Reasoning(text.into_owned()));
            }
            if let Some(text) = delta.content.0.filter(|t| !t.is_empty()) {
                out.push(ChatEvent::Content(text.into_owned()));
            }
        }
        if let Some(reason) = choice.finish_reason.0.filter(|r| !r.is_empty()) {
            out.push(ChatEvent::Finish(reason.into_owned()));
        }
    }
    if let Some(usage) = chunk.usage {
        out.push(ChatEvent::Usage(usage.into_usage()));
    }
}

/// SSE parser and chunk decoder in one: bytes in, [`ChatEvent`]s out.
#[derive(Debug)]
pub struct ChatDecoder {
    parser: SseParser,
    /// The parser failed and the error was reported.
    failed: bool,
}

impl Default for ChatDecoder {
    fn default() -> Self {
        ChatDecoder::new()
    }
}

impl ChatDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> ChatDecoder {
        ChatDecoder {
            parser: SseParser::new(),
            failed: false,
        }
    }

    /// Feeds a chunk; decoded events are appended to `out`.
    /// A stream the parser cannot read further gives one [`ChatEvent::Error`]
    /// (`BadResponse`), then nothing.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<ChatEvent>) {
        if let Err(e) = self.parser.feed(chunk, |e| decode_event(e, out))
            && !self.failed
        {
            self.failed = true;
            out.push(ChatEvent::Error(RouterError::new(
                ErrorKind::BadResponse,
                e.to_string(),
            )));
        }
    }

    /// Ends the stream, delivering an event left without its final blank line.
    pub fn finish(&mut self, out: &mut Vec<ChatEvent>) {
        self.parser.finish(|e| decode_event(e, out));
    }
}

/// Decodes a whole chat completion stream at once (tests and benchmarks).
pub fn decode_all(bytes: &[u8]) -> Vec<ChatEvent> {
    let mut out = Vec::new();
    let mut decoder = ChatDecoder::new();
    decoder.push(bytes, &mut out);
    decoder.finish(&mut out);
    out
}

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    choices: Option<Vec<ChunkChoice<'a>>>,
    #[serde(default)]
    usage: Option<LooseUsage>,
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ChunkChoice<'a> {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default, borrow)]
    delta: Option<MessageText<'a>>,
    #[serde(default, borrow)]
    finish_reason: LooseStr<'a>,
}

/// The text of a stream delta or of a whole answer's `message`: content, and reasoning
/// under either name the router uses.
#[derive(Deserialize)]
pub(crate) struct MessageText<'a> {
    #[serde(default, borrow)]
    pub(crate) content: LooseStr<'a>,
    #[serde(default, borrow)]
    reasoning_content: LooseStr<'a>,
    #[serde(default, borrow)]
    reasoning: LooseStr<'a>,
}

impl<'a> MessageText<'a> {
    /// Non-empty reasoning: `reasoning_content`, else HF's `reasoning`.
    pub(crate) fn take_reasoning(&mut self) -> Option<Cow<'a, str>> {
        self.reasoning_content
            .0
            .take()
            .or(self.reasoning.0.take())
            .filter(|r| !r.is_empty())
    }
}

/// Usage numbers, each read leniently (a missing or odd value is 0).
#[derive(Deserialize)]
pub(crate) struct LooseUsage {
    #[serde(default)]
    prompt_tokens: LooseU64,
    #[serde(default)]
    completion_tokens: LooseU64,
    #[serde(default)]
    total_tokens: LooseU64,
}

impl LooseUsage {
    pub(crate) fn into_usage(self) -> Usage {
        let prompt = self.prompt_tokens.0;
        let completion = self.completion_tokens.0;
        let total = if self.total_tokens.0 == 0 {
            prompt + completion
        } else {
            self.total_tokens.0
        };
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: total,
        }
    }
}

/// Visitor methods that read every other JSON shape as the default value.
macro_rules! other_as_absent {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Default::default())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Default::default())
        }
    };
}

/// A string, or anything else read as absent (so one odd field never costs a chunk).
#[derive(Default)]
pub(crate) struct LooseStr<'a>(pub(crate) Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for LooseStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LooseStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or anything")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(LooseStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(LooseStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(LooseStr(Some(Cow::Owned(v))))
            }
            other_as_absent!();
        }
        d.deserialize_any(V)
    }
}

/// A non-negative integer, or anything else read as 0.
#[derive(Default)]
struct LooseU64(u64);

impl<'de> Deserialize<'de> for LooseU64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LooseU64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or anything")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(LooseU64(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(LooseU64(u64::try_from(v).unwrap_or(0)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                let ok = v.is_finite() && v >= 0.0 && v <= u64::MAX as f64;
                Ok(LooseU64(if ok { v as u64 } else { 0 }))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(LooseU64(v.trim().parse().unwrap_or(0)))
            }
            other_as_absent!();
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<OwnedSseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(p.push(c).unwrap());
        }
        p.finish(|e| out.push(e.into()));
        out
    }

    fn ev(event: Option<&str>, data: &str) -> OwnedSseEvent {
        OwnedSseEvent {
            event: event.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    #[test]
    fn fields_comments_and_multiline_data() {
        let got = events(&[b": keep-alive\n\nevent: error\ndata: a\ndata:b\nid: 7\nretry: 10\n\ndata\n\nfoo: bar\n\n"]);
        assert_eq!(got, [ev(Some("error"), "a\nb"), ev(None, "")]);
    }

    #[test]
    fn all_line_endings() {
        let got = events(&[b"data: 1\r\n\r\ndata: 2\r\rdata: 3\n\n"]);
        assert_eq!(got, [ev(None, "1"), ev(None, "2"), ev(None, "3")]);
    }

    #[test]
    fn cr_then_lf_in_the_next_chunk_is_one_line_end() {
        let got = events(&[b"data: 1\r", b"\ndata: 2\r", b"\r", b"\n"]);
        assert_eq!(got, [ev(None, "1\n2")]);
    }

    #[test]
    fn bom_and_split_utf8() {
        let text = "\u{feff}data: héllo ✓\n\n".as_bytes();
        for i in 0..text.len() {
            assert_eq!(
                events(&[&text[..i], &text[i..]]),
                [ev(None, "héllo ✓")],
                "split at {i}"
            );
        }
    }

    #[test]
    fn unterminated_last_event_is_delivered_at_finish() {
        assert_eq!(events(&[b"data: [DONE]"]), [ev(None, "[DONE]")]);
        assert_eq!(events(&[b"data: x\n"]), [ev(None, "x")]);
        assert_eq!(events(&[b""]), []);
    }

    #[test]
    fn decodes_content_reasoning_finish_usage_done() {
        let stream = concat!(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"think\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"more\",\"content\":null}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi \\\"there\\\"\"},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}\n\n",
            "data: [DONE]\n\n",
        );
        assert_eq!(
            decode_all(stream.as_bytes()),
            [
                ChatEvent::Reasoning("think".into()),
                ChatEvent::Reasoning("more".into()),
                ChatEvent::Content("Hi \"there\"".into()),
                ChatEvent::Finish("stop".into()),
                ChatEvent::Usage(Usage {
                    prompt_tokens: 5,
                    completion_tokens: 7,
                    total_tokens: 12
                }),
                ChatEvent::Done,
            ]
        );
    }

    #[test]
    fn odd_chunks_are_tolerated() {
        let stream = concat!(
            "data: not json\n\n",
            "data: {\"choices\":null}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"a\",\"reasoning\":{\"x\":1}}}]}\n\n",
            "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"other choice\"}}]}\n\n",
            "data: {\"usage\":{\"prompt_tokens\":\"3\",\"completion_tokens\":2.0}}\n\n",
        );
        assert_eq!(
            decode_all(stream.as_bytes()),
            [
                ChatEvent::Content("a".into()),
                ChatEvent::Usage(Usage {
                    prompt_tokens: 3,
                    completion_tokens: 2,
                    total_tokens: 5
                }),
            ]
        );
    }

    #[test]
    fn error_events() {
        let stream = concat!(
            "data: {\"choices\":[{\"delta\":{\"content\":\"partial\"}}]}\n\n",
            "data: {\"error\":{\"message\":\"provider crashed\",\"type\":\"server_error\"}}\n\n",
            "event: error\ndata: {\"error\":\"rate limit\",\"code\":429}\n\n",
            "event: error\ndata: plain text\n\n",
        );
        let got = decode_all(stream.as_bytes());
        assert_eq!(got[0], ChatEvent::Content("partial".into()));
        let ChatEvent::Error(e) = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::Upstream, "provider crashed")
        );
        let ChatEvent::Error(e) = &got[2] else {
            panic!("{got:?}")
        };
        assert_eq!(e.message, "rate limit");
        let ChatEvent::Error(e) = &got[3] else {
            panic!("{got:?}")
        };
        assert_eq!(e.message, "plain text");
        assert_eq!(got.len(), 4);
    }

    const STREAM: &str = concat!(
        ": ping\r\n\r\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"Let me think… ✓\"}}]}\r\n\r\n",
        "event: message\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Bonjour, ça va ? 🙂\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"line1\\nline2\"}}]}\r\r",
        "data: {\"choices\":\r\ndata: [{\"index\":0,\"delta\":{\"content\":\"split\"}}]}\r\n\r\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n",
        "\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n",
        "data: [DONE]\n\n",
    );

    fn decode_chunks(chunks: &[&[u8]]) -> Vec<ChatEvent> {
        let mut decoder = ChatDecoder::new();
        let mut out = Vec::new();
        for c in chunks {
            decoder.push(c, &mut out);
        }
        decoder.finish(&mut out);
        out
    }

    #[test]
    fn every_single_split_gives_the_same_events() {
        let bytes = STREAM.as_bytes();
        let whole = decode_all(bytes);
        assert_eq!(whole.len(), 7, "{whole:?}");
        assert_eq!(whole[3], ChatEvent::Content("split".into()));
        for i in 0..=bytes.len() {
            assert_eq!(
                decode_chunks(&[&bytes[..i], &bytes[i..]]),
                whole,
                "split at {i}"
            );
        }
        for j in 1..bytes.len() {
            for i in 0..j {
                assert_eq!(
                    decode_chunks(&[&bytes[..i], &bytes[i..j], &bytes[j..]]),
                    whole,
                    "split at {i} and {j}"
                );
            }
        }
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(decode_chunks(&bytewise), whole);
    }

    proptest::proptest! {
        #[test]
        fn random_splits_give_the_same_events(cuts in proptest::collection::vec(0..STREAM.len(), 0..24)) {
            let bytes = STREAM.as_bytes();
            let mut cuts = cuts;
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut start = 0;
            for cut in cuts {
                chunks.push(&bytes[start..cut]);
                start = cut;
            }
            chunks.push(&bytes[start..]);
            proptest::prop_assert_eq!(decode_chunks(&chunks), decode_all(bytes));
        }

        #[test]
        fn parser_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512), cut in 0usize..512) {
            let cut = cut.min(bytes.len());
            let _ = decode_chunks(&[&bytes[..cut], &bytes[cut..]]);
        }
    }

    #[test]
    fn an_event_past_the_cap_is_an_error_and_frees_its_buffer() {
        // A line that never ends, fed in 1 MiB reads: refused once it passes 16 MiB.
        let mut p = SseParser::new();
        let read = vec![b'x'; 1024 * 1024];
        assert_eq!(p.feed(b"data: ", |_| {}), Ok(()));
        let mut fed = 6;
        let error = loop {
            match p.feed(&read, |_| panic!("no event")) {
                Ok(()) => fed += read.len(),
                Err(e) => break e,
            }
            assert!(fed <= MAX_EVENT_BYTES, "still buffering at {fed} bytes");
        };
        assert_eq!(error, SseError::EventTooLarge);
        assert!(error.to_string().contains("larger than 16 MiB"), "{error}");
        assert_eq!(p.partial.capacity(), 0);
        // Every later read fails too, and nothing is delivered at the end.
        assert_eq!(
            p.feed(b"\n\ndata: ok\n\n", |_| panic!("no event")),
            Err(error)
        );
        p.finish(|_| panic!("no event"));

        // Many complete `data:` lines of one event, joined past the cap, fail the same way.
        let mut p = SseParser::new();
        let line = format!("data: {}\n", "y".repeat(1024 * 1024));
        let mut result = Ok(());
        for _ in 0..17 {
            result = p.feed(line.as_bytes(), |_| panic!("no event"));
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(SseError::EventTooLarge));
        assert_eq!(p.data.capacity(), 0);

        // Just under the cap is an event like any other.
        let mut p = SseParser::new();
        let big = "z".repeat(MAX_EVENT_BYTES - 16);
        let got = p.push(format!("data: {big}\n\n").as_bytes()).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data.len(), big.len());
    }

    #[test]
    fn a_chat_stream_past_the_cap_ends_with_one_error() {
        let mut decoder = ChatDecoder::new();
        let mut out = Vec::new();
        decoder.push(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n",
            &mut out,
        );
        let huge = vec![b'x'; MAX_EVENT_BYTES + 1];
        decoder.push(b"data: ", &mut out);
        decoder.push(&huge, &mut out);
        decoder.push(b"more", &mut out);
        decoder.finish(&mut out);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0], ChatEvent::Content("Hi".to_owned()));
        let ChatEvent::Error(error) = &out[1] else {
            panic!("{out:?}")
        };
        assert_eq!(error.kind, ErrorKind::BadResponse);
        assert!(error.to_string().contains("larger than 16 MiB"), "{error}");
    }
}
