//! OpenClaw's memory search settings (`memory.search`, OpenClaw 2026.9's
//! `MemorySearchSchema`): read, and pointed at an OpenAI-compatible embeddings endpoint
//! (`provider: "openai-compatible"`, `model`, `remote.baseUrl`, `remote.apiKey`). Only
//! those four keys are written; the user's other settings (`enabled`, `sources`, `query`,
//! `remote.headers` …) stay as they are.

use serde_json::Value;

use super::{Editor, Lookup};
use crate::ConfigError;
use crate::syntax::Kind;

/// OpenClaw's provider id for an OpenAI-compatible embeddings server.
pub const OPENAI_COMPATIBLE: &str = "openai-compatible";

/// What `memory.search` says about where embeddings come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemorySearch {
    /// `provider` (`openai-compatible`, `openai`, `local` …); `None`: OpenClaw's default.
    pub provider: Option<String>,
    /// `model`.
    pub model: Option<String>,
    /// `remote.baseUrl`.
    pub base_url: Option<String>,
    /// `remote.apiKey` when a plain string (a secret reference reads as `None`).
    pub api_key: Option<String>,
    /// `remote.apiKey` is set, whatever its form.
    pub has_api_key: bool,
    /// `enabled: false`.
    pub disabled: bool,
}

impl MemorySearch {
    /// Reads `memory.search` from a config value; absent or odd keys read as unset.
    pub fn of(root: &Value) -> MemorySearch {
        let search = root.pointer("/memory/search");
        let text = |pointer: &str| {
            search
                .and_then(|s| s.pointer(pointer))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let api_key = search.and_then(|s| s.pointer("/remote/apiKey"));
        MemorySearch {
            provider: text("/provider"),
            model: text("/model"),
            base_url: text("/remote/baseUrl"),
            api_key: api_key.and_then(Value::as_str).map(str::to_owned),
            has_api_key: api_key.is_some_and(|k| !k.is_null()),
            disabled: search.and_then(|s| s.get("enabled")) == Some(&Value::Bool(false)),
        }
    }
}

/// Where `memory use` points OpenClaw's memory search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryTarget<'a> {
    /// The embedding model as the endpoint resolves it.
    pub model: &'a str,
    /// The endpoint's OpenAI base URL (`http://127.0.0.1:4000/v1/`).
    pub base_url: &'a str,
    /// The endpoint's client key, if it wants one.
    pub api_key: Option<&'a str>,
}

/// What [`Editor::set_memory_search`] did besides the edit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryEdit {
    /// `remote.apiKey` holds a secret reference (not a string) and was left alone.
    pub kept_secret_ref: bool,
}

impl Editor {
    /// Points `memory.search` at `target`: `provider: "openai-compatible"`, `model`,
    /// `remote.baseUrl`, and `remote.apiKey` when the target has a key (a key that is a
    /// secret reference is kept). Returns whether anything changed.
    pub fn set_memory_search(
        &mut self,
        target: &MemoryTarget<'_>,
    ) -> Result<(bool, MemoryEdit), ConfigError> {
        let search = ["memory", "search"];
        let remote = ["memory", "search", "remote"];
        let mut changed = self.set_string_at(&search, "provider", OPENAI_COMPATIBLE)?;
        changed |= self.set_string_at(&search, "model", target.model)?;
        changed |= self.set_string_at(&remote, "baseUrl", target.base_url)?;
        let mut edit = MemoryEdit::default();
        if let Some(key) = target.api_key {
            let existing = match self.lookup(&remote)? {
                Lookup::Found(object) => self
                    .tree
                    .get(&self.text, object, "apiKey")
                    .map(|node| self.tree.node(node).kind),
                _ => None,
            };
            match existing {
                Some(Kind::String | Kind::Null) | None => {
                    changed |= self.set_string_at(&remote, "apiKey", key)?;
                }
                Some(_) => edit.kept_secret_ref = true,
            }
        }
        Ok((changed, edit))
    }

    /// Sets string `key` of the object at `path` (created as needed) to `value`.
    fn set_string_at(
        &mut self,
        path: &[&str],
        key: &str,
        value: &str,
    ) -> Result<bool, ConfigError> {
        let object = match self.lookup(path)? {
            Lookup::Found(object) => object,
            _ => return self.add_at(path, vec![(key.to_owned(), Value::from(value))]),
        };
        match self.tree.get(&self.text, object, key) {
            None => self.add_members(object, vec![(Some(key.to_owned()), Value::from(value))]),
            Some(node) => match self.tree.node(node).kind {
                Kind::String => self.replace_string(node, value),
                Kind::Null => self.replace_with(node, &Value::from(value)),
                _ => Err(self.wrong_type(&format!("{}.{key}", path.join(".")), "a string")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::Path;

    use super::*;

    fn edit(text: &str, key: Option<&str>) -> (String, bool, MemoryEdit) {
        let mut editor = Editor::new(Path::new("openclaw.json"), text).unwrap();
        let target = MemoryTarget {
            model: "huggingface/BAAI/bge-m3",
            base_url: "http://127.0.0.1:4000/v1/",
            api_key: key,
        };
        let (changed, memory) = editor.set_memory_search(&target).unwrap();
        (editor.text(), changed, memory)
    }

    #[test]
    fn memory_search_is_written_into_a_json5_config_keeping_everything_else() {
        let text = "// my config\n{\n  agents: { defaults: { model: 'huggingface/x/y' } },\n  memory: {\n    citations: 'on', // keep\n    search: { enabled: true, sources: ['memory'] },\n  },\n}\n";
        let (out, changed, _) = edit(text, Some("sk-gw"));
        assert!(changed);
        assert!(out.starts_with("// my config\n{\n  agents: { defaults: { model: 'huggingface/x/y' } },\n  memory: {\n    citations: 'on', // keep\n"), "{out}");
        let value: Value = json5::from_str(&out).unwrap();
        assert_eq!(
            value["memory"]["search"],
            serde_json::json!({"enabled": true, "sources": ["memory"],
                "provider": "openai-compatible", "model": "huggingface/BAAI/bge-m3",
                "remote": {"baseUrl": "http://127.0.0.1:4000/v1/", "apiKey": "sk-gw"}})
        );
        // Again: nothing to do.
        let (again, changed, _) = edit(&out, Some("sk-gw"));
        assert!(!changed);
        assert_eq!(again, out);
        let search = MemorySearch::of(&value);
        assert_eq!(search.provider.as_deref(), Some("openai-compatible"));
        assert_eq!(search.api_key.as_deref(), Some("sk-gw"));
    }

    #[test]
    fn an_empty_config_gets_the_block_and_other_settings_are_replaced_in_place() {
        let (out, _, _) = edit("", None);
        let value: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"memory": {"search": {"provider": "openai-compatible",
                "model": "huggingface/BAAI/bge-m3",
                "remote": {"baseUrl": "http://127.0.0.1:4000/v1/"}}}})
        );
        let before = r#"{"memory": {"search": {"provider": "openai", "model": "text-embedding-3-small", "remote": {"apiKey": {"source": "env", "id": "OPENAI_API_KEY"}, "headers": {"X-A": "b"}}}}}"#;
        let (out, changed, memory) = edit(before, Some("sk-gw"));
        assert!(changed && memory.kept_secret_ref);
        let value: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["memory"]["search"]["provider"], "openai-compatible");
        assert_eq!(value["memory"]["search"]["remote"]["headers"]["X-A"], "b");
        assert_eq!(
            value["memory"]["search"]["remote"]["apiKey"]["source"],
            "env"
        );
        assert!(MemorySearch::of(&value).has_api_key);
    }
}
