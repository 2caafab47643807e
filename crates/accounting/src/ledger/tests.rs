#![allow(clippy::unwrap_used)]

use std::sync::atomic::AtomicUsize;
use std::time::UNIX_EPOCH;

use super::*;
use crate::price::Cost;
use crate::row::Outcome;
use crate::time::{DAY_MS, days_from_civil, from_unix_ms};
use crate::usage::{Api, Usage};

/// 2026-12-01 at `minute` minutes past midnight UTC.
fn at(minute: i64) -> SystemTime {
    from_unix_ms(days_from_civil(2026, 12, 1) * DAY_MS + minute * 60_000)
}

pub(crate) fn row(minute: i64, model: &str, provider: Option<&str>, usd: Option<f64>) -> Row {
    Row {
        key: Some("team-a".into()),
        answered_ref: Some(format!("huggingface/{model}")),
        provider: provider.map(str::to_owned),
        fallback_index: Some(0),
        status: Some(200),
        usage: usd.map(|_| Usage {
            input_tokens: 100,
            output_tokens: 20,
            cached_tokens: Some(10),
            cache_write_tokens: None,
        }),
        cost: usd.map(|usd| Cost {
            usd,
            estimated: provider.is_none(),
        }),
        ttfb: Some(Duration::from_millis(120)),
        total: Duration::from_millis(900),
        streamed: true,
        request_id: Some(format!("req-{minute}")),
        user: Some("alice".into()),
        tags: crate::Tags::from([("team", "ml"), ("env", "prod")]),
        route: Some("claude-*".into()),
        ..Row::new(at(minute), Api::Chat, model)
    }
}

fn fast() -> LedgerOptions {
    LedgerOptions {
        close_timeout: Duration::from_millis(500),
        ..LedgerOptions::default()
    }
}

fn temp_ledger() -> (tempfile::TempDir, LedgerSpec) {
    let dir = tempfile::tempdir().unwrap();
    let spec = LedgerSpec::Sqlite(dir.path().join("data/usage.sqlite3"));
    (dir, spec)
}

#[test]
fn rows_round_trip_through_sqlite() {
    let (_dir, spec) = temp_ledger();
    let ledger = Ledger::open_with(&spec, fast()).unwrap();
    let recorder = ledger.recorder();
    let first = row(1, "org/a", Some("together"), Some(0.5));
    let mut failed = Row {
        outcome: Outcome::error("rate_limited"),
        status: Some(429),
        answered_ref: None,
        usage: None,
        cost: None,
        api: Api::Messages,
        key: None,
        ..row(2, "alias-b", None, None)
    };
    failed.fallback_index = None;
    recorder.record(first.clone());
    recorder.record(failed.clone());
    let recent = ledger.recent(10).unwrap();
    assert_eq!(recent, vec![failed, first]);
    assert_eq!(ledger.stats().written, 2);
    ledger.close().unwrap();
    // Reopening finds the rows: they are on disk, not in memory.
    let again = Ledger::open(&spec).unwrap();
    assert_eq!(again.recent(1).unwrap().len(), 1);
}

#[test]
fn totals_group_sort_and_sum() {
    let (_dir, spec) = temp_ledger();
    let ledger = Ledger::open_with(&spec, fast()).unwrap();
    let recorder = ledger.recorder();
    recorder.record(row(1, "org/a", Some("together"), Some(0.25)));
    recorder.record(row(2, "org/a", None, Some(0.25)));
    recorder.record(row(3, "org/b", Some("cerebras"), Some(1.0)));
    recorder.record(row(4, "org/c", Some("cerebras"), None)); // usage unknown
    recorder.record(row(60 * 24 + 5, "org/a", Some("together"), Some(2.0))); // next day
    recorder.record(row(-5, "org/z", Some("together"), Some(9.0))); // the day before
    let totals = ledger.totals(GroupBy::Model, at(0), at(60 * 48)).unwrap();
    let groups: Vec<(Option<&str>, u64, f64)> = totals
        .groups
        .iter()
        .map(|g| (g.group.as_deref(), g.counts.requests, g.counts.cost_usd))
        .collect();
    assert_eq!(
        groups,
        [
            (Some("huggingface/org/a"), 3, 2.5),
            (Some("huggingface/org/b"), 1, 1.0),
            (Some("huggingface/org/c"), 1, 0.0)
        ]
    );
    assert_eq!(totals.total.requests, 5);
    assert_eq!(totals.total.input_tokens, 400);
    assert_eq!(totals.total.unpriced_requests, 1);
    assert_eq!(totals.total.estimated_cost_usd, 0.25);

    let by_day = ledger.totals(GroupBy::Day, at(-60), at(60 * 48)).unwrap();
    let days: Vec<Option<&str>> = by_day.groups.iter().map(|g| g.group.as_deref()).collect();
    assert_eq!(
        days,
        [Some("2026-11-30"), Some("2026-12-01"), Some("2026-12-02")]
    );
    let by_provider = ledger.totals(GroupBy::Provider, at(0), at(60)).unwrap();
    let providers: Vec<Option<&str>> = by_provider
        .groups
        .iter()
        .map(|g| g.group.as_deref())
        .collect();
    assert_eq!(providers, [Some("cerebras"), Some("together"), None]);
    let by_api = ledger.totals(GroupBy::Api, at(0), at(60)).unwrap();
    assert_eq!(by_api.groups[0].group.as_deref(), Some("chat"));
    let by_key = ledger.totals(GroupBy::Key, at(0), at(60)).unwrap();
    assert_eq!(by_key.groups[0].group.as_deref(), Some("team-a"));

    let spend = ledger.spend_since(at(0)).unwrap();
    assert_eq!(spend.total_usd, 3.5);
    assert_eq!(spend.per_key_usd["team-a"], 3.5);
}

#[test]
fn budgets_are_stored_for_hfclaw_usage() {
    let (_dir, spec) = temp_ledger();
    let ledger = Ledger::open(&spec).unwrap();
    assert_eq!(ledger.budgets().unwrap(), None);
    let config = BudgetConfig {
        usd_per_day: Some(5.0),
        per_key_usd_per_day: [("team-a".to_owned(), 1.0)].into(),
        ..BudgetConfig::default()
    };
    ledger.set_budgets(&config).unwrap();
    assert_eq!(ledger.budgets().unwrap(), Some(config));
    ledger.set_budgets(&BudgetConfig::default()).unwrap();
    assert_eq!(ledger.budgets().unwrap(), None);
}

#[test]
fn close_drains_every_row_recorded_before_it() {
    let (_dir, spec) = temp_ledger();
    let options = LedgerOptions {
        flush_interval: Duration::from_secs(1),
        ..fast()
    };
    let ledger = Ledger::open_with(&spec, options).unwrap();
    let recorders: Vec<Recorder> = (0..4).map(|_| ledger.recorder()).collect();
    std::thread::scope(|s| {
        for recorder in &recorders {
            s.spawn(move || {
                for i in 0..2_500 {
                    recorder.record(row(i % 600, "org/a", Some("p"), Some(0.001)));
                }
            });
        }
    });
    ledger.close().unwrap();
    let stats = ledger.stats();
    assert_eq!(
        (stats.recorded, stats.written, stats.dropped),
        (10_000, 10_000, 0)
    );
    // After close, rows are dropped (counted), never lost silently.
    recorders[0].record(row(1, "org/a", None, None));
    assert_eq!(ledger.stats().dropped, 1);
    let reopened = Ledger::open(&spec).unwrap();
    let totals = reopened.totals(GroupBy::Api, at(0), at(24 * 60)).unwrap();
    assert_eq!(totals.total.requests, 10_000);
}

#[test]
fn two_ledgers_write_the_same_sqlite_file_at_once() {
    let (_dir, spec) = temp_ledger();
    let a = Ledger::open_with(&spec, fast()).unwrap();
    let b = Ledger::open_with(&spec, fast()).unwrap();
    std::thread::scope(|s| {
        for ledger in [&a, &b] {
            let recorder = ledger.recorder();
            s.spawn(move || {
                for i in 0..2_000 {
                    recorder.record(row(i % 600, "org/a", Some("p"), Some(0.01)));
                    if i % 500 == 0 {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            });
        }
    });
    a.close().unwrap();
    b.close().unwrap();
    let check = Ledger::open(&spec).unwrap();
    let totals = check.totals(GroupBy::Model, at(0), at(24 * 60)).unwrap();
    assert_eq!(totals.total.requests, 4_000);
}

#[test]
fn a_locked_database_is_retried_and_nothing_is_lost() {
    let (_dir, spec) = temp_ledger();
    let options = LedgerOptions {
        flush_interval: Duration::from_millis(20),
        busy_timeout: Duration::from_millis(50),
        close_timeout: Duration::from_secs(10),
        ..LedgerOptions::default()
    };
    let ledger = Ledger::open_with(&spec, options).unwrap();
    let path = sqlite_path(&spec).unwrap().to_owned();
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let recorder = ledger.recorder();
    for i in 0..50 {
        recorder.record(row(i, "org/a", Some("p"), Some(0.01)));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while ledger.stats().write_failures < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(ledger.stats().write_failures >= 2, "{:?}", ledger.stats());
    assert_eq!(ledger.stats().written, 0);
    locker.execute_batch("COMMIT").unwrap();
    ledger.close().unwrap();
    assert_eq!(ledger.stats().written, 50);
}

use std::time::Instant;

/// A backend that fails its first `failures` inserts, then stores rows in memory.
struct Flaky {
    failures: Arc<AtomicUsize>,
    rows: Arc<Mutex<Vec<Row>>>,
    delay: Duration,
}

impl Backend for Flaky {
    fn insert(&mut self, rows: &[Row]) -> Result<(), backend::BackendError> {
        std::thread::sleep(self.delay);
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return Err(backend::BackendError {
                message: "the disk is full".into(),
            });
        }
        self.rows.lock().unwrap().extend_from_slice(rows);
        Ok(())
    }
    fn group_totals(
        &mut self,
        _: &str,
        _: GroupBy,
        _: i64,
        _: i64,
        _: Option<&str>,
    ) -> Result<Vec<backend::GroupRow>, backend::BackendError> {
        Ok(Vec::new())
    }
    fn recent(&mut self, _: usize) -> Result<Vec<Row>, backend::BackendError> {
        Ok(self.rows.lock().unwrap().clone())
    }
    fn meta(&mut self, _: &str) -> Result<Option<String>, backend::BackendError> {
        Ok(None)
    }
    fn set_meta(&mut self, _: &str, _: Option<&str>) -> Result<(), backend::BackendError> {
        Ok(())
    }
    fn keys(&mut self) -> Result<Vec<super::keys::KeyColumns>, backend::BackendError> {
        Ok(Vec::new())
    }
    fn insert_key(
        &mut self,
        _: &super::keys::KeyColumns,
    ) -> Result<Option<String>, backend::BackendError> {
        Ok(None)
    }
    fn update_key(&mut self, _: &str, _: &str) -> Result<bool, backend::BackendError> {
        Ok(false)
    }
    fn touch_keys(&mut self, _: &[(String, i64)]) -> Result<(), backend::BackendError> {
        Ok(())
    }
    fn holds(
        &mut self,
        _: &mut dyn FnMut(&mut dyn super::holds::HoldTx) -> Result<(), backend::BackendError>,
    ) -> Result<(), backend::BackendError> {
        Ok(())
    }
}

fn flaky(
    failures: usize,
    delay: Duration,
    options: LedgerOptions,
) -> (Ledger, Arc<Mutex<Vec<Row>>>) {
    let rows = Arc::new(Mutex::new(Vec::new()));
    let backend = Flaky {
        failures: Arc::new(AtomicUsize::new(failures)),
        rows: rows.clone(),
        delay,
    };
    let ledger = Ledger::start("memory".into(), options, move || {
        Ok(Box::new(backend) as Box<dyn Backend>)
    })
    .unwrap();
    (ledger, rows)
}

#[test]
fn a_failing_write_is_retried_with_backoff_and_counted() {
    let (ledger, rows) = flaky(
        3,
        Duration::ZERO,
        LedgerOptions {
            flush_interval: Duration::from_millis(10),
            ..fast()
        },
    );
    let recorder = ledger.recorder();
    for i in 0..5 {
        recorder.record(row(i, "org/a", None, None));
    }
    assert!(ledger.flush().is_err(), "the first attempt fails");
    // The sink holds the rows before the writer counts them: wait for both, or a loaded
    // machine sees five rows and a count of zero.
    let deadline = Instant::now() + Duration::from_secs(10);
    while (rows.lock().unwrap().len() < 5 || ledger.stats().written < 5)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(rows.lock().unwrap().len(), 5);
    let stats = ledger.stats();
    assert_eq!(
        (stats.written, stats.write_failures, stats.dropped),
        (5, 3, 0)
    );
    ledger.flush().unwrap();
}

#[test]
fn close_gives_up_after_its_timeout_and_says_how_many_rows_were_lost() {
    let (ledger, _rows) = flaky(
        usize::MAX,
        Duration::ZERO,
        LedgerOptions {
            close_timeout: Duration::from_millis(300),
            ..LedgerOptions::default()
        },
    );
    ledger.recorder().record(row(1, "org/a", None, None));
    let started = Instant::now();
    let error = ledger.close().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        matches!(error, LedgerError::Unflushed { rows: 1, .. }),
        "{error}"
    );
    assert_eq!(ledger.stats().dropped, 1);
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_blocking() {
    let (ledger, rows) = flaky(
        0,
        Duration::from_millis(50),
        LedgerOptions {
            capacity: 4,
            batch_max: 1,
            flush_interval: Duration::ZERO,
            ..fast()
        },
    );
    let recorder = ledger.recorder();
    let started = Instant::now();
    for i in 0..200 {
        recorder.record(row(i, "org/a", None, None));
    }
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "record() must not wait for the writer"
    );
    let stats = ledger.stats();
    assert!(stats.dropped > 0, "{stats:?}");
    assert_eq!(stats.recorded + stats.dropped, 200);
    drop(ledger); // closes and drains what was accepted
    assert_eq!(rows.lock().unwrap().len() as u64, stats.recorded);
}

#[test]
fn a_corrupt_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.sqlite3");
    let garbage = b"this is not a database, but somebody's notes\n".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    let error = Ledger::open(&LedgerSpec::Sqlite(path.clone())).unwrap_err();
    assert!(matches!(error, LedgerError::Corrupt { .. }), "{error}");
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
    assert!(error.hint().unwrap().contains("untouched"));
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["usage.sqlite3"], "no -wal or -shm beside it");
}

#[test]
fn a_foreign_sqlite_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.sqlite3");
    {
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("CREATE TABLE photos (id INTEGER, name TEXT); INSERT INTO photos VALUES (1, 'cat');").unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let error = Ledger::open(&LedgerSpec::Sqlite(path.clone())).unwrap_err();
    assert!(matches!(error, LedgerError::Foreign { .. }), "{error}");
    assert!(error.to_string().contains("photos"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_newer_schema_is_refused() {
    let (_dir, spec) = temp_ledger();
    Ledger::open(&spec).unwrap().close().unwrap();
    let path = sqlite_path(&spec).unwrap();
    {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute(
            "UPDATE hfclaw_meta SET value = '7' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    }
    let error = Ledger::open(&spec).unwrap_err();
    assert!(
        matches!(
            error,
            LedgerError::NewerSchema {
                found: 7,
                supported: SCHEMA_VERSION,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("schema version 7"), "{error}");
}

#[test]
fn sqlite_disk_full_is_a_retryable_backend_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut db =
        sqlite::Sqlite::open(&dir.path().join("u.sqlite3"), Duration::from_millis(10)).unwrap();
    let pages: i64 = db
        .connection()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    db.connection()
        .pragma_update(None, "max_page_count", pages)
        .unwrap();
    let big = Row {
        requested_model: "x".repeat(20_000),
        ..row(1, "org/a", None, None)
    };
    let error = db.insert(&[big.clone(), big]).unwrap_err();
    assert!(error.message.contains("disk is full"), "{}", error.message);
}

#[test]
fn spec_parsing_and_password_redaction() {
    assert_eq!(
        LedgerSpec::parse("postgres://u:secret@db:5432/hfclaw"),
        LedgerSpec::Postgres("postgres://u:secret@db:5432/hfclaw".into())
    );
    assert_eq!(
        LedgerSpec::parse("sqlite:///tmp/u.db"),
        LedgerSpec::Sqlite("/tmp/u.db".into())
    );
    assert_eq!(
        LedgerSpec::parse("./u.db"),
        LedgerSpec::Sqlite("./u.db".into())
    );
    let spec = LedgerSpec::parse("postgresql://u:secret@db/hfclaw?sslmode=disable&password=other");
    let shown = format!("{} {spec:?}", spec.location());
    assert!(
        !shown.contains("secret") && !shown.contains("other"),
        "{shown}"
    );
    assert!(
        shown.contains("postgresql://u:***@db/hfclaw?sslmode=disable&password=***"),
        "{shown}"
    );
    let env = |name: &str| match name {
        "HFCLAW_DATA_DIR" => Some("/data".to_owned()),
        _ => None,
    };
    assert_eq!(
        LedgerSpec::resolve(None, &env).unwrap(),
        LedgerSpec::Sqlite("/data/usage.sqlite3".into())
    );
    let env_url = |name: &str| (name == "HFCLAW_LEDGER_URL").then(|| "postgres://h/db".to_owned());
    assert_eq!(
        LedgerSpec::resolve(None, &env_url).unwrap(),
        LedgerSpec::Postgres("postgres://h/db".into())
    );
    assert_eq!(
        LedgerSpec::resolve(Some("/x.db"), &env_url).unwrap(),
        LedgerSpec::Sqlite("/x.db".into())
    );
    let _ = UNIX_EPOCH;
}

#[test]
fn a_ledger_is_shareable_and_recorders_are_cheap_handles() {
    fn send_sync<T: Send + Sync>() {}
    fn clone<T: Clone>() {}
    send_sync::<Ledger>();
    send_sync::<Recorder>();
    clone::<Recorder>();
}

/// Rows of every kind over three days: keys, APIs, providers, errors, unknown usage,
/// estimated costs (multiples of 1/64 USD, so sums are exact in any order).
fn varied_rows(n: i64) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let provider = [Some("together"), Some("cerebras"), None][(i % 3) as usize];
            let usd = (i % 7 != 0).then(|| (i % 13) as f64 / 64.0);
            let mut r = row(
                i * 17 % (3 * 24 * 60) - 60,
                &format!("org/m{}", i % 4),
                provider,
                usd,
            );
            r.key = [Some("team-a"), Some("team-b"), None, Some("")][(i % 4) as usize]
                .map(str::to_owned);
            r.api = [Api::Chat, Api::Messages, Api::Responses][(i % 5 % 3) as usize];
            if i % 11 == 0 {
                r.outcome = Outcome::error("upstream");
                r.answered_ref = None;
            }
            if i % 11 == 5 {
                r.outcome = Outcome::error(crate::BUDGET_EXCEEDED);
                r.answered_ref = None;
                r.usage = None;
                r.cost = None;
            }
            r
        })
        .collect()
}

/// Totals as a map, to compare the rollup's with the rows'.
fn by_group(rows: Vec<backend::GroupRow>) -> BTreeMap<Option<String>, backend::Sums> {
    rows.into_iter().map(|r| (r.group, r.sums)).collect()
}

use std::collections::BTreeMap;

#[test]
fn a_v1_ledger_is_migrated_and_the_rollup_filled_from_its_rows() {
    let (_dir, spec) = temp_ledger();
    let path = sqlite_path(&spec).unwrap().to_owned();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let rows = varied_rows(500);
    {
        // A ledger as schema v1 made it: only the rows, no rollup.
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        let conn = conn.transaction().unwrap();
        conn.execute_batch(schema::CREATE_META).unwrap();
        let v1 = &schema::MIGRATIONS[0];
        assert_eq!(v1.version, 1);
        conn.execute_batch(&schema::migration_sql(v1, schema::Dialect::Sqlite))
            .unwrap();
        conn.execute(schema::SET_META, [schema::VERSION_KEY, "1"])
            .unwrap();
        insert_as_v1(&conn, &rows);
        conn.commit().unwrap();
    }
    let ledger = Ledger::open(&spec).unwrap();
    let version: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(schema::GET_META, [schema::VERSION_KEY], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION.to_string());
    // Rows written after the migration land in the rollup too.
    ledger
        .recorder()
        .record(row(30, "org/m1", Some("together"), Some(0.5)));
    let periods = [
        (i64::MIN / 2, i64::MAX / 2),
        (unix_ms(at(0)), unix_ms(at(2 * 24 * 60))),
        (unix_ms(at(-1)), unix_ms(at(24 * 60 + 7))),
        (unix_ms(at(90)), unix_ms(at(3 * 24 * 60 - 90))),
    ];
    for (since, until) in periods {
        for by in GroupBy::ALL {
            let raw = ledger
                .ask(move |b| b.request_totals(by, since, until, None))
                .unwrap();
            let via_rollup = ledger
                .ask(move |b| rollup::totals(b, by, since, until, None))
                .unwrap();
            assert_eq!(
                by_group(via_rollup),
                by_group(raw),
                "{by:?} [{since}, {until})"
            );
        }
    }
    let all = ledger
        .totals(GroupBy::Api, at(-24 * 60), at(4 * 24 * 60))
        .unwrap();
    assert_eq!(all.total.requests, 501);
    // Budget refusals, errors before version 4, are counted apart since (45 of 500).
    assert_eq!((all.total.errors, all.total.budget_refusals), (46, 45));
}

/// Inserts rows into a ledger of schema version 1 (its 18 columns): through this build's
/// insert, the newer columns added for it and dropped again.
fn insert_as_v1(conn: &rusqlite::Connection, rows: &[Row]) {
    let newer = ["request_id", "user_id", "tags", "route"];
    for column in newer {
        conn.execute_batch(&format!(
            "ALTER TABLE hfclaw_requests ADD COLUMN {column} TEXT"
        ))
        .unwrap();
    }
    let columns: Vec<schema::Columns> = rows.iter().map(schema::Columns::of).collect();
    sqlite::insert_requests(conn, &columns).unwrap();
    for column in newer {
        conn.execute_batch(&format!("ALTER TABLE hfclaw_requests DROP COLUMN {column}"))
            .unwrap();
    }
}

#[test]
fn keys_are_stored_as_hashes_found_by_label_or_prefix_and_updated() {
    use crate::keys::{KeyRecord, KeySettings, new_secret};
    let (_dir, spec) = temp_ledger();
    let ledger = Ledger::open(&spec).unwrap();
    let secret = new_secret().unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let record = KeyRecord::new("alice", &secret, now, KeySettings::default());
    ledger.add_key(&record).unwrap();
    // The same label, or the same key under another label, is refused.
    let again = KeyRecord::new("alice", "hfk_other", now, KeySettings::default());
    assert!(
        matches!(ledger.add_key(&again), Err(LedgerError::KeyTaken { existing, .. }) if existing == "alice")
    );
    let twin = KeyRecord::new("bob", &secret, now, KeySettings::default());
    let e = ledger.add_key(&twin).unwrap_err();
    assert_eq!(
        e.to_string(),
        "this key is in the ledger already, labelled \"alice\""
    );
    assert_eq!(ledger.find_key(&secret[..12]).unwrap().label, "alice");
    assert!(matches!(
        ledger.find_key("hfk_"),
        Err(LedgerError::NoSuchKey(_))
    ));
    let mut revoked = ledger.find_key("alice").unwrap();
    revoked.settings.revoked_ms = Some(5);
    ledger.update_key(&revoked).unwrap();
    ledger.touch_keys(vec![("alice".into(), 42)]).unwrap();
    ledger.touch_keys(vec![("alice".into(), 41)]).unwrap();
    let keys = ledger.keys().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].settings.revoked_ms, Some(5));
    assert_eq!(keys[0].last_used_ms, Some(42));
    assert_eq!(keys[0].hash, record.hash);
    let mut ghost = record.clone();
    ghost.label = "ghost".into();
    assert!(matches!(
        ledger.update_key(&ghost),
        Err(LedgerError::NoSuchKey(_))
    ));
    let budget = crate::GlobalBudget {
        usd_per_day: Some(3.0),
        usd_per_month: None,
    };
    ledger.set_global_budget(&budget).unwrap();
    assert_eq!(ledger.global_budget().unwrap(), Some(budget));
    ledger.close().unwrap();
    // The key itself is nowhere in the file.
    let crate::LedgerSpec::Sqlite(path) = &spec else {
        unreachable!()
    };
    let bytes = std::fs::read(path).unwrap();
    let wal = std::fs::read(path.with_extension("sqlite3-wal")).unwrap_or_default();
    for data in [bytes, wal] {
        assert!(!data.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
}
