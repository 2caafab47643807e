//! Regression tests of a black-box fault run (issue 13): deep nesting, secrets in error
//! snippets, temp files of killed writes, read-only configs, containers of the wrong
//! type, invalid UTF-8.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use hfclaw_config_merge::{
    ConfigDocument, ConfigError, Editor, edit_config, edit_models_json, env_file,
};

const TOKEN: &str = "hf_CoNfIg4h7Gt2Rk9Lm3Np6Qs8Tv1Wx5YzAb";

fn config(dir: &Path, text: &[u8]) -> PathBuf {
    let path = dir.join("openclaw.json");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `f` on a thread with a small stack: a parser that recursed once per level would
/// overflow it (and abort the test binary) long before 30,000 levels.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// `(line, column, message)` of a parse error.
fn position(err: &ConfigError) -> (usize, usize, String) {
    match err {
        ConfigError::Parse {
            line,
            column,
            message,
            ..
        } => (*line, *column, message.clone()),
        other => panic!("not a parse error: {other:?}"),
    }
}

#[test]
fn deep_nesting_is_an_error_at_the_first_level_too_many_in_every_reader() {
    let cases = [
        ("[".repeat(30_000), (1, 129)),
        ("{a:".repeat(100_000), (1, 3 * 128 + 1)),
        // Valid up to the depth: a 200-level `params` inside a real config.
        (
            format!(
                "{{\n  agents: {{ defaults: {{ params: {}1{} }} }},\n}}\n",
                "[".repeat(200),
                "]".repeat(200)
            ),
            (2, 33 + 125),
        ),
    ];
    for (text, (line, column)) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = config(dir.path(), text.as_bytes());
        let expected = (line, column, "nested deeper than 128 levels".to_owned());
        let (p, t) = (path.clone(), text.clone());
        let read = on_small_stack(move || ConfigDocument::parse(&p, t).unwrap_err());
        assert_eq!(position(&read), expected);
        assert!(read.is_input_error());
        assert_eq!(
            read.to_string(),
            format!(
                "{}:{line}:{column}: nested deeper than 128 levels",
                path.display()
            )
        );
        let p = path.clone();
        let load = on_small_stack(move || ConfigDocument::load(&p).unwrap_err());
        assert_eq!(position(&load), expected);
        let (p, t) = (path.clone(), text.clone());
        let editor = on_small_stack(move || Editor::new(&p, &t).unwrap_err());
        assert_eq!(position(&editor), expected);
        let p = path.clone();
        let edit = on_small_stack(move || edit_config(&p, |e| e.set_primary("huggingface/a/b")));
        assert_eq!(position(&edit.unwrap_err()), expected);
        let models_json = dir.path().join("models.json");
        std::fs::write(&models_json, &text).unwrap();
        let merge = on_small_stack(move || edit_models_json(&models_json, "http://x/v1", &[]));
        assert_eq!(position(&merge.unwrap_err()), expected);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
}

#[test]
fn a_syntax_error_before_deep_nesting_is_reported_first() {
    let text = format!("{{ a: 1 b: {} }}", "[".repeat(1000));
    let err = on_small_stack(move || {
        ConfigDocument::parse(Path::new("/c/openclaw.json"), text).unwrap_err()
    });
    assert_eq!(position(&err), (1, 8, "expected `,` or `}`".to_owned()));
}

/// The snippet of the parse error of `text`, checked to put its caret under the column
/// the message names.
fn snippet_of(text: &str) -> String {
    let err = ConfigDocument::parse(Path::new("/c/openclaw.json"), text.to_owned()).unwrap_err();
    let ConfigError::Parse {
        column, snippet, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    let (source, caret) = snippet.split_once('\n').unwrap();
    let gutter = source.find(" | ").unwrap() + 3;
    let caret_at = caret[gutter..].chars().count() - 1;
    assert!(caret.ends_with('^'), "{snippet}");
    // Lines of up to 100 characters are shown whole, longer ones cut around the column.
    let shown = source[gutter..].chars().count();
    if shown < 100 {
        assert_eq!(caret_at + 1, *column, "{snippet}");
    }
    assert!(!format!("{err}").contains("CoNf"), "{err}");
    assert!(!err.hint().unwrap().contains("CoNf"));
    snippet.clone()
}

#[test]
fn secrets_are_masked_in_syntax_error_snippets_with_the_caret_in_place() {
    // The fault run's config: a missing comma right after the token.
    let text = format!("{{\n  env: {{ vars: {{ HF_TOKEN: \"{TOKEN}\" }} }} agents: {{}},\n}}\n");
    insta::assert_snapshot!(snippet_of(&text), @r#"
    2 |   env: { vars: { HF_TOKEN: "hf_**********************************" } } agents: {},
      |                                                                        ^
    "#);
    // Unterminated: the string runs to the line's end.
    let text = format!("{{\n  env: {{ vars: {{ HF_TOKEN: \"{TOKEN}\n");
    insta::assert_snapshot!(snippet_of(&text), @r#"
    2 |   env: { vars: { HF_TOKEN: "hf_**********************************
      |                                                                  ^
    "#);
    // Values of secret keys, and a token in a comment, on a broken line.
    let text = format!(
        "{{ x: {{ apiKey: 'sk-1', headers: {{ Authorization: 'Bearer sk-9' }} }} y: 1 }} // {TOKEN}\n"
    );
    insta::assert_snapshot!(snippet_of(&text), @"
    1 | piKey: '****', headers: { Authorization: 'Bearer ****' } } y: 1 } // hf_****************************
      |                                                            ^
    ");
    // An invalid escape inside the token: the caret points into the masked value.
    let text = format!("{{ apiKey: '{}\\1{}' }}", &TOKEN[..10], &TOKEN[10..]);
    insta::assert_snapshot!(snippet_of(&text), @"
    1 | { apiKey: 'hf_************************************' }
      |                      ^
    ");
}

#[test]
fn tabs_before_the_caret_stay_tabs() {
    let snippet = snippet_of("{\n\ta: 1\t\tb: 2,\n}");
    assert_eq!(snippet, "2 | \ta: 1\t\tb: 2,\n  | \t    \t\t^");
}

#[test]
fn invalid_utf8_is_reported_at_the_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), b"{\n  agents: { x: \"ab\xffcd\" },\n}\n");
    let err = ConfigDocument::load(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2:19: invalid UTF-8 (byte 0xFF); the file must be UTF-8 text",
            path.display()
        )
    );
    let ConfigError::Parse { snippet, .. } = &err else {
        panic!()
    };
    assert_eq!(
        snippet,
        "2 |   agents: { x: \"ab\u{FFFD}cd\" },\n  |                   ^"
    );
    let edit = edit_config(&path, |e| e.set_primary("huggingface/a/b")).unwrap_err();
    assert_eq!(edit.to_string(), err.to_string());
    // A token on the same line is masked here too.
    let path = config(
        dir.path(),
        format!("{{ apiKey: '{TOKEN}\u{0}' }}").as_bytes(),
    );
    let mut bytes = std::fs::read(&path).unwrap();
    let nul = bytes.iter().position(|&b| b == 0).unwrap();
    bytes[nul] = 0xC0;
    std::fs::write(&path, bytes).unwrap();
    let err = ConfigDocument::load(&path).unwrap_err();
    assert!(!err.hint().unwrap().contains("CoNf"), "{:?}", err.hint());
    assert!(
        err.to_string().contains(":1:49: invalid UTF-8 (byte 0xC0)"),
        "{err}"
    );
}

#[test]
fn a_read_only_config_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let text = "{ agents: { defaults: { model: 'huggingface/a/b' } } }\n";
    let path = config(dir.path(), text.as_bytes());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let err = edit_config(&path, |e| e.set_primary("huggingface/c/d")).unwrap_err();
    assert_eq!(err.to_string(), format!("{} is read-only", path.display()));
    assert!(!err.is_input_error(), "a runtime refusal: exit 1");
    assert!(
        err.hint().unwrap().contains("chmod u+w"),
        "{:?}",
        err.hint()
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o444
    );
    assert!(!dir.path().join("openclaw.json.bak").exists());
    // Nothing to change: nothing refused either.
    let ((), outcome) =
        edit_config(&path, |e| e.set_primary("huggingface/a/b").map(|_| ())).unwrap();
    assert!(!outcome.changed);
    // The `.env` file too.
    let env = dir.path().join(".env");
    std::fs::write(&env, "A=1\n").unwrap();
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o400)).unwrap();
    let err = env_file::set_var(&env, "HF_TOKEN", TOKEN).unwrap_err();
    assert!(matches!(err, ConfigError::ReadOnly { .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&env).unwrap(), "A=1\n");
}

fn temp_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".hfclaw-"))
        .collect();
    names.sort();
    names
}

fn backdate(path: &Path) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
}

#[test]
fn stale_temp_files_of_killed_writes_are_removed_under_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), b"{}\n");
    // Temp files of the config's own writes (and of its backups): only writes holding the
    // config's lock make them, so under the lock they are stale however young.
    for name in [
        ".openclaw.json.hfclaw-Ab12Cd",
        ".openclaw.json.hfclaw-ZZZZZZ",
        ".openclaw.json.bak.hfclaw-q1w2e3",
        ".openclaw.json.hfclaw-live01",
        "..env.hfclaw-other1",
    ] {
        std::fs::write(dir.path().join(name), "{ copy }").unwrap();
    }
    // The older naming, of any file: removed once old and unheld.
    for name in [".hfclaw-old123", ".hfclaw-notours"] {
        std::fs::write(dir.path().join(name), "{ copy }").unwrap();
        backdate(&dir.path().join(name));
    }
    std::fs::write(dir.path().join(".hfclaw-young1"), "{ copy }").unwrap();
    // A writer that is still alive holds its temp file's lock.
    let live = std::fs::File::open(dir.path().join(".openclaw.json.hfclaw-live01")).unwrap();
    live.lock().unwrap();
    edit_config(&path, |e| e.set_primary("huggingface/a/b")).unwrap();
    assert_eq!(
        temp_files(dir.path()),
        [
            "..env.hfclaw-other1",
            ".hfclaw-notours",
            ".hfclaw-young1",
            ".openclaw.json.hfclaw-live01"
        ]
    );
    drop(live);
    // The next write, even one that changes nothing, sweeps again; the `.env`'s own
    // write sweeps its temp file.
    edit_config(&path, |e| e.set_primary("huggingface/a/b")).unwrap();
    env_file::set_var(&dir.path().join(".env"), "A", "1").unwrap();
    assert_eq!(
        temp_files(dir.path()),
        [".hfclaw-notours", ".hfclaw-young1"]
    );
}

/// Run by the test below in a child process: rewrites a 2 MB config until killed.
#[test]
fn kill_worker() {
    let Some(path) = std::env::var_os("HFCLAW_KILL_WORKER") else {
        return;
    };
    let path = PathBuf::from(path);
    for i in 0.. {
        let model = format!("huggingface/org/model-{}", i % 2);
        edit_config(&path, |e| e.set_primary(&model)).unwrap();
    }
}

#[test]
fn temp_files_of_writes_killed_mid_way_are_all_swept_by_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let filler = format!("// {}\n", "x".repeat(100)).repeat(20_000);
    let path = config(dir.path(), format!("{filler}{{}}\n").as_bytes());
    let mut killed = 0;
    for round in 0..12 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "kill_worker", "--nocapture"])
            .env("HFCLAW_KILL_WORKER", &path)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(60 + 17 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        killed += 1;
    }
    assert_eq!(killed, 12);
    edit_config(&path, |e| e.set_primary("huggingface/a/b")).unwrap();
    assert_eq!(temp_files(dir.path()), Vec::<String>::new());
    let doc = ConfigDocument::load(&path).unwrap().unwrap();
    assert_eq!(doc.view().primary.as_deref(), Some("huggingface/a/b"));
}

#[test]
fn edits_never_write_into_a_container_of_the_wrong_type() {
    type Edit = fn(&mut Editor) -> Result<bool, ConfigError>;
    let cases: [(&str, &str, Edit); 7] = [
        ("{ models: [] }", "models", |e| {
            e.ensure_provider_block(Some("http://x/v1"))
        }),
        ("{ models: { providers: [] } }", "models.providers", |e| {
            e.merge_provider_models(&[]).map(|_| true)
        }),
        ("{ agents: [] }", "agents", |e| {
            e.set_primary("huggingface/a/b")
        }),
        ("{ agents: { defaults: 'x' } }", "agents.defaults", |e| {
            e.add_fallback("huggingface/a/b")
        }),
        (
            "{ agents: { defaults: { model: [] } } }",
            "agents.defaults.model",
            |e| e.set_primary("huggingface/a/b"),
        ),
        (
            "{ agents: { defaults: { models: [] } } }",
            "agents.defaults.models",
            |e| e.set_alias("huggingface/a/b", "ab"),
        ),
        (
            "{ agents: { defaults: { model: { fallbacks: {} } } } }",
            "agents.defaults.model.fallbacks",
            |e| e.add_fallback("huggingface/a/b"),
        ),
    ];
    for (text, key, edit) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = config(dir.path(), text.as_bytes());
        let err = edit_config(&path, edit).unwrap_err();
        let ConfigError::WrongType { key: got, .. } = &err else {
            panic!("{text}: {err:?}")
        };
        assert_eq!(got, key, "{text}");
        assert!(err.is_input_error());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
}

#[test]
fn a_wrong_container_elsewhere_is_warned_about_and_the_edit_proceeds() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        b"{ models: [], agents: { defaults: { model: \"huggingface/deepseek-ai/DeepSeek-R1\" } } }",
    );
    let doc = ConfigDocument::load(&path).unwrap().unwrap();
    assert_eq!(doc.view().warnings, ["models is not an object; ignored"]);
    assert_eq!(
        doc.view().primary.as_deref(),
        Some("huggingface/deepseek-ai/DeepSeek-R1")
    );
    edit_config(&path, |e| e.set_primary("huggingface/Qwen/Qwen3-8B")).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{ models: [], agents: { defaults: { model: \"huggingface/Qwen/Qwen3-8B\" } } }"
    );
}
