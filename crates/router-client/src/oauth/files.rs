//! The files a refresh touches: the cross-process lock `huggingface_hub` takes around it,
//! and owner-only writes of the token files.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

/// How long huggingface_hub waits for the lock (`WeakFileLock(…, timeout=30)`).
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a busy lock is tried again.
const LOCK_POLL: Duration = Duration::from_millis(50);
/// How often a wait for the lock is logged (huggingface_hub: every 10 s).
const LOCK_LOG_EVERY: Duration = Duration::from_secs(10);
/// The lock file's mode (huggingface_hub's `WeakFileLock`: group-writable, so users
/// sharing a cache directory can wait for each other).
const LOCK_MODE: u32 = 0o664;
/// Token files are owner-only, their directory too (huggingface_hub's `_write_secret`).
const SECRET_FILE_MODE: u32 = 0o600;
const SECRET_DIR_MODE: u32 = 0o700;

/// A file could not be locked, read or written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Another process held the lock for [`LOCK_TIMEOUT`].
    #[error("{} is still locked after {} s (another process is refreshing the login)", .path.display(), LOCK_TIMEOUT.as_secs())]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
    },
    /// An I/O error on a file.
    #[error("{what} {}: {source}", .path.display())]
    Io {
        /// What was being done (`locking`, `writing`, …).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn io_error<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> FileError + 'a {
    move |source| FileError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

/// Takes the exclusive lock on `path` that Python's `filelock.FileLock` takes: `flock(2)`
/// (`LOCK_EX`) on the lock file, which is created if missing and left in place. Waits up
/// to [`LOCK_TIMEOUT`] without blocking the async runtime; the lock is held until the
/// returned file is dropped.
pub async fn lock_exclusive(path: &Path) -> Result<File, FileError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_error("creating the directory of", path))?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(LOCK_MODE)
        .open(path)
        .map_err(io_error("opening the lock file", path))?;
    let started = Instant::now();
    let mut logged = Duration::ZERO;
    loop {
        // `File::try_lock` is `flock(fd, LOCK_EX | LOCK_NB)` on Linux and macOS, the call
        // filelock's `UnixFileLock` makes: both contend for the same lock.
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(io_error("locking", path)(e)),
        }
        let waited = started.elapsed();
        if waited >= LOCK_TIMEOUT {
            return Err(FileError::LockTimeout {
                path: path.to_owned(),
            });
        }
        if waited >= logged + LOCK_LOG_EVERY {
            logged = waited;
            tracing::info!(
                "still waiting for the lock {} ({} s)",
                path.display(),
                waited.as_secs()
            );
        }
        tokio::time::sleep(LOCK_POLL).await;
    }
    // As filelock does once it holds the lock (its explicit `mode`); best effort.
    let _ = file.set_permissions(fs::Permissions::from_mode(LOCK_MODE));
    Ok(file)
}

/// Writes a token file owner-only (0600, its directory 0700), as huggingface_hub's
/// `_write_secret` does — but atomically (a temporary file renamed over it), so a reader
/// never sees it half-written. A symlink is followed: its target is replaced.
pub fn write_secret(path: &Path, content: &str) -> Result<(), FileError> {
    let target = match fs::canonicalize(path) {
        Ok(target) => target,
        Err(_) => path.to_owned(),
    };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(SECRET_DIR_MODE)
        .create(dir)
        .map_err(io_error("creating the directory of", path))?;
    // The one safe write (temp file created 0600, fsync, rename, fsync of the directory);
    // no lock file of ours in the Hugging Face CLI's directory.
    hfclaw_catalog::safe_write::write_file(&target, content.as_bytes(), SECRET_FILE_MODE)
        .map_err(io_error("writing", path))?;
    // huggingface_hub restricts the directory on every write; best effort, as there.
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(SECRET_DIR_MODE));
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/stored_tokens.lock");
        let held = lock_exclusive(&path).await.unwrap();
        // A second descriptor of the same file contends, as another process would.
        let other = File::open(&path).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        drop(held);
        assert!(other.try_lock().is_ok());
        drop(other);
        assert!(path.exists(), "the lock file stays, as filelock leaves it");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, LOCK_MODE);
    }

    #[tokio::test(start_paused = true)]
    async fn lock_wait_gives_up_after_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stored_tokens.lock");
        let _held = lock_exclusive(&path).await.unwrap();
        let err = lock_exclusive(&path).await.unwrap_err();
        assert!(matches!(err, FileError::LockTimeout { .. }), "{err}");
    }

    #[test]
    fn write_secret_is_owner_only_and_follows_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("hf");
        let path = home.join("token");
        write_secret(&path, "hf_one").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "hf_one");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&home), 0o700);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        write_secret(&link, "hf_two").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs::read_to_string(&path).unwrap(), "hf_two");
        let names: Vec<_> = fs::read_dir(&home).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }
}
