#![allow(clippy::unwrap_used)]

use std::sync::mpsc;
use std::thread::ThreadId;

use super::*;
use crate::ledger::LedgerSpec;
use crate::price::Cost;
use crate::row::Row;
use crate::usage::Api;

fn two_replicas() -> (tempfile::TempDir, [Ledger; 2], [SharedLimits; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let spec = LedgerSpec::Sqlite(dir.path().join("usage.sqlite3"));
    let ledgers = [Ledger::open(&spec).unwrap(), Ledger::open(&spec).unwrap()];
    let limits = [
        SharedLimits::start(&ledgers[0]).unwrap().unwrap(),
        SharedLimits::start(&ledgers[1]).unwrap().unwrap(),
    ];
    (dir, ledgers, limits)
}

/// The answer, and whether it came at once (on the caller's thread).
fn admit(limits: &SharedLimits, claim: Claim) -> (Result<SharedHold, Refused>, bool) {
    let (tx, rx) = mpsc::channel::<(Result<SharedHold, Refused>, ThreadId)>();
    limits.admit(claim, move |answer| {
        tx.send((answer, std::thread::current().id())).unwrap();
    });
    let (answer, thread) = rx.recv().unwrap();
    (answer, thread == std::thread::current().id())
}

fn budget_claim(usd: f64) -> Claim {
    Claim {
        key: Some("k".into()),
        usd,
        budgets: vec![BudgetLimit {
            scope: BudgetScope::Global,
            period: BudgetPeriod::Day,
            limit: 1.0,
        }],
        ..Claim::default()
    }
}

#[test]
fn replicas_reserve_through_the_database_with_one_request_each_on_a_stale_view() {
    let (_dir, ledgers, [a, b]) = two_replicas();
    assert_ne!(a.replica(), b.replica());
    // No view yet: both are checked by the database, which counts the other's hold.
    let (a1, at_once) = admit(&a, budget_claim(0.4));
    assert!(!at_once);
    let a1 = a1.unwrap();
    let (b1, at_once) = admit(&b, budget_claim(0.4));
    assert!(!at_once);
    let b1 = b1.unwrap();
    // A's view (0.4 held) does not know B's hold: its next request goes ahead on it —
    // the one request per replica of the bound — and the write behind it updates the view.
    let (a2, at_once) = admit(&a, budget_claim(0.4));
    assert!(at_once);
    let a2 = a2.unwrap();
    let (a3, _) = admit(&a, budget_claim(0.4));
    match a3 {
        Err(Refused::Budget(e)) => {
            assert!((e.reserved - 1.2).abs() < 1e-9 && e.spent == 0.0, "{e:?}");
        }
        other => panic!("{other:?}"),
    }
    // A hold ends behind its request's row: its real cost is spend, the rest is free.
    ledgers[0].recorder().record(Row {
        key: Some("k".into()),
        cost: Some(Cost {
            usd: 0.3,
            estimated: false,
        }),
        ..Row::new(SystemTime::now(), Api::Chat, "org/a")
    });
    a1.end(10);
    a2.end(0);
    b1.end(0);
    ledgers[0].flush().unwrap();
    ledgers[1].flush().unwrap();
    let (b2, _) = admit(&b, budget_claim(0.7));
    assert!(b2.is_ok(), "{b2:?}");
    let (b3, _) = admit(&b, budget_claim(0.1));
    match b3 {
        Err(Refused::Budget(e)) => assert!((e.spent - 0.3).abs() < 1e-9, "{e:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_keys_requests_per_minute_count_every_replica() {
    let (_dir, _ledgers, [a, b]) = two_replicas();
    let claim = || Claim {
        key: Some("k".into()),
        rpm: Some(3),
        ..Claim::default()
    };
    let mut admitted = Vec::new();
    let mut refused = 0;
    for i in 0..10 {
        let replica = if i % 2 == 0 { &a } else { &b };
        match admit(replica, claim()).0 {
            Ok(hold) => admitted.push(hold),
            Err(Refused::Rate(e)) => {
                assert_eq!(e.unit, "requests");
                assert!((1..=60).contains(&e.retry_after_secs), "{e:?}");
                refused += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    // Never fewer than the limit, at most one more per replica.
    assert!((3..=5).contains(&admitted.len()), "{}", admitted.len());
    assert_eq!(admitted.len() + refused, 10);
}

#[test]
fn a_request_nothing_limits_is_free() {
    assert!(Claim::default().is_free());
    assert!(!budget_claim(0.0).is_free());
}
