//! Safe writes: a sibling lock file for the whole read-modify-write, a temp file in the
//! same directory, fsync, rename, OpenClaw's `.bak` ring, and the file's mode kept.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hfclaw_catalog::ConfigModel;

use crate::ConfigError;
use crate::document::parse_json5;
use crate::editor::{Editor, MergeReport};
use crate::locate::parent_dir;

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

/// Edits the config at `path` under its lock; writes only when the text changed.
///
/// A missing file starts as `{}`; a file that does not parse is left untouched (bytes and
/// mtime) and the error carries `path:line:col`.
pub fn edit_config<T>(
    path: &Path,
    f: impl FnOnce(&mut Editor) -> Result<T, ConfigError>,
) -> Result<(T, EditOutcome), ConfigError> {
    let dir = parent_dir(path);
    create_private_dir(&dir)?;
    let _lock = lock_beside(path)?;
    let existing = read_existing(path)?;
    let start = existing.as_deref().unwrap_or("");
    let mut editor = Editor::new(path, start)?;
    let baseline = editor.text();
    let value = f(&mut editor)?;
    let text = editor.text();
    if text == baseline {
        return Ok((value, EditOutcome::default()));
    }
    // A bug here must never leave the user with a config OpenClaw cannot read.
    parse_json5(path, &text)?;
    let outcome = replace(path, existing.as_deref(), &text)?;
    tracing::debug!(path = %path.display(), "config written");
    Ok((value, outcome))
}

/// Merges catalog entries into OpenClaw's `models.json` (`providers.huggingface`), with
/// the same rules and safety as [`edit_config`].
pub fn edit_models_json(
    path: &Path,
    base_url: &str,
    entries: &[ConfigModel],
) -> Result<(MergeReport, EditOutcome), ConfigError> {
    edit_config(path, |editor| {
        editor.fill_block_at(&["providers", crate::PROVIDER_ID], base_url)?;
        editor.merge_models_at(&["providers", crate::PROVIDER_ID], entries)
    })
}

fn read_existing(path: &Path) -> Result<Option<String>, ConfigError> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| ConfigError::Parse {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: "the file is not valid UTF-8".to_owned(),
                snippet: String::new(),
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigError::io("reading", path, e)),
    }
}

/// Creates `dir` (0700, like OpenClaw's state dir) if it is missing.
fn create_private_dir(dir: &Path) -> Result<(), ConfigError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| ConfigError::io("creating directory", dir, e))
}

/// An exclusive lock on `<file>.lock` beside `path`, held until dropped. A sibling file,
/// not the config itself, because the config is replaced by rename while locked.
fn lock_beside(path: &Path) -> Result<File, ConfigError> {
    let lock_path = sibling(path, ".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| ConfigError::io("opening lock file", &lock_path, e))?;
    file.lock()
        .map_err(|e| ConfigError::io("locking", &lock_path, e))?;
    Ok(file)
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Rotates backups, keeps the old text as `.bak`, and atomically replaces the file.
fn replace(path: &Path, previous: Option<&str>, text: &str) -> Result<EditOutcome, ConfigError> {
    let mode = match fs::metadata(path) {
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(_) => 0o600,
    };
    let backup = match previous {
        Some(previous) => Some(keep_backup(path, previous)?),
        None => None,
    };
    write_atomic(path, text.as_bytes(), mode)?;
    Ok(EditOutcome {
        changed: true,
        backup,
        created: previous.is_none(),
    })
}

/// `.bak.3 → .bak.4`, …, `.bak → .bak.1`, then the previous content → `.bak` (0600).
fn keep_backup(path: &Path, previous: &str) -> Result<PathBuf, ConfigError> {
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
    write_atomic(&backup, previous.as_bytes(), 0o600)?;
    Ok(backup)
}

/// Temp file in the same directory, mode set, fsync, rename, fsync of the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), ConfigError> {
    let dir = parent_dir(path);
    let mut temp = tempfile::Builder::new()
        .prefix(".hfclaw-")
        .tempfile_in(&dir)
        .map_err(|e| ConfigError::io("creating a temporary file in", &dir, e))?;
    let io = |e| ConfigError::io("writing", path, e);
    temp.write_all(bytes).map_err(io)?;
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(path)
        .map_err(|e| ConfigError::io("replacing", path, e.error))?;
    // The rename is durable only once the directory entry is.
    if let Ok(dir) = File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}
