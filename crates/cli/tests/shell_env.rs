//! `env.shellEnv` through the binary: the sandbox has no `$SHELL`, so the login shell is
//! `/bin/sh -l`, which reads the sandbox's `~/.profile` — the profile is the fake. (Fake
//! shells selected through `$SHELL` and an injected shells file are tested in
//! `router-client`'s `shell_env` module.) All offline.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::Sandbox;

const TOKEN: &str = "hf_shellSecretToken0123456789abcdWXYZ";
const OTHER: &str = "hf_otherSecretToken0123456789abcdQRST";

const ENABLED: &str = r#"{
  env: { shellEnv: { enabled: true } },
  agents: { defaults: { model: "huggingface/deepseek-ai/DeepSeek-R1" } },
}"#;

fn profile(s: &Sandbox, body: &str) {
    std::fs::write(
        s.home().join(".profile"),
        format!("{body}\necho ran >> \"$HOME/profile-ran\"\n"),
    )
    .unwrap();
}

fn profile_ran(s: &Sandbox) -> bool {
    s.home().join("profile-ran").exists()
}

fn run(s: &Sandbox, args: &[&str], vars: &[(&str, &str)]) -> String {
    let mut cmd = s.cmd(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let output = s.run_cmd(cmd);
    assert!(!output.contains("SecretToken"), "a token leaked:\n{output}");
    let shown: Vec<String> = vars
        .iter()
        .map(|(k, v)| {
            format!("{k}={v} ")
                .replace(TOKEN, "[TOKEN]")
                .replace(OTHER, "[OTHER]")
        })
        .collect();
    format!("$ {}hfclaw {}\n{output}", shown.concat(), args.join(" "))
}

#[test]
fn models_status_names_the_login_shell_that_exported_the_token() {
    let s = Sandbox::new();
    s.write_config(ENABLED);
    profile(
        &s,
        &format!("echo 'Welcome to the machine'\nexport HF_TOKEN={TOKEN}"),
    );
    let mut out = run(&s, &["models", "status"], &[]);
    assert!(profile_ran(&s));
    // Not in the diagnostics either (`run` fails on any token in the output).
    let traced = run(&s, &["-vv", "models", "status"], &[]);
    assert!(
        traced.contains("env.shellEnv: asking the login shell /bin/sh"),
        "{traced}"
    );
    // OpenClaw's environment switch enables it without the config key.
    s.write_config("{}");
    out.push_str(&run(
        &s,
        &["models", "status", "--json"],
        &[("OPENCLAW_LOAD_SHELL_ENV", "1")],
    ));
    insta::assert_snapshot!(out);
}

#[test]
fn shell_env_never_runs_when_disabled_or_a_token_was_found_or_none_is_needed() {
    let s = Sandbox::new();
    profile(&s, &format!("export HF_TOKEN={TOKEN}"));
    s.write_config(r#"{ env: { shellEnv: { enabled: false } } }"#);
    let disabled = run(&s, &["models", "status"], &[]);
    assert!(disabled.contains("token      none"), "{disabled}");
    s.write_config(ENABLED);
    let found = run(&s, &["models", "status"], &[("HF_TOKEN", OTHER)]);
    assert!(
        found.contains("(from HF_TOKEN environment variable)"),
        "{found}"
    );
    std::fs::write(
        s.home().join(".openclaw/.env"),
        format!("HF_TOKEN={OTHER}\n"),
    )
    .unwrap();
    let from_env_file = run(&s, &["models", "status"], &[]);
    assert!(
        from_env_file.contains("(from HF_TOKEN in [HOME]/.openclaw/.env)"),
        "{from_env_file}"
    );
    std::fs::remove_file(s.home().join(".openclaw/.env")).unwrap();
    for args in [
        &["models", "list", "--offline", "--search", "R1"][..],
        &["models", "set", "huggingface/Qwen/Qwen3-8B"],
        &["models", "fallbacks", "list"],
        &["completions", "bash"],
    ] {
        let out = run(&s, args, &[]);
        assert!(out.contains("exit: 0"), "{out}");
    }
    assert!(!profile_ran(&s), "the login shell ran when it must not");
}

#[test]
fn a_hanging_failing_or_garbled_profile_is_a_warning_not_an_error() {
    let s = Sandbox::new();
    let config = |timeout_ms: u32| {
        format!(
            r#"{{ env: {{ shellEnv: {{ enabled: true, timeoutMs: {timeout_ms} }} }},
                 agents: {{ defaults: {{ model: "huggingface/deepseek-ai/DeepSeek-R1" }} }} }}"#
        )
    };
    let mut out = String::new();
    s.write_config(&config(300));
    profile(&s, &format!("export HF_TOKEN={TOKEN}\nsleep 30"));
    let started = Instant::now();
    out.push_str(&run(&s, &["models", "status"], &[]));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // A loaded machine must not turn these into timeouts.
    s.write_config(&config(20_000));
    profile(&s, &format!("export HF_TOKEN={TOKEN}\nexit 1"));
    out.push_str(&run(&s, &["models", "status"], &[]));
    profile(&s, &format!("exec printf 'HF_TOKEN={TOKEN} but no NUL'"));
    out.push_str(&run(&s, &["models", "status"], &[]));
    insta::assert_snapshot!(out);
}

#[test]
fn doctor_checks_what_a_service_would_find_apart_from_this_shell() {
    let s = Sandbox::new();
    s.write_config(ENABLED);
    profile(&s, &format!("export HF_TOKEN={OTHER}"));
    let mut out = run(&s, &["doctor", "--offline"], &[("HF_TOKEN", TOKEN)]);
    // The login shell does not inherit this process's token: only what the profile sets
    // counts for a service.
    profile(&s, "true");
    out.push_str(&run(&s, &["doctor", "--offline"], &[("HF_TOKEN", TOKEN)]));
    std::fs::write(
        s.home().join(".openclaw/.env"),
        format!("HF_TOKEN={TOKEN}\n"),
    )
    .unwrap();
    out.push_str(&run(&s, &["doctor", "--offline"], &[("HF_TOKEN", TOKEN)]));
    insta::assert_snapshot!(out);
}

/// On a terminal, `bash -lic` in the background of the terminal's session stopped on it
/// (job control takes the terminal over) until the timeout: the login shell now runs in a
/// session of its own. Needs `/bin/bash` listed in `/etc/shells`.
#[test]
fn interactive_bash_on_a_terminal_does_not_stop() {
    let listed = std::fs::read_to_string("/etc/shells")
        .is_ok_and(|shells| shells.lines().any(|l| l.trim() == "/bin/bash"));
    if !listed || !std::path::Path::new("/bin/bash").exists() {
        eprintln!("skipped: /bin/bash is not a listed login shell here");
        return;
    }
    let s = Sandbox::new();
    s.write_config(r#"{ env: { shellEnv: { enabled: true, timeoutMs: 8000 } } }"#);
    std::fs::write(
        s.home().join(".bash_profile"),
        format!("export HF_TOKEN={TOKEN}\n"),
    )
    .unwrap();
    let mut cmd = s.cmd(&["models", "status"]);
    cmd.env("SHELL", "/bin/bash").env("TERM", "xterm");
    let started = Instant::now();
    let mut session = rexpect::session::spawn_command(cmd, Some(15_000)).unwrap();
    let out = session.exp_eof().unwrap();
    assert!(
        out.contains("(from HF_TOKEN in login shell /bin/bash)"),
        "{out}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}
