//! What the user sees for the configs of a black-box fault run (issue 13): nested too
//! deep, a token on a broken line, read-only, containers of the wrong type, invalid UTF-8.
//! All offline (the router URL is a closed loopback port).
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::Sandbox;

const TOKEN: &str = "hf_CoNfIg4h7Gt2Rk9Lm3Np6Qs8Tv1Wx5YzAb";
const CLOSED: &str = "http://127.0.0.1:9/v1";

/// The commands that read the config first.
const READERS: &[&[&str]] = &[
    &["models", "status"],
    &["models", "status", "--json"],
    &["models", "list", "--offline"],
    &["models", "list", "--refresh"],
    &["models", "set", "huggingface/Qwen/Qwen3-8B"],
    &["models", "fallbacks", "add", "huggingface/Qwen/Qwen3-8B"],
    &["models", "aliases", "set", "huggingface/Qwen/Qwen3-8B", "q"],
    &["models", "sync"],
    &["chat", "hi"],
    &[
        "onboard",
        "--non-interactive",
        "--huggingface-api-key",
        "hf_FlagKey0123456789abcdefghijklmnopq",
    ],
];

fn run(s: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let mut cmd = s.cmd(&["--router-url", CLOSED]);
    cmd.args(args);
    let out = cmd.output().unwrap();
    let home = s.home().to_string_lossy().into_owned();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).replace(&home, "[HOME]"),
        String::from_utf8_lossy(&out.stderr).replace(&home, "[HOME]"),
    )
}

#[test]
fn configs_nested_too_deep_are_an_input_error_never_a_crash() {
    for (text, column) in [
        ("[".repeat(30_000), 129),
        ("{a:".repeat(100_000), 385),
        (
            format!("{{ a: {}1{} }}", "[".repeat(10_000), "]".repeat(10_000)),
            133,
        ),
    ] {
        let s = Sandbox::new();
        s.write_config(&text);
        for args in READERS {
            let (code, stdout, stderr) = run(&s, args);
            assert_eq!(code, 2, "{args:?}: {stderr}");
            assert_eq!(stdout, "", "{args:?}");
            let first = stderr.lines().next().unwrap_or_default();
            assert_eq!(
                first,
                format!(
                    "error: [HOME]/.openclaw/openclaw.json:1:{column}: nested deeper than 128 levels"
                ),
                "{args:?}"
            );
        }
        assert_eq!(s.read_config(), text, "the file stays as it was");
    }
}

#[test]
fn a_token_on_a_broken_line_never_reaches_the_terminal() {
    let s = Sandbox::new();
    let broken = format!("{{\n  env: {{ vars: {{ HF_TOKEN: \"{TOKEN}\" }} }} agents: {{}},\n}}\n");
    let unterminated = format!("{{\n  env: {{ vars: {{ HF_TOKEN: \"{TOKEN}\n");
    for text in [&broken, &unterminated] {
        s.write_config(text);
        for args in READERS.iter().chain([&["doctor"][..]].iter()) {
            let (code, stdout, stderr) = run(&s, args);
            assert!(
                !stdout.contains("CoNf") && !stderr.contains("CoNf"),
                "{args:?} printed the token:\n{stdout}{stderr}"
            );
            if args[0] != "doctor" {
                assert_eq!(code, 2, "{args:?}");
            }
        }
        assert_eq!(&s.read_config(), text);
    }
    s.write_config(&broken);
    insta::assert_snapshot!(run(&s, &["models", "status"]).2, @r#"
    error: [HOME]/.openclaw/openclaw.json:2:72: expected comma
    hint: fix the syntax at the marked spot (the file was not changed):
    2 |   env: { vars: { HF_TOKEN: "hf_**********************************" } } agents: {},
      |                                                                        ^
    "#);
}

#[test]
fn a_read_only_config_is_refused_with_exit_1() {
    let s = Sandbox::new();
    let text = "{ agents: { defaults: { model: 'huggingface/deepseek-ai/DeepSeek-R1' } } }\n";
    let path = s.write_config(text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let (code, _, stderr) = run(&s, &["models", "set", "huggingface/Qwen/Qwen3-8B"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(stderr, @"
    error: [HOME]/.openclaw/openclaw.json is read-only
    hint: make it writable (`chmod u+w [HOME]/.openclaw/openclaw.json`) to let hfclaw edit it; the file was not changed
    ");
    assert_eq!(s.read_config(), text);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o444);
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "openclaw.json" && n != "openclaw.json.lock")
        .collect();
    assert!(names.is_empty(), "no backup, no temp file: {names:?}");
}

#[test]
fn containers_of_the_wrong_type_are_warned_about_and_never_written_into() {
    let s = Sandbox::new();
    let text =
        "{ models: [], agents: { defaults: { model: \"huggingface/deepseek-ai/DeepSeek-R1\" } } }";
    s.write_config(text);
    let (code, stdout, stderr) = run(&s, &["models", "status"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("default    huggingface/deepseek-ai/DeepSeek-R1"),
        "{stdout}"
    );
    assert!(
        stderr
            .contains("warning: [HOME]/.openclaw/openclaw.json: models is not an object; ignored"),
        "{stderr}"
    );
    // `sync` and `onboard` write into `models`: refused, file untouched.
    for args in [
        &["models", "sync"][..],
        &[
            "onboard",
            "--non-interactive",
            "--huggingface-api-key",
            "hf_FlagKey0123456789abcdefghijklmnopq",
        ],
    ] {
        let (code, _, stderr) = run(&s, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("error: [HOME]/.openclaw/openclaw.json: `models` must be an object"),
            "{args:?}: {stderr}"
        );
        assert_eq!(s.read_config(), text);
    }
    // `set` writes only `agents.defaults.model`, which is fine, and warns all the same.
    let (code, _, stderr) = run(&s, &["models", "set", "huggingface/Qwen/Qwen3-8B"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("models is not an object"), "{stderr}");
    assert_eq!(
        s.read_config(),
        text.replace("deepseek-ai/DeepSeek-R1", "Qwen/Qwen3-8B")
    );
}

#[test]
fn invalid_utf8_is_reported_at_the_bad_byte() {
    let s = Sandbox::new();
    let path = s.write_config("");
    std::fs::write(&path, b"{\n  agents: { x: \"ab\xffcd\" },\n}\n").unwrap();
    for args in READERS {
        let (code, _, stderr) = run(&s, args);
        assert_eq!(code, 2, "{args:?}");
        assert_eq!(
            stderr.lines().next().unwrap_or_default(),
            "error: [HOME]/.openclaw/openclaw.json:2:19: invalid UTF-8 (byte 0xFF); the file must be UTF-8 text",
            "{args:?}"
        );
    }
}
