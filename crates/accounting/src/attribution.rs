//! Who spent it, per request (issue 22, item 7): the request id, the end user the client
//! names and the client's `metadata` tags, as a ledger row keeps them — bounded, so a
//! client cannot grow the ledger or a `hfclaw usage` table without limit.
//!
//! The bounds, and what happens beyond them:
//! - **tags**: the first [`MAX_TAGS`] members of `metadata`, in the body's order, whose
//!   value is a string, a number or a boolean (numbers and booleans kept as their JSON
//!   text); later members, members whose name is empty or longer than [`MAX_TAG_BYTES`]
//!   bytes, and `null`, object and array values are dropped; a value longer than
//!   [`MAX_TAG_BYTES`] bytes is cut to that (at a character boundary);
//! - **user**: a string, cut to [`MAX_USER_BYTES`] bytes; an empty one is none;
//! - **request id**: the client's `x-request-id` when it is 1 to [`MAX_REQUEST_ID_BYTES`]
//!   visible ASCII characters; otherwise the gateway makes one ([`new_request_id`]).
//!
//! `metadata` is read with a streaming visitor over its bytes: nothing past the bounds is
//! built, and the rest of the body is never parsed here.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserializer, Serialize};

/// Most tags a row keeps.
pub const MAX_TAGS: usize = 16;
/// Longest tag name and value, in bytes.
pub const MAX_TAG_BYTES: usize = 64;
/// Longest user, in bytes.
pub const MAX_USER_BYTES: usize = 256;
/// Longest client request id accepted, in bytes.
pub const MAX_REQUEST_ID_BYTES: usize = 128;

/// A request's tags: name → value, sorted by name (so equal sets are stored alike).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Tags(BTreeMap<String, String>);

impl Tags {
    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// One tag's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The tags, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Adds a tag within the bounds (see the module doc); false when it was dropped.
    pub fn insert(&mut self, name: &str, value: &str) -> bool {
        if name.is_empty() || name.len() > MAX_TAG_BYTES {
            return false;
        }
        if self.0.len() >= MAX_TAGS && !self.0.contains_key(name) {
            return false;
        }
        self.0
            .insert(name.to_owned(), cut(value, MAX_TAG_BYTES).to_owned());
        true
    }

    /// As stored: a JSON object, `None` when there is no tag.
    pub fn to_json(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        serde_json::to_string(&self.0).ok()
    }

    /// Reads a stored value (anything unreadable is no tags).
    pub fn from_json(text: &str) -> Tags {
        serde_json::from_str(text).map(Tags).unwrap_or_default()
    }
}

impl<const N: usize> From<[(&str, &str); N]> for Tags {
    fn from(pairs: [(&str, &str); N]) -> Tags {
        let mut tags = Tags::default();
        for (name, value) in pairs {
            tags.insert(name, value);
        }
        tags
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A user as a row keeps it: cut to [`MAX_USER_BYTES`]; `None` when empty.
pub fn bounded_user(text: &str) -> Option<String> {
    let text = cut(text, MAX_USER_BYTES);
    (!text.is_empty()).then(|| text.to_owned())
}

/// What a request's `metadata` member says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The user, when `metadata` names one (Anthropic's `metadata.user_id`).
    pub user: Option<String>,
    /// The tags (every other member, within the bounds).
    pub tags: Tags,
    /// Members dropped by the bounds (for a debug line).
    pub dropped: usize,
}

/// Reads the bytes of a `metadata` value: its members as tags, except `user_member`
/// (when given), which is the user. Anything but an object is no metadata.
pub fn read_metadata(raw: &[u8], user_member: Option<&str>) -> Metadata {
    let mut deserializer = serde_json::Deserializer::from_slice(raw);
    deserializer
        .deserialize_map(MetadataVisitor { user_member })
        .unwrap_or_default()
}

struct MetadataVisitor<'a> {
    user_member: Option<&'a str>,
}

impl<'de> Visitor<'de> for MetadataVisitor<'_> {
    type Value = Metadata;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a metadata object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Metadata, A::Error> {
        let mut out = Metadata::default();
        while let Some(name) = map.next_key::<String>()? {
            if self.user_member == Some(name.as_str()) {
                out.user = match map.next_value::<Scalar>()? {
                    Scalar::Text(text) => bounded_user(&text),
                    Scalar::Other => None,
                };
                continue;
            }
            let full = out.tags.len() >= MAX_TAGS && out.tags.get(&name).is_none();
            if full || name.is_empty() || name.len() > MAX_TAG_BYTES {
                map.next_value::<IgnoredAny>()?;
                out.dropped += 1;
                continue;
            }
            match map.next_value::<Scalar>()? {
                Scalar::Text(value) => {
                    out.tags.insert(&name, &value);
                }
                Scalar::Other => out.dropped += 1,
            }
        }
        Ok(out)
    }
}

/// A tag value: a string, number or boolean as text (a long string cut to the tag bound
/// as it is read), or anything else (skipped, never built).
enum Scalar {
    Text(String),
    Other,
}

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        // Users are longer than tags: keep what the larger bound allows; tags cut again.
        Ok(Scalar::Text(cut(v, MAX_USER_BYTES).to_owned()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// The client's `x-request-id`, when it is one a row may keep and a header may carry:
/// 1 to [`MAX_REQUEST_ID_BYTES`] visible ASCII characters.
pub fn client_request_id(value: &[u8]) -> Option<&str> {
    let ok = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_BYTES
        && value.iter().all(|b| (0x21..=0x7e).contains(b));
    if ok {
        std::str::from_utf8(value).ok()
    } else {
        None
    }
}

/// A new request id, shaped as a random (version 4) UUID: a per-process random seed and
/// a counter, mixed, so ids are unique within a process and collide across replicas only
/// by chance (2^-64 per pair). Costs nanoseconds: no system call per id.
pub fn new_request_id() -> String {
    static SEED: OnceLock<(u64, u64)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let (a, b) = *SEED.get_or_init(|| {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // No randomness: the time and the process id still set replicas apart.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            bytes[..8].copy_from_slice(&(nanos as u64).to_le_bytes());
            bytes[8..12].copy_from_slice(&std::process::id().to_le_bytes());
        }
        let mut high = [0u8; 8];
        let mut low = [0u8; 8];
        high.copy_from_slice(&bytes[..8]);
        low.copy_from_slice(&bytes[8..]);
        (u64::from_le_bytes(high), u64::from_le_bytes(low))
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // splitmix64 is a bijection of its input: distinct counters give distinct ids.
    let high = mix(a.wrapping_add(n));
    let low = mix(b ^ n.rotate_left(32));
    let high = (high & !0xf000) | 0x4000; // version 4
    let low = (low & !(0b11 << 62)) | (0b10 << 62); // RFC 4122 variant
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keeps_sixteen_tags_cut_to_sixty_four_bytes() {
        let long = "é".repeat(40); // 80 bytes
        let mut members: Vec<String> = (0..20).map(|i| format!("\"k{i:02}\": \"v{i}\"")).collect();
        members.insert(0, format!("\"team\": \"{long}\""));
        members.insert(
            1,
            "\"n\": 3, \"ok\": true, \"none\": null, \"deep\": {\"a\": [1, {}]}".into(),
        );
        members.insert(2, format!("\"{}\": \"too long a name\"", "x".repeat(65)));
        let raw = format!("{{{}}}", members.join(", "));
        let meta = read_metadata(raw.as_bytes(), None);
        assert_eq!(meta.tags.len(), MAX_TAGS);
        assert_eq!(meta.tags.get("team"), Some("é".repeat(32).as_str()));
        assert_eq!(meta.tags.get("n"), Some("3"));
        assert_eq!(meta.tags.get("ok"), Some("true"));
        assert_eq!(meta.tags.get("none"), None);
        assert_eq!(meta.tags.get("deep"), None);
        // team, n, ok, then k00..k12: the first sixteen kept in the body's order.
        assert_eq!(meta.tags.get("k12"), Some("v12"));
        assert_eq!(meta.tags.get("k13"), None);
        assert_eq!(meta.dropped, 2 + 1 + 7);
        assert_eq!(meta.user, None);
    }

    #[test]
    fn anthropic_user_id_is_the_user_and_not_a_tag() {
        let id = format!("user_{}_account__session_1", "a".repeat(300));
        let raw = format!("{{\"user_id\": \"{id}\", \"team\": \"ml\"}}");
        let meta = read_metadata(raw.as_bytes(), Some("user_id"));
        assert_eq!(meta.user.as_deref(), Some(&id[..MAX_USER_BYTES]));
        assert_eq!(meta.tags, Tags::from([("team", "ml")]));
        // Not an object: nothing, never an error.
        for raw in ["null", "\"x\"", "[1]", "{", ""] {
            assert_eq!(
                read_metadata(raw.as_bytes(), Some("user_id")),
                Metadata::default()
            );
        }
    }

    #[test]
    fn tags_are_stored_as_sorted_json_and_read_back() {
        let tags = Tags::from([("b", "2"), ("a", "1")]);
        let json = tags.to_json().unwrap_or_default();
        assert_eq!(json, r#"{"a":"1","b":"2"}"#);
        assert_eq!(Tags::from_json(&json), tags);
        assert_eq!(Tags::default().to_json(), None);
        assert_eq!(Tags::from_json("not json"), Tags::default());
    }

    #[test]
    fn users_are_cut_and_empty_ones_are_none() {
        assert_eq!(bounded_user(""), None);
        assert_eq!(bounded_user("alice").as_deref(), Some("alice"));
        assert_eq!(bounded_user(&"ü".repeat(200)).map(|u| u.len()), Some(256));
    }

    #[test]
    fn client_request_ids_are_short_visible_ascii() {
        assert_eq!(client_request_id(b"req-1"), Some("req-1"));
        assert_eq!(client_request_id(b""), None);
        assert_eq!(client_request_id(b"has space"), None);
        assert_eq!(client_request_id("é".as_bytes()), None);
        assert_eq!(client_request_id(&[b'a'; 129]), None);
        assert!(client_request_id(&[b'a'; 128]).is_some());
    }

    #[test]
    fn made_request_ids_are_distinct_uuid_shaped() {
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(50) {
            assert_eq!(id.len(), 36, "{id}");
            assert_eq!(&id[14..15], "4", "{id}");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
            assert!(client_request_id(id.as_bytes()).is_some());
        }
    }
}
