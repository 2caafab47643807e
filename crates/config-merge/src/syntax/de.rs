//! A serde `Deserializer` over the span tree: typed reads without an intermediate value.

use std::borrow::Cow;

use super::*;

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
