//! Configs written by the real `hfclaw` binary (onboard, set, fallbacks, aliases, sync),
//! with what OpenClaw must report for each spelled out from the commands.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::cases::{Case, Expected, MODELS_JSON, aliases, allowlist, refs};
use crate::Result;

/// Hand-formatted starting point: comments, unquoted keys, single quotes, trailing commas.
const COMMENTED: &str = "tests/fixtures/interop/commented.json5";
/// The token the onboard cases save: fake, and never sent anywhere (`--offline`).
const FAKE_TOKEN: &str = "hf_interopFakeToken0123456789";
/// The default model the onboard cases choose.
const ONBOARD_MODEL: &str = "huggingface/Qwen/Qwen3-32B:fastest";
/// The alias onboard gives [`ONBOARD_MODEL`]: its catalog name.
const ONBOARD_ALIAS: &str = "Qwen3 32B (fastest)";

/// Edits chained on the commented fixture, in order; [`after_edits`] is what OpenClaw
/// must report afterwards. Refs and aliases are both used as arguments.
#[rustfmt::skip]
const EDITS: &[&[&str]] = &[
    &["models", "set", "huggingface/deepseek-ai/DeepSeek-R1:cheapest"],
    &["models", "fallbacks", "add", "huggingface/Qwen/Qwen3-8B"],
    &["models", "fallbacks", "add", "huggingface/openai/gpt-oss-120b:fastest"],
    &["models", "aliases", "set", "huggingface/Qwen/Qwen3-8B:fastest", "fast"],
    &["models", "aliases", "set", "huggingface/openai/gpt-oss-120b:fastest", "oss"],
    &["models", "fallbacks", "add", "fast"],
    &["models", "fallbacks", "remove", "huggingface/Qwen/Qwen3-8B"],
    &["models", "aliases", "remove", "oss"],
    &["models", "aliases", "remove", "Local Llama"],
    // Another provider's ref, taken as written (not as `huggingface/my-proxy/…`).
    &["models", "aliases", "set", "my-proxy/llama-local", "Llama"],
];

/// Cases whose configs the real `hfclaw` binary writes, each in its own dir under
/// `scratch`. Expectations are spelled out from what the commands asked for, not read back
/// from the written file, so a writer that saves the wrong thing fails even when OpenClaw
/// loads it.
pub(super) fn hfclaw_cases(root: &Path, scratch: &Path) -> Result<Vec<Case>> {
    let scratch = scratch.join("hfclaw");
    let hfclaw = Hfclaw::build(root, &scratch)?;
    let commented = root.join(COMMENTED);
    let seeds = root.join("tests/fixtures/seed-configs");
    let work = |slug: &str| Workdir::create(&scratch.join(slug));
    Ok(vec![
        onboard_new(&hfclaw, &work("onboard-new")?)?,
        onboard_commented(&hfclaw, &work("onboard-commented")?, &commented)?,
        edits_commented(&hfclaw, &work("edits-commented")?, &commented)?,
        sync_commented(&hfclaw, &work("sync-commented")?, &commented)?,
        sync_models_json(&hfclaw, &work("sync-models-json")?, &commented)?,
        edits_by_alias(
            &hfclaw,
            &work("edits-by-alias")?,
            &seeds.join("2-display-aliases.json5"),
        )?,
        sync_all(
            &hfclaw,
            &work("sync-all")?,
            &seeds.join("5-three-families.json5"),
        )?,
        first_alias(
            &hfclaw,
            &work("first-alias")?,
            &seeds.join("1-quickstart-primary.json5"),
        )?,
    ])
}

/// The first alias of a config without `agents.defaults.models` creates that map, which
/// OpenClaw then treats as the allowlist: the default and the fallback must be on it.
fn first_alias(hfclaw: &Hfclaw, work: &Workdir, seed: &Path) -> Result<Case> {
    work.start_from(seed)?;
    hfclaw.run_all(
        work,
        &[
            &["models", "fallbacks", "add", "huggingface/Qwen/Qwen3-8B"],
            &[
                "models",
                "aliases",
                "set",
                "huggingface/openai/gpt-oss-20b",
                "oss",
            ],
        ],
    )?;
    let expected = Expected {
        primary: Some("huggingface/deepseek-ai/DeepSeek-R1".to_owned()),
        fallbacks: refs(&["huggingface/Qwen/Qwen3-8B"]),
        aliases: aliases(&[("oss", "huggingface/openai/gpt-oss-20b")]),
        allowed: allowlist(&[
            "huggingface/deepseek-ai/DeepSeek-R1",
            "huggingface/Qwen/Qwen3-8B",
            "huggingface/openai/gpt-oss-20b",
        ]),
        hf_auth: None,
    };
    Ok(Case::loads(
        "hfclaw first alias keeps the selection allowed",
        work.config.clone(),
        expected,
    ))
}

/// `hfclaw onboard` without a config: creates one and saves the token to `.env`.
fn onboard_new(hfclaw: &Hfclaw, work: &Workdir) -> Result<Case> {
    hfclaw.run(work, &onboard_args())?;
    let expected = Expected {
        primary: Some(ONBOARD_MODEL.to_owned()),
        fallbacks: Vec::new(),
        aliases: aliases(&[(ONBOARD_ALIAS, ONBOARD_MODEL)]),
        allowed: allowlist(&[ONBOARD_MODEL]),
        hf_auth: Some("env".to_owned()),
    };
    Ok(
        Case::loads("hfclaw onboard: new config", work.config.clone(), expected)
            .with_state_file(".env", work.saved_token()?),
    )
}

/// `hfclaw onboard` on the commented fixture: a new default, the rest carried through.
fn onboard_commented(hfclaw: &Hfclaw, work: &Workdir, fixture: &Path) -> Result<Case> {
    work.start_from(fixture)?;
    hfclaw.run(work, &onboard_args())?;
    check_comments_kept(fixture, &work.config)?;
    let expected = Expected {
        primary: Some(ONBOARD_MODEL.to_owned()),
        fallbacks: refs(&["my-proxy/llama-local"]),
        aliases: aliases(&[
            ("Qwen3 8B", "huggingface/Qwen/Qwen3-8B"),
            ("Local Llama", "my-proxy/llama-local"),
            (ONBOARD_ALIAS, ONBOARD_MODEL),
        ]),
        // The fixture's allowlist (its model map keys) plus the new default.
        allowed: allowlist(&[
            "huggingface/Qwen/Qwen3-8B",
            "my-proxy/llama-local",
            ONBOARD_MODEL,
        ]),
        hf_auth: Some("env".to_owned()),
    };
    Ok(Case::loads(
        "hfclaw onboard: commented config",
        work.config.clone(),
        expected,
    )
    .with_state_file(".env", work.saved_token()?))
}

/// `models set`, `fallbacks add/remove`, `aliases set/remove` ([`EDITS`]) on the
/// commented fixture.
fn edits_commented(hfclaw: &Hfclaw, work: &Workdir, fixture: &Path) -> Result<Case> {
    work.start_from(fixture)?;
    hfclaw.run_all(work, EDITS)?;
    check_comments_kept(fixture, &work.config)?;
    Ok(Case::loads(
        "hfclaw set/fallbacks/aliases: commented",
        work.config.clone(),
        after_edits(),
    ))
}

/// [`EDITS`], then `models sync` writes catalog entries into the config's provider block.
fn sync_commented(hfclaw: &Hfclaw, work: &Workdir, fixture: &Path) -> Result<Case> {
    work.start_from(fixture)?;
    hfclaw.run_all(work, EDITS)?;
    hfclaw.run(work, &["models", "sync"])?;
    check_comments_kept(fixture, &work.config)?;
    Ok(Case::loads(
        "hfclaw edits + models sync: commented",
        work.config.clone(),
        after_edits(),
    ))
}

/// [`EDITS`], `models sync`, then `models sync --models-json` at its default path, which
/// must be where OpenClaw reads the agent's `models.json`. A file OpenClaw cannot use
/// fails `check_loads` through OpenClaw's stderr warning, except one that is not JSON
/// at all: OpenClaw 2026.9.6 drops that silently, so it is parsed here.
fn sync_models_json(hfclaw: &Hfclaw, work: &Workdir, fixture: &Path) -> Result<Case> {
    work.start_from(fixture)?;
    hfclaw.run_all(work, EDITS)?;
    hfclaw.run(work, &["models", "sync"])?;
    hfclaw.run(work, &["models", "sync", "--models-json"])?;
    check_comments_kept(fixture, &work.config)?;
    let models_json = work.state.join(MODELS_JSON);
    let text = fs::read_to_string(&models_json).map_err(|e| {
        format!(
            "`hfclaw models sync --models-json` wrote no {} (where OpenClaw reads it): {e}",
            models_json.display()
        )
    })?;
    serde_json::from_str::<Value>(&text)
        .map_err(|e| format!("{} is not JSON: {e}", models_json.display()))?;
    Ok(Case::loads(
        "hfclaw edits + sync --models-json: commented",
        work.config.clone(),
        after_edits(),
    )
    .with_state_file(MODELS_JSON, models_json))
}

/// `models set` and `fallbacks add` given aliases (seed 2 has aliases but no default).
fn edits_by_alias(hfclaw: &Hfclaw, work: &Workdir, seed: &Path) -> Result<Case> {
    work.start_from(seed)?;
    hfclaw.run_all(
        work,
        &[
            &["models", "set", "DeepSeek R1 (fast)"],
            &["models", "fallbacks", "add", "DeepSeek R1 (cheap)"],
        ],
    )?;
    let expected = Expected {
        primary: Some("huggingface/deepseek-ai/DeepSeek-R1".to_owned()),
        fallbacks: refs(&["huggingface/deepseek-ai/DeepSeek-R1:cheapest"]),
        aliases: aliases(&[
            ("DeepSeek R1 (fast)", "huggingface/deepseek-ai/DeepSeek-R1"),
            (
                "DeepSeek R1 (cheap)",
                "huggingface/deepseek-ai/DeepSeek-R1:cheapest",
            ),
        ]),
        allowed: allowlist(&[
            "huggingface/deepseek-ai/DeepSeek-R1",
            "huggingface/deepseek-ai/DeepSeek-R1:cheapest",
        ]),
        hf_auth: None,
    };
    Ok(Case::loads(
        "hfclaw set/fallbacks by alias: seed 2",
        work.config.clone(),
        expected,
    ))
}

/// `models sync --all` writes every catalog model into a config without a provider block;
/// it must not change what the seed chose, so the expectation is the *seed's*.
fn sync_all(hfclaw: &Hfclaw, work: &Workdir, seed: &Path) -> Result<Case> {
    work.start_from(seed)?;
    hfclaw.run(work, &["models", "sync", "--all"])?;
    Ok(Case::loads(
        "hfclaw models sync --all: seed 5",
        work.config.clone(),
        Expected::from_config(seed)?,
    ))
}

/// `hfclaw onboard`, non-interactive, choosing [`ONBOARD_MODEL`] and saving [`FAKE_TOKEN`].
fn onboard_args() -> [&'static str; 10] {
    [
        "onboard",
        "--non-interactive",
        "--mode",
        "local",
        "--auth-choice",
        "huggingface-api-key",
        "--huggingface-api-key",
        FAKE_TOKEN,
        "--model",
        ONBOARD_MODEL,
    ]
}

/// What OpenClaw must report after [`EDITS`] on the commented fixture.
fn after_edits() -> Expected {
    Expected {
        primary: Some("huggingface/deepseek-ai/DeepSeek-R1:cheapest".to_owned()),
        // The fixture's own fallback stays first; Qwen3-8B was added, then removed.
        fallbacks: refs(&[
            "my-proxy/llama-local",
            "huggingface/openai/gpt-oss-120b:fastest",
            "huggingface/Qwen/Qwen3-8B:fastest",
        ]),
        // "oss" and "Local Llama" were removed; the proxy model is "Llama" now.
        aliases: aliases(&[
            ("Qwen3 8B", "huggingface/Qwen/Qwen3-8B"),
            ("fast", "huggingface/Qwen/Qwen3-8B:fastest"),
            ("Llama", "my-proxy/llama-local"),
        ]),
        // The fixture's allowlist (its model map keys) plus every ref the edits named:
        // removing a fallback or an alias must not take the model off the allowlist.
        allowed: allowlist(&[
            "huggingface/Qwen/Qwen3-8B",
            "my-proxy/llama-local",
            "huggingface/deepseek-ai/DeepSeek-R1:cheapest",
            "huggingface/openai/gpt-oss-120b:fastest",
            "huggingface/Qwen/Qwen3-8B:fastest",
        ]),
        hf_auth: None,
    }
}

/// The `hfclaw` binary, run offline with an empty environment and a private HOME
/// and cache, so nothing from the machine (a real `~/.openclaw`, `HF_TOKEN`) leaks in.
struct Hfclaw {
    binary: PathBuf,
    home: PathBuf,
    cache: PathBuf,
}

impl Hfclaw {
    /// Builds the binary and makes its HOME and cache dirs under `scratch`.
    fn build(root: &Path, scratch: &Path) -> Result<Self> {
        let binary = build_binary(root, "hfclaw", "hfclaw")?;
        let home = scratch.join("home");
        fs::create_dir_all(&home)?;
        Ok(Self {
            binary,
            home,
            cache: scratch.join("cache"),
        })
    }

    /// Runs `hfclaw --offline --config <work config> ARGS` in `work` with
    /// `OPENCLAW_STATE_DIR` = its state dir; failing is an error with hfclaw's stderr.
    fn run(&self, work: &Workdir, args: &[&str]) -> Result<()> {
        let output = Command::new(&self.binary)
            .arg("--offline")
            .arg("--config")
            .arg(&work.config)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &self.home)
            .env("HFCLAW_CACHE_DIR", &self.cache)
            .env("OPENCLAW_STATE_DIR", &work.state)
            .env("NO_COLOR", "1")
            .current_dir(&work.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        if output.status.success() {
            return Ok(());
        }
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    (*a).to_owned()
                }
            })
            .collect();
        Err(format!(
            "`hfclaw --offline --config {} {}` exited with {}\n{}",
            work.config.display(),
            shown.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        )
        .into())
    }

    /// Runs each command in turn, stopping at the first failure.
    fn run_all(&self, work: &Workdir, commands: &[&[&str]]) -> Result<()> {
        commands.iter().try_for_each(|args| self.run(work, args))
    }
}

/// Builds `--package package --bin bin` (dev profile) and returns the executable cargo
/// reports, so `CARGO_TARGET_DIR` or a configured `build.target-dir` is respected.
pub(super) fn build_binary(root: &Path, package: &str, bin: &str) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["build", "--locked", "--package", package, "--bin", bin])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo build --package {package}` exited with {}",
            output.status
        )
        .into());
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m.get("reason").and_then(Value::as_str) == Some("compiler-artifact"))
        .filter(|m| m.pointer("/target/name").and_then(Value::as_str) == Some(bin))
        .find_map(|m| {
            m.get("executable")
                .and_then(Value::as_str)
                .map(PathBuf::from)
        })
        .ok_or_else(|| format!("cargo built {package} but reported no `{bin}` executable").into())
}

/// One hfclaw case's files. The config sits outside the state dir (as with
/// `--config`), so the onboard cases also check that the token lands in
/// `$OPENCLAW_STATE_DIR/.env`, the one OpenClaw reads, not beside the config.
struct Workdir {
    /// hfclaw's cwd.
    dir: PathBuf,
    state: PathBuf,
    config: PathBuf,
}

impl Workdir {
    fn create(dir: &Path) -> Result<Self> {
        let state = dir.join("state");
        fs::create_dir_all(&state)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            config: dir.join("openclaw.json"),
            state,
        })
    }

    /// Starts the config as a copy of `fixture`.
    fn start_from(&self, fixture: &Path) -> Result<()> {
        fs::copy(fixture, &self.config).map_err(|e| format!("{}: {e}", fixture.display()))?;
        Ok(())
    }

    /// The state dir's `.env`, once it holds the token onboard was given.
    fn saved_token(&self) -> Result<PathBuf> {
        let env = self.state.join(".env");
        let text = fs::read_to_string(&env).unwrap_or_default();
        if !text
            .lines()
            .any(|l| l.trim() == format!("HF_TOKEN={FAKE_TOKEN}"))
        {
            return Err(format!(
                "hfclaw onboard did not save HF_TOKEN to {}, where OpenClaw reads it",
                env.display()
            )
            .into());
        }
        Ok(env)
    }
}

/// Fails unless every comment of `original` (JSON5) is still in `written`, verbatim.
fn check_comments_kept(original: &Path, written: &Path) -> Result<()> {
    let before =
        fs::read_to_string(original).map_err(|e| format!("{}: {e}", original.display()))?;
    let after = fs::read_to_string(written).map_err(|e| format!("{}: {e}", written.display()))?;
    let comments = json5_comments(&before);
    if comments.is_empty() {
        return Err(format!("{} has no comments to check", original.display()).into());
    }
    let lost: Vec<&str> = comments
        .into_iter()
        .filter(|c| !after.contains(c))
        .collect();
    if lost.is_empty() {
        return Ok(());
    }
    Err(format!(
        "hfclaw dropped or altered {} comment(s) of {} in {}:\n  {}",
        lost.len(),
        original.display(),
        written.display(),
        lost.join("\n  ")
    )
    .into())
}

/// The comments of a JSON5 text, verbatim: `// …` up to the end of the line (trailing
/// whitespace trimmed), `/* … */` whole. Comment markers inside strings do not count.
fn json5_comments(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let next = bytes.get(i + 1).copied();
        match (byte, next) {
            (b'"' | b'\'', _) => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    i += if c == b'\\' { 2 } else { 1 };
                    if c == byte {
                        break;
                    }
                }
            }
            (b'/', Some(b'/')) => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                comments.push(text[i..end].trim_end());
                i = end;
            }
            (b'/', Some(b'*')) => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(text.len(), |n| i + 2 + n + 2);
                comments.push(&text[i..end]);
                i = end;
            }
            _ => i += 1,
        }
    }
    comments
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::root;

    #[test]
    fn json5_comments_are_found_verbatim_outside_strings() {
        let text = "// head \n{ a: 'http://x', /* b\n c */ b: \"/* no */\", // tail\r\n\
                    c: 'it\\'s // no' }\n// last";
        assert_eq!(
            json5_comments(text),
            ["// head", "/* b\n c */", "// tail", "// last"]
        );
    }

    #[test]
    fn a_dropped_comment_fails_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let (original, written) = (dir.path().join("a.json5"), dir.path().join("b.json5"));
        fs::write(&original, "{ /* keep */ a: 1, // gone\n}").unwrap();
        fs::write(&written, "{ /* keep */ a: 2,\n}").unwrap();
        let err = check_comments_kept(&original, &written).unwrap_err();
        assert!(err.to_string().ends_with("\n  // gone"), "{err}");
        fs::write(&written, "{ /* keep */ a: 2, // gone\n b: 3 }").unwrap();
        check_comments_kept(&original, &written).unwrap();
    }

    #[test]
    fn the_commented_fixture_parses_and_has_comments() {
        let path = root().join(COMMENTED);
        let text = fs::read_to_string(&path).unwrap();
        assert!(json5_comments(&text).len() >= 8);
        let e = Expected::from_config(&path).unwrap();
        assert_eq!(e.primary.as_deref(), Some("huggingface/Qwen/Qwen3-8B"));
    }
}
