//! The `request_body` target: the gateway's scan-and-splice of request bodies
//! ([`JsonBody`]) against the parse-and-encode path it replaced (the body read into a
//! `serde_json` map, members inserted, the map encoded for each attempt).
//!
//! Input: one selector byte (which model each attempt gets, which member the gateway
//! sets first), then the body. Properties:
//! - every body the old path accepted is accepted; one it refused is accepted only for a
//!   reason the old path had from building values (nesting past 128 levels, a number
//!   beyond `f64`, a lone surrogate escape);
//! - the members the gateway reads (`model`, `stream`, `messages`, `input`, the output
//!   limits) read alike, and every image part a tree finds, the walk finds;
//! - the spliced body is a JSON document equal to the old encoding, and byte for byte the
//!   client's body outside the values of `model` and the member set (added ones included).

use std::ops::Range;

use bytes::Bytes;
use hfclaw_router_client::JsonBody;
use serde_json::{Map, Value, json};

/// Models an attempt may carry: plain, suffixed, and ones that need escapes.
const MODELS: [&str; 5] = [
    "m",
    "deepseek-ai/DeepSeek-R1:fastest",
    "a\"b\\c/d",
    "é\u{2028}\u{0}\u{1f600}",
    "",
];

/// What the gateway may set before the attempts (none, what it adds for a chat stream, a
/// new member, the model itself).
fn member_set(selector: u8) -> Option<(&'static str, Value)> {
    match (selector / 5) % 4 {
        0 => None,
        1 => Some((
            "stream_options",
            json!({"include_usage": true, "x": [1, "é"]}),
        )),
        2 => Some(("zz", json!(null))),
        _ => Some(("model", json!("first"))),
    }
}

pub(crate) const DICTIONARY: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    " ",
    "\n",
    "\"model\":",
    "\"model\":null",
    "\"model\":\"a\"",
    "\"mod\\u0065l\":",
    "\"stream\":true",
    "\"stream\":false",
    "\"messages\":[]",
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]",
    "\"input\":null",
    "\"input\":\"x\"",
    "\"type\":\"image_url\"",
    "\"type\":\"input_image\"",
    "\"content\":[{\"type\":\"image_url\"}]",
    "\"max_tokens\":",
    "\"max_output_tokens\":1.0",
    "\"stream_options\":{\"include_usage\":false}",
    "\"seed\":123456789012345678901234567890",
    "1e400",
    "-0.0",
    "\\ud800",
    "\\ud83d\\ude00",
    "\\u0000",
    "\\/",
    "[[[[[[[[",
    "é",
    "\u{2028}",
];

/// Runs one input.
pub(crate) fn run(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    check(
        body,
        member_set(selector),
        MODELS[selector as usize % MODELS.len()],
    );
}

type Object = Map<String, Value>;

/// The tree's answer: an object at any depth whose `type` is one of `types`. (A key
/// written twice reads as its last value here; the walk may also see the first, so only
/// this direction is a property.)
fn has_typed_part(value: &Value, types: &[&str]) -> bool {
    match value {
        Value::Object(map) => {
            map.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| types.contains(&t))
                || map.values().any(|v| has_typed_part(v, types))
        }
        Value::Array(items) => items.iter().any(|v| has_typed_part(v, types)),
        _ => false,
    }
}

/// The old path: the body read into a map, the members inserted; what it read, and the
/// document it encoded (compared as a value: serde_json's encoding of a float it read
/// does not always read back as the same float, one more thing the splice avoids).
fn encoded_as_before(
    body: &[u8],
    set: Option<&(&str, Value)>,
    model: &str,
) -> Result<(Object, Object), serde_json::Error> {
    let read: Object = serde_json::from_slice(body)?;
    let mut map = read.clone();
    if let Some((key, value)) = set {
        map.insert((*key).to_owned(), value.clone());
    }
    map.insert("model".to_owned(), Value::String(model.to_owned()));
    serde_json::to_vec(&map)?;
    Ok((read, map))
}

/// Errors of the old path that come from building values, not from the syntax.
fn built_values_only(error: &serde_json::Error) -> bool {
    let message = error.to_string();
    [
        "recursion limit exceeded",
        "number out of range",
        "surrogate",
        "end of hex escape",
        "unicode code point",
    ]
    .iter()
    .any(|reason| message.contains(reason))
}

fn check(body: &[u8], set: Option<(&str, Value)>, model: &str) {
    let old = encoded_as_before(body, set.as_ref(), model);
    let scanned = JsonBody::parse(Bytes::copy_from_slice(body));
    let (read, as_before, mut new) = match (old, scanned) {
        (Ok((read, encoded)), Ok(new)) => (read, encoded, new),
        (Err(_), Err(_)) => return,
        (Ok(_), Err(e)) => panic!("the scan refuses a body the old path took: {e}"),
        (Err(e), Ok(_)) => {
            assert!(
                built_values_only(&e),
                "the scan takes a body the old path refused for its syntax: {e}"
            );
            return;
        }
    };
    // The members the gateway reads.
    assert_eq!(
        new.get::<Value>("model").map(Result::ok),
        read.get("model").map(|v| Some(v.clone()))
    );
    assert_eq!(
        new.is_true("stream"),
        read.get("stream").and_then(Value::as_bool) == Some(true)
    );
    assert_eq!(
        new.is_non_empty_array("messages"),
        read.get("messages")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    );
    assert_eq!(
        new.is_absent_or_null("input"),
        read.get("input").is_none_or(Value::is_null)
    );
    // Image parts (what a fallback must see): every one a tree finds, the walk finds.
    for (member, types) in [
        ("messages", &["image_url"][..]),
        ("input", &["input_image"]),
    ] {
        if read.get(member).is_some_and(|v| has_typed_part(v, types)) {
            assert!(
                new.has_typed_part(member, types),
                "the walk misses a {types:?} part in {member}"
            );
        }
    }
    for limit in ["max_tokens", "max_completion_tokens", "max_output_tokens"] {
        assert_eq!(
            new.get::<u64>(limit).and_then(Result::ok),
            read.get(limit).and_then(Value::as_u64)
        );
    }
    if let Some((key, value)) = &set {
        new.set(key, value);
    }
    let sent = new.with_model(model);
    // The same document …
    let as_sent: Value = serde_json::from_slice(&sent).unwrap_or_else(|e| {
        panic!(
            "the spliced body is not JSON: {e}\n{}",
            String::from_utf8_lossy(&sent)
        )
    });
    assert_eq!(
        as_sent,
        Value::Object(as_before),
        "the spliced body reads differently"
    );
    let again = JsonBody::parse(Bytes::copy_from_slice(&sent)).unwrap_or_else(|e| {
        panic!("the spliced body does not scan: {e}");
    });
    assert_eq!(
        again.get::<String>("model").and_then(Result::ok).as_deref(),
        Some(model)
    );
    // … byte for byte the client's outside the values written.
    let keys: Vec<&str> = std::iter::once("model")
        .chain(set.as_ref().map(|(k, _)| *k))
        .collect();
    let before = JsonBody::parse(Bytes::copy_from_slice(body)).unwrap_or_else(|e| {
        panic!("a body that scanned once does not scan again: {e}");
    });
    let (outside_sent, _) = cut(&again, &keys);
    let (mut outside_body, at) = cut(&before, &keys);
    // Members added at the end leave their names: `,"key":` (no comma in an empty object).
    let mut added = Vec::new();
    let mut members = before.keys().count();
    for key in keys.iter().rev() {
        if before.raw(key).is_none() && !added.iter().any(|(k, _): &(&str, _)| k == key) {
            let comma = if members > 0 { "," } else { "" };
            added.push((*key, format!("{comma}{}:", Value::from(*key))));
            members += 1;
        }
    }
    let inserted: String = added.into_iter().map(|(_, text)| text).collect();
    outside_body.splice(at..at, inserted.into_bytes());
    assert_eq!(
        String::from_utf8_lossy(&outside_sent),
        String::from_utf8_lossy(&outside_body),
        "bytes outside the spliced values changed"
    );
}

/// `body`'s bytes without the values of `keys`, and where its next member would go in
/// what is left.
fn cut(body: &JsonBody, keys: &[&str]) -> (Vec<u8>, usize) {
    let mut spans: Vec<Range<usize>> = keys.iter().flat_map(|k| body.spans(k)).collect();
    spans.sort_by_key(|s| s.start);
    spans.dedup();
    let bytes = body.bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut copied = 0;
    for span in &spans {
        out.extend_from_slice(&bytes[copied..span.start]);
        copied = span.end;
    }
    out.extend_from_slice(&bytes[copied..]);
    // A new member goes right after the last value, or right after `{`.
    let end = match body.keys().last() {
        Some(last) => body.spans(last).last().map_or(0, |s| s.end),
        None => bytes.iter().position(|&b| b == b'{').map_or(0, |i| i + 1),
    };
    let insert_at = end - spans.iter().map(|s| s.len()).sum::<usize>();
    (out, insert_at)
}
