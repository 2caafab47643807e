//! The PostgreSQL backend, for replicas that share one ledger (and so spend and budgets).
//!
//! The synchronous `postgres` client runs on the writer thread only (it drives its own
//! small runtime there, so the gateway's runtime never blocks on it). A lost connection
//! is re-opened on the next attempt; migrations take an advisory lock so that replicas
//! starting together migrate once.

use std::str::FromStr;
use std::time::Duration;

use postgres::{Client, Config, NoTls};

use super::LedgerError;
use super::backend::{self, Backend, BackendError, Cells, GroupRow};
use super::holds::{Arg, HoldTx};
use super::keys::{self, KeyColumns};
use super::rollup;
use super::schema::{self, Columns, Dialect, GroupBy};
use crate::row::Row;

/// Any number will do, as long as it is ours: hfclaw's migrations serialise on it.
const MIGRATION_LOCK: i64 = 0x6866_636c_6177; // "hfclaw"
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Postgres {
    config: Config,
    location: String,
    client: Option<Client>,
}

impl Postgres {
    /// Connects to `url` and migrates; `location` is the URL without its password.
    pub(crate) fn open(url: &str, location: &str) -> Result<Postgres, LedgerError> {
        let open_error = |reason: String| LedgerError::Open {
            location: location.to_owned(),
            reason,
        };
        let mut config = Config::from_str(url)
            .map_err(|e| open_error(format!("not a valid PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("hfclaw");
        }
        let mut ledger = Postgres {
            config,
            location: location.to_owned(),
            client: None,
        };
        ledger.migrate().map_err(|e| match e {
            MigrateError::Ledger(e) => e,
            MigrateError::Db(e) => open_error(e.message),
        })?;
        Ok(ledger)
    }

    fn migrate(&mut self) -> Result<(), MigrateError> {
        let location = self.location.clone();
        let client = self.client()?;
        let mut tx = client.transaction().map_err(db_error)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(db_error)?;
        tx.batch_execute(schema::CREATE_META).map_err(db_error)?;
        let version: Option<String> = tx
            .query_opt(schema::GET_META, &[&schema::VERSION_KEY])
            .map_err(db_error)?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(db_error)?;
        let current = version.map_or(0, |t| t.trim().parse().unwrap_or(i64::MAX));
        super::check_version(&location, current).map_err(MigrateError::Ledger)?;
        for migration in schema::MIGRATIONS.iter().filter(|m| m.version > current) {
            tx.batch_execute(&schema::migration_sql(migration, Dialect::Postgres))
                .map_err(db_error)?;
            tx.execute(
                schema::SET_META,
                &[&schema::VERSION_KEY, &migration.version.to_string()],
            )
            .map_err(db_error)?;
        }
        tx.commit().map_err(db_error)?;
        Ok(())
    }

    /// The connection, opened again if it was lost.
    fn client(&mut self) -> Result<&mut Client, BackendError> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        if self.client.is_none() {
            self.client = Some(self.config.connect(NoTls).map_err(|e| BackendError {
                message: format!("cannot connect: {e}"),
            })?);
        }
        self.client.as_mut().ok_or_else(|| BackendError {
            message: "no connection".to_owned(),
        })
    }

    /// Runs `f` on the connection; a failure that closed it drops it for a reconnect.
    fn with<T>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, BackendError> {
        let client = self.client()?;
        let result = f(client).map_err(db_error);
        if result.is_err() && client.is_closed() {
            self.client = None;
        }
        result
    }
}

enum MigrateError {
    Ledger(LedgerError),
    Db(BackendError),
}

impl From<BackendError> for MigrateError {
    fn from(e: BackendError) -> MigrateError {
        MigrateError::Db(e)
    }
}

fn db_error(e: postgres::Error) -> BackendError {
    let message = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    };
    BackendError { message }
}

impl Cells for postgres::Row {
    type Error = postgres::Error;
    fn int(&self, i: usize) -> Result<Option<i64>, postgres::Error> {
        self.try_get(i)
    }
    fn int32(&self, i: usize) -> Result<Option<i32>, postgres::Error> {
        self.try_get(i)
    }
    fn real(&self, i: usize) -> Result<Option<f64>, postgres::Error> {
        self.try_get(i)
    }
    fn text(&self, i: usize) -> Result<Option<String>, postgres::Error> {
        self.try_get(i)
    }
}

/// A transaction on `hfclaw_holds`.
struct PostgresHolds<'a, 'b>(&'a mut postgres::Transaction<'b>);

type PgParams = Vec<Box<dyn postgres::types::ToSql + Sync>>;

fn pg_values(args: &[Arg<'_>]) -> PgParams {
    args.iter()
        .map(|a| -> Box<dyn postgres::types::ToSql + Sync> {
            match a {
                Arg::Int(n) => Box::new(*n),
                Arg::Real(x) => Box::new(*x),
                Arg::Text(t) => Box::new((*t).to_owned()),
            }
        })
        .collect()
}

fn pg_refs(values: &PgParams) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    values.iter().map(AsRef::as_ref).collect()
}

impl HoldTx for PostgresHolds<'_, '_> {
    fn numbers(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Option<f64>>, BackendError> {
        let values = pg_values(args);
        let row = self.0.query_one(sql, &pg_refs(&values)).map_err(db_error)?;
        (0..row.len())
            .map(|i| row.try_get::<_, Option<f64>>(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, BackendError> {
        let values = pg_values(args);
        self.0.execute(sql, &pg_refs(&values)).map_err(db_error)
    }
}

/// Taken by every transaction on `hfclaw_holds`: conflicts with itself (replicas check
/// and reserve one at a time) and with writes, not with plain reads.
const HOLDS_LOCK: &str = "LOCK TABLE hfclaw_holds IN SHARE ROW EXCLUSIVE MODE";

impl Backend for Postgres {
    fn holds(
        &mut self,
        work: &mut dyn FnMut(&mut dyn HoldTx) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        let client = self.client()?;
        let result = (|| {
            let mut tx = client.transaction().map_err(db_error)?;
            tx.batch_execute(HOLDS_LOCK).map_err(db_error)?;
            work(&mut PostgresHolds(&mut tx))?;
            tx.commit().map_err(db_error)
        })();
        let closed = client.is_closed();
        if result.is_err() && closed {
            self.client = None;
        }
        result
    }

    fn insert(&mut self, rows: &[Row]) -> Result<(), BackendError> {
        let columns: Vec<Columns> = rows.iter().map(Columns::of).collect();
        self.with(|client| {
            let mut tx = client.transaction()?;
            let statement = tx.prepare(schema::INSERT)?;
            for c in &columns {
                tx.execute(
                    &statement,
                    &[
                        &c.ts_ms,
                        &c.api,
                        &c.key_label,
                        &c.requested_model,
                        &c.answered_ref,
                        &c.provider,
                        &c.fallback_index,
                        &c.outcome,
                        &c.http_status,
                        &c.input_tokens,
                        &c.output_tokens,
                        &c.cached_tokens,
                        &c.cache_write_tokens,
                        &c.cost_usd,
                        &c.cost_estimated,
                        &c.ttfb_ms,
                        &c.total_ms,
                        &c.streamed,
                        &c.request_id,
                        &c.user_id,
                        &c.tags,
                        &c.route,
                    ],
                )?;
            }
            let upsert = tx.prepare(schema::UPSERT_DAILY)?;
            // In key order (see `DailyKey`): replicas lock rollup rows in the same order.
            for (k, d) in rollup::daily_deltas(&columns) {
                tx.execute(
                    &upsert,
                    &[
                        &k.day,
                        &k.api,
                        &k.key_label,
                        &k.model,
                        &k.provider,
                        &d.requests,
                        &d.errors,
                        &d.input_tokens,
                        &d.output_tokens,
                        &d.cost_usd,
                        &d.estimated_cost_usd,
                        &d.unpriced,
                        &d.budget_refusals,
                    ],
                )?;
            }
            tx.commit()
        })
    }

    fn group_totals(
        &mut self,
        sql: &str,
        by: GroupBy,
        from: i64,
        to: i64,
        key: Option<&str>,
    ) -> Result<Vec<GroupRow>, BackendError> {
        let rows = self.with(|client| match key {
            Some(key) => client.query(sql, &[&from, &to, &key]),
            None => client.query(sql, &[&from, &to]),
        })?;
        rows.iter()
            .map(|r| backend::group_row(r, by))
            .collect::<Result<Vec<_>, postgres::Error>>()
            .map_err(db_error)
    }

    fn recent(&mut self, limit: usize) -> Result<Vec<Row>, BackendError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.with(|client| client.query(&schema::recent_sql(), &[&limit]))?;
        rows.iter()
            .map(|r| backend::columns(r).map(Columns::into_row))
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>, BackendError> {
        let row = self.with(|client| client.query_opt(schema::GET_META, &[&key]))?;
        row.map(|r| r.try_get(0)).transpose().map_err(db_error)
    }

    fn set_meta(&mut self, key: &str, value: Option<&str>) -> Result<(), BackendError> {
        self.with(|client| match value {
            Some(value) => client.execute(schema::SET_META, &[&key, &value]),
            None => client.execute(schema::DELETE_META, &[&key]),
        })
        .map(drop)
    }

    fn keys(&mut self) -> Result<Vec<KeyColumns>, BackendError> {
        let rows = self.with(|client| client.query(keys::SELECT, &[]))?;
        rows.iter()
            .map(|r| {
                Ok(KeyColumns {
                    label: r.try_get(0)?,
                    hash: r.try_get(1)?,
                    prefix: r.try_get(2)?,
                    settings: r.try_get(3)?,
                    last_used_ms: r.try_get(4)?,
                })
            })
            .collect::<Result<Vec<_>, postgres::Error>>()
            .map_err(db_error)
    }

    fn insert_key(&mut self, key: &KeyColumns) -> Result<Option<String>, BackendError> {
        self.with(|client| {
            let inserted = client.execute(
                keys::INSERT,
                &[&key.label, &key.hash, &key.prefix, &key.settings],
            )?;
            if inserted == 1 {
                return Ok(None);
            }
            let row = client.query_opt(keys::CONFLICT, &[&key.label, &key.hash])?;
            Ok(Some(match row {
                Some(row) => row.try_get(0)?,
                None => key.label.clone(),
            }))
        })
    }

    fn update_key(&mut self, label: &str, settings: &str) -> Result<bool, BackendError> {
        self.with(|client| client.execute(keys::UPDATE, &[&settings, &label]))
            .map(|n| n > 0)
    }

    fn touch_keys(&mut self, used: &[(String, i64)]) -> Result<(), BackendError> {
        self.with(|client| {
            let mut tx = client.transaction()?;
            let statement = tx.prepare(keys::TOUCH)?;
            for (label, ms) in used {
                tx.execute(&statement, &[ms, label])?;
            }
            tx.commit()
        })
    }
}
