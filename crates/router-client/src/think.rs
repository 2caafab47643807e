//! Inline reasoning: some providers stream a reasoning model's thoughts inside the answer
//! text as a leading `<think>…</think>` block (DeepSeek-R1 on some backends does) instead
//! of in `reasoning_content`. [`ThinkSplitter`] separates that block from the answer as
//! the text arrives, in pieces split anywhere (`<thi` + `nk>` included).
//!
//! Only a block at the very start of the answer counts (leading whitespace aside): an
//! answer that mentions `<think>` later is answer text, left alone.
//!
//! ```
//! use hfclaw_router_client::ThinkSplitter;
//!
//! let mut splitter = ThinkSplitter::new();
//! let mut a = splitter.push("<thi");
//! let b = splitter.push("nk>plan</think>\n\nHello");
//! a.append(b);
//! a.append(splitter.finish());
//! assert_eq!((a.reasoning.as_str(), a.content.as_str()), ("plan", "Hello"));
//! ```

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// What one piece of answer text turned out to hold.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Split {
    /// Text inside the leading `<think>` block.
    pub reasoning: String,
    /// Answer text.
    pub content: String,
}

impl Split {
    /// True when the piece holds nothing to pass on yet.
    pub fn is_empty(&self) -> bool {
        self.reasoning.is_empty() && self.content.is_empty()
    }

    /// Appends `other` (the next piece's split).
    pub fn append(&mut self, other: Split) {
        self.reasoning.push_str(&other.reasoning);
        self.content.push_str(&other.content);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing but whitespace (or a prefix of `<think>`) seen so far.
    Start,
    /// Inside the block.
    Think,
    /// After `</think>`: whitespace before the answer is dropped.
    AfterThink,
    /// Answer text: passed through as is.
    Answer,
}

/// Splits a leading `<think>…</think>` block out of streamed answer text.
#[derive(Debug, Clone)]
pub struct ThinkSplitter {
    state: State,
    /// Text that may still turn out to be (part of) a tag.
    held: String,
}

impl Default for ThinkSplitter {
    fn default() -> Self {
        ThinkSplitter::new()
    }
}

impl ThinkSplitter {
    /// A splitter at the start of an answer.
    pub fn new() -> ThinkSplitter {
        ThinkSplitter {
            state: State::Start,
            held: String::new(),
        }
    }

    /// True once the answer is known to hold no (more) block: every later piece is
    /// answer text unchanged.
    pub fn is_passthrough(&self) -> bool {
        self.state == State::Answer
    }

    /// The next piece of answer text.
    pub fn push(&mut self, text: &str) -> Split {
        let mut out = Split::default();
        if self.state == State::Answer {
            out.content.push_str(text);
            return out;
        }
        let mut rest = std::mem::take(&mut self.held);
        rest.push_str(text);
        let mut rest = rest.as_str();
        loop {
            match self.state {
                State::Start => {
                    let trimmed = rest.trim_start();
                    if let Some(after) = trimmed.strip_prefix(OPEN) {
                        self.state = State::Think;
                        rest = after;
                    } else if OPEN.starts_with(trimmed) {
                        // Whitespace, or a tag still arriving.
                        self.held.push_str(rest);
                        return out;
                    } else {
                        self.state = State::Answer;
                        out.content.push_str(rest);
                        return out;
                    }
                }
                State::Think => {
                    if let Some(end) = rest.find(CLOSE) {
                        out.reasoning.push_str(&rest[..end]);
                        rest = &rest[end + CLOSE.len()..];
                        self.state = State::AfterThink;
                    } else {
                        let keep = partial_suffix(rest, CLOSE);
                        let split = rest.len() - keep;
                        out.reasoning.push_str(&rest[..split]);
                        self.held.push_str(&rest[split..]);
                        return out;
                    }
                }
                State::AfterThink => {
                    let trimmed = rest.trim_start();
                    if !trimmed.is_empty() {
                        self.state = State::Answer;
                        out.content.push_str(trimmed);
                    }
                    return out;
                }
                State::Answer => {
                    out.content.push_str(rest);
                    return out;
                }
            }
        }
    }

    /// The end of the answer: what was held back as a possible tag is released (as
    /// answer text before a block began, as reasoning inside an unclosed block).
    pub fn finish(&mut self) -> Split {
        let held = std::mem::take(&mut self.held);
        let mut out = Split::default();
        match self.state {
            State::Start => out.content = held,
            State::Think => out.reasoning = held,
            State::AfterThink | State::Answer => {}
        }
        self.state = State::Answer;
        out
    }
}

/// The length of the longest proper suffix of `text` that is a prefix of `tag` (ASCII).
fn partial_suffix(text: &str, tag: &str) -> usize {
    (1..tag.len().min(text.len() + 1))
        .rev()
        .find(|&k| text.as_bytes().ends_with(&tag.as_bytes()[..k]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `text` into pieces at the given byte offsets and joins what comes out.
    fn run(pieces: &[&str]) -> (String, String) {
        let mut splitter = ThinkSplitter::new();
        let mut all = Split::default();
        for piece in pieces {
            all.append(splitter.push(piece));
        }
        all.append(splitter.finish());
        (all.reasoning, all.content)
    }

    /// Every way of cutting `text` into three pieces gives the same split.
    fn check(text: &str, reasoning: &str, content: &str) {
        let bounds: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for &i in &bounds {
            for &j in bounds.iter().filter(|&&j| j >= i) {
                let got = run(&[&text[..i], &text[i..j], &text[j..]]);
                assert_eq!(
                    (got.0.as_str(), got.1.as_str()),
                    (reasoning, content),
                    "{text:?} cut at {i}, {j}"
                );
            }
        }
    }

    #[test]
    fn a_leading_think_block_is_reasoning_at_every_cut() {
        check(
            "<think>\nplan the answer</think>\n\nHello!",
            "\nplan the answer",
            "Hello!",
        );
        check("  <think>a</think>b", "a", "b");
        check("<think></think>answer", "", "answer");
    }

    #[test]
    fn think_mentioned_later_is_answer_text() {
        check(
            "Use <think> tags like <think>x</think>",
            "",
            "Use <think> tags like <think>x</think>",
        );
        check(
            "<think>r</think>ok, <think>later</think>",
            "r",
            "ok, <think>later</think>",
        );
        check("<thinking>no</thinking>", "", "<thinking>no</thinking>");
        check("é<think>x", "", "é<think>x");
    }

    #[test]
    fn unfinished_tags_are_released_at_the_end() {
        check("<thi", "", "<thi");
        check("  ", "", "  ");
        check("<think>still thinking </thi", "still thinking </thi", "");
        check("<think>only</think>\n\n", "only", "");
    }

    #[test]
    fn once_decided_the_text_passes_through() {
        let mut splitter = ThinkSplitter::new();
        assert!(!splitter.is_passthrough());
        assert_eq!(splitter.push("Hi").content, "Hi");
        assert!(splitter.is_passthrough());
        assert_eq!(splitter.push("<think>").content, "<think>");
    }
}

#[cfg(test)]
mod stream_tests {
    #![allow(clippy::unwrap_used)]
    use crate::client::ChatStream;
    use crate::sse::ChatEvent;

    #[tokio::test]
    async fn chat_streams_surface_a_leading_think_block_as_reasoning() {
        let events = ["<thi", "nk>weigh it", "</th", "ink>\n\nIt is 4."]
            .into_iter()
            .map(|t| ChatEvent::Content(t.to_owned()))
            .chain([ChatEvent::Finish("stop".to_owned()), ChatEvent::Done])
            .collect();
        let mut stream = ChatStream::from_events("m/x".to_owned(), events, None);
        let (mut reasoning, mut content) = (String::new(), String::new());
        while let Some(event) = stream.next_event().await {
            match event.unwrap() {
                ChatEvent::Reasoning(r) => reasoning.push_str(&r),
                ChatEvent::Content(c) => content.push_str(&c),
                _ => {}
            }
        }
        assert_eq!(
            (reasoning.as_str(), content.as_str()),
            ("weigh it", "It is 4.")
        );
        assert!(stream.emitted_reasoning() && stream.emitted_content());
    }
}
