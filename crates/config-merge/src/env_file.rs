//! The state dir `.env` (`HF_TOKEN=…`): one variable set in place, every other line kept,
//! written atomically with mode 0600 because it holds a secret.

use std::io;
use std::path::Path;

use crate::ConfigError;
use crate::locate::parent_dir;
use crate::write::write_atomic;

/// The value of `name` in a `.env` file (`NAME=value`, `export NAME=value`, quotes removed).
pub fn read_var(path: &Path, name: &str) -> Result<Option<String>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ConfigError::io("reading", path, e)),
    };
    Ok(text
        .lines()
        .find_map(|line| assignment(line, name))
        .map(unquote))
}

/// Sets `name=value`: the first assignment is replaced in place (keeping `export `), later
/// ones are dropped, a missing one is appended. Returns whether the file changed.
pub fn set_var(path: &Path, name: &str, value: &str) -> Result<bool, ConfigError> {
    let old = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(ConfigError::io("reading", path, e)),
    };
    let text = with_var(old.as_deref().unwrap_or(""), name, value);
    if old.as_deref() == Some(text.as_str()) {
        return Ok(false);
    }
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir).map_err(|e| ConfigError::io("creating directory", &dir, e))?;
    write_atomic(path, text.as_bytes(), 0o600)?;
    Ok(true)
}

/// The text with `name` set to `value`.
fn with_var(text: &str, name: &str, value: &str) -> String {
    let mut out = String::with_capacity(text.len() + name.len() + value.len() + 2);
    let mut done = false;
    for line in text.lines() {
        if assignment(line, name).is_some() {
            if !done {
                let export = if line.trim_start().starts_with("export ") {
                    "export "
                } else {
                    ""
                };
                out.push_str(&format!("{export}{name}={}\n", quote(value)));
                done = true;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !done {
        out.push_str(&format!("{name}={}\n", quote(value)));
    }
    out
}

/// The raw value when `line` assigns `name`.
fn assignment<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").map_or(line, str::trim_start);
    let rest = line.strip_prefix(name)?.trim_start();
    Some(rest.strip_prefix('=')?.trim())
}

fn unquote(raw: &str) -> String {
    for q in ['"', '\''] {
        if let Some(inner) = raw.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.replace("\\\"", "\"");
        }
    }
    // An unquoted value ends at a ` #` comment.
    raw.split(" #").next().unwrap_or(raw).trim().to_owned()
}

fn quote(value: &str) -> String {
    if value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-.:/+@".contains(&b))
    {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn replaces_in_place_keeps_other_lines_and_drops_duplicates() {
        let text = "# my env\nOPENAI_API_KEY=sk-1\nexport HF_TOKEN=old\nX=1\nHF_TOKEN=older\n";
        assert_eq!(
            with_var(text, "HF_TOKEN", "hf_new"),
            "# my env\nOPENAI_API_KEY=sk-1\nexport HF_TOKEN=hf_new\nX=1\n"
        );
        assert_eq!(with_var("A=1", "HF_TOKEN", "hf_x"), "A=1\nHF_TOKEN=hf_x\n");
        assert_eq!(
            with_var("HF_TOKENX=1\n", "HF_TOKEN", "v"),
            "HF_TOKENX=1\nHF_TOKEN=v\n"
        );
        assert_eq!(with_var("", "K", "a b"), "K=\"a b\"\n");
    }

    #[test]
    fn set_var_is_idempotent_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/.env");
        assert!(set_var(&path, "HF_TOKEN", "hf_abc").unwrap());
        assert!(!set_var(&path, "HF_TOKEN", "hf_abc").unwrap());
        assert_eq!(
            read_var(&path, "HF_TOKEN").unwrap().as_deref(),
            Some("hf_abc")
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(set_var(&path, "HF_TOKEN", "hf_def").unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a file holding a secret is made private");
    }

    #[test]
    fn reads_quoted_and_commented_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "A='x y'\nB=\"q\"\nC=plain # note\n").unwrap();
        assert_eq!(read_var(&path, "A").unwrap().as_deref(), Some("x y"));
        assert_eq!(read_var(&path, "B").unwrap().as_deref(), Some("q"));
        assert_eq!(read_var(&path, "C").unwrap().as_deref(), Some("plain"));
        assert_eq!(read_var(&path, "D").unwrap(), None);
    }
}
