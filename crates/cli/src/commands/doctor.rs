//! `hfclaw doctor`: a ✓/✗ list of everything that must hold for OpenClaw to talk to the
//! router through this config; exit 1 on any ✗.

use hfclaw_catalog::checks::{SelectionProblem, check_selection};
use hfclaw_config_merge::{ConfigDocument, OpenClawView, schema_problems};
use hfclaw_router_client::token::TOKEN_ENV_VARS;
use hfclaw_router_client::{
    BaseUrlSource, CachePolicy, ErrorKind, Origin, RouterClient, Token, TokenSource,
    default_cache_path, load_live_models, resolve_base_url, resolve_hub_url,
};
use serde::Serialize;

use crate::args::DoctorArgs;
use crate::commands::service;
use crate::context::{Context, env, provider_models, runtime, user_models};
use crate::error::{CliError, CliResult};
use crate::login::Health;
use crate::output::{BAD, OK, WARN_MARK, print_data, print_json};
use hfclaw_catalog::listing::Selection;
use hfclaw_model_ref::UserModels;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Mark {
    Pass,
    Warn,
    Fail,
    Skip,
}

/// One line of the report.
#[derive(Serialize)]
struct Check {
    #[serde(rename = "status")]
    mark: Mark,
    area: &'static str,
    text: String,
}

/// The report being built.
#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn push(&mut self, mark: Mark, area: &'static str, text: impl Into<String>) {
        self.checks.push(Check {
            mark,
            area,
            text: text.into(),
        });
    }

    fn failed(&self) -> usize {
        self.checks.iter().filter(|c| c.mark == Mark::Fail).count()
    }

    fn render(&self) -> String {
        self.checks
            .iter()
            .map(|c| {
                let (style, mark) = match c.mark {
                    Mark::Pass => (OK, "✓"),
                    Mark::Warn => (WARN_MARK, "!"),
                    Mark::Fail => (BAD, "✗"),
                    Mark::Skip => (anstyle::Style::new().dimmed(), "-"),
                };
                format!("{style}{mark}{style:#} {:<7} {}\n", c.area, c.text)
            })
            .collect()
    }

    /// `--json`: `{"ok", "failed", "checks": [{"status", "area", "text"}]}`.
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "ok": self.failed() == 0,
            "failed": self.failed(),
            "checks": self.checks,
        })
    }
}

/// What became of reading the config.
enum ConfigState {
    Parsed(ConfigDocument),
    Missing,
    /// It does not parse: what needs it is not checked.
    Broken,
}

/// Runs `doctor`.
pub fn run(ctx: &Context, args: &DoctorArgs) -> CliResult {
    let mut report = Report::default();
    let config = check_config(ctx, &mut report);
    let view = match &config {
        ConfigState::Parsed(document) => document.view(),
        ConfigState::Missing | ConfigState::Broken => OpenClawView::default(),
    };
    let broken = matches!(config, ConfigState::Broken);
    let user = user_models(&view);
    let found = check_token(ctx, &view, &mut report)?;
    if broken {
        report.push(
            Mark::Skip,
            "service",
            "not checked: the config does not parse (env.vars, env.shellEnv)",
        );
    } else {
        check_service_token(ctx, &view, found.as_ref(), &mut report)?;
        check_shell_env(ctx, &view, &mut report);
    }
    let token = found.map(|(token, _)| token);
    let (_, url_source) =
        resolve_base_url(ctx.global.router_url.as_deref(), &crate::context::env, None);
    let live = if broken && !matches!(url_source, BaseUrlSource::Flag | BaseUrlSource::Env) {
        report.push(
            Mark::Skip,
            "router",
            "not checked: the config does not parse (it may set the router's baseUrl)",
        );
        None
    } else {
        check_router(ctx, &view, token.as_ref(), &mut report)?
    };
    match config {
        ConfigState::Parsed(_) => check_models(ctx, &view, &user, live, &mut report),
        ConfigState::Missing => report.push(Mark::Skip, "models", "not checked: no config yet"),
        ConfigState::Broken => report.push(
            Mark::Skip,
            "models",
            "not checked: the config does not parse",
        ),
    }
    if args.json {
        print_json(&report.json())?;
    } else {
        print_data(&report.render())?;
    }
    match report.failed() {
        0 => Ok(()),
        n => Err(
            CliError::runtime(format!("{n} check{} failed", if n == 1 { "" } else { "s" }))
                .hint("fix the ✗ lines above, then run `hfclaw doctor` again"),
        ),
    }
}

fn check_config(ctx: &Context, report: &mut Report) -> ConfigState {
    let path = ctx.paths.config.display();
    match ctx.load_config() {
        Ok(Some(document)) => {
            report.push(Mark::Pass, "config", format!("{path} parses"));
            let problems = schema_problems(document.value());
            if problems.is_empty() {
                report.push(Mark::Pass, "config", "no key OpenClaw would reject");
            }
            for problem in problems {
                report.push(Mark::Fail, "config", problem);
            }
            for warning in document.view().warnings {
                report.push(Mark::Warn, "config", warning);
            }
            ConfigState::Parsed(document)
        }
        Ok(None) => {
            report.push(
                Mark::Fail,
                "config",
                format!("{path} does not exist; run `hfclaw onboard`"),
            );
            ConfigState::Missing
        }
        Err(e) => {
            report.push(Mark::Fail, "config", e.message());
            ConfigState::Broken
        }
    }
}

fn check_token(
    ctx: &Context,
    view: &OpenClawView,
    report: &mut Report,
) -> CliResult<Option<(Token, TokenSource)>> {
    let Some((token, source)) = ctx.token(view)? else {
        report.push(
            Mark::Fail,
            "token",
            "no Hugging Face token; run `hfclaw onboard` or set HF_TOKEN",
        );
        return Ok(None);
    };
    report.push(
        Mark::Pass,
        "token",
        format!("{} from {source}", token.redacted()),
    );
    if let Some(login) = ctx.login_status(&token, &source) {
        let (health, text) = crate::login::describe(&login, std::time::SystemTime::now());
        let mark = match health {
            Health::Good => Mark::Pass,
            Health::Warn => Mark::Warn,
            Health::Expired => Mark::Fail,
        };
        report.push(mark, "login", text);
    }
    if ctx.global.offline {
        report.push(Mark::Skip, "token", "not checked (--offline)");
        return Ok(Some((token, source)));
    }
    let client = ctx.client(view, Some(token.clone()))?;
    let hub = resolve_hub_url(&env);
    match runtime()?.block_on(client.whoami(&hub)) {
        Ok(who) => {
            let kind = who.token_kind.as_deref().unwrap_or("unknown kind");
            report.push(
                Mark::Pass,
                "token",
                format!("valid: user {} ({kind} token)", who.name),
            );
            match who.fine_grained_scopes_ok {
                Some(false) => report.push(
                    Mark::Fail,
                    "token",
                    "this fine-grained token lacks \"Make calls to Inference Providers\" (inference.serverless.write); edit it at https://huggingface.co/settings/tokens",
                ),
                Some(true) => report.push(Mark::Pass, "token", "may call Inference Providers"),
                None => {}
            }
        }
        Err(e) if e.kind == ErrorKind::Auth => report.push(
            Mark::Fail,
            "token",
            format!("rejected by the Hub: {}", e.hint()),
        ),
        Err(e) => report.push(Mark::Warn, "token", format!("could not check it: {e}")),
    }
    Ok(Some((token, source)))
}

/// What a service (`hfclaw service install`, OpenClaw's daemon) would find, apart from
/// this shell: no `--token`, none of this shell's token variables. A ✗ when an installed
/// hfclaw service has none, a warning otherwise.
fn check_service_token(
    ctx: &Context,
    view: &OpenClawView,
    current: Option<&(Token, TokenSource)>,
    report: &mut Report,
) -> CliResult {
    match ctx.service_token(view)? {
        Some((token, source)) => {
            report.push(
                Mark::Pass,
                "service",
                format!(
                    "a service would find a token: {} from {source}",
                    token.redacted()
                ),
            );
            if let Some((current, current_source)) = current
                && *current != token
            {
                report.push(
                    Mark::Warn,
                    "service",
                    format!(
                        "that is not the token this shell uses ({} from {current_source})",
                        current.redacted()
                    ),
                );
            }
        }
        None => {
            let installed = service::installed_file();
            let mark = if installed.is_some() {
                Mark::Fail
            } else {
                Mark::Warn
            };
            let only_here = match current {
                Some((_, source)) => format!(" ({source} is not seen by a service)"),
                None => String::new(),
            };
            report.push(
                mark,
                "service",
                format!(
                    "a service would find no token{only_here}; {}",
                    service::no_token_hint(ctx, view)
                ),
            );
        }
    }
    Ok(())
}

/// The `env.shellEnv` import, when enabled: what the login shell gave, if it was asked.
fn check_shell_env(ctx: &Context, view: &OpenClawView, report: &mut Report) {
    let Some(options) = ctx.shell_env(view) else {
        return;
    };
    let shell = options.program();
    match ctx.login_shell_outcome() {
        None => report.push(
            Mark::Skip,
            "shell",
            format!(
                "env.shellEnv: login shell {} not asked (a token was found before it)",
                shell.display()
            ),
        ),
        Some(Ok(import)) => match &import.token {
            Some((_, key)) => report.push(
                Mark::Pass,
                "shell",
                format!(
                    "env.shellEnv: login shell {} exports {key}",
                    import.shell.display()
                ),
            ),
            None => report.push(
                Mark::Warn,
                "shell",
                format!(
                    "env.shellEnv: login shell {} exports none of {}",
                    import.shell.display(),
                    TOKEN_ENV_VARS.join(", ")
                ),
            ),
        },
        Some(Err(message)) => report.push(Mark::Warn, "shell", message.clone()),
    }
}

/// Fetches the router's list now (the check *is* reachability); returns whether live data
/// exists for the model checks.
fn check_router(
    ctx: &Context,
    view: &OpenClawView,
    token: Option<&Token>,
    report: &mut Report,
) -> CliResult<Option<Vec<hfclaw_catalog::LiveModel>>> {
    let base_url = ctx.base_url(view);
    if ctx.global.offline {
        report.push(
            Mark::Skip,
            "router",
            format!("{base_url} not checked (--offline)"),
        );
        return Ok(None);
    }
    let client: RouterClient = ctx.client(view, token.cloned())?;
    let Some(cache_path) = default_cache_path(&env) else {
        report.push(Mark::Warn, "router", "no cache directory; not checked");
        return Ok(None);
    };
    let policy = CachePolicy {
        refresh: true,
        ..CachePolicy::default()
    };
    let live = runtime()?.block_on(load_live_models(
        Some(&client),
        &base_url,
        &cache_path,
        policy,
        std::time::SystemTime::now(),
    ));
    match (live.origin, &live.models) {
        (Origin::Live, Some(models)) => report.push(
            Mark::Pass,
            "router",
            format!("{base_url} answers: {} models", models.len()),
        ),
        _ => {
            let why = live
                .retry
                .as_ref()
                .map(|r| r.reason.clone())
                .or_else(|| live.warnings.first().cloned())
                .unwrap_or_else(|| "no answer".to_owned());
            report.push(Mark::Fail, "router", format!("{base_url}: {why}"));
        }
    }
    for warning in &live.warnings {
        report.push(Mark::Warn, "router", warning.clone());
    }
    Ok(live.models)
}

fn check_models(
    ctx: &Context,
    view: &OpenClawView,
    user: &UserModels,
    live: Option<Vec<hfclaw_catalog::LiveModel>>,
    report: &mut Report,
) {
    for problem in &user.problems {
        report.push(Mark::Fail, "models", problem.clone());
    }
    let catalog = match live {
        Some(models) => hfclaw_catalog::Catalog::merge(
            hfclaw_catalog::builtin::models(),
            Some(models),
            provider_models(view),
        ),
        None => match ctx.catalog(view, false, false) {
            Ok(catalog) => catalog,
            Err(_) => ctx.offline_catalog(view),
        },
    };
    let problems = check_selection(&catalog, &Selection::from(user));
    for problem in &problems {
        let mark = match problem {
            SelectionProblem::Ref { problem, .. } if !problem.is_serious() => Mark::Warn,
            _ => Mark::Fail,
        };
        report.push(mark, "models", problem.to_string());
    }
    let gaps = view.allowlist_gaps();
    for (role, model_ref) in &gaps {
        report.push(
            Mark::Fail,
            "models",
            format!("{role} {model_ref} is not in the allowlist; run `hfclaw models set` or `fallbacks add` again to add it"),
        );
    }
    if problems.is_empty() && gaps.is_empty() && user.problems.is_empty() {
        let what = match (&user.primary, user.fallbacks.len()) {
            (Some(primary), 0) => format!("default {primary} is known"),
            (Some(primary), n) => format!("default {primary} and {n} fallback(s) are known"),
            (None, _) => "no default model".to_owned(),
        };
        report.push(Mark::Pass, "models", what);
    }
}
