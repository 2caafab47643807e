//! `hfclaw models sync`: writes catalog entries (name, context, limits, prices) for the
//! user's models into `models.providers.huggingface.models`, or into OpenClaw's
//! `models.json`, without changing anything the user set.

use hfclaw_catalog::{Catalog, ConfigModel};
use hfclaw_config_merge::MergeReport;
use hfclaw_model_ref::ModelRef;

use crate::args::SyncArgs;
use crate::context::{Context, config_entry_for, user_models};
use crate::error::CliResult;
use hfclaw_model_ref::UserModels;

/// Runs `models sync`.
pub fn run(ctx: &Context, args: &SyncArgs) -> CliResult {
    let (document, view) = ctx.load_for_edit()?;
    let user = user_models(&view);
    let catalog = ctx.catalog(&view, true, false)?;
    let entries = if args.all {
        catalog
            .models()
            .iter()
            .map(|m| m.to_config_entry())
            .collect()
    } else {
        entries_for(ctx, &catalog, &user_refs(&user))
    };
    if entries.is_empty() {
        ctx.messages.note(
            "your config names no Hugging Face model; set one with `hfclaw models set REF`, or pass --all",
        );
        return Ok(());
    }
    match &args.models_json {
        Some(path) => {
            let base_url = ctx.base_url(&view);
            let path = path
                .clone()
                .unwrap_or_else(|| ctx.paths.default_models_json());
            let (report, outcome) =
                hfclaw_config_merge::edit_models_json(&path, &base_url, &entries)?;
            report_merge(ctx, &report);
            let shown = path.display();
            ctx.messages
                .status(match (outcome.created, outcome.changed) {
                    (true, _) => format!("created {shown}"),
                    (false, true) => format!("updated {shown}"),
                    (false, false) => format!("{shown} already up to date"),
                });
        }
        None => {
            let (report, outcome) = ctx.edit_config(document, |editor| {
                editor.ensure_provider_block(None)?;
                if let Some(url) = ctx.base_url_to_write() {
                    editor.set_provider_base_url(url.as_deref())?;
                }
                editor.merge_provider_models(&entries)
            })?;
            report_merge(ctx, &report);
            ctx.report_write(&outcome);
        }
    }
    Ok(())
}

/// The Hugging Face refs the config uses: default, fallbacks, then the models map.
fn user_refs(user: &UserModels) -> Vec<&ModelRef> {
    let mut refs: Vec<&ModelRef> = Vec::new();
    for model_ref in user
        .primary
        .iter()
        .chain(&user.fallbacks)
        .chain(&user.allowlist)
    {
        if model_ref.is_huggingface() && !refs.contains(&model_ref) {
            refs.push(model_ref);
        }
    }
    refs
}

/// One entry per ref, under its router id (suffix included, as OpenClaw looks it up);
/// refs the catalog does not know are skipped with a warning.
fn entries_for(ctx: &Context, catalog: &Catalog, refs: &[&ModelRef]) -> Vec<ConfigModel> {
    refs.iter()
        .filter_map(|r| {
            let entry = config_entry_for(catalog, r);
            if entry.is_none() {
                ctx.messages
                    .warn(format!("{r} is not in the catalog; not synced"));
            }
            entry
        })
        .collect()
}

fn report_merge(ctx: &Context, report: &MergeReport) {
    for id in &report.added {
        ctx.messages.status(format!("added {id}"));
    }
    for (id, fields) in &report.filled {
        ctx.messages
            .status(format!("filled {} of {id}", fields.join(", ")));
    }
    if report.kept > 0 {
        ctx.messages.status(format!(
            "kept {} entr{} as you wrote {}",
            report.kept,
            if report.kept == 1 { "y" } else { "ies" },
            if report.kept == 1 { "it" } else { "them" }
        ));
    }
}
