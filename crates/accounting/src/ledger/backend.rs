//! What a ledger backend does; the writer thread owns one and runs everything on it.

use super::holds::HoldTx;
use super::keys::KeyColumns;
use super::schema::{self, Columns, GroupBy};
use crate::row::{BUDGET_EXCEEDED, Row};

/// A failed backend operation, already worded for a warning (no secrets in it).
#[derive(Debug, Clone)]
pub(crate) struct BackendError {
    pub(crate) message: String,
}

/// Sums over requests: what one group of a totals query answers, and what one row of the
/// daily rollup holds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Sums {
    pub(crate) requests: i64,
    /// Requests that did not end `ok`, budget refusals aside.
    pub(crate) errors: i64,
    pub(crate) input_tokens: i64,
    pub(crate) output_tokens: i64,
    pub(crate) cost_usd: f64,
    pub(crate) estimated_cost_usd: f64,
    /// `ok` requests without a cost.
    pub(crate) unpriced: i64,
    /// Requests a spending budget refused (`budget_exceeded`).
    pub(crate) budget_refusals: i64,
}

impl Sums {
    /// One request's share, as the totals queries count it.
    pub(crate) fn of(c: &Columns) -> Sums {
        let ok = c.outcome == "ok";
        let refused = c.outcome == BUDGET_EXCEEDED;
        let cost = c.cost_usd.unwrap_or(0.0);
        Sums {
            requests: 1,
            errors: i64::from(!ok && !refused),
            input_tokens: c.input_tokens.unwrap_or(0),
            output_tokens: c.output_tokens.unwrap_or(0),
            cost_usd: cost,
            estimated_cost_usd: if c.cost_estimated != 0 { cost } else { 0.0 },
            unpriced: i64::from(ok && c.cost_usd.is_none()),
            budget_refusals: i64::from(refused),
        }
    }

    pub(crate) fn add(&mut self, other: &Sums) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cost_usd += other.cost_usd;
        self.estimated_cost_usd += other.estimated_cost_usd;
        self.unpriced += other.unpriced;
        self.budget_refusals += other.budget_refusals;
    }
}

/// One group of a totals query, raw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupRow {
    pub(crate) group: Option<String>,
    pub(crate) sums: Sums,
}

pub(crate) trait Backend: Send {
    /// Writes `rows`, and adds them to the daily rollup, in one transaction: all or none.
    fn insert(&mut self, rows: &[Row]) -> Result<(), BackendError>;
    /// Runs a totals query (`$1`, `$2` = `from`, `to`; `$3` = `key`, when given), unsorted.
    fn group_totals(
        &mut self,
        sql: &str,
        by: GroupBy,
        from: i64,
        to: i64,
        key: Option<&str>,
    ) -> Result<Vec<GroupRow>, BackendError>;
    /// Totals per group of the rows in `[since, until)` (Unix ms; of the client key `key`
    /// only, when given), unsorted.
    fn request_totals(
        &mut self,
        by: GroupBy,
        since: i64,
        until: i64,
        key: Option<&str>,
    ) -> Result<Vec<GroupRow>, BackendError> {
        let sql = schema::request_totals_sql(by, key.is_some());
        self.group_totals(&sql, by, since, until, key)
    }
    /// Totals per group of the daily rollup over the UTC days `[first, end)` (of the
    /// client key `key` only, when given), unsorted.
    fn daily_totals(
        &mut self,
        by: GroupBy,
        first: i64,
        end: i64,
        key: Option<&str>,
    ) -> Result<Vec<GroupRow>, BackendError> {
        let sql = schema::daily_totals_sql(by, key.is_some());
        self.group_totals(&sql, by, first, end, key)
    }
    /// The last `limit` rows, newest first.
    fn recent(&mut self, limit: usize) -> Result<Vec<Row>, BackendError>;
    /// A meta value.
    fn meta(&mut self, key: &str) -> Result<Option<String>, BackendError>;
    /// Sets (or, with `None`, removes) a meta value.
    fn set_meta(&mut self, key: &str, value: Option<&str>) -> Result<(), BackendError>;
    /// Every client key.
    fn keys(&mut self) -> Result<Vec<KeyColumns>, BackendError>;
    /// Adds a key; `Some(label)` of the key whose label or hash is taken instead.
    fn insert_key(&mut self, key: &KeyColumns) -> Result<Option<String>, BackendError>;
    /// Replaces a key's settings; false when no key has `label`.
    fn update_key(&mut self, label: &str, settings: &str) -> Result<bool, BackendError>;
    /// Records when keys were last used (label, Unix ms).
    fn touch_keys(&mut self, used: &[(String, i64)]) -> Result<(), BackendError>;
    /// How long a statement waits for another connection's lock before it fails (SQLite;
    /// PostgreSQL waits as long as it takes).
    fn wait_for_locks(&mut self, _wait: std::time::Duration) {}
    /// Runs `work` on `hfclaw_holds` in one transaction that excludes every other
    /// replica's (see [`super::holds`]); committed when `work` succeeds.
    fn holds(
        &mut self,
        work: &mut dyn FnMut(&mut dyn HoldTx) -> Result<(), BackendError>,
    ) -> Result<(), BackendError>;
}

/// Typed access to a result row of either database (PostgreSQL is strict about integer
/// widths: `INTEGER` columns are read with [`Cells::int32`], `BIGINT` with [`Cells::int`]).
pub(crate) trait Cells {
    type Error;
    fn int(&self, i: usize) -> Result<Option<i64>, Self::Error>;
    fn int32(&self, i: usize) -> Result<Option<i32>, Self::Error>;
    fn real(&self, i: usize) -> Result<Option<f64>, Self::Error>;
    fn text(&self, i: usize) -> Result<Option<String>, Self::Error>;
}

/// A row of [`super::schema::request_totals_sql`] or [`super::schema::daily_totals_sql`].
pub(crate) fn group_row<C: Cells>(r: &C, by: GroupBy) -> Result<GroupRow, C::Error> {
    let group = match by {
        GroupBy::Day => r.int(0)?.map(crate::time::format_day),
        _ => r.text(0)?,
    };
    let sums = Sums {
        requests: r.int(1)?.unwrap_or(0),
        errors: r.int(2)?.unwrap_or(0),
        input_tokens: r.int(3)?.unwrap_or(0),
        output_tokens: r.int(4)?.unwrap_or(0),
        cost_usd: r.real(5)?.unwrap_or(0.0),
        estimated_cost_usd: r.real(6)?.unwrap_or(0.0),
        unpriced: r.int(7)?.unwrap_or(0),
        budget_refusals: r.int(8)?.unwrap_or(0),
    };
    Ok(GroupRow { group, sums })
}

/// A row of [`super::schema::recent_sql`].
pub(crate) fn columns<C: Cells>(r: &C) -> Result<Columns, C::Error> {
    Ok(Columns {
        ts_ms: r.int(0)?.unwrap_or(0),
        api: r.text(1)?.unwrap_or_default(),
        key_label: r.text(2)?,
        requested_model: r.text(3)?.unwrap_or_default(),
        answered_ref: r.text(4)?,
        provider: r.text(5)?,
        fallback_index: r.int32(6)?,
        outcome: r.text(7)?.unwrap_or_default(),
        http_status: r.int32(8)?,
        input_tokens: r.int(9)?,
        output_tokens: r.int(10)?,
        cached_tokens: r.int(11)?,
        cache_write_tokens: r.int(12)?,
        cost_usd: r.real(13)?,
        cost_estimated: r.int32(14)?.unwrap_or(0),
        ttfb_ms: r.int(15)?,
        total_ms: r.int(16)?.unwrap_or(0),
        streamed: r.int32(17)?.unwrap_or(0),
        request_id: r.text(18)?,
        user_id: r.text(19)?,
        tags: r.text(20)?,
        route: r.text(21)?,
    })
}
