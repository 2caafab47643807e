//! Replicas of `hfclaw serve` on one SQLite ledger (issue 22, items 2 and 3): budgets
//! and a key's requests per minute hold across them — reservations and request counts go
//! through the database, so the overshoot is at most one request per replica. The same
//! cases on PostgreSQL are in `serve_postgres.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use common::gateway::Gateway;
use common::team::{
    COSTLY_ANSWER_USD, COSTLY_RESERVATION_USD, costly_at_once, ledger_spend, ok,
    requests_per_replica, sandbox, slow_costly_answers, stop,
};
use hfclaw_accounting::LedgerSpec;

/// Five reservations fit, not six.
const BUDGET: &str = "0.039";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_requests_on_one_replica_stay_within_the_budget() {
    let s = sandbox();
    slow_costly_answers(&s);
    let gw = Gateway::start(&s, &["--budget-usd-per-day", BUDGET]);
    let served = costly_at_once(&[&gw], 8).await;
    stop(gw);
    assert_eq!(served, 5);
    let spent = ledger_spend(&LedgerSpec::Sqlite(s.ledger_path()));
    assert!(spent <= 0.039, "{spent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_requests_on_each_of_two_replicas_stay_within_one_reservation_each() {
    let s = sandbox();
    slow_costly_answers(&s);
    let a = Gateway::start(&s, &["--budget-usd-per-day", BUDGET]);
    let b = Gateway::start(&s, &["--budget-usd-per-day", BUDGET]);
    // Each replica alone would let five through (ten in all, $0.070).
    let served = costly_at_once(&[&a, &b], 8).await;
    let logs = [stop(a), stop(b)];
    assert!((5..=7).contains(&served), "{served} served\n{logs:#?}");
    let spent = ledger_spend(&LedgerSpec::Sqlite(s.ledger_path()));
    assert!(
        (spent - served as f64 * COSTLY_ANSWER_USD).abs() < 1e-9
            && spent <= 0.039 + 2.0 * COSTLY_RESERVATION_USD,
        "{spent}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keys_requests_per_minute_hold_across_two_replicas() {
    let s = sandbox();
    let key = ok(&s, &["keys", "create", "team", "--rpm", "10"])
        .trim()
        .to_owned();
    let a = Gateway::start(&s, &[]);
    let b = Gateway::start(&s, &[]);
    // Fifteen each, at once: each replica alone would serve ten (twenty in all).
    let served = requests_per_replica(&[&a, &b], &key, 15).await;
    let logs = [stop(a), stop(b)];
    // Never early (ten), at most one more per replica.
    assert!((10..=12).contains(&served), "{served} served\n{logs:#?}");
}
