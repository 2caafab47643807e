//! Random ledger rows and periods, and what `Ledger::totals` must answer for them
//! computed directly from the rows in Rust: the oracle of the differential tests that
//! check the rollup-backed totals (SQLite in `rollup.rs`, PostgreSQL in `postgres.rs`).

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use hfclaw_accounting::time::{DAY_MS, day_of, days_from_civil, format_day, from_unix_ms, unix_ms};
use hfclaw_accounting::{
    Api, BUDGET_EXCEEDED, Cost, Counts, GroupBy, Ledger, Outcome, Row, Spend, Tags, Totals, Usage,
};
use proptest::prelude::*;
use proptest::sample::select;

/// 2026-12-01, the day the generated rows are around.
pub fn base_day() -> i64 {
    days_from_civil(2026, 12, 1)
}

/// Times over five days from `base` (day number), often exactly at or next to a
/// midnight, where the rollup's whole days meet the edges read from rows.
fn time_ms(base: i64) -> impl Strategy<Value = i64> {
    let within = prop_oneof![
        Just(0),
        Just(1),
        Just(DAY_MS - 1),
        Just(DAY_MS / 2),
        0..DAY_MS,
        0..DAY_MS,
    ];
    (-1..4i64, within).prop_map(move |(day, ms)| (base + day) * DAY_MS + ms)
}

/// A cost of a multiple of 2^-20 USD: sums of these are exact in any order, so totals
/// from the rollup and from the rows must be equal, not merely close.
fn cost() -> impl Strategy<Value = Option<Cost>> {
    prop_oneof![
        3 => (0u32..(1 << 20), any::<bool>()).prop_map(|(k, estimated)| Some(Cost {
            usd: f64::from(k) / f64::from(1u32 << 20),
            estimated,
        })),
        1 => Just(None),
        // Not finite: stored as unknown.
        1 => Just(Some(Cost { usd: f64::NAN, estimated: true })),
    ]
}

fn text(choices: &'static [Option<&'static str>]) -> impl Strategy<Value = Option<String>> {
    select(choices).prop_map(|c| c.map(str::to_owned))
}

/// The tag sets rows carry.
const TAG_SETS: &[&[(&str, &str)]] = &[
    &[],
    &[("team", "ml")],
    &[("team", "web"), ("env", "ci")],
    &[("env", "ci")],
];

/// One row at a time from `time`: every field `hfclaw usage` groups or sums varies,
/// including empty key labels and providers (read as none), errors and unknown usage.
pub fn row_at(time: impl Strategy<Value = i64>) -> impl Strategy<Value = Row> {
    (
        time,
        select(&[Api::Chat, Api::Messages, Api::Responses][..]),
        text(&[None, Some(""), Some("team-a"), Some("key-0123abcd")]),
        select(&["alias", "org/a"][..]),
        text(&[
            None,
            Some("huggingface/org/a"),
            Some("huggingface/org/b:cheapest"),
            Some(""),
        ]),
        text(&[None, Some(""), Some("together"), Some("cerebras")]),
        select(
            &[
                "ok",
                "ok",
                "ok",
                "upstream",
                "rate_limited",
                "budget_exceeded",
            ][..],
        ),
        proptest::option::of((0u64..200_000, 0u64..20_000)),
        cost(),
        text(&[None, Some("alice"), Some("bob")]),
        text(&[None, Some("claude-*"), Some("claude-*haiku*")]),
        select(TAG_SETS),
    )
        .prop_map(
            |(
                ms,
                api,
                key,
                requested,
                answered,
                provider,
                outcome,
                usage,
                cost,
                user,
                route,
                tags,
            )| Row {
                user,
                route,
                tags: tags.iter().fold(Tags::default(), |mut t, (k, v)| {
                    t.insert(k, v);
                    t
                }),
                request_id: Some(format!("req-{ms}")),
                key,
                answered_ref: answered,
                provider,
                fallback_index: Some(0),
                outcome: Outcome::parse(outcome),
                status: Some(200),
                usage: usage.map(|(input_tokens, output_tokens)| Usage {
                    input_tokens,
                    output_tokens,
                    cached_tokens: None,
                    cache_write_tokens: None,
                }),
                cost,
                ttfb: None,
                total: Duration::from_millis(10),
                streamed: false,
                ..Row::new(from_unix_ms(ms), api, requested)
            },
        )
}

/// Rows around [`base_day`] (or, now and then, around 1970, where days are counted
/// below zero).
pub fn rows(count: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Row>> {
    prop_oneof![
        4 => proptest::collection::vec(row_at(time_ms(base_day())), count.clone()),
        1 => proptest::collection::vec(row_at(time_ms(0)), count),
    ]
}

/// A `--since`/`--until` bound: everything (`0`, far future), a midnight, a random time
/// around the rows, or exactly one of the rows' times (`pick` selects it).
pub fn bound() -> impl Strategy<Value = Bound> {
    prop_oneof![
        Just(Bound::At(0)),
        Just(Bound::At(i64::MAX / 2)),
        (-2..6i64).prop_map(|d| Bound::At((base_day() + d) * DAY_MS)),
        (-2..6i64).prop_map(|d| Bound::At(d * DAY_MS)),
        time_ms(base_day()).prop_map(Bound::At),
        time_ms(0).prop_map(Bound::At),
        any::<prop::sample::Index>().prop_map(Bound::Row),
    ]
}

/// See [`bound`].
#[derive(Debug, Clone)]
pub enum Bound {
    At(i64),
    Row(prop::sample::Index),
}

impl Bound {
    pub fn ms(&self, rows: &[Row]) -> i64 {
        match self {
            Bound::At(ms) => *ms,
            Bound::Row(_) if rows.is_empty() => 0,
            Bound::Row(i) => unix_ms(i.get(rows).time),
        }
    }
}

/// A period `[since, until)` from two bounds (in order; never empty).
pub fn period(rows: &[Row], a: &Bound, b: &Bound) -> (i64, i64) {
    let (a, b) = (a.ms(rows), b.ms(rows));
    if a == b {
        (a, a + 1)
    } else {
        (a.min(b), a.max(b))
    }
}

/// What a row counts under in grouping `by` (an empty key label or provider is none).
fn group_of(row: &Row, by: GroupBy) -> Option<String> {
    let some = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    match by {
        GroupBy::Model => Some(
            row.answered_ref
                .clone()
                .unwrap_or_else(|| row.requested_model.clone()),
        ),
        GroupBy::Provider => some(&row.provider),
        GroupBy::Day => Some(format_day(day_of(unix_ms(row.time)))),
        GroupBy::Key => some(&row.key),
        GroupBy::Api => Some(row.api.as_str().to_owned()),
        GroupBy::User => some(&row.user),
        GroupBy::Route => some(&row.route),
        GroupBy::Tag => row.tags.to_json(),
    }
}

/// Adds one row to `c`, field by field as `hfclaw usage` defines them.
fn count(c: &mut Counts, row: &Row) {
    c.requests += 1;
    let refused = row.outcome.class() == BUDGET_EXCEEDED;
    c.errors += u64::from(!row.outcome.is_ok() && !refused);
    c.budget_refusals += u64::from(refused);
    if let Some(usage) = &row.usage {
        c.input_tokens += usage.input_tokens;
        c.output_tokens += usage.output_tokens;
    }
    let known = row.cost.filter(|cost| cost.usd.is_finite());
    if let Some(cost) = known {
        c.cost_usd += cost.usd;
        if cost.estimated {
            c.estimated_cost_usd += cost.usd;
        }
    }
    c.unpriced_requests += u64::from(row.outcome.is_ok() && known.is_none());
}

fn within(rows: &[Row], since: i64, until: i64) -> impl Iterator<Item = &Row> {
    rows.iter()
        .filter(move |row| (since..until).contains(&unix_ms(row.time)))
}

/// The totals per group of the rows in `[since, until)`, summed one row at a time.
pub fn expected(
    rows: &[Row],
    by: GroupBy,
    since: i64,
    until: i64,
) -> BTreeMap<Option<String>, Counts> {
    let mut groups: BTreeMap<Option<String>, Counts> = BTreeMap::new();
    for row in within(rows, since, until) {
        count(groups.entry(group_of(row, by)).or_default(), row);
    }
    groups
}

/// Checks `totals` against [`expected`]: the same groups with equal counts, sorted as
/// `hfclaw usage` shows them (by day: oldest first; else by cost, highest first), and the
/// total of all the rows in the period.
pub fn check(
    totals: &Totals,
    rows: &[Row],
    by: GroupBy,
    since: i64,
    until: i64,
) -> Result<(), TestCaseError> {
    let context = format!("by {by:?} over [{since}, {until})");
    let want = expected(rows, by, since, until);
    let got: BTreeMap<Option<String>, Counts> = totals
        .groups
        .iter()
        .map(|g| (g.group.clone(), g.counts.clone()))
        .collect();
    prop_assert_eq!(
        got.len(),
        totals.groups.len(),
        "a group twice; {}",
        &context
    );
    prop_assert_eq!(&got, &want, "{}", &context);
    let mut total = Counts::default();
    for row in within(rows, since, until) {
        count(&mut total, row);
    }
    prop_assert_eq!(&totals.total, &total, "total; {}", &context);
    let sorted = totals.groups.windows(2).all(|w| match by {
        GroupBy::Day => w[0].group < w[1].group,
        _ => w[0].counts.cost_usd >= w[1].counts.cost_usd,
    });
    prop_assert!(sorted, "order; {}: {:?}", &context, totals.groups);
    Ok(())
}

/// Checks `Ledger::tag_totals(name)` against the rows: grouped by the tag's value (none
/// for rows without it).
pub fn check_tag(
    totals: &Totals,
    rows: &[Row],
    name: &str,
    since: i64,
    until: i64,
) -> Result<(), TestCaseError> {
    let mut want: BTreeMap<Option<String>, Counts> = BTreeMap::new();
    for row in within(rows, since, until) {
        let group = row.tags.get(name).map(str::to_owned);
        count(want.entry(group).or_default(), row);
    }
    let got: BTreeMap<Option<String>, Counts> = totals
        .groups
        .iter()
        .map(|g| (g.group.clone(), g.counts.clone()))
        .collect();
    prop_assert_eq!(got.len(), totals.groups.len(), "a tag value twice");
    prop_assert_eq!(&got, &want, "by tag {} over [{}, {})", name, since, until);
    Ok(())
}

/// Records `rows` into `ledger` in transactions of `chunk` rows (so the rollup is added
/// to across batches, the same keys again and again).
pub fn record_in_batches(ledger: &Ledger, rows: &[Row], chunk: usize) {
    let recorder = ledger.recorder();
    for batch in rows.chunks(chunk.max(1)) {
        for row in batch {
            recorder.record(row.clone());
        }
        ledger.flush().unwrap();
    }
}

/// Checks every grouping over each period, for [`check`].
pub fn check_periods(
    ledger: &Ledger,
    rows: &[Row],
    periods: &[(Bound, Bound)],
) -> Result<(), TestCaseError> {
    // One key's rows, for the totals of that key only.
    let team_a: Vec<Row> = rows
        .iter()
        .filter(|r| r.key.as_deref() == Some("team-a"))
        .cloned()
        .collect();
    for (a, b) in periods {
        let (since, until) = period(rows, a, b);
        for by in GroupBy::ALL {
            let totals = ledger
                .totals(by, from_unix_ms(since), from_unix_ms(until))
                .unwrap();
            check(&totals, rows, by, since, until)?;
            let one_key = ledger
                .key_totals(by, Some("team-a"), from_unix_ms(since), from_unix_ms(until))
                .unwrap();
            check(&one_key, &team_a, by, since, until)?;
        }
        let by_team = ledger
            .tag_totals("team", None, from_unix_ms(since), from_unix_ms(until))
            .unwrap();
        check_tag(&by_team, rows, "team", since, until)?;
        check_spend(
            &ledger.spend_since(from_unix_ms(since)).unwrap(),
            rows,
            since,
        )?;
    }
    Ok(())
}

/// Checks `Ledger::spend_since(since)` (what budgets are seeded with): the known cost of
/// every row from `since` on, overall and per key label.
pub fn check_spend(spend: &Spend, rows: &[Row], since: i64) -> Result<(), TestCaseError> {
    let mut want = Spend::default();
    for row in within(rows, since, i64::MAX) {
        let Some(usd) = row.cost.map(|c| c.usd).filter(|usd| usd.is_finite()) else {
            continue;
        };
        want.total_usd += usd;
        if let Some(key) = row.key.clone().filter(|k| !k.is_empty()) {
            *want.per_key_usd.entry(key).or_insert(0.0) += usd;
        }
    }
    prop_assert_eq!(spend.total_usd, want.total_usd, "spend since {}", since);
    // A key whose rows have no cost may be listed at $0.
    let costs = |spend: &Spend| -> BTreeMap<String, f64> {
        let listed = spend.per_key_usd.iter().filter(|(_, usd)| **usd != 0.0);
        listed.map(|(k, usd)| (k.clone(), *usd)).collect()
    };
    let (listed, wanted) = (costs(spend), costs(&want));
    prop_assert_eq!(listed, wanted, "spend per key since {}", since);
    Ok(())
}
