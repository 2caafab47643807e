//! `hfclaw models list`: the merged catalog as a table or JSON.

use comfy_table::Table;
use hfclaw_catalog::Cost;
use hfclaw_catalog::listing::{Filter, Row, rows};

use crate::args::ListArgs;
use crate::context::{Context, UserModels};
use crate::error::{CliError, CliResult};
use crate::output::{borderless_table, print_data};

/// Runs `models list`.
pub fn run(ctx: &Context, args: &ListArgs) -> CliResult {
    let view = ctx.load_view()?;
    let user = UserModels::from_view(&view);
    for problem in &user.problems {
        ctx.messages
            .warn(format!("{}: {problem}", ctx.paths.config.display()));
    }
    let catalog = ctx.catalog(&view, &user, true, args.refresh)?;
    let filter = Filter {
        search: args.search.clone(),
        provider: args.provider.clone(),
        reasoning: args.reasoning,
        all: args.all,
    };
    let rows = rows(&catalog, &user.selection(), &filter);
    if args.json {
        let json = serde_json::to_string_pretty(&rows)
            .map_err(|e| CliError::runtime(format!("encoding JSON: {e}")))?;
        return print_data(&format!("{json}\n"));
    }
    if rows.is_empty() {
        ctx.messages
            .note("no model matches; try without filters, or with --all");
        return Ok(());
    }
    print_data(&format!("{}\n", table(&rows)))
}

/// The table: ref, name, context, $/1M in/out, providers, tags.
fn table(rows: &[Row]) -> String {
    let mut table = Table::new();
    table.set_header(["REF", "NAME", "CONTEXT", "$/1M IN/OUT", "PROVIDERS", "TAGS"]);
    for row in rows {
        table.add_row([
            row.model_ref.clone(),
            row.name.clone(),
            row.context_window.map_or_else(dash, tokens),
            row.cost.as_ref().map_or_else(dash, prices),
            providers(&row.providers),
            row.tags
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ]);
    }
    borderless_table(table, &[2, 3])
}

fn dash() -> String {
    "-".to_owned()
}

/// `131072` → `128K`, `64000` → `62.5K`.
fn tokens(n: u64) -> String {
    let k = n as f64 / 1024.0;
    if n >= 1024 * 1024 {
        format_trimmed(k / 1024.0, "M")
    } else if n >= 1024 {
        format_trimmed(k, "K")
    } else {
        n.to_string()
    }
}

fn format_trimmed(value: f64, unit: &str) -> String {
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text}{unit}")
}

/// `0.70/2.50`.
fn prices(cost: &Cost) -> String {
    format!("{:.2}/{:.2}", cost.input, cost.output)
}

/// Up to three names, then `+N`.
fn providers(names: &[String]) -> String {
    const SHOWN: usize = 3;
    if names.is_empty() {
        return dash();
    }
    let mut text = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    if names.len() > SHOWN {
        text.push_str(&format!(",+{}", names.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_counts_read_as_binary_thousands() {
        assert_eq!(tokens(131_072), "128K");
        assert_eq!(tokens(64_000), "62.5K");
        assert_eq!(tokens(1_048_576), "1M");
        assert_eq!(tokens(512), "512");
    }

    #[test]
    fn provider_list_is_capped_at_three() {
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        assert_eq!(providers(&names), "a,b,c,+2");
        assert_eq!(providers(&[]), "-");
    }
}
