//! [`Tally`]: the totals of the rows one process recorded, kept in memory — what a gateway
//! started for one agent run (`hfclaw run`) reports when the agent exits, counted by the
//! rule the ledger's totals use ([`Sums::of`]) and grouped by model as
//! [`super::Ledger::totals`] groups them, so the line reads the same whichever of the two
//! it comes from.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::Totals;
use super::backend::{GroupRow, Sums};
use super::schema::{Columns, GroupBy};
use crate::row::Row;

/// Totals per model of the rows recorded into it (`Send + Sync`: share it behind an
/// `Arc`). One short lock per row.
#[derive(Debug, Default)]
pub struct Tally {
    groups: Mutex<HashMap<String, Sums>>,
}

impl Tally {
    /// Nothing recorded yet.
    pub fn new() -> Tally {
        Tally::default()
    }

    /// Counts `row` under the model that answered it (else the model it asked for), as
    /// the ledger does.
    pub fn record(&self, row: &Row) {
        let columns = Columns::of(row);
        let sums = Sums::of(&columns);
        let model = columns.answered_ref.unwrap_or(columns.requested_model);
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        groups.entry(model).or_default().add(&sums);
    }

    /// The totals by model so far, in [`super::Ledger::totals`]'s order (by cost, highest
    /// first).
    pub fn totals(&self) -> Totals {
        let rows: Vec<GroupRow> = self
            .groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(model, sums)| GroupRow {
                group: Some(model.clone()),
                sums: *sums,
            })
            .collect();
        Totals::of_groups(GroupBy::Model, rows)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::row::Outcome;
    use crate::{Api, Cost, Usage};

    fn row(answered: Option<&str>, tokens: u64, usd: Option<f64>) -> Row {
        let mut row = Row::new(UNIX_EPOCH, Api::Messages, "claude-sonnet-5-5");
        row.answered_ref = answered.map(str::to_owned);
        if answered.is_none() {
            row.outcome = Outcome::error("not_found".to_owned());
        }
        row.usage = answered.map(|_| Usage {
            input_tokens: tokens,
            output_tokens: 1,
            ..Usage::default()
        });
        row.cost = usd.map(|usd| Cost {
            usd,
            estimated: false,
        });
        row
    }

    #[test]
    fn a_tally_counts_rows_as_the_ledger_totals_do() {
        let tally = Tally::new();
        tally.record(&row(Some("huggingface/a/b"), 10, Some(0.5)));
        tally.record(&row(Some("huggingface/a/b"), 20, None));
        tally.record(&row(Some("huggingface/c/d"), 5, Some(1.0)));
        tally.record(&row(None, 0, None));
        let totals = tally.totals();
        let groups: Vec<(&str, u64, u64)> = totals
            .groups
            .iter()
            .map(|g| {
                (
                    g.group.as_deref().unwrap(),
                    g.counts.requests,
                    g.counts.errors,
                )
            })
            .collect();
        // By cost, highest first; a failed request under the name it asked for.
        assert_eq!(
            groups,
            [
                ("huggingface/c/d", 1, 0),
                ("huggingface/a/b", 2, 0),
                ("claude-sonnet-5-5", 1, 1)
            ]
        );
        assert_eq!(totals.total.requests, 4);
        assert_eq!(totals.total.errors, 1);
        assert_eq!(totals.total.input_tokens, 35);
        assert_eq!(totals.total.output_tokens, 3);
        assert!((totals.total.cost_usd - 1.5).abs() < 1e-9);
        assert_eq!(totals.total.unpriced_requests, 1);
    }
}
