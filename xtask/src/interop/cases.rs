//! The cases: configs OpenClaw must load (or refuse), and what it must report for them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::hfclaw_configs::hfclaw_cases;
use crate::Result;

/// One config OpenClaw must load (or refuse), plus state files to put beside it.
pub(crate) struct Case {
    pub(super) name: String,
    pub(super) config: PathBuf,
    /// `(path relative to the state dir, source file)`, e.g. `.env` or the agent's
    /// `agents/main/agent/models.json`.
    pub(super) state_files: Vec<(PathBuf, PathBuf)>,
    pub(super) expect: Expect,
}

/// What OpenClaw must make of a [`Case`].
pub(crate) enum Expect {
    /// Loads the config and reports exactly these models.
    Loads(Expected),
    /// Refuses the config with `- {at}: Unrecognized key: "{key}"`.
    RejectsKey { at: String, key: String },
    /// Loads the config but ignores the agent's `models.json` as invalid (OpenClaw only
    /// warns on stderr and still exits 0, so a bad `models.json` is easy to miss).
    IgnoresModelsJson { at: String },
}

/// What `openclaw models status --json` must report for a config that loads.
pub(crate) struct Expected {
    /// `None` when the config sets no primary: OpenClaw then reports its own built-in
    /// default (`openai/…`), which is not ours to pin.
    pub primary: Option<String>,
    pub fallbacks: Vec<String>,
    /// alias -> ref
    pub aliases: BTreeMap<String, String>,
    /// Sorted "Allowed models"; `None` skips the check (e.g. wildcard policies).
    pub allowed: Option<Vec<String>>,
    /// How OpenClaw says it finds the huggingface credential (`"env"` once a `.env`
    /// holds `HF_TOKEN`); `None` skips the check.
    pub hf_auth: Option<String>,
}

impl Case {
    /// A config OpenClaw must load, reporting `expected`.
    ///
    /// Configs written by the `hfclaw` binary come from [`hfclaw_cases`].
    /// [`Expected::from_config`] reads the expectation back from a file when the
    /// command's intent is already checked elsewhere; spell `Expected` out when the point
    /// is what the command wrote.
    pub(crate) fn loads(name: impl Into<String>, config: PathBuf, expected: Expected) -> Self {
        Self {
            name: name.into(),
            config,
            state_files: Vec::new(),
            expect: Expect::Loads(expected),
        }
    }

    /// A config OpenClaw must refuse because of one unknown `key` in the object at `at`
    /// (OpenClaw's path syntax: `models.providers.huggingface.models[0]`).
    pub(crate) fn rejects_key(
        name: impl Into<String>,
        config: PathBuf,
        at: &str,
        key: &str,
    ) -> Self {
        Self {
            name: name.into(),
            config,
            state_files: Vec::new(),
            expect: Expect::RejectsKey {
                at: at.to_owned(),
                key: key.to_owned(),
            },
        }
    }

    /// Copies `source` to `relative` under the state dir before running.
    pub(super) fn with_state_file(mut self, relative: &str, source: PathBuf) -> Self {
        self.state_files.push((PathBuf::from(relative), source));
        self
    }
}

/// Where OpenClaw looks for the default agent's provider file inside the state dir.
pub(super) const MODELS_JSON: &str = "agents/main/agent/models.json";

/// The cases, in print order. Generated inputs go to `scratch`.
pub(super) fn cases(root: &Path, scratch: &Path) -> Result<Vec<Case>> {
    let seeds = root.join("tests/fixtures/seed-configs");
    let own = root.join("tests/fixtures/interop");
    let mut cases = Vec::new();

    let mut seed_files: Vec<PathBuf> = fs::read_dir(&seeds)
        .map_err(|e| format!("{}: {e}", seeds.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    seed_files.retain(|p| p.extension().is_some_and(|ext| ext == "json5"));
    seed_files.sort();
    for path in seed_files {
        let name = format!("seed {}", file_stem(&path));
        cases.push(Case::loads(
            name,
            path.clone(),
            Expected::from_config(&path)?,
        ));
    }

    for stem in ["full-provider", "migrated-model-policy"] {
        let path = own.join(format!("{stem}.json5"));
        cases.push(Case::loads(
            stem,
            path.clone(),
            Expected::from_config(&path)?,
        ));
    }

    // The README's OpenClaw recipe for `hfclaw serve` (a provider block whose baseUrl is
    // the gateway); the agent cases also run `openclaw agent exec` on it.
    let gateway = own.join("gateway-provider.json5");
    cases.push(Case::loads(
        "OpenClaw recipe: provider hfclaw → hfclaw serve",
        gateway.clone(),
        Expected::from_config(&gateway)?,
    ));

    // A token in the state dir's `.env` is how hfclaw onboard hands the key to OpenClaw.
    let seed3 = seeds.join("3-primary-with-fallback.json5");
    let mut expected = Expected::from_config(&seed3)?;
    expected.hf_auth = Some("env".to_owned());
    cases.push(
        Case::loads("seed 3 + state .env with HF_TOKEN", seed3.clone(), expected)
            .with_state_file(".env", own.join("state.env")),
    );

    cases.push(
        Case::loads(
            "seed 3 + agent models.json",
            seed3.clone(),
            Expected::from_config(&seed3)?,
        )
        .with_state_file(MODELS_JSON, own.join("models.json")),
    );

    // Negative: the valid full config plus one key OpenClaw lacks, inside a provider
    // model entry (where a careless writer would put hfclaw's own metadata). Deriving it
    // from a passing config proves the key alone causes the refusal.
    let bad = scratch.join("unknown-key-in-model-entry.json");
    let mut config = read_json5(&own.join("full-provider.json5"))?;
    let entry = config
        .pointer_mut("/models/providers/huggingface/models/0")
        .and_then(Value::as_object_mut)
        .ok_or("full-provider.json5 has no models.providers.huggingface.models[0]")?;
    entry.insert("hfclawSource".to_owned(), Value::from("catalog"));
    fs::write(&bad, serde_json::to_string_pretty(&config)?)?;
    cases.push(Case::rejects_key(
        "reject: unknown key in a provider model entry",
        bad,
        "models.providers.huggingface.models[0]",
        "hfclawSource",
    ));

    // Negative for models.json: its schema is lax about unknown keys but requires all four
    // cost fields once `cost` is present.
    let bad_models = scratch.join("models-partial-cost.json");
    let mut models = read_json5(&own.join("models.json"))?;
    let cost = models
        .pointer_mut("/providers/huggingface/models/0/cost")
        .and_then(Value::as_object_mut)
        .ok_or("models.json has no providers.huggingface.models[0].cost")?;
    cost.remove("cacheRead");
    cost.remove("cacheWrite");
    fs::write(&bad_models, serde_json::to_string_pretty(&models)?)?;
    cases.push(Case {
        name: "reject: models.json cost without cacheRead".to_owned(),
        config: seed3,
        state_files: vec![(PathBuf::from(MODELS_JSON), bad_models)],
        expect: Expect::IgnoresModelsJson {
            at: "providers.huggingface.models.0.cost".to_owned(),
        },
    });

    cases.extend(hfclaw_cases(root, scratch)?);
    Ok(cases)
}

pub(super) fn refs(list: &[&str]) -> Vec<String> {
    list.iter().map(|r| (*r).to_owned()).collect()
}

pub(super) fn aliases(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(alias, target)| ((*alias).to_owned(), (*target).to_owned()))
        .collect()
}

/// An expected "Allowed models" list, sorted as `check_loads` compares it.
pub(super) fn allowlist(list: &[&str]) -> Option<Vec<String>> {
    let mut allowed = refs(list);
    allowed.sort();
    Some(allowed)
}

impl Expected {
    /// Reads what OpenClaw should report straight from the config, following OpenClaw's
    /// rules (see NOTES.md "models status"): `model` may be a string or
    /// `{primary, fallbacks}`; aliases come from `agents.defaults.models[ref].alias`; the
    /// allowlist is `modelPolicy.allow` if present, else (before OpenClaw's allowlist
    /// migration) the keys of `agents.defaults.models`, else everything.
    pub(crate) fn from_config(path: &Path) -> Result<Self> {
        Ok(Self::from_value(&read_json5(path)?))
    }

    fn from_value(config: &Value) -> Self {
        let defaults = config.pointer("/agents/defaults");
        let model = defaults.and_then(|d| d.get("model"));
        let (primary, fallbacks) = match model {
            Some(Value::String(s)) => (Some(s.clone()), Vec::new()),
            Some(Value::Object(m)) => (
                m.get("primary").and_then(Value::as_str).map(str::to_owned),
                strings(m.get("fallbacks")),
            ),
            _ => (None, Vec::new()),
        };
        let models = defaults
            .and_then(|d| d.get("models"))
            .and_then(Value::as_object);
        let aliases = models
            .into_iter()
            .flatten()
            .filter_map(|(model_ref, entry)| {
                let alias = entry.get("alias")?.as_str()?.trim();
                (!alias.is_empty()).then(|| (alias.to_owned(), model_ref.clone()))
            })
            .collect();
        let policy = defaults.and_then(|d| d.get("modelPolicy"));
        let migrated =
            config.pointer("/meta/migrations/modelPolicyAllowlist") == Some(&Value::Bool(true));
        let mut allowed = match policy {
            Some(p) if p.get("allow").is_some() => strings(p.get("allow")),
            Some(_) => Vec::new(),
            None if migrated => Vec::new(),
            None => models
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .filter(|k| !k.trim().is_empty())
                .collect(),
        };
        allowed.sort();
        allowed.dedup();
        // Wildcard policies expand against OpenClaw's catalog; not worth mirroring here.
        let allowed = (!allowed.iter().any(|r| r.contains('*'))).then_some(allowed);
        Self {
            primary,
            fallbacks,
            aliases,
            allowed,
            hf_auth: None,
        }
    }
}

pub(super) fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

pub(super) fn read_json5(path: &Path) -> Result<Value> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    json5::from_str(&text).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn expected(json5: &str) -> Expected {
        Expected::from_value(&json5::from_str(json5).unwrap())
    }

    #[test]
    fn model_may_be_a_plain_string() {
        let e = expected(r#"{ agents: { defaults: { model: "huggingface/a/b" } } }"#);
        assert_eq!(e.primary.as_deref(), Some("huggingface/a/b"));
        assert!(e.fallbacks.is_empty());
        assert_eq!(e.allowed, Some(vec![]));
    }

    #[test]
    fn legacy_allowlist_is_the_model_map_keys_sorted() {
        let e = expected(
            r#"{ agents: { defaults: {
                model: { primary: "huggingface/z/z", fallbacks: ["huggingface/a/a"] },
                models: { "huggingface/z/z": { alias: " Z " }, "huggingface/a/a": {} },
            } } }"#,
        );
        assert_eq!(e.fallbacks, ["huggingface/a/a"]);
        assert_eq!(
            e.aliases,
            BTreeMap::from([("Z".to_owned(), "huggingface/z/z".to_owned())])
        );
        assert_eq!(
            e.allowed,
            Some(vec![
                "huggingface/a/a".to_owned(),
                "huggingface/z/z".to_owned()
            ])
        );
    }

    #[test]
    fn migrated_allowlist_is_model_policy_allow() {
        let with_policy = expected(
            r#"{ meta: { migrations: { modelPolicyAllowlist: true } },
                 agents: { defaults: { models: { "huggingface/x/x": {} },
                                       modelPolicy: { allow: ["huggingface/y/y"] } } } }"#,
        );
        assert_eq!(
            with_policy.allowed,
            Some(vec!["huggingface/y/y".to_owned()])
        );
        let marker_only = expected(
            r#"{ meta: { migrations: { modelPolicyAllowlist: true } },
                 agents: { defaults: { models: { "huggingface/x/x": {} } } } }"#,
        );
        assert_eq!(marker_only.allowed, Some(vec![]));
    }

    #[test]
    fn wildcard_policy_skips_the_allowlist_check() {
        let e =
            expected(r#"{ agents: { defaults: { modelPolicy: { allow: ["huggingface/*"] } } } }"#);
        assert_eq!(e.allowed, None);
    }
}
