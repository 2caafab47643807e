//! The SQLite backend: one file (WAL), safe for several processes writing at once.
//!
//! Opening checks before it writes anything: a file that is not SQLite, or an SQLite
//! database of another program, is refused untouched; only an empty file or an hfclaw
//! ledger is switched to WAL and migrated.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};

use super::LedgerError;
use super::backend::{self, Backend, BackendError, Cells, GroupRow};
use super::holds::{Arg, HoldTx};
use super::keys::{self, KeyColumns};
use super::rollup;
use super::schema::{self, Columns, Dialect, GroupBy};
use crate::row::Row;

pub(crate) struct Sqlite {
    path: PathBuf,
    conn: Connection,
}

impl Sqlite {
    /// Opens (creating it and its directory if needed) and migrates the ledger at `path`.
    pub(crate) fn open(path: &Path, busy_timeout: Duration) -> Result<Sqlite, LedgerError> {
        let open_error = |reason: String| LedgerError::Open {
            location: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| open_error(format!("cannot create {}: {e}", dir.display())))?;
        }
        create_private(path).map_err(|e| open_error(e.to_string()))?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(path, e))?;
        conn.busy_timeout(busy_timeout)
            .map_err(|e| classify(path, e))?;
        check_identity(path, &conn)?;
        // Only now, with the file known to be ours (or empty), change anything.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| classify(path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| classify(path, e))?;
        let mut ledger = Sqlite {
            path: path.to_owned(),
            conn,
        };
        ledger.migrate()?;
        Ok(ledger)
    }

    fn migrate(&mut self) -> Result<(), LedgerError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| classify(&path, e))?;
        tx.execute(schema::CREATE_META, [])
            .map_err(|e| classify(&path, e))?;
        let current = read_version(&tx)
            .map_err(|e| classify(&path, e))?
            .unwrap_or(0);
        super::check_version(&path.display().to_string(), current)?;
        for migration in schema::MIGRATIONS.iter().filter(|m| m.version > current) {
            tx.execute_batch(&schema::migration_sql(migration, Dialect::Sqlite))
                .map_err(|e| classify(&path, e))?;
            tx.execute(
                schema::SET_META,
                params![schema::VERSION_KEY, migration.version.to_string()],
            )
            .map_err(|e| classify(&path, e))?;
        }
        tx.commit().map_err(|e| classify(&path, e))
    }

    #[cfg(test)]
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Creates the file with mode 0600 when it does not exist (usage data is private).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Refuses a file that is not an hfclaw ledger or an empty database.
fn check_identity(path: &Path, conn: &Connection) -> Result<(), LedgerError> {
    let tables: Vec<String> = (|| {
        let mut statement = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
        let names = statement.query_map([], |r| r.get::<_, String>(0))?;
        names.collect::<Result<Vec<String>, _>>()
    })()
    .map_err(|e| classify(path, e))?;
    if tables.is_empty() {
        return Ok(());
    }
    if !tables.iter().any(|t| t == "hfclaw_meta") {
        return Err(LedgerError::Foreign {
            path: path.to_owned(),
            tables: tables.into_iter().take(5).collect(),
        });
    }
    let version = read_version(conn).map_err(|e| classify(path, e))?;
    match version {
        Some(v) => super::check_version(&path.display().to_string(), v),
        None => Err(LedgerError::Corrupt {
            path: path.to_owned(),
            reason: "its hfclaw_meta table has no schema version".to_owned(),
        }),
    }
}

fn read_version(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    let text: Option<String> = conn
        .query_row(schema::GET_META, [schema::VERSION_KEY], |r| r.get(0))
        .optional()?;
    // A version that is present but unreadable counts as newer than any: refused, never
    // overwritten.
    Ok(text.map(|t| t.trim().parse().unwrap_or(i64::MAX)))
}

/// Maps an SQLite error at open time to what the user can act on.
fn classify(path: &Path, e: rusqlite::Error) -> LedgerError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => LedgerError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        },
        _ => LedgerError::Open {
            location: path.display().to_string(),
            reason: e.to_string(),
        },
    }
}

fn backend_error(e: rusqlite::Error) -> BackendError {
    let busy = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    let full = matches!(e.sqlite_error_code(), Some(ErrorCode::DiskFull));
    BackendError {
        message: if busy {
            format!("the database is locked by another process ({e})")
        } else if full {
            format!("the disk is full ({e})")
        } else {
            e.to_string()
        },
    }
}

/// Rows inserted between two yields of the writer thread (~3 µs each, so ~0.1 ms).
///
/// A batch is thousands of rows when requests are quick (250 ms of them at one client):
/// 8 ms of CPU in one go. A request thread woken on the core the writer holds waited for
/// it — the scheduler lets a running thread finish its slice — and that was the ledger's
/// p99 cost at one client (+0.8 ms, issue 23). Yielding every few dozen rows hands the
/// core to whatever waits for it; with nothing waiting, a yield is one cheap syscall.
const ROWS_PER_YIELD: usize = 32;

/// Inserts the rows into `hfclaw_requests`, yielding the CPU every [`ROWS_PER_YIELD`].
pub(crate) fn insert_requests(conn: &Connection, columns: &[Columns]) -> rusqlite::Result<()> {
    let mut statement = conn.prepare_cached(schema::INSERT)?;
    for (i, c) in columns.iter().enumerate() {
        if i > 0 && i % ROWS_PER_YIELD == 0 {
            std::thread::yield_now();
        }
        statement.execute(params![
            c.ts_ms,
            c.api,
            c.key_label,
            c.requested_model,
            c.answered_ref,
            c.provider,
            c.fallback_index,
            c.outcome,
            c.http_status,
            c.input_tokens,
            c.output_tokens,
            c.cached_tokens,
            c.cache_write_tokens,
            c.cost_usd,
            c.cost_estimated,
            c.ttfb_ms,
            c.total_ms,
            c.streamed,
            c.request_id,
            c.user_id,
            c.tags,
            c.route,
        ])?;
    }
    Ok(())
}

/// Adds the rows' totals to `hfclaw_daily`.
fn add_to_daily(conn: &Connection, columns: &[Columns]) -> rusqlite::Result<()> {
    let mut upsert = conn.prepare_cached(schema::UPSERT_DAILY)?;
    for (k, d) in rollup::daily_deltas(columns) {
        upsert.execute(params![
            k.day,
            k.api,
            k.key_label,
            k.model,
            k.provider,
            d.requests,
            d.errors,
            d.input_tokens,
            d.output_tokens,
            d.cost_usd,
            d.estimated_cost_usd,
            d.unpriced,
            d.budget_refusals,
        ])?;
    }
    Ok(())
}

impl Cells for rusqlite::Row<'_> {
    type Error = rusqlite::Error;
    fn int(&self, i: usize) -> rusqlite::Result<Option<i64>> {
        self.get(i)
    }
    fn int32(&self, i: usize) -> rusqlite::Result<Option<i32>> {
        self.get(i)
    }
    fn real(&self, i: usize) -> rusqlite::Result<Option<f64>> {
        self.get(i)
    }
    fn text(&self, i: usize) -> rusqlite::Result<Option<String>> {
        self.get(i)
    }
}

/// A transaction on `hfclaw_holds`.
struct SqliteHolds<'a>(&'a Connection);

fn sqlite_values(args: &[Arg<'_>]) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    args.iter()
        .map(|a| match a {
            Arg::Int(n) => Value::Integer(*n),
            Arg::Real(x) => Value::Real(*x),
            Arg::Text(t) => Value::Text((*t).to_owned()),
        })
        .collect()
}

impl HoldTx for SqliteHolds<'_> {
    fn numbers(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Option<f64>>, BackendError> {
        let mut statement = self.0.prepare_cached(sql).map_err(backend_error)?;
        let values = sqlite_values(args);
        statement
            .query_row(rusqlite::params_from_iter(values.iter()), |r| {
                (0..r.as_ref().column_count())
                    .map(|i| r.get::<_, Option<f64>>(i))
                    .collect()
            })
            .map_err(backend_error)
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, BackendError> {
        let mut statement = self.0.prepare_cached(sql).map_err(backend_error)?;
        let values = sqlite_values(args);
        statement
            .execute(rusqlite::params_from_iter(values.iter()))
            .map(|n| n as u64)
            .map_err(backend_error)
    }
}

impl Backend for Sqlite {
    fn wait_for_locks(&mut self, wait: Duration) {
        if let Err(e) = self.conn.busy_timeout(wait) {
            tracing::debug!("usage ledger: cannot set SQLite's busy timeout: {e}");
        }
    }

    fn holds(
        &mut self,
        work: &mut dyn FnMut(&mut dyn HoldTx) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend_error)?;
        work(&mut SqliteHolds(&tx))?;
        tx.commit().map_err(backend_error)
    }

    fn insert(&mut self, rows: &[Row]) -> Result<(), BackendError> {
        let columns: Vec<Columns> = rows.iter().map(Columns::of).collect();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend_error)?;
        insert_requests(&tx, &columns).map_err(backend_error)?;
        add_to_daily(&tx, &columns).map_err(backend_error)?;
        tx.commit().map_err(backend_error)
    }

    fn group_totals(
        &mut self,
        sql: &str,
        by: GroupBy,
        from: i64,
        to: i64,
        key: Option<&str>,
    ) -> Result<Vec<GroupRow>, BackendError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(backend_error)?;
        let read = |r: &rusqlite::Row<'_>| backend::group_row(r, by);
        let rows = match key {
            Some(key) => statement.query_map(params![from, to, key], read),
            None => statement.query_map(params![from, to], read),
        }
        .map_err(backend_error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(backend_error)
    }

    fn recent(&mut self, limit: usize) -> Result<Vec<Row>, BackendError> {
        let mut statement = self
            .conn
            .prepare_cached(&schema::recent_sql())
            .map_err(backend_error)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement
            .query_map([limit], |r| backend::columns(r))
            .map_err(backend_error)?;
        rows.map(|r| r.map(Columns::into_row))
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend_error)
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>, BackendError> {
        self.conn
            .query_row(schema::GET_META, [key], |r| r.get(0))
            .optional()
            .map_err(backend_error)
    }

    fn set_meta(&mut self, key: &str, value: Option<&str>) -> Result<(), BackendError> {
        match value {
            Some(value) => self.conn.execute(schema::SET_META, params![key, value]),
            None => self.conn.execute(schema::DELETE_META, [key]),
        }
        .map(drop)
        .map_err(backend_error)
    }

    fn keys(&mut self) -> Result<Vec<KeyColumns>, BackendError> {
        let mut statement = self
            .conn
            .prepare_cached(keys::SELECT)
            .map_err(backend_error)?;
        let rows = statement
            .query_map([], |r| {
                Ok(KeyColumns {
                    label: r.get(0)?,
                    hash: r.get(1)?,
                    prefix: r.get(2)?,
                    settings: r.get(3)?,
                    last_used_ms: r.get(4)?,
                })
            })
            .map_err(backend_error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(backend_error)
    }

    fn insert_key(&mut self, key: &KeyColumns) -> Result<Option<String>, BackendError> {
        let inserted = self
            .conn
            .execute(
                keys::INSERT,
                params![key.label, key.hash, key.prefix, key.settings],
            )
            .map_err(backend_error)?;
        if inserted == 1 {
            return Ok(None);
        }
        self.conn
            .query_row(keys::CONFLICT, params![key.label, key.hash], |r| r.get(0))
            .optional()
            .map(|label| Some(label.unwrap_or_else(|| key.label.clone())))
            .map_err(backend_error)
    }

    fn update_key(&mut self, label: &str, settings: &str) -> Result<bool, BackendError> {
        self.conn
            .execute(keys::UPDATE, params![settings, label])
            .map(|n| n > 0)
            .map_err(backend_error)
    }

    fn touch_keys(&mut self, used: &[(String, i64)]) -> Result<(), BackendError> {
        let tx = self.conn.transaction().map_err(backend_error)?;
        {
            let mut statement = tx.prepare_cached(keys::TOUCH).map_err(backend_error)?;
            for (label, ms) in used {
                statement
                    .execute(params![ms, label])
                    .map_err(backend_error)?;
            }
        }
        tx.commit().map_err(backend_error)
    }
}
