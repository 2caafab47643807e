//! Differential test of `hfclaw usage`'s totals on SQLite: whole days come from the daily
//! rollup the writer maintains, edge days from the rows; for random rows written in
//! random batches and random `--since`/`--until`, every grouping and every field must
//! equal the totals summed directly from the rows (`support::expected`). The same check
//! runs on PostgreSQL in `postgres.rs`.

#![allow(clippy::unwrap_used)]

mod support;

use hfclaw_accounting::{Ledger, LedgerSpec};
use proptest::prelude::*;
use support::{Bound, bound, check_periods, record_in_batches, rows};

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn rollup_totals_equal_totals_of_the_rows(
        rows in rows(0..160),
        chunk in 1usize..60,
        periods in proptest::collection::vec((bound(), bound()), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&LedgerSpec::Sqlite(dir.path().join("u.sqlite3"))).unwrap();
        record_in_batches(&ledger, &rows, chunk);
        let everything = (Bound::At(0), Bound::At(i64::MAX / 2));
        check_periods(&ledger, &rows, &[&periods[..], &[everything]].concat())?;
        ledger.close().unwrap();
    }
}
