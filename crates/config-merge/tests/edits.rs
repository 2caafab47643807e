//! Format-preserving edits, snapshot-tested on oddly formatted, commented configs.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use hfclaw_catalog::{ConfigCost, ConfigModel};
use hfclaw_config_merge::{ConfigError, Editor};

const COMMENTED: &str = include_str!("fixtures/commented.json5");
const TABS: &str = include_str!("fixtures/tabs.json");

fn edit(text: &str, f: impl FnOnce(&mut Editor) -> Result<(), ConfigError>) -> String {
    let mut editor = Editor::new(Path::new("openclaw.json"), text).unwrap();
    f(&mut editor).unwrap();
    let out = editor.text();
    json5::from_str::<serde_json::Value>(&out).expect("edited text must stay valid JSON5");
    out
}

/// Every comment of the input is still in the output.
fn assert_comments_kept(input: &str, output: &str) {
    for comment in [
        "Do not lose this comment.",
        "// which model the agent uses",
        "// reasoning first",
        "// cheap",
        "/* allowlisted, no alias */",
        "// not ours",
        "// my own limits win",
    ] {
        if input.contains(comment) {
            assert!(output.contains(comment), "lost {comment:?}:\n{output}");
        }
    }
}

#[test]
fn set_primary_changes_only_that_value() {
    let out = edit(COMMENTED, |e| {
        e.set_primary("huggingface/Qwen/Qwen3-32B").map(drop)
    });
    assert_comments_kept(COMMENTED, &out);
    let changed: Vec<(&str, &str)> = COMMENTED
        .lines()
        .zip(out.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        [(
            "                primary: 'huggingface/deepseek-ai/DeepSeek-R1', // reasoning first",
            "                primary: 'huggingface/Qwen/Qwen3-32B', // reasoning first"
        )]
    );
}

#[test]
fn fallbacks_add_remove_clear() {
    let added = edit(COMMENTED, |e| {
        e.add_fallback("huggingface/openai/gpt-oss-120b")?;
        e.allow("huggingface/openai/gpt-oss-120b").map(drop)
    });
    assert_comments_kept(COMMENTED, &added);
    insta::assert_snapshot!("fallback_added", added);
    let removed = edit(&added, |e| {
        e.remove_fallback("huggingface/Qwen/Qwen3-8B").map(drop)
    });
    insta::assert_snapshot!("fallback_removed", removed);
    let cleared = edit(&removed, |e| e.clear_fallbacks().map(drop));
    let value: serde_json::Value = json5::from_str(&cleared).unwrap();
    assert_eq!(
        value["agents"]["defaults"]["model"]["fallbacks"],
        serde_json::json!([])
    );
    // The comment on the removed fallback goes with it; every other one stays.
    assert_comments_kept(&COMMENTED.replace("// cheap", ""), &cleared);
}

#[test]
fn aliases_set_and_remove_keep_the_entry() {
    let out = edit(COMMENTED, |e| {
        e.set_alias("huggingface/Qwen/Qwen3-8B", "Qwen3 8B")?;
        e.set_alias("huggingface/deepseek-ai/DeepSeek-R1", "DeepSeek")?;
        e.set_alias("huggingface/zai-org/GLM-4.7", "GLM").map(drop)
    });
    assert_comments_kept(COMMENTED, &out);
    insta::assert_snapshot!("aliases_set", out);
    let removed = edit(&out, |e| {
        e.remove_alias("huggingface/deepseek-ai/DeepSeek-R1")
            .map(drop)
    });
    assert!(
        removed.contains("'huggingface/deepseek-ai/DeepSeek-R1': {"),
        "{removed}"
    );
    assert!(!removed.contains("DeepSeek'"), "{removed}");
}

fn catalog_entry(id: &str, name: &str) -> ConfigModel {
    ConfigModel {
        id: id.to_owned(),
        name: Some(name.to_owned()),
        context_window: Some(131072),
        max_tokens: Some(8192),
        cost: Some(ConfigCost {
            input: Some(0.7),
            output: Some(2.5),
            cache_read: Some(0.0),
            cache_write: Some(0.0),
        }),
        reasoning: Some(true),
        input: Some(vec!["text".to_owned()]),
        options: Default::default(),
    }
}

#[test]
fn merge_adds_new_ids_fills_gaps_and_never_overrides() {
    let mut editor = Editor::new(Path::new("openclaw.json"), COMMENTED).unwrap();
    let report = editor
        .merge_provider_models(&[
            catalog_entry("deepseek-ai/DeepSeek-R1", "DeepSeek R1"),
            catalog_entry("Qwen/Qwen3-8B", "Qwen3 8B"),
        ])
        .unwrap();
    assert_eq!(report.added, ["Qwen/Qwen3-8B"]);
    assert_eq!(
        report.filled,
        [(
            "deepseek-ai/DeepSeek-R1".to_owned(),
            vec![
                "maxTokens".to_owned(),
                "reasoning".to_owned(),
                "input".to_owned(),
                "cost".to_owned()
            ]
        )]
    );
    let out = editor.text();
    assert_comments_kept(COMMENTED, &out);
    let value: serde_json::Value = json5::from_str(&out).unwrap();
    let mine = &value["models"]["providers"]["huggingface"]["models"][0];
    assert_eq!(mine["name"], "My R1", "the user's name wins");
    assert_eq!(mine["contextWindow"], 32000, "the user's limit wins");
    assert_eq!(mine["compat"]["supportsTools"], false, "options are kept");
    assert_eq!(
        value["models"]["providers"]["openai"]["baseUrl"],
        "https://api.openai.com/v1"
    );
    insta::assert_snapshot!("merged", out);
    // Idempotent: a second merge changes nothing.
    let again = editor
        .merge_provider_models(&[catalog_entry("Qwen/Qwen3-8B", "Qwen3 8B")])
        .unwrap();
    assert_eq!(
        (again.added.len(), again.filled.len(), again.kept),
        (0, 0, 1)
    );
    assert_eq!(editor.text(), out);
}

#[test]
fn partial_cost_is_filled_part_by_part() {
    let text = r#"{ models: { providers: { huggingface: { models: [ { id: "a/b", name: "AB", cost: { input: 9 } } ] } } } }"#;
    let mut editor = Editor::new(Path::new("c.json5"), text).unwrap();
    let report = editor
        .merge_provider_models(&[catalog_entry("a/b", "x")])
        .unwrap();
    assert_eq!(
        report.filled[0].1,
        [
            "contextWindow",
            "maxTokens",
            "reasoning",
            "input",
            "cost.output",
            "cost.cacheRead",
            "cost.cacheWrite"
        ]
    );
    let value: serde_json::Value = json5::from_str(&editor.text()).unwrap();
    assert_eq!(
        value["models"]["providers"]["huggingface"]["models"][0]["cost"]["input"],
        9
    );
    assert_eq!(
        value["models"]["providers"]["huggingface"]["models"][0]["name"],
        "AB"
    );
}

#[test]
fn plain_json_with_tabs_stays_plain_json() {
    let out = edit(TABS, |e| {
        e.add_fallback("huggingface/openai/gpt-oss-120b")?;
        e.ensure_provider_block("https://router.huggingface.co/v1")
            .map(drop)
    });
    serde_json::from_str::<serde_json::Value>(&out).expect("still strict JSON");
    insta::assert_snapshot!("tabs", out);
}

#[test]
fn repeated_edits_in_one_session_see_their_own_new_content() {
    let out = edit("{ a: 1 }", |e| {
        e.add_fallback("huggingface/x/y")?;
        assert!(!e.add_fallback("huggingface/x/y")?, "already there");
        e.set_alias("huggingface/x/y", "xy")?;
        assert!(!e.set_alias("huggingface/x/y", "xy")?);
        assert_eq!(e.view().alias_of("huggingface/x/y"), Some("xy"));
        e.merge_provider_models(&[catalog_entry("x/y", "XY")])?;
        let again = e.merge_provider_models(&[catalog_entry("x/y", "XY")])?;
        assert_eq!(again.kept, 1);
        Ok(())
    });
    assert_eq!(out.matches("huggingface/x/y").count(), 2, "{out}");
    assert!(!out.contains('\u{E000}'));
}

#[test]
fn string_model_keeps_its_form_for_set_and_grows_for_fallbacks() {
    let text = "{ agents: { defaults: { model: 'huggingface/a/b' } } }";
    let set = edit(text, |e| e.set_primary("huggingface/c/d").map(drop));
    assert_eq!(
        set,
        "{ agents: { defaults: { model: 'huggingface/c/d' } } }"
    );
    let grown = edit(text, |e| e.add_fallback("huggingface/e/f").map(drop));
    let value: serde_json::Value = json5::from_str(&grown).unwrap();
    assert_eq!(
        value["agents"]["defaults"]["model"]["primary"],
        "huggingface/a/b"
    );
    assert_eq!(
        value["agents"]["defaults"]["model"]["fallbacks"][0],
        "huggingface/e/f"
    );
}

#[test]
fn allowlist_rules() {
    // No map: nothing is created (it would restrict the user's other models).
    let none = edit("{}", |e| e.allow("huggingface/a/b").map(drop));
    assert_eq!(none, "{}");
    // Migrated config: modelPolicy.allow gets the ref, the models map does not.
    let migrated = include_str!("../../../tests/fixtures/interop/migrated-model-policy.json5");
    let out = edit(migrated, |e| e.allow("huggingface/Qwen/Qwen3-8B").map(drop));
    let value: serde_json::Value = json5::from_str(&out).unwrap();
    let allow = &value["agents"]["defaults"]["modelPolicy"]["allow"];
    assert_eq!(allow[2], "huggingface/Qwen/Qwen3-8B");
    assert!(
        value["agents"]["defaults"]["models"]
            .get("huggingface/Qwen/Qwen3-8B")
            .is_none()
    );
}

#[test]
fn empty_and_missing_files_start_from_an_object() {
    let out = edit("", |e| e.set_primary("huggingface/a/b").map(drop));
    insta::assert_snapshot!("from_empty", out);
}

#[test]
fn wrong_types_are_errors_not_overwrites() {
    let mut editor = Editor::new(
        Path::new("c.json5"),
        r#"{ agents: { defaults: { model: { fallbacks: "x" } } } }"#,
    )
    .unwrap();
    let err = editor.add_fallback("huggingface/a/b").unwrap_err();
    assert_eq!(
        err.to_string(),
        "c.json5: `agents.defaults.model.fallbacks` must be an array"
    );
    let mut editor = Editor::new(Path::new("c.json5"), r#"{ agents: 3 }"#).unwrap();
    assert!(editor.set_primary("huggingface/a/b").is_err());
}

#[test]
fn every_seed_config_takes_every_edit() {
    for entry in std::fs::read_dir("../../tests/fixtures/seed-configs").unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let out = edit(&text, |e| {
            e.set_primary("huggingface/zai-org/GLM-4.7")?;
            e.allow("huggingface/zai-org/GLM-4.7")?;
            e.add_fallback("huggingface/openai/gpt-oss-120b")?;
            e.set_alias("huggingface/zai-org/GLM-4.7", "GLM").map(drop)
        });
        let before: serde_json::Value = json5::from_str(&text).unwrap();
        let after: serde_json::Value = json5::from_str(&out).unwrap();
        // Every alias the seed had is still there.
        if let Some(models) = before["agents"]["defaults"]["models"].as_object() {
            for (key, entry) in models {
                assert_eq!(
                    after["agents"]["defaults"]["models"][key]["alias"], entry["alias"],
                    "{path:?}"
                );
            }
        }
        assert_eq!(
            after["agents"]["defaults"]["model"]["primary"],
            "huggingface/zai-org/GLM-4.7"
        );
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Primary(u8),
        AddFallback(u8),
        RemoveFallback(u8),
        Alias(u8, u8),
        Allow(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            any::<u8>().prop_map(Op::Primary),
            any::<u8>().prop_map(Op::AddFallback),
            any::<u8>().prop_map(Op::RemoveFallback),
            (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Alias(a, b)),
            any::<u8>().prop_map(Op::Allow),
        ]
    }

    fn model(i: u8) -> String {
        format!("huggingface/org{}/Model-{}", i % 3, i % 5)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_sequence_keeps_json5_valid_and_comments(ops in proptest::collection::vec(op(), 1..12)) {
            let mut editor = Editor::new(Path::new("c.json5"), COMMENTED).unwrap();
            for op in &ops {
                match op {
                    Op::Primary(i) => { editor.set_primary(&model(*i)).unwrap(); }
                    Op::AddFallback(i) => { editor.add_fallback(&model(*i)).unwrap(); }
                    Op::RemoveFallback(i) => { editor.remove_fallback(&model(*i)).unwrap(); }
                    Op::Alias(i, a) => { editor.set_alias(&model(*i), &format!("alias {a}")).unwrap(); }
                    Op::Allow(i) => { editor.allow(&model(*i)).unwrap(); }
                }
            }
            let out = editor.text();
            prop_assert!(json5::from_str::<serde_json::Value>(&out).is_ok(), "{}", out);
            for comment in ["Do not lose this comment.", "// which model the agent uses", "/* allowlisted, no alias */", "// not ours", "// my own limits win"] {
                prop_assert!(out.contains(comment), "lost {:?}", comment);
            }
        }
    }
}
