//! The usage ledger: one row per request, in SQLite (default) or PostgreSQL.
//!
//! A [`Ledger`] owns one writer thread and its database connection. Request handlers get
//! a [`Recorder`] (`Clone + Send + Sync`) whose [`Recorder::record`] never blocks: rows go
//! into a bounded channel; when it is full the row is dropped, counted and warned about.
//! The writer batches rows into one transaction, at least every flush interval (default
//! 250 ms, never more than a second), and on [`Ledger::close`], which drains everything.
//! When the database refuses a write (disk full, locked by another process, connection
//! lost) the writer keeps the rows, warns (counted), and retries with backoff; it never
//! panics and never blocks a recorder.
//!
//! Reads ([`Ledger::totals`], [`Ledger::spend_since`], [`Ledger::recent`]) run on the
//! writer thread after it has written what it holds, so a read sees every row recorded
//! before it. They block the caller: from async code, call them in `spawn_blocking`.
//!
//! Each batch also adds its totals per UTC day, API, key label, model and provider to a
//! rollup table in the same transaction ([`rollup`]): [`Ledger::totals`] and
//! [`Ledger::spend_since`] read the whole days of a period from it and only the partial
//! days at its edges from the rows, so `hfclaw usage` over a million rows reads a few
//! thousand, and a gateway's budget re-read of today reads no rows at all.

pub(crate) mod backend;
pub(crate) mod holds;
mod keys;
mod postgres;
mod rollup;
mod schema;
mod sqlite;
mod tally;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::budget::{BudgetConfig, Spend};
use crate::row::Row;
use crate::time::unix_ms;
use backend::Backend;
pub use schema::{GroupBy, SCHEMA_VERSION};
pub use tally::Tally;

/// The file name of the SQLite ledger in hfclaw's data dir.
pub const SQLITE_FILE: &str = "usage.sqlite3";

/// Which database holds the ledger.
#[derive(Clone, PartialEq, Eq)]
pub enum LedgerSpec {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://user:password@host:port/db`).
    Postgres(String),
}

impl fmt::Debug for LedgerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerSpec::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            LedgerSpec::Postgres(url) => f.debug_tuple("Postgres").field(&redact_url(url)).finish(),
        }
    }
}

impl LedgerSpec {
    /// Reads `--ledger`/`HFCLAW_LEDGER_URL`: `postgres://…` or `postgresql://…` is
    /// PostgreSQL; anything else is an SQLite file path (an optional `sqlite:` prefix is
    /// dropped).
    pub fn parse(text: &str) -> LedgerSpec {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return LedgerSpec::Postgres(text.to_owned());
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        LedgerSpec::Sqlite(PathBuf::from(path))
    }

    /// The ledger to use: `flag` (`--ledger`), else `$HFCLAW_LEDGER_URL`, else
    /// `usage.sqlite3` in `$HFCLAW_DATA_DIR`, else in the user data dir
    /// (`~/.local/share/hfclaw/` on Linux).
    pub fn resolve(
        flag: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<LedgerSpec, LedgerError> {
        if let Some(text) = flag
            .or(env("HFCLAW_LEDGER_URL").as_deref())
            .filter(|t| !t.trim().is_empty())
        {
            return Ok(LedgerSpec::parse(text));
        }
        let dir = match env("HFCLAW_DATA_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => dirs::data_dir()
                .ok_or(LedgerError::NoDataDir)?
                .join("hfclaw"),
        };
        Ok(LedgerSpec::Sqlite(dir.join(SQLITE_FILE)))
    }

    /// Where the ledger is, for messages: the path, or the URL without its password.
    pub fn location(&self) -> String {
        match self {
            LedgerSpec::Sqlite(path) => path.display().to_string(),
            LedgerSpec::Postgres(url) => redact_url(url),
        }
    }

    /// True when an SQLite ledger's file does not exist yet (nothing was ever recorded).
    pub fn is_missing_file(&self) -> bool {
        matches!(self, LedgerSpec::Sqlite(path) if !path.exists())
    }
}

/// `postgres://user:***@host/db`: the password (in the authority or the query) hidden.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Why the ledger cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// No data dir could be found.
    #[error("cannot find a data directory for the usage ledger")]
    NoDataDir,
    /// The file is not an SQLite database, or a damaged one.
    #[error("{} is not a usable usage ledger: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },
    /// The file is an SQLite database of something else.
    #[error("{} is an SQLite database of another program (tables: {}), not an hfclaw usage ledger", path.display(), tables.join(", "))]
    Foreign {
        /// The file.
        path: PathBuf,
        /// Some of its tables.
        tables: Vec<String>,
    },
    /// The ledger was written by a newer hfclaw.
    #[error("the usage ledger at {location} has schema version {}, newer than this hfclaw understands ({supported})", found_text(*found))]
    NewerSchema {
        /// Path or redacted URL.
        location: String,
        /// Its version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// Opening failed (permissions, I/O, connection refused, bad URL).
    #[error("cannot open the usage ledger at {location}: {reason}")]
    Open {
        /// Path or redacted URL.
        location: String,
        /// Why.
        reason: String,
    },
    /// A read failed.
    #[error("reading the usage ledger at {location} failed: {reason}")]
    Query {
        /// Path or redacted URL.
        location: String,
        /// Why.
        reason: String,
    },
    /// Rows could not be written before the ledger closed.
    #[error("{rows} usage row(s) could not be written to {location}: {reason}")]
    Unflushed {
        /// How many rows were lost.
        rows: u64,
        /// Path or redacted URL.
        location: String,
        /// The last failure.
        reason: String,
    },
    /// The writer thread is gone (the ledger was closed).
    #[error("the usage ledger is closed")]
    Closed,
    /// A new key's label, or the key itself, is in the ledger already.
    #[error("{}", if label == existing { format!("a client key labelled {label:?} exists already") } else { format!("this key is in the ledger already, labelled {existing:?}") })]
    KeyTaken {
        /// The label asked for.
        label: String,
        /// The label of the key in the way.
        existing: String,
    },
    /// No key has this label (or prefix).
    #[error("no client key is labelled {0:?}")]
    NoSuchKey(String),
}

fn found_text(found: i64) -> String {
    if found == i64::MAX {
        "(unreadable)".to_owned()
    } else {
        found.to_string()
    }
}

impl LedgerError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            LedgerError::NoDataDir => {
                Some("set HFCLAW_DATA_DIR to a directory for hfclaw's data".to_owned())
            }
            LedgerError::Corrupt { path, .. } | LedgerError::Foreign { path, .. } => Some(format!(
                "the file was left untouched; move it aside (e.g. `mv {0} {0}.broken`) and hfclaw starts a new ledger, or point HFCLAW_DATA_DIR or --ledger elsewhere",
                path.display()
            )),
            LedgerError::NewerSchema { .. } => Some(
                "upgrade hfclaw to read it, or use another ledger (HFCLAW_DATA_DIR, --ledger)"
                    .to_owned(),
            ),
            LedgerError::KeyTaken { label, existing } if label == existing => {
                Some("pick another label, or change the key with `hfclaw keys update`".to_owned())
            }
            LedgerError::KeyTaken { .. } => {
                Some("a key is counted under one label: keep the one in the ledger".to_owned())
            }
            LedgerError::NoSuchKey(_) => {
                Some("`hfclaw keys list` shows the labels and prefixes".to_owned())
            }
            LedgerError::Open { .. } => Some(
                "check the path's permissions or the PostgreSQL URL (--ledger, HFCLAW_LEDGER_URL)"
                    .to_owned(),
            ),
            _ => None,
        }
    }

    /// True for errors in what the user pointed at (exit 1 either way; no retry helps).
    pub fn is_bad_file(&self) -> bool {
        matches!(
            self,
            LedgerError::Corrupt { .. }
                | LedgerError::Foreign { .. }
                | LedgerError::NewerSchema { .. }
        )
    }
}

fn check_version(location: &str, found: i64) -> Result<(), LedgerError> {
    if found > SCHEMA_VERSION {
        return Err(LedgerError::NewerSchema {
            location: location.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// How the writer behaves.
#[derive(Debug, Clone)]
pub struct LedgerOptions {
    /// Rows the channel holds before [`Recorder::record`] drops.
    pub capacity: usize,
    /// Longest time a row waits before its batch is written (≤ 1 s).
    pub flush_interval: Duration,
    /// Most rows per transaction.
    pub batch_max: usize,
    /// How long [`Ledger::close`] keeps retrying a failing database.
    pub close_timeout: Duration,
    /// How long an SQLite write waits for another process's lock before it counts as a
    /// failure (and is retried).
    pub busy_timeout: Duration,
}

impl Default for LedgerOptions {
    fn default() -> LedgerOptions {
        LedgerOptions {
            capacity: 16_384,
            flush_interval: Duration::from_millis(250),
            batch_max: 1_000,
            close_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_millis(500),
        }
    }
}

/// Counters of a ledger since it opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LedgerStats {
    /// Rows accepted by [`Recorder::record`].
    pub recorded: u64,
    /// Rows written to the database.
    pub written: u64,
    /// Rows dropped: channel full, writer overwhelmed, or recorded after close.
    pub dropped: u64,
    /// Failed write attempts (each retried).
    pub write_failures: u64,
}

#[derive(Debug, Default)]
struct Counters {
    recorded: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    write_failures: AtomicU64,
    /// Unix ms of the last "dropped" warning, to warn at most every few seconds.
    last_drop_warning: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> LedgerStats {
        LedgerStats {
            recorded: self.recorded.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            write_failures: self.write_failures.load(Ordering::Relaxed),
        }
    }

    /// Counts a dropped row and warns, at most once per [`WARN_EVERY`].
    fn drop_row(&self, why: &str) {
        let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        let now = u64::try_from(unix_ms(SystemTime::now())).unwrap_or(0);
        let last = self.last_drop_warning.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= WARN_EVERY.as_millis() as u64
            && self
                .last_drop_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                dropped,
                "usage ledger: {why}; row dropped ({dropped} so far)"
            );
        }
    }
}

/// Repeated warnings of one kind are at most this frequent.
const WARN_EVERY: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce(&mut dyn Backend) + Send>;

/// Opens another connection to the same database (for [`crate::shared`]).
type Connect = Arc<dyn Fn() -> Result<Box<dyn Backend>, LedgerError> + Send + Sync>;

enum Message {
    Row(Box<Row>),
    /// A shared hold ends: written after the rows queued before it (see
    /// [`crate::shared`]), so its request's cost is spend before the hold lets go.
    EndHold(holds::HoldEnd),
    /// Write what is pending, then run the job (reads, meta, flush).
    Run(Job),
    /// Write everything, then stop; the reply says how many rows could not be written.
    Close(mpsc::Sender<Result<(), LedgerError>>),
}

/// The handle request handlers record rows with; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: SyncSender<Message>,
    counters: Arc<Counters>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Recorder {
    /// Queues a row; never blocks. A full queue (or a closed ledger) drops the row,
    /// counts it in [`LedgerStats::dropped`] and warns through `tracing`.
    pub fn record(&self, row: Row) {
        match self.tx.try_send(Message::Row(Box::new(row))) {
            Ok(()) => {
                self.counters.recorded.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) => self.counters.drop_row("the write queue is full"),
            Err(TrySendError::Disconnected(_)) => self.counters.drop_row("the ledger is closed"),
        }
    }

    /// The ledger's counters.
    pub fn stats(&self) -> LedgerStats {
        self.counters.snapshot()
    }

    /// Queues the end of a shared hold behind the rows recorded before it; never blocks
    /// (when the queue is full the hold lapses in the database on its own).
    pub(crate) fn end_hold(&self, end: holds::HoldEnd) {
        if self.tx.try_send(Message::EndHold(end)).is_err() {
            tracing::debug!("usage ledger: a hold's end was not queued; it lapses");
        }
    }
}

/// Totals of one group (or of everything) for `hfclaw usage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Requests (budget refusals included).
    pub requests: u64,
    /// Requests that did not end `ok`, budget refusals aside.
    pub errors: u64,
    /// Requests a spending budget refused (429 `budget_exceeded`).
    pub budget_refusals: u64,
    /// Input tokens of the requests that reported usage.
    pub input_tokens: u64,
    /// Output tokens of the requests that reported usage.
    pub output_tokens: u64,
    /// Known cost, USD.
    pub cost_usd: f64,
    /// Of `cost_usd`, the estimated part.
    pub estimated_cost_usd: f64,
    /// Answered requests whose cost is unknown (no usage or no price).
    pub unpriced_requests: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.budget_refusals += other.budget_refusals;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cost_usd += other.cost_usd;
        self.estimated_cost_usd += other.estimated_cost_usd;
        self.unpriced_requests += other.unpriced_requests;
    }
}

/// One group's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupTotals {
    /// The group's value (`huggingface/…`, a provider, `2026-12-01`, a key label, an
    /// API); `None` for rows without one (no provider known, no key).
    pub group: Option<String>,
    /// Its totals.
    pub counts: Counts,
}

/// [`Ledger::totals`]'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    /// What the groups are.
    pub by: GroupBy,
    /// Groups by cost, highest first (by day: oldest first).
    pub groups: Vec<GroupTotals>,
    /// Everything together.
    pub total: Counts,
}

impl Totals {
    /// The totals of raw groups (of a query or a [`Tally`]): groups by cost, highest first
    /// (by day: oldest first), and everything together.
    fn of_groups(by: GroupBy, rows: Vec<backend::GroupRow>) -> Totals {
        let to_u64 = |n: i64| u64::try_from(n).unwrap_or(0);
        let mut groups: Vec<GroupTotals> = rows
            .into_iter()
            .map(|r| GroupTotals {
                group: r.group,
                counts: Counts {
                    requests: to_u64(r.sums.requests),
                    errors: to_u64(r.sums.errors),
                    budget_refusals: to_u64(r.sums.budget_refusals),
                    input_tokens: to_u64(r.sums.input_tokens),
                    output_tokens: to_u64(r.sums.output_tokens),
                    cost_usd: r.sums.cost_usd,
                    estimated_cost_usd: r.sums.estimated_cost_usd,
                    unpriced_requests: to_u64(r.sums.unpriced),
                },
            })
            .collect();
        if by == GroupBy::Day {
            groups.sort_by(|a, b| a.group.cmp(&b.group));
        } else {
            groups.sort_by(|a, b| {
                b.counts
                    .cost_usd
                    .total_cmp(&a.counts.cost_usd)
                    .then(b.counts.requests.cmp(&a.counts.requests))
                    // Rows without a group value ("no provider known") after the named ones.
                    .then(a.group.is_none().cmp(&b.group.is_none()))
                    .then_with(|| a.group.cmp(&b.group))
            });
        }
        let mut total = Counts::default();
        for group in &groups {
            total.add(&group.counts);
        }
        Totals { by, groups, total }
    }
}

impl Serialize for GroupBy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The usage ledger (see the module doc). `Send + Sync`: share it behind an `Arc`.
pub struct Ledger {
    tx: SyncSender<Message>,
    counters: Arc<Counters>,
    location: String,
    /// Another connection to the same database, when it can be made.
    connect: Option<Connect>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// Opens (creating and migrating as needed) the ledger with default options.
    pub fn open(spec: &LedgerSpec) -> Result<Ledger, LedgerError> {
        Ledger::open_with(spec, LedgerOptions::default())
    }

    /// Opens the ledger with `options`. The connection is made on the writer thread, so
    /// this may be called from async code (it blocks until the database answers).
    pub fn open_with(spec: &LedgerSpec, options: LedgerOptions) -> Result<Ledger, LedgerError> {
        let location = spec.location();
        let spec = spec.clone();
        let busy_timeout = options.busy_timeout;
        let connect: Connect = Arc::new(move || -> Result<Box<dyn Backend>, LedgerError> {
            Ok(match &spec {
                LedgerSpec::Sqlite(path) => Box::new(sqlite::Sqlite::open(path, busy_timeout)?),
                LedgerSpec::Postgres(url) => {
                    Box::new(postgres::Postgres::open(url, &redact_url(url))?)
                }
            })
        });
        let again = connect.clone();
        let mut ledger = Ledger::start(location, options, move || again())?;
        ledger.connect = Some(connect);
        Ok(ledger)
    }

    /// Another connection to the ledger's database (`None` for a ledger made by tests
    /// from a backend of their own).
    pub(crate) fn connect_again(&self) -> Option<Result<Box<dyn Backend>, LedgerError>> {
        self.connect.as_ref().map(|connect| connect())
    }

    fn start(
        location: String,
        options: LedgerOptions,
        connect: impl FnOnce() -> Result<Box<dyn Backend>, LedgerError> + Send + 'static,
    ) -> Result<Ledger, LedgerError> {
        let (tx, rx) = mpsc::sync_channel(options.capacity.max(1));
        let counters = Arc::new(Counters::default());
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_counters = counters.clone();
        let thread_location = location.clone();
        let thread = std::thread::Builder::new()
            .name("hfclaw-ledger".to_owned())
            .spawn(move || {
                let backend = match connect() {
                    Ok(backend) => {
                        let _ = ready_tx.send(Ok(()));
                        backend
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                writer::run(backend, rx, &thread_counters, &options, &thread_location);
            })
            .map_err(|e| LedgerError::Open {
                location: location.clone(),
                reason: format!("cannot start the writer thread: {e}"),
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(LedgerError::Open {
                    location,
                    reason: "the writer thread stopped while opening".to_owned(),
                });
            }
        }
        Ok(Ledger {
            tx,
            counters,
            location,
            connect: None,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// A recorder for request handlers.
    pub fn recorder(&self) -> Recorder {
        Recorder {
            tx: self.tx.clone(),
            counters: self.counters.clone(),
        }
    }

    /// Where the ledger is (a path, or a URL without its password).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The counters since the ledger opened.
    pub fn stats(&self) -> LedgerStats {
        self.counters.snapshot()
    }

    /// Runs `job` on the writer thread (after it wrote what it holds) and waits.
    fn ask<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut dyn Backend) -> Result<T, backend::BackendError> + Send + 'static,
    ) -> Result<T, LedgerError> {
        let (reply_tx, reply_rx) = mpsc::channel();
        let job: Job = Box::new(move |backend| {
            let _ = reply_tx.send(job(backend));
        });
        self.tx
            .send(Message::Run(job))
            .map_err(|_| LedgerError::Closed)?;
        match reply_rx.recv() {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(LedgerError::Query {
                location: self.location.clone(),
                reason: e.message,
            }),
            Err(_) => Err(LedgerError::Closed),
        }
    }

    /// Writes every row recorded so far; `Err` when the database refused them (they are
    /// kept and retried).
    pub fn flush(&self) -> Result<(), LedgerError> {
        // The writer writes pending rows before any job; a job that reads nothing proves
        // it got this far, and the counters tell whether the write succeeded.
        let recorded_before = self.counters.recorded.load(Ordering::Relaxed);
        self.ask(|_| Ok(()))?;
        let stats = self.stats();
        if stats.written + stats.dropped >= recorded_before {
            Ok(())
        } else {
            Err(LedgerError::Unflushed {
                rows: recorded_before - stats.written - stats.dropped,
                location: self.location.clone(),
                reason: "the database refused the write; it is retried".to_owned(),
            })
        }
    }

    /// Totals grouped `by` over `[since, until)`: by cost, highest first (groups by day
    /// oldest first), with the total of everything.
    pub fn totals(
        &self,
        by: GroupBy,
        since: SystemTime,
        until: SystemTime,
    ) -> Result<Totals, LedgerError> {
        self.key_totals(by, None, since, until)
    }

    /// [`Ledger::totals`] of the requests of the client key labelled `key` only (all of
    /// them with `None`): e.g. one key's spend per end user.
    pub fn key_totals(
        &self,
        by: GroupBy,
        key: Option<&str>,
        since: SystemTime,
        until: SystemTime,
    ) -> Result<Totals, LedgerError> {
        let (since, until) = (unix_ms(since), unix_ms(until));
        let key = key.map(str::to_owned);
        let rows = self.ask(move |b| rollup::totals(b, by, since, until, key.as_deref()))?;
        Ok(Totals::of_groups(by, rows))
    }

    /// Totals grouped by the value of the tag `name` (rows without it: group `None`) over
    /// `[since, until)` (of the client key `key` only, when given), in
    /// [`Ledger::totals`]'s order. Reads the rows of the period (the rollup keeps no tags),
    /// grouped by tag set in the database and by `name`'s value here.
    pub fn tag_totals(
        &self,
        name: &str,
        key: Option<&str>,
        since: SystemTime,
        until: SystemTime,
    ) -> Result<Totals, LedgerError> {
        let (since, until) = (unix_ms(since), unix_ms(until));
        let key = key.map(str::to_owned);
        let sets =
            self.ask(move |b| rollup::totals(b, GroupBy::Tag, since, until, key.as_deref()))?;
        let mut groups = rollup::Groups::default();
        groups.add(
            sets.into_iter()
                .map(|set| backend::GroupRow {
                    group: set
                        .group
                        .as_deref()
                        .map(crate::attribution::Tags::from_json)
                        .and_then(|tags| tags.get(name).map(str::to_owned)),
                    sums: set.sums,
                })
                .collect(),
        );
        Ok(Totals::of_groups(GroupBy::Tag, groups.rows))
    }

    /// Known cost since `since`, overall and per key label (seeds [`crate::Budgets`]).
    pub fn spend_since(&self, since: SystemTime) -> Result<Spend, LedgerError> {
        let since = unix_ms(since);
        // From the rollup too: a gateway re-reads today's spend every few seconds.
        let groups = self.ask(move |b| rollup::totals(b, GroupBy::Key, since, i64::MAX, None))?;
        let mut spend = Spend::default();
        for g in groups {
            spend.total_usd += g.sums.cost_usd;
            if let Some(key) = g.group {
                *spend.per_key_usd.entry(key).or_insert(0.0) += g.sums.cost_usd;
            }
        }
        Ok(spend)
    }

    /// Known cost since the UTC day and since the UTC month of `now` began (what
    /// [`crate::Budgets::seed`] and [`crate::Budgets::sync`] take).
    pub fn budget_spend(&self, now: SystemTime) -> Result<(Spend, Spend), LedgerError> {
        let now = unix_ms(now);
        let today = self.spend_since(crate::time::from_unix_ms(crate::time::start_of_day(now)))?;
        let month =
            self.spend_since(crate::time::from_unix_ms(crate::time::start_of_month(now)))?;
        Ok((today, month))
    }

    /// The last `limit` rows, newest first (for a status page).
    pub fn recent(&self, limit: usize) -> Result<Vec<Row>, LedgerError> {
        self.ask(move |b| b.recent(limit))
    }

    /// Stores the budgets a gateway runs with, so that `hfclaw usage` can show them; an
    /// empty config removes them.
    pub fn set_budgets(&self, config: &BudgetConfig) -> Result<(), LedgerError> {
        let value = if config.is_empty() {
            None
        } else {
            Some(
                serde_json::to_string(config).map_err(|e| LedgerError::Query {
                    location: self.location.clone(),
                    reason: e.to_string(),
                })?,
            )
        };
        self.ask(move |b| b.set_meta(schema::BUDGETS_KEY, value.as_deref()))
    }

    /// The budgets the last gateway stored; `None` when none (or unreadable: a warning).
    pub fn budgets(&self) -> Result<Option<BudgetConfig>, LedgerError> {
        let text = self.ask(|b| b.meta(schema::BUDGETS_KEY))?;
        Ok(text.and_then(|t| match serde_json::from_str(&t) {
            Ok(config) => Some(config),
            Err(e) => {
                tracing::warn!("usage ledger: stored budgets are unreadable ({e}); ignored");
                None
            }
        }))
    }

    /// Writes everything recorded so far and stops the writer (retrying a failing
    /// database for up to [`LedgerOptions::close_timeout`]). Later calls do nothing;
    /// rows recorded after it are dropped (counted).
    pub fn close(&self) -> Result<(), LedgerError> {
        let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return Ok(());
        };
        let (reply_tx, reply_rx) = mpsc::channel();
        let result = match self.tx.send(Message::Close(reply_tx)) {
            Ok(()) => reply_rx.recv().unwrap_or(Err(LedgerError::Closed)),
            Err(_) => Err(LedgerError::Closed),
        };
        let _ = thread.join();
        result
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::warn!("usage ledger: {e}");
        }
    }
}

/// The path of an SQLite spec, for callers that need to say where the file is.
pub fn sqlite_path(spec: &LedgerSpec) -> Option<&Path> {
    match spec {
        LedgerSpec::Sqlite(path) => Some(path),
        LedgerSpec::Postgres(_) => None,
    }
}

#[cfg(test)]
mod tests;
