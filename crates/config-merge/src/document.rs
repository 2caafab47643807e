//! Reading a config: JSON5 text → validated value, with `path:line:col` errors.

use std::cell::OnceCell;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::ConfigError;
use crate::syntax::{self, Kind, Tree};
use crate::view::{OpenClawView, ProviderModels};

/// A parsed config file: its text (for format-preserving edits) and its value (for reading).
#[derive(Debug, Clone)]
pub struct ConfigDocument {
    path: PathBuf,
    text: String,
    parsed: Parsed,
}

/// The strict parser's tree (value built on demand), or `json5`'s value when only `json5`
/// accepts the text.
#[derive(Debug, Clone)]
enum Parsed {
    Tree(Tree, OnceCell<Value>),
    Value(Value),
}

impl ConfigDocument {
    /// Reads and parses `path`; `Ok(None)` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<ConfigDocument>, ConfigError> {
        match std::fs::read(path) {
            Ok(bytes) => ConfigDocument::parse(path, utf8(path, bytes)?).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ConfigError::io("reading", path, e)),
        }
    }

    /// Reads `path`'s view only, for commands that never edit: the provider's model list
    /// is read one entry at a time, so a config synced with 200,000 models is never held
    /// as a tree of all of them. `Ok(None)` when the file does not exist; errors and the
    /// view are exactly those of [`ConfigDocument::load`] and [`ConfigDocument::view`].
    pub fn load_view(path: &Path) -> Result<Option<OpenClawView>, ConfigError> {
        let text = match std::fs::read(path) {
            Ok(bytes) => utf8(path, bytes)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ConfigError::io("reading", path, e)),
        };
        match view_collapsed(&text) {
            Ok(Some(view)) => Ok(Some(view)),
            // Errors (and the `json5` fallback) exactly as a full read reports them.
            _ => ConfigDocument::parse(path, text).map(|doc| Some(doc.view())),
        }
    }

    /// Parses JSON5 `text`; `path` is only used in errors. The root must be an object.
    pub fn parse(path: &Path, text: String) -> Result<ConfigDocument, ConfigError> {
        let (parsed, is_object) = match syntax::parse(&text) {
            Ok(tree) => {
                let is_object = tree.node(tree.root()).kind == Kind::Object;
                (Parsed::Tree(tree, OnceCell::new()), is_object)
            }
            // Too deep (or too big) for the strict parser is too much for `json5` too.
            Err(err) if err.limit => return Err(syntax_error(path, &text, &err)),
            // Reading is tolerant: should the strict parser ever refuse what `json5`
            // accepts, the read still works (edits will report the spot).
            Err(_) => {
                let value = parse_json5(path, &text)?;
                let is_object = value.is_object();
                (Parsed::Value(value), is_object)
            }
        };
        if !is_object {
            return Err(ConfigError::NotAnObject {
                path: path.to_path_buf(),
            });
        }
        Ok(ConfigDocument {
            path: path.to_path_buf(),
            text,
            parsed,
        })
    }

    /// The file this came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The exact text read.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed value (an object).
    pub fn value(&self) -> &Value {
        match &self.parsed {
            Parsed::Tree(tree, value) => {
                value.get_or_init(|| tree.to_value(&self.text, tree.root()))
            }
            Parsed::Value(value) => value,
        }
    }

    /// What OpenClaw's keys in this config mean.
    pub fn view(&self) -> OpenClawView {
        self.view_with(ProviderModels::All)
    }

    /// [`ConfigDocument::view`] with only the provider model entries `which` asks for.
    pub fn view_with(&self, which: ProviderModels<'_>) -> OpenClawView {
        match &self.parsed {
            Parsed::Tree(tree, _) => OpenClawView::from_tree(&self.text, tree, which),
            Parsed::Value(value) => {
                let mut view = OpenClawView::from_value(value);
                if let Some(provider) = &mut view.provider {
                    retain_models(&mut provider.models, which);
                }
                view
            }
        }
    }

    /// Reads the provider model entries `which` asks for into `view`, a view of this
    /// document read with [`ProviderModels::Skip`]: a caller can decide which entries it
    /// needs from the rest of the view without reading that twice.
    pub fn read_provider_models(&self, view: &mut OpenClawView, which: ProviderModels<'_>) {
        match &self.parsed {
            Parsed::Tree(tree, _) => view.read_provider_models(&self.text, tree, which),
            Parsed::Value(value) => {
                let full = OpenClawView::from_value(value);
                if let (Some(provider), Some(mut all)) = (&mut view.provider, full.provider) {
                    retain_models(&mut all.models, which);
                    provider.models = all.models;
                }
            }
        }
    }

    /// The text and the strict parser's tree (an editor can start from them instead of
    /// parsing again); `None` when only `json5` read the text.
    pub(crate) fn into_tree(self) -> Option<(String, Tree)> {
        match self.parsed {
            Parsed::Tree(tree, _) => Some((self.text, tree)),
            Parsed::Value(_) => None,
        }
    }
}

/// The view of `text` read with the provider's model list collapsed (see
/// [`ConfigDocument::load_view`]); `Ok(None)` when the root is not an object.
pub(crate) fn view_collapsed(text: &str) -> Result<Option<OpenClawView>, syntax::SyntaxError> {
    let mut entries = crate::view::Collapsed::default();
    let mut element = |array: u32, entry: &Tree| {
        let read = <hfclaw_catalog::ConfigModel as serde::Deserialize>::deserialize(
            syntax::NodeDeserializer {
                tree: entry,
                text,
                id: entry.root(),
            },
        );
        entries.push(array, read.map_err(|e| e.to_string()));
    };
    let tree = syntax::parse_collapsing(text, &crate::view::PROVIDER_MODELS_PATH, &mut element)?;
    if tree.node(tree.root()).kind != Kind::Object {
        return Ok(None);
    }
    Ok(Some(OpenClawView::from_collapsed(text, &tree, entries)))
}

/// Keeps the entries of `models` that `which` asks for.
fn retain_models(models: &mut Vec<hfclaw_catalog::ConfigModel>, which: ProviderModels<'_>) {
    match which {
        ProviderModels::All => {}
        ProviderModels::Skip => models.clear(),
        ProviderModels::Matching(keep) => models.retain(|m| keep(&m.id)),
        ProviderModels::Checked(keep) => {
            let mut seen = std::collections::HashSet::new();
            let repeated: std::collections::HashSet<String> = models
                .iter()
                .filter(|m| !seen.insert(m.id.as_str()))
                .map(|m| m.id.clone())
                .collect();
            models.retain(|m| keep(&m.id) || repeated.contains(&m.id));
        }
    }
}

/// Parses JSON5 into the span tree edits work on. Errors carry `json5`'s message and
/// position (the same the read side reports); the strict parser's own only when `json5`
/// disagrees or the text hits one of its limits.
pub(crate) fn parse_tree(path: &Path, text: &str) -> Result<Tree, ConfigError> {
    let err = match syntax::parse(text) {
        Ok(tree) => return Ok(tree),
        Err(err) => err,
    };
    // `json5` recurses without a limit: never hand it what our depth limit refused.
    if !err.limit {
        parse_json5(path, text)?;
        tracing::warn!(
            offset = err.offset,
            "json5 accepts what the strict parser refuses: {}",
            err.message
        );
    }
    Err(syntax_error(path, text, &err))
}

/// The strict parser's error as `path:line:col` + snippet.
fn syntax_error(path: &Path, text: &str, err: &syntax::SyntaxError) -> ConfigError {
    let (line, column) = syntax::line_column(text, err.offset);
    ConfigError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        message: err.message.to_owned(),
        snippet: snippet(text, line, column),
    }
}

/// The file's bytes as text, or an error pointing at the first byte that is not UTF-8.
pub(crate) fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, ConfigError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        // The text up to the end of the bad byte's line, the bad bytes shown as U+FFFD.
        let line_end = bytes[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |n| at + n);
        let shown = String::from_utf8_lossy(&bytes[..line_end]);
        let (line, column) = syntax::line_column(&shown, at);
        ConfigError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message: format!(
                "invalid UTF-8 (byte 0x{:02X}); the file must be UTF-8 text",
                bytes[at]
            ),
            snippet: snippet(&shown, line, column),
        }
    })
}

/// Parses JSON5 into a value, turning parser errors into `path:line:col` + snippet.
pub(crate) fn parse_json5(path: &Path, text: &str) -> Result<Value, ConfigError> {
    if let Some(offset) = syntax::too_deep(text) {
        // `json5` recurses once per level and would overflow the stack: the strict
        // parser names the first problem instead (the depth, or a syntax error before it).
        return Err(match syntax::parse(text) {
            Err(err) => syntax_error(path, text, &err),
            Ok(_) => syntax_error(
                path,
                text,
                &syntax::SyntaxError {
                    offset,
                    message: syntax::TOO_DEEP,
                    limit: true,
                },
            ),
        });
    }
    // An empty or whitespace-only file is not JSON5; json5 reports it at 1:1, which is right.
    json5::from_str::<Value>(text).map_err(|e| {
        let (mut line, mut column) = e
            .position()
            .map(|p| (p.line + 1, p.column + 1))
            .unwrap_or((1, 1));
        let mut message = strip_position(&e.to_string());
        // json5 places "EOF parsing object" where the object *opened*; the user needs to
        // look at the end of the file, and to know which bracket is unclosed.
        if let Some(what) = message.strip_prefix("EOF parsing ") {
            message =
                format!("the file ends inside the {what} opened at line {line} column {column}");
            (line, column) = end_position(text);
        }
        ConfigError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message,
            snippet: snippet(text, line, column),
        }
    })
}

/// The 1-based line and column just after the last non-blank character.
fn end_position(text: &str) -> (usize, usize) {
    let trimmed = text.trim_end();
    let line = trimmed.lines().count().max(1);
    let column = trimmed.lines().last().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// json5's messages end in " at line L column C"; the position is already in our prefix.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The 1-based `line` of `text` with a caret under `column`, like rustc's; secrets on
/// the line are masked (see `redact`).
pub(crate) fn snippet(text: &str, line: usize, column: usize) -> String {
    let Some(range) = line_range(text, line) else {
        return String::new();
    };
    let source = crate::redact::masked_line(text, range);
    // Long lines (minified configs) are cut around the column so the caret stays visible.
    const WIDTH: usize = 100;
    let chars: Vec<char> = source.chars().collect();
    let start = column
        .saturating_sub(60)
        .min(chars.len().saturating_sub(WIDTH));
    let end = (start + WIDTH).min(chars.len());
    let shown: String = chars[start..end].iter().collect();
    let number = line.to_string();
    let pad = " ".repeat(number.len());
    let caret_at = column.saturating_sub(1).saturating_sub(start);
    // Tabs before the caret stay tabs, so it lines up in any terminal.
    let lead: String = (0..caret_at)
        .map(|i| match chars.get(start + i) {
            Some('\t') => '\t',
            _ => ' ',
        })
        .collect();
    format!("{number} | {shown}\n{pad} | {lead}^")
}

/// The byte range of the 1-based `line` (without its line break), numbered as
/// `str::lines` does.
fn line_range(text: &str, line: usize) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    for (i, piece) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let body = piece.strip_suffix('\n').unwrap_or(piece);
            let body = body.strip_suffix('\r').unwrap_or(body);
            return Some(start..start + body.len());
        }
        start += piece.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigDocument, ConfigError> {
        ConfigDocument::parse(Path::new("/c/openclaw.json"), text.to_owned())
    }

    #[test]
    fn reads_json5_features() {
        let doc = parse(
            "// comment\n{ agents: { /* b */ defaults: { model: 'huggingface/a/b', }, }, n: 0x10, }\n",
        )
        .unwrap();
        assert_eq!(
            doc.value()["agents"]["defaults"]["model"],
            "huggingface/a/b"
        );
        assert_eq!(doc.value()["n"], 16);
    }

    #[test]
    fn parse_error_has_line_column_and_caret() {
        let err =
            parse("{\n  agents: {\n    defaults: { model: \"x\" \"y\" },\n  },\n}\n").unwrap_err();
        let ConfigError::Parse {
            line,
            column,
            snippet,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!((*line, *column), (3, 28));
        assert_eq!(
            snippet,
            "3 |     defaults: { model: \"x\" \"y\" },\n  |                            ^"
        );
        assert!(
            err.to_string().starts_with("/c/openclaw.json:3:28: "),
            "{err}"
        );
        assert!(err.is_input_error());
    }

    #[test]
    fn unclosed_bracket_points_at_the_end_and_names_the_opening() {
        let err = parse("{\n  agents: {\n    defaults: {}\n\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/c/openclaw.json:3:17: the file ends inside the object opened at line 2 column 11"
        );
    }

    #[test]
    fn checked_reads_every_entry_but_keeps_the_wanted_and_repeated_ones() {
        let text = "{ models: { providers: { huggingface: { models: [\n\
            { id: 'a/kept' }, { id: 'b/dropped' }, { id: 'c/twice' }, { id: 3 },\n\
            { id: 'c/twice', name: 'again' }, { id: '' },\n] } } } }";
        let keep = |id: &str| id == "a/kept";
        for doc in [
            parse(text).unwrap(),
            // The same through `json5`'s value, as when only `json5` reads a file.
            ConfigDocument {
                path: PathBuf::from("/c/openclaw.json"),
                text: text.to_owned(),
                parsed: Parsed::Value(json5::from_str(text).unwrap()),
            },
        ] {
            let mut view = doc.view_with(ProviderModels::Skip);
            doc.read_provider_models(&mut view, ProviderModels::Checked(&keep));
            let ids: Vec<&str> = view
                .provider
                .as_ref()
                .unwrap()
                .models
                .iter()
                .map(|m| m.id.as_str())
                .collect();
            assert_eq!(ids, ["a/kept", "c/twice", "c/twice"]);
            // The malformed entries are reported as a full read reports them.
            assert_eq!(view.warnings, doc.view().warnings);
            assert_eq!(view.warnings.len(), 2, "{:?}", view.warnings);
            let mut matching = doc.view_with(ProviderModels::Skip);
            doc.read_provider_models(&mut matching, ProviderModels::Matching(&keep));
            assert_eq!(matching.provider.unwrap().models.len(), 1);
        }
    }

    #[test]
    fn the_view_of_the_tree_is_the_view_of_the_value() {
        for text in [
            "{ agents: { defaults: { models: { 'huggingface/a/b': { alias: 'AB' }, \
             'huggingface/c/d': { alias: 3 }, 'huggingface/a/b': { alias: 'again' }, \
             'h\\u0075ggingface/e/f': null, x: [], y: { alias: '  ' }, z: { alias: null } } } } }",
            "{ agents: { defaults: { models: [], model: 'huggingface/a/b' } }, meta: {} }",
            "{ agents: { defaults: { models: {}, modelPolicy: { allow: ['huggingface/*'] } } } }",
            "{ agents: { defaults: { models: { 'huggingface/a/b': {} } } }, \
             meta: { migrations: { modelPolicyAllowlist: true } } }",
        ] {
            let doc = parse(text).unwrap();
            let value = json5::from_str::<Value>(text).unwrap();
            assert_eq!(doc.view(), OpenClawView::from_value(&value), "{text}");
            assert_eq!(crate::fuzzing::json5_parsers(text), Ok(()));
        }
    }

    #[test]
    fn reading_the_view_alone_equals_the_full_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        for text in [
            // Entries of every kind, a malformed one, a repeated block and list.
            "{ models: { providers: { huggingface: { models: [{ id: 'x/old' }] }, \
             'hugging\\u0066ace': { baseUrl: 'u', models: [\n  { id: 'a/b', name: 'A', \
             cost: { input: 1 } }, // c\n  { id: 3 }, { id: '' }, 7, { id: 'c/d', x: [1, {y: 2}] },\n] } } }, \
             agents: { defaults: { model: 'huggingface/a/b' } } }",
            "{ models: { providers: { huggingface: { models: { id: 'not a list' } } } } }",
            "{ models: { providers: { other: { models: [{ id: 'o/p' }] } } } }",
            "{}",
        ] {
            std::fs::write(&path, text).unwrap();
            let full = ConfigDocument::load(&path).unwrap().unwrap().view();
            assert_eq!(
                ConfigDocument::load_view(&path).unwrap(),
                Some(full),
                "{text}"
            );
        }
        // Errors, from inside a collapsed entry too, are the full read's.
        for text in [
            "{ models: { providers: { huggingface: { models: [{ id: 'a/b' }, { id: 'c' \n 'd' }] } } } }",
            "{ models: { providers: { huggingface: { models: [[[[[[[[",
            "[1]",
        ] {
            std::fs::write(&path, text).unwrap();
            let full = ConfigDocument::load(&path).unwrap_err().to_string();
            let alone = ConfigDocument::load_view(&path).unwrap_err().to_string();
            assert_eq!(alone, full, "{text}");
        }
        assert_eq!(
            ConfigDocument::load_view(&dir.path().join("none")).unwrap(),
            None
        );
    }

    #[test]
    fn root_must_be_an_object() {
        assert!(matches!(parse("[1]"), Err(ConfigError::NotAnObject { .. })));
        assert!(matches!(parse(""), Err(ConfigError::Parse { .. })));
    }

    #[test]
    fn missing_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            ConfigDocument::load(&dir.path().join("nope.json"))
                .unwrap()
                .is_none()
        );
    }
}
