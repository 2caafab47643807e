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

/// A serde `Deserializer` reading a node in place: typed data (`ConfigModel`) comes out
/// of the tree without building an intermediate `serde_json::Value`. It yields exactly
/// what deserializing the node's `Value` would (numbers, `null` for NaN, last duplicate
/// key wins).
pub(crate) struct NodeDeserializer<'t> {
    pub tree: &'t Tree,
    pub text: &'t str,
    pub id: u32,
}

impl<'de> serde::Deserializer<'de> for NodeDeserializer<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let node = self.tree.node(self.id);
        let raw = &self.text[node.start as usize..node.end as usize];
        match node.kind {
            Kind::Null => visitor.visit_unit(),
            Kind::Bool => visitor.visit_bool(raw == "true"),
            Kind::Number => match number_value(raw) {
                Value::Number(n) => {
                    if let Some(u) = n.as_u64() {
                        visitor.visit_u64(u)
                    } else if let Some(i) = n.as_i64() {
                        visitor.visit_i64(i)
                    } else {
                        visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                    }
                }
                _ => visitor.visit_unit(),
            },
            Kind::String => match self.tree.str(self.text, self.id) {
                Some(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
                Some(Cow::Owned(s)) => visitor.visit_string(s),
                None => visitor.visit_unit(),
            },
            Kind::Array => visitor.visit_seq(SeqAccess {
                tree: self.tree,
                text: self.text,
                next: self.tree.first(self.id),
            }),
            Kind::Object => visitor.visit_map(MapAccess::new(self.tree, self.text, self.id)),
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if self.tree.node(self.id).kind == Kind::Null {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

struct SeqAccess<'t> {
    tree: &'t Tree,
    text: &'t str,
    next: u32,
}

impl<'t> serde::de::SeqAccess<'t> for SeqAccess<'t> {
    type Error = serde_json::Error;

    fn next_element_seed<T: serde::de::DeserializeSeed<'t>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        if self.next == NONE {
            return Ok(None);
        }
        let id = self.next;
        self.next = self.tree.node(id).next;
        seed.deserialize(NodeDeserializer {
            tree: self.tree,
            text: self.text,
            id,
        })
        .map(Some)
    }
}

struct MapAccess<'t> {
    tree: &'t Tree,
    text: &'t str,
    members: Members<'t>,
    current: u32,
}

/// The members of an object a [`MapAccess`] visits, without those a later duplicate key
/// overrides (the later one wins).
#[expect(
    clippy::large_enum_variant,
    reason = "lives on the stack for one object's visit; boxing it would allocate per entry"
)]
enum Members<'t> {
    /// Up to [`SMALL`] members with plain keys (model entries, 100,000s in a synced
    /// config): read once, kept here, nothing allocated. A set bit of `shadowed` skips
    /// that member.
    Small {
        keys: [(u32, &'t str); SMALL],
        len: usize,
        at: usize,
        shadowed: u16,
    },
    /// Any other object: its members in order, and those overridden.
    Large { next: u32, shadowed: Vec<u32> },
}

/// The most members [`Members::Small`] holds.
const SMALL: usize = 16;

impl<'t> MapAccess<'t> {
    fn new(tree: &'t Tree, text: &'t str, id: u32) -> MapAccess<'t> {
        let members = match Members::small(tree, text, id) {
            Some(small) => small,
            None => Members::Large {
                next: tree.first(id),
                shadowed: tree.shadowed(text, id),
            },
        };
        MapAccess {
            tree,
            text,
            members,
            current: NONE,
        }
    }
}

impl<'t> Members<'t> {
    fn small(tree: &'t Tree, text: &'t str, id: u32) -> Option<Members<'t>> {
        let mut keys = [(NONE, ""); SMALL];
        let mut len = 0;
        for m in tree.children(id) {
            let node = tree.node(m);
            if len == SMALL || node.key_escaped() {
                return None;
            }
            keys[len] = (m, key_raw(text, node));
            len += 1;
        }
        let mut shadowed = 0u16;
        for (i, (_, key)) in keys[..len].iter().enumerate() {
            if keys[i + 1..len].iter().any(|(_, other)| other == key) {
                shadowed |= 1 << i;
            }
        }
        Some(Members::Small {
            keys,
            len,
            at: 0,
            shadowed,
        })
    }
}

impl<'t> serde::de::MapAccess<'t> for MapAccess<'t> {
    type Error = serde_json::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'t>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match &mut self.members {
            Members::Small {
                keys,
                len,
                at,
                shadowed,
            } => {
                while *at < *len && *shadowed & (1 << *at) != 0 {
                    *at += 1;
                }
                if *at == *len {
                    return Ok(None);
                }
                let (member, key) = keys[*at];
                *at += 1;
                self.current = member;
                seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(key))
                    .map(Some)
            }
            Members::Large { next, shadowed } => {
                while *next != NONE && shadowed.contains(next) {
                    *next = self.tree.node(*next).next;
                }
                if *next == NONE {
                    return Ok(None);
                }
                self.current = *next;
                let node = self.tree.node(self.current);
                *next = node.next;
                if node.key_escaped() {
                    let key = self.tree.key(self.text, self.current).unwrap_or_default();
                    seed.deserialize(serde::de::value::StringDeserializer::new(key))
                        .map(Some)
                } else {
                    let key = key_raw(self.text, node);
                    seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(key))
                        .map(Some)
                }
            }
        }
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'t>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        seed.deserialize(NodeDeserializer {
            tree: self.tree,
            text: self.text,
            id: self.current,
        })
    }
}

impl Tree {
    /// Members of object `id` whose key appears again later (the later one wins).
    fn shadowed(&self, text: &str, id: u32) -> Vec<u32> {
        let members: Vec<(u32, Cow<'_, str>)> = self
            .children(id)
            .map(|m| (m, self.key_str(text, m).unwrap_or_default()))
            .collect();
        let mut shadowed = Vec::new();
        if members.len() <= SMALL {
            // Small objects: pairwise is cheaper than hashing.
            for (i, (a, key)) in members.iter().enumerate() {
                if members[i + 1..].iter().any(|(_, other)| other == key) {
                    shadowed.push(*a);
                }
            }
        } else {
            let mut seen = std::collections::HashSet::new();
            for (m, key) in members.iter().rev() {
                if !seen.insert(key) {
                    shadowed.push(*m);
                }
            }
        }
        shadowed
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

/// Parses `text` as one JSON5 value.
pub(crate) fn parse(text: &str) -> Result<Tree, SyntaxError> {
    parse_with(text, None)
}

/// [`parse`], except that each element of the array at `path` (keys from the root; with
/// duplicate keys, every array there) is handed to `element` as a tree of its own, with
/// the array's id, and not kept: the array reads as empty. A reader of a config whose
/// bulk is one list then never holds the list's nodes all at once.
pub(crate) fn parse_collapsing<'t>(
    text: &'t str,
    path: &'t [&'t str],
    element: &'t mut dyn FnMut(u32, &Tree),
) -> Result<Tree, SyntaxError> {
    parse_with(
        text,
        Some(Collapse {
            path,
            element,
            scratch: Vec::new(),
        }),
    )
}

fn parse_with<'t>(text: &'t str, collapse: Option<Collapse<'t>>) -> Result<Tree, SyntaxError> {
    if text.len() >= NONE as usize {
        return Err(SyntaxError {
            offset: 0,
            message: "the file is too large (4 GiB or more)",
            limit: true,
        });
    }
    let mut parser = Parser::at(text, 0);
    // Roughly one value per 12 bytes in real configs; avoids regrowing the arena.
    if collapse.is_none() {
        parser.nodes.reserve(text.len() / 12 + 4);
    }
    parser.collapse = collapse;
    parser.skip_trivia()?;
    parser.path = 0;
    let root = parser.value(NONE)?;
    parser.skip_trivia()?;
    if parser.pos < parser.bytes.len() {
        return Err(parser.error("unexpected text after the end of the value"));
    }
    Ok(Tree {
        nodes: parser.nodes,
        root,
    })
}

struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    line: u32,
    depth: usize,
    nodes: Vec<Node>,
    /// How many keys of `collapse`'s path lead to the value about to be parsed
    /// (`OFF_PATH`: it is not on the path).
    path: u8,
    collapse: Option<Collapse<'t>>,
}

/// "Not on the collapsed path".
const OFF_PATH: u8 = u8::MAX;

/// The elements of the array at `path` are parsed one at a time into `scratch` and handed
/// to `element` (with the array's id) instead of being kept in the tree.
struct Collapse<'t> {
    path: &'t [&'t str],
    element: &'t mut dyn FnMut(u32, &Tree),
    scratch: Vec<Node>,
}

impl<'t> Parser<'t> {
    /// A parser (or scanner) of `text` from `pos`.
    fn at(text: &'t str, pos: usize) -> Parser<'t> {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos,
            line: 0,
            depth: 0,
            nodes: Vec::new(),
            path: OFF_PATH,
            collapse: None,
        }
    }

    fn error(&self, message: &'static str) -> SyntaxError {
        SyntaxError {
            offset: self.pos,
            message,
            limit: false,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The (possibly multi-byte) character at the cursor.
    fn peek_char(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    /// Skips whitespace and comments (JSON5's set, Unicode included), counting lines.
    fn skip_trivia(&mut self) -> Result<(), SyntaxError> {
        // Fast path: the common single space between tokens.
        if self.peek() == Some(b' ')
            && self
                .bytes
                .get(self.pos + 1)
                .is_some_and(|b| *b > b' ' && *b < 0x80 && *b != b'/')
        {
            self.pos += 1;
            return Ok(());
        }
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | 0x0B | 0x0C => self.pos += 1,
                b'/' => self.comment()?,
                0x80.. => {
                    let Some(c) = self.peek_char() else { break };
                    if !json5::char::is_json5_whitespace(c) {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn comment(&mut self) -> Result<(), SyntaxError> {
        match self.bytes.get(self.pos + 1) {
            Some(b'/') => {
                // Ends at any line terminator (U+2028/2029 too, encoded E2 80 A8/A9), which
                // is consumed.
                self.pos += 2;
                while let Some(skip) = self.bytes[self.pos..]
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r' || b == 0xE2)
                {
                    self.pos += skip;
                    match self.bytes[self.pos] {
                        b'\n' => {
                            self.line += 1;
                            self.pos += 1;
                            return Ok(());
                        }
                        b'\r' => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => {
                            let separator = matches!(
                                self.bytes.get(self.pos + 1..self.pos + 3),
                                Some([0x80, 0xA8 | 0xA9])
                            );
                            self.pos += if separator { 3 } else { 1 };
                            if separator {
                                return Ok(());
                            }
                        }
                    }
                }
                self.pos = self.bytes.len();
                Ok(())
            }
            Some(b'*') => {
                let body = self.pos + 2;
                match self.text[body..].find("*/") {
                    Some(len) => {
                        self.line += count_newlines(&self.bytes[body..body + len]);
                        self.pos = body + len + 2;
                        Ok(())
                    }
                    None => {
                        self.pos = self.bytes.len();
                        Err(self.error("the file ends inside a /* comment */"))
                    }
                }
            }
            _ => Err(self.error("expected a comment after `/`")),
        }
    }

    fn push(&mut self, kind: Kind, start: usize, parent: u32) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            kind,
            start: start as u32,
            end: start as u32,
            key_start: NONE,
            next: NONE,
            parent,
            flags: 0,
        });
        id
    }

    /// Ends node `id` at the cursor; `line` is the line it started on.
    fn finish(&mut self, id: u32, line: u32) {
        let multiline = self.line > line;
        let node = &mut self.nodes[id as usize];
        node.end = self.pos as u32;
        node.set(MULTILINE, multiline);
    }

    /// Links `child` after `last` (`NONE`: as the first child, which is always the node
    /// right after its container).
    fn link(&mut self, parent: u32, last: u32, child: u32) {
        if last == NONE {
            debug_assert_eq!(child, parent + 1);
            self.nodes[parent as usize].set(HAS_CHILDREN, true);
        } else {
            self.nodes[last as usize].next = child;
        }
    }

    /// A value at the cursor (trivia already skipped).
    fn value(&mut self, parent: u32) -> Result<u32, SyntaxError> {
        let start = self.pos;
        let path = std::mem::replace(&mut self.path, OFF_PATH);
        match self.peek() {
            Some(b'{') => self.container(Kind::Object, parent, path),
            Some(b'[') => self.container(Kind::Array, parent, path),
            Some(quote @ (b'"' | b'\'')) => {
                let line = self.line;
                let id = self.push(Kind::String, start, parent);
                let escaped = self.string(quote)?;
                self.nodes[id as usize].set(ESCAPED, escaped);
                self.finish(id, line);
                Ok(id)
            }
            Some(b't') => self.keyword("true", Kind::Bool, parent),
            Some(b'f') => self.keyword("false", Kind::Bool, parent),
            Some(b'n') => self.keyword("null", Kind::Null, parent),
            Some(b'+' | b'-' | b'.' | b'I' | b'N' | b'0'..=b'9') => {
                let id = self.push(Kind::Number, start, parent);
                self.number()?;
                self.finish(id, self.line);
                Ok(id)
            }
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("the file ends where a value should be")),
        }
    }

    fn keyword(&mut self, word: &'static str, kind: Kind, parent: u32) -> Result<u32, SyntaxError> {
        let id = self.push(kind, self.pos, parent);
        self.expect_str(word)?;
        self.finish(id, self.line);
        Ok(id)
    }

    /// Consumes `word` exactly, failing at the first differing character like `json5`.
    fn expect_str(&mut self, word: &str) -> Result<(), SyntaxError> {
        for expected in word.bytes() {
            match self.peek() {
                Some(b) if b == expected => self.pos += 1,
                Some(_) => return Err(self.error("unexpected character")),
                None => return Err(self.error("the file ends inside a value")),
            }
        }
        Ok(())
    }

    fn container(&mut self, kind: Kind, parent: u32, path: u8) -> Result<u32, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError {
                offset: self.pos,
                message: TOO_DEEP,
                limit: true,
            });
        }
        let (close, expected) = match kind {
            Kind::Object => (b'}', "expected `,` or `}`"),
            _ => (b']', "expected `,` or `]`"),
        };
        let line = self.line;
        let id = self.push(kind, self.pos, parent);
        self.pos += 1;
        self.skip_trivia()?;
        let mut last = NONE;
        let collapsing = kind == Kind::Array
            && self
                .collapse
                .as_ref()
                .is_some_and(|c| c.path.len() == path as usize);
        loop {
            match self.peek() {
                Some(b) if b == close => break,
                None => return Err(self.error("the file ends inside an object or array")),
                Some(_) => {}
            }
            if collapsing {
                self.collapsed_element(id)?;
            } else {
                let child = if kind == Kind::Object {
                    self.member(id, path)?
                } else {
                    self.value(id)?
                };
                self.link(id, last, child);
                last = child;
            }
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_trivia()?;
                }
                Some(b) if b == close => break,
                None => return Err(self.error("the file ends inside an object or array")),
                Some(_) => return Err(self.error(expected)),
            }
        }
        self.pos += 1;
        self.finish(id, line);
        self.depth -= 1;
        Ok(id)
    }

    /// One element of a collapsed array at the cursor, parsed into its own tree (offsets
    /// into the whole text) and handed over.
    fn collapsed_element(&mut self, array: u32) -> Result<(), SyntaxError> {
        let Some(mut collapse) = self.collapse.take() else {
            return Err(self.error("internal: no collapsed array here"));
        };
        let mut sub = Parser::at(self.text, self.pos);
        sub.line = self.line;
        sub.depth = self.depth;
        sub.nodes = std::mem::take(&mut collapse.scratch);
        sub.nodes.clear();
        let root = sub.value(NONE);
        self.pos = sub.pos;
        self.line = sub.line;
        let tree = Tree {
            nodes: sub.nodes,
            root: root.as_ref().map_or(0, |&r| r),
        };
        if root.is_ok() {
            (collapse.element)(array, &tree);
        }
        collapse.scratch = tree.nodes;
        self.collapse = Some(collapse);
        root.map(|_| ())
    }

    /// `key: value` at the cursor, in an object `path` keys down the collapsed path.
    fn member(&mut self, parent: u32, path: u8) -> Result<u32, SyntaxError> {
        let key_start = self.pos;
        let line = self.line;
        let (style, escaped) = match self.peek() {
            Some(quote @ (b'"' | b'\'')) => {
                let escaped = self.string(quote)?;
                let style = if quote == b'"' {
                    KeyStyle::Double
                } else {
                    KeyStyle::Single
                };
                (style, escaped)
            }
            _ => (KeyStyle::Word, self.identifier()?),
        };
        self.skip_trivia()?;
        if self.peek() != Some(b':') {
            return Err(self.error("expected `:` after the key"));
        }
        self.pos += 1;
        self.skip_trivia()?;
        self.path = self.path_below(path, key_start, escaped);
        let id = self.value(parent)?;
        let multiline = self.line > line;
        let node = &mut self.nodes[id as usize];
        node.key_start = key_start as u32;
        node.set_key(style, escaped);
        node.set(MULTILINE, multiline);
        Ok(id)
    }

    /// The path state of the value of the member whose key starts at `key_start`, in an
    /// object whose state is `path`.
    fn path_below(&self, path: u8, key_start: usize, escaped: bool) -> u8 {
        let Some(collapse) = &self.collapse else {
            return OFF_PATH;
        };
        let Some(&want) = collapse.path.get(path as usize) else {
            return OFF_PATH;
        };
        let node = Node {
            start: 0,
            end: 0,
            key_start: key_start as u32,
            next: NONE,
            parent: NONE,
            kind: Kind::Null,
            flags: match self.bytes[key_start] {
                b'\'' => KEY_SINGLE,
                b'"' => KEY_DOUBLE,
                _ => 0,
            } | if escaped { KEY_ESCAPED } else { 0 },
        };
        let raw = key_raw(self.text, &node);
        let matches = if escaped {
            decode(raw) == want
        } else {
            raw == want
        };
        if matches { path + 1 } else { OFF_PATH }
    }

    /// An ECMAScript 5.1 identifier name; returns whether it used `\u` escapes.
    fn identifier(&mut self) -> Result<bool, SyntaxError> {
        // Fast path: plain ASCII keys (`contextWindow`) need no character decoding.
        if let Some(&b) = self.bytes.get(self.pos)
            && (b.is_ascii_alphabetic() || b == b'_' || b == b'$')
        {
            let rest = &self.bytes[self.pos + 1..];
            let len = rest
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$'))
                .unwrap_or(rest.len());
            match rest.get(len) {
                Some(&b) if b < 0x80 && b != b'\\' => {
                    self.pos += 1 + len;
                    return Ok(false);
                }
                None => {
                    self.pos = self.bytes.len();
                    return Err(self.error("the file ends inside a key"));
                }
                _ => {}
            }
        }
        let start = self.pos;
        let mut escaped = false;
        loop {
            let Some(c) = self.peek_char() else {
                return Err(self.error("the file ends inside a key"));
            };
            let first = self.pos == start;
            let (c, len) = if c == '\\' {
                if self.bytes.get(self.pos + 1) != Some(&b'u') {
                    return Err(self.error("invalid escape in a key"));
                }
                escaped = true;
                let save = self.pos;
                self.pos += 2;
                let decoded = self.unicode_escape()?;
                let len = self.pos - save;
                self.pos = save;
                (decoded, len)
            } else {
                (c, c.len_utf8())
            };
            let ok = if first {
                c.is_ascii_alphabetic()
                    || c == '$'
                    || c == '_'
                    || (!c.is_ascii() && json5::char::is_json5_identifier_start(c))
            } else {
                c.is_ascii_alphanumeric()
                    || c == '$'
                    || c == '_'
                    || (!c.is_ascii() && json5::char::is_json5_identifier(c))
            };
            if !ok {
                if first {
                    return Err(self.error("expected a key"));
                }
                return Ok(escaped);
            }
            self.pos += len;
        }
    }

    /// A string opened by `quote` at the cursor; returns whether it holds escapes.
    fn string(&mut self, quote: u8) -> Result<bool, SyntaxError> {
        self.pos += 1;
        let mut escaped = false;
        loop {
            // Fast path: plain bytes up to the next quote, backslash or line break.
            let rest = &self.bytes[self.pos..];
            let skip = rest
                .iter()
                .position(|&b| b == quote || b == b'\\' || b == b'\n' || b == b'\r');
            let Some(skip) = skip else {
                self.pos = self.bytes.len();
                return Err(self.error("the file ends inside a string"));
            };
            self.pos += skip;
            match self.bytes[self.pos] {
                b if b == quote => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.pos += 1;
                    self.escape()?;
                }
                _ => return Err(self.error("line break inside a string (use \\n)")),
            }
        }
    }

    /// The escape after a backslash (ES5.1 §7.8.4, as `json5` reads it).
    fn escape(&mut self) -> Result<(), SyntaxError> {
        let Some(c) = self.peek_char() else {
            return Err(self.error("the file ends inside an escape"));
        };
        self.pos += c.len_utf8();
        match c {
            '\r' if self.peek() == Some(b'\n') => {
                self.pos += 1;
                self.line += 1;
            }
            '\n' => self.line += 1,
            '0' if self.peek().is_some_and(|b| b.is_ascii_digit()) => {
                return Err(self.error("invalid escape"));
            }
            '1'..='9' => return Err(self.error("invalid escape")),
            'x' => {
                self.hex_digits(2)?;
            }
            'u' => {
                self.unicode_escape()?;
            }
            _ => {}
        }
        Ok(())
    }

    /// `XXXX` (after `\u`), or a surrogate pair `XXXX\uXXXX`.
    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let a = self.hex_digits(4)?;
        if let Some(c) = char::from_u32(a) {
            return Ok(c);
        }
        if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
            return Err(self.error("invalid escape"));
        }
        self.pos += 2;
        let b = self.hex_digits(4)?;
        let mut chars = char::decode_utf16([a as u16, b as u16]);
        match (chars.next(), chars.next()) {
            (Some(Ok(c)), None) => Ok(c),
            _ => Err(self.error("invalid escape")),
        }
    }

    fn hex_digits(&mut self, n: usize) -> Result<u32, SyntaxError> {
        let mut value = 0;
        for _ in 0..n {
            match self.peek() {
                Some(b) if b.is_ascii_hexdigit() => {
                    value = value * 16 + (b as char).to_digit(16).unwrap_or(0);
                    self.pos += 1;
                }
                Some(_) => return Err(self.error("invalid escape")),
                None => return Err(self.error("the file ends inside an escape")),
            }
        }
        Ok(value)
    }

    /// A number as `json5` reads it (sign, `Infinity`, `NaN`, hex, decimal).
    fn number(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let neg = match self.peek() {
            Some(b'+') => {
                self.pos += 1;
                false
            }
            Some(b'-') => {
                self.pos += 1;
                true
            }
            _ => false,
        };
        let Some(first) = self.peek() else {
            return Err(self.error("the file ends inside a number"));
        };
        self.pos += 1;
        match first {
            b'I' => self.expect_str("nfinity"),
            b'N' => self.expect_str("aN"),
            b'0' => match self.peek() {
                Some(b'x' | b'X') => {
                    self.pos += 1;
                    self.hex_number(neg, start)
                }
                Some(b'.' | b'e' | b'E') => self.decimal(start),
                Some(b'0'..=b'9') => Err(SyntaxError {
                    offset: start,
                    message: "numbers cannot start with 0",
                    limit: false,
                }),
                _ => Ok(()),
            },
            b'.' | b'1'..=b'9' => self.decimal(start),
            _ => {
                self.pos -= 1;
                Err(self.error("expected a number"))
            }
        }
    }

    fn decimal(&mut self, start: usize) -> Result<(), SyntaxError> {
        while let Some(b'+' | b'-' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        // The same acceptance test as `json5`: the scanned text must parse as an integer
        // or a float (`1.5.5`, `1e` and `1-2` do not). Plain digits always do (a float
        // takes what overflows), which spares the common case any parsing.
        let raw = &self.text[start..self.pos];
        let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
        if digits.bytes().all(|b| b.is_ascii_digit()) || raw.parse::<f64>().is_ok() {
            Ok(())
        } else {
            Err(SyntaxError {
                offset: start,
                message: "invalid number",
                limit: false,
            })
        }
    }

    fn hex_number(&mut self, neg: bool, start: usize) -> Result<(), SyntaxError> {
        let digits = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
            self.pos += 1;
        }
        if self.pos == digits {
            return Err(self.error("expected hex digits"));
        }
        match hex_value(&self.text[digits..self.pos], neg) {
            Some(_) => Ok(()),
            None => Err(SyntaxError {
                offset: start,
                message: "number too large",
                limit: false,
            }),
        }
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
