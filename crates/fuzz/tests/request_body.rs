//! The differential test of the gateway's request bodies (issue 23): bodies written every
//! way a client may write JSON (spacing, escapes, repeated keys, wide numbers, deep
//! nesting) go through the scan-and-splice path and the parse-and-encode path it replaced;
//! the `request_body` target checks that the router gets an equal document, byte for byte
//! the client's outside the values the gateway writes.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

/// A JSON value as text, written one of several ways.
#[derive(Debug, Clone)]
enum Node {
    Leaf(&'static str),
    Array(Vec<Node>),
    Object(Vec<(&'static str, Node)>),
}

const LEAVES: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-0.0",
    "1E5",
    "3.25e-2",
    "123456789012345678901234567890",
    "-18446744073709551617",
    "\"\"",
    "\"hi\"",
    "\"caf\\u00e9 \\/ \\\"q\\\" \\n\"",
    "\"é \u{2028} 😀\"",
    "\"\\ud83d\\ude00\"",
    "\"deepseek-ai/DeepSeek-R1\"",
];

/// Member names, as written: the ones the gateway reads, one escaped, others.
const KEYS: &[&str] = &[
    "\"model\"",
    "\"mod\\u0065l\"",
    "\"stream\"",
    "\"messages\"",
    "\"input\"",
    "\"stream_options\"",
    "\"include_usage\"",
    "\"zz\"",
    "\"seed\"",
    "\"\"",
];

const SPACES: &[&str] = &["", " ", "\n  ", "\t", "\r\n"];

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop::sample::select(LEAVES).prop_map(Node::Leaf);
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Node::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(Node::Object),
        ]
    })
}

fn write(node: &Node, spaces: &[usize], at: &mut usize, out: &mut String) {
    fn space(spaces: &[usize], at: &mut usize, out: &mut String) {
        out.push_str(SPACES[spaces[*at % spaces.len()] % SPACES.len()]);
        *at += 1;
    }
    match node {
        Node::Leaf(text) => out.push_str(text),
        Node::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                space(spaces, at, out);
                write(item, spaces, at, out);
            }
            space(spaces, at, out);
            out.push(']');
        }
        Node::Object(members) => {
            out.push('{');
            for (i, (key, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                space(spaces, at, out);
                out.push_str(key);
                space(spaces, at, out);
                out.push(':');
                space(spaces, at, out);
                write(value, spaces, at, out);
            }
            space(spaces, at, out);
            out.push('}');
        }
    }
}

fn check(selector: u8, text: &str) {
    let target = hfclaw_fuzz::target("request_body").unwrap();
    let mut input = vec![selector];
    input.extend_from_slice(text.as_bytes());
    (target.run)(&input);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_spliced_body_reads_as_the_encoded_one_and_keeps_the_clients_bytes(
        selector in any::<u8>(),
        members in prop::collection::vec((prop::sample::select(KEYS), node()), 0..8),
        spaces in prop::collection::vec(0usize..SPACES.len(), 1..16),
    ) {
        let mut text = String::new();
        write(&Node::Object(members), &spaces, &mut 0, &mut text);
        check(selector, &text);
    }
}

#[test]
fn wide_integers_reach_the_router_as_written() {
    let body = br#"{"model":"a","seed": 123456789012345678901234567890,"messages":[]}"#;
    let parsed = hfclaw_router_client::JsonBody::parse(bytes::Bytes::from_static(body)).unwrap();
    let sent = parsed.with_model("deepseek-ai/DeepSeek-R1");
    assert_eq!(
        std::str::from_utf8(&sent).unwrap(),
        r#"{"model":"deepseek-ai/DeepSeek-R1","seed": 123456789012345678901234567890,"messages":[]}"#
    );
    // What the parse-and-encode path sent instead.
    let old: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body).unwrap();
    assert!(
        !serde_json::to_string(&old)
            .unwrap()
            .contains("123456789012345678901234567890")
    );
}

#[test]
fn bodies_the_old_path_refused_only_for_building_values_are_passed_on() {
    for text in [
        r#"{"x":1e400}"#,
        r#"{"x":"\ud800"}"#,
        &format!("{{\"x\":{}{}}}", "[".repeat(200), "]".repeat(200)),
    ] {
        for selector in 0..20 {
            check(selector, text);
        }
    }
}
