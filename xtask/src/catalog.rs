//! Generating `crates/catalog/src/builtin_data.rs` from a router snapshot and curated facts.
//!
//! Inputs (checked in): `crates/catalog/data/router-snapshot.json` (a `GET /v1/models`
//! answer), `crates/catalog/data/router-snapshot.meta.json` (its as-of date and origin) and
//! `crates/catalog/data/curated.json` (names, output limits, reasoning flags).
//! The output is deterministic: models sorted by id, providers in snapshot order.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use hfclaw_catalog::{
    Discovered, LiveModel, ProviderInfo, cheapest_live, derive_name, min_context,
};
use serde::Deserialize;

use crate::{Result, root};

const SNAPSHOT: &str = "crates/catalog/data/router-snapshot.json";
const SNAPSHOT_META: &str = "crates/catalog/data/router-snapshot.meta.json";
const CURATED: &str = "crates/catalog/data/curated.json";
const GENERATED: &str = "crates/catalog/src/builtin_data.rs";
const LIVE_URL: &str = "https://router.huggingface.co/v1/models";

/// When the snapshot was taken and where it comes from: a snapshot without a date would
/// pass old numbers off as current.
#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct SnapshotMeta {
    /// `YYYY-MM-DD`.
    as_of: String,
    /// One sentence: how the snapshot was obtained.
    origin: String,
}

#[derive(Deserialize)]
struct Curated {
    required: Vec<String>,
    models: BTreeMap<String, CuratedModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CuratedModel {
    name: Option<String>,
    max_output_tokens: Option<u64>,
    #[serde(default)]
    reasoning: bool,
}

const REFRESH_USAGE: &str = "usage: cargo xtask catalog refresh [--snapshot FILE --as-of YYYY-MM-DD [--origin TEXT] | --live]";

/// `cargo xtask catalog refresh [--snapshot FILE --as-of DATE [--origin TEXT] | --live]`.
pub fn refresh(args: &[&str]) -> Result<()> {
    let snapshot_path = root().join(SNAPSHOT);
    match args {
        [] => {}
        ["--snapshot", file, rest @ ..] => {
            let meta = snapshot_meta(file, rest)?;
            let body = std::fs::read(file).map_err(|e| format!("reading {file}: {e}"))?;
            hfclaw_catalog::parse_model_list(&body)?;
            std::fs::write(&snapshot_path, body)?;
            write_meta(&meta)?;
        }
        ["--live"] => {
            let body = fetch_live()?;
            hfclaw_catalog::parse_model_list(&body)?;
            std::fs::write(&snapshot_path, body)?;
            let today = hfclaw_catalog::cache::rfc3339(std::time::SystemTime::now());
            write_meta(&SnapshotMeta {
                as_of: today[..10].to_owned(),
                origin: format!("GET {LIVE_URL} (cargo xtask catalog refresh --live)"),
            })?;
        }
        _ => return Err(REFRESH_USAGE.into()),
    }
    let generated = generate(true)?;
    let out = root().join(GENERATED);
    std::fs::write(&out, generated)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// `--as-of DATE [--origin TEXT]` after `--snapshot FILE`.
fn snapshot_meta(file: &str, rest: &[&str]) -> Result<SnapshotMeta> {
    let (as_of, origin) = match rest {
        ["--as-of", date] => (*date, format!("snapshot file {file}")),
        ["--as-of", date, "--origin", origin] | ["--origin", origin, "--as-of", date] => {
            (*date, (*origin).to_owned())
        }
        _ => {
            return Err(
                format!("--snapshot needs the date the list was taken\n{REFRESH_USAGE}").into(),
            );
        }
    };
    if !is_iso_date(as_of) {
        return Err(format!("--as-of {as_of:?} is not a date like 2026-07-27").into());
    }
    Ok(SnapshotMeta {
        as_of: as_of.to_owned(),
        origin,
    })
}

fn is_iso_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

fn write_meta(meta: &SnapshotMeta) -> Result<()> {
    let text = serde_json::to_string_pretty(meta)? + "\n";
    std::fs::write(root().join(SNAPSHOT_META), text)?;
    Ok(())
}

fn read_meta() -> Result<SnapshotMeta> {
    let text = std::fs::read_to_string(root().join(SNAPSHOT_META))
        .map_err(|e| format!("reading {SNAPSHOT_META}: {e}"))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{SNAPSHOT_META}: {e}"))?)
}

/// `cargo xtask catalog check`: fails when the checked-in file differs from a fresh generation.
pub fn check() -> Result<()> {
    let expected = generate(false)?;
    let path = root().join(GENERATED);
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != expected {
        return Err(format!(
            "{GENERATED} is stale: run `cargo xtask catalog refresh` and commit the result"
        )
        .into());
    }
    println!("catalog: {GENERATED} is up to date");
    Ok(())
}

fn fetch_live() -> Result<Vec<u8>> {
    let token =
        std::env::var("HF_TOKEN").map_err(|_| "--live needs HF_TOKEN in the environment")?;
    let output = std::process::Command::new("curl")
        .args(["-fsSL", "--compressed", "--max-time", "30", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(LIVE_URL)
        .output()
        .map_err(|e| format!("running curl: {e}"))?;
    if !output.status.success() {
        return Err(format!("fetching {LIVE_URL} failed ({})", output.status).into());
    }
    Ok(output.stdout)
}

/// The generated Rust source for the current inputs; `report` prints skipped entries.
pub fn generate(report: bool) -> Result<String> {
    let snapshot: PathBuf = root().join(SNAPSHOT);
    let body = std::fs::read(&snapshot).map_err(|e| format!("reading {SNAPSHOT}: {e}"))?;
    let curated: Curated = serde_json::from_str(&std::fs::read_to_string(root().join(CURATED))?)
        .map_err(|e| format!("{CURATED}: {e}"))?;
    let Discovered {
        mut models,
        warnings,
        ..
    } = hfclaw_catalog::parse_model_list(&body)?;
    for warning in warnings.iter().filter(|_| report) {
        eprintln!("note: snapshot: {warning}");
    }
    models.retain(|m| m.providers.iter().any(ProviderInfo::is_usable));
    models.sort_by(|a, b| a.id.cmp(&b.id));
    for id in &curated.required {
        if !models.iter().any(|m| &m.id == id) {
            return Err(format!("the snapshot lacks required model {id} (see {CURATED})").into());
        }
    }
    for id in curated.models.keys().filter(|_| report) {
        if !models.iter().any(|m| &m.id == id) {
            eprintln!("note: {CURATED} describes {id}, which the snapshot does not serve");
        }
    }
    Ok(render(&models, &curated, &read_meta()?, &sha256_hex(&body)))
}

fn render(models: &[LiveModel], curated: &Curated, meta: &SnapshotMeta, digest: &str) -> String {
    let mut out = String::new();
    out.push_str("// @generated by `cargo xtask catalog refresh`; do not edit by hand.\n");
    let _ = writeln!(
        out,
        "// Inputs: {SNAPSHOT} (sha256 {digest}), {SNAPSHOT_META} and {CURATED}."
    );
    let _ = writeln!(out, "// Router data as of {}: {}", meta.as_of, meta.origin);
    out.push_str("\nuse super::{BuiltinModel, BuiltinProvider};\n\n");
    out.push_str("/// Which snapshot the table was generated from.\n");
    let _ = writeln!(
        out,
        "pub const SNAPSHOT_SOURCE: &str = \"{SNAPSHOT} sha256:{digest}\";\n"
    );
    out.push_str("/// The day the snapshot's router data was taken (`YYYY-MM-DD`).\n");
    let _ = writeln!(out, "pub const AS_OF: &str = {:?};\n", meta.as_of);
    out.push_str("/// How the snapshot was obtained.\n");
    let _ = writeln!(out, "pub const ORIGIN: &str = {:?};\n", meta.origin);
    out.push_str("#[rustfmt::skip]\npub(super) static MODELS: &[BuiltinModel] = &[\n");
    for model in models {
        render_model(&mut out, model, curated.models.get(&model.id));
    }
    out.push_str("];\n");
    out
}

fn render_model(out: &mut String, model: &LiveModel, curated: Option<&CuratedModel>) {
    let name = model
        .api_name
        .clone()
        .or_else(|| curated.and_then(|c| c.name.clone()))
        .unwrap_or_else(|| derive_name(&model.id));
    let owned_by: &str = model
        .owned_by
        .as_deref()
        .unwrap_or_else(|| model.id.split('/').next().unwrap_or_default());
    let cost = cheapest_live(&model.providers).and_then(|p| p.pricing);
    let input = model
        .input_modalities
        .clone()
        .unwrap_or_else(|| vec!["text".to_owned()]);
    let _ = writeln!(out, "    BuiltinModel {{");
    let _ = writeln!(out, "        id: {:?},", model.id);
    let _ = writeln!(out, "        name: {name:?},");
    let _ = writeln!(out, "        owned_by: {owned_by:?},");
    let _ = writeln!(
        out,
        "        context_window: {:?},",
        min_context(&model.providers)
    );
    let _ = writeln!(
        out,
        "        max_output_tokens: {:?},",
        curated.and_then(|c| c.max_output_tokens)
    );
    let _ = writeln!(
        out,
        "        cost: {:?},",
        cost.map(|c| (c.input, c.output))
    );
    let _ = writeln!(
        out,
        "        reasoning: {:?},",
        model
            .reasoning
            .unwrap_or(curated.is_some_and(|c| c.reasoning))
    );
    let _ = writeln!(out, "        input: &{input:?},");
    out.push_str("        providers: &[\n");
    for p in &model.providers {
        let _ = writeln!(
            out,
            "            BuiltinProvider {{ name: {:?}, status: {:?}, context_length: {:?}, pricing: {:?}, supports_tools: {:?}, supports_structured_output: {:?}, first_token_latency_ms: {:?}, throughput: {:?}, is_free: {:?}, is_model_author: {:?} }},",
            p.name,
            p.status.as_str(),
            p.context_length,
            p.pricing.map(|c| (c.input, c.output)),
            p.supports_tools,
            p.supports_structured_output,
            p.first_token_latency_ms,
            p.throughput,
            p.is_free,
            p.is_model_author,
        );
    }
    out.push_str("        ],\n    },\n");
}

/// SHA-256, so the header names exactly which snapshot produced the table.
fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
