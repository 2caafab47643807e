//! OpenClaw's memory search on Hugging Face embeddings through `hfclaw serve`: the README's
//! "OpenClaw memory on Hugging Face" recipe with the real OpenClaw.
//!
//! The real `hfclaw memory use` writes OpenClaw's `memory.search` block (OpenClaw's own
//! strict schema judges it when it loads the config), then `openclaw memory index --force`
//! embeds the memory files and `openclaw memory search` looks for a note, both through the
//! gateway's `POST /v1/embeddings`, which reads the model's provider mapping from the fake
//! Hub and calls the provider's own path with the provider's model id. The fake's vectors
//! are a bag of each text's words (`hfclaw_e2e::hub::vector`), so the note that shares the
//! query's words is the one a working vector search ranks first.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use hfclaw_e2e::{Mapping, Recorded};
use serde_json::Value;

use super::agents::{AGENT_TIMEOUT, AgentCase, CLIENT_KEY, HF_TOKEN, Inside, RECIPE_ADDR, output};
use super::process::{Captured, run_captured};
use crate::Result;

/// The embedding model of the recipe, and its provider id at `together` (the first
/// OpenAI-shaped provider of its mapping, so the one the gateway asks).
const EMBED_MODEL: &str = "BAAI/bge-m3";
const EMBED_TOGETHER_ID: &str = "BAAI/bge-m3-together";
/// The provider path that id is served on.
const TOGETHER_ROUTE: &str = "POST /together/v1/embeddings";
/// Vector size of the fake's answers (bge-m3's own is 1,024; small keeps the case fast).
const DIMS: usize = 64;
/// What the memory remembers, what else it holds, and what the search looks for: the
/// query shares words (4+ letters) with the release note only.
const RELEASE_NOTE: &str = "We decided to ship the release on Thursday after the review.";
const GARDEN_NOTE: &str = "The team met and talked about the garden and the weather.";
const QUERY: &str = "when do we ship the release";

/// The cases, in print order.
pub(super) fn cases() -> Vec<AgentCase> {
    vec![AgentCase {
        name: "OpenClaw memory: index --force + search through hfclaw serve (embeddings)",
        slug: "openclaw-memory",
        run: openclaw_memory,
        serve_args: &[],
        gateway: true,
    }]
}

fn openclaw_memory(inside: &Inside) -> Result<String> {
    inside.router.embedding_model(
        EMBED_MODEL,
        DIMS,
        &[
            Mapping::live("together", EMBED_TOGETHER_ID),
            Mapping::live("hf-inference", EMBED_MODEL),
        ],
    );
    let dir = inside.dir.join("openclaw");
    let home = dir.join("home");
    // The notes live in an extra memory path of the user's own `memory.search` block,
    // which `memory use` must keep, comment and all.
    let notes = dir.join("notes");
    for d in [&home, &notes] {
        fs::create_dir_all(d)?;
    }
    fs::write(
        notes.join("release.md"),
        format!("# Release\n\n{RELEASE_NOTE}\n"),
    )?;
    fs::write(
        notes.join("garden.md"),
        format!("# Team\n\n{GARDEN_NOTE}\n"),
    )?;
    let config = dir.join("openclaw.json");
    fs::write(
        &config,
        format!(
            "{{\n  memory: {{ search: {{\n    // notes outside the agent's workspace\n    \
             extraPaths: [{}],\n  }} }},\n}}\n",
            Value::String(notes.display().to_string())
        ),
    )?;
    // The gateway's client-key file (`hfclaw serve --api-key-file`'s format).
    let keys = dir.join("keys.txt");
    fs::write(&keys, format!("openclaw {CLIENT_KEY}\n"))?;
    fs::set_permissions(&keys, fs::Permissions::from_mode(0o600))?;

    let wrote = memory_use(inside, &dir, &config, &keys, &home)?;
    let written = fs::read_to_string(&config)?;
    if !written.contains("// notes outside the agent's workspace") {
        return Err(format!("hfclaw memory use lost the user's comment:\n{written}").into());
    }
    let openclaw = |args: &[&str], label: &str| -> Result<Captured> {
        let mut cmd = inside.openclaw(&dir)?;
        cmd.args(args);
        let run = run_captured(&mut cmd, &dir, label, AGENT_TIMEOUT)?;
        if run.code != Some(0) {
            return Err(format!(
                "openclaw {}: exit {:?}\n{}",
                args.join(" "),
                run.code,
                output(&run)
            )
            .into());
        }
        Ok(run)
    };
    openclaw(&["memory", "index", "--force"], "openclaw-index")?;
    let indexed = inside.router.provider_requests();
    let search = openclaw(&["memory", "search", QUERY, "--json"], "openclaw-search")?;
    let hit = first_hit(&search)?;
    let score = |name: &str| hit.get(name).and_then(Value::as_f64).unwrap_or(0.0);
    let snippet = hit.get("snippet").and_then(Value::as_str).unwrap_or("");
    // OpenClaw's search is hybrid (vectors and full-text); the vectors must be what
    // found the note.
    if !snippet.contains(RELEASE_NOTE) || score("vectorScore") <= score("textScore") {
        return Err(format!(
            "expected the release note first, found by its vector; got {hit}\n{}",
            output(&search)
        )
        .into());
    }
    let calls = inside.router.provider_requests();
    check_calls(&indexed, &calls)?;
    let hub_asks = inside
        .router
        .hub_requests()
        .iter()
        .filter(|r| r.route.contains(EMBED_MODEL))
        .count();
    let inputs: usize = calls.iter().map(|c| inputs_of(c).len()).sum();
    Ok(format!(
        "{wrote}; {} × {TOGETHER_ROUTE} ({inputs} inputs, {} while indexing): \
         {EMBED_TOGETHER_ID}; Hub asked {hub_asks}×; first hit the note (vector {:.2}, text {:.2})",
        calls.len(),
        indexed.len(),
        score("vectorScore"),
        score("textScore")
    ))
}

/// `hfclaw memory use BAAI/bge-m3 --api-key-file KEYS` as the recipe says (`--gateway` only
/// when the gateway is not on the recipe's address); returns what it wrote, in short.
fn memory_use(
    inside: &Inside,
    dir: &Path,
    config: &Path,
    keys: &Path,
    home: &Path,
) -> Result<String> {
    let mut cmd = Command::new(&inside.tools.hfclaw);
    cmd.arg("--config")
        .arg(config)
        .args(["memory", "use", EMBED_MODEL, "--api-key-file"])
        .arg(keys);
    if inside.addr() != RECIPE_ADDR {
        cmd.arg("--gateway")
            .arg(format!("http://{}", inside.addr()));
    }
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("HFCLAW_CACHE_DIR", dir.join("cache"))
        .env("HFCLAW_ROUTER_URL", inside.router.base_url())
        .env("HFCLAW_HUB_URL", inside.router.hub_url())
        .env("HF_TOKEN", HF_TOKEN)
        .env("NO_COLOR", "1");
    let run = run_captured(&mut cmd, dir, "hfclaw-memory-use", AGENT_TIMEOUT)?;
    if run.code != Some(0) {
        return Err(format!("hfclaw memory use: exit {:?}\n{}", run.code, output(&run)).into());
    }
    let config: Value = json5::from_str(&fs::read_to_string(config)?)?;
    let search = &config["memory"]["search"];
    let want_base = format!("http://{}/v1/", inside.addr());
    let got = (
        search["provider"].as_str(),
        search["model"].as_str(),
        search["remote"]["baseUrl"].as_str(),
        search["remote"]["apiKey"].as_str(),
    );
    let model = format!("huggingface/{EMBED_MODEL}");
    if got
        != (
            Some("openai-compatible"),
            Some(model.as_str()),
            Some(want_base.as_str()),
            Some(CLIENT_KEY),
        )
    {
        return Err(format!("hfclaw memory use wrote memory.search = {search}").into());
    }
    Ok(format!("memory use wrote openai-compatible {model}"))
}

/// The search's first result (`--json`: `{results: [{path, score, vectorScore,
/// textScore, snippet, …}]}`).
fn first_hit(search: &Captured) -> Result<Value> {
    let found: Value = serde_json::from_str(search.stdout.trim())
        .map_err(|e| format!("search output is not JSON ({e})\n{}", output(search)))?;
    found
        .get("results")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .cloned()
        .ok_or_else(|| format!("the search found nothing\n{}", output(search)).into())
}

/// What the router must have seen: only the provider's own path, the user's token (never
/// the client key), the provider's model id, calls both while indexing and for the search.
fn check_calls(indexed: &[Recorded], calls: &[Recorded]) -> Result<()> {
    let mut problems = Vec::new();
    for call in calls {
        if call.route != TOGETHER_ROUTE {
            problems.push(format!("unexpected {}", call.route));
        }
        if call.header("authorization") != Some(&format!("Bearer {HF_TOKEN}")) {
            problems.push(format!("{} without the user's token", call.route));
        }
        if call.headers.iter().any(|(_, v)| v.contains(CLIENT_KEY)) {
            problems.push(format!("{} carried the client key", call.route));
        }
        if call.model().as_deref() != Some(EMBED_TOGETHER_ID) {
            problems.push(format!("{} for model {:?}", call.route, call.model()));
        }
    }
    let indexed_texts: Vec<String> = indexed.iter().flat_map(inputs_of).collect();
    if !indexed_texts.iter().any(|t| t.contains(RELEASE_NOTE)) {
        problems.push(format!(
            "indexing did not embed the release note; inputs: {indexed_texts:?}"
        ));
    }
    let searched: Vec<String> = calls[indexed.len().min(calls.len())..]
        .iter()
        .flat_map(inputs_of)
        .collect();
    if searched != [QUERY] {
        problems.push(format!(
            "the search embedded {searched:?}, expected [{QUERY:?}]"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

/// The texts of an OpenAI-shaped embeddings request.
fn inputs_of(call: &Recorded) -> Vec<String> {
    let body: Value = serde_json::from_str(&call.body).unwrap_or_default();
    match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}
