//! A JSON request body kept as the client's bytes: a scan of the top-level object records
//! where each member's value lies, reads the few members a gateway needs from those spans,
//! and builds each attempt's body by splicing new values into the original bytes.
//!
//! Nothing below the top level is built into a tree or re-encoded, so a 200 KB agent turn
//! costs a UTF-8 check and one validating pass (serde_json's own skipping of
//! [`RawValue`]s), and what the client wrote reaches the router as written: spacing,
//! escapes, key order and numbers wider than 64 bits
//! (`"seed": 123456789012345678901234567890`) included.
//!
//! Readers follow serde_json's map semantics (a key written twice reads as its last
//! value); a splice writes every occurrence, so the router reads the new value whichever
//! occurrence it keeps. What the scan refuses is what serde_json refuses for a map, except
//! that values are skipped rather than built: numbers beyond `f64`, lone surrogate escapes
//! and nesting past 128 levels (skipped without recursion) reach the router as written.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A request body: a JSON object, as bytes, with the spans of its top-level values.
#[derive(Debug, Clone)]
pub struct JsonBody {
    bytes: Bytes,
    /// Top-level members in the order written; each value span indexes `bytes` and
    /// covers the value exactly (no surrounding whitespace).
    members: Vec<Member>,
    /// Where a new member goes: just after the last value, or just after `{`.
    insert_at: usize,
}

#[derive(Debug, Clone)]
struct Member {
    key: Box<str>,
    value: Range<usize>,
}

impl JsonBody {
    /// Scans `bytes` as one JSON object; an error says why it is not one.
    pub fn parse(bytes: Bytes) -> Result<JsonBody, serde_json::Error> {
        // The whole body is checked as UTF-8 once (SIMD), then read as text: serde_json
        // then borrows each value's text without checking it again (reading bytes, it
        // checks every raw value's, the bulk of the body, with std's slower check).
        let members = match simdutf8::basic::from_utf8(&bytes) {
            Ok(text) => scan(serde_json::Deserializer::from_str(text), &bytes)?,
            // Not UTF-8: serde_json's own reading of the bytes says where.
            Err(_) => scan(serde_json::Deserializer::from_slice(&bytes), &bytes)?,
        };
        let insert_at = match members.last() {
            Some(last) => last.value.end,
            // `{` is the first byte that is not JSON whitespace.
            None => bytes
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                .map_or(0, |open| open + 1),
        };
        Ok(JsonBody {
            bytes,
            members,
            insert_at,
        })
    }

    /// The body as it will be sent.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The text of member `key`'s value as written (its last occurrence), if present.
    pub fn raw(&self, key: &str) -> Option<&[u8]> {
        self.members
            .iter()
            .rev()
            .find(|m| &*m.key == key)
            .map(|m| &self.bytes[m.value.clone()])
    }

    /// Member `key` read as `T` (only that member is parsed), if present.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<Result<T, serde_json::Error>> {
        self.raw(key).map(serde_json::from_slice)
    }

    /// True when member `key` is `true` (a JSON boolean; anything else reads as false).
    pub fn is_true(&self, key: &str) -> bool {
        self.raw(key) == Some(b"true")
    }

    /// True when member `key` is absent or `null`.
    pub fn is_absent_or_null(&self, key: &str) -> bool {
        self.raw(key).is_none_or(|raw| raw == b"null")
    }

    /// True when member `key` is an array with at least one element.
    pub fn is_non_empty_array(&self, key: &str) -> bool {
        self.raw(key).is_some_and(|raw| {
            raw.first() == Some(&b'[')
                && raw[1..]
                    .iter()
                    .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                    .is_some_and(|&b| b != b']')
        })
    }

    /// True when member `key`'s value holds, at any depth, an object whose `"type"` is one
    /// of `types` (`image_url` parts of chat messages, Anthropic's `image` blocks, also
    /// inside a `tool_result`). A byte search for the names (or an escape that could spell
    /// them) comes first; only then is the value walked, building nothing and stopping at
    /// the first hit. A value the walk cannot read (nesting past 128 levels, a number
    /// beyond `f64` before the part) reads as holding none.
    pub fn has_typed_part(&self, key: &str, types: &[&str]) -> bool {
        let Some(raw) = self.raw(key) else {
            return false;
        };
        let named = types
            .iter()
            .any(|t| memchr::memmem::find(raw, t.as_bytes()).is_some())
            || memchr::memmem::find(raw, b"\\u").is_some();
        if !named {
            return false;
        }
        let found = Cell::new(false);
        let mut de = serde_json::Deserializer::from_slice(raw);
        // An error is how the walk stops at a hit; any other ends it too.
        let _ = Walk {
            types,
            found: &found,
            is_type: false,
        }
        .deserialize(&mut de);
        found.get()
    }

    /// The names of the top-level members, in the order written (repeats included).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| &*m.key)
    }

    /// The span of every value of member `key` in [`JsonBody::bytes`], in order.
    pub fn spans<'a>(&'a self, key: &'a str) -> impl Iterator<Item = Range<usize>> + 'a {
        self.members
            .iter()
            .filter(move |m| &*m.key == key)
            .map(|m| m.value.clone())
    }

    /// Sets member `key` to `value` (written compactly by serde_json): every occurrence
    /// is replaced in place, or the member is added last when absent. Nothing else of
    /// the body changes.
    pub fn set(&mut self, key: &str, value: &serde_json::Value) {
        let encoded = value.to_string();
        let (bytes, spans) = self.splice(key, encoded.as_bytes());
        let mut spans = spans.into_iter();
        for member in &mut self.members {
            if let Some(span) = spans.next() {
                member.value = span;
            }
        }
        if let Some(added) = spans.next() {
            self.members.push(Member {
                key: key.into(),
                value: added,
            });
        }
        self.insert_at = self.members.last().map_or(self.insert_at, |m| m.value.end);
        self.bytes = Bytes::from(bytes);
    }

    /// The body with `model` as its `model` (a JSON string), for one attempt: the original
    /// bytes with only that value spliced in (or the member added when absent).
    pub fn with_model(&self, model: &str) -> Bytes {
        let encoded = serde_json::Value::from(model).to_string();
        Bytes::from(self.splice("model", encoded.as_bytes()).0)
    }

    /// The bytes with every value of `key` replaced by `value` (or `"key":value` added
    /// after the last member), and the new span of every member's value in order, the
    /// added one last.
    fn splice(&self, key: &str, value: &[u8]) -> (Vec<u8>, Vec<Range<usize>>) {
        let mut out = Vec::with_capacity(self.bytes.len() + key.len() + value.len() + 4);
        let mut spans = Vec::with_capacity(self.members.len() + 1);
        let mut copied = 0;
        let mut found = false;
        for member in &self.members {
            out.extend_from_slice(&self.bytes[copied..member.value.start]);
            let start = out.len();
            if &*member.key == key {
                out.extend_from_slice(value);
                found = true;
            } else {
                out.extend_from_slice(&self.bytes[member.value.clone()]);
            }
            spans.push(start..out.len());
            copied = member.value.end;
        }
        if !found {
            let at = self.insert_at;
            out.extend_from_slice(&self.bytes[copied..at]);
            copied = at;
            if !self.members.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(serde_json::Value::from(key).to_string().as_bytes());
            out.push(b':');
            let start = out.len();
            out.extend_from_slice(value);
            spans.push(start..out.len());
        }
        out.extend_from_slice(&self.bytes[copied..]);
        (out, spans)
    }
}

/// The members of the one object `de` reads (nothing may follow it but whitespace).
fn scan<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    base: &[u8],
) -> Result<Vec<Member>, serde_json::Error> {
    let members = Scan { base }.deserialize(&mut de)?;
    de.end()?;
    Ok(members)
}

/// Deserializes the top-level object into its members' spans.
struct Scan<'b> {
    base: &'b [u8],
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = Vec<Member>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Vec<Member>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = Vec<Member>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Member>, A::Error> {
        let base = self.base.as_ptr().addr();
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            // The raw value borrows from the scanned bytes: its offset is its address
            // minus theirs.
            let text = value.get();
            let start = text.as_ptr().addr().wrapping_sub(base);
            let end = start + text.len();
            if end > self.base.len() {
                return Err(de::Error::custom("a value outside the body"));
            }
            members.push(Member {
                key: key.0.into(),
                value: start..end,
            });
        }
        Ok(members)
    }
}

/// Walks a value for an object whose `"type"` is one of `types`; sets `found` and stops
/// (with an error) at the first.
#[derive(Clone, Copy)]
struct Walk<'a> {
    types: &'a [&'a str],
    found: &'a Cell<bool>,
    /// The value is a `"type"` member's.
    is_type: bool,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if self.is_type && self.types.contains(&v) {
            self.found.set(true);
            return Err(E::custom("found"));
        }
        Ok(())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = Walk {
            is_type: false,
            ..self
        };
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            map.next_value_seed(Walk {
                is_type: key.0 == "type",
                ..self
            })?;
        }
        Ok(())
    }
}

/// A member name, borrowed unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn body(text: &str) -> JsonBody {
        JsonBody::parse(Bytes::copy_from_slice(text.as_bytes())).unwrap()
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap()
    }

    #[test]
    fn the_model_is_spliced_into_the_bytes_as_written() {
        let b =
            body(r#"{ "seed": 123456789012345678901234567890,"model" : "a",  "x":"\u00e9\/" }"#);
        assert_eq!(
            text(&b.with_model("org/m\"1")),
            r#"{ "seed": 123456789012345678901234567890,"model" : "org/m\"1",  "x":"\u00e9\/" }"#
        );
    }

    #[test]
    fn a_missing_model_is_added_last() {
        assert_eq!(
            text(&body(r#"{"a":1 }"#).with_model("m")),
            r#"{"a":1,"model":"m" }"#
        );
        assert_eq!(text(&body(" { } ").with_model("m")), r#" {"model":"m" } "#);
    }

    #[test]
    fn a_key_written_twice_reads_as_its_last_value_and_is_spliced_everywhere() {
        let b = body(r#"{"model":"a","stream":false,"model":null,"stream":true}"#);
        assert_eq!(b.raw("model"), Some(&b"null"[..]));
        assert!(b.is_true("stream"));
        assert_eq!(
            text(&b.with_model("m")),
            r#"{"model":"m","stream":false,"model":"m","stream":true}"#
        );
    }

    #[test]
    fn escaped_member_names_are_read_by_their_value() {
        let b = body(r#"{"mod\u0065l":"a"}"#);
        assert_eq!(b.get::<String>("model").unwrap().unwrap(), "a");
        assert_eq!(text(&b.with_model("m")), r#"{"mod\u0065l":"m"}"#);
    }

    #[test]
    fn set_replaces_or_adds_a_member_and_later_splices_still_land() {
        let mut b = body(r#"{"stream_options":{ "x" : 1 },"model":"a"}"#);
        b.set("stream_options", &json!({"x": 1, "include_usage": true}));
        assert_eq!(
            text(b.bytes()),
            r#"{"stream_options":{"x":1,"include_usage":true},"model":"a"}"#
        );
        b.set("added", &json!([1]));
        assert_eq!(
            text(&b.with_model("m")),
            r#"{"stream_options":{"x":1,"include_usage":true},"model":"m","added":[1]}"#
        );
        assert_eq!(b.raw("added"), Some(&b"[1]"[..]));
    }

    #[test]
    fn member_predicates_read_like_serde_json_values() {
        let b = body(r#"{"m":[ ],"n":[ 0 ],"s":"true","t":true,"i":null}"#);
        assert!(!b.is_non_empty_array("m"));
        assert!(b.is_non_empty_array("n"));
        assert!(!b.is_non_empty_array("s"));
        assert!(!b.is_true("s"));
        assert!(b.is_true("t"));
        assert!(b.is_absent_or_null("i"));
        assert!(b.is_absent_or_null("missing"));
        assert!(!b.is_absent_or_null("t"));
    }

    #[test]
    fn typed_parts_are_found_at_any_depth_and_only_as_a_type() {
        let types = ["image_url", "input_image"];
        let has = |text: &str, key: &str| body(text).has_typed_part(key, &types);
        let part = r#"{"messages":[{"role":"user","content":[{"type":"text","text":"a"},
            {"type":"image_url","image_url":{"url":"data:,"}}]}]}"#;
        assert!(has(part, "messages"));
        assert!(!has(part, "input"));
        // Deep inside a tool result, with the type escaped, after numbers and nulls.
        assert!(has(
            r#"{"input":[1,-2,3.5,null,true,{"content":[{"x":{"type":"input_im\u0061ge"}}]}]}"#,
            "input"
        ));
        // The name as text, as a key, or as a type that is not a string: not a part.
        for none in [
            r#"{"messages":[{"content":"say image_url \"type\":\"image_url\""}]}"#,
            r#"{"messages":[{"image_url":{"type":"text"}}]}"#,
            r#"{"messages":[{"type":["image_url"]}]}"#,
            r#"{"messages":"image_url"}"#,
            r#"{"messages":[]}"#,
        ] {
            assert!(!has(none, "messages"), "{none}");
        }
        // The last occurrence of a key is the one read.
        assert!(!has(
            r#"{"messages":[{"type":"image_url"}],"messages":[]}"#,
            "messages"
        ));
    }

    #[test]
    fn what_is_not_one_json_object_is_refused() {
        for bad in [
            "",
            "[]",
            "\"x\"",
            "{",
            "{\"a\":1,}",
            "{\"a\":1} x",
            "{'a':1}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":tru}",
            "{\"a\":01}",
            "{\"a\":\"\\q\"}",
        ] {
            assert!(
                JsonBody::parse(Bytes::copy_from_slice(bad.as_bytes())).is_err(),
                "{bad:?}"
            );
        }
        assert!(JsonBody::parse(Bytes::from_static(b"{\"a\":\"\xff\"}")).is_err());
    }

    #[test]
    fn values_are_skipped_not_built() {
        // 10,000 levels: a tree would recurse; the scan does not.
        let deep = format!(
            "{{\"x\":{}{},\"model\":\"a\"}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let b = body(&deep);
        assert_eq!(b.get::<String>("model").unwrap().unwrap(), "a");
        let wide = body(r#"{"seed":123456789012345678901234567890,"big":1e400}"#);
        assert_eq!(
            text(&wide.with_model("m")),
            r#"{"seed":123456789012345678901234567890,"big":1e400,"model":"m"}"#
        );
    }
}
