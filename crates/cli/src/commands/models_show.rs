//! `hfclaw models show REF|ALIAS`: one model and every provider serving it, and which
//! one each suffix would pick. The choices are `hfclaw_catalog::show`'s; this renders.

use hfclaw_catalog::display::{self, MISSING};
use hfclaw_catalog::show::{Details, Pick, ProviderRow, details};
use hfclaw_catalog::{Catalog, Cost, ProviderStatus, builtin};
use hfclaw_model_ref::{AlsoListing, ModelRef};

use crate::args::ShowArgs;
use crate::context::{Context, provider_models, user_models};
use crate::error::{CliError, CliResult};
use crate::output::{print_data, table_text};
use hfclaw_catalog::listing::Selection;

/// Runs `models show`.
pub fn run(ctx: &Context, args: &ShowArgs) -> CliResult {
    let view = ctx.load_view()?;
    let user = user_models(&view);
    ctx.warn_ref_problems(&user);
    let (catalog, retry) = ctx.dated_catalog(&view, true, args.refresh)?;
    let model_ref = match ctx.resolve_model(&args.model, &user, &catalog) {
        Ok(model_ref) => model_ref,
        Err(error) => {
            // Not a chat model: maybe one the Hub maps to providers of another task.
            let hub = AlsoListing::input(&catalog, Some(&args.model));
            return match user.resolve(&args.model, &hub) {
                Ok(resolved)
                    if super::models_tasks::show(ctx, &view, &resolved.model_ref, args.json)? =>
                {
                    Ok(())
                }
                _ => Err(error),
            };
        }
    };
    let Some(details) = details(
        &catalog,
        &Selection::from(&user),
        provider_models(&view),
        &model_ref,
    ) else {
        // Not a chat model: maybe one the Hub maps to providers of another task.
        if super::models_tasks::show(ctx, &view, &model_ref, args.json)? {
            return Ok(());
        }
        return Err(unknown(&catalog, &model_ref, ctx.global.offline));
    };
    ctx.report_catalog(&catalog, retry.as_ref());
    if args.json {
        let json = serde_json::to_string_pretty(&details)
            .map_err(|e| CliError::runtime(format!("encoding JSON: {e}")))?;
        return print_data(&format!("{json}\n"));
    }
    print_data(&render(&details))
}

fn unknown(catalog: &Catalog, model_ref: &ModelRef, offline: bool) -> CliError {
    if !model_ref.is_huggingface() {
        return CliError::input(format!(
            "{model_ref} is not a Hugging Face ref; `models show` knows huggingface/… models"
        ));
    }
    let error = CliError::input(format!("the catalog does not know {model_ref}")).hint(format!(
        "`hfclaw models list --search {}` lists similar models",
        model_ref.name()
    ));
    match (catalog.has_live_data(), offline) {
        (true, _) => error,
        (false, true) => error.hint(format!(
            "only the built-in snapshot of {} was searched (--offline)",
            builtin::AS_OF
        )),
        (false, false) => error.hint(format!(
            "only the built-in snapshot of {} was searched; --refresh asks the router",
            builtin::AS_OF
        )),
    }
}

/// The human form: `label  value` lines about the model, then the provider table.
fn render(d: &Details) -> String {
    let mut lines: Vec<(&str, String)> = Vec::new();
    lines.push(("alias", d.alias.clone().unwrap_or_else(dash)));
    lines.push((
        "reasoning",
        if d.reasoning { "yes" } else { "no" }.to_owned(),
    ));
    lines.push(("input", or_dash(d.input.join(", "))));
    lines.push(("context", context_line(d)));
    lines.push((
        "max output",
        d.max_output_tokens.map_or_else(dash, display::context_size),
    ));
    lines.push(("price", price_line(d)));
    if d.available == Some(false) {
        lines.push(("served", served_line(d)));
    }
    lines.push((
        ":fastest",
        d.fastest
            .clone()
            .unwrap_or_else(|| format!("{MISSING} (no provider reports throughput in this data)")),
    ));
    lines.push((":cheapest", or_dash(d.cheapest.join(", "))));
    let uses: Vec<String> = d
        .used_as
        .iter()
        .map(|u| {
            let role = u.role.to_string().replace('#', " #");
            if u.model_ref == d.model_ref {
                role
            } else {
                format!("{role} ({})", u.model_ref)
            }
        })
        .collect();
    lines.push(("in config", or_dash(uses.join(", "))));
    for entry in &d.config_entries {
        let json = serde_json::to_string(entry).unwrap_or_default();
        lines.push(("entry", json));
    }
    let mut out = format!("{} ({})\n", d.name, d.model_ref);
    for (label, value) in lines {
        out.push_str(&format!("  {label:<12}{value}\n"));
    }
    out.push('\n');
    if d.providers.is_empty() {
        out.push_str("no provider is known for this model\n");
    } else {
        out.push_str(&providers_table(&d.providers));
        out.push('\n');
    }
    out
}

fn providers_table(rows: &[ProviderRow]) -> String {
    let header = [
        "PROVIDER",
        "STATUS",
        "CONTEXT",
        "$/1M IN/OUT",
        "TOK/S",
        "1ST TOKEN",
        "TOOLS",
        "STRUCTURED",
        "FREE",
        "AUTHOR",
        "PICKED BY",
        "PIN",
    ];
    table_text(&header, &[2, 3, 4, 5], rows, |row, out| {
        out.push(&row.name);
        out.push(row.status.as_str());
        out.push(&row.context_length.map_or_else(dash, display::context_size));
        out.push(
            &row.pricing
                .as_ref()
                .map_or_else(dash, |c| display::prices(c.input, c.output)),
        );
        out.push(&row.throughput.map_or_else(dash, display::throughput));
        out.push(
            &row.first_token_latency_ms
                .map_or_else(dash, display::latency),
        );
        out.push(display::flag(row.supports_tools));
        out.push(display::flag(row.supports_structured_output));
        out.push(display::flag(row.is_free));
        out.push(display::flag(row.is_model_author));
        out.push(&picked_by(row));
        out.push(row.suffix.as_deref().unwrap_or(MISSING));
    })
}

/// `cheapest`, `fastest, cheapest`, `this ref` for the provider the shown ref reaches.
fn picked_by(row: &ProviderRow) -> String {
    let mut by: Vec<&str> = row
        .picks
        .iter()
        .map(|p| match p {
            Pick::Fastest => ":fastest",
            Pick::Cheapest => ":cheapest",
        })
        .collect();
    if row.selected {
        by.push("this ref");
    }
    by.join(", ")
}

/// The price at the provider the ref reaches; the range when that is unknown.
fn price_line(d: &Details) -> String {
    let per = |c: &Cost| (display::price(c.input), display::price(c.output));
    match (&d.cost_range, &d.cost) {
        (Some([low, high]), _) => {
            let ((low_in, low_out), (high_in, high_out)) = (per(low), per(high));
            format!(
                "${low_in}–{high_in} in, ${low_out}–{high_out} out per 1M tokens (the \
                 provider this ref reaches is unknown; configs get the high end)"
            )
        }
        (None, Some(cost)) => {
            let (input, output) = per(cost);
            let at = d
                .reaches
                .as_deref()
                .map_or_else(String::new, |p| format!(" at {p}"));
            format!("${input} in, ${output} out per 1M tokens{at}")
        }
        (None, None) => dash(),
    }
}

/// `32K (the minimum over live providers; fireworks-ai: 128K)`.
fn context_line(d: &Details) -> String {
    let Some(context) = d.context_window else {
        return dash();
    };
    let shown = display::context_size(context);
    match (&d.reaches, d.provider_context_window) {
        (Some(provider), Some(own)) if display::context_size(own) != shown => format!(
            "{shown} (the minimum over live providers; {provider}: {})",
            display::context_size(own)
        ),
        _ => shown,
    }
}

/// Why the ref is not served: a pin whose provider does not serve the model (the
/// others do, below), or no provider at all.
fn served_line(d: &Details) -> String {
    let live = d.providers.iter().any(|p| p.status == ProviderStatus::Live);
    let model_ref = d.model_ref.parse::<ModelRef>().ok();
    match model_ref.as_ref().and_then(|r| r.suffix()?.provider()) {
        Some(pin) if live => {
            format!("provider \"{pin}\" does not serve this model now; the live providers below do")
        }
        _ => "no provider serves this ref right now".to_owned(),
    }
}

fn dash() -> String {
    MISSING.to_owned()
}

fn or_dash(text: String) -> String {
    if text.is_empty() { dash() } else { text }
}
