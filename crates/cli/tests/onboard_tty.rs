//! Interactive `hfclaw onboard` driven through a pseudo-terminal: the hidden token prompt,
//! reuse of a detected token, the type-to-filter model picker and the routing variant,
//! and the resulting files.
//!
//! The prompts read raw keys, so the tests send what a keyboard sends: `\r` for Enter and
//! `ESC [ B` for the down arrow, flushed at once (rexpect's `send` buffers until a flush,
//! which is why keys without a newline seemed never to arrive). Each step waits for the
//! prompt it answers; bytes that arrive before a prompt switches the terminal to raw mode
//! wait in the tty's buffer.
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

const ENTER: &str = "\r";
const DOWN: &str = "\x1b[B";

/// Types `keys` into the terminal now.
fn press(session: &mut rexpect::session::PtySession, keys: &str) {
    session.send(keys).unwrap();
    session.flush().unwrap();
}

/// `hfclaw --offline onboard` in a pty, with `HF_TOKEN` set so the reuse prompt appears.
fn spawn_with_detected_token(s: &Sandbox) -> rexpect::session::PtySession {
    let mut cmd = s.cmd(&["--offline", "onboard"]);
    cmd.env("TERM", "xterm-256color").env("HF_TOKEN", TOKEN);
    rexpect::session::spawn_command(cmd, Some(15_000)).unwrap()
}

#[test]
fn reuses_the_detected_token_and_picks_a_filtered_model_with_fastest_routing() {
    let s = Sandbox::new();
    let mut session = spawn_with_detected_token(&s);
    // rexpect reads bytes as Latin-1, so match the ASCII end of the redacted token.
    let confirm = session
        .exp_string("Use the token from HF_TOKEN environment variable (hf_")
        .unwrap();
    session.exp_string("WXYZ)? (y/n)").unwrap();
    assert!(!confirm.contains(TOKEN), "{confirm}");
    press(&mut session, "y");

    session
        .exp_string("Default model (type to filter)")
        .unwrap();
    press(&mut session, "Qwen3-32B");
    // The filtered list shows the model's context window and price per million tokens
    // (no throughput in the snapshot: the highest live price, as a config gets it).
    session.exp_string("40K ctx  $0.08/$0.28 per 1M").unwrap();
    press(&mut session, ENTER);

    session.exp_string("Routing").unwrap();
    session
        .exp_string(":cheapest (lowest price per token)")
        .unwrap();
    press(&mut session, DOWN);
    press(&mut session, ENTER);
    let rest = session.exp_eof().unwrap();
    assert!(
        rest.contains("default model: huggingface/Qwen/Qwen3-32B:fastest"),
        "{rest}"
    );
    assert!(!rest.contains(TOKEN), "{rest}");

    let config: serde_json::Value = json5::from_str(&s.read_config()).unwrap();
    assert_eq!(
        config["agents"]["defaults"]["model"]["primary"],
        "huggingface/Qwen/Qwen3-32B:fastest"
    );
    assert_eq!(
        config["agents"]["defaults"]["models"]["huggingface/Qwen/Qwen3-32B:fastest"]["alias"],
        "Qwen3 32B (fastest)"
    );
    // OpenClaw reads HF_TOKEN from the environment too, so a reused env token is not
    // copied into the state dir.
    assert!(!s.home().join(".openclaw/.env").exists());
}

#[test]
fn declining_the_detected_token_asks_for_one_and_enter_keeps_the_current_default() {
    let s = Sandbox::new();
    let original = r#"// my agent
{
  agents: {
    defaults: {
      model: { primary: "huggingface/Qwen/Qwen3-8B" }, // keep me
    },
  },
}
"#;
    s.write_config(original);
    let mut session = spawn_with_detected_token(&s);
    session.exp_string("Use the token from").unwrap();
    press(&mut session, "n");
    session.exp_string("Hugging Face token").unwrap();
    session
        .send_line("hf_typedTokenABCDEFGHIJKLMNOP1234")
        .unwrap();

    // The picker starts on the current primary; Enter without typing keeps it.
    session
        .exp_string("Default model (type to filter)")
        .unwrap();
    press(&mut session, ENTER);
    session.exp_string("Routing").unwrap();
    press(&mut session, DOWN);
    press(&mut session, DOWN);
    press(&mut session, ENTER);
    let rest = session.exp_eof().unwrap();
    assert!(
        rest.contains("default model: huggingface/Qwen/Qwen3-8B:cheapest"),
        "{rest}"
    );
    assert!(!rest.contains("hf_typedToken"), "{rest}");

    let text = s.read_config();
    assert!(text.starts_with("// my agent\n"), "{text}");
    assert!(text.contains("// keep me"), "{text}");
    let config: serde_json::Value = json5::from_str(&text).unwrap();
    assert_eq!(
        config["agents"]["defaults"]["model"]["primary"],
        "huggingface/Qwen/Qwen3-8B:cheapest"
    );
    let env = std::fs::read_to_string(s.home().join(".openclaw/.env")).unwrap();
    assert_eq!(env, "HF_TOKEN=hf_typedTokenABCDEFGHIJKLMNOP1234\n");
}

#[test]
fn without_a_terminal_it_says_to_use_non_interactive() {
    let s = Sandbox::new();
    let out = s.run(&["onboard"]);
    assert!(out.starts_with("exit: 2"), "{out}");
    assert!(out.contains("--non-interactive"), "{out}");
}
