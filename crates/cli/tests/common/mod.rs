//! Runs the real `hfclaw` binary in an isolated environment and renders what the user sees.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A token that looks real; sessions assert it never shows up in any output.
pub const TOKEN: &str = "hf_cliSecretToken0123456789abcdWXYZ";

/// Runs the commands in order and renders every output (the token as `[TOKEN]` in the
/// command lines), then the final config.
pub fn session(sandbox: &Sandbox, commands: &[&[&str]]) -> String {
    let mut out = String::new();
    for args in commands {
        out.push_str(&format!(
            "$ hfclaw {}\n",
            args.join(" ").replace(TOKEN, "[TOKEN]")
        ));
        out.push_str(&sandbox.run(args));
    }
    out.push_str("=== openclaw.json\n");
    out.push_str(&sandbox.read_config());
    assert!(!out.contains(TOKEN), "the token leaked:\n{out}");
    out
}

/// A scratch home with its own `~/.openclaw`, and no inherited tokens or config variables.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// `~/.openclaw/openclaw.json` of this sandbox.
    pub fn config_path(&self) -> PathBuf {
        self.home().join(".openclaw/openclaw.json")
    }

    /// Writes the default config file.
    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.config_path();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn read_config(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap()
    }

    /// A command with a clean environment: only PATH, HOME and a cache dir inside the sandbox.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hfclaw"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.home().join(".cache"))
            .env("HFCLAW_CACHE_DIR", self.home().join(".cache/hfclaw"))
            .env("NO_COLOR", "1")
            .args(args);
        cmd
    }

    /// Runs and renders exit code, stdout and stderr, with the sandbox path redacted.
    pub fn run(&self, args: &[&str]) -> String {
        self.run_cmd(self.cmd(args))
    }

    pub fn run_cmd(&self, mut cmd: Command) -> String {
        let output = cmd.output().unwrap();
        self.render(&output)
    }

    pub fn render(&self, output: &Output) -> String {
        let home = self.home().to_string_lossy().into_owned();
        let text = format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            output
                .status
                .code()
                .map_or("signal".to_owned(), |c| c.to_string()),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        redact_snapshot_age(&text.replace(&home, "[HOME]"))
    }
}

/// `built-in snapshot of 2026-07-27, 133 days old` → `…, [N] days old`: the age grows
/// every day.
pub fn redact_snapshot_age(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(" days old") {
        let digits = rest[..i].trim_end_matches(|c: char| c.is_ascii_digit());
        out.push_str(digits);
        if digits.len() < i {
            out.push_str("[N]");
        }
        out.push_str(" days old");
        rest = &rest[i + " days old".len()..];
    }
    out.push_str(rest);
    out
}
