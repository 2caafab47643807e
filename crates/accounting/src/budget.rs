//! Daily spending budgets (UTC days): one for everything, and one per client key label.
//!
//! The running totals live in memory (nanoseconds per check), seeded from the ledger at
//! start ([`Budgets::seed`] with [`crate::Ledger::spend_since`] of the UTC day's start)
//! and, for replicas sharing a PostgreSQL ledger, re-synced now and then
//! ([`Budgets::sync`]): a budget then holds within the ledger's flush interval.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use hfclaw_accounting::{BudgetConfig, Budgets};
//!
//! let budgets = Budgets::new(BudgetConfig { usd_per_day: Some(1.0), ..Default::default() });
//! let now = UNIX_EPOCH + Duration::from_secs(1_796_000_000);
//! assert!(budgets.check(Some("key-1"), now).is_ok());
//! budgets.add(Some("key-1"), 1.25, now);
//! let exceeded = budgets.check(Some("key-2"), now).unwrap_err();
//! assert_eq!(exceeded.limit, 1.0);
//! assert!(budgets.check(None, now + Duration::from_secs(86_400)).is_ok()); // a new UTC day
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::time::{DAY_MS, day_of, format_minute, from_unix_ms, unix_ms};

/// The configured limits, USD per UTC day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BudgetConfig {
    /// Limit for all requests together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_day: Option<f64>,
    /// Limits per client key label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_key_usd_per_day: BTreeMap<String, f64>,
}

impl BudgetConfig {
    /// True when no limit is set.
    pub fn is_empty(&self) -> bool {
        self.usd_per_day.is_none() && self.per_key_usd_per_day.is_empty()
    }
}

/// Which budget a check or status is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetScope {
    /// All requests.
    Global,
    /// One client key label.
    Key(String),
}

impl fmt::Display for BudgetScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BudgetScope::Global => f.write_str("the daily budget"),
            BudgetScope::Key(key) => write!(f, "the daily budget of key {key:?}"),
        }
    }
}

/// A request would start after a budget is spent.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error(
    "{which} of {} is spent ({} so far today); it resets at {}",
    crate::format_usd(*limit, false),
    crate::format_usd(*spent, false),
    format_minute(crate::time::unix_ms(*resets_at))
)]
pub struct BudgetExceeded {
    /// The budget that is spent.
    pub which: BudgetScope,
    /// Its limit, USD per UTC day.
    pub limit: f64,
    /// Spent today so far.
    pub spent: f64,
    /// The next UTC midnight.
    #[serde(serialize_with = "serialize_time")]
    pub resets_at: SystemTime,
}

/// Where one budget stands today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetStatus {
    /// The budget.
    pub which: BudgetScope,
    /// Its limit, USD per UTC day.
    pub limit: f64,
    /// Spent today so far.
    pub spent: f64,
    /// The next UTC midnight.
    #[serde(serialize_with = "serialize_time")]
    pub resets_at: SystemTime,
}

/// Spend over some period, overall and per key label (what [`Budgets::seed`] takes).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Spend {
    /// All requests.
    pub total_usd: f64,
    /// Per key label (rows without a key are only in the total).
    pub per_key_usd: HashMap<String, f64>,
}

/// The tracker: cheap to check, safe to share between request handlers (`Sync`).
#[derive(Debug)]
pub struct Budgets {
    config: BudgetConfig,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The UTC day the totals are for.
    day: i64,
    total: f64,
    per_key: HashMap<String, f64>,
}

impl State {
    /// Forgets yesterday's totals once `now` is in a later UTC day.
    fn roll(&mut self, now: SystemTime) {
        let today = day_of(unix_ms(now));
        if today != self.day {
            *self = State {
                day: today,
                ..State::default()
            };
        }
    }
}

impl Budgets {
    /// A tracker with nothing spent yet.
    pub fn new(config: BudgetConfig) -> Budgets {
        Budgets {
            config,
            state: Mutex::new(State::default()),
        }
    }

    /// The limits.
    pub fn config(&self) -> &BudgetConfig {
        &self.config
    }

    /// Sets today's totals from the ledger's spend since the UTC day of `now` began.
    pub fn seed(&self, spend: &Spend, now: SystemTime) {
        let mut state = self.lock();
        *state = State {
            day: day_of(unix_ms(now)),
            total: spend.total_usd,
            per_key: spend.per_key_usd.clone(),
        };
    }

    /// Merges a fresh read of the ledger's spend today (other replicas' rows included):
    /// each total becomes the larger of what this process counted and what the ledger
    /// holds, so rows counted here but not yet flushed are not lost.
    pub fn sync(&self, spend: &Spend, now: SystemTime) {
        let mut state = self.lock();
        state.roll(now);
        state.total = state.total.max(spend.total_usd);
        for (key, usd) in &spend.per_key_usd {
            let entry = state.per_key.entry(key.clone()).or_insert(0.0);
            *entry = entry.max(*usd);
        }
    }

    /// `Err` when the global budget or `key`'s is already spent today.
    pub fn check(&self, key: Option<&str>, now: SystemTime) -> Result<(), BudgetExceeded> {
        let mut state = self.lock();
        state.roll(now);
        let resets_at = from_unix_ms((state.day + 1) * DAY_MS);
        if let Some(limit) = self.config.usd_per_day
            && state.total >= limit
        {
            return Err(BudgetExceeded {
                which: BudgetScope::Global,
                limit,
                spent: state.total,
                resets_at,
            });
        }
        if let Some(key) = key
            && let Some(&limit) = self.config.per_key_usd_per_day.get(key)
        {
            let spent = state.per_key.get(key).copied().unwrap_or(0.0);
            if spent >= limit {
                return Err(BudgetExceeded {
                    which: BudgetScope::Key(key.to_owned()),
                    limit,
                    spent,
                    resets_at,
                });
            }
        }
        Ok(())
    }

    /// Counts a finished request's cost (at `now`, its end) against today's budgets.
    pub fn add(&self, key: Option<&str>, usd: f64, now: SystemTime) {
        if !usd.is_finite() || usd <= 0.0 {
            return;
        }
        let mut state = self.lock();
        state.roll(now);
        state.total += usd;
        if let Some(key) = key {
            *state.per_key.entry(key.to_owned()).or_insert(0.0) += usd;
        }
    }

    /// Every configured budget with today's spend, global first, then keys by name.
    pub fn status(&self, now: SystemTime) -> Vec<BudgetStatus> {
        let mut state = self.lock();
        state.roll(now);
        let resets_at = from_unix_ms((state.day + 1) * DAY_MS);
        let global = self.config.usd_per_day.map(|limit| BudgetStatus {
            which: BudgetScope::Global,
            limit,
            spent: state.total,
            resets_at,
        });
        let keys = self
            .config
            .per_key_usd_per_day
            .iter()
            .map(|(key, &limit)| BudgetStatus {
                which: BudgetScope::Key(key.clone()),
                limit,
                spent: state.per_key.get(key).copied().unwrap_or(0.0),
                resets_at,
            });
        global.into_iter().chain(keys).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn serialize_time<S: serde::Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(unix_ms(*time))
}

#[cfg(test)]
mod tests {
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
        budgets.seed(&spend, at(8));
        assert!(budgets.check(Some("team-a"), at(8)).is_err());
        budgets.add(None, 0.5, at(8));
        // Another replica spent more; this one's unflushed 0.5 is not lost either.
        budgets.sync(
            &Spend {
                total_usd: 4.2,
                ..Spend::default()
            },
            at(8),
        );
        assert_eq!(budgets.status(at(8))[0].spent, 4.5);
        budgets.sync(
            &Spend {
                total_usd: 5.0,
                ..Spend::default()
            },
            at(8),
        );
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
}
