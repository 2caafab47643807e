//! Discovery with the cache policy (SPEC §2, §4): when to use the cached router list,
//! when to fetch, and what to fall back on when fetching fails.
//!
//! The cache file's format belongs to `hfclaw_catalog::cache`; this module decides.
//! Nothing here fails: the worst outcome is [`Origin::BuiltinOnly`] with a warning.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hfclaw_catalog::cache::{CachedList, unix_seconds};
use hfclaw_catalog::{Discovered, LiveModel, parse_model_list};

use crate::base_url::normalize_base_url;
use crate::client::{ListResponse, RouterClient};
use crate::error::{ErrorKind, RouterError};

/// Default time a cached list is used without asking the router (SPEC §2: 1 h).
pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);

/// Environment variable naming the cache directory.
pub const CACHE_DIR_ENV: &str = "HFCLAW_CACHE_DIR";

/// When to use the cache and when to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// A cache younger than this is used without fetching.
    pub ttl: Duration,
    /// Fetch even when the cache is fresh (`--refresh`).
    pub refresh: bool,
    /// Never fetch (`--offline`).
    pub offline: bool,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            ttl: DEFAULT_TTL,
            refresh: false,
            offline: false,
        }
    }
}

/// Where the live list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Fetched now (or confirmed current by a 304).
    Live,
    /// The cache, younger than the TTL.
    Cache {
        /// Its age.
        age: Duration,
    },
    /// The cache, older than the TTL (offline, or the fetch failed).
    StaleCache {
        /// Its age.
        age: Duration,
    },
    /// No live data: only the built-in catalog applies.
    BuiltinOnly,
}

/// The outcome of discovery.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveData {
    /// The router's models, or `None` when only the built-in catalog applies.
    pub models: Option<Vec<LiveModel>>,
    /// Where they came from.
    pub origin: Origin,
    /// Things the user should be told (failed fetch, stale cache, unwritable cache).
    pub warnings: Vec<String>,
    /// Entries of the list that were skipped as malformed (for `-v`).
    pub skipped: Vec<String>,
}

impl LiveData {
    fn live(discovered: Discovered, warnings: Vec<String>) -> LiveData {
        LiveData {
            models: Some(discovered.models),
            origin: Origin::Live,
            warnings,
            skipped: discovered.warnings,
        }
    }

    fn builtin(warnings: Vec<String>) -> LiveData {
        LiveData {
            models: None,
            origin: Origin::BuiltinOnly,
            warnings,
            skipped: Vec::new(),
        }
    }
}

/// `$HFCLAW_CACHE_DIR/models.json`, else `<user cache dir>/hfclaw/models.json`.
pub fn default_cache_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = env(CACHE_DIR_ENV).filter(|d| !d.trim().is_empty()) {
        return Some(PathBuf::from(dir).join("models.json"));
    }
    dirs::cache_dir().map(|d| d.join("hfclaw").join("models.json"))
}

/// A short age for messages: `45 s`, `12 min`, `3 h`, `2 days`.
pub fn format_age(age: Duration) -> String {
    let secs = age.as_secs();
    match secs {
        0..60 => format!("{secs} s"),
        60..3_600 => format!("{} min", secs / 60),
        3_600..172_800 => format!("{} h", secs / 3_600),
        _ => format!("{} days", secs / 86_400),
    }
}

/// The cache of this `base_url` at any age, else built-in only; never the network, and
/// synchronous, so offline commands need no async runtime. `ttl` only decides whether
/// the result counts as fresh or stale.
pub fn load_cached_models(
    base_url: &str,
    cache_path: &Path,
    ttl: Duration,
    now: SystemTime,
) -> LiveData {
    let base_url = normalize_base_url(base_url);
    let mut warnings = Vec::new();
    let cached = read_cache(cache_path, &base_url, &mut warnings);
    from_cache(cached, ttl, now, warnings)
}

/// Loads the router's model list by the cache policy.
///
/// - offline (or no client): the cache of this `base_url` at any age, else built-in only;
/// - a fresh cache, unless `refresh`: the cache;
/// - otherwise fetch (with the cache's `ETag`; a 304 renews the cache's fetch time), store
///   the answer, and on failure use the cache at any age (with a warning saying its age),
///   else built-in only (with a warning).
///
/// A cache written for another base URL is ignored. When the router rejects the token on
/// discovery, the list is fetched again without it (with a warning).
pub async fn load_live_models(
    client: Option<&RouterClient>,
    base_url: &str,
    cache_path: &Path,
    policy: CachePolicy,
    now: SystemTime,
) -> LiveData {
    let Some(client) = client.filter(|_| !policy.offline) else {
        return load_cached_models(base_url, cache_path, policy.ttl, now);
    };
    let base_url = normalize_base_url(base_url);
    let mut warnings = Vec::new();
    let cached = read_cache(cache_path, &base_url, &mut warnings);
    if let Some((entry, _)) = &cached
        && entry.is_fresh(now, policy.ttl)
        && !policy.refresh
    {
        return from_cache(cached, policy.ttl, now, warnings);
    }
    if normalize_base_url(client.base_url()) != base_url {
        tracing::warn!("discovery: the client's base URL differs from the cache key");
    }

    let etag = cached.as_ref().and_then(|(c, _)| c.etag.clone());
    let fetched = fetch(client, etag.as_deref(), &mut warnings).await;
    match fetched {
        Ok(ListResponse::NotModified) => match cached {
            Some((mut entry, discovered)) => {
                entry.fetched_at = unix_seconds(now);
                store(&entry, cache_path, &mut warnings);
                LiveData::live(discovered, warnings)
            }
            None => {
                warnings.push(
                    "the router answered 304 Not Modified without a cached list; using the \
                     built-in catalog"
                        .to_owned(),
                );
                LiveData::builtin(warnings)
            }
        },
        Ok(ListResponse::Fresh { body, etag }) => match parse_model_list(&body) {
            Ok(discovered) => {
                // parse_model_list accepted it: valid UTF-8 JSON.
                let text = String::from_utf8_lossy(&body).into_owned();
                let entry = CachedList {
                    base_url: base_url.clone(),
                    fetched_at: unix_seconds(now),
                    etag,
                    body: text,
                };
                store(&entry, cache_path, &mut warnings);
                LiveData::live(discovered, warnings)
            }
            Err(e) => fall_back(cached, &e.to_string(), now, warnings),
        },
        Err(e) => fall_back(cached, &e.to_string(), now, warnings),
    }
}

type Cached = Option<(CachedList, hfclaw_catalog::Discovered)>;

/// Reads and parses the cache of `base_url`; anything unusable is a miss.
fn read_cache(path: &Path, base_url: &str, warnings: &mut Vec<String>) -> Cached {
    let entry = match CachedList::read(path) {
        Ok(Some(entry)) => entry,
        Ok(None) => return None,
        Err(e) => {
            warnings.push(format!("ignoring the model cache: {e}"));
            return None;
        }
    };
    if normalize_base_url(&entry.base_url) != base_url {
        tracing::debug!(cached = %entry.base_url, wanted = %base_url, "model cache is for another router");
        return None;
    }
    match parse_model_list(entry.body.as_bytes()) {
        Ok(discovered) => Some((entry, discovered)),
        Err(e) => {
            tracing::debug!(error = %e, "model cache holds an invalid list");
            None
        }
    }
}

fn from_cache(cached: Cached, ttl: Duration, now: SystemTime, warnings: Vec<String>) -> LiveData {
    let Some((entry, discovered)) = cached else {
        return LiveData::builtin(warnings);
    };
    let age = entry.age(now);
    let origin = if age < ttl {
        Origin::Cache { age }
    } else {
        Origin::StaleCache { age }
    };
    LiveData {
        models: Some(discovered.models),
        origin,
        warnings,
        skipped: discovered.warnings,
    }
}

async fn fetch(
    client: &RouterClient,
    etag: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<ListResponse, RouterError> {
    match client.list_models(etag).await {
        Err(e) if e.kind == ErrorKind::Auth && client.has_token() => {
            warnings.push(format!(
                "the router rejected the token while listing models ({e}); listed them \
                 without it"
            ));
            client.list_models_without_token(etag).await
        }
        other => other,
    }
}

fn fall_back(cached: Cached, reason: &str, now: SystemTime, mut warnings: Vec<String>) -> LiveData {
    match cached {
        Some((entry, discovered)) => {
            let age = entry.age(now);
            warnings.push(format!(
                "could not refresh the model list ({reason}); using the cached list from {} ago",
                format_age(age)
            ));
            LiveData {
                models: Some(discovered.models),
                origin: Origin::StaleCache { age },
                warnings,
                skipped: discovered.warnings,
            }
        }
        None => {
            warnings.push(format!(
                "could not fetch the model list ({reason}); using the built-in catalog"
            ));
            LiveData::builtin(warnings)
        }
    }
}

fn store(entry: &CachedList, path: &Path, warnings: &mut Vec<String>) {
    if let Err(e) = entry.write(path) {
        warnings.push(format!("could not save the model cache: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_well() {
        assert_eq!(format_age(Duration::from_secs(5)), "5 s");
        assert_eq!(format_age(Duration::from_secs(125)), "2 min");
        assert_eq!(format_age(Duration::from_secs(3 * 3_600 + 59)), "3 h");
        assert_eq!(format_age(Duration::from_secs(5 * 86_400)), "5 days");
    }

    #[test]
    fn cache_path_prefers_env() {
        let env = |k: &str| (k == CACHE_DIR_ENV).then(|| "/tmp/hc".to_owned());
        assert_eq!(
            default_cache_path(&env),
            Some(PathBuf::from("/tmp/hc/models.json"))
        );
        let empty = |_: &str| Some(String::new());
        let path = default_cache_path(&empty);
        assert!(path.is_none_or(|p| p.ends_with("hfclaw/models.json")));
    }
}
