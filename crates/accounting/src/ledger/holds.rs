//! Reservations and per-key request counts shared by the replicas of one ledger
//! (`hfclaw_holds`): the SQL both backends run, and the one check-and-reserve they share
//! (see [`crate::shared`] for how a gateway uses it).
//!
//! A row is one admitted request that a budget or a key's rpm/tpm applies to: `usd` is
//! what it holds against the budgets until the request ends (then 0), `started_ms` counts
//! it in its key's requests per minute, `tokens`/`ended_ms` (set when it ends) in its
//! tokens per minute. An open hold lapses at `expires_ms` unless its replica renews it
//! (every [`crate::shared::HEARTBEAT`]), so a crashed replica's holds free themselves;
//! rows are deleted a minute after their request ended (at once for keys without a rate
//! limit).
//!
//! Every statement runs inside [`super::backend::Backend::holds`], a transaction that
//! excludes the other replicas' (SQLite `BEGIN IMMEDIATE`; PostgreSQL `LOCK TABLE … IN
//! SHARE ROW EXCLUSIVE MODE`, which only another reserver or a settle waits for), so a
//! check and its insert are one step.

use super::backend::BackendError;
use crate::budget::{BudgetExceeded, BudgetPeriod, BudgetScope};
use crate::keys::rate::{RateExceeded, WINDOW_MS};
use crate::shared::{Claim, Refused, ViewKey};
use crate::time::{DAY_MS, day_of, from_unix_ms, start_of_month, start_of_next_month};

/// How long an open hold lasts unless its replica renews it.
pub const HOLD_TTL_MS: i64 = 30_000;

// SQLite numbers `$n` parameters in the order they first appear: keep them in order.
const SPEND_ALL: &str = "SELECT CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) \
     FROM hfclaw_daily WHERE day >= $1";
const SPEND_KEY: &str = "SELECT CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) \
     FROM hfclaw_daily WHERE day >= $1 AND key_label = $2";
const HELD_ALL: &str = "SELECT CAST(COALESCE(SUM(usd), 0) AS DOUBLE PRECISION) \
     FROM hfclaw_holds WHERE usd > 0 AND expires_ms > $1";
const HELD_KEY: &str = "SELECT CAST(COALESCE(SUM(usd), 0) AS DOUBLE PRECISION) \
     FROM hfclaw_holds WHERE usd > 0 AND expires_ms > $1 AND key_label = $2";
const REQUESTS: &str = "SELECT CAST(COUNT(*) AS DOUBLE PRECISION), \
     CAST(MIN(started_ms) AS DOUBLE PRECISION) \
     FROM hfclaw_holds WHERE key_label = $1 AND started_ms > $2";
const TOKENS: &str = "SELECT CAST(COALESCE(SUM(tokens), 0) AS DOUBLE PRECISION), \
     CAST(MIN(ended_ms) AS DOUBLE PRECISION) \
     FROM hfclaw_holds WHERE key_label = $1 AND ended_ms > $2";
const INSERT: &str = "INSERT INTO hfclaw_holds \
     (replica, seq, key_label, usd, started_ms, expires_ms, ended_ms, tokens) \
     VALUES ($1, $2, $3, $4, $5, $6, NULL, 0)";
const END_KEEP: &str = "UPDATE hfclaw_holds SET usd = 0, ended_ms = $1, tokens = $2 \
     WHERE replica = $3 AND seq = $4";
const END_DROP: &str = "DELETE FROM hfclaw_holds WHERE replica = $1 AND seq = $2";
const RENEW: &str = "UPDATE hfclaw_holds SET expires_ms = $1 \
     WHERE replica = $2 AND usd > 0 AND seq >= $3";
const PRUNE: &str = "DELETE FROM hfclaw_holds WHERE started_ms <= $1 \
     AND (ended_ms IS NULL OR ended_ms <= $1) AND (usd = 0 OR expires_ms <= $1)";

/// A statement parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Int(i64),
    Real(f64),
    Text(&'a str),
}

/// What the check needs of a database transaction.
pub(crate) trait HoldTx {
    /// The first row of a query, its columns as numbers (NULL: `None`).
    fn numbers(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Option<f64>>, BackendError>;
    /// Runs a statement; the rows it changed.
    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, BackendError>;
}

fn first(
    tx: &mut dyn HoldTx,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<(f64, Option<f64>), BackendError> {
    let row = tx.numbers(sql, args)?;
    Ok((
        row.first().copied().flatten().unwrap_or(0.0),
        row.get(1).copied().flatten(),
    ))
}

/// One request to check or record.
#[derive(Debug)]
pub(crate) struct HoldOp<'a> {
    pub(crate) replica: &'a str,
    pub(crate) seq: i64,
    pub(crate) claim: &'a Claim,
    pub(crate) now_ms: i64,
    /// Refused when it does not fit (else recorded whatever the totals: a request the
    /// replica already let through).
    pub(crate) verify: bool,
}

/// What a check found: the refusal (only when verifying), and the totals it read, its
/// own request included when it was recorded.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub(crate) refused: Option<Refused>,
    pub(crate) view: Vec<(ViewKey, f64)>,
}

/// The first UTC day of `period` at `now_ms`.
pub(crate) fn period_start_day(period: BudgetPeriod, now_ms: i64) -> i64 {
    match period {
        BudgetPeriod::Day => day_of(now_ms),
        BudgetPeriod::Month => day_of(start_of_month(now_ms)),
    }
}

fn resets_at(period: BudgetPeriod, now_ms: i64) -> i64 {
    match period {
        BudgetPeriod::Day => (day_of(now_ms) + 1) * DAY_MS,
        BudgetPeriod::Month => start_of_next_month(start_of_month(now_ms)),
    }
}

fn retry_after_secs(oldest: Option<f64>, now_ms: i64) -> u64 {
    let oldest = oldest.map_or(now_ms, |ms| ms as i64);
    u64::try_from((oldest + WINDOW_MS - now_ms).max(1_000) / 1_000).unwrap_or(1)
}

/// Checks `op` against the database's spend, every replica's open holds and its key's
/// requests and tokens of the last minute, and records it unless it was refused.
pub(crate) fn check(tx: &mut dyn HoldTx, op: &HoldOp<'_>) -> Result<Checked, BackendError> {
    let claim = op.claim;
    let now = op.now_ms;
    let label = claim.key.as_deref().unwrap_or("");
    let mut out = Checked::default();
    let mut refused = None;
    // What a scope holds is the same for its day and its month: read once.
    let mut held_of: Vec<(&BudgetScope, f64)> = Vec::new();
    for b in &claim.budgets {
        let start_day = period_start_day(b.period, now);
        let spent = match &b.scope {
            BudgetScope::Global => first(tx, SPEND_ALL, &[Arg::Int(start_day)])?.0,
            BudgetScope::Key(key) => {
                first(tx, SPEND_KEY, &[Arg::Int(start_day), Arg::Text(key)])?.0
            }
        };
        let held = match held_of.iter().find(|(scope, _)| *scope == &b.scope) {
            Some((_, held)) => *held,
            None => {
                let held = match &b.scope {
                    BudgetScope::Global => first(tx, HELD_ALL, &[Arg::Int(now)])?.0,
                    BudgetScope::Key(key) => {
                        first(tx, HELD_KEY, &[Arg::Int(now), Arg::Text(key)])?.0
                    }
                };
                held_of.push((&b.scope, held));
                held
            }
        };
        let committed = spent + held;
        if refused.is_none() && (committed >= b.limit || committed + claim.usd > b.limit) {
            refused = Some(Refused::Budget(BudgetExceeded {
                which: b.scope.clone(),
                period: b.period,
                limit: b.limit,
                spent,
                reserved: held,
                asked: claim.usd,
                resets_at: from_unix_ms(resets_at(b.period, now)),
            }));
        }
        out.view.push((
            ViewKey::Budget(b.scope.clone(), b.period, start_day),
            committed,
        ));
    }
    if let (Some(rpm), Some(key)) = (claim.rpm, &claim.key) {
        let (count, oldest) = first(tx, REQUESTS, &[Arg::Text(key), Arg::Int(now - WINDOW_MS)])?;
        if refused.is_none() && count >= f64::from(rpm) {
            refused = Some(Refused::Rate(RateExceeded {
                label: key.clone(),
                unit: "requests",
                limit: u64::from(rpm),
                retry_after_secs: retry_after_secs(oldest, now),
            }));
        }
        out.view.push((ViewKey::Requests(key.clone()), count));
    }
    if let (Some(tpm), Some(key)) = (claim.tpm, &claim.key) {
        let (tokens, oldest) = first(tx, TOKENS, &[Arg::Text(key), Arg::Int(now - WINDOW_MS)])?;
        if refused.is_none() && tokens >= tpm as f64 {
            refused = Some(Refused::Rate(RateExceeded {
                label: key.clone(),
                unit: "tokens",
                limit: tpm,
                retry_after_secs: retry_after_secs(oldest, now),
            }));
        }
        out.view.push((ViewKey::Tokens(key.clone()), tokens));
    }
    if refused.is_some() && op.verify {
        out.refused = refused;
        return Ok(out);
    }
    tx.execute(
        INSERT,
        &[
            Arg::Text(op.replica),
            Arg::Int(op.seq),
            Arg::Text(label),
            Arg::Real(claim.usd),
            Arg::Int(now),
            Arg::Int(now + HOLD_TTL_MS),
        ],
    )?;
    for (key, value) in &mut out.view {
        match key {
            ViewKey::Budget(..) => *value += claim.usd,
            ViewKey::Requests(_) => *value += 1.0,
            ViewKey::Tokens(_) => {}
        }
    }
    Ok(out)
}

/// The end of a request that held a row: its tokens count for its key's tokens per
/// minute; `keep` (the key has a rate limit) keeps the row for a minute.
#[derive(Debug, Clone)]
pub struct HoldEnd {
    pub(crate) replica: std::sync::Arc<str>,
    pub(crate) seq: i64,
    pub(crate) ended_ms: i64,
    pub(crate) tokens: u64,
    pub(crate) keep: bool,
}

/// Ends holds (after the rows of their requests were written: their cost is spend now).
pub(crate) fn end(tx: &mut dyn HoldTx, ends: &[HoldEnd]) -> Result<(), BackendError> {
    for e in ends {
        if e.keep {
            let tokens = i64::try_from(e.tokens).unwrap_or(i64::MAX);
            tx.execute(
                END_KEEP,
                &[
                    Arg::Int(e.ended_ms),
                    Arg::Int(tokens),
                    Arg::Text(&e.replica),
                    Arg::Int(e.seq),
                ],
            )?;
        } else {
            tx.execute(END_DROP, &[Arg::Text(&e.replica), Arg::Int(e.seq)])?;
        }
    }
    Ok(())
}

/// Renews this replica's open holds from `oldest_open` on (older ones it no longer has
/// are left to lapse) and deletes rows nobody counts any more.
pub(crate) fn renew(
    tx: &mut dyn HoldTx,
    replica: &str,
    oldest_open: i64,
    now_ms: i64,
) -> Result<(), BackendError> {
    tx.execute(
        RENEW,
        &[
            Arg::Int(now_ms + HOLD_TTL_MS),
            Arg::Text(replica),
            Arg::Int(oldest_open),
        ],
    )?;
    tx.execute(PRUNE, &[Arg::Int(now_ms - WINDOW_MS)])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::ledger::backend::Backend;
    use crate::shared::BudgetLimit;

    fn check_at(db: &mut dyn Backend, claim: &Claim, seq: i64, now_ms: i64) -> Checked {
        let mut out = None;
        db.holds(&mut |tx| {
            out = Some(check(
                tx,
                &HoldOp {
                    replica: "r1",
                    seq,
                    claim,
                    now_ms,
                    verify: true,
                },
            )?);
            Ok(())
        })
        .unwrap();
        out.unwrap()
    }

    #[test]
    fn holds_lapse_and_requests_leave_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = super::super::sqlite::Sqlite::open(
            &dir.path().join("l.sqlite3"),
            std::time::Duration::from_millis(500),
        )
        .unwrap();
        let claim = Claim {
            key: Some("k".into()),
            usd: 0.6,
            budgets: vec![BudgetLimit {
                scope: BudgetScope::Key("k".into()),
                period: BudgetPeriod::Month,
                limit: 1.0,
            }],
            rpm: Some(1),
            tpm: None,
        };
        let t = 1_796_000_000_000;
        let first = check_at(&mut db, &claim, 1, t);
        assert!(first.refused.is_none());
        assert!(
            first
                .view
                .iter()
                .any(|(k, v)| *k == ViewKey::Requests("k".into()) && *v == 1.0)
        );
        // Held: the budget refuses first.
        let second = check_at(&mut db, &claim, 2, t + 1_000);
        assert!(
            matches!(second.refused, Some(Refused::Budget(_))),
            "{second:?}"
        );
        // The hold lapsed (its replica stopped renewing it), the request still counts.
        let third = check_at(&mut db, &claim, 3, t + HOLD_TTL_MS + 1);
        match third.refused {
            Some(Refused::Rate(e)) => assert_eq!(e.retry_after_secs, 29),
            other => panic!("{other:?}"),
        }
        // A minute on, both are gone; the renewal's sweep deletes the old row.
        let fourth = check_at(&mut db, &claim, 4, t + WINDOW_MS + 1);
        assert!(fourth.refused.is_none(), "{fourth:?}");
        db.holds(&mut |tx| renew(tx, "r1", i64::MAX, t + 3 * WINDOW_MS))
            .unwrap();
        let count = db.holds(&mut |tx| {
            let (n, _) = first_row(tx)?;
            assert_eq!(n, 0.0);
            Ok(())
        });
        assert!(count.is_ok());
    }

    fn first_row(tx: &mut dyn HoldTx) -> Result<(f64, Option<f64>), BackendError> {
        first(
            tx,
            "SELECT CAST(COUNT(*) AS DOUBLE PRECISION) FROM hfclaw_holds",
            &[],
        )
    }
}
