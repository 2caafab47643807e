//! `hfclaw usage`: what requests cost, from the usage ledger, per model, provider, day,
//! key, API, end user, route or one `metadata` tag, with the budgets in force (the
//! database's, and what a gateway's flags added: stored in the ledger's meta table by
//! `hfclaw serve`).

use std::time::SystemTime;

use hfclaw_accounting::keys::follower::{FlagBudgets, effective_budgets};
use hfclaw_accounting::time::{
    ACCEPTED_TIME_FORMS, format_minute, from_unix_ms, parse_time, unix_ms,
};
use hfclaw_accounting::{
    BudgetPeriod, BudgetScope, BudgetStatus, Budgets, Counts, GroupBy, Ledger, REJECTED_MODEL,
    Totals, format_usd,
};
use hfclaw_catalog::display::thousands;
use serde_json::{Map, Value, json};

use crate::args::UsageArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::output::{print_data, table_text};

/// What `--by` asked for.
#[derive(Debug, Clone, PartialEq)]
enum Grouping {
    By(GroupBy),
    /// One `metadata` tag's values.
    Tag(String),
}

impl Grouping {
    fn by(&self) -> GroupBy {
        match self {
            Grouping::By(by) => *by,
            Grouping::Tag(_) => GroupBy::Tag,
        }
    }
}

/// Runs `usage`.
pub fn run(ctx: &Context, args: &UsageArgs) -> CliResult {
    let now = unix_ms(SystemTime::now());
    let grouping = grouping(&args.by)?;
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
    let spec = crate::ledger::spec_at(&args.ledger)?;
    if spec.is_missing_file() {
        return empty(
            ctx,
            args,
            &grouping,
            &[],
            &format!("no usage recorded yet ({} does not exist)", spec.location()),
        );
    }
    let ledger = crate::ledger::open(&spec)?;
    let (since_time, until_time) = (from_unix_ms(since), from_unix_ms(until));
    let key = args.key.as_deref();
    let totals = match &grouping {
        Grouping::By(by) => ledger.key_totals(*by, key, since_time, until_time)?,
        Grouping::Tag(name) => ledger.tag_totals(name, key, since_time, until_time)?,
    };
    let budgets = budget_statuses(&ledger, key, now)?;
    if totals.groups.is_empty() {
        empty(
            ctx,
            args,
            &grouping,
            &budgets,
            &format!(
                "no usage recorded in this period (ledger: {})",
                ledger.location()
            ),
        )?;
    } else if args.json {
        print_json(&json_output(&grouping, key, &totals, &budgets))?;
    } else {
        // Budget refusals get a column where budgets are in force or refused something.
        let refusals = !budgets.is_empty() || totals.total.budget_refusals > 0;
        print_data(&format!("{}\n", table(&grouping, &totals, refusals)))?;
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
                "{} answered request(s) have no cost (COST `unknown`, or `+`: at least): the answer reported no usage, or no price is known for the model",
                totals.total.unpriced_requests
            ));
        }
    }
    // Budget status is data in the table view; JSON carries it in its `budgets`.
    if !args.json {
        for line in budgets.iter().map(budget_line) {
            if totals.groups.is_empty() {
                ctx.messages.note(line);
            } else {
                print_data(&format!("{line}\n"))?;
            }
        }
    }
    ledger.close()?;
    Ok(())
}

/// Reads `--by WHAT` (`--by tag NAME`, also `tag=NAME`).
fn grouping(by: &[String]) -> CliResult<Grouping> {
    let accepted = "accepted: model, provider, day, key, api, user, route, tag NAME";
    let first = by.first().map_or("model", String::as_str);
    let second = by.get(1);
    if let Some(name) = first
        .strip_prefix("tag=")
        .or_else(|| first.strip_prefix("tag:"))
    {
        if let Some(extra) = second {
            return Err(CliError::input(format!(
                "--by {first} takes no second value ({extra:?})"
            )));
        }
        return tag_grouping(name);
    }
    match (GroupBy::parse(first), second) {
        (Some(GroupBy::Tag), Some(name)) => tag_grouping(name),
        (Some(GroupBy::Tag), None) => Err(CliError::input("--by tag needs the tag's name")
            .hint("e.g. `--by tag team`: the name of a member of the requests' `metadata`")),
        (Some(by), None) => Ok(Grouping::By(by)),
        (Some(_), Some(extra)) => Err(CliError::input(format!(
            "--by {first} takes no second value ({extra:?})"
        ))
        .hint("only `--by tag NAME` takes two")),
        (None, _) => Err(CliError::input(format!("invalid --by {first:?}")).hint(accepted)),
    }
}

fn tag_grouping(name: &str) -> CliResult<Grouping> {
    if name.is_empty() {
        return Err(CliError::input("--by tag needs the tag's name")
            .hint("e.g. `--by tag team`: the name of a member of the requests' `metadata`"));
    }
    Ok(Grouping::Tag(name.to_owned()))
}

fn print_json(value: &Value) -> CliResult {
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::runtime(format!("encoding JSON: {e}")))?;
    print_data(&format!("{json}\n"))
}

fn empty(
    ctx: &Context,
    args: &UsageArgs,
    grouping: &Grouping,
    budgets: &[BudgetStatus],
    note: &str,
) -> CliResult {
    ctx.messages.note(note);
    if args.json {
        let nothing = Totals {
            by: grouping.by(),
            groups: Vec::new(),
            total: Counts::default(),
        };
        print_json(&json_output(
            grouping,
            args.key.as_deref(),
            &nothing,
            budgets,
        ))?;
    }
    Ok(())
}

fn time_arg(flag: &str, text: &str, now: i64) -> CliResult<i64> {
    parse_time(text, now).ok_or_else(|| {
        CliError::input(format!("invalid {flag} {text:?}"))
            .hint(format!("accepted: {ACCEPTED_TIME_FORMS}"))
    })
}

/// The budgets in force (those that apply to `key`, when given), with the spend of the
/// UTC day and month: the database's (the global budget, each key's that is neither
/// revoked nor expired) with what a gateway's flags added over them, as `serve` applies
/// them (`effective_budgets`).
fn budget_statuses(ledger: &Ledger, key: Option<&str>, now: i64) -> CliResult<Vec<BudgetStatus>> {
    let now_time = from_unix_ms(now);
    let stored = ledger.budgets()?.unwrap_or_default();
    let flags = FlagBudgets {
        usd_per_day: stored.usd_per_day,
        per_key_usd_per_day: stored.per_key_usd_per_day.into_iter().collect(),
    };
    let keys: Vec<_> = ledger
        .keys()?
        .into_iter()
        .filter(|k| k.state(now_time) == "active")
        .collect();
    let config = effective_budgets(&flags, ledger.global_budget()?, &keys);
    if config.is_empty() {
        return Ok(Vec::new());
    }
    let budgets = Budgets::new(config);
    let (today, month) = ledger.budget_spend(now_time)?;
    budgets.seed(&today, &month, now_time);
    Ok(match key {
        Some(key) => budgets.status_of(Some(key), now_time),
        None => budgets.status(now_time),
    })
}

/// `budget: $1.20 of $5.00 per UTC day used (24%); resets 2026-12-02 00:00 UTC`.
fn budget_line(status: &BudgetStatus) -> String {
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
}

/// `{by, [tag], [key], groups: [{<by>, requests, errors, budget_refusals, input_tokens,
/// output_tokens, cost_usd, estimated_cost_usd, unpriced_requests}], total: {…}, budgets:
/// [{budget, scope, key, period, limit_usd, spent_usd, reserved_usd, remaining_usd,
/// resets_at}]}`.
fn json_output(
    grouping: &Grouping,
    key: Option<&str>,
    totals: &Totals,
    budgets: &[BudgetStatus],
) -> Value {
    let field = totals.by.as_str();
    let groups: Vec<Value> = totals
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
    let mut out = Map::new();
    out.insert("by".to_owned(), json!(field));
    if let Grouping::Tag(name) = grouping {
        out.insert("tag".to_owned(), json!(name));
    }
    if let Some(key) = key {
        out.insert("key".to_owned(), json!(key));
    }
    out.insert("groups".to_owned(), Value::Array(groups));
    out.insert("total".to_owned(), counts_json(&totals.total));
    out.insert(
        "budgets".to_owned(),
        budgets.iter().map(BudgetStatus::json).collect(),
    );
    Value::Object(out)
}

fn counts_json(c: &Counts) -> Value {
    json!({
        "requests": c.requests,
        "errors": c.errors,
        "budget_refusals": c.budget_refusals,
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

/// The table: group, requests, errors, budget refusals (with `refusals`), tokens in/out,
/// cost, estimated share; total last.
fn table(grouping: &Grouping, totals: &Totals, refusals: bool) -> String {
    let header = match grouping {
        Grouping::Tag(name) => format!("TAG {name}"),
        Grouping::By(by) => by.as_str().to_ascii_uppercase(),
    };
    let none = match totals.by {
        GroupBy::Provider => "(unknown)",
        GroupBy::Key => "(no key)",
        GroupBy::User => "(no user)",
        GroupBy::Route => "(no route)",
        GroupBy::Tag => "(no tag)",
        _ => "-",
    };
    let rows = totals
        .groups
        .iter()
        .map(|g| cells(g.group.as_deref().unwrap_or(none), &g.counts, refusals))
        .chain([cells("total", &totals.total, refusals)]);
    let mut headers = vec![header.as_str(), "REQUESTS", "ERRORS"];
    if refusals {
        headers.push("OVER BUDGET");
    }
    headers.extend(["INPUT", "OUTPUT", "COST", "ESTIMATED"]);
    let right: Vec<usize> = (1..headers.len()).collect();
    table_text(&headers, &right, rows, |row, out| {
        row.iter().for_each(|cell| out.push(cell));
    })
}

fn cells(group: &str, c: &Counts, refusals: bool) -> Vec<String> {
    let estimated = if c.cost_usd > 0.0 {
        format!("{:.0}%", c.estimated_cost_usd / c.cost_usd * 100.0)
    } else {
        "-".to_owned()
    };
    let mut cells = vec![group.to_owned(), thousands(c.requests), thousands(c.errors)];
    if refusals {
        cells.push(thousands(c.budget_refusals));
    }
    cells.extend([
        thousands(c.input_tokens),
        thousands(c.output_tokens),
        cost_cell(c),
        estimated,
    ]);
    cells
}

/// The COST cell: a group with answers of unknown cost is never shown as `$0.00` —
/// `unknown` when nothing of it is priced, else what is known with a `+` (at least).
fn cost_cell(c: &Counts) -> String {
    match (c.unpriced_requests, c.cost_usd > 0.0) {
        (0, _) => format_usd(c.cost_usd, false),
        (_, false) => "unknown".to_owned(),
        (_, true) => format!("{}+", format_usd(c.cost_usd, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_cost_is_never_shown_as_zero() {
        let counts = |cost_usd, unpriced_requests| Counts {
            cost_usd,
            unpriced_requests,
            ..Counts::default()
        };
        assert_eq!(cost_cell(&counts(0.0, 0)), "$0.00");
        assert_eq!(cost_cell(&counts(0.0, 3)), "unknown");
        assert_eq!(cost_cell(&counts(0.0002, 1)), "$0.0002+");
        assert_eq!(cost_cell(&counts(0.0002, 0)), "$0.0002");
    }

    #[test]
    fn by_reads_one_grouping_or_tag_and_a_name() {
        let by = |args: &[&str]| {
            let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
            grouping(&args).map_err(|e| e.to_string())
        };
        assert_eq!(by(&["user"]), Ok(Grouping::By(GroupBy::User)));
        assert_eq!(by(&["route"]), Ok(Grouping::By(GroupBy::Route)));
        assert_eq!(by(&["tag", "team"]), Ok(Grouping::Tag("team".into())));
        assert_eq!(by(&["tag=team"]), Ok(Grouping::Tag("team".into())));
        assert_eq!(by(&["tag:team"]), Ok(Grouping::Tag("team".into())));
        assert!(by(&["tag"]).is_err());
        assert!(by(&["tag="]).is_err());
        assert!(by(&["model", "team"]).is_err());
        assert!(by(&["tag=a", "b"]).is_err());
        assert!(by(&["users"]).is_err());
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
