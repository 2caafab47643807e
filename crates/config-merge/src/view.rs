//! What OpenClaw's keys mean, read tolerantly: wrong types become warnings, never errors.

use hfclaw_catalog::ConfigModel;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::syntax::{Kind, NONE, NodeDeserializer, Tree};

/// The provider id hfclaw manages in `models.providers`.
pub const PROVIDER_ID: &str = "huggingface";

/// The parts of an OpenClaw config hfclaw uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenClawView {
    /// `agents.defaults.model.primary` (or `agents.defaults.model` when it is a string).
    pub primary: Option<String>,
    /// `agents.defaults.model.fallbacks`, in order.
    pub fallbacks: Vec<String>,
    /// `agents.defaults.models`, in file order.
    pub models: Vec<AgentModelEntry>,
    /// The effective allowlist ("Allowed models"), `None` when every model is allowed.
    pub allowlist: Option<Allowlist>,
    /// `models.providers.huggingface`, when present.
    pub provider: Option<ProviderBlock>,
    /// The keys of `models.providers` (every configured provider), in file order.
    pub providers: Vec<String>,
    /// `env.vars`, string values only.
    pub env_vars: Vec<(String, String)>,
    /// `env.shellEnv`.
    pub shell_env: ShellEnvConfig,
    /// Keys that had an unexpected type and were ignored.
    pub warnings: Vec<String>,
}

/// `env.shellEnv`: whether to import missing variables from the login shell, and how long
/// it may take. Read only; the CLI decides when the shell runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShellEnvConfig {
    /// `enabled: true`.
    pub enabled: bool,
    /// `timeoutMs`, when a non-negative integer.
    pub timeout_ms: Option<u64>,
}

/// One entry of `agents.defaults.models`.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentModelEntry {
    /// The ref used as key.
    pub key: String,
    /// Its `alias`, if a non-empty string.
    pub alias: Option<String>,
}

/// Where the allowlist lives and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Allowlist {
    /// The allowed refs (or wildcards such as `huggingface/*`, aliases).
    pub entries: Vec<String>,
    /// Which key holds it.
    pub location: AllowlistLocation,
}

/// The two places OpenClaw keeps its allowlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowlistLocation {
    /// The keys of `agents.defaults.models` (before OpenClaw 2026.9's migration).
    ModelsMap,
    /// `agents.defaults.modelPolicy.allow` (after it).
    ModelPolicy,
}

impl Allowlist {
    /// Whether `model_ref` (or an alias of it, or a `provider/*` wildcard) is allowed.
    pub fn allows(&self, model_ref: &str, alias: Option<&str>) -> bool {
        self.entries.iter().any(|entry| {
            entry == model_ref
                || alias.is_some_and(|a| a == entry)
                || entry.strip_suffix("/*").is_some_and(|p| {
                    model_ref.starts_with(p) && model_ref[p.len()..].starts_with('/')
                })
        })
    }
}

/// Which entries of `models.providers.huggingface.models` a view reads: a synced config
/// may hold thousands, and an edit needs only the few its input and selection name.
#[derive(Clone, Copy)]
pub enum ProviderModels<'f> {
    /// Every entry.
    All,
    /// None: `provider.models` stays empty.
    Skip,
    /// Only entries whose `id` passes the filter; the others are not read at all.
    Matching(&'f dyn Fn(&str) -> bool),
    /// Every entry is read, so a malformed one is warned about, but only those whose `id`
    /// passes the filter (or is written more than once) are kept.
    Checked(&'f dyn Fn(&str) -> bool),
}

/// The elements of collapsed provider model lists (see [`OpenClawView::from_collapsed`]):
/// one slot per element in text order, with the array it is in and why it could not be
/// read; each slot without an error has its model in `models`, in the same order.
#[derive(Debug, Default)]
pub(crate) struct Collapsed {
    /// The entries read, in text order.
    pub models: Vec<ConfigModel>,
    /// Runs of elements: the array's id and how many elements in a row are in it.
    pub runs: Vec<(u32, usize)>,
    /// The elements (counted over all runs) that could not be read, and why.
    pub errors: Vec<(usize, String)>,
    /// Elements so far.
    pub count: usize,
}

impl Collapsed {
    /// One more element of `array`: `read` is the entry, or why it could not be read.
    pub fn push(&mut self, array: u32, read: Result<ConfigModel, String>) {
        let element = self.count;
        self.count += 1;
        match self.runs.last_mut() {
            Some((last, n)) if *last == array => *n += 1,
            _ => self.runs.push((array, 1)),
        }
        match read {
            Ok(model) => self.models.push(model),
            Err(e) => self.errors.push((element, e)),
        }
    }
}

fn empty_id(i: usize) -> String {
    format!("models.providers.huggingface.models[{i}] has an empty id; ignored")
}

fn unreadable(i: usize, e: impl std::fmt::Display) -> String {
    format!("models.providers.huggingface.models[{i}] ignored: {e}")
}

/// The keys to `models.providers.huggingface.models`.
pub(crate) const PROVIDER_MODELS_PATH: [&str; 4] = ["models", "providers", PROVIDER_ID, "models"];

/// `models.providers.huggingface.models`, when it is an array.
fn provider_list(text: &str, tree: &Tree) -> Option<u32> {
    tree.at(text, &PROVIDER_MODELS_PATH)
        .filter(|&id| tree.node(id).kind == Kind::Array)
}

/// `models.providers.huggingface`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderBlock {
    /// `baseUrl`.
    pub base_url: Option<String>,
    /// `api`.
    pub api: Option<String>,
    /// `apiKey`, when it is a literal string (it may also be a secret ref object).
    pub api_key: Option<String>,
    /// `headers`, string values only (e.g. `X-HF-Bill-To`).
    pub headers: Vec<(String, String)>,
    /// `models`; entries without a string `id` are skipped with a warning.
    pub models: Vec<ConfigModel>,
}

impl OpenClawView {
    /// Reads the view out of a parsed config.
    pub fn from_value(root: &Value) -> OpenClawView {
        OpenClawView::from_value_with(root, None)
    }

    /// [`OpenClawView::from_value`], with `agents.defaults.models` read by `read_models`
    /// when given (the tree's reader: `root` then holds only that object's keys).
    fn from_value_with(
        root: &Value,
        read_models: Option<&dyn Fn(&mut OpenClawView)>,
    ) -> OpenClawView {
        let mut view = OpenClawView::default();
        // Containers on the paths hfclaw reads: one of another type reads as absent, with
        // a warning (and edits refuse to write into it).
        for (pointer, key) in CONTAINERS {
            if root
                .pointer(pointer)
                .is_some_and(|v| !v.is_object() && !v.is_null())
            {
                view.warn(format!("{key} is not an object; ignored"));
            }
        }
        let defaults = root.pointer("/agents/defaults");
        match defaults.and_then(|d| d.get("model")) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => view.primary = non_empty(s),
            Some(Value::Object(model)) => view.read_model(model),
            Some(_) => view.warn("agents.defaults.model is neither a string nor an object"),
        }
        match defaults.and_then(|d| d.get("models")) {
            None | Some(Value::Null) => {}
            Some(Value::Object(models)) => match read_models {
                Some(read) => read(&mut view),
                None => view.read_models(models),
            },
            Some(_) => view.warn("agents.defaults.models is not an object"),
        }
        // The tree's reader has read the keys into `view.models` (first place each).
        let keys = || {
            view.models
                .iter()
                .map(|e| e.key.clone())
                .filter(|k| !k.trim().is_empty())
                .collect()
        };
        let allowlist = allowlist_with(root, read_models.is_some().then_some(&keys as _));
        view.allowlist = allowlist;
        if let Some(Value::Object(providers)) = root.pointer("/models/providers") {
            view.providers = providers.keys().cloned().collect();
        }
        if let Some(block) = root.pointer("/models/providers/huggingface") {
            view.read_provider(block);
        }
        if let Some(Value::Object(vars)) = root.pointer("/env/vars") {
            view.env_vars = vars
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect();
        }
        if let Some(shell_env) = root.pointer("/env/shellEnv") {
            view.read_shell_env(shell_env);
        }
        view
    }

    fn read_shell_env(&mut self, shell_env: &Value) {
        match shell_env.get("enabled") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(enabled)) => self.shell_env.enabled = *enabled,
            Some(_) => self.warn("env.shellEnv.enabled is not a boolean; ignored"),
        }
        match shell_env.get("timeoutMs") {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) if n.as_u64().is_some() => {
                self.shell_env.timeout_ms = n.as_u64();
            }
            Some(_) => {
                self.warn("env.shellEnv.timeoutMs is not a whole number of milliseconds; ignored")
            }
        }
    }

    fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(message.into());
    }

    fn read_model(&mut self, model: &Map<String, Value>) {
        match model.get("primary") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => self.primary = non_empty(s),
            Some(_) => self.warn("agents.defaults.model.primary is not a string"),
        }
        match model.get("fallbacks") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) => self.fallbacks.push(s.to_owned()),
                        None => self.warn(format!(
                            "agents.defaults.model.fallbacks[{i}] is not a string"
                        )),
                    }
                }
            }
            Some(_) => self.warn("agents.defaults.model.fallbacks is not an array"),
        }
    }

    fn read_models(&mut self, models: &Map<String, Value>) {
        for (key, entry) in models {
            let alias = match entry.get("alias") {
                Some(Value::String(a)) => non_empty(a),
                None | Some(Value::Null) => None,
                Some(_) => {
                    self.warn(format!(
                        "agents.defaults.models[\"{key}\"].alias is not a string"
                    ));
                    None
                }
            };
            self.models.push(AgentModelEntry {
                key: key.clone(),
                alias,
            });
        }
    }

    fn read_provider(&mut self, block: &Value) {
        let Some(block) = block.as_object() else {
            self.warn("models.providers.huggingface is not an object");
            return;
        };
        let text = |key: &str| block.get(key).and_then(Value::as_str).map(str::to_owned);
        let mut provider = ProviderBlock {
            base_url: text("baseUrl"),
            api: text("api"),
            api_key: text("apiKey"),
            headers: block
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| {
                    h.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default(),
            models: Vec::new(),
        };
        match block.get("models") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    // Deserialize from the borrowed value: no copy of thousands of entries.
                    self.add_entry(&mut provider, i, ConfigModel::deserialize(item));
                }
            }
            Some(_) => self.warn("models.providers.huggingface.models is not an array"),
        }
        self.provider = Some(provider);
    }

    fn add_entry(
        &mut self,
        provider: &mut ProviderBlock,
        i: usize,
        entry: Result<ConfigModel, impl std::fmt::Display>,
    ) {
        match entry {
            Ok(model) if !model.id.is_empty() => provider.models.push(model),
            Ok(_) => self.warn(empty_id(i)),
            Err(e) => self.warn(unreadable(i, e)),
        }
    }

    /// The view of a parsed document, equal to [`OpenClawView::from_value`] of its value
    /// but reading the provider's model list straight from the tree (no intermediate
    /// value for thousands of entries), and only the entries `which` asks for.
    pub(crate) fn from_tree(text: &str, tree: &Tree, which: ProviderModels<'_>) -> OpenClawView {
        let list = provider_list(text, tree);
        let root = read_parts(text, tree, tree.root(), READ, list.unwrap_or(NONE));
        let models = tree
            .at(text, &["agents", "defaults", "models"])
            .filter(|&id| tree.node(id).kind == Kind::Object);
        let read = |view: &mut OpenClawView| {
            if let Some(models) = models {
                view.read_models_tree(text, tree, models);
            }
        };
        let mut view = OpenClawView::from_value_with(&root, Some(&read));
        view.read_provider_models(text, tree, which);
        view
    }

    /// [`OpenClawView::read_models`] of the tree's object `id`, read in place: a config
    /// may hold tens of thousands of aliases. Like a map, a key written twice keeps its
    /// first place and its last value.
    fn read_models_tree(&mut self, text: &str, tree: &Tree, id: u32) {
        let mut order: Vec<(std::borrow::Cow<'_, str>, u32)> = Vec::new();
        // The user's own keys: a fast hash, sized once.
        let members = tree.children(id).count();
        let mut index: rustc_hash::FxHashMap<std::borrow::Cow<'_, str>, usize> =
            rustc_hash::FxHashMap::with_capacity_and_hasher(members, Default::default());
        order.reserve(members);
        for child in tree.children(id) {
            let Some(key) = tree.key_str(text, child) else {
                continue;
            };
            match index.get(&key) {
                Some(&at) => order[at].1 = child,
                None => {
                    index.insert(key.clone(), order.len());
                    order.push((key, child));
                }
            }
        }
        drop(index);
        self.models.reserve(order.len());
        for (key, child) in order {
            let alias = match tree.node(child).kind {
                Kind::Object => match tree.get(text, child, "alias") {
                    None => None,
                    Some(alias) => match tree.node(alias).kind {
                        Kind::String => tree.str(text, alias).and_then(|a| non_empty(&a)),
                        Kind::Null => None,
                        // `NaN`, `Infinity`: `null` to every reader of the value, as here.
                        Kind::Number if tree.to_value(text, alias).is_null() => None,
                        _ => {
                            self.warn(format!(
                                "agents.defaults.models[\"{key}\"].alias is not a string"
                            ));
                            None
                        }
                    },
                },
                _ => None,
            };
            self.models.push(AgentModelEntry {
                key: key.into_owned(),
                alias,
            });
        }
    }

    /// [`OpenClawView::from_tree`] with every provider entry, of a tree parsed with the
    /// provider's model list collapsed into `entries`.
    pub(crate) fn from_collapsed(text: &str, tree: &Tree, entries: Collapsed) -> OpenClawView {
        let mut view = OpenClawView::from_tree(text, tree, ProviderModels::Skip);
        let Collapsed {
            mut models,
            runs,
            errors,
            ..
        } = entries;
        if let Some(list) = provider_list(text, tree)
            && let Some(mut provider) = view.provider.take()
        {
            // Warnings in the list's order, then the kept models in place (the list may
            // be most of the config: never two vectors of it).
            let mut keep = Vec::with_capacity(models.len());
            let mut read = models.iter();
            let mut errors = errors.into_iter().peekable();
            let (mut element, mut i) = (0, 0);
            for (array, count) in runs {
                let mine = array == list;
                for _ in 0..count {
                    match errors.next_if(|(at, _)| *at == element) {
                        Some((_, e)) if mine => view.warn(unreadable(i, e)),
                        Some(_) => {}
                        None => {
                            let empty = read.next().is_none_or(|m| m.id.is_empty());
                            if mine && empty {
                                view.warn(empty_id(i));
                            }
                            keep.push(mine && !empty);
                        }
                    }
                    element += 1;
                    i += usize::from(mine);
                }
            }
            let mut keep = keep.into_iter();
            models.retain(|_| keep.next().unwrap_or(false));
            provider.models = models;
            view.provider = Some(provider);
        }
        view
    }

    /// Reads the entries `which` asks for of the provider's model list into a view read
    /// with [`ProviderModels::Skip`].
    pub(crate) fn read_provider_models(
        &mut self,
        text: &str,
        tree: &Tree,
        which: ProviderModels<'_>,
    ) {
        let Some(list) = provider_list(text, tree) else {
            return;
        };
        if matches!(which, ProviderModels::Skip) {
            return;
        }
        let Some(mut provider) = self.provider.take() else {
            return;
        };
        let entry_id = |id: u32| tree.get(text, id, "id").and_then(|n| tree.str(text, n));
        // For `Checked`: ids written more than once are kept too, so the catalog merge
        // still reports the duplicates.
        let mut repeated = std::collections::HashSet::new();
        if let ProviderModels::Checked(_) = which {
            let mut seen = std::collections::HashSet::new();
            for id in tree.children(list) {
                if let Some(entry_id) = entry_id(id)
                    && !seen.insert(entry_id.clone())
                {
                    repeated.insert(entry_id);
                }
            }
        }
        for (i, id) in tree.children(list).enumerate() {
            if let ProviderModels::Matching(keep) = which
                && !entry_id(id).is_some_and(|entry_id| keep(&entry_id))
            {
                continue;
            }
            let entry = ConfigModel::deserialize(NodeDeserializer { tree, text, id });
            if let (ProviderModels::Checked(keep), Ok(model)) = (which, &entry)
                && !keep(&model.id)
                && !repeated.contains(model.id.as_str())
            {
                // Read (its problems are reported) but not kept.
                if model.id.is_empty() {
                    self.add_entry(&mut provider, i, entry);
                }
                continue;
            }
            self.add_entry(&mut provider, i, entry);
        }
        self.provider = Some(provider);
    }

    /// Default and fallback refs the allowlist lacks, as `(role, ref)`: OpenClaw refuses
    /// to use them. Empty when there is no allowlist.
    pub fn allowlist_gaps(&self) -> Vec<(String, String)> {
        let Some(allowlist) = &self.allowlist else {
            return Vec::new();
        };
        let roles = self
            .primary
            .iter()
            .map(|p| ("default".to_owned(), p))
            .chain(
                self.fallbacks
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (format!("fallback #{}", i + 1), f)),
            );
        roles
            .filter(|(_, r)| !allowlist.allows(r, self.alias_of(r)))
            .map(|(role, r)| (role, r.clone()))
            .collect()
    }

    /// The alias of `model_ref`, if the config gives it one.
    pub fn alias_of(&self, model_ref: &str) -> Option<&str> {
        self.models
            .iter()
            .find(|e| e.key == model_ref)
            .and_then(|e| e.alias.as_deref())
    }
}

/// What [`OpenClawView::from_value`] reads of an object: some members whole, some in
/// part. Everything else (most of a 50 MB config) is never turned into a value.
enum Part {
    /// The whole value.
    All,
    /// Of an object, only these members.
    Members(&'static [(&'static str, Part)]),
    /// Of an object, every key (with `null` values) and the member named here whole.
    KeysAnd(&'static str),
    /// Of an object, every key (with `null` values).
    Keys,
    /// Only the type: an object reads as `{}` (its members are read elsewhere).
    TypeOnly,
}

const READ: &[(&str, Part)] = &[
    (
        "agents",
        Part::Members(&[(
            "defaults",
            Part::Members(&[
                ("model", Part::All),
                // Read in place by `read_models_tree` (its keys are the allowlist).
                ("models", Part::TypeOnly),
                ("modelPolicy", Part::All),
            ]),
        )]),
    ),
    (
        "models",
        Part::Members(&[("providers", Part::KeysAnd(PROVIDER_ID))]),
    ),
    (
        "env",
        Part::Members(&[("vars", Part::All), ("shellEnv", Part::All)]),
    ),
    ("meta", Part::Members(&[("migrations", Part::All)])),
];

/// What [`allowlist`] reads.
const ALLOWLIST: &[(&str, Part)] = &[
    (
        "agents",
        Part::Members(&[(
            "defaults",
            Part::Members(&[("models", Part::Keys), ("modelPolicy", Part::All)]),
        )]),
    ),
    ("meta", Part::Members(&[("migrations", Part::All)])),
];

/// The allowlist of a parsed document (see [`allowlist`]), read without a value of the
/// rest of the config.
pub(crate) fn allowlist_of_tree(text: &str, tree: &Tree) -> Option<Allowlist> {
    allowlist(&read_parts(text, tree, tree.root(), ALLOWLIST, NONE))
}

/// The members `parts` of object `id` as a value (`skip` read as `[]`); a value that is
/// not an object keeps its type (an array reads as `[]`), for the view's type warnings.
fn read_parts(text: &str, tree: &Tree, id: u32, parts: &[(&str, Part)], skip: u32) -> Value {
    let mut map = Map::new();
    for (key, part) in parts {
        if let Some(child) = tree.get(text, id, key) {
            map.insert((*key).to_owned(), read_part(text, tree, child, part, skip));
        }
    }
    Value::Object(map)
}

fn read_part(text: &str, tree: &Tree, id: u32, part: &Part, skip: u32) -> Value {
    match (tree.node(id).kind, part) {
        (_, Part::All) => tree.to_value_skipping(text, id, skip),
        (Kind::Object, Part::Members(parts)) => read_parts(text, tree, id, parts, skip),
        (Kind::Object, Part::TypeOnly) => Value::Object(Map::new()),
        (Kind::Object, Part::Keys) => Value::Object(
            tree.children(id)
                .filter_map(|child| Some((tree.key(text, child)?, Value::Null)))
                .collect(),
        ),
        (Kind::Object, Part::KeysAnd(whole)) => {
            let mut map = Map::new();
            for child in tree.children(id) {
                let key = tree.key(text, child).unwrap_or_default();
                let value = if key == *whole {
                    tree.to_value_skipping(text, child, skip)
                } else {
                    Value::Null
                };
                map.insert(key, value);
            }
            Value::Object(map)
        }
        (Kind::Array, _) => Value::Array(Vec::new()),
        _ => tree.to_value(text, id),
    }
}

/// The objects on the paths the view reads, as JSON pointers and dotted keys.
const CONTAINERS: [(&str, &str); 7] = [
    ("/agents", "agents"),
    ("/agents/defaults", "agents.defaults"),
    (
        "/agents/defaults/modelPolicy",
        "agents.defaults.modelPolicy",
    ),
    ("/models", "models"),
    ("/models/providers", "models.providers"),
    ("/env", "env"),
    ("/env/vars", "env.vars"),
];

/// OpenClaw 2026.9's rule: `modelPolicy.allow` if present; else, before the migration, the
/// non-blank keys of `agents.defaults.models`; else nothing (all allowed).
pub(crate) fn allowlist(root: &Value) -> Option<Allowlist> {
    allowlist_with(root, None)
}

/// [`allowlist`], with the keys of `agents.defaults.models` from `keys` when given (the
/// tree's reader, whose `root` holds that object empty).
fn allowlist_with(root: &Value, keys: Option<&dyn Fn() -> Vec<String>>) -> Option<Allowlist> {
    let defaults = root.pointer("/agents/defaults")?;
    let policy = defaults.get("modelPolicy");
    if let Some(allow) = policy.and_then(|p| p.get("allow")) {
        let entries = allow
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        return Some(Allowlist {
            entries,
            location: AllowlistLocation::ModelPolicy,
        });
    }
    let migrated =
        root.pointer("/meta/migrations/modelPolicyAllowlist") == Some(&Value::Bool(true));
    if migrated || policy.is_some() {
        return None;
    }
    let models = defaults.get("models")?.as_object()?;
    let entries: Vec<String> = match keys {
        Some(keys) => keys(),
        None => models
            .keys()
            .filter(|k| !k.trim().is_empty())
            .cloned()
            .collect(),
    };
    (!entries.is_empty()).then_some(Allowlist {
        entries,
        location: AllowlistLocation::ModelsMap,
    })
}

fn non_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(text: &str) -> OpenClawView {
        OpenClawView::from_value(&json5::from_str::<Value>(text).unwrap())
    }

    #[test]
    fn reads_primary_fallbacks_aliases_in_order() {
        let v = view(
            r#"{ agents: { defaults: {
                model: { primary: "huggingface/a/b", fallbacks: ["huggingface/c/d", 3] },
                models: { "huggingface/z/z": {}, "huggingface/a/b": { alias: "AB" } },
            } } }"#,
        );
        assert_eq!(v.primary.as_deref(), Some("huggingface/a/b"));
        assert_eq!(v.fallbacks, ["huggingface/c/d"]);
        assert_eq!(
            v.warnings,
            ["agents.defaults.model.fallbacks[1] is not a string"]
        );
        assert_eq!(v.models[0].key, "huggingface/z/z");
        assert_eq!(v.alias_of("huggingface/a/b"), Some("AB"));
        let allow = v.allowlist.unwrap();
        assert_eq!(allow.location, AllowlistLocation::ModelsMap);
        assert_eq!(allow.entries, ["huggingface/z/z", "huggingface/a/b"]);
    }

    #[test]
    fn allowlist_gaps_name_role_and_ref() {
        let v = view(
            r#"{ agents: { defaults: {
                model: { primary: "huggingface/a/b", fallbacks: ["huggingface/c/d", "huggingface/e/f"] },
                models: { "huggingface/a/b": {}, "huggingface/e/f": {} },
            } } }"#,
        );
        assert_eq!(
            v.allowlist_gaps(),
            [("fallback #1".to_owned(), "huggingface/c/d".to_owned())]
        );
        let no_list = view(r#"{ agents: { defaults: { model: "huggingface/a/b" } } }"#);
        assert!(no_list.allowlist_gaps().is_empty());
    }

    #[test]
    fn containers_of_the_wrong_type_are_warned_about() {
        let v = view(
            r#"{ models: [], agents: { defaults: { model: "huggingface/a/b", modelPolicy: 3 } },
                 env: { vars: "x" } }"#,
        );
        assert_eq!(
            v.warnings,
            [
                "agents.defaults.modelPolicy is not an object; ignored",
                "models is not an object; ignored",
                "env.vars is not an object; ignored",
            ]
        );
        // The string form of `model` is OpenClaw's too: read, not warned about.
        assert_eq!(v.primary.as_deref(), Some("huggingface/a/b"));
        let v = view(r#"{ agents: [], models: { providers: "p" }, env: 1 }"#);
        assert_eq!(
            v.warnings,
            [
                "agents is not an object; ignored",
                "models.providers is not an object; ignored",
                "env is not an object; ignored",
            ]
        );
    }

    #[test]
    fn model_may_be_a_plain_string() {
        let v = view(r#"{ agents: { defaults: { model: "huggingface/q/r" } } }"#);
        assert_eq!(v.primary.as_deref(), Some("huggingface/q/r"));
        assert!(v.allowlist.is_none());
    }

    #[test]
    fn migrated_allowlist_lives_in_model_policy() {
        let v = view(
            r#"{ meta: { migrations: { modelPolicyAllowlist: true } },
                agents: { defaults: { models: { "huggingface/a/b": { alias: "x" } },
                                      modelPolicy: { allow: ["huggingface/c/d", "openai/*"] } } } }"#,
        );
        let allow = v.allowlist.unwrap();
        assert_eq!(allow.location, AllowlistLocation::ModelPolicy);
        assert!(allow.allows("huggingface/c/d", None));
        assert!(allow.allows("openai/gpt-5", None));
        assert!(!allow.allows("openai-x/gpt", None));
        assert!(!allow.allows("huggingface/a/b", None));
        assert!(allow.allows("huggingface/a/b", Some("huggingface/c/d")));

        let v = view(
            r#"{ meta: { migrations: { modelPolicyAllowlist: true } },
                agents: { defaults: { models: { "huggingface/a/b": {} } } } }"#,
        );
        assert!(
            v.allowlist.is_none(),
            "after the migration the models map is not a list"
        );
    }

    #[test]
    fn view_from_the_tree_equals_view_from_the_value() {
        for text in [
            r#"{ models: { providers: { huggingface: { baseUrl: "u", models: [
                 { id: "a/b", name: "AB", contextWindow: 1e3, cost: { input: 1, output: .5 }, compat: { x: [1, null] } },
                 { id: "c/d", id: "e/f", maxTokens: 8192, input: ["text"], reasoning: true },
                 { id: "", name: "empty" }, { name: "no id" }, "junk", { id: 'q\u0041', contextWindow: -1 },
                 { id: "g/h", contextWindow: 1.5 }, { id: "i/j", name: null, cost: null },
               ] } } },
               agents: { defaults: { model: "x", models: { "x": { alias: "X" } } } } }"#,
            r#"{ models: { providers: { huggingface: { models: "nope" } } } }"#,
            r#"{ models: { providers: { huggingface: 3 } } }"#,
            r#"{ agents: [1], models: { providers: { a: 1, huggingface: { baseUrl: 'x' }, b: [], huggingface: { api: 'y' } } },
                 env: { vars: { A: 'b', N: 1 } }, meta: { migrations: { modelPolicyAllowlist: true } }, plugins: { x: [1, 2] } }"#,
            r#"{ agents: { defaults: { model: { primary: 'a' }, modelPolicy: { allow: ['x'] }, other: {} }, list: [] },
                 models: [], env: 'e' }"#,
            r#"{ agents: { defaults: [] }, models: { providers: [] }, env: { vars: [] } }"#,
            "{}",
        ] {
            let tree = crate::syntax::parse(text).unwrap();
            let value: Value = json5::from_str(text).unwrap();
            assert_eq!(
                OpenClawView::from_tree(text, &tree, ProviderModels::All),
                OpenClawView::from_value(&value),
                "{text}"
            );
        }
    }

    #[test]
    fn a_filtered_view_reads_only_the_entries_asked_for() {
        let text = r#"{ models: { providers: {
            huggingface: { baseUrl: "u", models: [{ id: "a/b" }, { id: "c/d", name: "CD" }, { name: "x" }] },
            other: {},
        } } }"#;
        let tree = crate::syntax::parse(text).unwrap();
        let keep = |id: &str| id == "c/d";
        let view = OpenClawView::from_tree(text, &tree, ProviderModels::Matching(&keep));
        let provider = view.provider.unwrap();
        assert_eq!(provider.base_url.as_deref(), Some("u"));
        assert_eq!(provider.models.len(), 1);
        assert_eq!(provider.models[0].name.as_deref(), Some("CD"));
        assert_eq!(view.providers, ["huggingface", "other"]);
        let skipped = OpenClawView::from_tree(text, &tree, ProviderModels::Skip);
        assert!(skipped.provider.unwrap().models.is_empty());
    }

    #[test]
    fn provider_block_and_env_vars() {
        let v = view(
            r#"{ env: { vars: { HF_TOKEN: "hf_x", N: 1 } },
                models: { providers: { huggingface: {
                  baseUrl: "http://x/v1", headers: { "X-HF-Bill-To": "org" },
                  models: [ { id: "a/b", compat: { x: 1 } }, { name: "no id" } ] } } } }"#,
        );
        assert_eq!(v.env_vars, [("HF_TOKEN".to_owned(), "hf_x".to_owned())]);
        assert_eq!(v.shell_env, ShellEnvConfig::default());
        let p = v.provider.unwrap();
        assert_eq!(p.base_url.as_deref(), Some("http://x/v1"));
        assert_eq!(p.headers, [("X-HF-Bill-To".to_owned(), "org".to_owned())]);
        assert_eq!(p.models.len(), 1);
        assert!(p.models[0].options.contains_key("compat"));
        assert_eq!(v.warnings.len(), 1, "{:?}", v.warnings);
    }

    #[test]
    fn shell_env_enabled_and_timeout() {
        let v = view(r#"{ env: { shellEnv: { enabled: true, timeoutMs: 2500 } } }"#);
        assert_eq!(
            v.shell_env,
            ShellEnvConfig {
                enabled: true,
                timeout_ms: Some(2500)
            }
        );
        assert!(v.warnings.is_empty());
        let v = view(r#"{ env: { shellEnv: { enabled: "yes", timeoutMs: -1 } } }"#);
        assert_eq!(v.shell_env, ShellEnvConfig::default());
        assert_eq!(v.warnings.len(), 2, "{:?}", v.warnings);
    }
}
