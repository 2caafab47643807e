//! The daily rollup: totals per UTC day, API, key label, model and provider, so that
//! `hfclaw usage` over a million rows reads a few thousand.
//!
//! The writer adds each batch's totals ([`daily_deltas`]) in the transaction that inserts
//! its rows, so the rollup always holds exactly the committed rows. [`totals`] reads the
//! whole UTC days of a period from the rollup and only the partial days at its edges (a
//! `--since`/`--until` inside a day) from the rows, through the index on time; the two
//! parts never overlap, and their groups are added up.

use std::collections::BTreeMap;
use std::collections::HashMap;

use super::backend::{Backend, BackendError, GroupRow, Sums};
use super::schema::{Columns, GroupBy};
use crate::time::{DAY_MS, day_of};

/// A rollup row's key, borrowed from the batch's columns; `""` for no key label or
/// provider. Ordered, so that every writer updates rollup rows in the same order (two
/// PostgreSQL replicas then wait for each other instead of deadlocking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DailyKey<'a> {
    pub(crate) day: i64,
    pub(crate) api: &'a str,
    pub(crate) key_label: &'a str,
    pub(crate) model: &'a str,
    pub(crate) provider: &'a str,
}

/// A batch's rows summed per rollup key, in key order.
pub(crate) fn daily_deltas(rows: &[Columns]) -> BTreeMap<DailyKey<'_>, Sums> {
    let mut deltas: BTreeMap<DailyKey<'_>, Sums> = BTreeMap::new();
    for c in rows {
        let key = DailyKey {
            day: day_of(c.ts_ms),
            api: &c.api,
            key_label: c.key_label.as_deref().unwrap_or(""),
            model: c.answered_ref.as_deref().unwrap_or(&c.requested_model),
            provider: c.provider.as_deref().unwrap_or(""),
        };
        deltas.entry(key).or_default().add(&Sums::of(c));
    }
    deltas
}

/// The UTC days wholly inside `[since, until)` (Unix ms), as `[first, end)` day numbers;
/// `None` when the period holds no whole day.
fn whole_days(since: i64, until: i64) -> Option<(i64, i64)> {
    let first = day_of(since) + i64::from(since.rem_euclid(DAY_MS) != 0);
    let end = day_of(until);
    (first < end).then_some((first, end))
}

/// Totals per group over `[since, until)` (Unix ms; of the client key `key` only, when
/// given), unsorted: whole days from the
/// rollup, the partial days at the edges from the rows (everything from the rows for a
/// grouping the rollup does not hold: user, route, tags).
pub(crate) fn totals(
    backend: &mut dyn Backend,
    by: GroupBy,
    since: i64,
    until: i64,
    key: Option<&str>,
) -> Result<Vec<GroupRow>, BackendError> {
    let whole = whole_days(since, until).filter(|_| by.in_rollup());
    let Some((first, end)) = whole else {
        return backend.request_totals(by, since, until, key);
    };
    let mut groups = Groups::default();
    groups.add(backend.daily_totals(by, first, end, key)?);
    // `first * DAY_MS` and `end * DAY_MS` lie within `[since, until]`: no overflow.
    let (whole_start, whole_end) = (first * DAY_MS, end * DAY_MS);
    if since < whole_start {
        groups.add(backend.request_totals(by, since, whole_start, key)?);
    }
    if whole_end < until {
        groups.add(backend.request_totals(by, whole_end, until, key)?);
    }
    Ok(groups.rows)
}

/// Group rows added up by group value.
#[derive(Default)]
pub(crate) struct Groups {
    pub(crate) rows: Vec<GroupRow>,
    index: HashMap<Option<String>, usize>,
}

impl Groups {
    pub(crate) fn add(&mut self, rows: Vec<GroupRow>) {
        for row in rows {
            match self.index.get(&row.group) {
                Some(&i) => self.rows[i].sums.add(&row.sums),
                None => {
                    self.index.insert(row.group.clone(), self.rows.len());
                    self.rows.push(row);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: i64 = DAY_MS;

    #[test]
    fn whole_days_are_the_days_wholly_inside_the_period() {
        assert_eq!(whole_days(0, 3 * D), Some((0, 3)));
        assert_eq!(whole_days(1, 3 * D), Some((1, 3)));
        assert_eq!(whole_days(1, 3 * D - 1), Some((1, 2)));
        assert_eq!(whole_days(1, 2 * D - 1), None, "no whole day inside");
        assert_eq!(whole_days(D, 2 * D), Some((1, 2)));
        assert_eq!(whole_days(-D - 1, 1), Some((-1, 0)), "before 1970");
        assert!(whole_days(i64::MIN, i64::MAX).is_some());
        assert_eq!(whole_days(5, 5), None);
    }

    #[test]
    fn a_batch_is_summed_per_day_api_key_model_and_provider() {
        let row = |ts_ms: i64,
                   answered: Option<&str>,
                   provider: Option<&str>,
                   cost: Option<f64>| Columns {
            ts_ms,
            api: "chat".into(),
            key_label: None,
            requested_model: "alias".into(),
            answered_ref: answered.map(str::to_owned),
            provider: provider.map(str::to_owned),
            fallback_index: None,
            outcome: if answered.is_some() { "ok" } else { "upstream" }.into(),
            http_status: None,
            input_tokens: cost.map(|_| 10),
            output_tokens: cost.map(|_| 2),
            cached_tokens: None,
            cache_write_tokens: None,
            cost_usd: cost,
            cost_estimated: i32::from(provider.is_none()),
            ttfb_ms: None,
            total_ms: 0,
            streamed: 0,
            request_id: None,
            user_id: None,
            tags: None,
            route: None,
        };
        let rows = [
            row(5, Some("m"), Some("p"), Some(0.5)),
            row(6, Some("m"), Some("p"), Some(0.25)),
            row(7, Some("m"), None, Some(1.0)),
            row(8, None, None, None),
            row(9, Some("m"), Some("p"), None),
            row(D + 1, Some("m"), Some("p"), Some(2.0)),
        ];
        let deltas: Vec<_> = daily_deltas(&rows).into_iter().collect();
        let key = |day, model, provider| DailyKey {
            day,
            api: "chat",
            key_label: "",
            model,
            provider,
        };
        let counts =
            |requests, errors, input_tokens, cost_usd, estimated_cost_usd, unpriced| Sums {
                requests,
                errors,
                input_tokens,
                output_tokens: input_tokens / 5,
                cost_usd,
                estimated_cost_usd,
                unpriced,
                budget_refusals: 0,
            };
        assert_eq!(
            deltas,
            [
                (key(0, "alias", ""), counts(1, 1, 0, 0.0, 0.0, 0)),
                (key(0, "m", ""), counts(1, 0, 10, 1.0, 1.0, 0)),
                (key(0, "m", "p"), counts(3, 0, 20, 0.75, 0.0, 1)),
                (key(1, "m", "p"), counts(1, 0, 10, 2.0, 0.0, 0)),
            ]
        );
    }
}
