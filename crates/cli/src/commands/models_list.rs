//! `hfclaw models list`: the merged catalog as a table or JSON.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

use hfclaw_catalog::display::{self, MISSING};
use hfclaw_catalog::listing::{Filter, Listing, Row, SortKey, sort_rows};
use serde::Serializer as _;
use std::borrow::Borrow;

use crate::args::{ListArgs, SortArg};
use crate::context::{Context, user_models_with};
use crate::error::{CliError, CliResult};
use crate::output::{Table, write_data};
use hfclaw_catalog::Catalog;
use hfclaw_catalog::listing::Selection;
use hfclaw_model_ref::nearest;

/// Runs `models list`.
pub fn run(ctx: &Context, args: &ListArgs) -> CliResult {
    if let Some(task) = &args.task {
        let task = super::models_tasks::parse_task(task)?;
        return super::models_tasks::list(ctx, args, task);
    }
    let mut view = ctx.load_view()?;
    // The provider's entries are moved into the catalog, not copied.
    let config = view
        .provider
        .as_mut()
        .map(|p| std::mem::take(&mut p.models))
        .unwrap_or_default();
    // The aliases are read into `user`, which also holds the allowlist's refs: neither is
    // kept twice (a synced config may hold tens of thousands).
    view.allowlist = None;
    let aliases = std::mem::take(&mut view.models);
    let user = user_models_with(&view, &aliases);
    drop(aliases);
    ctx.warn_ref_problems(&user);
    let (catalog, retry) = ctx.dated_catalog_from(&view, Cow::Owned(config), true, args.refresh)?;
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
    if let Some(provider) = &filter.provider {
        check_provider(&catalog, provider)?;
    }
    let listing = Listing::new(&catalog, &Selection::from(&user), &filter);
    // Unsorted, the rows are made as they are written rather than held: a synced config
    // lists 100,000s.
    let sorted = args.sort.map(|sort| {
        let mut rows: Vec<Row<'_>> = listing.rows().collect();
        sort_rows(&mut rows, sort_key(sort));
        rows
    });
    if args.json {
        // Streamed: the JSON of 100,000s of rows is 100s of MB.
        return write_data(|out| {
            let mut json = serde_json::Serializer::pretty(&mut *out);
            match &sorted {
                Some(rows) => json.collect_seq(rows),
                None => json.collect_seq(listing.rows()),
            }
            .map_err(io::Error::from)?;
            out.write_all(b"\n")
        });
    }
    // Sorted by throughput, the table shows it.
    let throughput = args.sort == Some(SortArg::Throughput);
    let table = match &sorted {
        Some(rows) => table(rows.iter(), throughput),
        None => table(listing.rows(), throughput),
    };
    if table.is_empty() {
        ctx.messages
            .note("no model matches; try without filters, or with --all");
        return Ok(());
    }
    write_data(|out| table.write(out))
}

/// `--provider NAME` that no model of the catalog has: an input error naming the known
/// providers (the nearest first), not an empty table.
fn check_provider(catalog: &Catalog, wanted: &str) -> CliResult {
    let mut known: Vec<&str> = catalog
        .models()
        .iter()
        .flat_map(|m| m.providers.iter().map(|p| p.name.as_str()))
        .collect();
    known.sort_unstable();
    known.dedup();
    if known.is_empty() || known.iter().any(|p| p.eq_ignore_ascii_case(wanted)) {
        return Ok(());
    }
    let error = CliError::input(format!("no model of the catalog is served by \"{wanted}\""));
    let near = nearest(wanted, known.iter().map(|p| (*p, (*p).to_owned())));
    let error = match near.first() {
        Some(near) => error.hint(format!("did you mean --provider {near}?")),
        None => error,
    };
    Err(error.hint(format!("known providers: {}", known.join(", "))))
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
fn table<'r, R: Borrow<Row<'r>>>(rows: impl IntoIterator<Item = R>, throughput: bool) -> Table {
    let mut header = vec!["REF", "NAME", "CONTEXT", "$/1M IN/OUT"];
    if throughput {
        header.push("TOK/S");
    }
    header.extend(["PROVIDERS", "TAGS"]);
    let numeric: &[usize] = if throughput { &[2, 3, 4] } else { &[2, 3] };
    let mut context = Last::default();
    let mut prices = Last::default();
    Table::new(&header, numeric, rows, |row, cells| {
        let row = row.borrow();
        cells.push(&row.model_ref);
        cells.push(&row.name);
        match row.context_window {
            Some(tokens) => {
                cells.push(context.text(tokens, |t| display::write_context_size(t, tokens)))
            }
            None => cells.push(MISSING),
        }
        match (&row.cost_range, &row.cost) {
            (Some([low, high]), _) => cells.push_with(|t| {
                display::write_price_range(t, (low.input, low.output), (high.input, high.output))
            }),
            (None, Some(c)) => {
                cells.push(prices.text((c.input.to_bits(), c.output.to_bits()), |t| {
                    display::write_prices(t, c.input, c.output)
                }))
            }
            (None, None) => cells.push(MISSING),
        }
        if throughput {
            match row.throughput {
                Some(t) => cells.push(&display::throughput(t)),
                None => cells.push(MISSING),
            }
        }
        cells.push_with(|text| providers(text, &row.providers));
        cells.push_with(|text| {
            for (i, tag) in row.tags.iter().enumerate() {
                let comma = if i == 0 { "" } else { "," };
                let _ = write!(text, "{comma}{tag}");
            }
        });
    })
}

/// The last value formatted, and its text: neighbouring rows often share prices and
/// context sizes.
struct Last<K> {
    key: Option<K>,
    text: String,
}

impl<K> Default for Last<K> {
    fn default() -> Self {
        Last {
            key: None,
            text: String::new(),
        }
    }
}

impl<K: PartialEq> Last<K> {
    fn text(&mut self, key: K, format: impl FnOnce(&mut String)) -> &str {
        if self.key.as_ref() != Some(&key) {
            self.text.clear();
            format(&mut self.text);
            self.key = Some(key);
        }
        &self.text
    }
}

/// Up to three names, then `+N`.
fn providers(text: &mut String, names: &[Cow<'_, str>]) {
    const SHOWN: usize = 3;
    if names.is_empty() {
        text.push_str(MISSING);
        return;
    }
    for (i, name) in names.iter().take(SHOWN).enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(name);
    }
    if names.len() > SHOWN {
        let _ = write!(text, ",+{}", names.len() - SHOWN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_list_is_capped_at_three() {
        let names = ["a", "b", "c", "d", "e"].map(Cow::Borrowed);
        let shown = |names: &[Cow<'_, str>]| {
            let mut text = String::new();
            providers(&mut text, names);
            text
        };
        assert_eq!(shown(&names), "a,b,c,+2");
        assert_eq!(shown(&[]), "—");
    }
}
