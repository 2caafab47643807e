//! The key file of `hfclaw serve --api-key-file` (and `hfclaw keys import`): one key per
//! line, `KEY`, `LABEL KEY` or `LABEL KEY admin`; blank lines and `#` comments skipped.
//! A file group or others may read is refused (with the `chmod` that fixes it), and so is
//! one key under two labels or two keys under one label. Errors say where, never what:
//! a line may hold a key.

use std::path::{Path, PathBuf};

use super::{KeyHash, display_prefix, valid_label};
use crate::row::key_label;

/// One line of a key file.
#[derive(Clone, PartialEq, Eq)]
pub struct FileKey {
    /// Its label (`key-` and a piece of its hash when the line has none).
    pub label: String,
    /// The key itself (kept only as long as an import needs it).
    pub secret: String,
    /// Whether the line ends in `admin`.
    pub admin: bool,
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKey")
            .field("label", &self.label)
            .field("prefix", &display_prefix(&self.secret))
            .field("admin", &self.admin)
            .finish()
    }
}

impl FileKey {
    /// Its hash.
    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.secret)
    }
}

/// What is wrong with a key file (or a set of configured keys).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// It cannot be read.
    #[error("cannot read the key file {}: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Group or others may read it.
    #[error("the key file {} is readable by {who} (mode {mode:o}): anyone on this machine could use its keys", path.display())]
    Readable {
        /// The file.
        path: PathBuf,
        /// `group`, `others` or `group and others`.
        who: &'static str,
        /// Its permission bits.
        mode: u32,
    },
    /// A line is not `KEY`, `LABEL KEY` or `LABEL KEY admin`.
    #[error("{}:{line}: expected `KEY`, `LABEL KEY` or `LABEL KEY admin`, found {words} words", path.display())]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// How many words it holds.
        words: usize,
    },
    /// A label with characters a label may not hold.
    #[error("{}:{line}: the label {label:?} may only hold letters, digits, `-`, `_` and `.`", path.display())]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The label.
        label: String,
    },
    /// Two keys under one label.
    #[error("two client keys are labelled {0:?}")]
    DuplicateLabel(String),
    /// One key under two labels.
    #[error("one client key is given under two labels, {0:?} and {1:?}")]
    DuplicateKey(String, String),
}

impl KeyFileError {
    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            KeyFileError::Unreadable { .. } => {
                "pass a readable file with one key per line (`KEY` or `LABEL KEY`)".to_owned()
            }
            KeyFileError::Readable { path, .. } => format!("run `chmod 600 {}`", path.display()),
            KeyFileError::BadLine { .. } => {
                "one key per line, optionally after a label without spaces and before `admin`"
                    .to_owned()
            }
            KeyFileError::BadLabel { .. } => {
                "labels name keys in `hfclaw usage --by key`".to_owned()
            }
            KeyFileError::DuplicateLabel(_) => {
                "give each key its own label (`LABEL KEY` per line)".to_owned()
            }
            KeyFileError::DuplicateKey(_, _) => {
                "keep one line per key: a key is counted under one label".to_owned()
            }
        }
    }
}

/// Reads a key file, refusing one that group or others may read.
pub fn read(path: &Path) -> Result<Vec<FileKey>, KeyFileError> {
    let unreadable = |e: std::io::Error| KeyFileError::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(unreadable)?
            .permissions()
            .mode()
            & 0o777;
        let who = match (mode & 0o040 != 0, mode & 0o004 != 0) {
            (true, true) => Some("group and others"),
            (true, false) => Some("group"),
            (false, true) => Some("others"),
            (false, false) => None,
        };
        if let Some(who) = who {
            return Err(KeyFileError::Readable {
                path: path.to_owned(),
                who,
                mode,
            });
        }
    }
    parse(path, &text)
}

/// Parses a key file's text (`path` for messages).
pub fn parse(path: &Path, text: &str) -> Result<Vec<FileKey>, KeyFileError> {
    let mut keys = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (label, secret, admin) = match words.as_slice() {
            [secret] => (key_label(secret), *secret, false),
            [label, secret] => ((*label).to_owned(), *secret, false),
            [label, secret, flag] if flag.eq_ignore_ascii_case("admin") => {
                ((*label).to_owned(), *secret, true)
            }
            _ => {
                return Err(KeyFileError::BadLine {
                    path: path.to_owned(),
                    line: number + 1,
                    words: words.len(),
                });
            }
        };
        if !valid_label(&label) {
            return Err(KeyFileError::BadLabel {
                path: path.to_owned(),
                line: number + 1,
                label,
            });
        }
        keys.push(FileKey {
            label,
            secret: secret.to_owned(),
            admin,
        });
    }
    Ok(keys)
}

/// Refuses two keys under one label and one key under two labels.
pub fn check_unique<'a>(
    keys: impl IntoIterator<Item = (&'a str, KeyHash)>,
) -> Result<(), KeyFileError> {
    let mut seen: Vec<(&str, KeyHash)> = Vec::new();
    for (label, hash) in keys {
        for (other, other_hash) in &seen {
            if *other == label {
                return Err(KeyFileError::DuplicateLabel(label.to_owned()));
            }
            if other_hash.same(&hash) {
                return Err(KeyFileError::DuplicateKey(
                    (*other).to_owned(),
                    label.to_owned(),
                ));
            }
        }
        seen.push((label, hash));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Vec<FileKey>, KeyFileError> {
        parse(Path::new("keys.txt"), text)
    }

    #[test]
    fn lines_with_and_without_labels_and_admin() {
        let keys = parsed("# team\nsk-1\nalice sk-2\n\n ops sk-3 admin \n").unwrap_or_default();
        let summary: Vec<(&str, bool)> = keys.iter().map(|k| (k.label.as_str(), k.admin)).collect();
        assert_eq!(summary[1..], [("alice", false), ("ops", true)]);
        assert!(summary[0].0.starts_with("key-"));
        assert!(!format!("{keys:?}").contains("sk-2"));
    }

    #[test]
    fn bad_lines_say_where_never_what() {
        let e = parsed("a b c d\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "keys.txt:1: expected `KEY`, `LABEL KEY` or `LABEL KEY admin`, found 4 words"
        );
        let e = parsed("a sk-secret root\n").unwrap_err();
        assert!(!e.to_string().contains("sk-secret"));
        let e = parsed("al/ice sk\n").unwrap_err();
        assert!(matches!(e, KeyFileError::BadLabel { line: 1, .. }));
    }

    #[test]
    fn one_key_under_two_labels_and_two_keys_under_one_label_are_refused() {
        let pairs = |keys: &[(&'static str, &str)]| -> Vec<(&'static str, KeyHash)> {
            keys.iter().map(|(l, k)| (*l, KeyHash::of(k))).collect()
        };
        assert_eq!(
            check_unique(pairs(&[("a", "k1"), ("b", "k1")])),
            Err(KeyFileError::DuplicateKey("a".into(), "b".into()))
        );
        assert_eq!(
            check_unique(pairs(&[("a", "k1"), ("a", "k2")])),
            Err(KeyFileError::DuplicateLabel("a".into()))
        );
        assert_eq!(check_unique(pairs(&[("a", "k1"), ("b", "k2")])), Ok(()));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_is_refused_with_the_chmod() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, "alice sk-1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read(&path).unwrap_err();
        assert!(
            matches!(
                e,
                KeyFileError::Readable {
                    who: "group and others",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(e.hint(), format!("run `chmod 600 {}`", path.display()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read(&path).unwrap().len(), 1);
    }
}
