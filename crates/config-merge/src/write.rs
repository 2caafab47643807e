//! Safe writes of configs: a sibling lock file for the whole read-modify-write, the
//! sweep of temp files killed writes left, the one safe write of `hfclaw-catalog`'s
//! `safe_write` (temp file, fsync, rename), OpenClaw's `.bak` ring, and the file's mode
//! kept.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hfclaw_catalog::ConfigModel;
use hfclaw_catalog::safe_write::{self, sibling};

use crate::document::{parse_json5, utf8};
use crate::editor::{Editor, MergeReport};
use crate::locate::parent_dir;
use crate::{ConfigDocument, ConfigError};

/// How many backups OpenClaw keeps: `.bak`, `.bak.1` … `.bak.4`.
const BACKUPS: usize = 5;

/// What a write did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditOutcome {
    /// The file's bytes changed.
    pub changed: bool,
    /// Where the previous content was kept, when there was one.
    pub backup: Option<PathBuf>,
    /// The file did not exist before.
    pub created: bool,
}

/// Below this size the final text is also checked by the `json5` crate, independently
/// of the parser that guided the edit (~0.4 ms at this size). Larger files rely on the
/// strict parser alone, which re-checked every edit and is differentially tested against
/// `json5`: a second full parse would cost ~5 ms per MB, half the edit budget.
const CROSS_CHECK_LIMIT: usize = 64 * 1024;

/// Edits the config at `path` under its lock; writes only when the text changed.
///
/// A missing file starts as `{}` (its directory is created 0700); a file that does not
/// parse is left untouched (bytes and mtime) and the error carries `path:line:col`. When
/// `path` is a symlink, the file it points to is edited and the link kept.
pub fn edit_config<T>(
    path: &Path,
    f: impl FnOnce(&mut Editor) -> Result<T, ConfigError>,
) -> Result<(T, EditOutcome), ConfigError> {
    edit_loaded_config(path, None, f)
}

/// [`edit_config`] for a caller that already read the file: when the file under the lock
/// still holds exactly `loaded`'s text, its parse is reused (a 1 MB config is not parsed
/// twice); when anything changed in between, the file is parsed again, so a concurrent
/// edit is never lost.
pub fn edit_loaded_config<T>(
    path: &Path,
    loaded: Option<ConfigDocument>,
    f: impl FnOnce(&mut Editor) -> Result<T, ConfigError>,
) -> Result<(T, EditOutcome), ConfigError> {
    let dir = parent_dir(path);
    create_private_dir(&dir)?;
    let _lock = lock_beside(path)?;
    let target = resolve_link(path);
    safe_write::sweep_temps(&target);
    // The loaded text is reused when the file still holds it: compared in pieces, so a
    // 50 MB config is not held twice.
    let reused = match loaded {
        Some(doc) if file_holds(&target, doc.text())? => doc.into_tree(),
        _ => None,
    };
    let (mut editor, existing) = match reused {
        Some((text, tree)) => (Editor::from_tree(path, text, tree)?, None),
        None => {
            let existing = read_existing(&target)?;
            let start = existing.as_deref().unwrap_or("");
            (Editor::new(path, start)?, Some(existing))
        }
    };
    let value = f(&mut editor)?;
    // A missing or blank file is edited as "{}\n": still nothing to write if that is all.
    let (unchanged, existed) = match &existing {
        Some(existing) => {
            let start = existing.as_deref().unwrap_or("");
            let unchanged =
                editor.as_str() == start || (start.trim().is_empty() && editor.as_str() == "{}\n");
            (unchanged, existing.is_some())
        }
        None => (file_holds(&target, editor.as_str())?, true),
    };
    drop(existing);
    if unchanged {
        return Ok((value, EditOutcome::default()));
    }
    let text = editor.as_str();
    // A bug here must never leave the user with a config OpenClaw cannot read.
    if text.len() <= CROSS_CHECK_LIMIT
        && let Err(e) = parse_json5(path, text)
    {
        tracing::error!("an edit produced text json5 refuses: {e}");
        return Err(ConfigError::Bug {
            path: path.to_path_buf(),
            detail: format!("the edited text does not parse ({e})"),
        });
    }
    refuse_read_only(&target)?;
    let outcome = replace(&target, existed, text)?;
    tracing::debug!(path = %target.display(), "config written");
    Ok((value, outcome))
}

/// Whether the file at `path` holds exactly `text`, read in pieces (no copy of it).
fn file_holds(path: &Path, text: &str) -> Result<bool, ConfigError> {
    use std::io::Read;
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(ConfigError::io("reading", path, e)),
    };
    let mut expected = text.as_bytes();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = match file.read(&mut buffer) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ConfigError::io("reading", path, e)),
        };
        if n == 0 {
            return Ok(expected.is_empty());
        }
        if n > expected.len() || buffer[..n] != expected[..n] {
            return Ok(false);
        }
        expected = &expected[n..];
    }
}

/// The file a symlink points to (so the link survives the rename); `path` itself when
/// it is not a link or the link is dangling.
fn resolve_link(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// Merges catalog entries into OpenClaw's `models.json` (`providers.huggingface`), with
/// the same rules and safety as [`edit_config`].
pub fn edit_models_json(
    path: &Path,
    base_url: &str,
    entries: &[ConfigModel],
) -> Result<(MergeReport, EditOutcome), ConfigError> {
    edit_config(path, |editor| {
        editor.fill_block_at(&["providers", crate::PROVIDER_ID], Some(base_url))?;
        editor.merge_models_at(&["providers", crate::PROVIDER_ID], entries)
    })
}

fn read_existing(path: &Path) -> Result<Option<String>, ConfigError> {
    match fs::read(path) {
        Ok(bytes) => utf8(path, bytes).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigError::io("reading", path, e)),
    }
}

/// Refuses to replace a file its owner may not write (`chmod 444`): the rename would
/// succeed all the same (it needs only the directory), silently undoing the protection.
pub(crate) fn refuse_read_only(path: &Path) -> Result<(), ConfigError> {
    match fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o200 == 0 => Err(ConfigError::ReadOnly {
            path: path.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// Creates `dir` (0700, like OpenClaw's state dir) if it is missing.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), ConfigError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| ConfigError::io("creating directory", dir, e))
}

/// An exclusive lock on `<file>.lock` beside `path` (0600), held until dropped.
pub(crate) fn lock_beside(path: &Path) -> Result<File, ConfigError> {
    safe_write::lock_beside(path).map_err(|e| ConfigError::io("locking", sibling(path, ".lock"), e))
}

/// Rotates backups, keeps the old text as `.bak`, and atomically replaces the file.
fn replace(path: &Path, existed: bool, text: &str) -> Result<EditOutcome, ConfigError> {
    let meta = fs::metadata(path).ok();
    let mode = meta
        .as_ref()
        .map_or(0o600, |m| m.permissions().mode() & 0o7777);
    let backup = if existed {
        Some(keep_backup(path, meta.as_ref())?)
    } else {
        None
    };
    write_atomic(path, text.as_bytes(), mode)?;
    if let Some(backup) = &backup {
        // A hard-linked backup still has the old file's mode; OpenClaw's are 0600.
        fs::set_permissions(backup, fs::Permissions::from_mode(0o600))
            .map_err(|e| ConfigError::io("setting the mode of", backup, e))?;
    }
    Ok(EditOutcome {
        changed: true,
        backup,
        created: !existed,
    })
}

/// `.bak.3 → .bak.4`, …, `.bak → .bak.1`, then the previous content → `.bak`.
///
/// The previous content is kept by hard-linking the current file (the rename that
/// follows leaves that inode to `.bak` alone): no copy of a large config, no extra fsync.
/// A copy is written instead where links fail or the file has other links.
fn keep_backup(path: &Path, meta: Option<&fs::Metadata>) -> Result<PathBuf, ConfigError> {
    let name = |i: usize| match i {
        0 => sibling(path, ".bak"),
        i => sibling(path, &format!(".bak.{i}")),
    };
    for i in (0..BACKUPS - 1).rev() {
        let from = name(i);
        if from.exists() {
            let to = name(i + 1);
            fs::rename(&from, &to).map_err(|e| ConfigError::io("rotating backup", &from, e))?;
        }
    }
    let backup = name(0);
    let single_link = meta.is_some_and(|m| m.nlink() == 1);
    if single_link && fs::hard_link(path, &backup).is_ok() {
        return Ok(backup);
    }
    // The file is unchanged under the lock: its bytes are the previous content.
    let previous = fs::read(path).map_err(|e| ConfigError::io("reading", path, e))?;
    write_atomic(&backup, &previous, 0o600)?;
    Ok(backup)
}

/// The one safe write ([`safe_write::write_file`]: temp file created 0600, mode set,
/// fsync, rename, fsync of the directory); call it under [`lock_beside`].
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), ConfigError> {
    safe_write::write_file(path, bytes, mode).map_err(|e| ConfigError::io("writing", path, e))
}
