//! Format-preserving edits, snapshot-tested on oddly formatted, commented configs.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use hfclaw_catalog::{ConfigCost, ConfigModel};
use hfclaw_config_merge::fuzzing::comments;
use hfclaw_config_merge::{ConfigError, Editor};
use serde_json::{Value, json};

const COMMENTED: &str = include_str!("fixtures/commented.json5");
const TABS: &str = include_str!("fixtures/tabs.json");
const TWO_SPACE: &str = include_str!("fixtures/two-space.json5");
const STRING_MODEL: &str = include_str!("fixtures/string-model.json5");
const POLICY: &str = include_str!("fixtures/policy.json5");

fn edit(text: &str, f: impl FnOnce(&mut Editor) -> Result<(), ConfigError>) -> String {
    let mut editor = Editor::new(Path::new("openclaw.json"), text).unwrap();
    f(&mut editor).unwrap();
    let out = editor.text();
    json5::from_str::<Value>(&out).expect("edited text must stay valid JSON5");
    // What the editor reports is what the text says.
    assert_eq!(editor.value(), json5::from_str::<Value>(&out).unwrap());
    out
}

fn value(text: &str) -> Value {
    json5::from_str(text).unwrap()
}

fn assert_comments_kept(input: &str, output: &str) {
    let all = comments(input);
    assert!(!all.is_empty() || !input.contains("//"));
    for comment in all {
        assert!(output.contains(comment), "lost {comment:?}:\n{output}");
    }
}

/// The lines of `before` that are missing from `after` (as a multiset).
fn lost_lines<'a>(before: &'a str, after: &str) -> Vec<&'a str> {
    let mut remaining: Vec<&str> = after.lines().collect();
    let mut lost = Vec::new();
    for line in before.lines() {
        match remaining.iter().position(|l| *l == line) {
            Some(i) => {
                remaining.remove(i);
            }
            None => lost.push(line),
        }
    }
    lost
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

// --- set_primary ---------------------------------------------------------------------

#[test]
fn set_primary_changes_only_that_value_and_keeps_its_quotes() {
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
    let out = edit(TWO_SPACE, |e| {
        e.set_primary("huggingface/zai-org/GLM-4.7").map(drop)
    });
    insta::assert_snapshot!("two_space_set_primary", out);
}

#[test]
fn string_model_keeps_its_form_for_set_and_grows_for_fallbacks() {
    let set = edit(STRING_MODEL, |e| e.set_primary("huggingface/c/d").map(drop));
    assert_eq!(
        set,
        STRING_MODEL.replace("'huggingface/Qwen/Qwen3-8B'", "'huggingface/c/d'")
    );
    let grown = edit(STRING_MODEL, |e| {
        e.add_fallback("huggingface/e/f").map(drop)
    });
    assert_comments_kept(STRING_MODEL, &grown);
    insta::assert_snapshot!("string_model_add_fallback", grown);
    let v = value(&grown);
    assert_eq!(
        v["agents"]["defaults"]["model"],
        json!({"primary": "huggingface/Qwen/Qwen3-8B", "fallbacks": ["huggingface/e/f"]})
    );
}

// --- fallbacks -----------------------------------------------------------------------

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
    let cleared = edit(COMMENTED, |e| e.clear_fallbacks().map(drop));
    insta::assert_snapshot!("fallbacks_cleared", cleared);
    assert_eq!(
        value(&cleared)["agents"]["defaults"]["model"]["fallbacks"],
        json!([])
    );
    // The comment on the removed fallback's line goes with it; every other one stays.
    assert_comments_kept(&COMMENTED.replace("// cheap", ""), &cleared);
}

#[test]
fn one_line_model_object_gains_fallbacks_on_the_same_line() {
    let out = edit(TWO_SPACE, |e| {
        e.add_fallback("huggingface/openai/gpt-oss-120b").map(drop)
    });
    assert_comments_kept(TWO_SPACE, &out);
    insta::assert_snapshot!("two_space_add_fallback", out);
    assert_eq!(lost_lines(TWO_SPACE, &out).len(), 1);
}

#[test]
fn one_line_arrays_lose_elements_cleanly() {
    let text = r#"{ agents: { defaults: { model: { fallbacks: ["a/b", "c/d", "e/f"] } } } }"#;
    let cases = [
        ("a/b", r#"["c/d", "e/f"]"#),
        ("c/d", r#"["a/b", "e/f"]"#),
        ("e/f", r#"["a/b", "c/d"]"#),
    ];
    for (gone, rest) in cases {
        let out = edit(text, |e| e.remove_fallback(gone).map(drop));
        assert_eq!(out, text.replace(r#"["a/b", "c/d", "e/f"]"#, rest));
    }
    let trailing = r#"{ agents: { defaults: { model: { fallbacks: ['a/b', 'c/d',] } } } }"#;
    let out = edit(trailing, |e| e.remove_fallback("c/d").map(drop));
    assert_eq!(out, trailing.replace("'a/b', 'c/d',]", "'a/b',]"));
    let out = edit(trailing, |e| e.clear_fallbacks().map(drop));
    assert_eq!(out, trailing.replace("['a/b', 'c/d',]", "[]"));
}

#[test]
fn removing_the_last_of_a_multiline_list_drops_the_comma_it_leaves() {
    let text = "{\n  agents: { defaults: { model: {\n    fallbacks: [\n      \"a/b\",\n      \"c/d\" // cheap\n    ]\n  } } }\n}\n";
    let out = edit(text, |e| e.remove_fallback("c/d").map(drop));
    assert_eq!(
        out,
        "{\n  agents: { defaults: { model: {\n    fallbacks: [\n      \"a/b\"\n    ]\n  } } }\n}\n"
    );
}

#[test]
fn duplicate_fallbacks_are_all_removed() {
    let text = "{ agents: { defaults: { model: { fallbacks: ['x/y', 'a/b', 'x/y'] } } } }";
    let out = edit(text, |e| {
        assert!(e.remove_fallback("x/y")?);
        assert!(!e.remove_fallback("x/y")?);
        Ok(())
    });
    assert_eq!(
        value(&out)["agents"]["defaults"]["model"]["fallbacks"],
        json!(["a/b"])
    );
}

// --- aliases -------------------------------------------------------------------------

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
        removed.contains("'huggingface/deepseek-ai/DeepSeek-R1': {},"),
        "{removed}"
    );
    let removed = edit(&removed, |e| {
        e.remove_alias("huggingface/zai-org/GLM-4.7").map(drop)
    });
    insta::assert_snapshot!("aliases_removed", removed);
    assert_comments_kept(COMMENTED, &removed);
}

/// Defect 3 of issue 19: the first alias creates `agents.defaults.models` (with the
/// default and fallbacks, so OpenClaw's allowlist keeps them); removing it again leaves
/// the file exactly as it was.
#[test]
fn an_alias_set_and_removed_leaves_the_file_as_it_was() {
    let model = "huggingface/Qwen/Qwen3-32B";
    let mut checked = 0;
    for original in [TWO_SPACE, COMMENTED, TABS, STRING_MODEL] {
        if !value(original)["agents"]["defaults"]["models"].is_null() {
            continue;
        }
        let set = edit(original, |e| e.set_alias(model, "big qwen").map(drop));
        assert!(set.contains("big qwen"), "{set}");
        let removed = edit(&set, |e| e.remove_alias(model).map(drop));
        assert_eq!(removed, original, "set:\n{set}");
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn alias_in_an_empty_map_and_in_a_missing_map() {
    let out = edit(TWO_SPACE, |e| {
        e.set_alias("huggingface/deepseek-ai/DeepSeek-R1", "R1")
            .map(drop)
    });
    insta::assert_snapshot!("two_space_alias", out);
    let out = edit(STRING_MODEL, |e| {
        e.set_alias("huggingface/Qwen/Qwen3-8B", "Q8").map(drop)
    });
    insta::assert_snapshot!("string_model_alias", out);
    assert_comments_kept(STRING_MODEL, &out);
}

// --- allowlist -----------------------------------------------------------------------

#[test]
fn allowlist_rules() {
    // No map: nothing is created (it would restrict the user's other models).
    let none = edit("{}", |e| {
        assert!(!e.allow("huggingface/a/b")?);
        Ok(())
    });
    assert_eq!(none, "{}");
    // An empty map is no allowlist either.
    let empty = edit(TWO_SPACE, |e| {
        assert!(!e.allow("huggingface/a/b")?);
        Ok(())
    });
    assert_eq!(empty, TWO_SPACE);
    // Map in force: the ref becomes a key.
    let out = edit(COMMENTED, |e| {
        assert!(e.allow("huggingface/zai-org/GLM-4.7")?);
        assert!(!e.allow("huggingface/zai-org/GLM-4.7")?);
        Ok(())
    });
    assert_eq!(
        value(&out)["agents"]["defaults"]["models"]["huggingface/zai-org/GLM-4.7"],
        json!({})
    );
    // Migrated config: modelPolicy.allow gets the ref, the models map does not.
    let out = edit(POLICY, |e| e.allow("huggingface/Qwen/Qwen3-8B").map(drop));
    insta::assert_snapshot!("policy_allow", out);
    assert_comments_kept(POLICY, &out);
    let v = value(&out);
    assert_eq!(
        v["agents"]["defaults"]["modelPolicy"]["allow"][1],
        "huggingface/Qwen/Qwen3-8B"
    );
    assert!(
        v["agents"]["defaults"]["models"]
            .get("huggingface/Qwen/Qwen3-8B")
            .is_none()
    );
}

// --- provider block and merge --------------------------------------------------------

#[test]
fn provider_block_fills_only_what_is_missing() {
    let out = edit(COMMENTED, |e| {
        assert!(e.ensure_provider_block(Some("http://elsewhere/v1"))?);
        assert!(!e.ensure_provider_block(Some("http://elsewhere/v1"))?);
        Ok(())
    });
    let v = value(&out);
    let block = &v["models"]["providers"]["huggingface"];
    assert_eq!(block["baseUrl"], "https://router.huggingface.co/v1", "kept");
    assert_eq!(block["api"], "openai-completions");
    assert!(lost_lines(COMMENTED, &out).is_empty(), "{out}");
    let out = edit(TWO_SPACE, |e| {
        e.ensure_provider_block(Some("https://router.huggingface.co/v1"))
            .map(drop)
    });
    insta::assert_snapshot!("two_space_provider_block", out);
    assert_eq!(
        value(&out)["models"]["providers"]["huggingface"]["apiKey"],
        value(TWO_SPACE)["models"]["providers"]["huggingface"]["apiKey"],
        "apiKey untouched"
    );
    let out = edit(STRING_MODEL, |e| {
        e.ensure_provider_block(Some("https://router.huggingface.co/v1"))
            .map(drop)
    });
    insta::assert_snapshot!("string_model_provider_block", out);
}

#[test]
fn provider_block_gets_no_base_url_unless_one_is_given() {
    let out = edit("{}", |e| e.ensure_provider_block(None).map(drop));
    let block = &value(&out)["models"]["providers"]["huggingface"];
    assert_eq!(block.get("baseUrl"), None, "{out}");
    assert_eq!(block["api"], "openai-completions");
}

#[test]
fn base_url_is_set_replaced_and_removed_in_place() {
    // Replaced where it is, its comment and quotes kept.
    let out = edit(COMMENTED, |e| {
        assert!(e.set_provider_base_url(Some("http://127.0.0.1:8080/v1"))?);
        assert!(!e.set_provider_base_url(Some("http://127.0.0.1:8080/v1"))?);
        Ok(())
    });
    assert_eq!(
        value(&out)["models"]["providers"]["huggingface"]["baseUrl"],
        "http://127.0.0.1:8080/v1"
    );
    assert_comments_kept(COMMENTED, &out);
    assert_eq!(lost_lines(COMMENTED, &out).len(), 1, "{out}");
    // Removed: only that line goes.
    let removed = edit(&out, |e| {
        assert!(e.set_provider_base_url(None)?);
        assert!(!e.set_provider_base_url(None)?);
        Ok(())
    });
    assert_eq!(
        value(&removed)["models"]["providers"]["huggingface"].get("baseUrl"),
        None
    );
    assert_eq!(lost_lines(&out, &removed).len(), 1, "{removed}");
    assert!(lost_lines(&removed, &out).is_empty());
    // Added to a block without one, and to a config without a block.
    let added = edit(&removed, |e| {
        e.set_provider_base_url(Some("http://x/v1")).map(drop)
    });
    assert_eq!(
        value(&added)["models"]["providers"]["huggingface"]["baseUrl"],
        "http://x/v1"
    );
    let fresh = edit("{}", |e| {
        e.set_provider_base_url(Some("http://x/v1")).map(drop)
    });
    assert_eq!(
        value(&fresh)["models"]["providers"]["huggingface"]["baseUrl"],
        "http://x/v1"
    );
    assert_eq!(
        edit("{}", |e| e.set_provider_base_url(None).map(drop)),
        "{}"
    );
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
            vec!["maxTokens", "reasoning", "input", "cost"]
        )]
    );
    let out = editor.text();
    assert_comments_kept(COMMENTED, &out);
    let v = value(&out);
    let mine = &v["models"]["providers"]["huggingface"]["models"][0];
    assert_eq!(mine["name"], "My R1", "the user's name wins");
    assert_eq!(mine["contextWindow"], 32000, "the user's limit wins");
    assert_eq!(mine["compat"]["supportsTools"], false, "options are kept");
    assert_eq!(
        v["models"]["providers"]["openai"],
        value(COMMENTED)["models"]["providers"]["openai"],
        "other providers untouched"
    );
    insta::assert_snapshot!("merged", out);
    // Idempotent: a second merge changes nothing.
    let again = editor
        .merge_provider_models(&[
            catalog_entry("deepseek-ai/DeepSeek-R1", "DeepSeek R1"),
            catalog_entry("Qwen/Qwen3-8B", "Qwen3 8B"),
        ])
        .unwrap();
    assert_eq!(
        (again.added.len(), again.filled.len(), again.kept),
        (0, 0, 2)
    );
    assert_eq!(editor.text(), out);
}

#[test]
fn merge_keeps_order_and_user_entries_and_fills_cost_part_by_part() {
    let mut editor = Editor::new(Path::new("c.json5"), TWO_SPACE).unwrap();
    let report = editor
        .merge_provider_models(&[
            catalog_entry("new/B", "B"),
            catalog_entry("deepseek-ai/DeepSeek-R1", "DeepSeek R1"),
            catalog_entry("new/A", "A"),
            catalog_entry("new/B", "B again"),
        ])
        .unwrap();
    assert_eq!(
        report.added,
        ["new/B", "new/A"],
        "given order, no duplicates"
    );
    assert_eq!(
        report.filled,
        [(
            "deepseek-ai/DeepSeek-R1".to_owned(),
            vec![
                "contextWindow",
                "maxTokens",
                "reasoning",
                "input",
                "cost.output",
                "cost.cacheRead",
                "cost.cacheWrite"
            ]
        )]
    );
    let out = editor.text();
    insta::assert_snapshot!("two_space_merged", out);
    assert_comments_kept(TWO_SPACE, &out);
    let v = value(&out);
    let models = v["models"]["providers"]["huggingface"]["models"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = models.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "deepseek-ai/DeepSeek-R1",
            "zai-org/GLM-4.7",
            "new/B",
            "new/A"
        ]
    );
    assert_eq!(models[0]["cost"]["input"], 3, "the user's price wins");
    assert_eq!(models[0]["name"], "R1");
    assert_eq!(
        models[1],
        json!({"id": "zai-org/GLM-4.7", "contextWindow": 200000}),
        "not in the merge: untouched"
    );
}

#[test]
fn merge_leaves_odd_entries_alone_and_writes_only_openclaw_fields() {
    let text = r#"{ models: { providers: { huggingface: { models: [ "junk", { name: "no id" }, { id: 7 }, { id: "a/b", name: null } ] } } } }"#;
    let mut editor = Editor::new(Path::new("c.json5"), text).unwrap();
    let mut entry = catalog_entry("a/b", "AB");
    entry.options.insert("hfclawOnly".to_owned(), json!(true));
    let mut nameless = catalog_entry("c/d", "x");
    nameless.name = None;
    nameless.cost = Some(ConfigCost::default());
    let report = editor.merge_provider_models(&[entry, nameless]).unwrap();
    assert_eq!(report.added, ["c/d"]);
    let v = editor.value();
    let models = &v["models"]["providers"]["huggingface"]["models"];
    assert_eq!(models[0], "junk");
    assert_eq!(models[1], json!({"name": "no id"}));
    assert_eq!(models[2], json!({"id": 7}));
    assert_eq!(
        models[3]["name"],
        Value::Null,
        "a value the user set, even null, stays"
    );
    assert!(
        models[3].get("hfclawOnly").is_none(),
        "options are never written"
    );
    assert_eq!(
        models[4]["name"], "c/d",
        "OpenClaw requires a name: the id stands in"
    );
    assert!(
        models[4].get("cost").is_none(),
        "an empty cost is not written"
    );
}

#[test]
fn merge_creates_the_block_when_missing() {
    let out = edit(STRING_MODEL, |e| {
        let report = e.merge_provider_models(&[catalog_entry("a/b", "AB")])?;
        assert_eq!(report.added, ["a/b"]);
        Ok(())
    });
    insta::assert_snapshot!("string_model_merged", out);
}

#[test]
fn plain_json_with_tabs_stays_plain_json() {
    let out = edit(TABS, |e| {
        e.add_fallback("huggingface/openai/gpt-oss-120b")?;
        e.ensure_provider_block(Some("https://router.huggingface.co/v1"))
            .map(drop)
    });
    serde_json::from_str::<Value>(&out).expect("still strict JSON");
    insta::assert_snapshot!("tabs", out);
    let merged = edit(&out, |e| {
        e.merge_provider_models(&[catalog_entry("a/b", "AB")])
            .map(drop)
    });
    serde_json::from_str::<Value>(&merged).expect("still strict JSON");
    insta::assert_snapshot!("tabs_merged", merged);
}

#[test]
fn crlf_files_keep_crlf() {
    let text = TWO_SPACE.replace('\n', "\r\n");
    let out = edit(&text, |e| {
        e.set_alias("huggingface/a/b", "AB")?;
        e.merge_provider_models(&[catalog_entry("a/b", "AB")])?;
        e.remove_fallback("x").map(drop)
    });
    assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
}

// --- every method, general properties ------------------------------------------------

#[test]
fn every_method_is_idempotent() {
    type Op = fn(&mut Editor) -> Result<bool, ConfigError>;
    let ops: [(&str, Op); 9] = [
        ("set_primary", |e| e.set_primary("huggingface/x/y")),
        ("add_fallback", |e| e.add_fallback("huggingface/x/y")),
        ("remove_fallback", |e| {
            e.remove_fallback("huggingface/Qwen/Qwen3-8B")
        }),
        ("clear_fallbacks", |e| e.clear_fallbacks()),
        ("set_alias", |e| e.set_alias("huggingface/x/y", "XY")),
        ("remove_alias", |e| {
            e.remove_alias("huggingface/deepseek-ai/DeepSeek-R1")
        }),
        ("allow", |e| e.allow("huggingface/x/y")),
        ("ensure_provider_block", |e| {
            e.ensure_provider_block(Some("https://router.huggingface.co/v1"))
        }),
        ("merge_provider_models", |e| {
            e.merge_provider_models(&[catalog_entry("x/y", "XY")])
                .map(|r| !r.added.is_empty() || !r.filled.is_empty())
        }),
    ];
    for fixture in [COMMENTED, TWO_SPACE, TABS, STRING_MODEL, POLICY, "", "{}"] {
        for (name, op) in ops {
            let mut editor = Editor::new(Path::new("c.json5"), fixture).unwrap();
            op(&mut editor).unwrap();
            let once = editor.text();
            assert!(
                !op(&mut editor).unwrap(),
                "{name} changed again on {fixture:?}"
            );
            assert_eq!(editor.text(), once, "{name}");
        }
    }
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
    insta::assert_snapshot!("one_line_root_grows", out);
}

#[test]
fn empty_and_missing_files_start_from_an_object() {
    let out = edit("", |e| e.set_primary("huggingface/a/b").map(drop));
    insta::assert_snapshot!("from_empty", out);
    let out = edit("  \n", |e| {
        e.add_fallback("huggingface/c/d")?;
        e.set_alias("huggingface/c/d", "CD")?;
        e.merge_provider_models(&[catalog_entry("c/d", "CD")])
            .map(drop)
    });
    serde_json::from_str::<Value>(&out).expect("a new file is plain JSON");
    insta::assert_snapshot!("from_empty_everything", out);
}

#[test]
fn wrong_types_are_errors_not_overwrites() {
    type Op = fn(&mut Editor) -> Result<bool, ConfigError>;
    let cases: [(&str, Op, &str); 5] = [
        (
            r#"{ agents: { defaults: { model: { fallbacks: "x" } } } }"#,
            |e| e.add_fallback("a/b"),
            "agents.defaults.model.fallbacks",
        ),
        (r#"{ agents: 3 }"#, |e| e.set_primary("a/b"), "agents"),
        (
            r#"{ agents: { defaults: { model: [1] } } }"#,
            |e| e.set_primary("a/b"),
            "agents.defaults.model",
        ),
        (
            r#"{ agents: { defaults: { models: { "a/b": "x" } } } }"#,
            |e| e.set_alias("a/b", "x"),
            "agents.defaults.models[\"a/b\"]",
        ),
        (
            r#"{ models: { providers: { huggingface: { models: {} } } } }"#,
            |e| {
                e.merge_provider_models(&[ConfigModel {
                    id: "a".into(),
                    ..Default::default()
                }])
                .map(|_| true)
            },
            "models.providers.huggingface.models",
        ),
    ];
    for (text, op, key) in cases {
        let mut editor = Editor::new(Path::new("c.json5"), text).unwrap();
        let err = op(&mut editor).unwrap_err();
        assert!(
            matches!(&err, ConfigError::WrongType { key: k, .. } if k == key),
            "{text}: {err}"
        );
        assert!(err.is_input_error() && err.hint().is_some());
        assert_eq!(editor.text(), text, "nothing changed");
    }
    // `null` is absence: it is replaced.
    let out = edit(r#"{ agents: { defaults: null } }"#, |e| {
        e.set_primary("a/b").map(drop)
    });
    assert_eq!(value(&out)["agents"]["defaults"]["model"]["primary"], "a/b");
}

#[test]
fn invalid_input_is_a_parse_error_with_position() {
    for (text, line, column) in [
        ("{ a: 1,, }", 1, 8),
        ("{\n  a: 'x\n}", 2, 8),
        ("{ a: 01 }", 1, 6),
    ] {
        let err = Editor::new(Path::new("c.json5"), text).unwrap_err();
        let ConfigError::Parse {
            line: l, column: c, ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!((*l, *c), (line, column), "{text:?}: {err}");
        assert!(err.is_input_error());
    }
    assert!(matches!(
        Editor::new(Path::new("c.json5"), "[1]"),
        Err(ConfigError::NotAnObject { .. })
    ));
}

#[test]
fn every_seed_config_takes_every_edit_and_keeps_the_rest() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/seed-configs");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let before = value(&text);
        seen += 1;

        let primary = edit(&text, |e| {
            e.set_primary("huggingface/zai-org/GLM-4.7").map(drop)
        });
        let after = value(&primary);
        assert_eq!(
            after["agents"]["defaults"]["model"]["primary"],
            "huggingface/zai-org/GLM-4.7"
        );
        assert_eq!(
            without(&after, "/agents/defaults/model"),
            without(&before, "/agents/defaults/model"),
            "{path:?}"
        );
        assert!(
            lost_lines(&text, &primary).len() <= 1,
            "{path:?}:\n{primary}"
        );

        let fallback = edit(&text, |e| {
            e.add_fallback("huggingface/openai/gpt-oss-120b")?;
            e.allow("huggingface/openai/gpt-oss-120b").map(drop)
        });
        let after = value(&fallback);
        let fallbacks = after["agents"]["defaults"]["model"]["fallbacks"]
            .as_array()
            .unwrap();
        assert_eq!(fallbacks.last().unwrap(), "huggingface/openai/gpt-oss-120b");
        let before_models = before["agents"]["defaults"]["models"].as_object();
        if let Some(models) = before_models.filter(|m| !m.is_empty()) {
            // The allowlist was in force: the new fallback joined it, nothing else changed.
            for (key, entry) in models {
                assert_eq!(
                    &after["agents"]["defaults"]["models"][key], entry,
                    "{path:?}"
                );
            }
            let added = &after["agents"]["defaults"]["models"]["huggingface/openai/gpt-oss-120b"];
            if !models.contains_key("huggingface/openai/gpt-oss-120b") {
                assert_eq!(added, &json!({}));
            }
        }
        assert_eq!(
            without(
                &without(&after, "/agents/defaults/model"),
                "/agents/defaults/models"
            ),
            without(
                &without(&before, "/agents/defaults/model"),
                "/agents/defaults/models"
            ),
        );
        assert!(
            lost_lines(&text, &fallback).len() <= 3,
            "{path:?}:\n{fallback}"
        );
    }
    assert_eq!(seen, 7);
}

/// `value` with the member at `pointer` removed.
fn without(value: &Value, pointer: &str) -> Value {
    let mut value = value.clone();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    if let Some(Value::Object(map)) = value.pointer_mut(parent) {
        map.shift_remove(key);
    }
    value
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Primary(u8),
        AddFallback(u8),
        RemoveFallback(u8),
        ClearFallbacks,
        Alias(u8, u8),
        RemoveAlias(u8),
        Allow(u8),
        Merge(u8),
        Provider,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            any::<u8>().prop_map(Op::Primary),
            any::<u8>().prop_map(Op::AddFallback),
            any::<u8>().prop_map(Op::RemoveFallback),
            Just(Op::ClearFallbacks),
            (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Alias(a, b)),
            any::<u8>().prop_map(Op::RemoveAlias),
            any::<u8>().prop_map(Op::Allow),
            any::<u8>().prop_map(Op::Merge),
            Just(Op::Provider),
        ]
    }

    fn model(i: u8) -> String {
        format!("huggingface/org{}/Model-{}", i % 3, i % 5)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        #[test]
        fn any_sequence_keeps_json5_valid_and_comments(
            fixture in 0usize..4,
            ops in proptest::collection::vec(op(), 1..14),
        ) {
            let input = [COMMENTED, TWO_SPACE, STRING_MODEL, POLICY][fixture];
            let mut editor = Editor::new(Path::new("c.json5"), input).unwrap();
            for op in &ops {
                match op {
                    Op::Primary(i) => { editor.set_primary(&model(*i)).unwrap(); }
                    Op::AddFallback(i) => { editor.add_fallback(&model(*i)).unwrap(); }
                    Op::RemoveFallback(i) => { editor.remove_fallback(&model(*i)).unwrap(); }
                    // Clearing drops the comment on a removed fallback's line: only
                    // clear lists this test filled itself.
                    Op::ClearFallbacks => {
                        let own = editor.view().fallbacks.iter().all(|f| f.contains("/org"));
                        if own { editor.clear_fallbacks().unwrap(); }
                    }
                    Op::Alias(i, a) => { editor.set_alias(&model(*i), &format!("alias '{a}\"")).unwrap(); }
                    Op::RemoveAlias(i) => { editor.remove_alias(&model(*i)).unwrap(); }
                    Op::Allow(i) => { editor.allow(&model(*i)).unwrap(); }
                    Op::Merge(i) => { editor.merge_provider_models(&[catalog_entry(&model(*i)["huggingface/".len()..], "M")]).unwrap(); }
                    Op::Provider => { editor.ensure_provider_block(Some("https://router.huggingface.co/v1")).unwrap(); }
                }
                let out = editor.text();
                let parsed = json5::from_str::<Value>(&out);
                prop_assert!(parsed.is_ok(), "after {:?}:\n{}", op, out);
                prop_assert_eq!(editor.value(), parsed.unwrap());
            }
            let out = editor.text();
            for comment in comments(input) {
                prop_assert!(out.contains(comment), "lost {:?}:\n{}", comment, out);
            }
        }
    }
}

#[test]
fn layouts_around_comments_and_shared_lines() {
    type Op = fn(&mut Editor) -> Result<(), ConfigError>;
    let cases: [(&str, Op, &str); 6] = [
        (
            // A comment after the last member: the comma goes before it.
            "{\n  agents: { defaults: {\n    model: {\n      primary: \"x\" // c\n    }\n  } }\n}\n",
            |e| e.add_fallback("y").map(drop),
            "{\n  agents: { defaults: {\n    model: {\n      primary: \"x\", // c\n      fallbacks: [\"y\"]\n    }\n  } }\n}\n",
        ),
        (
            // An empty object holding only a comment: the member goes before its `}`.
            "{\n  agents: { defaults: {\n    models: {\n      // none yet\n    },\n  } }\n}\n",
            |e| e.set_alias("a/b", "AB").map(drop),
            "{\n  agents: { defaults: {\n    models: {\n      // none yet\n      \"a/b\": { alias: \"AB\" }\n    },\n  } }\n}\n",
        ),
        (
            // Members sharing a line: removal takes only the member.
            "{\n  agents: { defaults: {\n    models: {\n      'a/b': { alias: 'AB' }, 'c/d': {},\n      'e/f': {}\n    },\n  } }\n}\n",
            |e| {
                e.set_alias("g/h", "GH")?;
                e.remove_alias("a/b").map(drop)
            },
            "{\n  agents: { defaults: {\n    models: {\n      'a/b': {}, 'c/d': {},\n      'e/f': {},\n      'g/h': { alias: 'GH' }\n    },\n  } }\n}\n",
        ),
        (
            // The file's quote is kept even when the edit removed its only string.
            "{\n  agents: { defaults: {\n    models: { 'a/b': { alias: 'AB' }, 'c/d': {} },\n  } }\n}\n",
            |e| {
                e.remove_alias("a/b")?;
                e.set_alias("c/d", "CD").map(drop)
            },
            "{\n  agents: { defaults: {\n    models: { 'a/b': {}, 'c/d': { alias: 'CD' } },\n  } }\n}\n",
        ),
        (
            // Tabs, no one-line containers: new content is expanded and tab-indented.
            "{\n\tagents: {\n\t\tdefaults: {\n\t\t\tmodel: 'x',\n\t\t},\n\t},\n}\n",
            |e| e.add_fallback("y").map(drop),
            "{\n\tagents: {\n\t\tdefaults: {\n\t\t\tmodel: {\n\t\t\t\tprimary: 'x',\n\t\t\t\tfallbacks: [\n\t\t\t\t\t'y',\n\t\t\t\t],\n\t\t\t},\n\t\t},\n\t},\n}\n",
        ),
        (
            // Minified JSON stays on its line.
            "{\"agents\":{\"defaults\":{\"model\":\"x\"}}}",
            |e| e.add_fallback("y").map(drop),
            "{\"agents\":{\"defaults\":{\"model\":{ \"primary\": \"x\", \"fallbacks\": [\"y\"] }}}}",
        ),
    ];
    for (input, op, expected) in cases {
        assert_eq!(edit(input, op), expected, "from:\n{input}");
    }
}
