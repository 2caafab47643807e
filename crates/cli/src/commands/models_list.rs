//! `hfclaw models list`: the merged catalog as a table or JSON.

use comfy_table::Table;
use hfclaw_catalog::display::{self, MISSING};
use hfclaw_catalog::listing::{Filter, Row, SortKey, rows, sort_rows};

use crate::args::{ListArgs, SortArg};
use crate::context::{Context, UserModels};
use crate::error::{CliError, CliResult};
use crate::output::{borderless_table, print_data};

/// Runs `models list`.
pub fn run(ctx: &Context, args: &ListArgs) -> CliResult {
    let view = ctx.load_view()?;
    let user = UserModels::from_view(&view);
    ctx.warn_ref_problems(&user);
    let (catalog, retry) = ctx.dated_catalog(&view, &user, true, args.refresh)?;
    ctx.report_catalog(&catalog, retry.as_ref());
    let filter = Filter {
        search: args.search.clone(),
        provider: args.provider.clone(),
        reasoning: args.reasoning,
        tools: args.tools,
        structured_output: args.structured_output,
        image: args.image,
        free: args.free,
        all: args.all,
    };
    let mut rows = rows(&catalog, &user.selection(), &filter);
    if let Some(sort) = args.sort {
        sort_rows(&mut rows, sort_key(sort));
    }
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
    // Sorted by throughput, the table shows it.
    let throughput = args.sort == Some(SortArg::Throughput);
    print_data(&format!("{}\n", table(&rows, throughput)))
}

fn sort_key(arg: SortArg) -> SortKey {
    match arg {
        SortArg::Name => SortKey::Name,
        SortArg::Context => SortKey::Context,
        SortArg::Price => SortKey::Price,
        SortArg::Throughput => SortKey::Throughput,
    }
}

/// The table: ref, name, context, $/1M in/out, (tokens/s,) providers, tags.
fn table(rows: &[Row], throughput: bool) -> String {
    let mut table = Table::new();
    let mut header = vec!["REF", "NAME", "CONTEXT", "$/1M IN/OUT"];
    if throughput {
        header.push("TOK/S");
    }
    header.extend(["PROVIDERS", "TAGS"]);
    table.set_header(header);
    for row in rows {
        let mut cells = vec![
            row.model_ref.clone(),
            row.name.clone(),
            row.context_window
                .map_or_else(|| MISSING.to_owned(), display::context_size),
            row.cost.as_ref().map_or_else(
                || MISSING.to_owned(),
                |c| display::prices(c.input, c.output),
            ),
        ];
        if throughput {
            cells.push(
                row.throughput
                    .map_or_else(|| MISSING.to_owned(), display::throughput),
            );
        }
        cells.push(providers(&row.providers));
        cells.push(
            row.tags
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        );
        table.add_row(cells);
    }
    let numeric: &[usize] = if throughput { &[2, 3, 4] } else { &[2, 3] };
    borderless_table(table, numeric)
}

/// Up to three names, then `+N`.
fn providers(names: &[String]) -> String {
    const SHOWN: usize = 3;
    if names.is_empty() {
        return MISSING.to_owned();
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
    fn provider_list_is_capped_at_three() {
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        assert_eq!(providers(&names), "a,b,c,+2");
        assert_eq!(providers(&[]), "—");
    }
}
