//! Discovery with the cache policy (SPEC §2, §4): when to use the cached router list,
//! when to fetch, and what to fall back on when fetching fails.
//!
//! A failed fetch is remembered beside the cache (a negative cache): the next commands
//! do not ask that router again for 1 min, then 2, 4, … up to 1 h, so an unreachable
//! router costs nothing after the first try; a forced refresh always tries. Garbage never
//! wins over good data: a fetched list more than half of whose entries are malformed, or
//! with fewer than half the models of the cache (of the built-in snapshot, for the public
//! router with nothing cached), is a failed fetch, forced or not
//! ([`Discovered::implausible`]).
//!
//! A failed fetch is not a warning here but [`LiveData::retry`]: the caller says it in
//! its own words (and names its own flags).
//!
//! The files' formats belong to `hfclaw_catalog::cache`; this module decides. Nothing
//! here fails: the worst outcome is [`Origin::BuiltinOnly`] with a warning.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hfclaw_catalog::cache::{CachedList, FailedFetch, unix_seconds};
use hfclaw_catalog::{Baseline, Discovered, LiveModel, builtin, parse_model_list};

use crate::base_url::{DEFAULT_BASE_URL, normalize_base_url};
use crate::client::{ListResponse, RouterClient};
use crate::error::{ErrorKind, RouterError};

/// Default time a cached list is used without asking the router (SPEC §2: 1 h).
pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);

/// Environment variable naming the cache directory.
pub const CACHE_DIR_ENV: &str = "HFCLAW_CACHE_DIR";

/// Connect timeout for discovery from a command: a router behind a firewall that drops
/// packets costs at most this, once (then the negative cache applies).
pub const DISCOVERY_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Wait after the first failed fetch; it doubles with each failure in a row.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_secs(60);

/// Longest wait between attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(60 * 60);

/// How long to leave a router alone after `failures` failed fetches in a row:
/// 1 min, 2 min, 4 min, … at most 1 h.
pub fn retry_delay(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    (FIRST_RETRY_DELAY * 2u32.pow(doublings)).min(MAX_RETRY_DELAY)
}

/// When to use the cache and when to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// A cache younger than this is used without fetching.
    pub ttl: Duration,
    /// Fetch even when the cache is fresh or a recent fetch failed (`--refresh`); the
    /// answer is weighed like any other.
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
    /// Things the user should be told besides a failed fetch (unreadable or unwritable
    /// cache, skipped entries).
    pub warnings: Vec<String>,
    /// Entries of the list that were skipped as malformed (for `-v`).
    pub skipped: Vec<String>,
    /// A failed fetch: this run's, or a recent one that kept this run from asking.
    pub retry: Option<Retry>,
}

/// A failed fetch and when the router will be asked again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// What went wrong.
    pub reason: String,
    /// How long ago it failed (zero when this run failed).
    pub failed_ago: Duration,
    /// Time left until commands ask the router again.
    pub next_in: Duration,
    /// True when this run did not ask the router because of the failure.
    pub skipped: bool,
    /// True when the router answered with a list that was refused as implausible
    /// ([`Discovered::implausible`]): `reason` says why.
    pub refused: bool,
}

impl LiveData {
    fn live(discovered: Discovered, mut warnings: Vec<String>) -> LiveData {
        // A fetched list reports its malformed entries once, in one line; a cached one
        // only under -v (it was reported when it was fetched).
        warnings.extend(discovered.skipped_summary());
        LiveData {
            models: Some(discovered.models),
            origin: Origin::Live,
            warnings,
            skipped: discovered.warnings,
            retry: None,
        }
    }

    fn builtin(warnings: Vec<String>) -> LiveData {
        LiveData {
            models: None,
            origin: Origin::BuiltinOnly,
            warnings,
            skipped: Vec::new(),
            retry: None,
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
/// the result counts as fresh or stale. A recent failed fetch is reported in
/// [`LiveData::retry`], so the user learns why the data is not newer.
pub fn load_cached_models(
    base_url: &str,
    cache_path: &Path,
    ttl: Duration,
    now: SystemTime,
) -> LiveData {
    let base_url = normalize_base_url(base_url);
    let mut warnings = Vec::new();
    let cached = read_cache(cache_path, &base_url, &mut warnings);
    let mut data = from_cache(cached, ttl, now, warnings);
    data.retry = read_failure(&FailedFetch::path_beside(cache_path), &base_url)
        .and_then(|failed| waiting(&failed, now));
    data
}

/// The wait a failure record still imposes at `now`, if any.
fn waiting(failed: &FailedFetch, now: SystemTime) -> Option<Retry> {
    let failed_ago = age_since(failed.failed_at, now);
    let delay = retry_delay(failed.failures);
    (failed_ago < delay).then(|| Retry {
        reason: failed.reason.clone(),
        failed_ago,
        next_in: delay - failed_ago,
        skipped: true,
        refused: false,
    })
}

/// Loads the router's model list by the cache policy.
///
/// - offline (or no client): the cache of this `base_url` at any age, else built-in only;
/// - a fresh cache, unless `refresh`: the cache;
/// - a recent failed fetch of this router, unless `refresh`: the cache at any age, else
///   built-in only, without asking (see [`retry_delay`]);
/// - otherwise fetch (with the cache's `ETag`; a 304 renews the cache's fetch time), store
///   the answer, and on failure remember it and use the cache at any age, else built-in
///   only ([`LiveData::retry`] says why);
/// - a fetched list that is mostly malformed, or has fewer than half the models of the
///   cache (or, for the public router with no cache, of the built-in snapshot), is a
///   failure too, `refresh` or not: a broken answer must not replace a good list.
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
    match plan_discovery(base_url, cache_path, policy, now) {
        Discovery::Done(data) => data,
        Discovery::Fetch(plan) => fetch_planned(client, plan, now).await,
    }
}

/// What the cache policy decides before any network: the data, or a fetch to make.
#[derive(Debug)]
pub enum Discovery {
    /// No fetch is due (offline, a fresh cache, or a recent failure): here is the data.
    Done(LiveData),
    /// A fetch is due: hand the plan to [`fetch_planned`].
    Fetch(FetchPlan),
}

/// What [`plan_discovery`] read for the fetch it asks for.
#[derive(Debug)]
pub struct FetchPlan {
    base_url: String,
    cache_path: PathBuf,
    cached: Cached,
    /// Failed fetches in a row so far.
    failures: u32,
    warnings: Vec<String>,
}

/// The first half of [`load_live_models`], synchronous: decides from the cache and the
/// failure record whether to fetch, so a caller builds an HTTP client and an async
/// runtime only when one is due (after a failure, the default path then costs what
/// `--offline` costs).
pub fn plan_discovery(
    base_url: &str,
    cache_path: &Path,
    policy: CachePolicy,
    now: SystemTime,
) -> Discovery {
    if policy.offline {
        return Discovery::Done(load_cached_models(base_url, cache_path, policy.ttl, now));
    }
    let base_url = normalize_base_url(base_url);
    let mut warnings = Vec::new();
    let cached = read_cache(cache_path, &base_url, &mut warnings);
    if let Some((entry, _)) = &cached
        && entry.is_fresh(now, policy.ttl)
        && !policy.refresh
    {
        return Discovery::Done(from_cache(cached, policy.ttl, now, warnings));
    }
    let failed = read_failure(&FailedFetch::path_beside(cache_path), &base_url);
    if let Some(retry) = failed.as_ref().and_then(|f| waiting(f, now))
        && !policy.refresh
    {
        let mut data = from_cache(cached, policy.ttl, now, warnings);
        data.retry = Some(retry);
        return Discovery::Done(data);
    }
    Discovery::Fetch(FetchPlan {
        base_url,
        cache_path: cache_path.to_owned(),
        cached,
        failures: failed.map_or(0, |f| f.failures),
        warnings,
    })
}

/// The second half of [`load_live_models`]: the fetch [`plan_discovery`] asked for, and
/// what to keep of its answer.
pub async fn fetch_planned(client: &RouterClient, plan: FetchPlan, now: SystemTime) -> LiveData {
    let FetchPlan {
        base_url,
        cache_path,
        cached,
        failures,
        mut warnings,
    } = plan;
    let cache_path = cache_path.as_path();
    if normalize_base_url(client.base_url()) != base_url {
        tracing::warn!("discovery: the client's base URL differs from the cache key");
    }
    let etag = cached.as_ref().and_then(|(c, _)| c.etag.clone());
    let failure_path = FailedFetch::path_beside(cache_path);
    let failure = Failure {
        path: &failure_path,
        base_url: &base_url,
        failures,
        now,
    };
    match fetch(client, etag.as_deref(), &mut warnings).await {
        Ok(ListResponse::NotModified) => match cached {
            Some((mut entry, discovered)) => {
                entry.fetched_at = unix_seconds(now);
                store(&entry, cache_path, &mut warnings);
                failure.clear(&mut warnings);
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
                if let Some(why) = discovered.implausible(baseline(&cached, &base_url)) {
                    let reason = format!("the router's list was refused: {why}");
                    let mut data = failure.fall_back(cached, &reason, now, warnings);
                    if let Some(retry) = &mut data.retry {
                        retry.refused = true;
                    }
                    return data;
                }
                // parse_model_list accepted it: valid UTF-8 JSON.
                let text = String::from_utf8_lossy(&body).into_owned();
                let entry = CachedList {
                    base_url: base_url.clone(),
                    fetched_at: unix_seconds(now),
                    etag,
                    body: text,
                };
                store(&entry, cache_path, &mut warnings);
                failure.clear(&mut warnings);
                LiveData::live(discovered, warnings)
            }
            Err(e) => failure.fall_back(cached, &e.to_string(), now, warnings),
        },
        Err(e) => failure.fall_back(cached, &e.to_string(), now, warnings),
    }
}

/// What a fetched list of `base_url` is weighed against: the cache, else the built-in
/// snapshot when the router is the public one (the snapshot is its list, no other's: a
/// private router may well serve three models).
fn baseline(cached: &Cached, base_url: &str) -> Option<Baseline> {
    match cached {
        Some((_, old)) => Some(Baseline::Cache(old.models.len())),
        None if base_url == DEFAULT_BASE_URL => Some(Baseline::BuiltIn(builtin::table().len())),
        None => None,
    }
}

/// Remembering (or forgetting) a failed fetch of one router.
struct Failure<'a> {
    path: &'a Path,
    base_url: &'a str,
    /// Failures in a row before this attempt.
    failures: u32,
    now: SystemTime,
}

impl Failure<'_> {
    /// Records this attempt's failure; returns when the router will be asked again.
    fn record(&self, reason: &str, warnings: &mut Vec<String>) -> Retry {
        let failures = self.failures.saturating_add(1);
        let record = FailedFetch {
            base_url: self.base_url.to_owned(),
            failed_at: unix_seconds(self.now),
            failures,
            reason: reason.to_owned(),
        };
        if let Err(e) = record.write(self.path) {
            warnings.push(format!("could not save the failed fetch: {e}"));
        }
        Retry {
            reason: reason.to_owned(),
            failed_ago: Duration::ZERO,
            next_in: retry_delay(failures),
            skipped: false,
            refused: false,
        }
    }

    fn clear(&self, warnings: &mut Vec<String>) {
        if self.failures > 0
            && let Err(e) = FailedFetch::remove(self.path)
        {
            warnings.push(format!("could not clear the failed fetch: {e}"));
        }
    }

    /// The cache at any age, else built-in only, with the failure and when to expect the
    /// next attempt in [`LiveData::retry`].
    fn fall_back(
        &self,
        cached: Cached,
        reason: &str,
        now: SystemTime,
        mut warnings: Vec<String>,
    ) -> LiveData {
        let retry = self.record(reason, &mut warnings);
        let mut data = from_cache(cached, Duration::ZERO, now, warnings);
        data.retry = Some(retry);
        data
    }
}

/// The failure record of `base_url`, if any; an unreadable one counts as none.
fn read_failure(path: &Path, base_url: &str) -> Option<FailedFetch> {
    match FailedFetch::read(path) {
        Ok(record) => record.filter(|r| normalize_base_url(&r.base_url) == base_url),
        Err(e) => {
            tracing::debug!(error = %e, "ignoring the failed-fetch record");
            None
        }
    }
}

fn age_since(unix: u64, now: SystemTime) -> Duration {
    Duration::from_secs(unix_seconds(now).saturating_sub(unix))
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
        retry: None,
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

fn store(entry: &CachedList, path: &Path, warnings: &mut Vec<String>) {
    if let Err(e) = entry.write(path) {
        warnings.push(format!("could not save the model cache: {e}"));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ages_read_well() {
        assert_eq!(format_age(Duration::from_secs(5)), "5 s");
        assert_eq!(format_age(Duration::from_secs(125)), "2 min");
        assert_eq!(format_age(Duration::from_secs(3 * 3_600 + 59)), "3 h");
        assert_eq!(format_age(Duration::from_secs(5 * 86_400)), "5 days");
    }

    #[test]
    fn retries_wait_one_minute_doubling_to_one_hour() {
        let minutes: Vec<u64> = (0..9).map(|n| retry_delay(n).as_secs() / 60).collect();
        assert_eq!(minutes, [1, 1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(retry_delay(u32::MAX), MAX_RETRY_DELAY);
    }

    #[test]
    fn fetched_lists_are_weighed_against_the_cache_else_the_public_routers_snapshot() {
        let builtin = builtin::table().len();
        assert_eq!(
            baseline(&None, DEFAULT_BASE_URL),
            Some(Baseline::BuiltIn(builtin))
        );
        assert_eq!(baseline(&None, "http://127.0.0.1:8080/v1"), None);
        let list = r#"{"object":"list","data":[{"id":"a/B","providers":[]}]}"#;
        let cached = CachedList {
            base_url: DEFAULT_BASE_URL.to_owned(),
            fetched_at: 0,
            etag: None,
            body: list.to_owned(),
        };
        let discovered = parse_model_list(list.as_bytes()).unwrap();
        assert_eq!(
            baseline(&Some((cached, discovered)), DEFAULT_BASE_URL),
            Some(Baseline::Cache(1))
        );
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
