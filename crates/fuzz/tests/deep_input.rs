//! Network and cache input nested arbitrarily deep (issue 13): router lists, cache files,
//! SSE events. Never a stack overflow: the typed readers meet a wrong type at the first
//! level too many (an entry skipped with a warning), serde_json skips unknown fields
//! without recursing, and its depth limit (128, not disabled anywhere: `cargo tree -e
//! features -i serde_json` shows no `unbounded_depth`) bounds what is read into values.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use hfclaw_catalog::cache::CachedList;
use hfclaw_catalog::parse_model_list;
use hfclaw_router_client::sse::decode_all;
use hfclaw_router_client::{ChatEvent, ErrorKind, Origin, load_cached_models};

/// Runs `f` on a thread with a tokio worker's stack (2 MiB): a parser recursing once per
/// level would overflow it (aborting the test binary) long before 100,000 levels.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

fn deep(levels: usize) -> String {
    format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
}

#[test]
fn a_router_list_nested_deep_is_skipped_entry_by_entry() {
    for body in [
        format!("{{\"object\":\"list\",\"data\":{}}}", deep(100_000)),
        deep(100_000),
    ] {
        let list = on_small_stack(move || parse_model_list(body.as_bytes()).unwrap());
        assert!(list.models.is_empty());
        assert_eq!(
            list.warnings,
            ["data[0]: invalid type: sequence, expected a string"]
        );
    }
}

#[test]
fn deep_fields_of_an_entry_cost_that_field_or_that_entry_only() {
    let body = format!(
        "{{\"data\":[{{\"id\":\"a/b\",\"architecture\":{{\"input_modalities\":{}}}}},{{\"id\":\"c/d\",\"providers\":[{{\"provider\":\"p\",\"status\":\"live\",\"pricing\":{}}}]}},{{\"id\":\"e/f\"}}]}}",
        deep(100_000),
        deep(100_000)
    );
    let list = on_small_stack(move || parse_model_list(body.as_bytes()).unwrap());
    let ids: Vec<&str> = list.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["c/d", "e/f"], "{:?}", list.warnings);
    assert_eq!(list.warnings.len(), 1, "{:?}", list.warnings);
    // The provider stays, without the pricing it garbled.
    assert_eq!(list.models[0].providers.len(), 1);
    assert_eq!(list.models[0].providers[0].pricing, None);
}

#[test]
fn deep_values_in_unknown_fields_are_skipped_without_recursion() {
    let body = format!(
        "{{\"data\":[{{\"id\":\"a/b\",\"future_field\":{}}}]}}",
        deep(100_000)
    );
    let list = on_small_stack(move || parse_model_list(body.as_bytes()).unwrap());
    assert_eq!(list.models.len(), 1);
}

#[test]
fn a_cache_file_nested_deep_is_a_miss_or_a_list_without_that_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("models.json");
    // Deep where the reader builds values: not a cache.
    std::fs::write(
        &path,
        format!(
            "{{\"version\":1,\"base_url\":{},\"fetched_at\":1,\"etag\":null,\"body\":{{}}}}",
            deep(100_000)
        ),
    )
    .unwrap();
    let p = path.clone();
    assert_eq!(on_small_stack(move || CachedList::read(&p).unwrap()), None);
    // Deep inside the stored body: read as written, refused when parsed as a list.
    std::fs::write(
        &path,
        format!(
            "{{\"version\":1,\"base_url\":\"x\",\"fetched_at\":1,\"etag\":null,\"body\":{{\"data\":{}}}}}",
            deep(100_000)
        ),
    )
    .unwrap();
    let list = on_small_stack(move || {
        let cached = CachedList::read(&path).unwrap().unwrap();
        parse_model_list(cached.body.as_bytes()).unwrap()
    });
    assert!(list.models.is_empty());
    assert_eq!(list.warnings.len(), 1);
}

#[test]
fn sse_events_nested_too_deep_are_dropped_or_reported_never_a_crash() {
    let stream = format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}}}}]}}\n\n\
         data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"ok\"}}}}]}}\n\n\
         data: {{\"error\":{}}}\n\n\
         event: error\ndata: {}\n\n\
         data: [DONE]\n\n",
        deep(100_000),
        deep(100_000),
        deep(100_000)
    );
    let events = on_small_stack(move || decode_all(stream.as_bytes()));
    assert_eq!(events[0], ChatEvent::Content("ok".to_owned()));
    let errors: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Error(e) => Some(e.kind),
            _ => None,
        })
        .collect();
    assert_eq!(errors, [ErrorKind::Upstream, ErrorKind::Upstream]);
    assert_eq!(events.last(), Some(&ChatEvent::Done));
}

#[test]
fn a_cache_nested_deep_loses_that_entry_not_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("models.json");
    std::fs::write(
        &path,
        format!(
            "{{\"version\":1,\"base_url\":\"http://x/v1\",\"fetched_at\":1,\"etag\":null,\"body\":{{\"data\":{}}}}}",
            deep(100_000)
        ),
    )
    .unwrap();
    let live = on_small_stack(move || {
        load_cached_models(
            "http://x/v1",
            &path,
            Duration::from_secs(3600),
            SystemTime::now(),
        )
    });
    // The list's one entry is skipped: an empty live list, from the (stale) cache.
    assert_eq!(live.models.map(|m| m.len()), Some(0));
    assert!(
        matches!(live.origin, Origin::StaleCache { .. }),
        "{:?}",
        live.origin
    );
}
