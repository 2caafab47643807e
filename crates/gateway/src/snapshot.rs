//! What the gateway serves from: the user's model choices, the merged catalog, the router
//! client and the pre-rendered model list. Built at start and again on reload (by the
//! host, from the config); requests take a cheap snapshot (`Arc`) so a reload never
//! disturbs a request in flight.

use std::collections::HashSet;

use bytes::Bytes;
use hfclaw_catalog::{Catalog, Model};
use hfclaw_model_ref::{ChainError, Lookup, ModelRef, ResolveError, UserModels, Via};
use hfclaw_router_client::RouterClient;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::labels::LabelBook;

pub use hfclaw_model_ref::DEFAULT_MODEL;

/// One snapshot of everything a request needs.
pub struct Snapshot {
    /// The user's model choices: default, fallbacks, aliases, allowlist, providers.
    pub user: UserModels,
    /// The merged catalog (built-in, live or cached, config).
    pub catalog: Catalog,
    /// The router client, with the user's token and provider headers.
    pub client: RouterClient,
    /// `GET /v1/models`, rendered once: the list never changes between reloads.
    pub models_body: Bytes,
    /// The entries of the list by id, for `GET /v1/models/{id}`.
    pub model_entries: Vec<(String, Value)>,
    /// The model and provider names `/metrics` and the status page may show.
    pub(crate) labels: LabelBook,
}

impl Snapshot {
    /// Builds the snapshot and renders the model list.
    pub fn new(user: UserModels, catalog: Catalog, client: RouterClient) -> Snapshot {
        let model_entries = list_entries(&catalog, &user);
        let list = json!({
            "object": "list",
            "data": model_entries.iter().map(|(_, entry)| entry).collect::<Vec<_>>(),
        });
        let models_body = Bytes::from(serde_json::to_vec(&list).unwrap_or_default());
        let configured = user
            .primary
            .iter()
            .chain(&user.fallbacks)
            .chain(&user.allowlist);
        let labels = LabelBook::new(
            configured.chain(user.aliases.iter().map(|(r, _)| r)),
            &catalog,
        );
        Snapshot {
            user,
            catalog,
            client,
            models_body,
            model_entries,
            labels,
        }
    }

    /// The default and the fallbacks the router can serve (Hugging Face refs).
    pub fn configured_chain(&self) -> impl Iterator<Item = &ModelRef> {
        self.user
            .primary
            .iter()
            .chain(&self.user.fallbacks)
            .filter(|r| r.is_huggingface())
    }

    /// One line for the operator: what the gateway serves.
    pub fn summary(&self) -> String {
        let default = self
            .user
            .primary
            .as_ref()
            .map_or_else(|| "none".to_owned(), ModelRef::to_string);
        let mut line = format!(
            "{} models ({}), default {default}",
            self.model_entries.len(),
            if self.catalog.has_live_data() {
                "live data"
            } else {
                "built-in data"
            },
        );
        let fallbacks = self
            .user
            .fallbacks
            .iter()
            .filter(|r| r.is_huggingface())
            .count();
        if fallbacks > 0 {
            line.push_str(&format!(", {fallbacks} fallback(s)"));
        }
        if !self.client.has_token() {
            line.push_str(", no token");
        }
        line
    }

    /// The models to try for a request's `model`, in order: what
    /// [`UserModels::requested`] and [`UserModels::chain`] decide, as the API's errors.
    pub fn chain(
        &self,
        requested: Option<&str>,
        no_fallback: bool,
    ) -> Result<Vec<ModelRef>, ApiError> {
        self.chain_in(requested, no_fallback, &self.catalog)
    }

    /// [`Snapshot::chain`] with another catalog than the router's (embeddings: the Hub's
    /// models, `crate::embeddings`).
    pub fn chain_in(
        &self,
        requested: Option<&str>,
        no_fallback: bool,
        known: &dyn Lookup,
    ) -> Result<Vec<ModelRef>, ApiError> {
        let input = requested.unwrap_or_default();
        let first = self
            .user
            .requested(requested, known)
            .map_err(|e| chain_error(input, e))?;
        for warning in &first.warnings {
            tracing::debug!("model {input:?}: {warning}");
        }
        let chain = self
            .user
            .chain(&first, no_fallback)
            .map_err(|e| chain_error(input, e))?;
        Ok(chain.refs)
    }

    /// True when a request's `model` asks for the configured default: none, `""` or
    /// `"default"` (unless an alias is named `default`): [`UserModels::means_default`].
    pub fn means_default(&self, requested: Option<&str>) -> bool {
        self.user.means_default(requested)
    }

    /// True when `name` is a model name in its own right — `default`, an alias, a
    /// `huggingface/…` ref, a model id the catalog lists (in any letter case), a ref of
    /// a provider the config or OpenClaw has — so no route of client names
    /// (`model_routes`) may take it: whatever the one rule does not call unknown.
    pub fn claims(&self, name: &str) -> bool {
        self.means_default(Some(name)) || self.user.claims(name, &self.catalog)
    }

    /// `GET /v1/models/{id}`: a listed entry, else what `id` resolves to (a bare
    /// `org/model`, an alias in any case) under the name asked for.
    pub fn model_entry(&self, id: &str) -> Result<Value, ApiError> {
        if let Some((_, entry)) = self.model_entries.iter().find(|(e, _)| e == id) {
            return Ok(entry.clone());
        }
        let resolved = self
            .user
            .resolve(id, &self.catalog)
            .map_err(|e| chain_error(id, ChainError::Resolve(e)))?;
        let model_ref = resolved.model_ref;
        if !model_ref.is_huggingface() {
            return Err(chain_error(
                id,
                ChainError::NotHuggingFace(Box::new(model_ref)),
            ));
        }
        // An alias's own entry (it names its target), else the ref's.
        let alias = matches!(resolved.via, Via::Alias(_))
            .then(|| self.user.aliases.alias_of(&model_ref))
            .flatten();
        let listed = alias
            .into_iter()
            .chain([model_ref.as_str()])
            .find_map(|name| self.model_entries.iter().find(|(e, _)| e == name))
            .map(|(_, entry)| entry.clone());
        let mut entry = listed.unwrap_or_else(|| {
            let model = self
                .catalog
                .model_for(&model_ref)
                .unwrap_or_else(|| bare_model(&model_ref));
            model_entry(model_ref.as_str(), &model)
        });
        if let Value::Object(map) = &mut entry {
            map.insert("id".to_owned(), Value::from(id));
        }
        Ok(entry)
    }
}

/// A request's `model` that names nothing the gateway can serve, as the API's error.
fn chain_error(input: &str, error: ChainError) -> ApiError {
    match error {
        ChainError::NoDefault => ApiError::no_default(),
        ChainError::Resolve(ResolveError::CaseMismatch { suggestion, .. }) => {
            ApiError::model_case(input, suggestion.as_str())
        }
        ChainError::Resolve(ResolveError::Unknown { suggestions, .. })
            if suggestions.is_empty() =>
        {
            ApiError::unknown_model(input)
        }
        ChainError::Resolve(e @ ResolveError::Unknown { .. }) => {
            ApiError::unknown_model_near(input, &e.hint())
        }
        ChainError::Resolve(e) => ApiError::bad_model(input, &e.to_string(), &e.hint()),
        ChainError::NotHuggingFace(model_ref) => ApiError::bad_model(
            input,
            &format!("{model_ref} is not a Hugging Face model"),
            "this gateway serves huggingface/… refs, bare org/model ids and your aliases",
        ),
        e => ApiError::bad_model(
            input,
            &e.to_string(),
            "set a Hugging Face default with `hfclaw models set REF`",
        ),
    }
}

/// The entries of `GET /v1/models`: `default`, the aliases, configured refs that are not
/// plain catalog ids (suffixed ones), then every catalog model the router serves.
fn list_entries(catalog: &Catalog, user: &UserModels) -> Vec<(String, Value)> {
    let primary = user.primary.as_ref();
    let (fallbacks, aliases, allowlist) = (&user.fallbacks, &user.aliases, &user.allowlist);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut push = |id: String, entry: Value, out: &mut Vec<(String, Value)>| {
        if seen.insert(id.clone()) {
            out.push((id, entry));
        }
    };
    if let Some(primary) = primary {
        push(
            DEFAULT_MODEL.to_owned(),
            pointer_entry(DEFAULT_MODEL, primary, catalog),
            &mut out,
        );
    }
    for (target, alias) in aliases.iter() {
        if target.is_huggingface() {
            push(
                alias.to_owned(),
                pointer_entry(alias, target, catalog),
                &mut out,
            );
        }
    }
    let configured = primary
        .into_iter()
        .chain(fallbacks.iter())
        .chain(aliases.iter().map(|(r, _)| r))
        .chain(allowlist)
        .filter(|r| r.is_huggingface());
    for model_ref in configured {
        if let Some(model) = catalog.model_for(model_ref) {
            push(
                model_ref.to_string(),
                model_entry(model_ref.as_str(), &model),
                &mut out,
            );
        } else {
            let entry = model_entry(model_ref.as_str(), &bare_model(model_ref));
            push(model_ref.to_string(), entry, &mut out);
        }
    }
    for model in catalog.models() {
        if model.available == Some(false) {
            continue;
        }
        let id = format!("huggingface/{}", model.id);
        let entry = model_entry(&id, model);
        push(id, entry, &mut out);
    }
    out
}

/// An entry standing for another model (`default`, an alias): its metadata plus `target`.
fn pointer_entry(id: &str, target: &ModelRef, catalog: &Catalog) -> Value {
    let model = catalog
        .model_for(target)
        .unwrap_or_else(|| bare_model(target));
    let mut entry = model_entry(id, &model);
    if let Value::Object(map) = &mut entry {
        map.insert("owned_by".to_owned(), Value::from("hfclaw"));
        map.insert("target".to_owned(), Value::from(target.as_str()));
    }
    entry
}

/// A configured ref the catalog does not know: only what the ref itself says.
fn bare_model(model_ref: &ModelRef) -> Model {
    Model {
        owned_by: model_ref.org().map(Into::into),
        ..Model::unknown(
            model_ref.router_model_id().to_owned(),
            model_ref.name().to_owned(),
            hfclaw_catalog::Source::Config,
        )
    }
}

/// OpenAI's model object plus the catalog's metadata.
fn model_entry(id: &str, model: &Model) -> Value {
    let owned_by = model
        .owned_by
        .as_deref()
        .or_else(|| model.id.split_once('/').map(|(org, _)| org))
        .unwrap_or("huggingface");
    let pricing = model
        .cost
        .map(|c| json!({"input": c.input, "output": c.output}));
    let providers: Vec<&str> = model
        .providers
        .iter()
        .filter(|p| p.is_usable())
        .map(|p| p.name.as_str())
        .collect();
    json!({
        "id": id,
        "object": "model",
        // The catalog has no creation dates; 0 says "unknown" in the field's own type.
        "created": 0,
        "owned_by": owned_by,
        "name": model.name,
        "context_window": model.context_window,
        "max_output_tokens": model.max_output_tokens,
        "pricing": pricing,
        "providers": providers,
        "reasoning": model.reasoning,
        "input_modalities": model.input,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use hfclaw_catalog::builtin;
    use hfclaw_model_ref::Aliases;
    use hfclaw_router_client::ClientOptions;

    use super::*;

    fn r(text: &str) -> ModelRef {
        text.parse().unwrap()
    }

    /// A snapshot of the built-in catalog with this default, fallbacks and aliases
    /// (`(target, alias)`).
    pub(crate) fn state(
        primary: Option<&str>,
        fallbacks: &[&str],
        aliases: &[(&str, &str)],
    ) -> Snapshot {
        let catalog = Catalog::merge(builtin::models(), None, &[]);
        let aliases: Aliases = aliases
            .iter()
            .map(|(t, a)| (r(t), (*a).to_owned()))
            .collect();
        let user = UserModels {
            primary: primary.map(r),
            fallbacks: fallbacks.iter().map(|f| r(f)).collect(),
            aliases,
            ..UserModels::default()
        };
        let client = RouterClient::new(ClientOptions::new("http://127.0.0.1:9/v1")).unwrap();
        Snapshot::new(user, catalog, client)
    }

    fn chain(state: &Snapshot, requested: Option<&str>, no_fallback: bool) -> Vec<String> {
        state
            .chain(requested, no_fallback)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    pub(crate) const R1: &str = "huggingface/deepseek-ai/DeepSeek-R1";
    pub(crate) const QWEN: &str = "huggingface/Qwen/Qwen3-8B:cheapest";

    #[test]
    fn default_alias_ref_and_bare_id_get_the_fallbacks() {
        let s = state(Some(R1), &[QWEN], &[(QWEN, "qwen")]);
        for requested in [
            None,
            Some(""),
            Some("default"),
            Some("DEFAULT"),
            Some(R1),
            Some("deepseek-ai/DeepSeek-R1"),
        ] {
            assert_eq!(chain(&s, requested, false), [R1, QWEN], "{requested:?}");
        }
        // The fallback asked for directly is not tried twice.
        assert_eq!(chain(&s, Some("qwen"), false), [QWEN]);
        assert_eq!(chain(&s, Some("default"), true), [R1]);
    }

    #[test]
    fn an_alias_named_default_wins_over_the_primary() {
        let s = state(Some(R1), &[], &[(QWEN, "default")]);
        assert_eq!(chain(&s, Some("default"), false), [QWEN]);
        assert_eq!(chain(&s, None, false), [R1]);
    }

    #[test]
    fn unusable_models_are_client_errors() {
        let s = state(None, &[], &[(QWEN, "q"), (R1, "q")]);
        let status =
            |requested: Option<&str>| s.chain(requested, false).unwrap_err().status.as_u16();
        assert_eq!(status(None), 400);
        assert_eq!(status(Some("gpt-4o")), 404);
        assert_eq!(status(Some("huggingface/deepseek-ai/deepseek-r1")), 404);
        assert_eq!(status(Some("openrouter/a/b")), 400);
        assert_eq!(status(Some("q")), 400);
        assert_eq!(status(Some("huggingface/bad ref")), 400);
        let case = s
            .chain(Some("deepseek-ai/deepseek-r1:groq"), false)
            .unwrap_err();
        assert!(
            case.message
                .contains("huggingface/deepseek-ai/DeepSeek-R1:groq"),
            "{}",
            case.message
        );
    }

    #[test]
    fn the_list_names_default_aliases_and_suffixed_refs_first() {
        let s = state(Some(R1), &[QWEN], &[(QWEN, "qwen")]);
        let ids: Vec<&str> = s.model_entries.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids[..4], ["default", "qwen", R1, QWEN]);
        assert_eq!(ids.iter().filter(|id| **id == R1).count(), 1);
        let qwen = &s.model_entries[1].1;
        assert_eq!(
            (qwen["target"].as_str(), qwen["owned_by"].as_str()),
            (Some(QWEN), Some("hfclaw"))
        );
        assert!(
            s.model_entries
                .iter()
                .all(|(_, e)| e["object"] == "model" && e["created"] == 0)
        );
    }
}
