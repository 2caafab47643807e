//! Properties the fuzz targets (`crates/fuzz`) check on arbitrary input, over this
//! crate's private parts. Each returns `Err` with what went wrong; not part of the API.

use serde::Deserialize;
use serde_json::Value;

use crate::env_file;
use crate::syntax::{self, Kind, NodeDeserializer};
use crate::view::{OpenClawView, ProviderModels};

/// The strict span parser against the `json5` crate: the same verdict (unless one of our
/// limits), the same value, typed reads from the tree equal to reads of the value, an
/// incremental re-parse of any container equal to a fresh parse, the view read from the
/// tree equal to the view of the value, and the depth scan that
/// guards `json5` in agreement with the parser.
pub fn json5_parsers(text: &str) -> Result<(), String> {
    let ours = syntax::parse(text);
    match &ours {
        Ok(_) if syntax::too_deep(text).is_some() => {
            return Err(format!("the depth scan refuses what parses: {text:?}"));
        }
        Err(e) if e.message == syntax::TOO_DEEP && syntax::too_deep(text) != Some(e.offset) => {
            return Err(format!("the depth scan and the parser disagree: {text:?}"));
        }
        _ => {}
    }
    // `json5` recurses once per level: only what the guard lets through goes there.
    if syntax::too_deep(text).is_some() {
        return Ok(());
    }
    let theirs = json5::from_str::<Value>(text);
    match (&ours, &theirs) {
        (Ok(tree), Ok(value)) => {
            if &tree.to_value(text, tree.root()) != value {
                return Err(format!("values differ for {text:?}"));
            }
            let typed = Value::deserialize(NodeDeserializer {
                tree,
                text,
                id: tree.root(),
            })
            .ok();
            if typed.as_ref() != Some(value) {
                return Err(format!("typed read differs for {text:?}"));
            }
            if value.is_object()
                && OpenClawView::from_tree(text, tree, ProviderModels::All)
                    != OpenClawView::from_value(value)
            {
                return Err(format!("the tree's view differs for {text:?}"));
            }
            match crate::document::view_collapsed(text) {
                Ok(Some(view)) if value.is_object() => {
                    if view != OpenClawView::from_value(value) {
                        return Err(format!("the collapsed read's view differs for {text:?}"));
                    }
                }
                Ok(None) if !value.is_object() => {}
                other => {
                    return Err(format!("the collapsed read says {other:?} for {text:?}"));
                }
            }
            for id in 0..tree.len() {
                if matches!(tree.node(id).kind, Kind::Object | Kind::Array) {
                    let mut again = tree.clone();
                    if again.reparse_within(text, id, 0).is_err() || &again != tree {
                        return Err(format!("re-parse of node {id} differs for {text:?}"));
                    }
                }
            }
            Ok(())
        }
        (Err(e), Ok(_)) if !e.limit => Err(format!("json5 accepts {text:?}, we say {e:?}")),
        (Err(e), _) if crate::document::view_collapsed(text).err().as_ref() != Some(e) => Err(
            format!("the collapsed read and the parser disagree on {text:?}"),
        ),
        (Ok(_), Err(e)) => Err(format!("we accept {text:?}, json5 says {e}")),
        _ => Ok(()),
    }
}

/// `.env` editing: after setting `name` to `value` (when the name and value can be
/// written), reading `name` gives `value`, and every other variable reads as before.
pub fn env_file(text: &str, name: &str, value: &str) -> Result<(), String> {
    let Some(quoted) = env_file::quote(value) else {
        return Ok(());
    };
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
    {
        return Ok(());
    }
    let new = env_file::with_line(text, name, &format!("{name}={quoted}"));
    let read = |text: &str, name: &str| {
        text.lines()
            .rev()
            .find_map(|line| env_file::assignment(line, name))
            .map(env_file::unquote)
    };
    if read(&new, name).as_deref() != Some(value) {
        return Err(format!("{name}={value:?} does not read back from {new:?}"));
    }
    for line in text.lines() {
        let other: String = line
            .trim_start()
            .trim_start_matches("export ")
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            .collect();
        // A name of which `name` is a prefix (`HF` vs `HF_TOKEN`) is another variable.
        if other.is_empty() || other == name {
            continue;
        }
        if read(text, &other) != read(&new, &other) {
            return Err(format!("{other} changed when setting {name} in {text:?}"));
        }
    }
    Ok(())
}

/// Every `//` and `/* */` comment of a JSON5 text (strings skipped), line comments
/// without trailing blanks.
///
/// The fuzzer's first finding: this scanner ended `//` comments at `\n` only, so a comment
/// ended by U+2028 swallowed the next element and "lost" it when an edit went there.
pub fn comments(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                // JSON5's line terminators end it, U+2028 and U+2029 too.
                let end = text[i..]
                    .find(['\n', '\r', '\u{2028}', '\u{2029}'])
                    .map_or(text.len(), |n| i + n);
                out.push(text[i..end].trim_end());
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").map_or(text.len(), |n| i + n + 4);
                out.push(&text[i..end]);
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}
