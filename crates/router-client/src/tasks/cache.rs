//! The gateway's cache of Hub mappings, with the catalog's policy: an answer is used for
//! a TTL without asking the Hub, then revalidated with its `ETag`; a model the Hub does
//! not know is remembered too (a negative entry, for a shorter time); a failed fetch
//! leaves the Hub alone for 1 min, 2, 4 … up to 1 h ([`crate::retry_delay`]) and the last
//! good answer, however old, serves meanwhile. Clock passed in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::mapping::{ProviderMapping, parse_model_mapping};
use crate::client::{ListResponse, RouterClient};
use crate::discovery::retry_delay;
use crate::error::{ErrorKind, RouterError};

/// How long a mapping is used without asking the Hub (the catalog's TTL).
pub const MAPPING_TTL: Duration = Duration::from_secs(60 * 60);
/// How long "the Hub does not know this model" is remembered.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(5 * 60);
/// Models remembered at most (the oldest answer goes first).
pub const MAX_ENTRIES: usize = 4096;

/// The mappings of one model: shared, cheap to clone.
pub type Mappings = Arc<[ProviderMapping]>;

#[derive(Debug, Clone)]
struct Known {
    /// `None`: the Hub answered 404.
    mappings: Option<Mappings>,
    etag: Option<String>,
    fetched_at: Instant,
}

#[derive(Debug, Clone, Default)]
struct Entry {
    known: Option<Known>,
    failures: u32,
    failed_at: Option<Instant>,
    last_error: Option<RouterError>,
}

/// Hub mappings by model id.
#[derive(Debug)]
pub struct MappingCache {
    ttl: Duration,
    negative_ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Default for MappingCache {
    fn default() -> Self {
        MappingCache::new(MAPPING_TTL, NEGATIVE_TTL)
    }
}

/// What the cache can answer without the network.
enum Cached {
    Answer(Result<Mappings, RouterError>),
    Fetch(Option<String>),
}

fn unknown_model(model_id: &str) -> RouterError {
    RouterError {
        status: Some(404),
        ..RouterError::new(
            ErrorKind::NotFound,
            format!("{model_id} is not a model on the Hugging Face Hub"),
        )
        .with_model(model_id)
    }
}

impl MappingCache {
    /// A cache with these lifetimes.
    pub fn new(ttl: Duration, negative_ttl: Duration) -> MappingCache {
        MappingCache {
            ttl,
            negative_ttl,
            entries: Mutex::default(),
        }
    }

    /// The mappings of `model_id` (`org/model`): cached, or fetched from
    /// `{hub_url}/api/models/{model_id}?expand[]=inferenceProviderMapping`.
    pub async fn get(
        &self,
        client: &RouterClient,
        hub_url: &str,
        model_id: &str,
        now: Instant,
    ) -> Result<Mappings, RouterError> {
        let etag = match self.cached(model_id, now) {
            Cached::Answer(answer) => return answer,
            Cached::Fetch(etag) => etag,
        };
        let path = format!("/api/models/{model_id}?expand[]=inferenceProviderMapping");
        tracing::debug!(model = model_id, "fetching the Hub's provider mapping");
        let fetched = client.hub_get(hub_url, &path, etag.as_deref()).await;
        self.settle(model_id, fetched, now)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn cached(&self, model_id: &str, now: Instant) -> Cached {
        let entries = self.lock();
        let Some(entry) = entries.get(model_id) else {
            return Cached::Fetch(None);
        };
        if let Some(known) = &entry.known {
            let ttl = if known.mappings.is_some() {
                self.ttl
            } else {
                self.negative_ttl
            };
            if now.saturating_duration_since(known.fetched_at) < ttl {
                return Cached::Answer(answer_of(known, model_id));
            }
        }
        if let Some(failed_at) = entry.failed_at
            && now.saturating_duration_since(failed_at) < retry_delay(entry.failures)
        {
            return Cached::Answer(match (&entry.known, &entry.last_error) {
                (Some(known), _) => answer_of(known, model_id),
                (None, Some(error)) => Err(error.clone()),
                (None, None) => Err(RouterError::new(
                    ErrorKind::Network,
                    "the Hub could not be reached",
                )),
            });
        }
        Cached::Fetch(entry.known.as_ref().and_then(|k| k.etag.clone()))
    }

    fn settle(
        &self,
        model_id: &str,
        fetched: Result<ListResponse, RouterError>,
        now: Instant,
    ) -> Result<Mappings, RouterError> {
        let parsed = match fetched {
            Ok(ListResponse::Fresh { body, etag }) => match parse_model_mapping(&body) {
                Ok(mappings) => Ok(Some((Some(Mappings::from(mappings)), etag))),
                Err(e) => Err(RouterError::new(ErrorKind::BadResponse, e.to_string())),
            },
            Ok(ListResponse::NotModified) => Ok(None),
            Err(e) if e.status == Some(404) => Ok(Some((None, None))),
            Err(e) => Err(e),
        };
        let mut entries = self.lock();
        if !entries.contains_key(model_id) && entries.len() >= MAX_ENTRIES {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.known.as_ref().map(|k| k.fetched_at))
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        let entry = entries.entry(model_id.to_owned()).or_default();
        match parsed {
            Ok(fresh) => {
                entry.failures = 0;
                entry.failed_at = None;
                entry.last_error = None;
                match (fresh, &mut entry.known) {
                    (Some((mappings, etag)), known) => {
                        *known = Some(Known {
                            mappings,
                            etag,
                            fetched_at: now,
                        });
                    }
                    (None, Some(known)) => known.fetched_at = now,
                    // A 304 with nothing cached: the Hub contradicts itself.
                    (None, None) => {
                        return Err(RouterError::new(
                            ErrorKind::BadResponse,
                            "the Hub answered 304 to a request without an ETag",
                        ));
                    }
                }
                match &entry.known {
                    Some(known) => answer_of(known, model_id),
                    None => Err(unknown_model(model_id)),
                }
            }
            Err(error) => {
                tracing::debug!(model = model_id, error = %error, "the Hub's provider mapping could not be fetched");
                entry.failures = entry.failures.saturating_add(1);
                entry.failed_at = Some(now);
                entry.last_error = Some(error.clone());
                match &entry.known {
                    Some(known) => answer_of(known, model_id),
                    None => Err(error),
                }
            }
        }
    }
}

fn answer_of(known: &Known, model_id: &str) -> Result<Mappings, RouterError> {
    known
        .mappings
        .clone()
        .ok_or_else(|| unknown_model(model_id))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use bytes::Bytes;

    use super::*;

    const BODY: &str = r#"{"id":"a/b","inferenceProviderMapping":{"together":{"status":"live","providerId":"a-b","task":"feature-extraction"}}}"#;

    fn fresh(etag: Option<&str>) -> Result<ListResponse, RouterError> {
        Ok(ListResponse::Fresh {
            body: Bytes::from_static(BODY.as_bytes()),
            etag: etag.map(str::to_owned),
        })
    }

    fn down() -> Result<ListResponse, RouterError> {
        Err(RouterError::new(ErrorKind::Network, "connection refused"))
    }

    fn fetch_due(cache: &MappingCache, now: Instant) -> Option<Option<String>> {
        match cache.cached("a/b", now) {
            Cached::Fetch(etag) => Some(etag),
            Cached::Answer(_) => None,
        }
    }

    #[test]
    fn a_fresh_mapping_is_used_without_asking_then_revalidated_with_its_etag() {
        let cache = MappingCache::default();
        let t0 = Instant::now();
        assert_eq!(fetch_due(&cache, t0), Some(None));
        let got = cache.settle("a/b", fresh(Some("W/\"1\"")), t0).unwrap();
        assert_eq!(got[0].provider_id, "a-b");
        assert_eq!(fetch_due(&cache, t0 + Duration::from_secs(60)), None);
        let later = t0 + MAPPING_TTL;
        assert_eq!(fetch_due(&cache, later), Some(Some("W/\"1\"".to_owned())));
        let got = cache
            .settle("a/b", Ok(ListResponse::NotModified), later)
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(fetch_due(&cache, later + Duration::from_secs(1)), None);
    }

    #[test]
    fn an_unknown_model_is_remembered_for_a_while() {
        let cache = MappingCache::default();
        let t0 = Instant::now();
        let gone = Err(RouterError {
            status: Some(404),
            ..RouterError::new(ErrorKind::NotFound, "Repository not found")
        });
        let error = cache.settle("a/b", gone, t0).unwrap_err();
        assert_eq!(error.kind, ErrorKind::NotFound);
        assert_eq!(fetch_due(&cache, t0 + Duration::from_secs(60)), None);
        assert!(fetch_due(&cache, t0 + NEGATIVE_TTL).is_some());
    }

    #[test]
    fn a_failed_fetch_backs_off_and_serves_the_last_good_answer() {
        let cache = MappingCache::default();
        let t0 = Instant::now();
        let error = cache.settle("a/b", down(), t0).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Network);
        // Within the backoff, the remembered error comes back without a fetch.
        assert_eq!(fetch_due(&cache, t0 + Duration::from_secs(30)), None);
        let t1 = t0 + Duration::from_secs(61);
        assert!(fetch_due(&cache, t1).is_some());
        cache.settle("a/b", fresh(None), t1).unwrap();
        let t2 = t1 + MAPPING_TTL;
        let stale = cache.settle("a/b", down(), t2).unwrap();
        assert_eq!(stale[0].provider, "together");
        assert_eq!(fetch_due(&cache, t2 + Duration::from_secs(30)), None);
    }
}
