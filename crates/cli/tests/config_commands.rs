//! `onboard --non-interactive`, `models set | fallbacks | aliases | status | sync`: what
//! the user sees and the exact file each command leaves, starting from commented,
//! oddly formatted configs. All offline.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Sandbox, TOKEN, session};

const COMMENTED: &str = r#"// my agent
{
  agents: {
    defaults: {
      model: { primary: 'huggingface/deepseek-ai/DeepSeek-R1' }, // thinking
      models: {
        'huggingface/deepseek-ai/DeepSeek-R1': { alias: 'R1' },
        'huggingface/Qwen/Qwen3-8B:cheapest': { alias: 'qwen' }, /* cheap */
      },
    },
  },
  channels: { telegram: { botToken: 'keep-me' } },
}
"#;

#[test]
fn set_resolves_alias_bare_and_full_refs() {
    let s = Sandbox::new();
    s.write_config(COMMENTED);
    insta::assert_snapshot!(session(
        &s,
        &[
            &["models", "set", "qwen"],
            &["models", "set", "zai-org/GLM-4.7"],
            &["models", "set", "huggingface/deepseek-ai/DeepSeek-R1"],
        ]
    ));
}

#[test]
fn set_rejects_bad_refs_and_keeps_the_file() {
    let s = Sandbox::new();
    s.write_config(COMMENTED);
    let out = session(
        &s,
        &[
            &[
                "models",
                "set",
                "huggingface/deepseek-ai/DeepSeek-R1:Fastest",
            ],
            &["models", "set", "huggingface/deepseek-ai/deepseek-r1"],
            &["models", "set", "no-such-alias"],
        ],
    );
    assert!(
        out.ends_with(COMMENTED),
        "the file must be untouched:\n{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn fallbacks_add_list_remove_clear() {
    let s = Sandbox::new();
    s.write_config(COMMENTED);
    insta::assert_snapshot!(session(
        &s,
        &[
            &["models", "fallbacks", "add", "qwen"],
            &[
                "models",
                "fallbacks",
                "add",
                "huggingface/openai/gpt-oss-120b"
            ],
            &["models", "fallbacks", "add", "qwen"],
            &["models", "fallbacks", "add", "R1"],
            &["models", "fallbacks", "list"],
            &["models", "fallbacks", "remove", "qwen"],
            &["models", "fallbacks", "remove", "qwen"],
            &["models", "fallbacks", "clear"],
        ]
    ));
}

#[test]
fn aliases_list_set_remove_and_conflicts() {
    let s = Sandbox::new();
    s.write_config(COMMENTED);
    insta::assert_snapshot!(session(
        &s,
        &[
            &["models", "aliases", "list"],
            &[
                "models",
                "aliases",
                "set",
                "huggingface/openai/gpt-oss-120b",
                "GPT-OSS"
            ],
            &[
                "models",
                "aliases",
                "set",
                "huggingface/zai-org/GLM-4.7",
                "R1"
            ],
            &[
                "models",
                "aliases",
                "set",
                "huggingface/zai-org/GLM-4.7",
                "a/b"
            ],
            &["models", "aliases", "remove", "qwen"],
            &["models", "aliases", "list"],
        ]
    ));
}

#[test]
fn sync_fills_the_provider_block_and_models_json() {
    let s = Sandbox::new();
    s.write_config(COMMENTED);
    insta::assert_snapshot!(session(
        &s,
        &[
            &["--offline", "models", "sync"],
            &["--offline", "models", "sync"]
        ]
    ));
    let models_json = s.home().join(".openclaw/agents/main/agent/models.json");
    let out = s.run(&["--offline", "models", "sync", "--models-json"]);
    assert!(
        out.contains("created [HOME]/.openclaw/agents/main/agent/models.json"),
        "{out}"
    );
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models_json).unwrap()).unwrap();
    assert_eq!(
        value["providers"]["huggingface"]["models"][1]["id"],
        "Qwen/Qwen3-8B:cheapest"
    );
    // The config's own entry is already named for its suffix: not "(cheapest) (cheapest)".
    assert_eq!(
        value["providers"]["huggingface"]["models"][1]["name"],
        "Qwen3 8B (cheapest)"
    );
}

#[test]
fn refs_of_another_configured_provider_are_taken_as_written() {
    let s = Sandbox::new();
    s.write_config(
        r#"{
  agents: { defaults: { model: {
    primary: 'huggingface/deepseek-ai/DeepSeek-R1',
    fallbacks: ['my-proxy/llama-local'],
  } } },
  models: { providers: { 'my-proxy': {
    baseUrl: 'http://127.0.0.1:8080/v1', api: 'openai-completions',
    models: [{ id: 'llama-local', name: 'Local Llama' }],
  } } },
}
"#,
    );
    insta::assert_snapshot!(session(
        &s,
        &[
            &[
                "--offline",
                "models",
                "fallbacks",
                "remove",
                "my-proxy/llama-local"
            ],
            &["--offline", "models", "set", "my-proxy/llama-local"],
            // Neither listed nor a provider: refused, the file untouched.
            &["--offline", "models", "fallbacks", "add", "other/model"],
            // One of OpenClaw's own providers: written exactly as typed.
            &["--offline", "models", "fallbacks", "add", "openai/gpt-5"],
            // A catalog lists it: a Hugging Face model, whatever its organisation's name.
            &[
                "--offline",
                "models",
                "fallbacks",
                "add",
                "openai/gpt-oss-120b"
            ],
        ]
    ));
}

/// Edits read only the provider entries their input and selection name: the ones they
/// name must still count as known, including for the letter-case check.
#[test]
fn edits_know_the_provider_entries_they_name() {
    let s = Sandbox::new();
    s.write_config(
        r#"{
  agents: { defaults: { model: { primary: 'huggingface/acme/Primary-1' } } },
  models: { providers: { huggingface: { models: [
    { id: 'acme/Primary-1' }, { id: 'acme/Custom-1', name: 'Custom One' }, { id: 'acme/Unused' },
  ] } } },
}
"#,
    );
    insta::assert_snapshot!(session(
        &s,
        &[
            &["--offline", "models", "set", "acme/custom-1"],
            &["--offline", "models", "set", "acme/Custom-1"],
            &[
                "--offline",
                "models",
                "fallbacks",
                "add",
                "huggingface/acme/Primary-1"
            ],
            &[
                "--offline",
                "models",
                "aliases",
                "set",
                "acme/Primary-1",
                "P1"
            ],
        ]
    ));
}

#[test]
fn a_flag_key_goes_to_the_state_dir_env_even_with_the_config_elsewhere() {
    let s = Sandbox::new();
    let config = s.home().join("elsewhere/openclaw.json");
    let state = s.home().join("state");
    let mut cmd = s.cmd(&[
        "--config",
        config.to_str().unwrap(),
        "onboard",
        "--non-interactive",
        "--huggingface-api-key",
        TOKEN,
    ]);
    cmd.env("OPENCLAW_STATE_DIR", &state);
    let out = s.run_cmd(cmd);
    assert!(out.starts_with("exit: 0"), "{out}");
    assert!(out.contains("[HOME]/state/.env"), "{out}");
    let env = std::fs::read_to_string(state.join(".env")).unwrap();
    assert_eq!(env, format!("HF_TOKEN={TOKEN}\n"));
    assert!(!s.home().join("elsewhere/.env").exists());
}

#[test]
fn onboard_non_interactive_with_flag_key() {
    let s = Sandbox::new();
    s.write_config(COMMENTED);
    std::fs::write(
        s.home().join(".openclaw/.env"),
        "# keys\nOPENAI_API_KEY=sk-x\nHF_TOKEN=old\n",
    )
    .unwrap();
    let out = session(
        &s,
        &[&[
            "onboard",
            "--non-interactive",
            "--mode",
            "local",
            "--auth-choice",
            "huggingface-api-key",
            "--huggingface-api-key",
            TOKEN,
            "--model",
            "huggingface/Qwen/Qwen3-32B",
        ]],
    );
    insta::assert_snapshot!(out);
    let env = std::fs::read_to_string(s.home().join(".openclaw/.env")).unwrap();
    assert_eq!(
        env,
        format!("# keys\nOPENAI_API_KEY=sk-x\nHF_TOKEN={TOKEN}\n")
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(s.home().join(".openclaw/.env"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Twice: same bytes.
    let before = s.read_config();
    s.run(&[
        "onboard",
        "--non-interactive",
        "--huggingface-api-key",
        TOKEN,
        "--model",
        "huggingface/Qwen/Qwen3-32B",
    ]);
    assert_eq!(s.read_config(), before);
}

#[test]
fn onboard_non_interactive_from_scratch_with_env_key() {
    let s = Sandbox::new();
    let mut cmd = s.cmd(&["onboard", "--non-interactive"]);
    cmd.env("HF_TOKEN", TOKEN);
    let out = s.run_cmd(cmd);
    assert!(!out.contains(TOKEN));
    insta::assert_snapshot!(format!("{out}=== openclaw.json\n{}", s.read_config()));
    assert!(
        !s.home().join(".openclaw/.env").exists(),
        "a key from the environment stays there"
    );
}

#[test]
fn onboard_errors_say_what_to_do() {
    let s = Sandbox::new();
    insta::assert_snapshot!(session_without_file(
        &s,
        &[
            &["onboard", "--non-interactive"],
            &["onboard", "--non-interactive", "--mode", "remote"],
            &[
                "onboard",
                "--non-interactive",
                "--huggingface-api-key",
                "sk-not-hf"
            ],
        ]
    ));
    assert!(!s.config_path().exists());
}

fn session_without_file(sandbox: &Sandbox, commands: &[&[&str]]) -> String {
    commands
        .iter()
        .map(|args| format!("$ hfclaw {}\n{}", args.join(" "), sandbox.run(args)))
        .collect()
}

#[test]
fn status_shows_what_each_seed_config_means() {
    let mut all = String::new();
    let mut names: Vec<_> = std::fs::read_dir("../../tests/fixtures/seed-configs")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let s = Sandbox::new();
        s.write_config(&std::fs::read_to_string(&path).unwrap());
        all.push_str(&format!(
            "### {}\n",
            path.file_name().unwrap().to_string_lossy()
        ));
        all.push_str(&s.run(&["models", "status"]));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn status_json_and_problems() {
    let s = Sandbox::new();
    s.write_config(
        r#"{ agents: { defaults: {
            model: { primary: "huggingface/Qwen/Qwen3-8B", fallbacks: ["huggingface/Qwen/Qwen3-8B", "huggingface/zai-org/GLM-4.7", "huggingface/zai-org/GLM-4.7", "huggingface/x/unknown-model"] },
            models: { "huggingface/Qwen/Qwen3-8B": { alias: "q" } },
        } } }"#,
    );
    let mut cmd = s.cmd(&["models", "status", "--json"]);
    cmd.env("HF_TOKEN", TOKEN);
    let out = s.run_cmd(cmd);
    assert!(!out.contains(TOKEN));
    insta::assert_snapshot!(out);
}

#[test]
fn broken_config_is_never_written() {
    let s = Sandbox::new();
    let broken = "{ agents: { defaults: { model: 'x' } }\n";
    s.write_config(broken);
    let out = s.run(&["models", "set", "huggingface/Qwen/Qwen3-8B"]);
    assert!(out.starts_with("exit: 2"), "{out}");
    assert_eq!(s.read_config(), broken);
}
