//! The state dir `.env` (`HF_TOKEN=…`): one variable set in place, every other line kept,
//! written atomically with mode 0600 because it holds a secret.
//!
//! OpenClaw reads it with npm `dotenv` 17, so values are written the way that parser
//! reads them back: bare when safe, else single quotes (taken literally), else double
//! quotes (where only `\n` and `\r` are expanded).

use std::io;
use std::path::Path;

use crate::ConfigError;
use crate::locate::parent_dir;
use crate::write::{create_private_dir, lock_beside, refuse_read_only, write_atomic};

/// The value of `name` in a `.env` file (`NAME=value`, `export NAME=value`, quotes
/// removed); with several assignments the last one, as `dotenv` does.
pub fn read_var(path: &Path, name: &str) -> Result<Option<String>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ConfigError::io("reading", path, e)),
    };
    Ok(text
        .lines()
        .rev()
        .find_map(|line| assignment(line, name))
        .map(unquote))
}

/// Sets `name=value`: the first assignment is replaced in place (keeping `export `), later
/// ones are dropped, a missing one is appended; comments, blank lines, other variables and
/// line endings are kept. The file is (re)written 0600, under its lock (`.env.lock`).
/// Returns whether it changed.
pub fn set_var(path: &Path, name: &str, value: &str) -> Result<bool, ConfigError> {
    let invalid = |reason| ConfigError::EnvValue {
        path: path.to_path_buf(),
        name: name.to_owned(),
        reason,
    };
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
    {
        return Err(invalid("not a valid variable name"));
    }
    let line = format!(
        "{name}={}",
        quote(value).ok_or_else(|| invalid("the value mixes quotes and line breaks"))?
    );
    create_private_dir(&parent_dir(path))?;
    // The read-modify-write under the file's lock: two writers never lose a variable.
    let _lock = lock_beside(path)?;
    hfclaw_catalog::safe_write::sweep_temps(path);
    let old = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(ConfigError::io("reading", path, e)),
    };
    let text = with_line(old.as_deref().unwrap_or(""), name, &line);
    if old.as_deref() == Some(text.as_str()) {
        return Ok(false);
    }
    refuse_read_only(path)?;
    write_atomic(path, text.as_bytes(), 0o600)?;
    tracing::debug!(path = %path.display(), name, "env file updated");
    Ok(true)
}

/// `text` with the assignments of `name` replaced by `line` (see [`set_var`]).
pub(crate) fn with_line(text: &str, name: &str, line: &str) -> String {
    let mut out = String::with_capacity(text.len() + line.len() + 2);
    let mut done = false;
    for raw in text.split_inclusive('\n') {
        let content = raw.trim_end_matches(['\n', '\r']);
        if assignment(content, name).is_none() {
            out.push_str(raw);
            continue;
        }
        if done {
            continue;
        }
        done = true;
        if content.trim_start().starts_with("export ") {
            out.push_str("export ");
        }
        out.push_str(line);
        // The line keeps its own ending (`\r\n` stays `\r\n`).
        out.push_str(&raw[content.len()..]);
    }
    if !done {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The raw value when `line` assigns `name`.
pub(crate) fn assignment<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").map_or(line, str::trim_start);
    let rest = line.strip_prefix(name)?.trim_start();
    Some(rest.strip_prefix('=')?.trim())
}

/// A raw value as `dotenv` reads it.
pub(crate) fn unquote(raw: &str) -> String {
    for q in ['\'', '"', '`'] {
        if let Some(inner) = raw.strip_prefix(q).and_then(|r| r.split_once(q)) {
            let inner = inner.0;
            return if q == '"' {
                inner.replace("\\n", "\n").replace("\\r", "\r")
            } else {
                inner.to_owned()
            };
        }
    }
    // An unquoted value ends at `#`.
    raw.split('#').next().unwrap_or(raw).trim().to_owned()
}

/// The value written so `dotenv` reads back exactly `value`; `None` when it cannot be.
pub(crate) fn quote(value: &str) -> Option<String> {
    let bare = |b: u8| b.is_ascii_alphanumeric() || b"_-.:/+@,=%".contains(&b);
    if !value.is_empty() && value.bytes().all(bare) {
        return Some(value.to_owned());
    }
    if !value.contains(['\'', '\n', '\r']) {
        return Some(format!("'{value}'"));
    }
    // Double quotes expand `\n`/`\r` and nothing else, so a literal backslash or quote
    // would not survive.
    if !value.contains(['"', '\\']) {
        return Some(format!(
            "\"{}\"",
            value.replace('\n', "\\n").replace('\r', "\\r")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_round_trips_through_the_reader() {
        for value in [
            "hf_abc123",
            "",
            "a b",
            "x#y",
            "it's",
            "two\nlines",
            "q\"uote",
        ] {
            let line = format!("K={}", quote(value).unwrap());
            assert_eq!(unquote(assignment(&line, "K").unwrap()), value, "{line}");
        }
        assert_eq!(quote("it's \"both\"\n"), None);
    }
}
