//! The disk cache of the last good discovery: the router's body as received, with its
//! fetch time, `ETag` and base URL; and the record of the last failed discovery
//! ([`FailedFetch`]), beside it. The only module of this crate that touches files.
//!
//! Policy (when to use, refresh or ignore the cache, when to retry) belongs to the caller;
//! this module reads, writes (atomically) and answers "how old".

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Bump when the file layout changes; other versions read as a miss.
const FORMAT_VERSION: u32 = 1;

/// A cached router model list.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedList {
    /// Router base URL it was fetched from; another URL's cache is a miss.
    pub base_url: String,
    /// When it was fetched, seconds since the Unix epoch.
    pub fetched_at: u64,
    /// The router's `ETag`, for `If-None-Match`.
    pub etag: Option<String>,
    /// The `GET /models` body, as received (valid JSON).
    pub body: String,
}

#[derive(Serialize, Deserialize)]
struct OnDisk<'a> {
    version: u32,
    base_url: String,
    fetched_at: u64,
    etag: Option<String>,
    #[serde(borrow)]
    body: &'a RawValue,
}

/// Reading or writing the cache failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// File system error.
    #[error("cache file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The body to store is not JSON.
    #[error("refusing to cache a body that is not JSON: {0}")]
    NotJson(serde_json::Error),
}

impl CachedList {
    /// Age at `now` (zero if the clock went backwards).
    pub fn age(&self, now: SystemTime) -> Duration {
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Duration::from_secs(now.saturating_sub(self.fetched_at))
    }

    /// True when younger than `ttl` at `now`.
    pub fn is_fresh(&self, now: SystemTime, ttl: Duration) -> bool {
        self.age(now) < ttl
    }

    /// Reads a cache file; missing, unreadable-as-cache or other-version files are `None`.
    pub fn read(path: &Path) -> Result<Option<CachedList>, CacheError> {
        let Some(text) = read_text(path)? else {
            return Ok(None);
        };
        let Ok(disk) = serde_json::from_str::<OnDisk<'_>>(&text) else {
            return Ok(None);
        };
        if disk.version != FORMAT_VERSION {
            return Ok(None);
        }
        Ok(Some(CachedList {
            base_url: disk.base_url,
            fetched_at: disk.fetched_at,
            etag: disk.etag,
            body: disk.body.get().to_owned(),
        }))
    }

    /// Writes the cache atomically (temp file in the same directory, fsync, rename),
    /// creating the directory if needed.
    pub fn write(&self, path: &Path) -> Result<(), CacheError> {
        let body: &RawValue = serde_json::from_str(&self.body).map_err(CacheError::NotJson)?;
        let disk = OnDisk {
            version: FORMAT_VERSION,
            base_url: self.base_url.clone(),
            fetched_at: self.fetched_at,
            etag: self.etag.clone(),
            body,
        };
        let bytes = serde_json::to_vec(&disk).map_err(CacheError::NotJson)?;
        write_atomically(path, &bytes)
    }
}

/// The last failed discovery of a router: when, how many times in a row, and why. The
/// caller waits before trying that router again; a success removes the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedFetch {
    /// Router base URL; another URL's record does not apply.
    pub base_url: String,
    /// When the last attempt failed, seconds since the Unix epoch.
    pub failed_at: u64,
    /// Failed attempts in a row (at least 1).
    pub failures: u32,
    /// What went wrong, for messages.
    pub reason: String,
}

#[derive(Serialize, Deserialize)]
struct FailureOnDisk {
    version: u32,
    #[serde(flatten)]
    record: FailedFetch,
}

impl FailedFetch {
    /// Where the record of a cache file lives: `models.json` → `models.failed.json`.
    pub fn path_beside(cache: &Path) -> PathBuf {
        cache.with_extension("failed.json")
    }

    /// Reads a record; missing or unreadable-as-record files are `None`.
    pub fn read(path: &Path) -> Result<Option<FailedFetch>, CacheError> {
        let Some(text) = read_text(path)? else {
            return Ok(None);
        };
        Ok(serde_json::from_str::<FailureOnDisk>(&text)
            .ok()
            .filter(|disk| disk.version == FORMAT_VERSION)
            .map(|disk| disk.record))
    }

    /// Writes the record atomically.
    pub fn write(&self, path: &Path) -> Result<(), CacheError> {
        let disk = FailureOnDisk {
            version: FORMAT_VERSION,
            record: self.clone(),
        };
        let bytes = serde_json::to_vec(&disk).map_err(CacheError::NotJson)?;
        write_atomically(path, &bytes)
    }

    /// Removes the record (a missing one is fine).
    pub fn remove(path: &Path) -> Result<(), CacheError> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(CacheError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }
}

/// A file's text; a missing or non-UTF-8 file is `None` (a cache miss).
fn read_text(path: &Path) -> Result<Option<String>, CacheError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Ok(None),
        Err(source) => Err(CacheError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Creates the directory if needed, then the one safe write (lock, temp file, fsync,
/// rename), 0600.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let io = |source| CacheError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    crate::safe_write::write_locked(path, bytes, 0o600).map_err(io)
}

/// `now` as an RFC 3339 UTC time to the second, e.g. `2026-07-27T15:31:00Z`.
pub fn rfc3339(now: SystemTime) -> String {
    humantime::format_rfc3339_seconds(now).to_string()
}

/// Seconds since the Unix epoch at `now`.
pub fn unix_seconds(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sample() -> CachedList {
        CachedList {
            base_url: "http://127.0.0.1:9/v1".to_owned(),
            fetched_at: 1_000,
            etag: Some("\"abc\"".to_owned()),
            body: r#"{"object":"list","data":[{"id":"a/b"}]}"#.to_owned(),
        }
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/models.json");
        sample().write(&path).unwrap();
        assert_eq!(CachedList::read(&path).unwrap(), Some(sample()));
    }

    #[test]
    fn missing_or_corrupt_cache_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.json");
        assert_eq!(CachedList::read(&path).unwrap(), None);
        std::fs::write(&path, "{\"version\":1,").unwrap();
        assert_eq!(CachedList::read(&path).unwrap(), None);
        std::fs::write(
            &path,
            r#"{"version":99,"base_url":"x","fetched_at":1,"etag":null,"body":{}}"#,
        )
        .unwrap();
        assert_eq!(CachedList::read(&path).unwrap(), None);
    }

    #[test]
    fn freshness_follows_ttl() {
        let entry = sample();
        let now = UNIX_EPOCH + Duration::from_secs(1_000 + 3_599);
        assert!(entry.is_fresh(now, Duration::from_secs(3_600)));
        let later = UNIX_EPOCH + Duration::from_secs(1_000 + 3_600);
        assert!(!entry.is_fresh(later, Duration::from_secs(3_600)));
        assert_eq!(entry.age(UNIX_EPOCH), Duration::ZERO);
    }

    #[test]
    fn failure_record_round_trips_beside_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = FailedFetch::path_beside(&dir.path().join("models.json"));
        assert!(path.ends_with("models.failed.json"));
        assert_eq!(FailedFetch::read(&path).unwrap(), None);
        let record = FailedFetch {
            base_url: "http://127.0.0.1:9/v1".to_owned(),
            failed_at: 1_000,
            failures: 2,
            reason: "connection refused".to_owned(),
        };
        record.write(&path).unwrap();
        assert_eq!(FailedFetch::read(&path).unwrap(), Some(record));
        FailedFetch::remove(&path).unwrap();
        FailedFetch::remove(&path).unwrap();
        assert_eq!(FailedFetch::read(&path).unwrap(), None);
    }

    #[test]
    fn times_print_as_rfc3339_utc() {
        let t = UNIX_EPOCH + Duration::from_secs(1_785_166_260);
        assert_eq!(rfc3339(t), "2026-07-27T15:31:00Z");
    }

    #[test]
    fn refuses_to_cache_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let mut entry = sample();
        entry.body = "<html>".to_owned();
        assert!(matches!(
            entry.write(&dir.path().join("m.json")),
            Err(CacheError::NotJson(_))
        ));
    }
}
