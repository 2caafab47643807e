//! `hfclaw models show`, offline (the built-in snapshot of 2026-07-27): snapshot-tested.
#![allow(clippy::unwrap_used)]

mod common;

use common::Sandbox;

#[test]
fn show_lists_every_provider_of_a_many_provider_model() {
    // gpt-oss-120b: 10 offerings; deepinfra is the cheapest; no throughput in the data.
    let sandbox = Sandbox::new();
    insta::assert_snapshot!(sandbox.run(&[
        "models",
        "show",
        "--offline",
        "huggingface/openai/gpt-oss-120b"
    ]));
}

#[test]
fn show_a_single_provider_model() {
    let sandbox = Sandbox::new();
    insta::assert_snapshot!(sandbox.run(&[
        "models",
        "show",
        "--offline",
        "deepseek-ai/DeepSeek-R1"
    ]));
}

#[test]
fn show_prints_missing_values_as_dashes_never_zero() {
    // The snapshot states no context, price or features for this offering.
    let sandbox = Sandbox::new();
    insta::assert_snapshot!(sandbox.run(&[
        "models",
        "show",
        "--offline",
        "huggingface/CohereLabs/aya-expanse-32b"
    ]));
}

const CONFIG: &str = r#"// mine
{
  agents: { defaults: {
    model: { primary: "huggingface/zai-org/GLM-4.7:novita", fallbacks: ["huggingface/zai-org/GLM-4.7"] },
    models: { "huggingface/zai-org/GLM-4.7:novita": { alias: "glm" } },
  } },
  models: { providers: { huggingface: {
    models: [ { id: "zai-org/GLM-4.7:novita", name: "GLM on Novita", maxTokens: 4096 } ],
  } } },
}"#;

#[test]
fn show_by_alias_marks_the_pinned_provider_and_the_config() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CONFIG);
    insta::assert_snapshot!(sandbox.run(&["models", "show", "--offline", "glm"]));
}

#[test]
fn show_json_is_a_stable_object() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CONFIG);
    insta::assert_snapshot!(sandbox.run(&["models", "show", "--offline", "--json", "GLM"]));
}

#[test]
fn show_of_an_unknown_model_is_an_input_error() {
    let sandbox = Sandbox::new();
    insta::assert_snapshot!(sandbox.run(&["models", "show", "--offline", "acme/Nothing-7B"]));
    let foreign = sandbox.run(&["models", "show", "openai/gpt-5", "--offline"]);
    assert!(foreign.starts_with("exit: 2\n"), "{foreign}");
}
