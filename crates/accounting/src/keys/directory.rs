//! The keys a gateway accepts, in memory: looked up by hash on every request (a SHA-256
//! and a map lookup, then a constant-time comparison of the whole hash), replaced whole
//! when the database's keys change (see [`super::follower`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use super::{KeyHash, KeyLimits, KeyRecord};
use crate::time::unix_ms;

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// `--api-key` (or `$HFCLAW_SERVE_API_KEY`).
    Flag,
    /// `--api-key-file`.
    File,
    /// The ledger database (`hfclaw keys create`).
    Database,
}

/// One accepted key: who it is and what it may do.
#[derive(Debug)]
pub struct KeyEntry {
    /// Its label.
    pub label: String,
    /// Where it came from.
    pub source: KeySource,
    /// Whether it opens the status page and `/metrics`.
    pub admin: bool,
    /// The models it may use (as typed: refs or aliases); empty: any.
    pub models: Vec<String>,
    /// Its limits.
    pub limits: KeyLimits,
    /// When it stops working (Unix ms).
    pub expires_ms: Option<i64>,
    /// When it was revoked (Unix ms).
    pub revoked_ms: Option<i64>,
    hash: KeyHash,
    /// When a request last used it (Unix ms; 0: not since the gateway started).
    last_used: AtomicI64,
}

impl KeyEntry {
    /// A key that is not in the database (`--api-key`, a key file).
    pub fn configured(label: &str, hash: KeyHash, source: KeySource, admin: bool) -> KeyEntry {
        KeyEntry {
            label: label.to_owned(),
            source,
            admin,
            models: Vec::new(),
            limits: KeyLimits::default(),
            expires_ms: None,
            revoked_ms: None,
            hash,
            last_used: AtomicI64::new(0),
        }
    }

    fn of_record(record: &KeyRecord) -> KeyEntry {
        let s = &record.settings;
        KeyEntry {
            label: record.label.clone(),
            source: KeySource::Database,
            admin: s.admin,
            models: s.models.clone(),
            limits: s.limits,
            expires_ms: s.expires_ms,
            revoked_ms: s.revoked_ms,
            hash: record.hash,
            last_used: AtomicI64::new(record.last_used_ms.unwrap_or(0)),
        }
    }

    /// When a request last used it since the gateway started (Unix ms).
    pub fn last_used_ms(&self) -> Option<i64> {
        Some(self.last_used.load(Ordering::Relaxed)).filter(|&ms| ms > 0)
    }
}

/// Why a key is refused (401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefused {
    /// No key was sent, or one the gateway does not know.
    #[error("missing or unknown API key")]
    Unknown,
    /// The key was revoked (`hfclaw keys revoke`).
    #[error("the API key {label:?} was revoked")]
    Revoked {
        /// Its label.
        label: String,
    },
    /// The key expired.
    #[error("the API key {label:?} expired")]
    Expired {
        /// Its label.
        label: String,
    },
}

/// The lookup table: the first half of the hash finds the entries, the whole hash is then
/// compared in constant time.
#[derive(Debug, Default)]
struct Index {
    by_hash: HashMap<[u8; 16], Vec<Arc<KeyEntry>>>,
    len: usize,
}

impl Index {
    fn build(entries: impl IntoIterator<Item = Arc<KeyEntry>>) -> Index {
        let mut index = Index::default();
        for entry in entries {
            let mut half = [0u8; 16];
            half.copy_from_slice(&entry.hash.0[..16]);
            let bucket = index.by_hash.entry(half).or_default();
            // One key under two names: the database's record wins over a file's line.
            if let Some(i) = bucket.iter().position(|e| e.hash.same(&entry.hash)) {
                if entry.source == KeySource::Database {
                    bucket[i] = entry;
                }
                continue;
            }
            bucket.push(entry);
            index.len += 1;
        }
        index
    }

    fn find(&self, hash: &KeyHash) -> Option<&Arc<KeyEntry>> {
        let mut half = [0u8; 16];
        half.copy_from_slice(&hash.0[..16]);
        self.by_hash
            .get(&half)?
            .iter()
            .find(|entry| entry.hash.same(hash))
    }
}

/// The keys a gateway accepts: the configured ones (flag, file), fixed at start, and the
/// database's, replaced by the follower. `Sync`: share it behind an `Arc`.
#[derive(Debug, Default)]
pub struct KeyDirectory {
    configured: Vec<Arc<KeyEntry>>,
    index: RwLock<Arc<Index>>,
}

impl KeyDirectory {
    /// A directory of the configured keys (none from the database yet).
    pub fn new(configured: Vec<KeyEntry>) -> KeyDirectory {
        let configured: Vec<Arc<KeyEntry>> = configured.into_iter().map(Arc::new).collect();
        let index = Index::build(configured.iter().cloned());
        KeyDirectory {
            configured,
            index: RwLock::new(Arc::new(index)),
        }
    }

    /// True when no key exists at all: then no request needs one.
    pub fn is_empty(&self) -> bool {
        self.current().len == 0
    }

    /// The entry of `secret`, or why it is refused at `now`; marks it used.
    pub fn check(&self, secret: &str, now: SystemTime) -> Result<Arc<KeyEntry>, KeyRefused> {
        let index = self.current();
        let entry = index
            .find(&KeyHash::of(secret))
            .ok_or(KeyRefused::Unknown)?;
        let now = unix_ms(now);
        if entry.revoked_ms.is_some() {
            return Err(KeyRefused::Revoked {
                label: entry.label.clone(),
            });
        }
        if entry.expires_ms.is_some_and(|at| at <= now) {
            return Err(KeyRefused::Expired {
                label: entry.label.clone(),
            });
        }
        entry.last_used.fetch_max(now, Ordering::Relaxed);
        Ok(entry.clone())
    }

    /// Every key, configured ones first (for labels and budgets).
    pub fn entries(&self) -> Vec<Arc<KeyEntry>> {
        let index = self.current();
        let mut entries: Vec<Arc<KeyEntry>> = index.by_hash.values().flatten().cloned().collect();
        entries.sort_by(|a, b| {
            (a.source != KeySource::Database, &a.label)
                .cmp(&(b.source != KeySource::Database, &b.label))
                .reverse()
        });
        entries
    }

    /// Replaces the database's keys with `records` (what the ledger holds now); when a key
    /// was used here since it was last read, that stays known.
    pub fn set_database_keys(&self, records: &[KeyRecord]) {
        let old = self.current();
        let database = records.iter().map(|record| {
            let entry = KeyEntry::of_record(record);
            if let Some(previous) = old.find(&record.hash) {
                entry.last_used.fetch_max(
                    previous.last_used.load(Ordering::Relaxed),
                    Ordering::Relaxed,
                );
            }
            Arc::new(entry)
        });
        let index = Index::build(self.configured.iter().cloned().chain(database));
        *self.index.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(index);
    }

    fn current(&self) -> Arc<Index> {
        self.index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeySettings;

    fn at(ms: i64) -> SystemTime {
        crate::time::from_unix_ms(ms)
    }

    #[test]
    fn database_keys_are_found_refused_and_replaced() {
        let directory = KeyDirectory::new(vec![KeyEntry::configured(
            "ops",
            KeyHash::of("sk-ops"),
            KeySource::Flag,
            true,
        )]);
        assert!(!directory.is_empty());
        assert_eq!(directory.check("sk-ops", at(5)).map(|e| e.admin), Ok(true));
        assert_eq!(
            directory.check("nope", at(5)).err(),
            Some(KeyRefused::Unknown)
        );
        let alice = KeyRecord::new("alice", "hfk_alice", at(1), KeySettings::default());
        let mut bob = KeyRecord::new("bob", "hfk_bob", at(1), KeySettings::default());
        bob.settings.expires_ms = Some(10);
        directory.set_database_keys(&[alice.clone(), bob]);
        assert_eq!(
            directory.check("hfk_alice", at(5)).map(|e| e.label.clone()),
            Ok("alice".into())
        );
        assert!(directory.check("hfk_bob", at(9)).is_ok());
        assert_eq!(
            directory.check("hfk_bob", at(10)).err(),
            Some(KeyRefused::Expired {
                label: "bob".into()
            })
        );
        let mut revoked = alice;
        revoked.settings.revoked_ms = Some(6);
        directory.set_database_keys(&[revoked]);
        assert_eq!(
            directory.check("hfk_alice", at(7)).err(),
            Some(KeyRefused::Revoked {
                label: "alice".into()
            })
        );
        assert_eq!(
            directory.check("hfk_bob", at(7)).err(),
            Some(KeyRefused::Unknown)
        );
        assert!(
            directory.check("sk-ops", at(7)).is_ok(),
            "configured keys stay"
        );
    }

    #[test]
    fn an_empty_directory_needs_no_key_until_the_database_has_one() {
        let directory = KeyDirectory::new(Vec::new());
        assert!(directory.is_empty());
        directory.set_database_keys(&[KeyRecord::new("a", "hfk_a", at(1), KeySettings::default())]);
        assert!(!directory.is_empty());
    }

    #[test]
    fn use_is_remembered_across_a_refresh() {
        let directory = KeyDirectory::new(Vec::new());
        let record = KeyRecord::new("a", "hfk_a", at(1), KeySettings::default());
        directory.set_database_keys(std::slice::from_ref(&record));
        assert!(directory.check("hfk_a", at(500)).is_ok());
        directory.set_database_keys(&[record]);
        let entries = directory.entries();
        assert_eq!(entries[0].last_used_ms(), Some(500));
    }
}
