//! One test per merge and listing rule of SPEC §2, named after the rule.
#![allow(clippy::unwrap_used)]

use hfclaw_model_ref::{Aliases, ModelRef};

use crate::listing::{Filter, Selection, Tag, rows};
use crate::*;

const SEED_IDS: [&str; 10] = [
    "deepseek-ai/DeepSeek-R1",
    "deepseek-ai/DeepSeek-V3.2",
    "Qwen/Qwen3-8B",
    "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen3-32B",
    "meta-llama/Llama-3.3-70B-Instruct",
    "meta-llama/Llama-3.1-8B-Instruct",
    "openai/gpt-oss-120b",
    "zai-org/GLM-4.7",
    "moonshotai/Kimi-K2.5",
];

fn live(body: &str) -> Vec<LiveModel> {
    let got = parse_model_list(body.as_bytes()).unwrap();
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
    got.models
}

fn r(s: &str) -> ModelRef {
    s.parse().unwrap()
}

fn fixture_catalog() -> Catalog {
    let body = include_bytes!("../tests/fixtures/router-models-synthetic.json");
    let models = parse_model_list(body).unwrap().models;
    Catalog::merge(builtin::models(), Some(models.clone()), &[])
}

#[test]
fn builtin_holds_the_ten_seed_models_with_limits_and_prices() {
    let catalog = Catalog::merge(builtin::models(), None, &[]);
    for id in SEED_IDS {
        let m = catalog.get(id).unwrap_or_else(|| panic!("{id} missing"));
        assert!(m.context_window.is_some(), "{id} context");
        assert!(m.max_output_tokens.is_some(), "{id} max output");
        assert!(m.cost.is_some(), "{id} cost");
        assert_eq!(m.source, Source::BuiltIn);
    }
    assert_eq!(
        catalog.get("openai/gpt-oss-120b").unwrap().name,
        "GPT-OSS 120B"
    );
    assert!(!catalog.has_live_data());
}

#[test]
fn builtin_is_the_real_dated_snapshot() {
    assert_eq!(builtin::AS_OF, "2026-07-27");
    assert!(builtin::ORIGIN.contains("GET https://router.huggingface.co/v1/models"));
    assert!(builtin::SNAPSHOT_SOURCE.contains("sha256:"));
    let models = builtin::models();
    assert_eq!(
        models.len(),
        129,
        "every model of the snapshot has a live offering"
    );
    let oss = models
        .iter()
        .find(|m| m.id == "openai/gpt-oss-120b")
        .unwrap();
    assert_eq!(oss.providers.len(), 10);
    assert_eq!(
        oss.cost,
        Some(Cost::new(0.15, 0.75)),
        "no throughput in the snapshot: a bare ref's provider is unknown, so the highest live price"
    );
    assert_eq!(oss.context_window, Some(131_072));
    let r1 = models
        .iter()
        .find(|m| m.id == "deepseek-ai/DeepSeek-R1")
        .unwrap();
    assert_eq!(r1.context_window, Some(64_000), "novita alone serves it");
}

#[test]
fn live_context_is_the_minimum_over_usable_providers() {
    let models = live(
        r#"{"data":[{"id":"a/m","providers":[
        {"provider":"x","status":"live","context_length":131072},
        {"provider":"y","status":"staging","context_length":32768},
        {"provider":"z","status":"error","context_length":4096},
        {"provider":"w","status":"live"}]}]}"#,
    );
    let catalog = Catalog::merge(Vec::new(), Some(models.clone()), &[]);
    assert_eq!(catalog.get("a/m").unwrap().context_window, Some(32768));
}

#[test]
fn a_models_price_is_what_a_bare_ref_reaches() {
    // Staging and error providers never set the price, however cheap.
    let catalog = fixture_catalog();
    let v31 = catalog.get("deepseek-ai/DeepSeek-V3.1").unwrap();
    assert_eq!(v31.cost, Some(Cost::new(0.56, 1.68)));
    // fireworks-ai has the highest throughput: a bare ref goes there.
    let r1 = catalog.get("deepseek-ai/DeepSeek-R1").unwrap();
    assert_eq!(r1.cost, Some(Cost::new(3.0, 8.0)));
    assert_eq!(r1.context_window, Some(64000));
}

#[test]
fn provider_suffix_uses_that_providers_values() {
    let catalog = fixture_catalog();
    let pinned = catalog
        .model_for(&r("huggingface/deepseek-ai/DeepSeek-R1:together"))
        .unwrap();
    assert_eq!(pinned.id, "deepseek-ai/DeepSeek-R1:together");
    assert_eq!(pinned.context_window, Some(163840));
    assert_eq!(pinned.cost, Some(Cost::new(3.0, 7.0)));
    assert_eq!(pinned.available, Some(true));
    let missing = catalog
        .model_for(&r("huggingface/deepseek-ai/DeepSeek-R1:groq"))
        .unwrap();
    assert_eq!(missing.available, Some(false));
}

#[test]
fn cheapest_is_priced_at_the_cheapest_and_a_bare_ref_where_it_goes() {
    let catalog = fixture_catalog();
    let priced = |suffix: &str| {
        let m = catalog
            .model_for(&r(&format!("huggingface/Qwen/Qwen3-32B{suffix}")))
            .unwrap();
        assert_eq!(m.context_window, Some(32768), "{suffix}");
        m.cost
    };
    assert_eq!(priced(":cheapest"), Some(Cost::new(0.1, 0.3)));
    assert_eq!(priced(""), Some(Cost::new(0.4, 0.8)));
    let reach = catalog
        .reach(&r("huggingface/Qwen/Qwen3-32B:preferred"))
        .unwrap();
    assert!(reach.price.range().is_some(), "{reach:?}");
}

#[test]
fn fastest_suffix_uses_the_highest_throughput_live_provider_price() {
    let catalog = fixture_catalog();
    let m = catalog
        .model_for(&r("huggingface/deepseek-ai/DeepSeek-R1:fastest"))
        .unwrap();
    // fireworks-ai has the highest throughput in the fixture.
    assert_eq!(m.cost, Some(Cost::new(3.0, 8.0)));
}

#[test]
fn reasoning_comes_from_data_never_from_the_name() {
    let models =
        live(r#"{"data":[{"id":"x/Thinker-R1-Reasoning"},{"id":"x/Plain","reasoning":true}]}"#);
    let catalog = Catalog::merge(Vec::new(), Some(models.clone()), &[]);
    assert!(!catalog.get("x/Thinker-R1-Reasoning").unwrap().reasoning);
    assert!(catalog.get("x/Plain").unwrap().reasoning);
    // Without an API flag, the built-in flag stays.
    assert!(
        fixture_catalog()
            .get("deepseek-ai/DeepSeek-R1")
            .unwrap()
            .reasoning
    );
}

#[test]
fn name_prefers_api_then_builtin_then_derived() {
    let catalog = fixture_catalog();
    assert_eq!(
        catalog.get("google/gemma-3-27b-it").unwrap().name,
        "Gemma 3 27B IT"
    );
    assert_eq!(
        catalog
            .get("mistralai/Mistral-Small-3.2-24B-Instruct-2506")
            .unwrap()
            .name,
        "Mistral Small 3.2"
    );
    assert_eq!(
        catalog.get("openai/gpt-oss-120b").unwrap().name,
        "GPT-OSS 120B"
    );
    assert_eq!(
        catalog.get("example-org/No-Providers-1B").unwrap().name,
        "No Providers 1B"
    );
}

#[test]
fn builtin_fills_what_the_api_lacks() {
    let catalog = fixture_catalog();
    let m = catalog.get("deepseek-ai/DeepSeek-R1").unwrap();
    assert_eq!(m.max_output_tokens, Some(8192));
    assert_eq!(m.source, Source::Live);
}

#[test]
fn availability_follows_live_data() {
    let models = live(
        r#"{"data":[{"id":"Qwen/Qwen3-8B","providers":[{"provider":"p","status":"error"}]}]}"#,
    );
    let catalog = Catalog::merge(builtin::models(), Some(models.clone()), &[]);
    assert_eq!(catalog.get("Qwen/Qwen3-8B").unwrap().available, Some(false));
    assert_eq!(
        catalog.get("deepseek-ai/DeepSeek-R1").unwrap().available,
        Some(false)
    );
    let offline = Catalog::merge(builtin::models(), None, &[]);
    assert_eq!(
        offline.get("deepseek-ai/DeepSeek-R1").unwrap().available,
        None
    );
}

#[test]
fn config_entries_win_for_every_field_they_set() {
    let entry: ConfigModel = serde_json::from_str(
        r#"{"id":"deepseek-ai/DeepSeek-R1","name":"My R1","contextWindow":1000,
            "cost":{"output":9},"compat":{"supportsTools":false}}"#,
    )
    .unwrap();
    let catalog = Catalog::merge(builtin::models(), None, &[entry]);
    let m = catalog.get("deepseek-ai/DeepSeek-R1").unwrap();
    assert_eq!(m.name, "My R1");
    assert_eq!(m.context_window, Some(1000));
    assert_eq!(
        m.max_output_tokens,
        Some(8192),
        "unset field filled from built-in"
    );
    let builtin_input = Catalog::merge(builtin::models(), None, &[])
        .get("deepseek-ai/DeepSeek-R1")
        .unwrap()
        .cost
        .unwrap()
        .input;
    assert_eq!(m.cost.unwrap().output, 9.0);
    assert_eq!(m.cost.unwrap().input, builtin_input);
    assert!(m.reasoning);
    assert_eq!(m.source, Source::Config);
    assert_eq!(m.options["compat"]["supportsTools"], false);
}

#[test]
fn config_entry_with_suffix_is_its_own_entry() {
    let entry = ConfigModel {
        id: "deepseek-ai/DeepSeek-R1:together".to_owned(),
        name: Some("R1 (Together)".to_owned()),
        ..ConfigModel::default()
    };
    let catalog = fixture_catalog_with(&[entry]);
    let pinned = catalog.get("deepseek-ai/DeepSeek-R1:together").unwrap();
    assert_eq!(pinned.name, "R1 (Together)");
    assert_eq!(pinned.context_window, Some(163840));
    assert!(catalog.get("deepseek-ai/DeepSeek-R1").is_some());
    let via_ref = catalog
        .model_for(&r("huggingface/deepseek-ai/DeepSeek-R1:together"))
        .unwrap();
    assert_eq!(via_ref.name, "R1 (Together)");
}

fn fixture_catalog_with(config: &[ConfigModel]) -> Catalog {
    let body = include_bytes!("../tests/fixtures/router-models-synthetic.json");
    let models = parse_model_list(body).unwrap().models;
    Catalog::merge(builtin::models(), Some(models.clone()), config)
}

#[test]
fn merge_dedups_by_exact_id_in_stable_order() {
    let entries: Vec<ConfigModel> = ["zai-org/GLM-4.7", "Qwen/Qwen3-8B", "zai-org/GLM-4.7"]
        .iter()
        .map(|id| ConfigModel {
            id: (*id).to_owned(),
            ..ConfigModel::default()
        })
        .collect();
    let catalog = fixture_catalog_with(&entries);
    let ids: Vec<&str> = catalog.models().iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        &ids[..3],
        [
            "zai-org/GLM-4.7",
            "Qwen/Qwen3-8B",
            "aisingapore/Gemma-SEA-LION-v4-27B-IT"
        ]
    );
    assert_eq!(ids.iter().filter(|id| **id == "zai-org/GLM-4.7").count(), 1);
    assert_eq!(
        catalog.warnings(),
        ["duplicate config entry \"zai-org/GLM-4.7\" ignored"]
    );
    let rest: Vec<String> = ids[2..].iter().map(|s| s.to_lowercase()).collect();
    let mut sorted = rest.clone();
    sorted.sort();
    assert_eq!(rest, sorted, "catalog part sorted by id, ignoring case");
}

#[test]
fn bad_config_ids_are_skipped_with_a_warning() {
    let entry = ConfigModel {
        id: "not a model".to_owned(),
        ..ConfigModel::default()
    };
    let catalog = Catalog::merge(builtin::models(), None, &[entry]);
    assert!(catalog.get("not a model").is_none());
    assert_eq!(catalog.warnings().len(), 1);
}

#[test]
fn the_catalog_answers_resolution_lookups() {
    use hfclaw_model_ref::Lookup;
    let offline = Catalog::merge(builtin::models(), None, &[]);
    assert!(!offline.live());
    assert_eq!(
        offline.listed_ignoring_case("qwen/qwen3-8b").as_deref(),
        Some("Qwen/Qwen3-8B")
    );
    assert_eq!(offline.listed_ignoring_case("qwen/qwen3-9b"), None);
    let live = fixture_catalog();
    assert!(live.live());
    assert!(
        live.providers("Qwen/Qwen3-8B")
            .is_some_and(|p| !p.is_empty())
    );
    assert_eq!(live.providers("nobody/nothing"), None);
}

#[test]
fn sync_entries_carry_only_openclaw_fields() {
    let m = fixture_catalog()
        .get("deepseek-ai/DeepSeek-R1")
        .unwrap()
        .to_config_entry();
    let json = serde_json::to_value(&m).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "contextWindow",
            "maxTokens",
            "cost",
            "reasoning",
            "input"
        ]
    );
    assert_eq!(
        json["cost"],
        serde_json::json!({"input":3.0,"output":8.0,"cacheRead":0.0,"cacheWrite":0.0})
    );
}

struct User {
    primary: Option<ModelRef>,
    fallbacks: Vec<ModelRef>,
    aliases: Aliases,
    allowlist: Vec<ModelRef>,
}

impl User {
    fn seed3() -> User {
        let aliases: Aliases = [
            (
                r("huggingface/deepseek-ai/DeepSeek-R1"),
                "DeepSeek R1 (mine)".to_owned(),
            ),
            (r("huggingface/Qwen/Qwen3-8B"), "Qwen3 8B".to_owned()),
        ]
        .into_iter()
        .collect();
        User {
            primary: Some(r("huggingface/deepseek-ai/DeepSeek-R1")),
            fallbacks: vec![
                r("huggingface/Qwen/Qwen3-8B"),
                r("huggingface/example/Gone"),
            ],
            allowlist: aliases.iter().map(|(r, _)| r.clone()).collect(),
            aliases,
        }
    }

    fn selection(&self) -> Selection<'_> {
        Selection {
            primary: self.primary.as_ref(),
            fallbacks: &self.fallbacks,
            aliases: &self.aliases,
            allowlist: &self.allowlist,
        }
    }
}

#[test]
fn listing_puts_the_users_refs_first_with_tags() {
    let user = User::seed3();
    let catalog = fixture_catalog();
    let got = rows(&catalog, &user.selection(), &Filter::default());
    let head: Vec<(&str, String)> = got[..3]
        .iter()
        .map(|r| {
            let tags: Vec<String> = r.tags.iter().map(ToString::to_string).collect();
            (r.model_ref.as_ref(), tags.join(","))
        })
        .collect();
    assert_eq!(
        head,
        [
            (
                "huggingface/deepseek-ai/DeepSeek-R1",
                "default,alias,configured".to_owned()
            ),
            (
                "huggingface/Qwen/Qwen3-8B",
                "fallback#1,alias,configured".to_owned()
            ),
            ("huggingface/example/Gone", "fallback#2,unknown".to_owned()),
        ]
    );
    assert_eq!(
        got[0].name, "DeepSeek R1 (mine)",
        "an alias overrides the name"
    );
}

#[test]
fn listing_hides_unserved_models_unless_all() {
    let user = User::seed3();
    let catalog = fixture_catalog();
    let ids = |f: &Filter| -> Vec<String> {
        rows(&catalog, &user.selection(), f)
            .into_iter()
            .map(|r| r.id.into_owned())
            .collect()
    };
    assert!(!ids(&Filter::default()).contains(&"example-org/No-Providers-1B".to_owned()));
    let all = Filter {
        all: true,
        ..Filter::default()
    };
    assert!(ids(&all).contains(&"example-org/No-Providers-1B".to_owned()));
}

#[test]
fn listing_filters_by_search_provider_and_reasoning() {
    let user = User::seed3();
    let catalog = fixture_catalog();
    let ids = |f: Filter| -> Vec<String> {
        rows(&catalog, &user.selection(), &f)
            .into_iter()
            .map(|r| r.id.into_owned())
            .collect()
    };
    assert_eq!(
        ids(Filter {
            search: Some("MINE".to_owned()),
            ..Filter::default()
        }),
        ["deepseek-ai/DeepSeek-R1"]
    );
    assert_eq!(
        ids(Filter {
            provider: Some("sambanova".to_owned()),
            ..Filter::default()
        }),
        [
            "meta-llama/Llama-3.3-70B-Instruct",
            "meta-llama/Llama-4-Scout-17B-16E-Instruct"
        ]
    );
    let reasoning = ids(Filter {
        reasoning: true,
        ..Filter::default()
    });
    assert!(reasoning.contains(&"openai/gpt-oss-120b".to_owned()));
    assert!(!reasoning.contains(&"meta-llama/Llama-3.3-70B-Instruct".to_owned()));
}

#[test]
fn listing_of_a_pinned_ref_shows_only_that_provider() {
    let pinned = r("huggingface/deepseek-ai/DeepSeek-R1:novita");
    let aliases = Aliases::new();
    let selection = Selection {
        primary: Some(&pinned),
        fallbacks: &[],
        aliases: &aliases,
        allowlist: &[],
    };
    let catalog = fixture_catalog();
    let got = rows(&catalog, &selection, &Filter::default());
    assert_eq!(got[0].providers, ["novita"]);
    assert_eq!(got[0].context_window, Some(64000));
    assert_eq!(*got[0].tags, [Tag::Default]);
}
