//! `hfclaw models set | fallbacks | aliases`: the daily edits of the user's selection.
//!
//! Every write goes through `config-merge` (lock, format-preserving edit, atomic write);
//! this module only resolves what the user typed and says what happened.

use hfclaw_catalog::checks::{SelectionProblem, check_selection};
use hfclaw_model_ref::{Ids, ModelRef};

use crate::args::{AliasesCommand, FallbacksCommand, SetArgs};
use crate::context::{Context, no_config, user_models};
use crate::error::{CliError, CliResult};
use crate::output::{print_data, print_json};
use hfclaw_catalog::listing::Selection;
use hfclaw_model_ref::UserModels;

/// Runs `models set`.
pub fn set(ctx: &Context, args: &SetArgs) -> CliResult {
    let (document, view) = ctx.load_for_edit_of(Some(&args.model))?;
    let user = user_models(&view);
    let catalog = ctx.catalog(&view, false, false)?;
    let model_ref = ctx.resolve_model(&args.model, &user, &catalog)?;
    // A big config's aliases are read again after the edit: not held twice meanwhile.
    drop(user);
    drop(view);
    let (after, outcome) = ctx.edit_config(document, |editor| {
        editor.set_primary(model_ref.as_str())?;
        editor.allow(model_ref.as_str())?;
        Ok(editor.selection_view())
    })?;
    ctx.messages.status(format!("default model: {model_ref}"));
    warn_selection(ctx, &user_models(&after), &catalog);
    ctx.report_write(&outcome);
    Ok(())
}

/// Runs `models fallbacks …`.
pub fn fallbacks(ctx: &Context, command: &FallbacksCommand) -> CliResult {
    let input = match command {
        FallbacksCommand::Add { model } => Some(model.as_str()),
        _ => None,
    };
    let (document, view) = ctx.load_for_edit_of(input)?;
    let user = user_models(&view);
    match command {
        FallbacksCommand::List(args) => {
            if view.fallbacks.is_empty() {
                ctx.messages
                    .note("no fallbacks; add one with `hfclaw models fallbacks add REF|ALIAS`");
            }
            if args.json {
                let entries: Vec<serde_json::Value> = view
                    .fallbacks
                    .iter()
                    .map(|f| serde_json::json!({"ref": f, "alias": view.alias_of(f)}))
                    .collect();
                return print_json(&entries);
            }
            let lines: String = view.fallbacks.iter().map(|f| format!("{f}\n")).collect();
            print_data(&lines)
        }
        FallbacksCommand::Add { model } => {
            let catalog = ctx.catalog(&view, false, false)?;
            let model_ref = ctx.resolve_model(model, &user, &catalog)?;
            if user.primary.as_ref() == Some(&model_ref) {
                return Err(CliError::input(format!(
                    "{model_ref} is the default model; a fallback must be another model"
                ))
                .hint("pick a different model, e.g. from `hfclaw models list`"));
            }
            let ((added, after), outcome) = ctx.edit_config(document, |editor| {
                let added = editor.add_fallback(model_ref.as_str())?;
                editor.allow(model_ref.as_str())?;
                Ok((added, editor.selection_view()))
            })?;
            warn_selection(ctx, &user_models(&after), &catalog);
            if added {
                let position = view.fallbacks.len() + 1;
                ctx.messages
                    .status(format!("fallback #{position}: {model_ref}"));
            } else {
                ctx.messages
                    .status(format!("{model_ref} is already a fallback"));
            }
            ctx.report_write(&outcome);
            Ok(())
        }
        FallbacksCommand::Remove { model } => {
            let model_ref = resolve_known(model, &user)?;
            if !view.fallbacks.iter().any(|f| f == model_ref.as_str()) {
                return Err(not_a_fallback(&model_ref, &view.fallbacks));
            }
            let (_, outcome) = ctx.edit_config(document, |editor| {
                editor.remove_fallback(model_ref.as_str())
            })?;
            ctx.messages.status(format!("removed fallback {model_ref}"));
            ctx.report_write(&outcome);
            Ok(())
        }
        FallbacksCommand::Clear => {
            if document.is_none() {
                return Err(no_config(&ctx.paths));
            }
            let (_, outcome) = ctx.edit_config(document, |editor| editor.clear_fallbacks())?;
            ctx.messages.status(format!(
                "removed {} fallback(s)",
                if outcome.changed {
                    view.fallbacks.len()
                } else {
                    0
                }
            ));
            ctx.report_write(&outcome);
            Ok(())
        }
    }
}

/// Runs `models aliases …`.
pub fn aliases(ctx: &Context, command: &AliasesCommand) -> CliResult {
    let input = match command {
        AliasesCommand::Set { model, .. } => Some(model.as_str()),
        _ => None,
    };
    let (document, view) = ctx.load_for_edit_of(input)?;
    let user = user_models(&view);
    match command {
        AliasesCommand::List(args) => {
            let entries: Vec<(&str, &str)> = view
                .models
                .iter()
                .filter_map(|e| Some((e.alias.as_deref()?, e.key.as_str())))
                .collect();
            if entries.is_empty() {
                ctx.messages
                    .note("no aliases; add one with `hfclaw models aliases set REF ALIAS`");
            }
            if args.json {
                let entries: Vec<serde_json::Value> = entries
                    .iter()
                    .map(|(alias, key)| serde_json::json!({"alias": alias, "ref": key}))
                    .collect();
                return print_json(&entries);
            }
            if entries.is_empty() {
                return Ok(());
            }
            let width = entries
                .iter()
                .map(|(a, _)| a.chars().count())
                .max()
                .unwrap_or(0);
            let lines: String = entries
                .iter()
                .map(|(alias, key)| {
                    let pad = width - alias.chars().count();
                    format!("{alias}{}  {key}\n", " ".repeat(pad))
                })
                .collect();
            print_data(&lines)
        }
        AliasesCommand::Set { model, alias } => {
            let alias = alias.trim();
            let catalog = ctx.catalog(&view, false, false)?;
            if let Err(error) = validate_alias(alias) {
                return Err(swapped(model, alias, &user, &catalog).unwrap_or(error));
            }
            let model_ref = ctx.resolve_model(model, &user, &catalog)?;
            let taken_by: Vec<&ModelRef> = user
                .aliases
                .refs_for(alias)
                .into_iter()
                .filter(|r| **r != model_ref)
                .collect();
            if let Some(other) = taken_by.first() {
                return Err(CliError::input(format!(
                    "alias \"{alias}\" already names {other}"
                ))
                .hint(format!(
                    "pick another alias, or first run `hfclaw models aliases remove {other}`"
                )));
            }
            // OpenClaw reads `agents.defaults.models` as an allowlist; the first alias
            // creates it.
            let creates_allowlist = view.allowlist.is_none();
            let (changed, outcome) = ctx.edit_config(document, |editor| {
                editor.set_alias(model_ref.as_str(), alias)
            })?;
            ctx.messages
                .status(format!("alias \"{alias}\" → {model_ref}"));
            if changed && creates_allowlist {
                ctx.messages.note(format!(
                    "this first alias creates agents.defaults.models, which OpenClaw reads as \
                     an allowlist (your default and fallbacks were added to it); to keep every \
                     model allowed, undo it with `hfclaw models aliases remove {model_ref}`"
                ));
            }
            ctx.report_write(&outcome);
            Ok(())
        }
        AliasesCommand::Remove { model } => {
            let model_ref = resolve_known(model, &user)?;
            if user.aliases.alias_of(&model_ref).is_none() {
                return Err(CliError::input(format!("{model_ref} has no alias"))
                    .hint("see them with `hfclaw models aliases list`"));
            }
            let (_, outcome) =
                ctx.edit_config(document, |editor| editor.remove_alias(model_ref.as_str()))?;
            ctx.messages
                .status(format!("removed the alias of {model_ref}"));
            ctx.report_write(&outcome);
            Ok(())
        }
    }
}

/// Warns about what the selection got wrong after an edit (duplicates, primary as
/// fallback); ref problems were already reported when the input was resolved.
fn warn_selection(ctx: &Context, user: &UserModels, catalog: &hfclaw_catalog::Catalog) {
    for problem in check_selection(catalog, &Selection::from(user)) {
        if !matches!(
            problem,
            SelectionProblem::NoPrimary | SelectionProblem::Ref { .. }
        ) {
            ctx.messages.warn(problem.to_string());
        }
    }
}

/// Resolves input naming something already in the config, by the one rule with the
/// config's own refs as the catalog: no notes, no warnings.
fn resolve_known(input: &str, user: &UserModels) -> CliResult<ModelRef> {
    let used: Vec<&str> = user
        .primary
        .iter()
        .chain(&user.fallbacks)
        .chain(&user.allowlist)
        .filter(|r| r.is_huggingface())
        .flat_map(|r| [r.model_id(), r.router_model_id()])
        .collect();
    Ok(user.resolve(input, &Ids(&used))?.model_ref)
}

fn not_a_fallback(model_ref: &ModelRef, fallbacks: &[String]) -> CliError {
    let current = if fallbacks.is_empty() {
        "there are none".to_owned()
    } else {
        format!("current fallbacks: {}", fallbacks.join(", "))
    };
    CliError::input(format!("{model_ref} is not a fallback")).hint(current)
}

/// `aliases set qwen2 huggingface/…`: the alias first and the model second, when the
/// "alias" names a model and the "model" could be an alias.
fn swapped(
    model: &str,
    alias: &str,
    user: &UserModels,
    catalog: &hfclaw_catalog::Catalog,
) -> Option<CliError> {
    if model.contains('/') {
        return None;
    }
    let model_ref = user.resolve(alias, catalog).ok()?.model_ref;
    let quoted = if model.contains(char::is_whitespace) {
        format!("\"{}\"", model.trim())
    } else {
        model.trim().to_owned()
    };
    Some(
        CliError::input(format!(
            "\"{alias}\" is a model, not an alias: the arguments look swapped"
        ))
        .hint(format!(
            "did you mean `hfclaw models aliases set {model_ref} {quoted}`?"
        )),
    )
}

/// An alias must be something a user can type and that cannot be mistaken for a ref.
fn validate_alias(alias: &str) -> CliResult {
    if alias.is_empty() {
        return Err(CliError::input("the alias is empty")
            .hint("e.g. `hfclaw models aliases set huggingface/Qwen/Qwen3-8B \"Qwen3 8B\"`"));
    }
    if alias.contains('/') {
        return Err(CliError::input(format!(
            "alias \"{alias}\" contains '/', so it would read as a model ref"
        ))
        .hint("use a name without '/', e.g. \"Qwen3 8B\""));
    }
    Ok(())
}
