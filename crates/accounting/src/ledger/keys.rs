//! The ledger's client keys (`hfclaw_keys`): SQL both backends run, and the conversion
//! between [`KeyRecord`] and its columns.

use super::backend::BackendError;
use crate::keys::{KeyHash, KeyRecord};

/// Every key, by label.
pub const SELECT: &str =
    "SELECT label, hash, prefix, settings, last_used_ms FROM hfclaw_keys ORDER BY label";
/// Adds a key unless its label or hash is taken (then nothing changes).
pub const INSERT: &str = "INSERT INTO hfclaw_keys (label, hash, prefix, settings) \
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
/// The label of a key with this label or hash (after a refused insert).
pub const CONFLICT: &str = "SELECT label FROM hfclaw_keys WHERE label = $1 OR hash = $2";
// SQLite numbers `$n` parameters in the order they first appear: keep them in order.
/// Replaces a key's settings (`$1` settings, `$2` label).
pub const UPDATE: &str = "UPDATE hfclaw_keys SET settings = $1 WHERE label = $2";
/// Records a later use (`$1` Unix ms, `$2` label).
pub const TOUCH: &str = "UPDATE hfclaw_keys SET last_used_ms = $1 \
     WHERE label = $2 AND (last_used_ms IS NULL OR last_used_ms < $1)";

/// A key as columns.
#[derive(Debug, Clone)]
pub(crate) struct KeyColumns {
    pub(crate) label: String,
    pub(crate) hash: String,
    pub(crate) prefix: String,
    pub(crate) settings: String,
    pub(crate) last_used_ms: Option<i64>,
}

impl KeyColumns {
    pub(crate) fn of(record: &KeyRecord) -> Result<KeyColumns, BackendError> {
        Ok(KeyColumns {
            label: record.label.clone(),
            hash: record.hash.to_hex(),
            prefix: record.prefix.clone(),
            settings: serde_json::to_string(&record.settings).map_err(|e| BackendError {
                message: e.to_string(),
            })?,
            last_used_ms: record.last_used_ms,
        })
    }

    /// The record; `None` (with a warning) for a row this build cannot read.
    pub(crate) fn into_record(self) -> Option<KeyRecord> {
        let hash = KeyHash::from_hex(&self.hash);
        let settings = serde_json::from_str(&self.settings);
        match (hash, settings) {
            (Some(hash), Ok(settings)) => Some(KeyRecord {
                label: self.label,
                prefix: self.prefix,
                hash,
                last_used_ms: self.last_used_ms,
                settings,
            }),
            _ => {
                tracing::warn!(
                    label = self.label,
                    "usage ledger: an unreadable client key is ignored"
                );
                None
            }
        }
    }
}

use super::{Ledger, LedgerError, schema};
use crate::budget::GlobalBudget;

impl Ledger {
    /// Every client key in the ledger, by label.
    pub fn keys(&self) -> Result<Vec<KeyRecord>, LedgerError> {
        let rows = self.ask(|b| b.keys())?;
        Ok(rows
            .into_iter()
            .filter_map(KeyColumns::into_record)
            .collect())
    }

    /// Adds a key; [`LedgerError::KeyTaken`] when its label or the key is there already.
    pub fn add_key(&self, record: &KeyRecord) -> Result<(), LedgerError> {
        let columns = KeyColumns::of(record).map_err(|e| self.query_error(e))?;
        let label = record.label.clone();
        match self.ask(move |b| b.insert_key(&columns))? {
            None => Ok(()),
            Some(existing) => Err(LedgerError::KeyTaken { label, existing }),
        }
    }

    /// The key labelled `which`, else the one whose shown prefix starts with it (when
    /// exactly one does).
    pub fn find_key(&self, which: &str) -> Result<KeyRecord, LedgerError> {
        let keys = self.keys()?;
        if let Some(key) = keys.iter().find(|k| k.label == which) {
            return Ok(key.clone());
        }
        let mut by_prefix = keys
            .into_iter()
            .filter(|k| which.len() >= 6 && k.prefix.starts_with(which));
        match (by_prefix.next(), by_prefix.next()) {
            (Some(key), None) => Ok(key),
            _ => Err(LedgerError::NoSuchKey(which.to_owned())),
        }
    }

    /// Stores `record`'s settings (found by label).
    pub fn update_key(&self, record: &KeyRecord) -> Result<(), LedgerError> {
        let columns = KeyColumns::of(record).map_err(|e| self.query_error(e))?;
        let found = self.ask(move |b| b.update_key(&columns.label, &columns.settings))?;
        if found {
            Ok(())
        } else {
            Err(LedgerError::NoSuchKey(record.label.clone()))
        }
    }

    /// Records when keys were last used (label, Unix ms); an earlier time never
    /// replaces a later one.
    pub fn touch_keys(&self, used: Vec<(String, i64)>) -> Result<(), LedgerError> {
        if used.is_empty() {
            return Ok(());
        }
        self.ask(move |b| b.touch_keys(&used))
    }

    /// The global budget `hfclaw budget set` stored; `None` when none.
    pub fn global_budget(&self) -> Result<Option<GlobalBudget>, LedgerError> {
        let text = self.ask(|b| b.meta(schema::GLOBAL_BUDGET_KEY))?;
        Ok(text.and_then(|t| match serde_json::from_str(&t) {
            Ok(budget) => Some(budget),
            Err(e) => {
                tracing::warn!(
                    "usage ledger: the stored global budget is unreadable ({e}); ignored"
                );
                None
            }
        }))
    }

    /// Stores the global budget (an empty one removes it).
    pub fn set_global_budget(&self, budget: &GlobalBudget) -> Result<(), LedgerError> {
        let value = if budget.is_empty() {
            None
        } else {
            Some(serde_json::to_string(budget).map_err(|e| {
                self.query_error(BackendError {
                    message: e.to_string(),
                })
            })?)
        };
        self.ask(move |b| b.set_meta(schema::GLOBAL_BUDGET_KEY, value.as_deref()))
    }

    fn query_error(&self, e: BackendError) -> LedgerError {
        LedgerError::Query {
            location: self.location.clone(),
            reason: e.message,
        }
    }
}
