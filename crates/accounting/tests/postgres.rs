//! The PostgreSQL ledger against a real server. `cargo xtask ci` starts one and runs these
//! with `--ignored`, the URL in `HFCLAW_TEST_POSTGRES_URL`; plain `cargo test` lists them
//! as ignored (never as passed).

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use hfclaw_accounting::time::{DAY_MS, days_from_civil, from_unix_ms};
use hfclaw_accounting::{
    Api, BudgetConfig, Cost, GroupBy, Ledger, LedgerError, LedgerOptions, LedgerSpec, Outcome, Row,
    SCHEMA_VERSION, Tags, Usage,
};

const NEEDS: &str = "needs a PostgreSQL server: run through `cargo xtask ci`";

/// A fresh database on the test server, as a ledger spec.
fn fresh_database() -> LedgerSpec {
    static N: AtomicUsize = AtomicUsize::new(0);
    let url = std::env::var("HFCLAW_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| panic!("HFCLAW_TEST_POSTGRES_URL is not set: {NEEDS}"));
    let name = format!(
        "hfclaw_test_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    // One statement per call: (CREATE|DROP) DATABASE refuses to run in a transaction.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    LedgerSpec::parse(&format!("{base}/{name}"))
}

fn at(minute: i64) -> SystemTime {
    from_unix_ms(days_from_civil(2026, 12, 1) * DAY_MS + minute * 60_000)
}

fn row(minute: i64, model: &str, key: &str, usd: Option<f64>) -> Row {
    Row {
        key: Some(key.to_owned()),
        answered_ref: Some(format!("huggingface/{model}")),
        provider: Some("together".into()),
        fallback_index: Some(1),
        status: Some(200),
        usage: usd.map(|_| Usage {
            input_tokens: 1_000,
            output_tokens: 250,
            cached_tokens: Some(200),
            cache_write_tokens: Some(3),
        }),
        cost: usd.map(|usd| Cost {
            usd,
            estimated: false,
        }),
        ttfb: Some(Duration::from_millis(80)),
        total: Duration::from_millis(1_500),
        streamed: true,
        request_id: Some(format!("req-{minute}")),
        user: Some(format!("user-of-{key}")),
        tags: Tags::from([("team", key), ("env", "prod")]),
        route: Some("claude-*".into()),
        ..Row::new(at(minute), Api::Responses, model)
    }
}

#[test]
#[ignore = "needs a PostgreSQL server: run through `cargo xtask ci`"]
fn postgres_ledger_matches_sqlite_row_for_row() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Ledger::open(&LedgerSpec::Sqlite(dir.path().join("u.sqlite3"))).unwrap();
    let postgres = Ledger::open(&fresh_database()).unwrap();
    let rows = [
        row(1, "org/a", "team-a", Some(0.5)),
        row(2, "org/b", "team-b", Some(1.25)),
        Row {
            outcome: Outcome::error("upstream"),
            status: Some(502),
            answered_ref: None,
            provider: None,
            fallback_index: None,
            key: None,
            api: Api::Messages,
            streamed: false,
            ttfb: None,
            ..row(3, "alias", "x", None)
        },
        row(60 * 24 + 1, "org/a", "team-a", Some(2.0)),
    ];
    for ledger in [&sqlite, &postgres] {
        for r in &rows {
            ledger.recorder().record(r.clone());
        }
        ledger.flush().unwrap();
    }
    assert_eq!(postgres.recent(10).unwrap(), sqlite.recent(10).unwrap());
    assert_eq!(postgres.recent(10).unwrap()[3], rows[0]);
    for by in GroupBy::ALL {
        assert_eq!(
            postgres.totals(by, at(0), at(60 * 48)).unwrap(),
            sqlite.totals(by, at(0), at(60 * 48)).unwrap(),
            "{by:?}"
        );
    }
    let by_team = postgres
        .tag_totals("team", None, at(0), at(60 * 48))
        .unwrap();
    assert_eq!(
        by_team,
        sqlite.tag_totals("team", None, at(0), at(60 * 48)).unwrap()
    );
    // One key's requests only, from the rollup and the rows alike.
    for by in GroupBy::ALL {
        let one = postgres
            .key_totals(by, Some("team-a"), at(0), at(60 * 48))
            .unwrap();
        assert_eq!(
            one,
            sqlite
                .key_totals(by, Some("team-a"), at(0), at(60 * 48))
                .unwrap(),
            "{by:?}"
        );
        assert_eq!(one.total.requests, 2, "{by:?}");
    }
    let teams: Vec<Option<&str>> = by_team.groups.iter().map(|g| g.group.as_deref()).collect();
    assert_eq!(teams, [Some("team-a"), Some("team-b"), Some("x")]);
    let spend = postgres.spend_since(at(0)).unwrap();
    assert_eq!(spend, sqlite.spend_since(at(0)).unwrap());
    assert_eq!(spend.total_usd, 3.75);
    let budgets = BudgetConfig {
        usd_per_day: Some(10.0),
        ..BudgetConfig::default()
    };
    postgres.set_budgets(&budgets).unwrap();
    assert_eq!(postgres.budgets().unwrap(), Some(budgets));
}

#[test]
#[ignore = "needs a PostgreSQL server: run through `cargo xtask ci`"]
fn two_ledgers_write_the_same_postgres_at_once() {
    let spec = fresh_database();
    // Two "replicas" opening (and so migrating) at the same moment, then writing at once.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Ledger::open(&spec).unwrap());
        let b = s.spawn(|| Ledger::open(&spec).unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    std::thread::scope(|s| {
        for (ledger, key) in [(&a, "replica-a"), (&b, "replica-b")] {
            let recorder = ledger.recorder();
            s.spawn(move || {
                for i in 0..1_500 {
                    recorder.record(row(i % 1_000, "org/a", key, Some(0.001)));
                }
            });
        }
    });
    a.close().unwrap();
    b.close().unwrap();
    let check = Ledger::open(&spec).unwrap();
    let totals = check.totals(GroupBy::Key, at(0), at(60 * 24)).unwrap();
    let per_key: Vec<(Option<&str>, u64)> = totals
        .groups
        .iter()
        .map(|g| (g.group.as_deref(), g.counts.requests))
        .collect();
    assert_eq!(
        per_key,
        [(Some("replica-a"), 1_500), (Some("replica-b"), 1_500)]
    );
    let spend = check.spend_since(at(0)).unwrap();
    assert!((spend.total_usd - 3.0).abs() < 1e-9, "{spend:?}");
}

#[test]
#[ignore = "needs a PostgreSQL server: run through `cargo xtask ci`"]
fn a_lost_connection_is_reopened_and_no_row_is_lost() {
    let spec = fresh_database();
    let LedgerSpec::Postgres(url) = &spec else {
        unreachable!()
    };
    let options = LedgerOptions {
        flush_interval: Duration::from_millis(20),
        close_timeout: Duration::from_secs(10),
        ..LedgerOptions::default()
    };
    let ledger = Ledger::open_with(&spec, options).unwrap();
    ledger.recorder().record(row(1, "org/a", "k", Some(0.1)));
    ledger.flush().unwrap();
    let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'hfclaw' AND datname = current_database()",
            &[],
        )
        .unwrap();
    for i in 2..12 {
        ledger.recorder().record(row(i, "org/a", "k", Some(0.1)));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while ledger.stats().written < 11 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let stats = ledger.stats();
    assert_eq!((stats.written, stats.dropped), (11, 0), "{stats:?}");
    assert!(
        stats.write_failures >= 1,
        "the killed connection made a write fail: {stats:?}"
    );
    assert_eq!(ledger.recent(100).unwrap().len(), 11);
}

#[test]
#[ignore = "needs a PostgreSQL server: run through `cargo xtask ci`"]
fn a_newer_postgres_schema_is_refused() {
    let spec = fresh_database();
    Ledger::open(&spec).unwrap().close().unwrap();
    let LedgerSpec::Postgres(url) = &spec else {
        unreachable!()
    };
    let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
    admin
        .execute(
            "UPDATE hfclaw_meta SET value = $1 WHERE key = 'schema_version'",
            &[&(SCHEMA_VERSION + 1).to_string()],
        )
        .unwrap();
    let error = Ledger::open(&spec).unwrap_err();
    assert!(matches!(error, LedgerError::NewerSchema { .. }), "{error}");
}

#[test]
#[ignore = "needs a PostgreSQL server: run through `cargo xtask ci`"]
fn an_unreachable_server_is_an_open_error_without_the_password() {
    let spec = LedgerSpec::parse("postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2");
    let error = Ledger::open(&spec).unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(matches!(error, LedgerError::Open { .. }), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
#[ignore = "needs a PostgreSQL server: run through `cargo xtask ci`"]
fn postgres_rollup_totals_equal_totals_of_the_rows() {
    use proptest::test_runner::{Config, TestRunner};
    // Few cases (each is a fresh database), many periods each.
    let mut runner = TestRunner::new(Config {
        cases: 6,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        support::rows(0..300),
        1usize..80,
        proptest::collection::vec((support::bound(), support::bound()), 30),
    );
    runner
        .run(&strategy, |(rows, chunk, periods)| {
            let ledger = Ledger::open(&fresh_database()).unwrap();
            support::record_in_batches(&ledger, &rows, chunk);
            let everything = (support::Bound::At(0), support::Bound::At(i64::MAX / 2));
            support::check_periods(&ledger, &rows, &[&periods[..], &[everything]].concat())?;
            ledger.close().unwrap();
            Ok(())
        })
        .unwrap();
}

#[test]
#[ignore = "needs a PostgreSQL server: run through `cargo xtask ci`"]
fn a_v1_postgres_ledger_gets_its_rollup_from_its_rows() {
    use proptest::strategy::{Strategy, ValueTree};
    let spec = fresh_database();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let rows = support::rows(300..400)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let ledger = Ledger::open(&spec).unwrap();
    support::record_in_batches(&ledger, &rows, 50);
    ledger.close().unwrap();
    // Schema v1 is the current one without the rollup table (v2), the keys (v3) and the
    // shared holds (v4) and the attribution columns (v5); the rows' budget refusals then
    // count as errors until v5.
    let LedgerSpec::Postgres(url) = &spec else {
        unreachable!()
    };
    let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "DROP TABLE hfclaw_daily; DROP TABLE hfclaw_keys; DROP TABLE hfclaw_holds; \
             ALTER TABLE hfclaw_requests DROP COLUMN request_id, DROP COLUMN user_id, \
             DROP COLUMN tags, DROP COLUMN route; \
             UPDATE hfclaw_meta SET value = '1' WHERE key = 'schema_version'",
        )
        .unwrap();
    let migrated = Ledger::open(&spec).unwrap();
    let version: String = admin
        .query_one(
            "SELECT value FROM hfclaw_meta WHERE key = 'schema_version'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(version, SCHEMA_VERSION.to_string());
    let periods = [
        (support::Bound::At(0), support::Bound::At(i64::MAX / 2)),
        (
            support::Bound::At(support::base_day() * DAY_MS),
            support::Bound::At((support::base_day() + 2) * DAY_MS + 5),
        ),
    ];
    // A v1 ledger knew no user, tags or route: its rows have none after the migration.
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|r| Row {
            request_id: None,
            user: None,
            tags: Tags::default(),
            route: None,
            ..r
        })
        .collect();
    support::check_periods(&migrated, &rows, &periods).unwrap();
}
