//! The one safe write of a file, for every file hfclaw writes (the config and its backups,
//! `models.json`, the `.env`, the discovery cache, the service unit, the Hugging Face
//! token files): here, in the lowest crate that writes files, so no crate keeps a copy.
//!
//! A write of `name` holds an exclusive lock on `name.lock` beside it ([`lock_beside`]),
//! sweeps the temp files earlier writes of `name` left when they were killed
//! ([`sweep_temps`]), and replaces the file through a temp file in the same directory
//! ([`write_file`]): `.name.hfclaw-XXXXXX`, created 0600 and locked while it lives,
//! written, given its final mode, fsynced, renamed over `name`, and the directory fsynced.
//! A reader sees the old file or the new one, never half of one; a crash leaves at most a
//! temp file, which the next write of `name` removes. Lock and temp files are 0600: they
//! sit beside configs holding secrets.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What marks a temp file of a write (before the six random characters).
const TEMP_MARK: &str = ".hfclaw-";
/// Mode of lock and temp files.
const PRIVATE: u32 = 0o600;
/// Temp files of the older naming (`.hfclaw-XXXXXX`, any target) are removed only when no
/// writer holds them and they are at least this old (their writer may have just created
/// one and not locked it yet).
const LEGACY_STALE_AFTER: Duration = Duration::from_secs(2);

/// [`lock_beside`], [`sweep_temps`] and [`write_file`]: the whole safe write of a file
/// written whole (not read-modify-write: for that, hold the lock across the read).
pub fn write_locked(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let _lock = lock_beside(path)?;
    sweep_temps(path);
    write_file(path, bytes, mode)
}

/// An exclusive lock on `<file>.lock` beside `path` (created 0600; the directory must
/// exist), held until the file is dropped. A sibling file, not `path` itself, because
/// `path` is replaced by rename while locked.
pub fn lock_beside(path: &Path) -> io::Result<File> {
    let lock_path = sibling(path, ".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(PRIVATE)
        .open(&lock_path)?;
    // A lock file made by an older version (or under another umask) becomes 0600 too.
    if file
        .metadata()
        .is_ok_and(|m| m.permissions().mode() & 0o7777 != PRIVATE)
    {
        let _ = file.set_permissions(fs::Permissions::from_mode(PRIVATE));
    }
    file.lock()?;
    Ok(file)
}

/// Replaces `path` with `bytes`, mode `mode`, through a temp file in its directory (see
/// the module). Call it under [`lock_beside`]`(path)`, after [`sweep_temps`].
pub fn write_file(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = parent_dir(path);
    let mut temp = create_temp(path, &dir)?;
    // Held until the rename: tells a sweep of the older naming that this write is alive
    // (the kernel drops the lock when a killed writer dies). Best effort: not every file
    // system locks.
    let _ = temp.as_file().lock();
    temp.write_all(bytes)?;
    if mode != PRIVATE {
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))?;
    }
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    // The rename is durable only once the directory entry is.
    if let Ok(dir) = File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Removes what killed writes of `path` left beside it: its temp files
/// (`.name.hfclaw-XXXXXX`, and those of files named `name.…` such as its backups
/// `name.bak`), which only writes holding `path`'s lock make — so, called under that lock,
/// every one that no writer holds is stale — and temp files of the older naming
/// (`.hfclaw-XXXXXX`) that no writer holds and that are a few seconds old.
pub fn sweep_temps(path: &Path) {
    let dir = parent_dir(path);
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    let own = temp_prefix(path);
    let own_family = format!(".{}.", file_name(path));
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let legacy = is_temp_name(name, TEMP_MARK);
        let ours = !legacy
            && (is_temp_name(name, &own) || (name.starts_with(&own_family) && has_temp_tail(name)));
        if !(ours || legacy) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.file_type().is_file() {
            continue;
        }
        if legacy {
            let age = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok());
            if age.is_none_or(|age| age < LEGACY_STALE_AFTER) {
                continue;
            }
        }
        // A live writer (of another process that broke the rules, or a legacy one) holds it.
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if file.try_lock().is_err() {
            continue;
        }
        let _ = fs::remove_file(&path);
    }
}

/// A new temp file for a write of `path` in `dir`, 0600 from its creation (before a byte
/// of a config's secrets is in it).
fn create_temp(path: &Path, dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .permissions(fs::Permissions::from_mode(PRIVATE))
        .tempfile_in(dir)
}

/// `.name.hfclaw-`: the prefix of `path`'s temp files.
fn temp_prefix(path: &Path) -> String {
    format!(".{}{TEMP_MARK}", file_name(path))
}

/// `prefix` then the six letters or digits `tempfile` adds.
fn is_temp_name(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Ends in `.hfclaw-XXXXXX`.
fn has_temp_tail(name: &str) -> bool {
    name.len() > TEMP_MARK.len() + 6
        && name.is_char_boundary(name.len() - 6 - TEMP_MARK.len())
        && is_temp_name(&name[name.len() - 6 - TEMP_MARK.len()..], TEMP_MARK)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `path` with `suffix` appended to its file name.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// The directory of `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_write_replaces_the_file_with_its_mode_and_leaves_lock_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("unit.service");
        write_locked(&path, b"one", 0o644).unwrap();
        write_locked(&path, b"two", 0o644).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(mode(&path), 0o644);
        assert_eq!(names(dir.path()), ["unit.service", "unit.service.lock"]);
        assert_eq!(mode(&dir.path().join("unit.service.lock")), 0o600);
    }

    #[test]
    fn lock_files_are_private_even_when_an_older_version_made_them_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        let lock = dir.path().join("openclaw.json.lock");
        fs::write(&lock, "").unwrap();
        fs::set_permissions(&lock, fs::Permissions::from_mode(0o644)).unwrap();
        drop(lock_beside(&path).unwrap());
        assert_eq!(mode(&lock), 0o600);
    }

    #[test]
    fn a_sweep_removes_every_stale_temp_of_its_file_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        let stale = [
            ".openclaw.json.hfclaw-aB3dE9",
            ".openclaw.json.hfclaw-000000",
            ".openclaw.json.bak.hfclaw-zzzzzz",
        ];
        let others = [
            ".env.hfclaw-abcdef",    // another file's: its own writes sweep it
            ".openclaw.json.hfclaw", // not a temp name
            "openclaw.json.bak",
            "notes.txt",
        ];
        for name in stale.iter().chain(&others) {
            fs::write(dir.path().join(name), "x").unwrap();
        }
        // Just written, unlocked: under the lock they are stale all the same.
        write_locked(&path, b"{}", 0o600).unwrap();
        let mut expected: Vec<String> = others.iter().map(|n| (*n).to_owned()).collect();
        expected.extend(["openclaw.json".to_owned(), "openclaw.json.lock".to_owned()]);
        expected.sort();
        assert_eq!(names(dir.path()), expected);
    }

    #[test]
    fn a_temp_file_a_live_writer_holds_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        let live = dir.path().join("..env.hfclaw-Live01");
        fs::write(&live, "x").unwrap();
        let held = File::open(&live).unwrap();
        held.lock().unwrap();
        let legacy_young = dir.path().join(".hfclaw-young1");
        fs::write(&legacy_young, "x").unwrap();
        write_locked(&path, b"A=1\n", 0o600).unwrap();
        assert!(live.exists());
        assert!(
            legacy_young.exists(),
            "a young legacy temp may be a live write"
        );
        drop(held);
        write_locked(&path, b"A=2\n", 0o600).unwrap();
        assert!(!live.exists());
    }

    #[test]
    fn temp_files_are_private_from_their_creation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        let temp = create_temp(&path, dir.path()).unwrap();
        assert_eq!(mode(temp.path()), 0o600);
        let name = temp
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(is_temp_name(&name, ".openclaw.json.hfclaw-"), "{name}");
    }
}
