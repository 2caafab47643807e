//! The models a task can use, from the Hub's list endpoint
//! (`GET {hub}/api/models?inference_provider=all&pipeline_tag=…&expand[]=inferenceProviderMapping`),
//! with the catalog's cache policy: a cached answer younger than the TTL is used without
//! asking, an older one is revalidated with its `ETag`, `--offline` uses it at any age,
//! and a failed fetch is remembered in the same file so the Hub is left alone for
//! 1 min, 2, 4 … up to 1 h ([`crate::retry_delay`]) while the old answer (if any) serves.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::Task;
use super::mapping::{HubModel, parse_model_list};
use crate::client::{ListResponse, RouterClient};
use crate::discovery::{CachePolicy, retry_delay};

/// The cache file of `task`'s list beside the catalog's (`…/hfclaw/models.json`).
pub fn cache_path_beside(catalog_cache: &Path, task: Task) -> PathBuf {
    catalog_cache.with_file_name(format!("hub-{}.json", task.label()))
}

/// The list endpoint's path and query for `task`.
pub fn list_path(task: Task) -> String {
    format!(
        "/api/models?inference_provider=all&pipeline_tag={}&expand[]=inferenceProviderMapping",
        task.pipeline_tag()
    )
}

/// What the cache file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    hub: String,
    #[serde(default)]
    fetched_at: Option<u64>,
    #[serde(default)]
    etag: Option<String>,
    /// The Hub's answer as received.
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    failed_at: Option<u64>,
    #[serde(default)]
    failures: u32,
    #[serde(default)]
    reason: Option<String>,
}

/// Where a task list came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListOrigin {
    /// Fetched now (or confirmed by a 304).
    Live,
    /// The cache, this old.
    Cache(Duration),
    /// Nothing: no cache and no answer.
    Nothing,
}

/// A task's models and where they came from.
#[derive(Debug, Clone)]
pub struct TaskModels {
    /// The models, as the Hub lists them.
    pub models: Vec<HubModel>,
    /// Their origin.
    pub origin: ListOrigin,
    /// Why the list is not fresh, when a fetch failed (now or recently).
    pub failure: Option<String>,
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn read(path: &Path, hub: &str) -> CacheFile {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
        .filter(|c| c.hub == hub)
        .unwrap_or_else(|| CacheFile {
            hub: hub.to_owned(),
            ..CacheFile::default()
        })
}

fn write(path: &Path, cache: &CacheFile) {
    let Ok(text) = serde_json::to_vec(cache) else {
        return;
    };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // A temp file and a rename: a reader never sees half a file.
    let temp = path.with_extension("json.tmp");
    if std::fs::write(&temp, text).is_ok() && std::fs::rename(&temp, path).is_err() {
        let _ = std::fs::remove_file(&temp);
    }
}

fn from_cache(cache: &CacheFile, now: u64, origin_live: bool) -> (Vec<HubModel>, ListOrigin) {
    let Some(body) = &cache.body else {
        return (Vec::new(), ListOrigin::Nothing);
    };
    let models = parse_model_list(body.as_bytes()).unwrap_or_default();
    let origin = if origin_live {
        ListOrigin::Live
    } else {
        ListOrigin::Cache(Duration::from_secs(
            now.saturating_sub(cache.fetched_at.unwrap_or(0)),
        ))
    };
    (models, origin)
}

/// `task`'s models from `hub`, by the cache policy (`client` `None` or `policy.offline`:
/// the cache only).
pub async fn load_task_models(
    client: Option<&RouterClient>,
    hub: &str,
    cache_path: &Path,
    task: Task,
    policy: CachePolicy,
    now: SystemTime,
) -> TaskModels {
    let now_s = seconds(now);
    let mut cache = read(cache_path, hub);
    let age = now_s.saturating_sub(cache.fetched_at.unwrap_or(0));
    let fresh = cache.body.is_some() && age < policy.ttl.as_secs();
    let backing_off = cache
        .failed_at
        .is_some_and(|at| now_s.saturating_sub(at) < retry_delay(cache.failures).as_secs());
    let client = client.filter(|_| !policy.offline);
    let Some(client) = client.filter(|_| policy.refresh || !(fresh || backing_off)) else {
        let (models, origin) = from_cache(&cache, now_s, false);
        let failure = cache.reason.clone().filter(|_| backing_off);
        return TaskModels {
            models,
            origin,
            failure,
        };
    };
    let etag = cache.etag.clone().filter(|_| cache.body.is_some());
    match client.hub_get(hub, &list_path(task), etag.as_deref()).await {
        Ok(ListResponse::NotModified) => {
            cache.fetched_at = Some(now_s);
            cache.failed_at = None;
            cache.failures = 0;
            cache.reason = None;
            write(cache_path, &cache);
            let (models, origin) = from_cache(&cache, now_s, true);
            TaskModels {
                models,
                origin,
                failure: None,
            }
        }
        Ok(ListResponse::Fresh { body, etag }) => match parse_model_list(&body) {
            Ok(models) => {
                cache.body = Some(String::from_utf8_lossy(&body).into_owned());
                cache.etag = etag;
                cache.fetched_at = Some(now_s);
                cache.failed_at = None;
                cache.failures = 0;
                cache.reason = None;
                write(cache_path, &cache);
                TaskModels {
                    models,
                    origin: ListOrigin::Live,
                    failure: None,
                }
            }
            Err(e) => failed(cache_path, cache, now_s, e.to_string()),
        },
        Err(e) => failed(cache_path, cache, now_s, e.to_string()),
    }
}

fn failed(path: &Path, mut cache: CacheFile, now: u64, reason: String) -> TaskModels {
    cache.failed_at = Some(now);
    cache.failures = cache.failures.saturating_add(1);
    cache.reason = Some(reason.clone());
    write(path, &cache);
    let (models, origin) = from_cache(&cache, now, false);
    TaskModels {
        models,
        origin,
        failure: Some(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_path_asks_for_the_task_and_the_mapping() {
        assert_eq!(
            list_path(Task::Embeddings),
            "/api/models?inference_provider=all&pipeline_tag=feature-extraction&expand[]=inferenceProviderMapping"
        );
        assert_eq!(
            cache_path_beside(Path::new("/c/hfclaw/models.json"), Task::Embeddings),
            Path::new("/c/hfclaw/hub-embeddings.json")
        );
    }
}
