//! Interactive `hfclaw onboard` driven through a pseudo-terminal: the hidden token prompt,
//! reuse of a detected token, and the resulting files.
#![allow(clippy::unwrap_used)]

mod common;

use common::Sandbox;

const TOKEN: &str = "hf_ttySecretToken0123456789abcdWXYZ";

#[test]
fn prompts_for_a_hidden_token_then_writes_config_and_env() {
    let s = Sandbox::new();
    let mut cmd = s.cmd(&[
        "--offline",
        "onboard",
        "--model",
        "huggingface/Qwen/Qwen3-32B:fastest",
    ]);
    cmd.env("TERM", "xterm-256color");
    let mut session = rexpect::session::spawn_command(cmd, Some(15_000)).unwrap();
    session.exp_string("Hugging Face token").unwrap();
    session.send_line(TOKEN).unwrap();
    let rest = session.exp_eof().unwrap();
    assert!(
        rest.contains("default model: huggingface/Qwen/Qwen3-32B:fastest"),
        "{rest}"
    );
    assert!(
        !rest.contains(TOKEN),
        "the hidden prompt must not echo the token: {rest}"
    );

    let config: serde_json::Value = json5::from_str(&s.read_config()).unwrap();
    assert_eq!(
        config["agents"]["defaults"]["model"]["primary"],
        "huggingface/Qwen/Qwen3-32B:fastest"
    );
    assert_eq!(
        config["models"]["providers"]["huggingface"]["models"][0]["id"],
        "Qwen/Qwen3-32B:fastest"
    );
    let env = std::fs::read_to_string(s.home().join(".openclaw/.env")).unwrap();
    assert_eq!(env, format!("HF_TOKEN={TOKEN}\n"));
}

#[test]
fn without_a_terminal_it_says_to_use_non_interactive() {
    let s = Sandbox::new();
    let out = s.run(&["onboard"]);
    assert!(out.starts_with("exit: 2"), "{out}");
    assert!(out.contains("--non-interactive"), "{out}");
}
