//! The ledger's schema, the same on SQLite and PostgreSQL, and the SQL both run.
//!
//! Versioned in `hfclaw_meta` (`schema_version`); [`MIGRATIONS`] bring an older ledger up
//! to [`SCHEMA_VERSION`] inside one transaction; a newer one is refused. Only the row id
//! column differs between the two (`INTEGER PRIMARY KEY` is SQLite's rowid). Times are
//! Unix milliseconds and flags are integers so that every query is portable; `$n`
//! placeholders are PostgreSQL's and SQLite reads them as numbered parameters.
//!
//! Two tables hold the requests: `hfclaw_requests`, one row per request (indexed on
//! time), and `hfclaw_daily`, their totals per UTC day, API, key label, model and
//! provider, which the writer adds to in the same transaction as the rows (see
//! [`super::rollup`]). Its key columns hold `''` for "none" (NULLs never conflict), so the
//! queries read an empty key label or provider as none on both tables.

use std::time::Duration;

use crate::attribution::Tags;
use crate::price::Cost;
use crate::row::{BUDGET_EXCEEDED, Outcome, Row};
use crate::time::{from_unix_ms, unix_ms};
use crate::usage::{Api, Usage};

/// The schema this build writes.
pub const SCHEMA_VERSION: i64 = 5;

/// The two SQL dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (bundled).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// One step from `version - 1` to `version`.
pub struct Migration {
    /// The version this step produces.
    pub version: i64,
    /// Its SQL; `{ID}` stands for the dialect's row id column, `{DAY}` for [`DAY_OF_TS`].
    pub sql: &'static str,
}

/// The UTC day number of `ts_ms`, rounded down also before 1970 (SQL's integer division
/// truncates toward zero), as [`crate::time::day_of`] computes it.
pub const DAY_OF_TS: &str =
    "(CASE WHEN ts_ms >= 0 THEN ts_ms / 86400000 ELSE -((86399999 - ts_ms) / 86400000) END)";

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: "
CREATE TABLE hfclaw_requests (
    id {ID},
    ts_ms BIGINT NOT NULL,
    api TEXT NOT NULL,
    key_label TEXT,
    requested_model TEXT NOT NULL,
    answered_ref TEXT,
    provider TEXT,
    fallback_index INTEGER,
    outcome TEXT NOT NULL,
    http_status INTEGER,
    input_tokens BIGINT,
    output_tokens BIGINT,
    cached_tokens BIGINT,
    cache_write_tokens BIGINT,
    cost_usd DOUBLE PRECISION,
    cost_estimated INTEGER NOT NULL,
    ttfb_ms BIGINT,
    total_ms BIGINT NOT NULL,
    streamed INTEGER NOT NULL
);
CREATE INDEX hfclaw_requests_ts ON hfclaw_requests (ts_ms);
",
    },
    // The daily rollup, filled from the rows already there.
    Migration {
        version: 2,
        sql: "
CREATE TABLE hfclaw_daily (
    day BIGINT NOT NULL,
    api TEXT NOT NULL,
    key_label TEXT NOT NULL,
    model TEXT NOT NULL,
    provider TEXT NOT NULL,
    requests BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cost_usd DOUBLE PRECISION NOT NULL,
    estimated_cost_usd DOUBLE PRECISION NOT NULL,
    unpriced BIGINT NOT NULL,
    PRIMARY KEY (day, api, key_label, model, provider)
);
INSERT INTO hfclaw_daily (day, api, key_label, model, provider, requests, errors,
    input_tokens, output_tokens, cost_usd, estimated_cost_usd, unpriced)
SELECT {DAY}, api, COALESCE(key_label, ''), COALESCE(answered_ref, requested_model),
    COALESCE(provider, ''), COUNT(*),
    SUM(CASE WHEN outcome <> 'ok' THEN 1 ELSE 0 END),
    COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
    COALESCE(SUM(cost_usd), 0.0),
    COALESCE(SUM(CASE WHEN cost_estimated <> 0 THEN cost_usd ELSE 0.0 END), 0.0),
    SUM(CASE WHEN outcome = 'ok' AND cost_usd IS NULL THEN 1 ELSE 0 END)
FROM hfclaw_requests GROUP BY 1, 2, 3, 4, 5;
",
    },
    // Client keys (`hfclaw keys`): a hash and a prefix, never the key; the rest is JSON
    // (`KeySettings`), so a new limit needs no migration.
    Migration {
        version: 3,
        sql: "
CREATE TABLE hfclaw_keys (
    label TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    settings TEXT NOT NULL,
    last_used_ms BIGINT
);
",
    },
    // Reservations and per-key request counts shared by replicas (`super::holds`): one
    // row per request that a budget or a key's rpm/tpm applies to, from its admission
    // until a minute after it ended.
    Migration {
        version: 4,
        sql: "
CREATE TABLE hfclaw_holds (
    replica TEXT NOT NULL,
    seq BIGINT NOT NULL,
    key_label TEXT NOT NULL,
    usd DOUBLE PRECISION NOT NULL,
    started_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    ended_ms BIGINT,
    tokens BIGINT NOT NULL,
    PRIMARY KEY (replica, seq)
);
CREATE INDEX hfclaw_holds_key ON hfclaw_holds (key_label, started_ms);
CREATE INDEX hfclaw_holds_open ON hfclaw_holds (key_label) WHERE usd > 0;
",
    },
    // Who spent it (issue 22, item 7): the request id, the end user, the `metadata` tags
    // (a JSON object), the `--route` pattern; and budget refusals counted apart from
    // errors in the rollup, taken out of the errors of the days already there.
    Migration {
        version: 5,
        sql: "
ALTER TABLE hfclaw_requests ADD COLUMN request_id TEXT;
ALTER TABLE hfclaw_requests ADD COLUMN user_id TEXT;
ALTER TABLE hfclaw_requests ADD COLUMN tags TEXT;
ALTER TABLE hfclaw_requests ADD COLUMN route TEXT;
ALTER TABLE hfclaw_daily ADD COLUMN budget_refusals BIGINT NOT NULL DEFAULT 0;
UPDATE hfclaw_daily SET budget_refusals = r.n, errors = hfclaw_daily.errors - r.n
FROM (SELECT {DAY} AS day, api, COALESCE(key_label, '') AS key_label,
        COALESCE(answered_ref, requested_model) AS model, COALESCE(provider, '') AS provider,
        COUNT(*) AS n
    FROM hfclaw_requests WHERE outcome = 'budget_exceeded' GROUP BY 1, 2, 3, 4, 5) AS r
WHERE hfclaw_daily.day = r.day AND hfclaw_daily.api = r.api
    AND hfclaw_daily.key_label = r.key_label AND hfclaw_daily.model = r.model
    AND hfclaw_daily.provider = r.provider;
",
    },
];

/// The meta table (created before any migration; it holds the version).
pub const CREATE_META: &str =
    "CREATE TABLE IF NOT EXISTS hfclaw_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)";

/// The migration's SQL for a dialect.
pub fn migration_sql(migration: &Migration, dialect: Dialect) -> String {
    let id = match dialect {
        Dialect::Sqlite => "INTEGER PRIMARY KEY",
        Dialect::Postgres => "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    };
    migration
        .sql
        .replace("{ID}", id)
        .replace("{DAY}", DAY_OF_TS)
}

/// Meta key of the schema version.
pub const VERSION_KEY: &str = "schema_version";
/// Meta key of the budgets a gateway runs with (JSON of [`crate::BudgetConfig`]).
pub const BUDGETS_KEY: &str = "budgets";
/// Meta key of the global budget `hfclaw budget set` stores (JSON of
/// [`crate::GlobalBudget`]).
pub const GLOBAL_BUDGET_KEY: &str = "global_budget";

/// Reads a meta value.
pub const GET_META: &str = "SELECT value FROM hfclaw_meta WHERE key = $1";
/// Sets a meta value.
pub const SET_META: &str = "INSERT INTO hfclaw_meta (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";
/// Removes a meta value.
pub const DELETE_META: &str = "DELETE FROM hfclaw_meta WHERE key = $1";

/// Inserts one row.
pub const INSERT: &str = "INSERT INTO hfclaw_requests (ts_ms, api, key_label, requested_model, \
     answered_ref, provider, fallback_index, outcome, http_status, input_tokens, output_tokens, \
     cached_tokens, cache_write_tokens, cost_usd, cost_estimated, ttfb_ms, total_ms, streamed, \
     request_id, user_id, tags, route) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
     $19, $20, $21, $22)";

/// Adds one group of a batch to the daily rollup.
pub const UPSERT_DAILY: &str = "INSERT INTO hfclaw_daily (day, api, key_label, model, provider, \
     requests, errors, input_tokens, output_tokens, cost_usd, estimated_cost_usd, unpriced, \
     budget_refusals) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (day, api, key_label, model, provider) DO UPDATE SET \
     requests = hfclaw_daily.requests + excluded.requests, \
     errors = hfclaw_daily.errors + excluded.errors, \
     input_tokens = hfclaw_daily.input_tokens + excluded.input_tokens, \
     output_tokens = hfclaw_daily.output_tokens + excluded.output_tokens, \
     cost_usd = hfclaw_daily.cost_usd + excluded.cost_usd, \
     estimated_cost_usd = hfclaw_daily.estimated_cost_usd + excluded.estimated_cost_usd, \
     unpriced = hfclaw_daily.unpriced + excluded.unpriced, \
     budget_refusals = hfclaw_daily.budget_refusals + excluded.budget_refusals";

const COLUMNS: &str = "ts_ms, api, key_label, requested_model, answered_ref, provider, \
     fallback_index, outcome, http_status, input_tokens, output_tokens, cached_tokens, \
     cache_write_tokens, cost_usd, cost_estimated, ttfb_ms, total_ms, streamed, request_id, \
     user_id, tags, route";

/// The last `$1` rows, newest first.
pub fn recent_sql() -> String {
    format!("SELECT {COLUMNS} FROM hfclaw_requests ORDER BY ts_ms DESC, id DESC LIMIT $1")
}

/// What `hfclaw usage` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// The answered ref (the requested model when none answered).
    Model,
    /// The serving provider.
    Provider,
    /// The UTC day.
    Day,
    /// The client key label.
    Key,
    /// The API.
    Api,
    /// The end user the client named (`user`, `metadata.user_id`).
    User,
    /// The `--route` pattern that chose the model.
    Route,
    /// The whole tag set (a JSON object; [`super::Ledger::tag_totals`] groups by one tag).
    Tag,
}

impl GroupBy {
    /// Every grouping, for help texts.
    pub const ALL: [GroupBy; 8] = [
        GroupBy::Model,
        GroupBy::Provider,
        GroupBy::Day,
        GroupBy::Key,
        GroupBy::Api,
        GroupBy::User,
        GroupBy::Route,
        GroupBy::Tag,
    ];

    /// The name on the command line and the group's field in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Model => "model",
            GroupBy::Provider => "provider",
            GroupBy::Day => "day",
            GroupBy::Key => "key",
            GroupBy::Api => "api",
            GroupBy::User => "user",
            GroupBy::Route => "route",
            GroupBy::Tag => "tag",
        }
    }

    /// True when the daily rollup holds the grouping (else totals read the rows: the
    /// rollup keeps no per-user, per-route or per-tag totals, whose values are the
    /// clients' and unbounded in number).
    pub(crate) fn in_rollup(self) -> bool {
        !matches!(self, GroupBy::User | GroupBy::Route | GroupBy::Tag)
    }

    /// Reads a command-line name.
    pub fn parse(text: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == text)
    }

    /// The group's value in `hfclaw_requests`.
    fn request_expression(self) -> &'static str {
        match self {
            GroupBy::Model => "COALESCE(answered_ref, requested_model)",
            GroupBy::Provider => "NULLIF(provider, '')",
            GroupBy::Day => DAY_OF_TS,
            GroupBy::Key => "NULLIF(key_label, '')",
            GroupBy::Api => "api",
            GroupBy::User => "NULLIF(user_id, '')",
            GroupBy::Route => "NULLIF(route, '')",
            GroupBy::Tag => "tags",
        }
    }

    /// The group's value in `hfclaw_daily` (the same as in `hfclaw_requests`), for the
    /// groupings [`GroupBy::in_rollup`].
    fn daily_expression(self) -> &'static str {
        match self {
            GroupBy::Model => "model",
            GroupBy::Provider => "NULLIF(provider, '')",
            GroupBy::Day => "day",
            GroupBy::Key => "NULLIF(key_label, '')",
            GroupBy::Api => "api",
            // Never asked (see `in_rollup`); none is the honest answer.
            GroupBy::User | GroupBy::Route | GroupBy::Tag => "NULL",
        }
    }
}

/// The condition of totals of one client key (`$3`), when `keyed`.
fn key_condition(keyed: bool) -> &'static str {
    if keyed { " AND key_label = $3" } else { "" }
}

/// Totals per group of the rows in `[$1, $2)` (Unix ms): group, requests, errors (budget
/// refusals aside), input, output, cost, estimated cost, ok requests without a cost,
/// budget refusals.
pub fn request_totals_sql(by: GroupBy, keyed: bool) -> String {
    format!(
        "SELECT {g} AS g, COUNT(*), \
         CAST(SUM(CASE WHEN outcome <> 'ok' AND outcome <> '{BUDGET_EXCEEDED}' THEN 1 ELSE 0 END) \
         AS BIGINT), \
         CAST(SUM(input_tokens) AS BIGINT), CAST(SUM(output_tokens) AS BIGINT), \
         SUM(cost_usd), SUM(CASE WHEN cost_estimated <> 0 THEN cost_usd ELSE 0.0 END), \
         CAST(SUM(CASE WHEN outcome = 'ok' AND cost_usd IS NULL THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN outcome = '{BUDGET_EXCEEDED}' THEN 1 ELSE 0 END) AS BIGINT) \
         FROM hfclaw_requests WHERE ts_ms >= $1 AND ts_ms < $2{k} GROUP BY {g}",
        g = by.request_expression(),
        k = key_condition(keyed)
    )
}

/// The same columns as [`request_totals_sql`] from the rollup, over the UTC days
/// `[$1, $2)`.
pub fn daily_totals_sql(by: GroupBy, keyed: bool) -> String {
    format!(
        "SELECT {g} AS g, CAST(SUM(requests) AS BIGINT), CAST(SUM(errors) AS BIGINT), \
         CAST(SUM(input_tokens) AS BIGINT), CAST(SUM(output_tokens) AS BIGINT), \
         SUM(cost_usd), SUM(estimated_cost_usd), CAST(SUM(unpriced) AS BIGINT), \
         CAST(SUM(budget_refusals) AS BIGINT) \
         FROM hfclaw_daily WHERE day >= $1 AND day < $2{k} GROUP BY {g}",
        g = by.daily_expression(),
        k = key_condition(keyed)
    )
}

/// A row as column values, shared by both backends.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub ts_ms: i64,
    pub api: String,
    pub key_label: Option<String>,
    pub requested_model: String,
    pub answered_ref: Option<String>,
    pub provider: Option<String>,
    pub fallback_index: Option<i32>,
    pub outcome: String,
    pub http_status: Option<i32>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cached_tokens: Option<i64>,
    pub cache_write_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub cost_estimated: i32,
    pub ttfb_ms: Option<i64>,
    pub total_ms: i64,
    pub streamed: i32,
    pub request_id: Option<String>,
    pub user_id: Option<String>,
    pub tags: Option<String>,
    pub route: Option<String>,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Columns {
    /// The values stored for `row`.
    pub fn of(row: &Row) -> Columns {
        let usage = row.usage.as_ref();
        Columns {
            ts_ms: unix_ms(row.time),
            api: row.api.as_str().to_owned(),
            key_label: row.key.clone(),
            requested_model: row.requested_model.clone(),
            answered_ref: row.answered_ref.clone(),
            provider: row.provider.clone(),
            fallback_index: row
                .fallback_index
                .map(|i| i32::try_from(i).unwrap_or(i32::MAX)),
            outcome: row.outcome.class().to_owned(),
            http_status: row.status.map(i32::from),
            input_tokens: usage.map(|u| to_i64(u.input_tokens)),
            output_tokens: usage.map(|u| to_i64(u.output_tokens)),
            cached_tokens: usage.and_then(|u| u.cached_tokens).map(to_i64),
            cache_write_tokens: usage.and_then(|u| u.cache_write_tokens).map(to_i64),
            cost_usd: row.cost.map(|c| c.usd).filter(|usd| usd.is_finite()),
            cost_estimated: i32::from(row.cost.is_some_and(|c| c.estimated)),
            ttfb_ms: row.ttfb.map(millis),
            total_ms: millis(row.total),
            streamed: i32::from(row.streamed),
            request_id: row.request_id.clone(),
            user_id: row.user.clone(),
            tags: row.tags.to_json(),
            route: row.route.clone(),
        }
    }

    /// The row these values describe (an unknown API reads as chat).
    pub fn into_row(self) -> Row {
        let usage = match (self.input_tokens, self.output_tokens) {
            (None, None) => None,
            (input, output) => Some(Usage {
                input_tokens: to_u64(input.unwrap_or(0)),
                output_tokens: to_u64(output.unwrap_or(0)),
                cached_tokens: self.cached_tokens.map(to_u64),
                cache_write_tokens: self.cache_write_tokens.map(to_u64),
            }),
        };
        Row {
            time: from_unix_ms(self.ts_ms),
            api: Api::parse(&self.api).unwrap_or(Api::Chat),
            key: self.key_label,
            requested_model: self.requested_model,
            answered_ref: self.answered_ref,
            provider: self.provider,
            fallback_index: self.fallback_index.and_then(|i| u32::try_from(i).ok()),
            outcome: Outcome::parse(&self.outcome),
            status: self.http_status.and_then(|s| u16::try_from(s).ok()),
            usage,
            cost: self.cost_usd.map(|usd| Cost {
                usd,
                estimated: self.cost_estimated != 0,
            }),
            ttfb: self.ttfb_ms.map(|ms| Duration::from_millis(to_u64(ms))),
            total: Duration::from_millis(to_u64(self.total_ms)),
            streamed: self.streamed != 0,
            request_id: self.request_id,
            user: self.user_id,
            tags: self
                .tags
                .as_deref()
                .map(Tags::from_json)
                .unwrap_or_default(),
            route: self.route,
        }
    }
}
