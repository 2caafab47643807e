//! Client keys of a gateway: what a key is (`hfk_…`, 32 random bytes), what the ledger
//! keeps of it (a SHA-256 hash and a short prefix, never the key), its limits, and the
//! in-memory [`KeyDirectory`] request handlers check keys against.
//!
//! Keys come from three places: the ledger database (`hfclaw keys create`, shared by
//! replicas), a key file ([`file`]: `KEY` or `LABEL KEY [admin]` per line) and
//! `--api-key`. The [`follower`] re-reads the database's keys and budgets every
//! [`follower::FOLLOW_INTERVAL`], so a new, updated, revoked or expired key takes effect
//! on every replica within 5 s.

pub mod directory;
pub mod file;
pub mod follower;
pub mod rate;

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use directory::{KeyDirectory, KeyEntry, KeyRefused, KeySource};

/// What every key `hfclaw keys create` makes starts with.
pub const KEY_PREFIX: &str = "hfk_";

/// How many characters of an `hfk_` key are shown (`hfk_` and 8 hex digits: 32 of its
/// 256 random bits).
const SHOWN_CHARS: usize = KEY_PREFIX.len() + 8;

/// The SHA-256 of a key: what the ledger and the directory keep.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash(pub(crate) [u8; 32]);

impl KeyHash {
    /// The hash of `secret` (surrounding whitespace ignored).
    pub fn of(secret: &str) -> KeyHash {
        KeyHash(Sha256::digest(secret.trim().as_bytes()).into())
    }

    /// Lower-case hex, as stored.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads stored hex.
    pub fn from_hex(text: &str) -> Option<KeyHash> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(KeyHash(bytes))
    }

    /// Equal, compared in constant time.
    pub fn same(&self, other: &KeyHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({}…)", &self.to_hex()[..8])
    }
}

/// A new key: `hfk_` and 32 random bytes from the OS in hex.
pub fn new_secret() -> Result<String, KeyError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{KEY_PREFIX}{hex}"))
}

/// The part of a key shown in `hfclaw keys list`: `hfk_` and 8 hex digits for keys
/// hfclaw made; for any other key (from a key file) `sha256:` and 8 hex digits of its
/// hash, since a short hand-made key's first characters may be most of it.
pub fn display_prefix(secret: &str) -> String {
    let secret = secret.trim();
    if secret.starts_with(KEY_PREFIX) && secret.len() > SHOWN_CHARS {
        secret[..SHOWN_CHARS].to_owned()
    } else {
        format!("sha256:{}", &KeyHash::of(secret).to_hex()[..8])
    }
}

/// True for a label `hfclaw usage --by key` can show: letters, digits, `-`, `_`, `.`.
pub fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 64
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A key's limits (all optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyLimits {
    /// USD per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_day: Option<f64>,
    /// USD per UTC calendar month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_month: Option<f64>,
    /// Requests per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u32>,
    /// Tokens (input + output) per minute, counted when answers end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
}

impl KeyLimits {
    /// True when nothing is limited.
    pub fn is_empty(&self) -> bool {
        *self == KeyLimits::default()
    }
}

/// What the ledger keeps of a key besides its label, hash and prefix (one JSON column,
/// so a new setting needs no migration).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeySettings {
    /// When it was made (Unix ms).
    pub created_ms: i64,
    /// When it stops working (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<i64>,
    /// When it was revoked (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_ms: Option<i64>,
    /// Its limits.
    #[serde(default)]
    pub limits: KeyLimits,
    /// The models it may use (refs or aliases as typed); empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Whether it opens the status page and `/metrics`.
    #[serde(default)]
    pub admin: bool,
}

/// A key as the ledger database holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    /// Its unique name (`hfclaw usage --by key`).
    pub label: String,
    /// What `hfclaw keys list` shows of it ([`display_prefix`]).
    pub prefix: String,
    /// Its SHA-256.
    pub hash: KeyHash,
    /// When a gateway last saw it (Unix ms; written every few seconds).
    pub last_used_ms: Option<i64>,
    /// Limits, expiry, revocation.
    pub settings: KeySettings,
}

impl KeyRecord {
    /// A record of `secret` under `label`, made `now`.
    pub fn new(label: &str, secret: &str, now: SystemTime, settings: KeySettings) -> KeyRecord {
        KeyRecord {
            label: label.to_owned(),
            prefix: display_prefix(secret),
            hash: KeyHash::of(secret),
            last_used_ms: None,
            settings: KeySettings {
                created_ms: crate::time::unix_ms(now),
                ..settings
            },
        }
    }

    /// `revoked`, `expired` or `active` at `now`.
    pub fn state(&self, now: SystemTime) -> &'static str {
        let now = crate::time::unix_ms(now);
        if self.settings.revoked_ms.is_some() {
            "revoked"
        } else if self.settings.expires_ms.is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        }
    }
}

/// Why a key cannot be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The OS gave no random bytes.
    #[error("cannot get random bytes from the operating system: {0}")]
    Random(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_are_long_random_and_shown_by_a_short_prefix() {
        let a = new_secret().unwrap_or_default();
        let b = new_secret().unwrap_or_default();
        assert_ne!(a, b);
        assert!(a.starts_with("hfk_") && a.len() == 68, "{a}");
        let shown = display_prefix(&a);
        assert_eq!(shown.len(), 12);
        assert!(a.starts_with(&shown));
        // A hand-made key shows a piece of its hash, never its own characters.
        let shown = display_prefix("sk-local-1");
        assert!(
            shown.starts_with("sha256:") && !shown.contains("sk-local"),
            "{shown}"
        );
    }

    #[test]
    fn hashes_round_trip_and_compare() {
        let hash = KeyHash::of(" hfk_abc ");
        assert_eq!(KeyHash::from_hex(&hash.to_hex()), Some(hash));
        assert!(hash.same(&KeyHash::of("hfk_abc")));
        assert!(!hash.same(&KeyHash::of("hfk_abd")));
        assert_eq!(KeyHash::from_hex("zz"), None);
        assert!(!format!("{hash:?}").contains(&hash.to_hex()));
    }

    #[test]
    fn labels() {
        assert!(valid_label("alice.b-2_x"));
        assert!(!valid_label("al ice"));
        assert!(!valid_label(""));
        assert!(!valid_label("é"));
    }
}
