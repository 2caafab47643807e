//! `hfclaw usage`: what requests cost, from the usage ledger, per model, provider, day,
//! key or API, with the budgets the gateway runs with (stored in the ledger's meta table
//! by `hfclaw serve`).

use std::time::SystemTime;

use hfclaw_accounting::time::{
    ACCEPTED_TIME_FORMS, format_minute, from_unix_ms, parse_time, unix_ms,
};
use hfclaw_accounting::{
    BudgetPeriod, BudgetScope, Budgets, Counts, GroupBy, Ledger, REJECTED_MODEL, Totals, format_usd,
};
use hfclaw_catalog::display::thousands;
use serde_json::{Map, Value, json};

use crate::args::{UsageArgs, UsageBy};
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::output::{print_data, table_text};

/// Runs `usage`.
pub fn run(ctx: &Context, args: &UsageArgs) -> CliResult {
    let now = unix_ms(SystemTime::now());
    let since = match &args.since {
        Some(text) => time_arg("--since", text, now)?,
        None => 0,
    };
    let until = match &args.until {
        Some(text) => time_arg("--until", text, now)?,
        // Rows are stamped when a request starts; any later stamp is a clock skew, keep it.
        None => i64::MAX / 2,
    };
    if since >= until {
        return Err(CliError::input(format!(
            "--since ({}) is not before --until ({})",
            format_minute(since),
            format_minute(until)
        )));
    }
    let by = group_by(args.by);
    let spec = crate::ledger::spec_at(&args.ledger)?;
    if spec.is_missing_file() {
        return empty(
            ctx,
            args,
            &format!("no usage recorded yet ({} does not exist)", spec.location()),
        );
    }
    let ledger = crate::ledger::open(&spec)?;
    let totals = ledger.totals(by, from_unix_ms(since), from_unix_ms(until))?;
    let budgets = budget_lines(&ledger, now)?;
    if totals.groups.is_empty() {
        empty(
            ctx,
            args,
            &format!(
                "no usage recorded in this period (ledger: {})",
                ledger.location()
            ),
        )?;
    } else if args.json {
        let json = serde_json::to_string_pretty(&json_rows(&totals))
            .map_err(|e| CliError::runtime(format!("encoding JSON: {e}")))?;
        print_data(&format!("{json}\n"))?;
    } else {
        print_data(&format!("{}\n", table(&totals)))?;
        if let Some(rejected) = totals
            .groups
            .iter()
            .find(|g| g.group.as_deref() == Some(REJECTED_MODEL))
        {
            ctx.messages.note(format!(
                "{REJECTED_MODEL}: {} request(s) the gateway refused before a model was chosen \
                 (bad JSON, too large, an invalid body, overloaded); counted under no model",
                thousands(rejected.counts.requests)
            ));
        }
        if totals.total.unpriced_requests > 0 {
            ctx.messages.note(format!(
                "{} answered request(s) have no cost: the answer reported no usage, or no price is known for the model",
                totals.total.unpriced_requests
            ));
        }
    }
    // Budget status is data in the table view; beside a JSON array it goes to stderr.
    for line in budgets {
        if args.json || totals.groups.is_empty() {
            ctx.messages.note(line);
        } else {
            print_data(&format!("{line}\n"))?;
        }
    }
    ledger.close()?;
    Ok(())
}

fn empty(ctx: &Context, args: &UsageArgs, note: &str) -> CliResult {
    ctx.messages.note(note);
    if args.json {
        print_data("[]\n")?;
    }
    Ok(())
}

fn time_arg(flag: &str, text: &str, now: i64) -> CliResult<i64> {
    parse_time(text, now).ok_or_else(|| {
        CliError::input(format!("invalid {flag} {text:?}"))
            .hint(format!("accepted: {ACCEPTED_TIME_FORMS}"))
    })
}

fn group_by(by: UsageBy) -> GroupBy {
    match by {
        UsageBy::Model => GroupBy::Model,
        UsageBy::Provider => GroupBy::Provider,
        UsageBy::Day => GroupBy::Day,
        UsageBy::Key => GroupBy::Key,
        UsageBy::Api => GroupBy::Api,
    }
}

/// `budget: $1.20 of $5.00 per UTC day used (24%); resets 2026-12-02 00:00 UTC`, one
/// line per budget the gateway stored.
fn budget_lines(ledger: &Ledger, now: i64) -> CliResult<Vec<String>> {
    let Some(config) = ledger.budgets()? else {
        return Ok(Vec::new());
    };
    let budgets = Budgets::new(config);
    let (today, month) = ledger.budget_spend(from_unix_ms(now))?;
    budgets.seed(&today, &month, from_unix_ms(now));
    Ok(budgets
        .status(from_unix_ms(now))
        .iter()
        .map(|status| {
            let which = match &status.which {
                BudgetScope::Global => "budget".to_owned(),
                BudgetScope::Key(key) => format!("budget of key {key}"),
            };
            let percent = if status.limit > 0.0 {
                (status.spent / status.limit * 100.0).round()
            } else {
                100.0
            };
            let state = if status.spent >= status.limit {
                ", reached: the gateway refuses requests"
            } else {
                ""
            };
            let per = match status.period {
                BudgetPeriod::Day => "UTC day",
                BudgetPeriod::Month => "UTC month",
            };
            format!(
                "{which}: {} of {} per {per} used ({percent}%{state}); resets {}",
                format_usd(status.spent, false),
                format_usd(status.limit, false),
                format_minute(unix_ms(status.resets_at))
            )
        })
        .collect())
}

/// `[{<group field>, requests, errors, input_tokens, output_tokens, cost_usd,
/// estimated_cost_usd, unpriced_requests}]`.
fn json_rows(totals: &Totals) -> Value {
    let field = totals.by.as_str();
    let rows: Vec<Value> = totals
        .groups
        .iter()
        .map(|g| {
            let mut object = Map::new();
            object.insert(field.to_owned(), json!(g.group));
            if let Value::Object(counts) = counts_json(&g.counts) {
                object.extend(counts);
            }
            Value::Object(object)
        })
        .collect();
    Value::Array(rows)
}

fn counts_json(c: &Counts) -> Value {
    json!({
        "requests": c.requests,
        "errors": c.errors,
        "input_tokens": c.input_tokens,
        "output_tokens": c.output_tokens,
        "cost_usd": round_usd(c.cost_usd),
        "estimated_cost_usd": round_usd(c.estimated_cost_usd),
        "unpriced_requests": c.unpriced_requests,
    })
}

/// Sums of many small floats carry noise in the last digits; a billionth of a dollar is
/// far below anything billed.
fn round_usd(usd: f64) -> f64 {
    (usd * 1e9).round() / 1e9
}

/// The table: group, requests, errors, tokens in/out, cost, estimated share; total last.
fn table(totals: &Totals) -> String {
    let header = totals.by.as_str().to_ascii_uppercase();
    let none = match totals.by {
        GroupBy::Provider => "(unknown)",
        GroupBy::Key => "(no key)",
        _ => "-",
    };
    let rows = totals
        .groups
        .iter()
        .map(|g| cells(g.group.as_deref().unwrap_or(none), &g.counts))
        .chain([cells("total", &totals.total)]);
    table_text(
        &[
            header.as_str(),
            "REQUESTS",
            "ERRORS",
            "INPUT",
            "OUTPUT",
            "COST",
            "ESTIMATED",
        ],
        &[1, 2, 3, 4, 5, 6],
        rows,
        |row, out| row.iter().for_each(|cell| out.push(cell)),
    )
}

fn cells(group: &str, c: &Counts) -> [String; 7] {
    let estimated = if c.cost_usd > 0.0 {
        format!("{:.0}%", c.estimated_cost_usd / c.cost_usd * 100.0)
    } else {
        "-".to_owned()
    };
    [
        group.to_owned(),
        thousands(c.requests),
        thousands(c.errors),
        thousands(c.input_tokens),
        thousands(c.output_tokens),
        format_usd(c.cost_usd, false),
        estimated,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
