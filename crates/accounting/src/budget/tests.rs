use std::time::Duration;

use super::*;
use crate::time::days_from_civil;

/// 2026-12-01 at `hour`:00 UTC.
fn at(hour: u64) -> SystemTime {
    let midnight = days_from_civil(2026, 12, 1) as u64 * 86_400;
    SystemTime::UNIX_EPOCH + Duration::from_secs(midnight + hour * 3600)
}

fn config() -> BudgetConfig {
    BudgetConfig {
        usd_per_day: Some(5.0),
        per_key_usd_per_day: [("team-a".to_owned(), 1.0)].into(),
        ..BudgetConfig::default()
    }
}

#[test]
fn crossing_the_global_budget_refuses_the_next_request_until_utc_midnight() {
    let budgets = Budgets::new(config());
    budgets.add(None, 4.99, at(10));
    assert!(budgets.check(None, at(10)).is_ok());
    budgets.add(Some("team-b"), 0.02, at(11));
    let e = budgets.check(Some("team-b"), at(12)).unwrap_err();
    assert_eq!(e.which, BudgetScope::Global);
    assert_eq!((e.limit, (e.spent * 100.0).round()), (5.0, 501.0));
    assert_eq!(e.resets_at, at(24));
    assert_eq!(
        e.to_string(),
        "the daily budget of $5.00 is spent ($5.01 so far today); it resets at 2026-12-02 00:00 UTC"
    );
    assert!(
        budgets.check(None, at(24)).is_ok(),
        "a new UTC day starts from zero"
    );
}

#[test]
fn a_key_budget_only_stops_that_key() {
    let budgets = Budgets::new(config());
    budgets.add(Some("team-a"), 1.0, at(9));
    let e = budgets.check(Some("team-a"), at(9)).unwrap_err();
    assert_eq!(e.which, BudgetScope::Key("team-a".into()));
    assert!(
        e.to_string()
            .starts_with("the daily budget of key \"team-a\" of $1.00 is spent")
    );
    assert!(budgets.check(Some("team-b"), at(9)).is_ok());
    assert!(budgets.check(None, at(9)).is_ok());
}

#[test]
fn seeding_and_syncing_from_the_ledger() {
    let budgets = Budgets::new(config());
    let spend = Spend {
        total_usd: 4.0,
        per_key_usd: [("team-a".to_owned(), 1.5)].into(),
    };
    budgets.seed(&spend, &spend, at(8));
    assert!(budgets.check(Some("team-a"), at(8)).is_err());
    budgets.add(None, 0.5, at(8));
    // Another replica spent more; this one's unflushed 0.5 is not lost either.
    let more = Spend {
        total_usd: 4.2,
        ..Spend::default()
    };
    budgets.sync(&more, &more, at(8));
    assert_eq!(budgets.status(at(8))[0].spent, 4.5);
    let spent = Spend {
        total_usd: 5.0,
        ..Spend::default()
    };
    budgets.sync(&spent, &spent, at(8));
    assert!(budgets.check(None, at(8)).is_err());
    let status = budgets.status(at(25));
    assert_eq!(status.len(), 2);
    assert_eq!((status[0].spent, status[1].spent), (0.0, 0.0));
}

#[test]
fn no_limit_never_refuses_and_odd_costs_are_ignored() {
    let budgets = Budgets::new(BudgetConfig::default());
    budgets.add(None, 1e9, at(1));
    budgets.add(None, f64::NAN, at(1));
    assert!(budgets.check(Some("x"), at(1)).is_ok());
    assert!(budgets.status(at(1)).is_empty());
    let limited = Budgets::new(config());
    limited.add(None, f64::INFINITY, at(1));
    limited.add(None, -3.0, at(1));
    assert_eq!(limited.status(at(1))[0].spent, 0.0);
}

#[test]
fn reservations_hold_the_worst_case_until_settled() {
    let budgets = Arc::new(Budgets::new(config()));
    // Eight requests at once that may cost 0.2 each against a $1 key budget: five fit.
    let holds: Vec<Result<Hold, BudgetExceeded>> = (0..8)
        .map(|_| budgets.reserve(Some("team-a"), 0.2, at(10)))
        .collect();
    assert_eq!(holds.iter().filter(|h| h.is_ok()).count(), 5);
    let refused = holds.iter().find_map(|h| h.as_ref().err()).cloned();
    let refused = refused.unwrap();
    assert_eq!(refused.which, BudgetScope::Key("team-a".into()));
    assert!(
        refused.to_string().starts_with(
            "this request could pass the daily budget of key \"team-a\" of $1.00: $0.00 is spent today, $1.00 is held"
        ),
        "{refused}"
    );
    // They cost less than reserved: settling frees the rest.
    for hold in holds.into_iter().flatten() {
        hold.settle(Some(0.05), at(10));
    }
    let status = budgets.status_of(Some("team-a"), at(10));
    let key = status
        .iter()
        .find(|b| b.which != BudgetScope::Global)
        .unwrap();
    assert_eq!((key.reserved, (key.spent * 100.0).round()), (0.0, 25.0));
    assert!((budgets.remaining(Some("team-a"), at(10)).unwrap() - 0.75).abs() < 1e-9);
    // A request that goes away unsettled releases its hold.
    let hold = budgets.reserve(Some("team-a"), 0.7, at(10)).unwrap();
    assert!(budgets.reserve(Some("team-a"), 0.1, at(10)).is_err());
    drop(hold);
    assert!(budgets.reserve(Some("team-a"), 0.1, at(10)).is_ok());
}

#[test]
fn monthly_budgets_reset_on_the_first_of_the_month() {
    let budgets = Budgets::new(BudgetConfig {
        usd_per_month: Some(10.0),
        ..BudgetConfig::default()
    });
    budgets.add(None, 6.0, at(0));
    budgets.add(None, 4.5, at(24 * 20));
    let e = budgets.check(None, at(24 * 20)).unwrap_err();
    assert_eq!(e.period, BudgetPeriod::Month);
    assert!(
        e.to_string().contains("it resets at 2027-01-01 00:00 UTC"),
        "{e}"
    );
    assert!(budgets.check(None, at(24 * 31)).is_ok());
}
