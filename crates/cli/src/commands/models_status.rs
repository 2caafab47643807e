//! `hfclaw models status`: what the config means, where things come from, what is wrong.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hfclaw_catalog::Catalog;
use hfclaw_catalog::cache::rfc3339;
use hfclaw_catalog::checks::{RefProblem, check_ref, check_selection};
use hfclaw_config_merge::{AllowlistLocation, OpenClawView};
use hfclaw_model_ref::{ModelRef, UserModels};
use hfclaw_router_client::oauth::LoginStatus;
use serde::Serialize;

use crate::args::StatusArgs;
use crate::context::{Context, describe_source, user_models, view_for};
use crate::error::{CliError, CliResult};
use crate::login::Health;
use crate::output::print_data;
use hfclaw_catalog::listing::Selection;

/// The status, as printed by `--json` (stable field names).
#[derive(Debug, Serialize)]
struct Status {
    config: ConfigStatus,
    token: Option<TokenStatus>,
    router_url: String,
    catalog: CatalogStatus,
    default: Option<Choice>,
    fallbacks: Vec<Choice>,
    aliases: Vec<AliasEntry>,
    allowlist: Option<AllowlistStatus>,
    problems: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ConfigStatus {
    path: String,
    source: String,
    exists: bool,
}

/// Where the catalog's numbers come from.
#[derive(Debug, Serialize)]
struct CatalogStatus {
    /// `built-in`, `cache` or `live`.
    source: &'static str,
    /// The snapshot's date or the list's fetch time.
    as_of: Option<String>,
    /// The same in words, e.g. `built-in snapshot of 2026-07-27`.
    description: String,
    /// The words and why the router was not asked (the text form's line).
    #[serde(skip)]
    line: String,
}

#[derive(Debug, Serialize)]
struct TokenStatus {
    source: String,
    redacted: String,
    /// The `hf auth login` behind a token of the Hugging Face CLI's token file.
    #[serde(skip_serializing_if = "Option::is_none")]
    login: Option<LoginJson>,
}

/// An `hf auth login` (OAuth) login.
#[derive(Debug, Serialize)]
struct LoginJson {
    name: String,
    /// RFC 3339, when known.
    expires_at: Option<String>,
    refreshable: bool,
    expired: bool,
    /// The text form's line.
    description: String,
}

#[derive(Debug, Serialize)]
struct Choice {
    #[serde(rename = "ref")]
    model_ref: String,
    alias: Option<String>,
}

#[derive(Debug, Serialize)]
struct AliasEntry {
    alias: String,
    #[serde(rename = "ref")]
    model_ref: String,
}

#[derive(Debug, Serialize)]
struct AllowlistStatus {
    key: &'static str,
    entries: Vec<String>,
}

/// Runs `models status`.
pub fn run(ctx: &Context, args: &StatusArgs) -> CliResult {
    let document = ctx.load_config()?;
    let view = document
        .as_ref()
        .map(|d| view_for(d, None, true))
        .unwrap_or_default();
    // The text and its tree (several times the file's size) are not needed past the view.
    let exists = document.is_some();
    drop(document);
    for warning in &view.warnings {
        ctx.messages
            .warn(format!("{}: {warning}", ctx.paths.config.display()));
    }
    let user = user_models(&view);
    // Only the cache, so status stays instant, unless --refresh asks the router.
    let (catalog, retry) = ctx.dated_catalog(&view, args.refresh, args.refresh)?;
    if args.json {
        // The text form says it in its `catalog` line.
        ctx.report_catalog(&catalog, retry.as_ref());
    }
    let source = catalog.data_source();
    let token = ctx.token(&view)?;
    let login = token
        .as_ref()
        .and_then(|(token, source)| ctx.login_status(token, source))
        .map(|login| login_json(&login));
    let mut problems: Vec<String> = user.problems.clone();
    if let Some(login) = login.as_ref().filter(|l| l.expired) {
        problems.push(format!("the Hugging Face login {}", login.description));
    }
    problems.extend(
        check_selection(&catalog, &Selection::from(&user))
            .iter()
            .map(ToString::to_string),
    );
    problems.extend(allowlist_problems(&view));
    problems.extend(unlisted_allowlist_entries(&user, &catalog));
    let status = Status {
        config: ConfigStatus {
            path: ctx.paths.config.display().to_string(),
            source: ctx.paths.source.to_string(),
            exists,
        },
        token: token.map(|(token, source)| TokenStatus {
            source: source.to_string(),
            redacted: token.redacted(),
            login,
        }),
        router_url: ctx.base_url(&view),
        catalog: CatalogStatus {
            source: source.name(),
            as_of: source.as_of(),
            description: describe_source(source),
            line: ctx.catalog_line(&catalog, retry.as_ref()),
        },
        default: view.primary.as_ref().map(|p| choice(&view, p)),
        fallbacks: view.fallbacks.iter().map(|f| choice(&view, f)).collect(),
        aliases: view
            .models
            .iter()
            .filter_map(|e| {
                Some(AliasEntry {
                    alias: e.alias.clone()?,
                    model_ref: e.key.clone(),
                })
            })
            .collect(),
        allowlist: view.allowlist.as_ref().map(|a| AllowlistStatus {
            key: match a.location {
                AllowlistLocation::ModelsMap => "agents.defaults.models",
                AllowlistLocation::ModelPolicy => "agents.defaults.modelPolicy.allow",
            },
            entries: a.entries.clone(),
        }),
        problems,
    };
    if args.json {
        let json = serde_json::to_string_pretty(&status)
            .map_err(|e| CliError::runtime(format!("encoding JSON: {e}")))?;
        return print_data(&format!("{json}\n"));
    }
    print_data(&render(&status))
}

fn login_json(login: &LoginStatus) -> LoginJson {
    let now = SystemTime::now();
    let (health, description) = crate::login::describe(login, now);
    LoginJson {
        name: login.name.clone(),
        expires_at: login
            .expires_at
            .and_then(|at| u64::try_from(at).ok())
            .map(|at| rfc3339(UNIX_EPOCH + Duration::from_secs(at))),
        refreshable: login.refreshable,
        expired: health == Health::Expired,
        description,
    }
}

fn choice(view: &OpenClawView, model_ref: &str) -> Choice {
    Choice {
        model_ref: model_ref.to_owned(),
        alias: view.alias_of(model_ref).map(str::to_owned),
    }
}

fn allowlist_problems(view: &OpenClawView) -> Vec<String> {
    let key = match view.allowlist.as_ref().map(|a| a.location) {
        Some(AllowlistLocation::ModelPolicy) => "agents.defaults.modelPolicy.allow",
        _ => "agents.defaults.models",
    };
    view.allowlist_gaps()
        .into_iter()
        .map(|(role, model_ref)| {
            format!(
                "{role} {model_ref} is not in the allowlist ({key}), so OpenClaw will refuse it"
            )
        })
        .collect()
}

/// Allowlist entries (Hugging Face refs) that no catalog lists: OpenClaw allows a model
/// the router will refuse (a typo, or a model the router dropped).
fn unlisted_allowlist_entries(user: &UserModels, catalog: &Catalog) -> Vec<String> {
    let in_selection =
        |r: &ModelRef| user.primary.as_ref() == Some(r) || user.fallbacks.contains(r);
    user.allowlist
        .iter()
        .filter(|r| !in_selection(r))
        .filter_map(|r| match check_ref(catalog, r)? {
            problem @ RefProblem::UnknownModel { .. } => {
                Some(format!("allowlist entry {r}: {problem}"))
            }
            _ => None,
        })
        .collect()
}

/// The human form: one `label  value` line per fact, problems last.
fn render(status: &Status) -> String {
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut push = |label: &str, value: String| lines.push((label.to_owned(), value));
    push(
        "config",
        format!(
            "{} ({}{})",
            status.config.path,
            status.config.source,
            if status.config.exists {
                ""
            } else {
                ", not created yet"
            }
        ),
    );
    push(
        "token",
        status.token.as_ref().map_or_else(
            || "none (run `hfclaw onboard` or set HF_TOKEN)".to_owned(),
            |t| format!("{} (from {})", t.redacted, t.source),
        ),
    );
    if let Some(login) = status.token.as_ref().and_then(|t| t.login.as_ref()) {
        push("login", login.description.clone());
    }
    push("router", status.router_url.clone());
    push("catalog", status.catalog.line.clone());
    push(
        "default",
        status
            .default
            .as_ref()
            .map_or_else(|| "none".to_owned(), render_choice),
    );
    if status.fallbacks.is_empty() {
        push("fallbacks", "none".to_owned());
    }
    for (i, fallback) in status.fallbacks.iter().enumerate() {
        let label = if i == 0 { "fallbacks" } else { "" };
        push(label, format!("{}. {}", i + 1, render_choice(fallback)));
    }
    if status.aliases.is_empty() {
        push("aliases", "none".to_owned());
    }
    for (i, alias) in status.aliases.iter().enumerate() {
        let label = if i == 0 { "aliases" } else { "" };
        push(label, format!("{} → {}", alias.alias, alias.model_ref));
    }
    push(
        "allowlist",
        status.allowlist.as_ref().map_or_else(
            || "none (every model allowed)".to_owned(),
            |a| {
                format!(
                    "{} entr{} in {}",
                    a.entries.len(),
                    if a.entries.len() == 1 { "y" } else { "ies" },
                    a.key
                )
            },
        ),
    );
    if status.problems.is_empty() {
        push("problems", "none".to_owned());
    }
    for (i, problem) in status.problems.iter().enumerate() {
        let label = if i == 0 { "problems" } else { "" };
        push(label, format!("- {problem}"));
    }
    lines
        .iter()
        .map(|(label, value)| format!("{label:<10} {value}\n"))
        .collect()
}

fn render_choice(choice: &Choice) -> String {
    match &choice.alias {
        Some(alias) => format!("{} ({alias})", choice.model_ref),
        None => choice.model_ref.clone(),
    }
}
