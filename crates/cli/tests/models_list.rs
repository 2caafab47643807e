//! `hfclaw models list`, offline: the user's view, snapshot-tested.
#![allow(clippy::unwrap_used)]

mod common;

use common::Sandbox;

const SEED3: &str =
    include_str!("../../../tests/fixtures/seed-configs/3-primary-with-fallback.json5");

#[test]
fn list_without_config_shows_the_builtin_catalog() {
    let sandbox = Sandbox::new();
    insta::assert_snapshot!(sandbox.run(&["models", "list", "--offline"]));
}

#[test]
fn list_puts_default_and_fallbacks_first_with_tags() {
    let sandbox = Sandbox::new();
    sandbox.write_config(SEED3);
    insta::assert_snapshot!(sandbox.run(&["models", "list", "--offline"]));
}

#[test]
fn list_json_is_a_stable_array() {
    let sandbox = Sandbox::new();
    sandbox.write_config(SEED3);
    insta::assert_snapshot!(sandbox.run(&[
        "models",
        "list",
        "--offline",
        "--json",
        "--search",
        "qwen3-8b"
    ]));
}

#[test]
fn list_filters_compose() {
    let sandbox = Sandbox::new();
    insta::assert_snapshot!(sandbox.run(&[
        "models",
        "list",
        "--offline",
        "--reasoning",
        "--provider",
        "together"
    ]));
}

#[test]
fn list_sorts_by_price_within_capability_filters() {
    // Tool calling and image input, cheapest output price first.
    let sandbox = Sandbox::new();
    insta::assert_snapshot!(sandbox.run(&[
        "models",
        "list",
        "--offline",
        "--tools",
        "--image",
        "--sort",
        "price"
    ]));
}

#[test]
fn list_sorts_by_context_in_sizes_users_recognise() {
    // 1,048,576 and 1,000,000 are 1M, 163,840 is 160K, 131,072 is 128K, 64,000 is 64K.
    let sandbox = Sandbox::new();
    insta::assert_snapshot!(sandbox.run(&[
        "models",
        "list",
        "--offline",
        "--search",
        "deepseek",
        "--sort",
        "context"
    ]));
}

#[test]
fn list_sorts_by_throughput_with_unmeasured_models_last() {
    let sandbox = Sandbox::new();
    insta::assert_snapshot!(sandbox.run(&[
        "models",
        "list",
        "--offline",
        "--search",
        "kimi",
        "--sort",
        "throughput"
    ]));
}

#[test]
fn list_free_and_structured_output_filters() {
    let sandbox = Sandbox::new();
    let free = sandbox.run(&["models", "list", "--offline", "--free", "--json"]);
    insta::assert_snapshot!(free);
    let structured = sandbox.run(&[
        "models",
        "list",
        "--offline",
        "--structured-output",
        "--search",
        "deepseek-r1",
        "--sort",
        "name",
    ]);
    insta::assert_snapshot!(structured);
}

#[test]
fn list_with_no_match_says_so() {
    let sandbox = Sandbox::new();
    insta::assert_snapshot!(sandbox.run(&[
        "models",
        "list",
        "--offline",
        "--search",
        "no-such-model"
    ]));
}

#[test]
fn config_entries_and_aliases_override_names_and_limits() {
    let sandbox = Sandbox::new();
    sandbox.write_config(
        r#"// my config
{
  agents: { defaults: {
    model: { primary: "huggingface/deepseek-ai/DeepSeek-R1:together" },
    models: { "huggingface/deepseek-ai/DeepSeek-R1:together": { alias: "R1 on Together" } },
  } },
  models: { providers: { huggingface: {
    baseUrl: "https://router.huggingface.co/v1",
    models: [ { id: "Qwen/Qwen3-8B", name: "My Qwen", contextWindow: 8192, cost: { input: 1, output: 2 } } ],
  } } },
}"#,
    );
    insta::assert_snapshot!(sandbox.run(&["models", "list", "--offline", "--search", "e"]));
}

#[test]
fn broken_config_is_an_input_error_with_position() {
    let sandbox = Sandbox::new();
    sandbox.write_config("{\n  agents: {\n    defaults: { model: { primary: \"x\" }\n  },\n}\n");
    insta::assert_snapshot!(sandbox.run(&["models", "list", "--offline"]));
}

#[test]
fn config_flag_and_env_pick_the_file() {
    let sandbox = Sandbox::new();
    let other = sandbox.home().join("elsewhere.json5");
    std::fs::write(
        &other,
        r#"{ agents: { defaults: { model: { primary: "huggingface/zai-org/GLM-4.7" } } } }"#,
    )
    .unwrap();
    let by_flag = sandbox.run(&[
        "models",
        "list",
        "--offline",
        "--json",
        "--config",
        other.to_str().unwrap(),
    ]);
    assert!(by_flag.contains("\"default\""), "{by_flag}");
    let mut cmd = sandbox.cmd(&["models", "list", "--offline", "--search", "GLM"]);
    cmd.env("OPENCLAW_CONFIG_PATH", &other);
    let by_env = sandbox.run_cmd(cmd);
    assert!(
        by_env.contains("huggingface/zai-org/GLM-4.7") && by_env.contains("default"),
        "{by_env}"
    );
    let state = sandbox.home().join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::copy(&other, state.join("openclaw.json")).unwrap();
    let mut cmd = sandbox.cmd(&["models", "list", "--offline", "--search", "GLM"]);
    cmd.env("OPENCLAW_STATE_DIR", &state);
    assert!(sandbox.run_cmd(cmd).contains("default"));
}

#[test]
fn version_and_help_work_for_every_command() {
    let sandbox = Sandbox::new();
    let version = sandbox.run(&["--version"]);
    assert!(
        version.starts_with("exit: 0\n--- stdout\nhfclaw "),
        "{version}"
    );
    for args in [
        &["--help"][..],
        &["models", "--help"],
        &["models", "list", "--help"],
        &["completions", "--help"],
    ] {
        let out = sandbox.run(args);
        assert!(
            out.starts_with("exit: 0\n--- stdout\n") && out.contains("Usage: hfclaw"),
            "{args:?}: {out}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["models", "list", "--bogus"]);
    assert!(out.starts_with("exit: 2\n"), "{out}");
    assert!(out.contains("error:"), "{out}");
}

#[test]
fn completions_print_a_script() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["completions", "bash"]);
    assert!(
        out.starts_with("exit: 0\n") && out.contains("_hfclaw()"),
        "{}",
        &out[..200.min(out.len())]
    );
}

#[test]
fn control_characters_in_names_never_reach_the_terminal() {
    let sandbox = Sandbox::new();
    // A name with a terminal escape (clear screen, set the title), a carriage return and a
    // C1 control: shown as `�`, the row still one line; JSON escapes them as JSON does.
    sandbox.write_config(
        r#"{ models: { providers: { huggingface: { baseUrl: "https://router.huggingface.co/v1",
          models: [ { id: "acme/Evil-7B", name: "Evil\u001b[2J\u001b]0;pwned\u0007\rmodel\u009b1m" } ] } } } }"#,
    );
    let out = sandbox.run(&["models", "list", "--offline", "--search", "evil"]);
    assert!(
        !out.contains(|c: char| c.is_control() && c != '\n'),
        "{out:?}"
    );
    insta::assert_snapshot!(out);
    let json = sandbox.run(&["models", "list", "--offline", "--json", "--search", "evil"]);
    assert!(
        json.contains(r#""name": "Evil\u001b[2J\u001b]0;pwned\u0007\rmodel"#),
        "{json}"
    );
}
