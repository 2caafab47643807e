//! Format-preserving edits of a JSON5 config, on `jsonc-parser`'s concrete syntax tree.
//!
//! Only the values an edit names are touched: comments, quoting, trailing commas,
//! indentation and key order everywhere else survive byte for byte. New keys are appended
//! after an object's existing keys and indented like their neighbours (jsonc-parser writes
//! them double-quoted). Objects of user data are never replaced wholesale: a key of the
//! wrong type is an error, not an overwrite.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hfclaw_catalog::ConfigModel;
use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{
    CstArray, CstInputValue, CstNode, CstObject, CstObjectProp, CstRootNode, ObjectPropName,
    TrailingCommaMode,
};
use serde_json::Value;

use crate::ConfigError;
use crate::document::parse_json5;
use crate::view::{AllowlistLocation, OpenClawView, PROVIDER_ID};

/// OpenClaw's model-entry fields a merge may add (SPEC §3); anything else is never written.
const MODEL_FIELDS: [&str; 6] = [
    "name",
    "contextWindow",
    "maxTokens",
    "reasoning",
    "input",
    "cost",
];

/// What a merge of catalog entries did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Ids appended as new entries.
    pub added: Vec<String>,
    /// Existing ids and the fields that were missing and got filled.
    pub filled: Vec<(String, Vec<String>)>,
    /// Existing entries left exactly as they were.
    pub kept: usize,
}

/// A config being edited.
pub struct Editor {
    path: PathBuf,
    root: std::cell::RefCell<CstRootNode>,
    style: Style,
}

/// How the file writes keys and strings, so new content looks like the old.
#[derive(Debug, Clone, Copy, Default)]
struct Style {
    /// Most keys are bare identifiers (`agents:`), not quoted.
    unquoted_keys: bool,
    /// Most strings use single quotes.
    single_quotes: bool,
}

impl Style {
    fn of(root: &CstRootNode) -> Style {
        let mut counts = [0usize; 4]; // word keys, quoted keys, single-quoted, double-quoted
        if let Some(value) = root.value() {
            count_style(&value, &mut counts);
        }
        Style {
            unquoted_keys: counts[0] > counts[1],
            single_quotes: counts[2] > counts[3],
        }
    }
}

fn count_style(node: &CstNode, counts: &mut [usize; 4]) {
    if let Some(prop) = node.as_object_prop() {
        match prop.name() {
            Some(ObjectPropName::Word(_)) => counts[0] += 1,
            Some(ObjectPropName::String(_)) => counts[1] += 1,
            None => {}
        }
        if let Some(value) = prop.value() {
            count_style(&value, counts);
        }
        return;
    }
    if let Some(lit) = node.as_string_lit() {
        let raw = lit.raw_value();
        counts[if raw.starts_with('\'') { 2 } else { 3 }] += 1;
        return;
    }
    for child in node.children() {
        if !child.is_trivia() {
            count_style(&child, counts);
        }
    }
}

impl std::fmt::Debug for Editor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Editor")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Editor {
    /// Starts editing `text` (empty text starts from `{}`); invalid JSON5 is an error with
    /// `path:line:col`.
    pub fn new(path: &Path, text: &str) -> Result<Editor, ConfigError> {
        let text = if text.trim().is_empty() { "{}\n" } else { text };
        // jsonc-parser accepts some input JSON5 forbids; json5 is the judge of validity.
        let value = parse_json5(path, text)?;
        if !value.is_object() {
            return Err(ConfigError::NotAnObject {
                path: path.to_path_buf(),
            });
        }
        let root =
            CstRootNode::parse(text, &ParseOptions::default()).map_err(|e| ConfigError::Parse {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: e.to_string(),
                snippet: String::new(),
            })?;
        let style = Style::of(&root);
        Ok(Editor {
            path: path.to_path_buf(),
            root: std::cell::RefCell::new(root),
            style,
        })
    }

    /// The edited text.
    pub fn text(&self) -> String {
        let root = self.root();
        let mut bare = 0;
        if let Some(value) = root.value() {
            restyle(&value, self.style, &mut bare);
        }
        let text = root.to_string();
        // A string key cannot become a bare word inside the tree; the tree keeps the mark
        // (lookups see through it) and only the text loses it.
        if bare == 0 {
            text
        } else {
            unmark_bare_keys(&text)
        }
    }

    fn root(&self) -> CstRootNode {
        self.root.borrow().clone()
    }

    /// What the config means now, edits included.
    pub fn view(&self) -> OpenClawView {
        OpenClawView::from_value(&self.value())
    }

    fn value(&self) -> Value {
        let mut value = self.root().to_serde_value().unwrap_or(Value::Null);
        unmark_value(&mut value);
        value
    }

    /// Sets the default model (`agents.defaults.model.primary`, or the plain string form
    /// when the config uses it). Returns whether anything changed.
    pub fn set_primary(&mut self, model_ref: &str) -> Result<bool, ConfigError> {
        let defaults = self.defaults()?;
        let Some(prop) = prop_of(&defaults, "model") else {
            defaults.append(&k("model"), object([("primary", sv(model_ref))]));
            return Ok(true);
        };
        match prop.value() {
            Some(node) if is_string(&node) => {
                if string_value(&node).as_deref() == Some(model_ref) {
                    return Ok(false);
                }
                prop.set_value(sv(model_ref));
                Ok(true)
            }
            Some(node) if node.as_object().is_some() => {
                let model = node
                    .as_object()
                    .ok_or_else(|| self.wrong_type("agents.defaults.model", "an object"))?;
                set_string(&model, "primary", model_ref, true)
            }
            Some(node) if node.as_null_keyword().is_some() => {
                prop.set_value(object([("primary", sv(model_ref))]));
                Ok(true)
            }
            _ => Err(self.wrong_type("agents.defaults.model", "a string or an object")),
        }
    }

    /// Appends a fallback unless it is already listed.
    pub fn add_fallback(&mut self, model_ref: &str) -> Result<bool, ConfigError> {
        let defaults = self.defaults()?;
        let Some(prop) = prop_of(&defaults, "model") else {
            defaults.append(&k("model"), object([("fallbacks", array([sv(model_ref)]))]));
            return Ok(true);
        };
        let model = match prop.value() {
            Some(node) if is_string(&node) => {
                // `model: "x"` has no room for fallbacks: it becomes `{ primary, fallbacks }`.
                let primary = string_value(&node).unwrap_or_default();
                prop.set_value(object([
                    ("primary", sv(&primary)),
                    ("fallbacks", array([sv(model_ref)])),
                ]));
                return Ok(true);
            }
            Some(node) if node.as_null_keyword().is_some() => {
                prop.set_value(object([("fallbacks", array([sv(model_ref)]))]));
                return Ok(true);
            }
            Some(node) => node
                .as_object()
                .ok_or_else(|| self.wrong_type("agents.defaults.model", "a string or an object"))?,
            None => return Err(self.wrong_type("agents.defaults.model", "a string or an object")),
        };
        let Some(fallbacks) = self.fallbacks_array(&model)? else {
            model.append(&k("fallbacks"), array([sv(model_ref)]));
            return Ok(true);
        };
        if fallbacks
            .elements()
            .iter()
            .any(|e| string_value(e).as_deref() == Some(model_ref))
        {
            return Ok(false);
        }
        fallbacks.append(sv(model_ref));
        Ok(true)
    }

    /// Removes every occurrence of a fallback.
    pub fn remove_fallback(&mut self, model_ref: &str) -> Result<bool, ConfigError> {
        let Some(fallbacks) = self.existing_fallbacks()? else {
            return Ok(false);
        };
        let matching: Vec<CstNode> = fallbacks
            .elements()
            .into_iter()
            .filter(|e| string_value(e).as_deref() == Some(model_ref))
            .collect();
        let changed = !matching.is_empty();
        for node in matching {
            node.remove();
        }
        Ok(changed)
    }

    /// Empties the fallbacks list (the key stays, as `[]`).
    pub fn clear_fallbacks(&mut self) -> Result<bool, ConfigError> {
        let Some(fallbacks) = self.existing_fallbacks()? else {
            return Ok(false);
        };
        let elements = fallbacks.elements();
        let changed = !elements.is_empty();
        for node in elements {
            node.remove();
        }
        Ok(changed)
    }

    /// Sets `agents.defaults.models[ref].alias`, creating the entry (and map) if needed.
    pub fn set_alias(&mut self, model_ref: &str, alias: &str) -> Result<bool, ConfigError> {
        let models = self.models_map()?;
        let Some(prop) = prop_of(&models, model_ref) else {
            models.append(&k(model_ref), object([("alias", sv(alias))]));
            return Ok(true);
        };
        let entry = self.entry_object(&prop, model_ref)?;
        set_string(&entry, "alias", alias, false)
    }

    /// Removes `agents.defaults.models[ref].alias`; the entry stays (it may be the
    /// allowlist's).
    pub fn remove_alias(&mut self, model_ref: &str) -> Result<bool, ConfigError> {
        let Some(models) = self.existing_object(&["agents", "defaults", "models"])? else {
            return Ok(false);
        };
        let Some(prop) = prop_of(&models, model_ref) else {
            return Ok(false);
        };
        let entry = self.entry_object(&prop, model_ref)?;
        match prop_of(&entry, "alias") {
            Some(alias) => {
                alias.remove();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Adds `ref` to OpenClaw's allowlist when one is in force and lacks it (SPEC §3); with
    /// no allowlist nothing is created, so the user's other models stay allowed.
    pub fn allow(&mut self, model_ref: &str) -> Result<bool, ConfigError> {
        let view = self.view();
        let Some(allowlist) = &view.allowlist else {
            return Ok(false);
        };
        if allowlist.allows(model_ref, None) {
            return Ok(false);
        }
        match allowlist.location {
            AllowlistLocation::ModelsMap => {
                self.models_map()?.append(&k(model_ref), object([]));
            }
            AllowlistLocation::ModelPolicy => {
                let policy = child_object(&self.defaults()?, "modelPolicy")
                    .ok_or_else(|| self.wrong_type("agents.defaults.modelPolicy", "an object"))?;
                let allow = child_array(&policy, "allow").ok_or_else(|| {
                    self.wrong_type("agents.defaults.modelPolicy.allow", "an array")
                })?;
                allow.append(sv(model_ref));
            }
        }
        Ok(true)
    }

    /// Makes sure `models.providers.huggingface` has `baseUrl`, `api` and `models`, filling
    /// only what is missing.
    pub fn ensure_provider_block(&mut self, base_url: &str) -> Result<bool, ConfigError> {
        let block = self.provider_block(&["models", "providers", PROVIDER_ID])?;
        Ok(fill_provider_block(&block, base_url))
    }

    /// Fills `baseUrl`, `api` and `models` of the provider block at `path` where missing
    /// (OpenClaw's `models.json` keeps it at `providers.huggingface`).
    pub fn fill_block_at(&mut self, path: &[&str], base_url: &str) -> Result<bool, ConfigError> {
        let block = self.object_at(path)?;
        Ok(fill_provider_block(&block, base_url))
    }

    /// Merges catalog entries into `models.providers.huggingface.models` (SPEC §3): new
    /// ids appended, missing fields filled, nothing the user set changed or removed.
    pub fn merge_provider_models(
        &mut self,
        entries: &[ConfigModel],
    ) -> Result<MergeReport, ConfigError> {
        self.merge_models_at(&["models", "providers", PROVIDER_ID], entries)
    }

    /// The same merge for the provider block at `block_path` (OpenClaw's `models.json`
    /// keeps it at `providers.huggingface`).
    pub fn merge_models_at(
        &mut self,
        block_path: &[&str],
        entries: &[ConfigModel],
    ) -> Result<MergeReport, ConfigError> {
        let block = self.provider_block(block_path)?;
        let key = format!("{}.models", block_path.join("."));
        let models =
            child_array(&block, "models").ok_or_else(|| self.wrong_type(&key, "an array"))?;
        let mut existing: HashMap<String, CstObject> = HashMap::new();
        for element in models.elements() {
            if let Some(entry) = element.as_object()
                && let Some(id) = prop_of(&entry, "id")
                    .and_then(|p| p.value())
                    .and_then(|v| string_value(&v))
            {
                existing.entry(id).or_insert(entry);
            }
        }
        let mut report = MergeReport::default();
        for entry in entries {
            let fields = openclaw_fields(entry);
            match existing.get(&entry.id) {
                Some(current) => {
                    let filled = fill_missing(current, &fields);
                    if filled.is_empty() {
                        report.kept += 1;
                    } else {
                        report.filled.push((entry.id.clone(), filled));
                    }
                }
                None => {
                    let mut props = vec![(k("id"), sv(&entry.id))];
                    props.extend(fields.iter().map(|(key, v)| (k(key), to_input(v))));
                    let node = models.append(CstInputValue::Object(props));
                    if let Some(object) = node.as_object() {
                        existing.insert(entry.id.clone(), object);
                    }
                    report.added.push(entry.id.clone());
                }
            }
        }
        if !report.added.is_empty() {
            models.set_trailing_commas(trailing_commas_like(&self.root()));
        }
        Ok(report)
    }

    fn wrong_type(&self, key: &str, expected: &'static str) -> ConfigError {
        ConfigError::WrongType {
            path: self.path.clone(),
            key: key.to_owned(),
            expected,
        }
    }

    fn root_object(&self) -> Result<CstObject, ConfigError> {
        self.root()
            .object_value()
            .ok_or_else(|| ConfigError::NotAnObject {
                path: self.path.clone(),
            })
    }

    fn object_at(&self, path: &[&str]) -> Result<CstObject, ConfigError> {
        let mut object = self.root_object()?;
        for (depth, key) in path.iter().enumerate() {
            let child = child_object(&object, key)
                .ok_or_else(|| self.wrong_type(&path[..=depth].join("."), "an object"))?;
            object = child;
        }
        Ok(object)
    }

    /// The object at `path` if every part exists.
    fn existing_object(&self, path: &[&str]) -> Result<Option<CstObject>, ConfigError> {
        let mut object = self.root_object()?;
        for (depth, key) in path.iter().enumerate() {
            let Some(prop) = prop_of(&object, key) else {
                return Ok(None);
            };
            match prop.value() {
                Some(node) if node.as_object().is_some() => {
                    object = node
                        .as_object()
                        .ok_or_else(|| self.wrong_type(key, "an object"))?;
                }
                Some(node) if node.as_null_keyword().is_some() => return Ok(None),
                _ => return Err(self.wrong_type(&path[..=depth].join("."), "an object")),
            }
        }
        Ok(Some(object))
    }

    fn defaults(&self) -> Result<CstObject, ConfigError> {
        self.object_at(&["agents", "defaults"])
    }

    fn models_map(&self) -> Result<CstObject, ConfigError> {
        self.object_at(&["agents", "defaults", "models"])
    }

    fn provider_block(&self, path: &[&str]) -> Result<CstObject, ConfigError> {
        let block = self.object_at(path)?;
        Ok(block)
    }

    fn entry_object(
        &self,
        prop: &CstObjectProp,
        model_ref: &str,
    ) -> Result<CstObject, ConfigError> {
        match prop.value() {
            Some(node) if node.as_object().is_some() => node
                .as_object()
                .ok_or_else(|| self.wrong_type(model_ref, "an object")),
            Some(node) if node.as_null_keyword().is_some() => {
                prop.set_value(object([]));
                prop.object_value()
                    .ok_or_else(|| self.wrong_type(model_ref, "an object"))
            }
            _ => Err(self.wrong_type(
                &format!("agents.defaults.models[\"{model_ref}\"]"),
                "an object",
            )),
        }
    }

    fn fallbacks_array(&self, model: &CstObject) -> Result<Option<CstArray>, ConfigError> {
        let Some(prop) = prop_of(model, "fallbacks") else {
            return Ok(None);
        };
        match prop.value() {
            Some(node) if node.as_array().is_some() => Ok(node.as_array()),
            Some(node) if node.as_null_keyword().is_some() => {
                prop.set_value(array([]));
                Ok(prop.array_value())
            }
            _ => Err(self.wrong_type("agents.defaults.model.fallbacks", "an array")),
        }
    }

    fn existing_fallbacks(&self) -> Result<Option<CstArray>, ConfigError> {
        let Some(defaults) = self.existing_object(&["agents", "defaults"])? else {
            return Ok(None);
        };
        let Some(model) = prop_of(&defaults, "model")
            .and_then(|p| p.value())
            .and_then(|v| v.as_object())
        else {
            return Ok(None);
        };
        self.fallbacks_array(&model)
    }
}

/// Fills `baseUrl`, `api` and `models` where missing; true if anything was added.
fn fill_provider_block(block: &CstObject, base_url: &str) -> bool {
    let mut changed = false;
    if prop_of(block, "baseUrl").is_none() {
        block.append(&k("baseUrl"), sv(base_url));
        changed = true;
    }
    if prop_of(block, "api").is_none() {
        block.append(&k("api"), sv("openai-completions"));
        changed = true;
    }
    if prop_of(block, "models").is_none() {
        block.append(&k("models"), array([]));
        changed = true;
    }
    changed
}

/// Sets a string property, keeping the node (and its quotes' position) when it exists.
fn set_string(
    object: &CstObject,
    key: &str,
    value: &str,
    first: bool,
) -> Result<bool, ConfigError> {
    match prop_of(object, key) {
        Some(prop) => {
            if prop.value().and_then(|v| string_value(&v)).as_deref() == Some(value) {
                return Ok(false);
            }
            prop.set_value(sv(value));
        }
        None if first => {
            object.insert(0, &k(key), sv(value));
        }
        None => {
            object.append(&k(key), sv(value));
        }
    }
    Ok(true)
}

/// The decoded text of a string literal (either quote style).
fn string_value(node: &CstNode) -> Option<String> {
    let value = node.as_string_lit()?.decoded_value().ok()?;
    Some(match value.strip_prefix(MARK) {
        Some(unmarked) => unmarked.to_owned(),
        None => value,
    })
}

fn is_string(node: &CstNode) -> bool {
    node.as_string_lit().is_some()
}

fn object<const N: usize>(props: [(&str, CstInputValue); N]) -> CstInputValue {
    CstInputValue::Object(props.into_iter().map(|(key, v)| (k(key), v)).collect())
}

/// Marks text hfclaw writes, so [`Editor::text`] can find exactly the new keys and
/// strings (and never touch the user's) to quote them like the rest of the file. A
/// private-use character that a config never contains.
const MARK: char = '\u{E000}';

/// A new key.
fn k(key: &str) -> String {
    format!("{MARK}{key}")
}

/// A new string value.
fn sv(value: &str) -> CstInputValue {
    CstInputValue::String(format!("{MARK}{value}"))
}

/// The object under `key`, appended (empty) when missing; `None` when `key` holds
/// something else.
fn child_object(parent: &CstObject, key: &str) -> Option<CstObject> {
    match prop_of(parent, key) {
        Some(prop) => prop.value()?.as_object(),
        None => parent.append(&k(key), object([])).object_value(),
    }
}

/// The array under `key`, appended (empty) when missing; `None` when `key` holds
/// something else.
fn child_array(parent: &CstObject, key: &str) -> Option<CstArray> {
    match prop_of(parent, key) {
        Some(prop) => prop.value()?.as_array(),
        None => parent.append(&k(key), array([])).array_value(),
    }
}

/// The name of a property, with a new key's mark removed.
fn prop_name(prop: &CstObjectProp) -> Option<String> {
    let name = match prop.name()? {
        ObjectPropName::Word(word) => return Some(word.to_string()),
        ObjectPropName::String(lit) => lit.decoded_value().ok()?,
    };
    Some(match name.strip_prefix(MARK) {
        Some(unmarked) => unmarked.to_owned(),
        None => name,
    })
}

/// The property `key` of `object`, new (still marked) ones included: edits are restyled
/// only once, in [`Editor::text`], so lookups in between must see through the mark.
fn prop_of(object: &CstObject, key: &str) -> Option<CstObjectProp> {
    object
        .properties()
        .into_iter()
        .find(|p| prop_name(p).as_deref() == Some(key))
}

/// Removes marks from a value read out of the tree before [`Editor::text`] restyled it.
fn unmark_value(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(rest) = s.strip_prefix(MARK) {
                *s = rest.to_owned();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unmark_value),
        Value::Object(map) => {
            if map.keys().any(|k| k.starts_with(MARK)) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.strip_prefix(MARK).map_or(k.clone(), str::to_owned), v))
                    .collect();
            }
            map.values_mut().for_each(unmark_value);
        }
        _ => {}
    }
}

/// Rewrites marked keys and strings in the file's style; keys that should become bare
/// words keep their mark and are counted in `bare` (see [`Editor::text`]).
fn restyle(node: &CstNode, style: Style, bare: &mut usize) {
    if let Some(prop) = node.as_object_prop() {
        if let Some(ObjectPropName::String(lit)) = prop.name()
            && let Ok(name) = lit.decoded_value()
            && let Some(name) = name.strip_prefix(MARK)
        {
            if style.unquoted_keys && is_identifier(name) {
                *bare += 1;
            } else {
                lit.set_raw_value(quoted(name, style.single_quotes));
            }
        }
        if let Some(value) = prop.value() {
            restyle(&value, style, bare);
        }
        return;
    }
    if let Some(lit) = node.as_string_lit() {
        if let Ok(value) = lit.decoded_value()
            && let Some(value) = value.strip_prefix(MARK)
        {
            lit.set_raw_value(quoted(value, style.single_quotes));
        }
        return;
    }
    for child in node.children() {
        if !child.is_trivia() {
            restyle(&child, style, bare);
        }
    }
}

/// `"<MARK>name"` → `name` in rendered text (the mark never occurs in user text).
fn unmark_bare_keys(text: &str) -> String {
    let marked = format!("\"{MARK}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(&marked) {
        out.push_str(&rest[..i]);
        let after = &rest[i + marked.len()..];
        let end = after.find('"').unwrap_or(after.len());
        out.push_str(&after[..end]);
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// A JSON5 string literal of `text`, single-quoted when asked and possible.
fn quoted(text: &str, single: bool) -> String {
    if single && !text.contains(['\'', '\\']) && !text.chars().any(char::is_control) {
        return format!("'{text}'");
    }
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

/// An ECMAScript identifier name (ASCII subset): may be written as a bare key.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn array<const N: usize>(items: [CstInputValue; N]) -> CstInputValue {
    CstInputValue::Array(items.into())
}

/// The entry's OpenClaw fields, in OpenClaw's order, as JSON.
fn openclaw_fields(entry: &ConfigModel) -> Vec<(String, Value)> {
    let Ok(Value::Object(map)) = serde_json::to_value(entry) else {
        return Vec::new();
    };
    MODEL_FIELDS
        .iter()
        .filter_map(|key| Some(((*key).to_owned(), map.get(*key)?.clone())))
        .collect()
}

/// Adds the fields `entry` lacks (and the missing parts of an existing `cost` object).
fn fill_missing(entry: &CstObject, fields: &[(String, Value)]) -> Vec<String> {
    let mut filled = Vec::new();
    for (key, value) in fields {
        match prop_of(entry, key) {
            None => {
                entry.append(&k(key), to_input(value));
                filled.push(key.clone());
            }
            Some(prop) if key == "cost" => {
                let (Some(current), Value::Object(parts)) =
                    (prop.value().and_then(|v| v.as_object()), value)
                else {
                    continue;
                };
                for (part, amount) in parts {
                    if prop_of(&current, part).is_none() {
                        current.append(&k(part), to_input(amount));
                        filled.push(format!("cost.{part}"));
                    }
                }
            }
            Some(_) => {}
        }
    }
    filled
}

/// `3` rather than `3.0` for whole prices; other numbers in serde_json's shortest form.
fn number_text(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        _ => n.to_string(),
    }
}

/// serde_json → CST input (strings and keys marked as new).
fn to_input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(number_text(n)),
        Value::String(s) => sv(s),
        Value::Array(items) => CstInputValue::Array(items.iter().map(to_input).collect()),
        Value::Object(map) => {
            CstInputValue::Object(map.iter().map(|(key, v)| (k(key), to_input(v))).collect())
        }
    }
}

/// New multi-line arrays follow the file's habit: trailing commas if it uses them.
fn trailing_commas_like(root: &CstRootNode) -> TrailingCommaMode {
    match root.object_value() {
        Some(object) if object.uses_trailing_commas() => TrailingCommaMode::IfMultiline,
        _ => TrailingCommaMode::Never,
    }
}
