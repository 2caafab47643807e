//! Discovery's cache policy against a loopback fake router and a temporary cache dir.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hfclaw_catalog::cache::{CachedList, FailedFetch};
use hfclaw_router_client::{
    CachePolicy, ClientOptions, LiveData, Origin, Retry, RouterClient, Token, load_live_models,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FIXTURE: &str = include_str!("fixtures/router-models-synthetic.json");
const SMALL: &str = r#"{"object":"list","data":[{"id":"cached/Only-1B","providers":[]}]}"#;
const T0: u64 = 1_800_000_000;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

struct Setup {
    server: MockServer,
    _dir: tempfile::TempDir,
    cache: PathBuf,
}

impl Setup {
    async fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache/models.json");
        Setup {
            server: MockServer::start().await,
            _dir: dir,
            cache,
        }
    }

    fn base(&self) -> String {
        format!("{}/v1", self.server.uri())
    }

    fn client(&self, token: Option<&str>) -> RouterClient {
        let mut options = ClientOptions::new(self.base());
        options.token = token.and_then(Token::new);
        RouterClient::new(options).unwrap()
    }

    fn write_cache(&self, base_url: &str, fetched_at: u64, etag: Option<&str>) {
        CachedList {
            base_url: base_url.to_owned(),
            fetched_at,
            etag: etag.map(str::to_owned),
            body: SMALL.to_owned(),
        }
        .write(&self.cache)
        .unwrap();
    }

    async fn serve_fixture(&self) {
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("etag", "\"new\"")
                    .set_body_raw(FIXTURE, "application/json"),
            )
            .mount(&self.server)
            .await;
    }

    async fn load(&self, policy: CachePolicy, now: SystemTime) -> LiveData {
        let client = self.client(None);
        load_live_models(Some(&client), &self.base(), &self.cache, policy, now).await
    }

    async fn hits(&self) -> usize {
        self.server.received_requests().await.unwrap().len()
    }
}

fn ids(data: &LiveData) -> Vec<&str> {
    data.models
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|m| m.id.as_str())
        .collect()
}

fn policy() -> CachePolicy {
    CachePolicy::default()
}

#[tokio::test]
async fn no_cache_fetches_and_writes_the_cache() {
    let s = Setup::new().await;
    s.serve_fixture().await;
    let data = s.load(policy(), at(T0)).await;
    assert_eq!(data.origin, Origin::Live);
    assert!(ids(&data).contains(&"deepseek-ai/DeepSeek-R1"));
    assert_eq!(
        data.warnings,
        ["skipped 2 of 19 models in the router's list (malformed); data[16]: missing field `id`"],
        "one line for the two malformed entries of the fixture"
    );
    assert_eq!(data.skipped.len(), 2);
    let stored = CachedList::read(&s.cache).unwrap().unwrap();
    assert_eq!(stored.base_url, s.base());
    assert_eq!(stored.fetched_at, T0);
    assert_eq!(stored.etag.as_deref(), Some("\"new\""));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stored.body).unwrap(),
        serde_json::from_str::<serde_json::Value>(FIXTURE).unwrap()
    );
}

#[tokio::test]
async fn fresh_cache_is_used_without_fetching() {
    let s = Setup::new().await;
    s.serve_fixture().await;
    s.write_cache(&format!("{}/", s.base()), T0, None);
    let data = s.load(policy(), at(T0 + 59 * 60)).await;
    assert_eq!(
        data.origin,
        Origin::Cache {
            age: Duration::from_secs(59 * 60)
        }
    );
    assert_eq!(ids(&data), ["cached/Only-1B"]);
    assert_eq!(s.hits().await, 0);
}

#[tokio::test]
async fn refresh_fetches_even_when_fresh() {
    let s = Setup::new().await;
    s.serve_fixture().await;
    s.write_cache(&s.base(), T0, None);
    let refresh = CachePolicy {
        refresh: true,
        ..policy()
    };
    let data = s.load(refresh, at(T0 + 10)).await;
    assert_eq!(data.origin, Origin::Live);
    assert_eq!(s.hits().await, 1);
    assert!(ids(&data).contains(&"deepseek-ai/DeepSeek-R1"));
}

#[tokio::test]
async fn stale_cache_is_revalidated_with_its_etag() {
    let s = Setup::new().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(header("if-none-match", "\"old\""))
        .respond_with(ResponseTemplate::new(304))
        .mount(&s.server)
        .await;
    s.write_cache(&s.base(), T0, Some("\"old\""));
    let now = T0 + 7 * 3_600;
    let data = s.load(policy(), at(now)).await;
    assert_eq!(data.origin, Origin::Live);
    assert_eq!(ids(&data), ["cached/Only-1B"]);
    let stored = CachedList::read(&s.cache).unwrap().unwrap();
    assert_eq!(stored.fetched_at, now, "a 304 renews the fetch time");
    assert_eq!(stored.etag.as_deref(), Some("\"old\""));
    assert_eq!(s.hits().await, 1);
}

#[tokio::test]
async fn failed_fetch_falls_back_to_stale_cache_with_its_age() {
    let s = Setup::new().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down"))
        .mount(&s.server)
        .await;
    s.write_cache(&s.base(), T0, None);
    let data = s.load(policy(), at(T0 + 3 * 3_600)).await;
    assert_eq!(
        data.origin,
        Origin::StaleCache {
            age: Duration::from_secs(3 * 3_600)
        }
    );
    assert_eq!(ids(&data), ["cached/Only-1B"]);
    // The failure is data for the caller to phrase (with its own flags), not a warning.
    assert!(data.warnings.is_empty(), "{:?}", data.warnings);
    let retry = retry(&data);
    assert!(retry.reason.contains("HTTP 503"), "{retry:?}");
    assert_eq!(retry.next_in, Duration::from_secs(60));
    assert!(!retry.skipped && !retry.refused, "{retry:?}");
    assert_eq!(
        CachedList::read(&s.cache).unwrap().unwrap().fetched_at,
        T0,
        "untouched"
    );
}

#[tokio::test]
async fn failed_fetch_without_cache_is_builtin_only() {
    let s = Setup::new().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>captive portal</html>"))
        .mount(&s.server)
        .await;
    let data = s.load(policy(), at(T0)).await;
    assert_eq!(data.origin, Origin::BuiltinOnly);
    assert_eq!(data.models, None);
    assert!(
        retry(&data)
            .reason
            .starts_with("the router's model list is not valid"),
        "{:?}",
        data.retry
    );
    assert!(!s.cache.exists(), "garbage is never cached");
}

#[tokio::test]
async fn offline_uses_cache_of_any_age_and_never_fetches() {
    let s = Setup::new().await;
    s.serve_fixture().await;
    let offline = CachePolicy {
        offline: true,
        ..policy()
    };
    let data = s.load(offline, at(T0)).await;
    assert_eq!(data.origin, Origin::BuiltinOnly);
    assert!(data.warnings.is_empty());

    s.write_cache(&s.base(), T0, None);
    let data = s.load(offline, at(T0 + 30 * 86_400)).await;
    assert_eq!(
        data.origin,
        Origin::StaleCache {
            age: Duration::from_secs(30 * 86_400)
        }
    );
    assert_eq!(ids(&data), ["cached/Only-1B"]);
    let data = s.load(offline, at(T0 + 60)).await;
    assert_eq!(
        data.origin,
        Origin::Cache {
            age: Duration::from_secs(60)
        }
    );
    let no_client = load_live_models(None, &s.base(), &s.cache, policy(), at(T0 + 86_400)).await;
    assert_eq!(
        no_client.origin,
        Origin::StaleCache {
            age: Duration::from_secs(86_400)
        }
    );
    assert_eq!(s.hits().await, 0);
}

#[tokio::test]
async fn cache_of_another_router_is_ignored() {
    let s = Setup::new().await;
    s.serve_fixture().await;
    s.write_cache("https://router.huggingface.co/v1", T0, Some("\"other\""));
    let data = s.load(policy(), at(T0 + 1)).await;
    assert_eq!(data.origin, Origin::Live);
    assert!(ids(&data).contains(&"deepseek-ai/DeepSeek-R1"));
    let seen = s.server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].headers.get("if-none-match").is_none(),
        "no ETag from another router's cache"
    );
    assert_eq!(
        CachedList::read(&s.cache).unwrap().unwrap().base_url,
        s.base()
    );

    let offline = CachePolicy {
        offline: true,
        ..policy()
    };
    let elsewhere =
        load_live_models(None, "http://127.0.0.1:9/v1", &s.cache, offline, at(T0)).await;
    assert_eq!(elsewhere.origin, Origin::BuiltinOnly);
}

#[tokio::test]
async fn rejected_token_still_lists_models_without_it() {
    let s = Setup::new().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(header("authorization", "Bearer hf_revokedrevoked00000"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"error": "Invalid credentials"})),
        )
        .with_priority(1)
        .mount(&s.server)
        .await;
    s.serve_fixture().await;
    let client = s.client(Some("hf_revokedrevoked00000"));
    let data = load_live_models(Some(&client), &s.base(), &s.cache, policy(), at(T0)).await;
    assert_eq!(data.origin, Origin::Live);
    // The token warning, then the fixture's malformed entries.
    assert_eq!(data.warnings.len(), 2, "{:?}", data.warnings);
    assert!(
        data.warnings[0].contains("rejected the token"),
        "{:?}",
        data.warnings
    );
    assert!(!data.warnings[0].contains("revoked"), "{:?}", data.warnings);
    assert_eq!(s.hits().await, 2);
}

#[tokio::test]
async fn corrupt_cache_reads_as_a_miss() {
    let s = Setup::new().await;
    s.serve_fixture().await;
    std::fs::create_dir_all(s.cache.parent().unwrap()).unwrap();
    std::fs::write(&s.cache, "{not json").unwrap();
    let data = s.load(policy(), at(T0)).await;
    assert_eq!(data.origin, Origin::Live);
    assert!(CachedList::read(&s.cache).unwrap().is_some(), "rewritten");
}

impl Setup {
    fn failure_record(&self) -> Option<FailedFetch> {
        FailedFetch::read(&FailedFetch::path_beside(&self.cache)).unwrap()
    }

    async fn fail_with_503(&self) {
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503).set_body_string("down"))
            .mount(&self.server)
            .await;
    }
}

fn retry(data: &LiveData) -> &Retry {
    data.retry.as_ref().expect("a retry")
}

#[tokio::test]
async fn failed_fetch_is_not_retried_for_a_minute_then_doubling() {
    let s = Setup::new().await;
    s.fail_with_503().await;
    let first = s.load(policy(), at(T0)).await;
    assert_eq!(first.origin, Origin::BuiltinOnly);
    assert_eq!(retry(&first).next_in, Duration::from_secs(60));
    assert!(!retry(&first).skipped);
    assert_eq!(s.failure_record().unwrap().failures, 1);
    assert_eq!(s.hits().await, 1);

    // Within the minute: no request, no warning, and the reason is still known.
    let quiet = s.load(policy(), at(T0 + 59)).await;
    assert_eq!(s.hits().await, 1);
    assert_eq!(quiet.origin, Origin::BuiltinOnly);
    assert!(quiet.warnings.is_empty(), "{:?}", quiet.warnings);
    let r = retry(&quiet);
    assert!(r.skipped);
    assert_eq!(
        (r.failed_ago, r.next_in),
        (Duration::from_secs(59), Duration::from_secs(1))
    );
    assert!(r.reason.contains("HTTP 503"), "{}", r.reason);

    // After it: one more try, which fails again and doubles the wait.
    let second = s.load(policy(), at(T0 + 60)).await;
    assert_eq!(s.hits().await, 2);
    assert_eq!(retry(&second).next_in, Duration::from_secs(120));
    s.load(policy(), at(T0 + 60 + 119)).await;
    assert_eq!(s.hits().await, 2);
    s.load(policy(), at(T0 + 60 + 120)).await;
    assert_eq!(s.hits().await, 3);
    assert_eq!(s.failure_record().unwrap().failures, 3);
}

#[tokio::test]
async fn waits_are_capped_at_an_hour() {
    let s = Setup::new().await;
    s.fail_with_503().await;
    FailedFetch {
        base_url: s.base(),
        failed_at: T0,
        failures: 30,
        reason: "down".to_owned(),
    }
    .write(&FailedFetch::path_beside(&s.cache))
    .unwrap();
    s.load(policy(), at(T0 + 3_599)).await;
    assert_eq!(s.hits().await, 0);
    s.load(policy(), at(T0 + 3_600)).await;
    assert_eq!(s.hits().await, 1);
}

#[tokio::test]
async fn refresh_always_retries_and_a_success_forgets_the_failure() {
    let s = Setup::new().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.server)
        .await;
    s.serve_fixture().await;
    s.load(policy(), at(T0)).await;
    assert!(s.failure_record().is_some());
    let refresh = CachePolicy {
        refresh: true,
        ..policy()
    };
    let data = s.load(refresh, at(T0 + 1)).await;
    assert_eq!(s.hits().await, 2, "--refresh ignores the wait");
    assert_eq!(data.origin, Origin::Live);
    assert_eq!(data.retry, None);
    assert_eq!(s.failure_record(), None, "a success clears the record");
}

#[tokio::test]
async fn stale_cache_is_used_while_waiting() {
    let s = Setup::new().await;
    s.fail_with_503().await;
    s.write_cache(&s.base(), T0, None);
    s.load(policy(), at(T0 + 2 * 3_600)).await;
    let data = s.load(policy(), at(T0 + 2 * 3_600 + 30)).await;
    assert_eq!(s.hits().await, 1);
    assert_eq!(
        data.origin,
        Origin::StaleCache {
            age: Duration::from_secs(2 * 3_600 + 30)
        }
    );
    assert_eq!(ids(&data), ["cached/Only-1B"]);
}

#[tokio::test]
async fn failure_of_another_router_does_not_apply() {
    let s = Setup::new().await;
    s.serve_fixture().await;
    FailedFetch {
        base_url: "https://router.huggingface.co/v1".to_owned(),
        failed_at: T0,
        failures: 1,
        reason: "down".to_owned(),
    }
    .write(&FailedFetch::path_beside(&s.cache))
    .unwrap();
    let data = s.load(policy(), at(T0 + 1)).await;
    assert_eq!(data.origin, Origin::Live);
    assert_eq!(s.hits().await, 1);
}

#[tokio::test]
async fn a_list_under_half_the_cached_one_does_not_replace_it_even_when_forced() {
    let s = Setup::new().await;
    CachedList {
        base_url: s.base(),
        fetched_at: T0,
        etag: None,
        body: FIXTURE.to_owned(),
    }
    .write(&s.cache)
    .unwrap();
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(SMALL, "application/json"))
        .mount(&s.server)
        .await;
    let data = s.load(policy(), at(T0 + 2 * 3_600)).await;
    assert_eq!(
        data.origin,
        Origin::StaleCache {
            age: Duration::from_secs(2 * 3_600)
        }
    );
    assert!(
        ids(&data).contains(&"deepseek-ai/DeepSeek-R1"),
        "the old list"
    );
    let refused = retry(&data);
    assert!(refused.refused, "{refused:?}");
    assert_eq!(
        refused.reason,
        "the router's list was refused: it lists 1 model, fewer than half of the 17 cached"
    );
    assert_eq!(CachedList::read(&s.cache).unwrap().unwrap().body, FIXTURE);
    assert_eq!(
        s.failure_record().unwrap().failures,
        1,
        "asked again later, not each run"
    );

    // A forced refresh skips the wait, not the guard.
    let refresh = CachePolicy {
        refresh: true,
        ..policy()
    };
    let data = s.load(refresh, at(T0 + 2 * 3_600 + 10)).await;
    assert_eq!(s.hits().await, 2);
    assert!(retry(&data).refused);
    assert!(
        ids(&data).contains(&"deepseek-ai/DeepSeek-R1"),
        "the old list"
    );
    assert_eq!(CachedList::read(&s.cache).unwrap().unwrap().body, FIXTURE);
    assert_eq!(s.failure_record().unwrap().failures, 2);
}

#[tokio::test]
async fn a_list_mostly_malformed_is_refused_without_a_cache_too() {
    let s = Setup::new().await;
    let garbage = r#"{"object":"list","data":[
        {"id":"good/One-1B","providers":[]},
        {"id":2,"providers":[]},{"id":["x"]},{"owned_by":"nobody"}]}"#;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(garbage, "application/json"))
        .mount(&s.server)
        .await;
    let refresh = CachePolicy {
        refresh: true,
        ..policy()
    };
    let data = s.load(refresh, at(T0)).await;
    assert_eq!(data.origin, Origin::BuiltinOnly, "the built-in list stays");
    assert_eq!(data.models, None);
    assert_eq!(
        retry(&data).reason,
        "the router's list was refused: 3 of its 4 model entries are malformed"
    );
    assert!(!s.cache.exists(), "nothing cached");
    assert_eq!(s.failure_record().unwrap().failures, 1);
}

#[tokio::test]
async fn a_refused_connection_is_remembered_too() {
    // A port nothing listens on: bind, read the port, drop the listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("models.json");
    let base = format!("http://127.0.0.1:{port}/v1");
    let client = RouterClient::new(ClientOptions::new(&base)).unwrap();
    let first = load_live_models(Some(&client), &base, &cache, policy(), at(T0)).await;
    assert_eq!(first.origin, Origin::BuiltinOnly);
    assert!(!retry(&first).skipped);
    let second = load_live_models(Some(&client), &base, &cache, policy(), at(T0 + 5)).await;
    assert!(retry(&second).skipped, "no second connection attempt");
}

#[tokio::test]
async fn the_plan_asks_for_a_fetch_only_when_one_is_due() {
    use hfclaw_router_client::{Discovery, plan_discovery};
    let s = Setup::new().await;
    let plan = |now| plan_discovery(&s.base(), &s.cache, policy(), now);
    assert!(matches!(plan(at(T0)), Discovery::Fetch(_)), "no cache");
    s.write_cache(&s.base(), T0, None);
    assert!(
        matches!(plan(at(T0 + 60)), Discovery::Done(_)),
        "fresh cache"
    );
    assert!(
        matches!(plan(at(T0 + 2 * 3_600)), Discovery::Fetch(_)),
        "stale"
    );
    FailedFetch {
        base_url: s.base(),
        failed_at: T0 + 2 * 3_600,
        failures: 1,
        reason: "down".to_owned(),
    }
    .write(&FailedFetch::path_beside(&s.cache))
    .unwrap();
    match plan(at(T0 + 2 * 3_600 + 30)) {
        Discovery::Done(data) => assert!(retry(&data).skipped),
        Discovery::Fetch(_) => panic!("a recent failure means no fetch"),
    }
    assert_eq!(s.hits().await, 0);
}
