//! Spending budgets, per UTC day and per UTC calendar month: one for everything, and one
//! per client key label.
//!
//! The running totals live in memory (nanoseconds per check), seeded from the ledger at
//! start ([`Budgets::seed`] with [`crate::Ledger::budget_spend`]) and re-synced every few
//! seconds by the follower ([`Budgets::sync`]), so other replicas' spend counts too.
//!
//! A request **reserves** its worst-case cost before it is forwarded ([`Budgets::reserve`]);
//! the [`Hold`] is settled with the real cost when the answer ends (or released when the
//! request goes away). A reservation that would take spend plus what requests in flight
//! hold past a limit is refused, so on one gateway a budget is never passed by more than
//! the error of the worst-case estimate.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, UNIX_EPOCH};
//! use hfclaw_accounting::{BudgetConfig, Budgets};
//!
//! let budgets = Arc::new(Budgets::new(BudgetConfig { usd_per_day: Some(1.0), ..Default::default() }));
//! let now = UNIX_EPOCH + Duration::from_secs(1_796_000_000);
//! let hold = budgets.reserve(Some("key-1"), 0.75, now).unwrap();
//! assert!(budgets.reserve(Some("key-2"), 0.5, now).is_err()); // 0.75 is held
//! hold.settle(Some(0.25), now);
//! assert!(budgets.reserve(Some("key-2"), 0.5, now).is_ok());
//! budgets.add(Some("key-1"), 1.25, now);
//! let exceeded = budgets.check(Some("key-2"), now).unwrap_err();
//! assert_eq!(exceeded.limit, 1.0);
//! assert!(budgets.check(None, now + Duration::from_secs(86_400)).is_ok()); // a new UTC day
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::time::{
    DAY_MS, day_of, format_minute, from_unix_ms, start_of_month, start_of_next_month, unix_ms,
};

/// The configured limits, USD per UTC day and month.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BudgetConfig {
    /// Daily limit for all requests together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_day: Option<f64>,
    /// Monthly limit for all requests together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_month: Option<f64>,
    /// Daily limits per client key label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_key_usd_per_day: BTreeMap<String, f64>,
    /// Monthly limits per client key label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_key_usd_per_month: BTreeMap<String, f64>,
}

impl BudgetConfig {
    /// True when no limit is set.
    pub fn is_empty(&self) -> bool {
        self.usd_per_day.is_none()
            && self.usd_per_month.is_none()
            && self.per_key_usd_per_day.is_empty()
            && self.per_key_usd_per_month.is_empty()
    }

    fn limit(&self, scope: &BudgetScope, period: BudgetPeriod) -> Option<f64> {
        match (scope, period) {
            (BudgetScope::Global, BudgetPeriod::Day) => self.usd_per_day,
            (BudgetScope::Global, BudgetPeriod::Month) => self.usd_per_month,
            (BudgetScope::Key(key), BudgetPeriod::Day) => {
                self.per_key_usd_per_day.get(key).copied()
            }
            (BudgetScope::Key(key), BudgetPeriod::Month) => {
                self.per_key_usd_per_month.get(key).copied()
            }
        }
    }
}

/// The global budget `hfclaw budget set` stores in the ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GlobalBudget {
    /// USD per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_day: Option<f64>,
    /// USD per UTC calendar month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_month: Option<f64>,
}

impl GlobalBudget {
    /// True when no limit is set.
    pub fn is_empty(&self) -> bool {
        self.usd_per_day.is_none() && self.usd_per_month.is_none()
    }
}

/// Which budget a check or status is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetScope {
    /// All requests.
    Global,
    /// One client key label.
    Key(String),
}

/// The period a budget covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetPeriod {
    /// The UTC day.
    Day,
    /// The UTC calendar month.
    Month,
}

impl BudgetPeriod {
    fn adjective(self) -> &'static str {
        match self {
            BudgetPeriod::Day => "daily",
            BudgetPeriod::Month => "monthly",
        }
    }

    fn so_far(self) -> &'static str {
        match self {
            BudgetPeriod::Day => "today",
            BudgetPeriod::Month => "this month",
        }
    }
}

/// `the daily budget`, `the monthly budget of key "ci"`.
fn budget_name(scope: &BudgetScope, period: BudgetPeriod) -> String {
    match scope {
        BudgetScope::Global => format!("the {} budget", period.adjective()),
        BudgetScope::Key(key) => format!("the {} budget of key {key:?}", period.adjective()),
    }
}

/// A request would pass a budget.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
pub struct BudgetExceeded {
    /// The budget.
    pub which: BudgetScope,
    /// Its period.
    pub period: BudgetPeriod,
    /// Its limit, USD per period.
    pub limit: f64,
    /// Spent in the period so far.
    pub spent: f64,
    /// Held by requests in flight.
    pub reserved: f64,
    /// What the refused request might have cost at most.
    pub asked: f64,
    /// When the period ends.
    #[serde(serialize_with = "serialize_time")]
    pub resets_at: SystemTime,
}

impl fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let usd = |v: f64| crate::format_usd(v, false);
        let name = budget_name(&self.which, self.period);
        let resets = format_minute(unix_ms(self.resets_at));
        if self.spent >= self.limit {
            write!(
                f,
                "{name} of {} is spent ({} so far {}); it resets at {resets}",
                usd(self.limit),
                usd(self.spent),
                self.period.so_far()
            )
        } else {
            write!(
                f,
                "this request could pass {name} of {}: {} is spent {}, {} is held by requests \
                 in flight and this one may cost up to {}; it resets at {resets}",
                usd(self.limit),
                usd(self.spent),
                self.period.so_far(),
                usd(self.reserved),
                usd(self.asked)
            )
        }
    }
}

/// Where one budget stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetStatus {
    /// The budget.
    pub which: BudgetScope,
    /// Its period.
    pub period: BudgetPeriod,
    /// Its limit, USD per period.
    pub limit: f64,
    /// Spent in the period so far.
    pub spent: f64,
    /// Held by requests in flight.
    pub reserved: f64,
    /// When the period ends.
    #[serde(serialize_with = "serialize_time")]
    pub resets_at: SystemTime,
}

impl BudgetStatus {
    /// What is left (never below zero).
    pub fn remaining(&self) -> f64 {
        (self.limit - self.spent - self.reserved).max(0.0)
    }

    /// `the daily budget of key "ci"`.
    pub fn name(&self) -> String {
        budget_name(&self.which, self.period)
    }

    /// As `GET /v1/hfclaw/me` and `hfclaw usage --json` show it: `{budget, scope, key,
    /// period, limit_usd, spent_usd, reserved_usd, remaining_usd, resets_at}` (`resets_at`
    /// in Unix ms; `key` null for the global budget).
    pub fn json(&self) -> serde_json::Value {
        let (scope, key) = match &self.which {
            BudgetScope::Global => ("global", None),
            BudgetScope::Key(key) => ("key", Some(key.as_str())),
        };
        serde_json::json!({
            "budget": self.name(),
            "scope": scope,
            "key": key,
            "period": self.period,
            "limit_usd": self.limit,
            "spent_usd": self.spent,
            "reserved_usd": self.reserved,
            "remaining_usd": self.remaining(),
            "resets_at": unix_ms(self.resets_at),
        })
    }
}

/// Spend over some period, overall and per key label (what [`Budgets::seed`] takes).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Spend {
    /// All requests.
    pub total_usd: f64,
    /// Per key label (rows without a key are only in the total).
    pub per_key_usd: HashMap<String, f64>,
}

impl Spend {
    fn of(&self, scope: &BudgetScope) -> f64 {
        match scope {
            BudgetScope::Global => self.total_usd,
            BudgetScope::Key(key) => self.per_key_usd.get(key).copied().unwrap_or(0.0),
        }
    }

    fn add(&mut self, key: Option<&str>, usd: f64) {
        self.total_usd += usd;
        if let Some(key) = key {
            *self.per_key_usd.entry(key.to_owned()).or_insert(0.0) += usd;
        }
    }

    /// Takes back what [`Spend::add`] added (a released hold), leaving no rounding dust.
    fn release(&mut self, key: Option<&str>, usd: f64) {
        let take = |v: &mut f64| *v = if *v - usd > 1e-12 { *v - usd } else { 0.0 };
        take(&mut self.total_usd);
        if let Some(key) = key
            && let Some(v) = self.per_key_usd.get_mut(key)
        {
            take(v);
        }
    }

    /// Each total becomes the larger of the two.
    fn merge_max(&mut self, other: &Spend) {
        self.total_usd = self.total_usd.max(other.total_usd);
        for (key, usd) in &other.per_key_usd {
            let entry = self.per_key_usd.entry(key.clone()).or_insert(0.0);
            *entry = entry.max(*usd);
        }
    }
}

/// The tracker: cheap to check, safe to share between request handlers (`Sync`).
#[derive(Debug)]
pub struct Budgets {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    config: BudgetConfig,
    /// The UTC day `today` is for.
    day: i64,
    /// Unix ms of the start of the month `month` is for.
    month_start: i64,
    today: Spend,
    month: Spend,
    /// What requests in flight hold (whatever their day).
    held: Spend,
}

impl State {
    /// Forgets the last period's totals once `now` is in a later one.
    fn roll(&mut self, now: SystemTime) {
        let now = unix_ms(now);
        if day_of(now) != self.day {
            self.day = day_of(now);
            self.today = Spend::default();
        }
        if start_of_month(now) != self.month_start {
            self.month_start = start_of_month(now);
            self.month = Spend::default();
        }
    }

    fn spent(&self, period: BudgetPeriod) -> &Spend {
        match period {
            BudgetPeriod::Day => &self.today,
            BudgetPeriod::Month => &self.month,
        }
    }

    fn resets_at(&self, period: BudgetPeriod) -> SystemTime {
        from_unix_ms(match period {
            BudgetPeriod::Day => (self.day + 1) * DAY_MS,
            BudgetPeriod::Month => start_of_next_month(self.month_start),
        })
    }

    /// `Err` when reserving `usd` more for `key` could pass a budget.
    fn admit(&self, key: Option<&str>, usd: f64) -> Result<(), BudgetExceeded> {
        for b in self.applicable(key) {
            let committed = b.spent + b.reserved;
            if committed >= b.limit || committed + usd > b.limit {
                return Err(BudgetExceeded {
                    which: b.which,
                    period: b.period,
                    limit: b.limit,
                    spent: b.spent,
                    reserved: b.reserved,
                    asked: usd,
                    resets_at: b.resets_at,
                });
            }
        }
        Ok(())
    }

    /// The budgets that apply to a request of `key`: global first, day before month.
    fn limits(&self, key: Option<&str>) -> Vec<crate::shared::BudgetLimit> {
        let scopes =
            std::iter::once(BudgetScope::Global).chain(key.map(|k| BudgetScope::Key(k.to_owned())));
        let mut out = Vec::new();
        for scope in scopes {
            for period in [BudgetPeriod::Day, BudgetPeriod::Month] {
                if let Some(limit) = self.config.limit(&scope, period) {
                    out.push(crate::shared::BudgetLimit {
                        scope: scope.clone(),
                        period,
                        limit,
                    });
                }
            }
        }
        out
    }

    /// The budgets that apply to a request of `key`, with where each stands.
    fn applicable(&self, key: Option<&str>) -> Vec<BudgetStatus> {
        self.limits(key)
            .into_iter()
            .map(|b| BudgetStatus {
                spent: self.spent(b.period).of(&b.scope),
                reserved: self.held.of(&b.scope),
                resets_at: self.resets_at(b.period),
                which: b.scope,
                period: b.period,
                limit: b.limit,
            })
            .collect()
    }
}

/// A reservation of a request's worst-case cost: settle it with the real cost when the
/// answer ends; dropped unsettled, it is released (nothing counted).
#[derive(Debug)]
pub struct Hold {
    budgets: Arc<Budgets>,
    key: Option<String>,
    usd: f64,
    open: bool,
}

impl Hold {
    /// What it holds, USD.
    pub fn usd(&self) -> f64 {
        self.usd
    }

    /// Releases the reservation and counts `cost` (when known) at `now`.
    pub fn settle(mut self, cost: Option<f64>, now: SystemTime) {
        self.release();
        if let Some(cost) = cost {
            self.budgets.add(self.key.as_deref(), cost, now);
        }
    }

    fn release(&mut self) {
        if std::mem::take(&mut self.open) {
            let mut state = self.budgets.lock();
            state.held.release(self.key.as_deref(), self.usd);
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.release();
    }
}

impl Budgets {
    /// A tracker with nothing spent yet.
    pub fn new(config: BudgetConfig) -> Budgets {
        Budgets {
            state: Mutex::new(State {
                config,
                ..State::default()
            }),
        }
    }

    /// The limits.
    pub fn config(&self) -> BudgetConfig {
        self.lock().config.clone()
    }

    /// Replaces the limits (the database's changed); spend and holds stay.
    pub fn set_config(&self, config: BudgetConfig) {
        self.lock().config = config;
    }

    /// Sets the period's totals from the ledger's spend since the UTC day and month of
    /// `now` began.
    pub fn seed(&self, today: &Spend, month: &Spend, now: SystemTime) {
        let mut state = self.lock();
        state.roll(now);
        state.today = today.clone();
        state.month = month.clone();
    }

    /// Merges a fresh read of the ledger's spend (other replicas' rows included): each
    /// total becomes the larger of what this process counted and what the ledger holds,
    /// so rows counted here but not yet flushed are not lost.
    pub fn sync(&self, today: &Spend, month: &Spend, now: SystemTime) {
        let mut state = self.lock();
        state.roll(now);
        state.today.merge_max(today);
        state.month.merge_max(month);
    }

    /// `Err` when a budget that applies to `key` is spent, or held whole by requests in
    /// flight.
    pub fn check(&self, key: Option<&str>, now: SystemTime) -> Result<(), BudgetExceeded> {
        self.admit(key, 0.0, now)
    }

    fn admit(&self, key: Option<&str>, usd: f64, now: SystemTime) -> Result<(), BudgetExceeded> {
        let mut state = self.lock();
        state.roll(now);
        state.admit(key, usd)
    }

    /// Reserves `usd` (a request's worst-case cost) for a request of `key`, or says
    /// which budget it could pass.
    pub fn reserve(
        self: &Arc<Self>,
        key: Option<&str>,
        usd: f64,
        now: SystemTime,
    ) -> Result<Hold, BudgetExceeded> {
        let usd = if usd.is_finite() && usd > 0.0 {
            usd
        } else {
            0.0
        };
        let mut state = self.lock();
        state.roll(now);
        // Checked and held under one lock: two requests cannot both take the last dollar.
        state.admit(key, usd)?;
        state.held.add(key, usd);
        drop(state);
        Ok(Hold {
            budgets: self.clone(),
            key: key.map(str::to_owned),
            usd,
            open: true,
        })
    }

    /// Counts a finished request's cost (at `now`, its end) against the budgets.
    pub fn add(&self, key: Option<&str>, usd: f64, now: SystemTime) {
        if !usd.is_finite() || usd <= 0.0 {
            return;
        }
        let mut state = self.lock();
        state.roll(now);
        state.today.add(key, usd);
        state.month.add(key, usd);
    }

    /// Every configured budget with where it stands: global first (day, month), then
    /// keys by name.
    pub fn status(&self, now: SystemTime) -> Vec<BudgetStatus> {
        let mut state = self.lock();
        state.roll(now);
        let mut out = state.applicable(None);
        let keys: std::collections::BTreeSet<String> = state
            .config
            .per_key_usd_per_day
            .keys()
            .chain(state.config.per_key_usd_per_month.keys())
            .cloned()
            .collect();
        for key in keys {
            out.extend(
                state
                    .applicable(Some(&key))
                    .into_iter()
                    .filter(|b| b.which != BudgetScope::Global),
            );
        }
        out
    }

    /// The budgets that apply to `key` (global ones too), with where each stands.
    pub fn status_of(&self, key: Option<&str>, now: SystemTime) -> Vec<BudgetStatus> {
        let mut state = self.lock();
        state.roll(now);
        state.applicable(key)
    }

    /// The budgets that apply to a request of `key` (for [`crate::shared::Claim`]).
    pub fn limits_of(&self, key: Option<&str>) -> Vec<crate::shared::BudgetLimit> {
        self.lock().limits(key)
    }

    /// What `key` may still spend: the least that any budget applying to it has left;
    /// `None` when none applies.
    pub fn remaining(&self, key: Option<&str>, now: SystemTime) -> Option<f64> {
        self.status_of(key, now)
            .iter()
            .map(BudgetStatus::remaining)
            .min_by(f64::total_cmp)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn serialize_time<S: serde::Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(unix_ms(*time))
}

#[cfg(test)]
mod tests;
