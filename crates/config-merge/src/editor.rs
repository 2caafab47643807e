//! Format-preserving edits of a JSON5 config, as text splices on a span tree.
//!
//! Only the values an edit names are touched: comments, quoting, trailing commas,
//! indentation and key order everywhere else survive byte for byte. After every edit the
//! container it touched is parsed again by the strict parser, so a bug here fails the
//! edit ([`ConfigError::Bug`]) instead of ever producing a file OpenClaw cannot read.
//!
//! How new content looks (the file's own habits, measured before the first edit):
//! - keys are bare words when most of the file's keys are, else quoted; strings take the
//!   file's majority quote; a new or empty file gets JSON (double quotes, quoted keys,
//!   one member per line) like OpenClaw's own `JSON.stringify(…, null, 2)`;
//! - a new member goes after the container's last member: on its own line with the same
//!   indentation when members are one per line (after any `// comment` on the last
//!   member's line, the comma going before that comment), else on the same line
//!   (`{ primary: 'x' }` becomes `{ primary: 'x', fallbacks: ['y'] }`);
//! - a trailing comma follows a new last member when the old last member had one;
//! - an empty `{}`/`[]` stays one line for scalars (`{ alias: 'x' }`, `['ref']`) and opens
//!   up one member per line for objects and arrays when its parent is multi-line (always
//!   for the root), indented one step (the file's: 2 or 4 spaces, or a tab) deeper;
//! - new nested objects and arrays are one line when short and scalar-only and the file
//!   has one-line containers, else one member per line; a value replaced inside a
//!   one-line container, and a new entry after a one-line object in an array, stay one
//!   line;
//! - a replaced string keeps its quote character.
//!
//! Removing: a member alone on its line goes with that line (and that line's trailing
//! comment); on a shared line only the member and its comma go; a container left with
//! nothing but blanks becomes `{}`/`[]`; a trailing comma the file did not have is never
//! left behind.
//!
//! Objects of user data are never replaced wholesale: a key of the wrong type is an
//! error, not an overwrite (`null` counts as absent and is replaced).

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hfclaw_catalog::ConfigModel;
use serde_json::{Map, Value};

use crate::ConfigError;
use crate::document::parse_tree;
use crate::syntax::{KeyStyle, Kind, NONE, Tree};
use crate::view::{
    AllowlistLocation, OpenClawView, PROVIDER_ID, ProviderModels, allowlist_of_tree,
};

pub mod memory;

/// OpenClaw's model-entry fields a merge may add (SPEC §3), in the order new entries get
/// them after `id`; anything else is never written.
const MODEL_FIELDS: [&str; 6] = [
    "name",
    "contextWindow",
    "maxTokens",
    "reasoning",
    "input",
    "cost",
];

/// The parts of `cost` a merge may fill, with their report names.
const COST_FIELDS: [(&str, &str); 4] = [
    ("input", "cost.input"),
    ("output", "cost.output"),
    ("cacheRead", "cost.cacheRead"),
    ("cacheWrite", "cost.cacheWrite"),
];

/// A one-line rendering longer than this opens up one member per line instead.
const INLINE_WIDTH: usize = 80;

/// What a merge of catalog entries did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Ids appended as new entries, in order.
    pub added: Vec<String>,
    /// Existing ids and the fields that were missing and got filled (`cost.output` for a
    /// part of an existing `cost`).
    pub filled: Vec<(String, Vec<&'static str>)>,
    /// Existing entries left exactly as they were.
    pub kept: usize,
}

/// A config being edited.
pub struct Editor {
    path: PathBuf,
    text: String,
    tree: Tree,
    style: OnceCell<Style>,
    view: OnceCell<OpenClawView>,
}

impl std::fmt::Debug for Editor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Editor")
            .field("path", &self.path)
            .field("len", &self.text.len())
            .finish_non_exhaustive()
    }
}

/// One text replacement: `[at, end)` becomes `insert`.
#[derive(Debug)]
struct Splice {
    at: usize,
    end: usize,
    insert: String,
}

impl Splice {
    fn insert(at: usize, insert: String) -> Splice {
        Splice {
            at,
            end: at,
            insert,
        }
    }

    /// `insert` into the empty container whose brackets are at `open` and `close`: a blank
    /// interior is replaced; one holding only comments keeps them, `insert` going before
    /// the closing bracket.
    fn fill(open: usize, close: usize, blank: bool, insert: String) -> Splice {
        let at = if blank { open + 1 } else { close };
        Splice {
            at,
            end: close,
            insert,
        }
    }

    fn delete(at: usize, end: usize) -> Splice {
        Splice {
            at,
            end,
            insert: String::new(),
        }
    }
}

/// Where an object path ends up.
enum Lookup {
    /// Every key exists and holds an object.
    Found(u32),
    /// `path[depth]` is missing from object `parent`.
    Missing { parent: u32, depth: usize },
    /// `path[depth]` holds `null` (node `node`).
    Null { node: u32, depth: usize },
}

impl Editor {
    /// Starts editing `text` (empty text starts from `{}`); invalid JSON5 is an error with
    /// `path:line:col`.
    pub fn new(path: &Path, text: &str) -> Result<Editor, ConfigError> {
        let text = if text.trim().is_empty() { "{}\n" } else { text };
        let tree = parse_tree(path, text)?;
        Editor::from_tree(path, text.to_owned(), tree)
    }

    /// Starts editing `text` already parsed into `tree`.
    pub(crate) fn from_tree(path: &Path, text: String, tree: Tree) -> Result<Editor, ConfigError> {
        if tree.node(tree.root()).kind != Kind::Object {
            return Err(ConfigError::NotAnObject {
                path: path.to_path_buf(),
            });
        }
        Ok(Editor {
            path: path.to_path_buf(),
            text,
            tree,
            style: OnceCell::new(),
            view: OnceCell::new(),
        })
    }

    /// The edited text.
    pub fn text(&self) -> String {
        self.text.clone()
    }

    /// The edited text, borrowed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// What the config means now, edits included.
    pub fn view(&self) -> OpenClawView {
        self.view
            .get_or_init(|| OpenClawView::from_tree(&self.text, &self.tree, ProviderModels::All))
            .clone()
    }

    /// [`Editor::view`] without the provider's model list (`provider.models` is empty):
    /// the selection (primary, fallbacks, aliases, allowlist) after an edit, without
    /// reading thousands of provider entries.
    pub fn selection_view(&self) -> OpenClawView {
        match self.view.get() {
            Some(view) => view.clone(),
            None => OpenClawView::from_tree(&self.text, &self.tree, ProviderModels::Skip),
        }
    }

    /// The whole config as a value, edits included.
    pub fn value(&self) -> Value {
        self.tree.to_value(&self.text, self.tree.root())
    }

    /// Sets the default model (`agents.defaults.model.primary`, or the plain string form
    /// when the config uses it). Returns whether anything changed.
    pub fn set_primary(&mut self, model_ref: &str) -> Result<bool, ConfigError> {
        let defaults = ["agents", "defaults"];
        let primary = || object([("primary", Value::from(model_ref))]);
        let Lookup::Found(defaults_id) = self.lookup(&defaults)? else {
            return self.add_at(&defaults, vec![("model".to_owned(), primary())]);
        };
        let Some(model) = self.tree.get(&self.text, defaults_id, "model") else {
            return self.add_at(&defaults, vec![("model".to_owned(), primary())]);
        };
        match self.tree.node(model).kind {
            Kind::String => self.replace_string(model, model_ref),
            Kind::Null => self.replace_with(model, &primary()),
            Kind::Object => match self.tree.get(&self.text, model, "primary") {
                None => {
                    self.add_members(model, vec![(Some("primary".to_owned()), model_ref.into())])
                }
                Some(p) if self.tree.node(p).kind == Kind::String => {
                    self.replace_string(p, model_ref)
                }
                Some(p) if self.tree.node(p).kind == Kind::Null => {
                    self.replace_with(p, &model_ref.into())
                }
                Some(_) => Err(self.wrong_type("agents.defaults.model.primary", "a string")),
            },
            _ => Err(self.wrong_type("agents.defaults.model", "a string or an object")),
        }
    }

    /// Appends a fallback unless it is already listed; `model: "X"` becomes
    /// `{ primary: "X", fallbacks: [ref] }`.
    pub fn add_fallback(&mut self, model_ref: &str) -> Result<bool, ConfigError> {
        let defaults = ["agents", "defaults"];
        let fallbacks = || Value::Array(vec![model_ref.into()]);
        let new_model = || object([("fallbacks", fallbacks())]);
        let Lookup::Found(defaults_id) = self.lookup(&defaults)? else {
            return self.add_at(&defaults, vec![("model".to_owned(), new_model())]);
        };
        let Some(model) = self.tree.get(&self.text, defaults_id, "model") else {
            return self.add_at(&defaults, vec![("model".to_owned(), new_model())]);
        };
        match self.tree.node(model).kind {
            Kind::String => {
                let primary = self.tree.str(&self.text, model).unwrap_or_default();
                let value = object([
                    ("primary", Value::from(&*primary)),
                    ("fallbacks", fallbacks()),
                ]);
                self.replace_with(model, &value)
            }
            Kind::Null => self.replace_with(model, &new_model()),
            Kind::Object => match self.tree.get(&self.text, model, "fallbacks") {
                None => self.add_members(model, vec![(Some("fallbacks".to_owned()), fallbacks())]),
                Some(list) => match self.tree.node(list).kind {
                    Kind::Null => self.replace_with(list, &fallbacks()),
                    Kind::Array => {
                        if self.position_in(list, model_ref).is_some() {
                            return Ok(false);
                        }
                        self.add_members(list, vec![(None, model_ref.into())])
                    }
                    _ => Err(self.wrong_type("agents.defaults.model.fallbacks", "an array")),
                },
            },
            _ => Err(self.wrong_type("agents.defaults.model", "a string or an object")),
        }
    }

    /// Removes every occurrence of a fallback.
    pub fn remove_fallback(&mut self, model_ref: &str) -> Result<bool, ConfigError> {
        let mut changed = false;
        while let Some(list) = self.fallbacks()? {
            let Some(element) = self.position_in(list, model_ref) else {
                break;
            };
            let splices = self.remove_member(element);
            self.apply(splices)?;
            changed = true;
        }
        Ok(changed)
    }

    /// Empties the fallbacks list (the key stays, as `[]`); comments inside it that are
    /// not on a removed element's line stay.
    pub fn clear_fallbacks(&mut self) -> Result<bool, ConfigError> {
        let mut changed = false;
        while let Some(list) = self.fallbacks()? {
            let last = self.tree.last(list);
            if last == NONE {
                break;
            }
            let splices = self.remove_member(last);
            self.apply(splices)?;
            changed = true;
        }
        Ok(changed)
    }

    /// Sets `agents.defaults.models[ref].alias`, creating the entry (and map) if needed;
    /// when that starts OpenClaw's allowlist, the default and fallbacks are added to it.
    pub fn set_alias(&mut self, model_ref: &str, alias: &str) -> Result<bool, ConfigError> {
        let had_allowlist = allowlist_of_tree(&self.text, &self.tree).is_some();
        let changed = self.write_alias(model_ref, alias)?;
        if changed && !had_allowlist {
            // Before OpenClaw's migration the first key of `agents.defaults.models` starts
            // an allowlist: the default and fallbacks must stay on it.
            let selection = self.selection_view();
            for kept in selection.primary.iter().chain(&selection.fallbacks) {
                self.allow(kept)?;
            }
        }
        Ok(changed)
    }

    fn write_alias(&mut self, model_ref: &str, alias: &str) -> Result<bool, ConfigError> {
        let path = ["agents", "defaults", "models"];
        let new_entry = || object([("alias", Value::from(alias))]);
        let Lookup::Found(models) = self.lookup(&path)? else {
            return self.add_at(&path, vec![(model_ref.to_owned(), new_entry())]);
        };
        let Some(entry) = self.tree.get(&self.text, models, model_ref) else {
            return self.add_members(models, vec![(Some(model_ref.to_owned()), new_entry())]);
        };
        match self.tree.node(entry).kind {
            Kind::Null => self.replace_with(entry, &new_entry()),
            Kind::Object => match self.tree.get(&self.text, entry, "alias") {
                None => self.add_members(entry, vec![(Some("alias".to_owned()), alias.into())]),
                Some(a) if self.tree.node(a).kind == Kind::String => self.replace_string(a, alias),
                // An explicit command replaces a value of the wrong type.
                Some(a) => self.replace_with(a, &alias.into()),
            },
            _ => Err(self.wrong_type(&entry_key(model_ref), "an object")),
        }
    }

    /// Removes `agents.defaults.models[ref].alias`; the entry stays (it may be the
    /// allowlist's).
    pub fn remove_alias(&mut self, model_ref: &str) -> Result<bool, ConfigError> {
        let Lookup::Found(models) = self.lookup(&["agents", "defaults", "models"])? else {
            return Ok(false);
        };
        let Some(entry) = self.tree.get(&self.text, models, model_ref) else {
            return Ok(false);
        };
        match self.tree.node(entry).kind {
            Kind::Null => Ok(false),
            Kind::Object => match self.tree.get(&self.text, entry, "alias") {
                Some(alias) => {
                    let splices = self.remove_member(alias);
                    self.apply(splices)?;
                    self.drop_bare_models_map(model_ref)?;
                    Ok(true)
                }
                None => Ok(false),
            },
            _ => Err(self.wrong_type(&entry_key(model_ref), "an object")),
        }
    }

    /// Removes `agents.defaults.models` when it holds nothing but what the first alias
    /// brought (`set_alias`): empty entries for `unaliased`, the default and the
    /// fallbacks. An alias set and removed again then leaves the file as it was, and
    /// OpenClaw no longer reads an allowlist nobody wrote.
    fn drop_bare_models_map(&mut self, unaliased: &str) -> Result<(), ConfigError> {
        let path = ["agents", "defaults", "models"];
        let Lookup::Found(models) = self.lookup(&path)? else {
            return Ok(());
        };
        let selection = self.selection_view();
        let brought = |key: &str| {
            key == unaliased
                || selection.primary.as_deref() == Some(key)
                || selection.fallbacks.iter().any(|f| f == key)
        };
        let bare = self.tree.children(models).all(|member| {
            let node = self.tree.node(member);
            let empty = node.kind == Kind::Object && !node.has_children();
            empty
                && self
                    .tree
                    .key(&self.text, member)
                    .is_some_and(|k| brought(&k))
        });
        if bare {
            let splices = self.remove_member(models);
            self.apply(splices)?;
        }
        Ok(())
    }

    /// Adds `ref` to OpenClaw's allowlist when one is in force and lacks it (SPEC §3); with
    /// no allowlist nothing is created, so the user's other models stay allowed.
    pub fn allow(&mut self, model_ref: &str) -> Result<bool, ConfigError> {
        let Some(list) = allowlist_of_tree(&self.text, &self.tree) else {
            return Ok(false);
        };
        if list.allows(model_ref, None) {
            return Ok(false);
        }
        match list.location {
            AllowlistLocation::ModelsMap => {
                let path = ["agents", "defaults", "models"];
                let Lookup::Found(models) = self.lookup(&path)? else {
                    return Err(self.wrong_type("agents.defaults.models", "an object"));
                };
                self.add_members(models, vec![(Some(model_ref.to_owned()), object([]))])
            }
            AllowlistLocation::ModelPolicy => {
                let path = ["agents", "defaults", "modelPolicy"];
                let new_list = || Value::Array(vec![model_ref.into()]);
                let Lookup::Found(policy) = self.lookup(&path)? else {
                    return self.add_at(&path, vec![("allow".to_owned(), new_list())]);
                };
                match self.tree.get(&self.text, policy, "allow") {
                    None => self.add_members(policy, vec![(Some("allow".to_owned()), new_list())]),
                    Some(list) => match self.tree.node(list).kind {
                        Kind::Array => self.add_members(list, vec![(None, model_ref.into())]),
                        Kind::Null => self.replace_with(list, &new_list()),
                        _ => Err(self.wrong_type("agents.defaults.modelPolicy.allow", "an array")),
                    },
                }
            }
        }
    }

    /// Makes sure `models.providers.huggingface` has `api` and `models` (and `baseUrl`
    /// when one is given), filling only what is missing (`apiKey` is never touched).
    /// OpenClaw knows the public router: the block needs no `baseUrl` of its own.
    pub fn ensure_provider_block(&mut self, base_url: Option<&str>) -> Result<bool, ConfigError> {
        self.fill_block_at(&["models", "providers", PROVIDER_ID], base_url)
    }

    /// Sets `models.providers.huggingface.baseUrl` (replacing a saved one), or removes it
    /// with `None` (OpenClaw then uses the public router).
    pub fn set_provider_base_url(&mut self, base_url: Option<&str>) -> Result<bool, ConfigError> {
        let path = ["models", "providers", PROVIDER_ID];
        let block = match self.lookup(&path)? {
            Lookup::Found(block) => block,
            _ => {
                let Some(url) = base_url else {
                    return Ok(false);
                };
                return self.add_at(&path, vec![("baseUrl".to_owned(), Value::from(url))]);
            }
        };
        match (self.tree.get(&self.text, block, "baseUrl"), base_url) {
            (None, None) => Ok(false),
            (None, Some(url)) => {
                self.add_members(block, vec![(Some("baseUrl".to_owned()), Value::from(url))])
            }
            (Some(node), Some(url)) if self.tree.node(node).kind == Kind::String => {
                self.replace_string(node, url)
            }
            (Some(node), Some(url)) => self.replace_with(node, &Value::from(url)),
            (Some(node), None) => {
                let splices = self.remove_member(node);
                self.apply(splices)?;
                Ok(true)
            }
        }
    }

    /// Merges catalog entries into `models.providers.huggingface.models` (SPEC §3): new
    /// ids appended in the given order, missing fields filled, nothing the user set
    /// changed or removed.
    pub fn merge_provider_models(
        &mut self,
        entries: &[ConfigModel],
    ) -> Result<MergeReport, ConfigError> {
        self.merge_models_at(&["models", "providers", PROVIDER_ID], entries)
    }

    /// [`Editor::ensure_provider_block`] for the block at `path` (`models.json` keeps it
    /// at `providers.huggingface`).
    pub(crate) fn fill_block_at(
        &mut self,
        path: &[&str],
        base_url: Option<&str>,
    ) -> Result<bool, ConfigError> {
        let wanted = [
            base_url.map(|url| ("baseUrl", Value::from(url))),
            Some(("api", Value::from("openai-completions"))),
            Some(("models", Value::Array(Vec::new()))),
        ];
        let wanted = wanted.into_iter().flatten();
        match self.lookup(path)? {
            Lookup::Found(block) => {
                let missing: Vec<_> = wanted
                    .into_iter()
                    .filter(|(key, _)| self.tree.get(&self.text, block, key).is_none())
                    .map(|(key, value)| (Some(key.to_owned()), value))
                    .collect();
                self.add_members(block, missing)
            }
            _ => self.add_at(
                path,
                wanted
                    .into_iter()
                    .map(|(key, value)| (key.to_owned(), value))
                    .collect(),
            ),
        }
    }

    /// [`Editor::merge_provider_models`] for the block at `block_path`.
    pub(crate) fn merge_models_at(
        &mut self,
        block_path: &[&str],
        entries: &[ConfigModel],
    ) -> Result<MergeReport, ConfigError> {
        let mut report = MergeReport::default();
        let models_key = format!("{}.models", block_path.join("."));
        let block = match self.lookup(block_path)? {
            Lookup::Found(block) => Some(block),
            _ => None,
        };
        let list = block.and_then(|b| self.tree.get(&self.text, b, "models"));
        let list = match list.map(|l| (l, self.tree.node(l).kind)) {
            Some((l, Kind::Array)) => l,
            Some((l, Kind::Null)) => {
                let new = new_entries(entries, &mut report);
                self.replace_with(l, &Value::Array(new))?;
                return Ok(report);
            }
            Some(_) => return Err(self.wrong_type(&models_key, "an array")),
            None => {
                let new = Value::Array(new_entries(entries, &mut report));
                match block {
                    Some(b) => self.add_members(b, vec![(Some("models".to_owned()), new)])?,
                    None => self.add_at(block_path, vec![("models".to_owned(), new)])?,
                };
                return Ok(report);
            }
        };
        // Index existing ids once: a merge into a 10,000-entry list stays linear.
        let mut existing: HashMap<&str, u32> = HashMap::new();
        let mut owned_ids: Vec<(String, u32)> = Vec::new();
        for element in self.tree.children(list) {
            if self.tree.node(element).kind != Kind::Object {
                continue;
            }
            let Some(id) = self.tree.get(&self.text, element, "id") else {
                continue;
            };
            match self.tree.str(&self.text, id) {
                Some(std::borrow::Cow::Borrowed(id)) => {
                    existing.entry(id).or_insert(element);
                }
                Some(std::borrow::Cow::Owned(id)) => owned_ids.push((id, element)),
                None => {}
            }
        }
        let owned: HashMap<&str, u32> = owned_ids.iter().map(|(id, e)| (id.as_str(), *e)).collect();
        let mut splices = Vec::new();
        let mut appended = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for entry in entries {
            if !seen.insert(entry.id.as_str()) {
                continue;
            }
            let fields = openclaw_fields(entry);
            let current = existing
                .get(entry.id.as_str())
                .or_else(|| owned.get(entry.id.as_str()));
            let Some(&current) = current else {
                appended.push((None, entry_value(entry, fields)));
                report.added.push(entry.id.clone());
                continue;
            };
            let mut filled = Vec::new();
            let mut members = Vec::new();
            for (key, value) in fields {
                match self.tree.get(&self.text, current, key) {
                    None => {
                        filled.push(key);
                        members.push((Some(key.to_owned()), value));
                    }
                    Some(cost) if key == "cost" && self.tree.node(cost).kind == Kind::Object => {
                        let Value::Object(parts) = value else {
                            continue;
                        };
                        let mut missing = Vec::new();
                        for (part, name) in COST_FIELDS {
                            if let Some(amount) = parts.get(part)
                                && self.tree.get(&self.text, cost, part).is_none()
                            {
                                filled.push(name);
                                missing.push((Some(part.to_owned()), amount.clone()));
                            }
                        }
                        splices.extend(self.member_splices(cost, missing));
                    }
                    Some(_) => {}
                }
            }
            splices.extend(self.member_splices(current, members));
            if filled.is_empty() {
                report.kept += 1;
            } else {
                report.filled.push((entry.id.clone(), filled));
            }
        }
        splices.extend(self.member_splices(list, appended));
        self.apply(splices)?;
        Ok(report)
    }

    // --- lookups -------------------------------------------------------------------

    fn wrong_type(&self, key: &str, expected: &'static str) -> ConfigError {
        ConfigError::WrongType {
            path: self.path.clone(),
            key: key.to_owned(),
            expected,
        }
    }

    /// Follows `path` from the root through objects.
    fn lookup(&self, path: &[&str]) -> Result<Lookup, ConfigError> {
        let mut object = self.tree.root();
        for (depth, key) in path.iter().enumerate() {
            let Some(child) = self.tree.get(&self.text, object, key) else {
                return Ok(Lookup::Missing {
                    parent: object,
                    depth,
                });
            };
            match self.tree.node(child).kind {
                Kind::Object => object = child,
                Kind::Null => return Ok(Lookup::Null { node: child, depth }),
                _ => return Err(self.wrong_type(&path[..=depth].join("."), "an object")),
            }
        }
        Ok(Lookup::Found(object))
    }

    /// `agents.defaults.model.fallbacks` when it is an array.
    fn fallbacks(&self) -> Result<Option<u32>, ConfigError> {
        let Lookup::Found(defaults) = self.lookup(&["agents", "defaults"])? else {
            return Ok(None);
        };
        let Some(model) = self.tree.get(&self.text, defaults, "model") else {
            return Ok(None);
        };
        if self.tree.node(model).kind != Kind::Object {
            return Ok(None);
        }
        let Some(list) = self.tree.get(&self.text, model, "fallbacks") else {
            return Ok(None);
        };
        match self.tree.node(list).kind {
            Kind::Array => Ok(Some(list)),
            Kind::Null => Ok(None),
            _ => Err(self.wrong_type("agents.defaults.model.fallbacks", "an array")),
        }
    }

    /// The last element of array `list` that is the string `value`.
    fn position_in(&self, list: u32, value: &str) -> Option<u32> {
        self.tree
            .children(list)
            .filter(|&e| self.tree.str(&self.text, e).as_deref() == Some(value))
            .last()
    }

    // --- edits ---------------------------------------------------------------------

    /// Adds `members` to the object at `path`, creating the missing part of the path
    /// (as nested objects) or replacing a `null` on it.
    fn add_at(
        &mut self,
        path: &[&str],
        members: Vec<(String, Value)>,
    ) -> Result<bool, ConfigError> {
        let nest = |depth: usize| {
            let mut value = Value::Object(members.iter().cloned().collect());
            for key in path[depth..].iter().rev() {
                value = object([(*key, value)]);
            }
            value
        };
        match self.lookup(path)? {
            Lookup::Found(object) => self.add_members(
                object,
                members.into_iter().map(|(k, v)| (Some(k), v)).collect(),
            ),
            Lookup::Missing { parent, depth } => {
                let Value::Object(map) = nest(depth) else {
                    return Ok(false);
                };
                self.add_members(parent, map.into_iter().map(|(k, v)| (Some(k), v)).collect())
            }
            Lookup::Null { node, depth } => {
                let value = nest(depth + 1);
                self.replace_with(node, &value)
            }
        }
    }

    fn add_members(
        &mut self,
        container: u32,
        members: Vec<(Option<String>, Value)>,
    ) -> Result<bool, ConfigError> {
        if members.is_empty() {
            return Ok(false);
        }
        let splices = self.member_splices(container, members);
        self.apply(splices)?;
        Ok(true)
    }

    /// Replaces a string literal's text, keeping its quote character.
    fn replace_string(&mut self, node: u32, value: &str) -> Result<bool, ConfigError> {
        if self.tree.str(&self.text, node).as_deref() == Some(value) {
            return Ok(false);
        }
        let n = self.tree.node(node);
        let single = self.text.as_bytes()[n.start as usize] == b'\'';
        let splice = Splice {
            at: n.start as usize,
            end: n.end as usize,
            insert: quote(value, single),
        };
        self.apply(vec![splice])?;
        Ok(true)
    }

    /// Replaces any value with a rendering of `value` at that value's line.
    fn replace_with(&mut self, node: u32, value: &Value) -> Result<bool, ConfigError> {
        let n = self.tree.node(node);
        let indent = line_indent(&self.text, n.member_start());
        // Inside a one-line container the new value stays on that line too.
        let inline = n.parent != NONE && !self.tree.node(n.parent).is_multiline();
        let mut insert = String::new();
        self.render(value, &indent, inline, &mut insert);
        let splice = Splice {
            at: n.start as usize,
            end: n.end as usize,
            insert,
        };
        self.apply(vec![splice])?;
        Ok(true)
    }

    /// Applies splices (sorted here; they must not overlap), then re-parses: a splice
    /// that broke the syntax is a bug and leaves the editor unchanged.
    fn apply(&mut self, mut splices: Vec<Splice>) -> Result<(), ConfigError> {
        if splices.is_empty() {
            return Ok(());
        }
        // The style is the file's as the user wrote it, measured before the first edit.
        self.style();
        splices.sort_by_key(|s| s.at);
        let from = splices.first().map_or(0, |s| s.at);
        let to = splices.iter().map(|s| s.end).max().unwrap_or(0);
        let mut delta = 0isize;
        let mut cursor = 0;
        for splice in &splices {
            if splice.at < cursor || splice.end < splice.at || splice.end > self.text.len() {
                return Err(self.bug("overlapping edits"));
            }
            cursor = splice.end;
            delta += splice.insert.len() as isize - (splice.end - splice.at) as isize;
        }
        // In place, last splice first (the earlier offsets stay valid): a 50 MB config is
        // not copied per edit. What each splice removed is kept to undo it.
        let mut removed = Vec::with_capacity(splices.len());
        for splice in splices.iter().rev() {
            removed.push(self.text[splice.at..splice.end].to_owned());
            self.text
                .replace_range(splice.at..splice.end, &splice.insert);
        }
        // Only the innermost container holding every splice is parsed again: an edit of
        // a 1 MB config costs its small `model` object, not the whole file. Nothing in
        // the tree changes unless that parse succeeds.
        let container = self.tree.enclosing(from, to);
        if let Err(e) = self.tree.reparse_within(&self.text, container, delta) {
            // Undone first splice first: each one is then at its original offset.
            for (splice, old) in splices.iter().zip(removed.iter().rev()) {
                self.text
                    .replace_range(splice.at..splice.at + splice.insert.len(), old);
            }
            tracing::error!(
                offset = e.offset,
                "edit produced invalid JSON5: {}",
                e.message
            );
            return Err(self.bug(&format!("an edit produced invalid JSON5 ({})", e.message)));
        }
        debug_assert!(
            crate::syntax::parse(&self.text).ok().as_ref() == Some(&self.tree),
            "the updated tree differs from a fresh parse of:\n{}",
            self.text
        );
        self.view = OnceCell::new();
        Ok(())
    }

    fn bug(&self, detail: &str) -> ConfigError {
        ConfigError::Bug {
            path: self.path.clone(),
            detail: detail.to_owned(),
        }
    }

    /// The splices that append `members` (keyed for objects, `None` keys for arrays) to
    /// `container`, formatted like its existing members (see the module docs).
    fn member_splices(&self, container: u32, members: Vec<(Option<String>, Value)>) -> Vec<Splice> {
        if members.is_empty() {
            return Vec::new();
        }
        let style = self.style();
        let c = self.tree.node(container);
        let text = &self.text;
        let close = c.end as usize - 1;
        let mut splices = Vec::new();
        if !c.has_children() {
            let interior = &text[c.start as usize + 1..close];
            let blank = interior.trim().is_empty();
            if c.is_multiline() && first_on_line(text, close) {
                // `{\n  // notes\n}`: one per line, before the closing bracket's line.
                let outer = line_indent(text, close);
                let inner = format!("{outer}{}", style.unit);
                let mut insert = String::new();
                let count = members.len();
                for (i, (key, value)) in members.into_iter().enumerate() {
                    insert.push_str(&inner);
                    self.render_member(key.as_deref(), &value, &inner, false, &mut insert);
                    if i + 1 < count || style.trailing_commas {
                        insert.push(',');
                    }
                    insert.push_str(style.newline);
                }
                splices.push(Splice::insert(line_start(text, close), insert));
                return splices;
            }
            let parent_multiline = c.parent == NONE || self.tree.node(c.parent).is_multiline();
            let nested = members.iter().any(|(_, v)| v.is_object() || v.is_array());
            if c.parent == NONE || (nested && parent_multiline) {
                let outer = line_indent(text, c.member_start());
                let inner = format!("{outer}{}", style.unit);
                let mut insert = String::new();
                let count = members.len();
                for (i, (key, value)) in members.into_iter().enumerate() {
                    insert.push_str(style.newline);
                    insert.push_str(&inner);
                    self.render_member(key.as_deref(), &value, &inner, false, &mut insert);
                    if i + 1 < count || style.trailing_commas {
                        insert.push(',');
                    }
                }
                insert.push_str(style.newline);
                insert.push_str(&outer);
                splices.push(Splice::fill(c.start as usize, close, blank, insert));
                return splices;
            }
            // `{}` → `{ alias: 'x' }`, `[]` → `['ref']`: one line, nested values too.
            let indent = line_indent(text, c.member_start());
            let mut insert = String::new();
            let pad = if c.kind == Kind::Object { " " } else { "" };
            insert.push_str(pad);
            for (i, (key, value)) in members.into_iter().enumerate() {
                if i > 0 {
                    insert.push_str(", ");
                }
                self.render_member(key.as_deref(), &value, &indent, true, &mut insert);
            }
            insert.push_str(pad);
            if !blank {
                // Set off from the comments before it by one space.
                insert = format!(" {}", insert.trim_start());
            }
            splices.push(Splice::fill(c.start as usize, close, blank, insert));
            return splices;
        }
        let last_id = self.tree.last(container);
        let last = self.tree.node(last_id);
        let last_comma = self.tree.comma(text, last_id);
        let trailing = last_comma != NONE;
        // A new entry after a one-line object in an array is one line too (lists of
        // model entries written one per line stay that way).
        let inline_like_last = c.kind == Kind::Array
            && matches!(last.kind, Kind::Object | Kind::Array)
            && !last.is_multiline();
        if text.as_bytes()[c.member_start()..last.member_start()].contains(&b'\n') {
            // One member per line: a new line after the last member (and its comment).
            let indent = line_indent(text, last.member_start());
            if !trailing {
                splices.push(Splice::insert(last.end as usize, ",".to_owned()));
            }
            let at = end_of_line_trivia(text, self.tree.member_end(text, last_id));
            let mut insert = String::new();
            let count = members.len();
            for (i, (key, value)) in members.into_iter().enumerate() {
                insert.push_str(style.newline);
                insert.push_str(&indent);
                self.render_member(
                    key.as_deref(),
                    &value,
                    &indent,
                    inline_like_last,
                    &mut insert,
                );
                if i + 1 < count || trailing {
                    insert.push(',');
                }
            }
            splices.push(Splice::insert(at, insert));
        } else {
            // Members share a line: continue it.
            let indent = line_indent(text, last.member_start());
            let mut insert = String::new();
            for (key, value) in members {
                if trailing {
                    insert.push(' ');
                    self.render_member(key.as_deref(), &value, &indent, true, &mut insert);
                    insert.push(',');
                } else {
                    insert.push_str(", ");
                    self.render_member(key.as_deref(), &value, &indent, true, &mut insert);
                }
            }
            let at = if trailing {
                last_comma as usize + 1
            } else {
                last.end as usize
            };
            splices.push(Splice::insert(at, insert));
        }
        splices
    }

    /// The splices that remove member `id` from its container with its line (and that
    /// line's trailing comment) when it has one to itself; never leaves a trailing comma
    /// the file did not have.
    fn remove_member(&self, id: u32) -> Vec<Splice> {
        let text = &self.text;
        let m = self.tree.node(id);
        let c = self.tree.node(m.parent);
        let start = m.member_start();
        let close = c.end as usize - 1;
        let mut splices = Vec::new();
        let own_line = first_on_line(text, start);
        let m_prev = self.tree.prev(id);
        let m_comma = self.tree.comma(text, id);
        let m_end = self.tree.member_end(text, id);
        let tail = end_of_line_trivia(text, m_end);
        let ends_line = matches!(text.as_bytes().get(tail), None | Some(b'\n' | b'\r'));
        let (from, to) = if own_line && ends_line && c.is_multiline() {
            let nl = match text.as_bytes().get(tail) {
                Some(b'\r') if text.as_bytes().get(tail + 1) == Some(&b'\n') => tail + 2,
                Some(_) => tail + 1,
                None => tail,
            };
            (line_start(text, start), nl)
        } else if m.next != NONE {
            (start, self.tree.node(m.next).member_start())
        } else if m_prev != NONE {
            let prev = self.tree.node(m_prev);
            (prev.end as usize, m.end as usize)
        } else {
            (start, m_end)
        };
        if m_comma == NONE && m_prev != NONE && from > self.tree.node(m_prev).end as usize {
            // The removed member was last without a trailing comma: so is its predecessor now.
            let prev_comma = self.tree.comma(text, m_prev);
            if prev_comma != NONE {
                splices.push(Splice::delete(prev_comma as usize, prev_comma as usize + 1));
            }
        }
        // Nothing but blanks left inside: `{}` / `[]`.
        let interior_start = c.start as usize + 1;
        let left = format!("{}{}", &text[interior_start..from], &text[to..close]);
        if left.trim().is_empty() {
            return vec![Splice::delete(interior_start, close)];
        }
        splices.push(Splice::delete(from, to));
        splices
    }

    // --- rendering -----------------------------------------------------------------

    fn style(&self) -> &Style {
        self.style.get_or_init(|| Style::of(&self.text, &self.tree))
    }

    fn render_member(
        &self,
        key: Option<&str>,
        value: &Value,
        indent: &str,
        inline: bool,
        out: &mut String,
    ) {
        if let Some(key) = key {
            out.push_str(&self.style().key(key));
            out.push_str(": ");
        }
        self.render(value, indent, inline, out);
    }

    /// `value` as JSON5 in the file's style; `indent` is the current line's indentation.
    fn render(&self, value: &Value, indent: &str, inline: bool, out: &mut String) {
        let style = self.style();
        match value {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&number_text(n)),
            Value::String(s) => out.push_str(&quote(s, style.single_quotes)),
            Value::Array(items) if items.is_empty() => out.push_str("[]"),
            Value::Object(map) if map.is_empty() => out.push_str("{}"),
            Value::Array(items) => {
                if inline || (style.compact && self.fits_inline(value)) {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        self.render(item, indent, true, out);
                    }
                    out.push(']');
                } else {
                    self.render_block(items.iter().map(|v| (None, v)), '[', ']', indent, out);
                }
            }
            Value::Object(map) => {
                if inline || (style.compact && self.fits_inline(value)) {
                    out.push_str("{ ");
                    for (i, (key, item)) in map.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        self.render_member(Some(key), item, indent, true, out);
                    }
                    out.push_str(" }");
                } else {
                    self.render_block(
                        map.iter().map(|(k, v)| (Some(k.as_str()), v)),
                        '{',
                        '}',
                        indent,
                        out,
                    );
                }
            }
        }
    }

    /// One member per line, one step deeper than `indent`.
    fn render_block<'v>(
        &self,
        members: impl ExactSizeIterator<Item = (Option<&'v str>, &'v Value)>,
        open: char,
        close: char,
        indent: &str,
        out: &mut String,
    ) {
        let style = self.style();
        let inner = format!("{indent}{}", style.unit);
        let count = members.len();
        out.push(open);
        for (i, (key, value)) in members.enumerate() {
            out.push_str(style.newline);
            out.push_str(&inner);
            self.render_member(key, value, &inner, false, out);
            if i + 1 < count || style.trailing_commas {
                out.push(',');
            }
        }
        out.push_str(style.newline);
        out.push_str(indent);
        out.push(close);
    }

    /// Scalars only, and short once rendered on one line.
    fn fits_inline(&self, value: &Value) -> bool {
        let scalars = match value {
            Value::Array(items) => items.iter().all(is_scalar),
            Value::Object(map) => map.values().all(is_scalar),
            _ => true,
        };
        if !scalars {
            return false;
        }
        let mut one_line = String::new();
        self.render(value, "", true, &mut one_line);
        one_line.len() <= INLINE_WIDTH
    }
}

/// How the file writes things, so new content looks like the old.
#[derive(Debug, Clone)]
struct Style {
    /// Keys that are identifiers are written bare (`agents:`).
    bare_keys: bool,
    /// Quote character for keys that must be quoted.
    single_quoted_keys: bool,
    /// Strings use single quotes.
    single_quotes: bool,
    /// Members one per line end with a comma after the last one too.
    trailing_commas: bool,
    /// The file has non-empty one-line objects or arrays (unlike `JSON.stringify`'s
    /// output, which OpenClaw writes): short new ones may be one line too.
    compact: bool,
    /// One indentation step.
    unit: String,
    newline: &'static str,
}

impl Style {
    fn of(text: &str, tree: &Tree) -> Style {
        let mut bare = 0usize;
        let mut quoted_ident = 0usize;
        let mut single_keys = 0usize;
        let mut double_keys = 0usize;
        let mut single = 0usize;
        let mut double = 0usize;
        let mut with_comma = 0usize;
        let mut without_comma = 0usize;
        let mut compact = false;
        let mut unit: Option<String> = None;
        let mut stack = vec![tree.root()];
        while let Some(id) = stack.pop() {
            let node = tree.node(id);
            if node.key_start != NONE {
                match node.key_style() {
                    KeyStyle::Word => bare += 1,
                    style => {
                        if style == KeyStyle::Single {
                            single_keys += 1;
                        } else {
                            double_keys += 1;
                        }
                        let raw =
                            &text[node.key_start as usize + 1..tree.key_end(text, id) as usize - 1];
                        if is_identifier(raw) {
                            quoted_ident += 1;
                        }
                    }
                }
            }
            match node.kind {
                Kind::String => {
                    if text.as_bytes()[node.start as usize] == b'\'' {
                        single += 1;
                    } else {
                        double += 1;
                    }
                }
                Kind::Object | Kind::Array if node.has_children() => {
                    let before = stack.len();
                    stack.extend(tree.children(id));
                    let last_id = stack[stack.len() - 1];
                    debug_assert!(stack.len() > before);
                    let last = tree.node(last_id);
                    if text.as_bytes()[node.member_start()..last.member_start()].contains(&b'\n') {
                        if tree.comma(text, last_id) == NONE {
                            without_comma += 1;
                        } else {
                            with_comma += 1;
                        }
                        if unit.is_none() {
                            unit = step(
                                text,
                                node.member_start(),
                                tree.node(tree.first(id)).member_start(),
                            );
                        }
                    } else {
                        compact = true;
                    }
                }
                _ => {}
            }
        }
        // Keys and strings inform each other's quotes when one of them has none.
        let single_keys = if single_keys + double_keys == 0 {
            single > double
        } else {
            single_keys > double_keys
        };
        Style {
            bare_keys: bare > quoted_ident,
            single_quoted_keys: single_keys,
            single_quotes: if single + double == 0 {
                single_keys
            } else {
                single > double
            },
            trailing_commas: with_comma > without_comma,
            compact,
            unit: unit.unwrap_or_else(|| "  ".to_owned()),
            newline: if text.contains("\r\n") { "\r\n" } else { "\n" },
        }
    }

    fn key(&self, key: &str) -> String {
        if self.bare_keys && is_identifier(key) {
            key.to_owned()
        } else {
            quote(key, self.single_quoted_keys)
        }
    }
}

/// The indentation step between a container's line and its first member's line.
fn step(text: &str, container: usize, member: usize) -> Option<String> {
    if !first_on_line(text, member) {
        return None;
    }
    let outer = line_indent(text, container);
    let inner = line_indent(text, member);
    inner
        .strip_prefix(&outer)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

fn entry_key(model_ref: &str) -> String {
    format!("agents.defaults.models[\"{model_ref}\"]")
}

/// Offset of the start of the line holding `pos`.
fn line_start(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// The spaces and tabs that start the line holding `pos`.
fn line_indent(text: &str, pos: usize) -> String {
    let start = line_start(text, pos);
    text[start..]
        .bytes()
        .take_while(|b| *b == b' ' || *b == b'\t')
        .map(char::from)
        .collect()
}

/// Only blanks between the line start and `pos`.
fn first_on_line(text: &str, pos: usize) -> bool {
    text[line_start(text, pos)..pos]
        .bytes()
        .all(|b| b == b' ' || b == b'\t')
}

/// From `pos`, skips blanks and comments on the same line; returns the offset just after
/// the last comment (or `pos`), or the line break / other text it stopped at when
/// nothing but blanks follow. A block comment running onto the next line is not skipped.
fn end_of_line_trivia(text: &str, pos: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = pos;
    let mut end = pos;
    loop {
        match bytes.get(i) {
            Some(b' ' | b'\t') => i += 1,
            Some(b'/') if bytes.get(i + 1) == Some(&b'/') => {
                let len = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r')
                    .unwrap_or(bytes.len() - i);
                return i + len;
            }
            Some(b'/') if bytes.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                Some(len) if !text[i + 2..i + 2 + len].contains('\n') => {
                    i += len + 4;
                    end = i;
                }
                _ => return end,
            },
            Some(b'\n' | b'\r') | None => {
                // Nothing but blanks after `end`: callers insert before the line break.
                return if end == pos { i } else { end };
            }
            Some(_) => return end,
        }
    }
}

/// A JSON5 string literal; single-quoted when asked, unless the text holds `'` and no `"`.
fn quote(text: &str, single: bool) -> String {
    let single = single && (text.contains('"') || !text.contains('\''));
    if !single {
        return serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""));
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An ECMAScript identifier name (ASCII subset): may be written as a bare key.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// `3` rather than `3.0` for whole prices; other numbers in serde_json's shortest form.
fn number_text(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        _ => n.to_string(),
    }
}

/// The entry's OpenClaw fields, in OpenClaw's order; a missing `name` becomes the id
/// because OpenClaw rejects entries without one. Nulls and empty costs are left out.
fn openclaw_fields(entry: &ConfigModel) -> Vec<(&'static str, Value)> {
    let Ok(Value::Object(map)) = serde_json::to_value(entry) else {
        return Vec::new();
    };
    MODEL_FIELDS
        .iter()
        .filter_map(|key| {
            let value = match map.get(*key) {
                Some(Value::Null) | None if *key == "name" => Value::from(entry.id.as_str()),
                Some(Value::Null) | None => return None,
                Some(Value::Object(cost)) if cost.is_empty() => return None,
                Some(value) => value.clone(),
            };
            Some((*key, value))
        })
        .collect()
}

/// A new entry: `id` first, then the OpenClaw fields.
fn entry_value(entry: &ConfigModel, fields: Vec<(&'static str, Value)>) -> Value {
    let mut map = Map::with_capacity(fields.len() + 1);
    map.insert("id".to_owned(), Value::from(entry.id.as_str()));
    for (key, value) in fields {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// All entries as new ones (the list did not exist), first occurrence of an id only.
fn new_entries(entries: &[ConfigModel], report: &mut MergeReport) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    entries
        .iter()
        .filter(|e| seen.insert(e.id.as_str()))
        .map(|e| {
            report.added.push(e.id.clone());
            entry_value(e, openclaw_fields(e))
        })
        .collect()
}
