//! What a new user meets in the first hour (issue 19), offline: onboarding run twice, the
//! token wherever it is, the router URL a config keeps, `doctor` on a broken config, the
//! `--json` of the list commands, and the help layout.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Sandbox, TOKEN, session};

fn config_json(sandbox: &Sandbox) -> serde_json::Value {
    json5::from_str(&sandbox.read_config()).unwrap()
}

#[test]
fn onboard_again_keeps_the_default_and_finds_the_token_it_saved() {
    let s = Sandbox::new();
    let out = session(
        &s,
        &[
            &[
                "onboard",
                "--non-interactive",
                "--huggingface-api-key",
                TOKEN,
                "--model",
                "huggingface/Qwen/Qwen3-32B",
            ],
            // No key and no environment: the state dir .env the first run wrote.
            &["onboard", "--non-interactive"],
        ],
    );
    insta::assert_snapshot!(out);
    let config = config_json(&s);
    assert_eq!(
        config["agents"]["defaults"]["model"]["primary"],
        "huggingface/Qwen/Qwen3-32B"
    );
    // --model still changes it.
    let changed = s.run(&[
        "onboard",
        "--non-interactive",
        "--model",
        "huggingface/deepseek-ai/DeepSeek-R1",
    ]);
    assert!(changed.starts_with("exit: 0"), "{changed}");
    assert_eq!(
        config_json(&s)["agents"]["defaults"]["model"]["primary"],
        "huggingface/deepseek-ai/DeepSeek-R1"
    );
}

#[test]
fn onboard_takes_the_global_token_and_saves_it() {
    let s = Sandbox::new();
    let out = s.run(&["--token", TOKEN, "onboard", "--non-interactive"]);
    assert!(out.starts_with("exit: 0"), "{out}");
    assert!(
        out.contains("saved the token (hf_…WXYZ) to [HOME]/.openclaw/.env"),
        "{out}"
    );
    let env = std::fs::read_to_string(s.home().join(".openclaw/.env")).unwrap();
    assert_eq!(env, format!("HF_TOKEN={TOKEN}\n"));
}

#[test]
fn onboard_says_where_a_service_will_not_see_a_token_of_this_shell() {
    let s = Sandbox::new();
    let mut cmd = s.cmd(&["onboard", "--non-interactive"]);
    cmd.env("HF_TOKEN", TOKEN);
    let out = s.run_cmd(cmd);
    assert!(
        out.contains(
            "note: a service (`hfclaw service`, OpenClaw's daemon) does not see this \
             shell's HF_TOKEN; add HF_TOKEN=hf_… to [HOME]/.openclaw/.env"
        ),
        "{out}"
    );
    // Saved where a service looks, the note goes.
    std::fs::write(
        s.home().join(".openclaw/.env"),
        format!("HF_TOKEN={TOKEN}\n"),
    )
    .unwrap();
    let mut cmd = s.cmd(&["onboard", "--non-interactive"]);
    cmd.env("HF_TOKEN", TOKEN);
    let out = s.run_cmd(cmd);
    assert!(
        out.starts_with("exit: 0") && !out.contains("note:"),
        "{out}"
    );
}

#[test]
fn onboard_writes_the_router_url_only_when_asked_to() {
    let s = Sandbox::new();
    // The shell's HFCLAW_ROUTER_URL is not the config's.
    let mut cmd = s.cmd(&[
        "onboard",
        "--non-interactive",
        "--huggingface-api-key",
        TOKEN,
    ]);
    cmd.env("HFCLAW_ROUTER_URL", "http://127.0.0.1:9/v1");
    let out = s.run_cmd(cmd);
    assert!(out.starts_with("exit: 0"), "{out}");
    let block = &config_json(&s)["models"]["providers"]["huggingface"];
    assert_eq!(block.get("baseUrl"), None, "{block}");
    assert_eq!(block["api"], "openai-completions");
    // An explicit --router-url is saved, and replaces a saved one.
    for url in ["http://127.0.0.1:9/v1/", "http://127.0.0.1:8/v1"] {
        let out = s.run(&["--router-url", url, "onboard", "--non-interactive"]);
        assert!(out.starts_with("exit: 0"), "{out}");
    }
    assert_eq!(
        config_json(&s)["models"]["providers"]["huggingface"]["baseUrl"],
        "http://127.0.0.1:8/v1"
    );
    // The public router again: the override goes.
    let out = s.run(&[
        "--router-url",
        "https://router.huggingface.co/v1",
        "onboard",
        "--non-interactive",
    ]);
    assert!(out.starts_with("exit: 0"), "{out}");
    let block = &config_json(&s)["models"]["providers"]["huggingface"];
    assert_eq!(block.get("baseUrl"), None, "{block}");
}

#[test]
fn doctor_on_a_config_that_does_not_parse_skips_what_needs_it() {
    let s = Sandbox::new();
    s.write_config("{ agents: { defaults: { model: 'huggingface/Qwen/Qwen3-8B' }\n");
    let text = s.run(&["doctor"]);
    insta::assert_snapshot!(text);
    assert!(!text.contains("no default model"), "{text}");
    let json = s.run(&["doctor", "--json"]);
    let stdout = json.split("--- stdout\n").nth(1).unwrap();
    let stdout = stdout.split("--- stderr").next().unwrap();
    let report: serde_json::Value = serde_json::from_str(stdout).unwrap();
    assert_eq!(report["ok"], false);
    let status_of = |area: &str| -> Vec<String> {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["area"] == area)
            .map(|c| c["status"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(status_of("config"), ["fail"]);
    assert_eq!(status_of("models"), ["skip"]);
    assert_eq!(status_of("router"), ["skip"]);
    assert!(json.starts_with("exit: 1"), "{json}");
}

#[test]
fn doctor_json_lists_every_check() {
    let s = Sandbox::new();
    s.write_config(
        "{ agents: { defaults: { model: { primary: 'huggingface/Qwen/Qwen3-8B' } } } }\n",
    );
    let mut cmd = s.cmd(&["--offline", "doctor", "--json"]);
    cmd.env("HF_TOKEN", TOKEN);
    let out = s.run_cmd(cmd);
    insta::assert_snapshot!(out);
}

#[test]
fn list_commands_print_json_arrays() {
    let s = Sandbox::new();
    s.write_config(
        r#"{ agents: { defaults: {
  model: { primary: 'huggingface/deepseek-ai/DeepSeek-R1', fallbacks: ['huggingface/Qwen/Qwen3-8B:cheapest', 'huggingface/Qwen/Qwen3-32B'] },
  models: { 'huggingface/Qwen/Qwen3-8B:cheapest': { alias: 'qwen' }, 'huggingface/deepseek-ai/DeepSeek-R1': { alias: 'R1' } },
} } }"#,
    );
    let out = [
        &["models", "fallbacks", "list", "--json"][..],
        &["models", "aliases", "list", "--json"],
    ]
    .iter()
    .map(|args| format!("$ hfclaw {}\n{}", args.join(" "), s.run(args)))
    .collect::<String>();
    insta::assert_snapshot!(out);
    // With nothing to list: an empty array, and the note on stderr.
    let empty = Sandbox::new();
    let out = empty.run(&["models", "aliases", "list", "--json"]);
    assert!(
        out.starts_with("exit: 0\n--- stdout\n[]\n--- stderr\nnote: no aliases"),
        "{out}"
    );
}

#[test]
fn help_shows_global_options_after_the_commands_own() {
    let s = Sandbox::new();
    insta::assert_snapshot!(s.run(&["models", "fallbacks", "list", "--help"]));
}

const NO_ALIASES: &str = r#"// my agent
{
  agents: {
    defaults: {
      model: {
        primary: 'huggingface/deepseek-ai/DeepSeek-R1',
        fallbacks: ['huggingface/Qwen/Qwen3-8B'],
      },
    },
  },
}
"#;

/// Defect 3: the first alias says it creates OpenClaw's allowlist and how to undo it;
/// `aliases set` then `aliases remove` leaves the file as it was; `models status` reports
/// allowlist entries no catalog lists.
#[test]
fn allowlist_hygiene() {
    let s = Sandbox::new();
    s.write_config(NO_ALIASES);
    let set = s.run(&[
        "--offline",
        "models",
        "aliases",
        "set",
        "huggingface/Qwen/Qwen3-32B",
        "big qwen",
    ]);
    insta::assert_snapshot!(set);
    let removed = s.run(&[
        "--offline",
        "models",
        "aliases",
        "remove",
        "huggingface/Qwen/Qwen3-32B",
    ]);
    assert!(removed.starts_with("exit: 0"), "{removed}");
    assert_eq!(s.read_config(), NO_ALIASES);
    s.write_config(
        r#"{ agents: { defaults: {
  model: { primary: 'huggingface/deepseek-ai/DeepSeek-R1' },
  models: { 'huggingface/deepseek-ai/DeepSeek-R1': {}, 'huggingface/acme/Gone-1': {} },
} } }"#,
    );
    let status = s.run(&["--offline", "models", "status"]);
    assert!(
        status.contains(
            "- allowlist entry huggingface/acme/Gone-1: acme/Gone-1 is not in the built-in catalog"
        ),
        "{status}"
    );
}

/// Defect 15: a token with a space is said to contain one; swapped `aliases set`
/// arguments are recognised; `models list --provider grok` names the known providers.
#[test]
fn typos_get_hints_that_fit() {
    let s = Sandbox::new();
    s.write_config(NO_ALIASES);
    insta::assert_snapshot!(session(
        &s,
        &[
            &[
                "onboard",
                "--non-interactive",
                "--huggingface-api-key",
                "hf_abc def",
            ],
            &[
                "--offline",
                "models",
                "aliases",
                "set",
                "qwen2",
                "huggingface/Qwen/Qwen2.5-7B-Instruct",
            ],
        ]
    ));
    let list = s.run(&["--offline", "models", "list", "--provider", "grok"]);
    assert!(list.starts_with("exit: 2"), "{list}");
    assert!(
        list.contains("error: no model of the catalog is served by \"grok\""),
        "{list}"
    );
    assert!(
        list.contains("hint: did you mean --provider groq?"),
        "{list}"
    );
    assert!(list.contains("hint: known providers: cerebras, "), "{list}");
}
