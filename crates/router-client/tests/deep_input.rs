//! SSE events, chat bodies and cache files nested arbitrarily deep (issue 13): never a
//! stack overflow; serde_json's depth limit (128) is in force on every path.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

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
