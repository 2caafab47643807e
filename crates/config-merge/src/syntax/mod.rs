//! A strict JSON5 parser that keeps byte spans, for format-preserving edits.
//!
//! Why not a general CST library: `jsonc-parser`'s CST takes ~45 ms to parse a 1.5 MB
//! config and accepts some text JSON5 forbids; the edit budget is 10-20 ms. This parser
//! only records where each value, key and comma is (one flat arena, no text copies), so
//! edits become text splices and everything else stays byte for byte.
//!
//! It accepts exactly what the `json5` crate accepts (the same grammar, escapes, number
//! rules and Unicode identifier classes, via `json5::char`); `tests/syntax.rs` checks
//! that differentially. Values built from the tree equal `json5::from_str::<Value>`.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

mod de;
mod parser;

pub(crate) use de::NodeDeserializer;
use parser::Parser;
pub(crate) use parser::{parse, parse_collapsing};

/// "No node" / "no offset" in the arena's `u32` links.
pub(crate) const NONE: u32 = u32::MAX;

/// Deeper nesting is refused instead of risking the stack (the `json5` crate recurses
/// without a limit; a config is never this deep). The same limit as `serde_json`'s, so
/// every parser of hfclaw's input refuses the same depth.
pub(crate) const MAX_DEPTH: usize = 128;

/// The error of text nested deeper than [`MAX_DEPTH`].
pub(crate) const TOO_DEEP: &str = "nested deeper than 128 levels";

/// What a node holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

/// How a key is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyStyle {
    /// A bare identifier (`agents:`).
    Word,
    /// `'agents':`.
    Single,
    /// `"agents":`.
    Double,
}

/// One value, with its key when it is a member of an object: 24 bytes, since a 50 MB
/// config holds millions. What a node does not store is derived from the text when an
/// edit needs it (the key's end, the comma after it, lines) or from the arena's order,
/// which is the text's (a container's first child is the next node; see [`Tree::last`],
/// [`Tree::prev`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    /// The value's span `[start, end)`.
    pub start: u32,
    pub end: u32,
    /// Where the key starts (its quote included), `NONE` outside objects.
    pub key_start: u32,
    /// The next sibling, `NONE` for the last child.
    pub next: u32,
    /// The enclosing container, `NONE` for the root.
    pub parent: u32,
    pub kind: Kind,
    flags: u8,
}

const _: () = assert!(std::mem::size_of::<Node>() == 24);

/// [`Node::flags`] bits.
const HAS_CHILDREN: u8 = 1;
const MULTILINE: u8 = 2;
const KEY_ESCAPED: u8 = 4;
const ESCAPED: u8 = 8;
const KEY_SINGLE: u8 = 16;
const KEY_DOUBLE: u8 = 32;

impl Node {
    /// The member's start: its key in objects, its value in arrays.
    pub fn member_start(&self) -> usize {
        if self.key_start == NONE {
            self.start as usize
        } else {
            self.key_start as usize
        }
    }

    /// The member (from its key) spans more than one line.
    pub fn is_multiline(&self) -> bool {
        self.flags & MULTILINE != 0
    }

    /// A container with at least one child.
    pub fn has_children(&self) -> bool {
        self.flags & HAS_CHILDREN != 0
    }

    /// How the key is written (meaningful only when `key_start != NONE`).
    pub fn key_style(&self) -> KeyStyle {
        if self.flags & KEY_SINGLE != 0 {
            KeyStyle::Single
        } else if self.flags & KEY_DOUBLE != 0 {
            KeyStyle::Double
        } else {
            KeyStyle::Word
        }
    }

    /// The key holds a backslash escape (decoding needs a copy).
    pub fn key_escaped(&self) -> bool {
        self.flags & KEY_ESCAPED != 0
    }

    /// The string value holds a backslash escape.
    pub fn escaped(&self) -> bool {
        self.flags & ESCAPED != 0
    }

    fn set(&mut self, flag: u8, on: bool) {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
    }

    fn set_key(&mut self, style: KeyStyle, escaped: bool) {
        self.flags &= !(KEY_SINGLE | KEY_DOUBLE | KEY_ESCAPED);
        self.flags |= match style {
            KeyStyle::Word => 0,
            KeyStyle::Single => KEY_SINGLE,
            KeyStyle::Double => KEY_DOUBLE,
        };
        self.set(KEY_ESCAPED, escaped);
    }
}

/// A parsed document: the nodes of one text (the text itself is kept by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    root: u32,
}

/// Where and why the text is not JSON5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// Byte offset.
    pub offset: usize,
    pub message: &'static str,
    /// Produced by a limit of this parser, not by the grammar (the `json5` crate would
    /// accept the text, or crash on it).
    pub limit: bool,
}

impl Tree {
    /// The root value.
    pub fn root(&self) -> u32 {
        self.root
    }

    /// The number of nodes (ids are `0..len`).
    pub fn len(&self) -> u32 {
        self.nodes.len() as u32
    }

    /// A node by index.
    pub fn node(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }

    /// The children of a container, in text order.
    pub fn children(&self, id: u32) -> Children<'_> {
        Children {
            tree: self,
            next: self.first(id),
        }
    }

    /// The first child of a container (the next node in the arena), `NONE` if empty.
    pub fn first(&self, id: u32) -> u32 {
        if self.node(id).has_children() {
            id + 1
        } else {
            NONE
        }
    }

    /// The last child of a container, `NONE` if empty (a walk of its children).
    pub fn last(&self, id: u32) -> u32 {
        self.children(id).last().unwrap_or(NONE)
    }

    /// The sibling before `id`, `NONE` for a first child (a walk of the siblings).
    pub fn prev(&self, id: u32) -> u32 {
        let parent = self.node(id).parent;
        if parent == NONE {
            return NONE;
        }
        let mut prev = NONE;
        for child in self.children(parent) {
            if child == id {
                return prev;
            }
            prev = child;
        }
        NONE
    }

    /// Offset of the `,` after member `id`, `NONE` when there is none.
    pub fn comma(&self, text: &str, id: u32) -> u32 {
        let node = self.node(id);
        if node.parent == NONE {
            return NONE;
        }
        let mut scan = Parser::at(text, node.end as usize);
        match scan.skip_trivia() {
            Ok(()) if scan.peek() == Some(b',') => scan.pos as u32,
            _ => NONE,
        }
    }

    /// Where member `id` ends, its comma included.
    pub fn member_end(&self, text: &str, id: u32) -> usize {
        match self.comma(text, id) {
            NONE => self.node(id).end as usize,
            comma => comma as usize + 1,
        }
    }

    /// Where the key of member `id` ends (after its closing quote), `NONE` outside objects.
    pub fn key_end(&self, text: &str, id: u32) -> u32 {
        key_end(text, self.node(id)).map_or(NONE, |end| end as u32)
    }

    /// The member `key` of object `id`; with duplicate keys the last one, as OpenClaw
    /// (JavaScript's JSON5) and `json5` into a map both keep the last.
    pub fn get(&self, text: &str, id: u32, key: &str) -> Option<u32> {
        let mut found = None;
        for child in self.children(id) {
            if self.key_is(text, child, key) {
                found = Some(child);
            }
        }
        found
    }

    /// The node at `path` through objects from the root.
    pub fn at(&self, text: &str, path: &[&str]) -> Option<u32> {
        let mut id = self.root;
        for key in path {
            if self.node(id).kind != Kind::Object {
                return None;
            }
            id = self.get(text, id, key)?;
        }
        Some(id)
    }

    /// Whether member `id`'s key is `key`.
    pub fn key_is(&self, text: &str, id: u32, key: &str) -> bool {
        let node = self.node(id);
        if node.key_start == NONE {
            return false;
        }
        if node.key_escaped() {
            return self.key(text, id).as_deref() == Some(key);
        }
        key_raw(text, node) == key
    }

    /// The decoded key of member `id`, borrowed from the text when it has no escapes.
    pub fn key_str<'t>(&self, text: &'t str, id: u32) -> Option<Cow<'t, str>> {
        let node = self.node(id);
        if node.key_start == NONE {
            return None;
        }
        let raw = key_raw(text, node);
        Some(if node.key_escaped() {
            Cow::Owned(decode(raw))
        } else {
            Cow::Borrowed(raw)
        })
    }

    /// The decoded key of member `id`.
    pub fn key(&self, text: &str, id: u32) -> Option<String> {
        let node = self.node(id);
        if node.key_start == NONE {
            return None;
        }
        let raw = key_raw(text, node);
        Some(if node.key_escaped() {
            decode(raw)
        } else {
            raw.to_owned()
        })
    }

    /// The decoded text of string node `id`; `None` for other kinds.
    pub fn str<'t>(&self, text: &'t str, id: u32) -> Option<Cow<'t, str>> {
        let node = self.node(id);
        if node.kind != Kind::String {
            return None;
        }
        let raw = &text[node.start as usize + 1..node.end as usize - 1];
        Some(if node.escaped() {
            Cow::Owned(decode(raw))
        } else {
            Cow::Borrowed(raw)
        })
    }

    /// The value of node `id`, exactly as `json5::from_str::<Value>` builds it.
    pub fn to_value(&self, text: &str, id: u32) -> Value {
        self.to_value_skipping(text, id, NONE)
    }

    /// [`Tree::to_value`] with node `skip` (if any) read as `[]`, for callers that read
    /// that part straight from the tree.
    pub fn to_value_skipping(&self, text: &str, id: u32, skip: u32) -> Value {
        if id == skip {
            return Value::Array(Vec::new());
        }
        let node = self.node(id);
        let raw = &text[node.start as usize..node.end as usize];
        match node.kind {
            Kind::Null => Value::Null,
            Kind::Bool => Value::Bool(raw == "true"),
            Kind::Number => number_value(raw),
            Kind::String => Value::String(self.str(text, id).unwrap_or_default().into_owned()),
            Kind::Array => Value::Array(
                self.children(id)
                    .map(|child| self.to_value_skipping(text, child, skip))
                    .collect(),
            ),
            Kind::Object => {
                let mut map = Map::new();
                for child in self.children(id) {
                    let key = self.key(text, child).unwrap_or_default();
                    map.insert(key, self.to_value_skipping(text, child, skip));
                }
                Value::Object(map)
            }
        }
    }
}

/// The key as written, without its quotes.
fn key_raw<'t>(text: &'t str, node: &Node) -> &'t str {
    let start = node.key_start as usize;
    let Some(end) = key_end(text, node) else {
        return "";
    };
    match node.key_style() {
        KeyStyle::Word => &text[start..end],
        KeyStyle::Single | KeyStyle::Double => &text[start + 1..end - 1],
    }
}

/// Where the key of `node` ends, found again by scanning it (`None` outside objects).
fn key_end(text: &str, node: &Node) -> Option<usize> {
    let start = node.key_start as usize;
    if node.key_start == NONE {
        return None;
    }
    let bytes = text.as_bytes();
    match node.key_style() {
        KeyStyle::Word if !node.key_escaped() => {
            // Plain ASCII keys: up to the first byte no identifier holds.
            let rest = &bytes[start..];
            let len = rest
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$'))
                .unwrap_or(rest.len());
            if rest.get(len).is_none_or(|&b| b < 0x80) {
                return Some(start + len);
            }
            let mut scan = Parser::at(text, start);
            scan.identifier().ok().map(|_| scan.pos)
        }
        KeyStyle::Word => {
            let mut scan = Parser::at(text, start);
            scan.identifier().ok().map(|_| scan.pos)
        }
        KeyStyle::Single | KeyStyle::Double if !node.key_escaped() => {
            let quote = bytes[start];
            memchr_from(bytes, start + 1, quote).map(|at| at + 1)
        }
        KeyStyle::Single | KeyStyle::Double => {
            let mut scan = Parser::at(text, start);
            scan.string(bytes[start]).ok().map(|_| scan.pos)
        }
    }
}

/// The offset of the first `byte` at or after `from`.
fn memchr_from(bytes: &[u8], from: usize, byte: u8) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b == byte)
        .map(|at| from + at)
}

impl Tree {
    /// The deepest container whose brackets enclose `[from, to)`.
    pub fn enclosing(&self, from: usize, to: usize) -> u32 {
        let mut current = self.root;
        'descend: loop {
            for child in self.children(current) {
                let node = self.node(child);
                if matches!(node.kind, Kind::Object | Kind::Array)
                    && (node.start as usize) < from
                    && to < node.end as usize
                {
                    current = child;
                    continue 'descend;
                }
            }
            return current;
        }
    }

    /// Updates the tree after the text inside container `id`'s brackets changed (`text`
    /// is the whole new text, `delta` its change in length): only that container is
    /// parsed again, everything after it is shifted. The arena stays in text order, so
    /// the result equals a fresh parse of `text`.
    pub fn reparse_within(&mut self, text: &str, id: u32, delta: isize) -> Result<(), SyntaxError> {
        let old = self.node(id).clone();
        let (old_start, old_end) = (old.start as usize, old.end as usize);
        let new_end = old_end.checked_add_signed(delta).unwrap_or(old_start);
        let region = text.get(old_start..new_end).unwrap_or_default();
        let shift_err = |mut e: SyntaxError| {
            e.offset += old_start;
            e
        };
        let mut parser = Parser::at(region, 0);
        let sub_root = parser.value(NONE).map_err(shift_err)?;
        // The region must be exactly one value of the same kind: then the text around it
        // reads as before.
        if parser.pos != region.len() || parser.nodes[sub_root as usize].kind != old.kind {
            return Err(shift_err(
                parser.error("an edit broke the surrounding structure"),
            ));
        }
        let mut sub = parser.nodes;
        // The old subtree is `id` up to the first node starting after it (pre-order arena).
        let range_end = id as usize
            + 1
            + self.nodes[id as usize + 1..].partition_point(|n| (n.start as usize) < old_end);
        let count_delta = sub.len() as i64 - (range_end - id as usize) as i64;
        let shift_index = |i: u32| -> u32 {
            if i != NONE && i as usize >= range_end {
                (i as i64 + count_delta) as u32
            } else {
                i
            }
        };
        let shift_pos = |p: u32| -> u32 {
            if p != NONE && p as usize >= old_end {
                (p as i64 + delta as i64) as u32
            } else {
                p
            }
        };
        for (index, node) in self.nodes.iter_mut().enumerate() {
            if (id as usize..range_end).contains(&index) {
                continue;
            }
            node.start = shift_pos(node.start);
            node.end = shift_pos(node.end);
            node.key_start = shift_pos(node.key_start);
            node.next = shift_index(node.next);
            node.parent = shift_index(node.parent);
        }
        let offset = |p: u32| {
            if p == NONE {
                NONE
            } else {
                p + old_start as u32
            }
        };
        let index = |i: u32| if i == NONE { NONE } else { i + id };
        for node in &mut sub {
            node.start = offset(node.start);
            node.end = offset(node.end);
            node.key_start = offset(node.key_start);
            node.next = index(node.next);
            node.parent = index(node.parent);
        }
        // The container keeps its place among its siblings: key, links.
        let root = &mut sub[0];
        root.key_start = old.key_start;
        root.set_key(old.key_style(), old.key_escaped());
        root.next = shift_index(old.next);
        root.parent = old.parent;
        self.nodes.splice(id as usize..range_end, sub);
        // Whether it and the containers around it span lines may have changed.
        let mut at = id;
        while at != NONE {
            let node = &self.nodes[at as usize];
            let multiline =
                text.as_bytes()[node.member_start()..node.end as usize].contains(&b'\n');
            let parent = node.parent;
            self.nodes[at as usize].set(MULTILINE, multiline);
            at = parent;
        }
        Ok(())
    }
}

/// Iterator over a container's children.
pub(crate) struct Children<'a> {
    tree: &'a Tree,
    next: u32,
}

impl Iterator for Children<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.tree.node(id).next;
        Some(id)
    }
}

/// Hex digits as `json5` reads them: a `u128`, negated into an `i128`.
fn hex_value(digits: &str, neg: bool) -> Option<Value> {
    let n = u128::from_str_radix(digits, 16).ok()?;
    if neg {
        let i = if n == 1u128 << 127 {
            i128::MIN
        } else {
            -i128::try_from(n).ok()?
        };
        Some(match i64::try_from(i) {
            Ok(i) => Value::from(i),
            Err(_) => float(i as f64),
        })
    } else {
        Some(match u64::try_from(n) {
            Ok(u) => Value::from(u),
            Err(_) => float(n as f64),
        })
    }
}

fn float(f: f64) -> Value {
    // serde_json has no NaN/Infinity: `json5` into a `Value` gives `null` for them.
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// A validated number literal's value, as `json5` computes it.
fn number_value(raw: &str) -> Value {
    let (neg, body) = match raw.as_bytes().first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    match body.as_bytes() {
        [b'I', ..] | [b'N', ..] => return Value::Null,
        [b'0', b'x' | b'X', ..] => return hex_value(&body[2..], neg).unwrap_or(Value::Null),
        b"0" => return Value::from(0u64),
        _ => {}
    }
    if !neg && let Ok(u) = raw.parse::<u128>() {
        return match u64::try_from(u) {
            Ok(u) => Value::from(u),
            Err(_) => float(u as f64),
        };
    }
    if neg && let Ok(i) = raw.parse::<i128>() {
        return match i64::try_from(i) {
            Ok(i) => Value::from(i),
            Err(_) => float(i as f64),
        };
    }
    float(raw.parse::<f64>().unwrap_or(f64::NAN))
}

fn count_newlines(bytes: &[u8]) -> u32 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u32
}

/// Decodes the escapes of a validated string or key body.
fn decode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else { break };
        match e {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            '\n' | '\u{2028}' | '\u{2029}' => {}
            'b' => out.push('\u{8}'),
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'v' => out.push('\u{b}'),
            'f' => out.push('\u{c}'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(c);
                }
            }
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let a = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                if let Some(c) = char::from_u32(a) {
                    out.push(c);
                } else {
                    // A surrogate pair: the parser checked `\uXXXX` follows.
                    chars.next();
                    chars.next();
                    let hex: String = chars.by_ref().take(4).collect();
                    let b = u32::from_str_radix(&hex, 16).unwrap_or(0);
                    let pair = char::decode_utf16([a as u16, b as u16]).next();
                    out.push(pair.and_then(Result::ok).unwrap_or('\u{FFFD}'));
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The offset of the first `[` or `{` nested deeper than [`MAX_DEPTH`], by a scan that
/// knows only strings and comments: the guard before text goes to the `json5` crate,
/// which recurses once per level.
///
/// It never counts fewer levels than a JSON5 parser reaches: it leaves a string or a
/// comment exactly where JSON5 does, or later only where JSON5 has already failed (a raw
/// line break in a string, an unterminated comment), and a parser that failed goes no
/// deeper.
pub(crate) fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                // Ends at the line terminators of `comment` (U+2028/2029 start with E2).
                while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r' | 0xE2) {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                Some(len) => i += 2 + len + 1,
                None => return None,
            },
            _ => {}
        }
        i += 1;
    }
    None
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = count_newlines(before) as usize + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = text
        .get(line_start..offset)
        .map_or(offset - line_start, |s| s.chars().count())
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Value {
        let tree = parse(text).unwrap();
        tree.to_value(text, tree.root())
    }

    #[test]
    fn values_equal_json5() {
        for text in [
            "{a: 1, 'b': \"x\\ty\", c: [1, -2, +3, .5, 5., 0x1F, -0x10, 1e3, -0, Infinity, -NaN,],}",
            "{ \\u0061b: 'caf\\u00e9 \\ud83d\\ude00 \\x41', $_z9: null, t: true, f: false }",
            "// c\n/* d */ [ 'line\\\ncontinued', \"\\0\", \"\\q\", 18446744073709551616, -9223372036854775809 ]",
            "{\"dup\": 1, dup: 2}",
            "\u{FEFF}{ é: 1 }",
            "1.0",
        ] {
            assert_eq!(
                value(text),
                json5::from_str::<Value>(text).unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn deserializing_keeps_the_last_of_duplicate_keys_in_small_and_large_objects() {
        let many: String = (0..20).map(|i| format!("k{i}: {i}, ")).collect();
        for text in [
            "{id: 5, name: 'x', id: 'a/b', name: 'y'}",
            "{'id': 1, \"id\": 2, i\\u0064: 3}",
            "{a: {b: 1, b: {c: 2, c: 3}}, a: {b: 4}}",
            &format!("{{ {many} k3: 'again', k19: null }}"),
        ] {
            let tree = parse(text).unwrap();
            let read: Value = serde::Deserialize::deserialize(NodeDeserializer {
                tree: &tree,
                text,
                id: tree.root(),
            })
            .unwrap();
            assert_eq!(read, json5::from_str::<Value>(text).unwrap(), "{text}");
        }
        // A model entry: the first `id` (of the wrong type) is overridden, not read.
        let text = "{id: 5, name: 'x', id: 'a/b', name: 'y', contextWindow: 8}";
        let tree = parse(text).unwrap();
        let entry: hfclaw_catalog::ConfigModel =
            serde::Deserialize::deserialize(NodeDeserializer {
                tree: &tree,
                text,
                id: tree.root(),
            })
            .unwrap();
        assert_eq!(
            (entry.id.as_str(), entry.name.as_deref()),
            ("a/b", Some("y"))
        );
        assert_eq!(entry.context_window, Some(8));
    }

    #[test]
    fn rejects_what_json5_rejects() {
        for text in [
            "",
            "{",
            "{a}",
            "{a:}",
            "{,}",
            "[,]",
            "[1,,]",
            "{a:1 b:2}",
            "01",
            "0x",
            "1e",
            "1.5.5",
            "'a\nb'",
            "\"\\1\"",
            "\"\\x4\"",
            "{1: 2}",
            "nul",
            "[1] 2",
            "/",
            "/* x",
            "{'a' 1}",
            "[1 2]",
            "\"\\ud800\"",
            "{-a: 1}",
        ] {
            assert!(parse(text).is_err(), "{text:?} accepted");
            assert!(
                json5::from_str::<Value>(text).is_err(),
                "json5 accepts {text:?}"
            );
        }
    }

    #[test]
    fn records_spans_lines_and_commas() {
        let text = "{\n  a: 'x', // c\n  b: [1,\n 2],\n}";
        let tree = parse(text).unwrap();
        let root = tree.root();
        assert!(tree.node(root).is_multiline());
        let a = tree.get(text, root, "a").unwrap();
        let node = tree.node(a);
        assert_eq!(&text[node.start as usize..node.end as usize], "'x'");
        assert_eq!(
            &text[node.key_start as usize..tree.key_end(text, a) as usize],
            "a"
        );
        assert_eq!(text.as_bytes()[tree.comma(text, a) as usize], b',');
        assert!(!node.is_multiline());
        let b = tree.get(text, root, "b").unwrap();
        assert!(tree.node(b).is_multiline());
        assert_eq!(tree.last(b), tree.node(tree.first(b)).next);
        assert_eq!(tree.prev(tree.last(b)), tree.first(b));
        assert_eq!(tree.comma(text, b), text.rfind(',').unwrap() as u32);
        assert_eq!(tree.str(text, a).as_deref(), Some("x"));
        assert_eq!(line_column(text, node.start as usize), (2, 6));
    }

    mod differential {
        //! The strict parser against the `json5` crate on generated text: same verdict,
        //! same value, and typed reads equal to reads of the value.

        use proptest::prelude::*;

        use super::*;

        /// Pieces of JSON5 (and near misses) that random sequences are made of.
        const TOKENS: &[&str] = &[
            "{",
            "\u{b}",
            "\u{c}",
            "\u{3000}",
            "\u{2029}",
            "}",
            "[",
            "]",
            ":",
            ",",
            ", ",
            "'",
            "\"",
            "\\",
            "/",
            "*",
            "//",
            "/*",
            "*/",
            "\n",
            "\r\n",
            "\r",
            " ",
            "\t",
            "a",
            "_",
            "$",
            "é",
            "\u{2028}",
            "\u{a0}",
            "\u{feff}",
            "0",
            "1",
            "9",
            "00",
            ".",
            "e",
            "E",
            "+",
            "-",
            "x",
            "0x1F",
            "0X",
            "I",
            "N",
            "Infinity",
            "NaN",
            "null",
            "true",
            "false",
            "nul",
            "\\u0041",
            "\\x41",
            "\\ud83d\\ude00",
            "\\ud800",
            "\\u00",
            "\\0",
            "\\1",
            "\\\n",
            "id",
            "'a'",
            "\"b\"",
            "1.5",
            "1e3",
            ".5",
            "5.",
            "-0",
            "18446744073709551616",
        ];

        fn soup() -> impl Strategy<Value = String> {
            proptest::collection::vec(proptest::sample::select(TOKENS), 0..24)
                .prop_map(|parts| parts.concat())
        }

        /// Mostly valid JSON5 values with random spacing, quoting and comments.
        fn json5_value() -> impl Strategy<Value = String> {
            let space = proptest::sample::select(
                &["", " ", "\n  ", " // c\n", " /* c */ ", "\t", "\r\n"][..],
            );
            let leaf = prop_oneof![
                Just("null".to_owned()),
                Just("true".to_owned()),
                any::<i64>().prop_map(|n| n.to_string()),
                any::<f64>().prop_map(|f| f.to_string()),
                Just("0x10".to_owned()),
                Just("-Infinity".to_owned()),
                Just(".5".to_owned()),
                "[a-z é'\"\\\\]{0,6}"
                    .prop_map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))),
                "[a-z é'\"]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
            ];
            leaf.prop_recursive(4, 32, 6, move |inner| {
                let space = space.clone();
                prop_oneof![
                    (
                        proptest::collection::vec((inner.clone(), space.clone()), 0..5),
                        any::<bool>()
                    )
                        .prop_map(|(items, trailing)| {
                            let body: Vec<String> =
                                items.iter().map(|(v, s)| format!("{s}{v}{s}")).collect();
                            let comma = if trailing && !body.is_empty() {
                                ","
                            } else {
                                ""
                            };
                            format!("[{}{comma}]", body.join(","))
                        }),
                    (
                        proptest::collection::vec(
                            (
                                "[a-zA-Z_$][a-zA-Z0-9_]{0,5}|'[a-z/ ]{0,5}'|\"[a-z/]{0,5}\"",
                                inner,
                                space
                            ),
                            0..5
                        ),
                        any::<bool>(),
                    )
                        .prop_map(|(members, trailing)| {
                            let body: Vec<String> = members
                                .iter()
                                .map(|(k, v, s)| format!("{s}{k}{s}:{s}{v}"))
                                .collect();
                            let comma = if trailing && !body.is_empty() {
                                ","
                            } else {
                                ""
                            };
                            format!("{{{}{comma}}}", body.join(","))
                        }),
                ]
            })
        }

        /// Deletes or duplicates one character: near-valid text.
        fn mutated() -> impl Strategy<Value = String> {
            (json5_value(), any::<usize>(), any::<bool>()).prop_map(|(text, at, dup)| {
                let chars: Vec<char> = text.chars().collect();
                if chars.is_empty() {
                    return text;
                }
                let at = at % chars.len();
                let mut out: String = chars[..at].iter().collect();
                if dup {
                    out.push(chars[at]);
                    out.push(chars[at]);
                }
                out.extend(&chars[at + 1..]);
                out
            })
        }

        fn same_as_json5(text: &str) -> Result<(), TestCaseError> {
            crate::fuzzing::json5_parsers(text).map_err(TestCaseError::fail)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn token_soup(text in soup()) {
                same_as_json5(&text)?;
                same_as_json5(&format!("{{a: {text}}}"))?;
                same_as_json5(&format!("['{text}']"))?;
            }

            #[test]
            fn generated_values(text in json5_value()) {
                prop_assert!(json5::from_str::<Value>(&text).is_ok(), "generator: {:?}", text);
                same_as_json5(&text)?;
            }

            #[test]
            fn near_misses(text in mutated()) {
                same_as_json5(&text)?;
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let text = "[".repeat(100_000);
        let err = parse(&text).unwrap_err();
        assert!(err.limit);
        assert_eq!((err.offset, err.message), (MAX_DEPTH, TOO_DEEP));
        assert_eq!(TOO_DEEP, format!("nested deeper than {MAX_DEPTH} levels"));
    }

    #[test]
    fn the_limit_is_128_levels_of_objects_or_arrays() {
        let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        assert_eq!(too_deep(&ok), None);
        let deep = format!("[{ok}]");
        assert_eq!(parse(&deep).unwrap_err().message, TOO_DEEP);
        assert_eq!(too_deep(&deep), Some(MAX_DEPTH));
        let objects = format!(
            "{}{}",
            "{a:".repeat(MAX_DEPTH + 1),
            "}".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(parse(&objects).unwrap_err().offset, 3 * MAX_DEPTH);
        assert_eq!(too_deep(&objects), Some(3 * MAX_DEPTH));
    }

    #[test]
    fn the_depth_scan_skips_strings_and_comments() {
        let brackets = "[".repeat(200);
        for text in [
            format!("{{a: '{brackets}'}}"),
            format!("{{a: \"\\\"{brackets}\"}}"),
            format!("{{ // {brackets}\n}}"),
            format!("{{ /* {brackets} */ }}"),
            format!("{{ a: 'x\\'{brackets}' }}"),
        ] {
            assert_eq!(too_deep(&text), None, "{text}");
            assert!(json5::from_str::<Value>(&text).is_ok(), "{text}");
        }
        // A string's line break or an open comment already failed json5: no deeper.
        assert_eq!(too_deep(&format!("{{ /* {brackets}")), None);
    }
}
