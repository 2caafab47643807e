//! `hfclaw onboard`: token, default model and provider block in one step, with OpenClaw's
//! flags. Non-interactive mode takes everything from flags and the environment; the
//! interactive mode (a terminal) prompts for the token and offers a model picker.

use std::io::IsTerminal;

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, FuzzySelect, Password, Select};
use hfclaw_catalog::{Catalog, Model};
use hfclaw_config_merge::{ConfigDocument, OpenClawView, env_file};
use hfclaw_model_ref::{ModelRef, Suffix};
use hfclaw_router_client::{DEFAULT_HUB_URL, ErrorKind, Token, TokenSource};

use crate::args::OnboardArgs;
use crate::commands::service;
use crate::context::{Context, config_entry_for, env, runtime, user_models};
use crate::error::{CliError, CliResult};
use hfclaw_model_ref::UserModels;

/// The default model when `--model` is absent (the seed page's choice).
pub const DEFAULT_MODEL: &str = "huggingface/deepseek-ai/DeepSeek-R1";

/// Where users create tokens.
const TOKENS_URL: &str = "https://huggingface.co/settings/tokens";

/// Runs `onboard`.
pub fn run(ctx: &Context, args: &OnboardArgs) -> CliResult {
    check_choices(args)?;
    let (document, view) = ctx.load_for_edit()?;
    if args.non_interactive {
        return non_interactive(ctx, args, document, &view);
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(CliError::input("`hfclaw onboard` needs a terminal to ask questions").hint(
            "run it in a terminal, or pass --non-interactive --huggingface-api-key KEY [--model REF]",
        ));
    }
    interactive(ctx, args, document, &view)
}

/// OpenClaw's `--mode` and `--auth-choice` have other values hfclaw does not implement.
fn check_choices(args: &OnboardArgs) -> CliResult {
    if args.mode != "local" {
        return Err(
            CliError::input(format!("unsupported --mode {:?}", args.mode))
                .hint("hfclaw configures a local OpenClaw: use --mode local"),
        );
    }
    if args.auth_choice != "huggingface-api-key" {
        return Err(
            CliError::input(format!("unsupported --auth-choice {:?}", args.auth_choice))
                .hint("hfclaw sets up Hugging Face: use --auth-choice huggingface-api-key"),
        );
    }
    Ok(())
}

/// The key to store: the flag's (saved to `.env`) or the environment's (left where it is).
struct KeyChoice {
    token: Token,
    /// Save it to the state dir `.env` (it was typed or passed as a flag).
    store: bool,
    /// Where it was found (`None`: `--huggingface-api-key` or typed).
    source: Option<TokenSource>,
}

impl KeyChoice {
    /// A key found where every command looks ([`Context::token`]): OpenClaw reads
    /// neither `--token` nor the Hugging Face CLI's token file, so those are saved.
    fn found(token: Token, source: TokenSource) -> KeyChoice {
        let store = matches!(source, TokenSource::Flag | TokenSource::HfCliTokenFile(_));
        KeyChoice {
            token,
            store,
            source: Some(source),
        }
    }
}

/// The default model to write: `--model`, else the one the config has (a second run
/// keeps it), else [`DEFAULT_MODEL`]. The flag says whether it is the kept one.
fn chosen_model(
    ctx: &Context,
    args: &OnboardArgs,
    user: &UserModels,
    catalog: &Catalog,
) -> CliResult<(ModelRef, bool)> {
    match (&args.model, &user.primary) {
        (Some(input), _) => Ok((ctx.resolve_model(input, user, catalog)?, false)),
        (None, Some(primary)) => Ok((primary.clone(), true)),
        (None, None) => Ok((ctx.resolve_model(DEFAULT_MODEL, user, catalog)?, false)),
    }
}

fn non_interactive(
    ctx: &Context,
    args: &OnboardArgs,
    document: Option<ConfigDocument>,
    view: &OpenClawView,
) -> CliResult {
    let key = match &args.huggingface_api_key {
        Some(value) => Token::new(value.clone()).map(|token| KeyChoice {
            token,
            store: true,
            source: None,
        }),
        // Wherever every other command finds one: --token, the environment, the state
        // dir .env (a first run wrote it there), env.vars, the login shell, the HF CLI.
        None => ctx
            .token(view)?
            .map(|(token, source)| KeyChoice::found(token, source)),
    };
    let Some(key) = key else {
        return Err(missing_key());
    };
    if let Some(problem) = key.token.shape_problem() {
        return Err(CliError::input(format!(
            "the Hugging Face key {problem} (a token is hf_ followed by letters and digits)"
        ))
        .hint(format!("copy it again from {TOKENS_URL}")));
    }
    let user = user_models(view);
    let catalog = ctx.catalog(view, false, false)?;
    let (model_ref, kept) = chosen_model(ctx, args, &user, &catalog)?;
    apply(
        ctx,
        document,
        view,
        &catalog,
        (&model_ref, kept),
        Some(&key),
    )
}

fn missing_key() -> CliError {
    CliError::input("no Hugging Face key: pass --huggingface-api-key or set HF_TOKEN")
        .hint(format!(
            "create a token at {TOKENS_URL} (a fine-grained token needs \"Make calls to Inference Providers\")"
        ))
}

/// When the token lives only in this shell's environment, says that a service
/// (`hfclaw service`, OpenClaw's daemon) will not see it, and how to save it.
fn note_where_a_service_looks(ctx: &Context, view: &OpenClawView, key: &KeyChoice) -> CliResult {
    let Some(TokenSource::Env(name)) = &key.source else {
        return Ok(());
    };
    match ctx.service_token(view)? {
        None => ctx.messages.note(format!(
            "a service (`hfclaw service`, OpenClaw's daemon) does not see this shell's \
             {name}; {}",
            service::no_token_hint(ctx, view)
        )),
        Some((other, other_source)) if other != key.token => ctx.messages.note(format!(
            "a service (`hfclaw service`, OpenClaw's daemon) does not see this shell's \
             {name}: it would use {} from {other_source}",
            other.redacted()
        )),
        Some(_) => {}
    }
    Ok(())
}

/// Writes the onboarding result: primary, alias, allowlist entry, provider block with the
/// model's catalog entry, and the key in `.env` when it should be stored.
///
/// `model` is the default and whether it is the config's own, kept as it is (no alias
/// added). The provider block gets a `baseUrl` only from an explicit `--router-url` (the
/// public router's removes a saved one): `$HFCLAW_ROUTER_URL` is this shell's, not the
/// config's.
fn apply(
    ctx: &Context,
    document: Option<ConfigDocument>,
    view: &OpenClawView,
    catalog: &Catalog,
    (model_ref, kept): (&ModelRef, bool),
    key: Option<&KeyChoice>,
) -> CliResult {
    let base_url = ctx.base_url_to_write();
    let alias = if kept || view.alias_of(model_ref.as_str()).is_some() {
        None
    } else {
        free_alias(view, catalog, model_ref)
    };
    let entry = config_entry_for(catalog, model_ref);
    let (_, outcome) = ctx.edit_config(document, |editor| {
        editor.set_primary(model_ref.as_str())?;
        editor.allow(model_ref.as_str())?;
        if let Some(alias) = &alias {
            editor.set_alias(model_ref.as_str(), alias)?;
        }
        editor.ensure_provider_block(None)?;
        if let Some(url) = &base_url {
            editor.set_provider_base_url(url.as_deref())?;
        }
        if let Some(entry) = &entry {
            editor.merge_provider_models(std::slice::from_ref(entry))?;
        }
        Ok(())
    })?;
    if kept {
        ctx.messages.status(format!(
            "default model: {model_ref} (kept; --model changes it)"
        ));
    } else {
        ctx.messages.status(format!("default model: {model_ref}"));
    }
    if let Some(alias) = &alias {
        ctx.messages
            .status(format!("alias \"{alias}\" → {model_ref}"));
    }
    ctx.report_write(&outcome);
    if let Some(KeyChoice {
        token,
        store: false,
        source: Some(source),
    }) = key
    {
        ctx.messages.status(format!(
            "using the token ({}) from {source}",
            token.redacted()
        ));
    }
    if let Some(key) = key.filter(|k| k.store) {
        let changed = env_file::set_var(&ctx.paths.env_file, "HF_TOKEN", key.token.expose())?;
        let path = ctx.paths.env_file.display();
        ctx.messages.status(if changed {
            format!("saved the token ({}) to {path}", key.token.redacted())
        } else {
            format!("the token ({}) was already in {path}", key.token.redacted())
        });
    }
    if let Some(key) = key {
        note_where_a_service_looks(ctx, view, key)?;
    }
    ctx.messages
        .status("next: `hfclaw chat \"hello\"`, or `openclaw` to start your agent");
    Ok(())
}

/// The catalog's display name as alias (`DeepSeek R1`, `Qwen3 8B (cheapest)`), unless
/// another ref already uses it.
fn free_alias(view: &OpenClawView, catalog: &Catalog, model_ref: &ModelRef) -> Option<String> {
    let name = catalog
        .get(model_ref.model_id())
        .map(|m| m.name.clone())
        .unwrap_or_else(|| hfclaw_catalog::derive_name(model_ref.model_id()));
    let alias = match model_ref.suffix() {
        Some(suffix) => format!("{name} ({suffix})"),
        None => name,
    };
    let taken = view
        .models
        .iter()
        .any(|e| e.alias.as_deref() == Some(alias.as_str()) && e.key != model_ref.as_str());
    (!taken).then_some(alias)
}

fn interactive(
    ctx: &Context,
    args: &OnboardArgs,
    document: Option<ConfigDocument>,
    view: &OpenClawView,
) -> CliResult {
    let theme = ColorfulTheme::default();
    let key = ask_token(ctx, args, view, &theme)?;
    let user = user_models(view);
    let catalog = {
        let spinner = spinner("loading the model list…");
        let catalog = ctx.catalog(view, true, false);
        spinner.finish_and_clear();
        catalog?
    };
    let model_ref = match &args.model {
        Some(input) => ctx.resolve_model(input, &user, &catalog)?,
        None => pick_model(&catalog, user.primary.as_ref(), &theme)?,
    };
    apply(
        ctx,
        document,
        view,
        &catalog,
        (&model_ref, false),
        Some(&key),
    )
}

/// Reuses a detected token if the user agrees, else asks for one (hidden), then checks it.
fn ask_token(
    ctx: &Context,
    args: &OnboardArgs,
    view: &OpenClawView,
    theme: &ColorfulTheme,
) -> CliResult<KeyChoice> {
    if let Some(value) = &args.huggingface_api_key {
        let token = Token::new(value.clone()).ok_or_else(missing_key)?;
        return Ok(KeyChoice {
            token,
            store: true,
            source: None,
        });
    }
    if let Some((token, source)) = ctx.token(view)? {
        let reuse = Confirm::with_theme(theme)
            .with_prompt(format!(
                "Use the token from {source} ({})?",
                token.redacted()
            ))
            .default(true)
            .interact()
            .map_err(prompt_error)?;
        if reuse {
            check_token(ctx, view, &token)?;
            return Ok(KeyChoice::found(token, source));
        }
    }
    ctx.messages.status(format!(
        "Create a token at {TOKENS_URL} (fine-grained: \"Make calls to Inference Providers\")."
    ));
    loop {
        let typed = Password::with_theme(theme)
            .with_prompt("Hugging Face token")
            .validate_with(
                |v: &String| match Token::new(v.clone()).map(|t| t.shape_problem()) {
                    Some(None) => Ok(()),
                    Some(Some(problem)) => Err(format!("this token {problem}")),
                    None => Err("a token is hf_ followed by letters and digits".to_owned()),
                },
            )
            .interact()
            .map_err(prompt_error)?;
        let Some(token) = Token::new(typed) else {
            continue;
        };
        match check_token(ctx, view, &token) {
            Ok(()) => {
                return Ok(KeyChoice {
                    token,
                    store: true,
                    source: None,
                });
            }
            Err(e) if e.exit_code() == 2 => {
                ctx.messages.warn(e.message());
                for hint in e.hints() {
                    ctx.messages.note(hint);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Asks the Hub who the token belongs to; a rejected token is an input error, an
/// unreachable Hub only a warning (the user may be offline on purpose).
fn check_token(ctx: &Context, view: &OpenClawView, token: &Token) -> CliResult {
    if ctx.global.offline {
        return Ok(());
    }
    let client = ctx.client(view, Some(token.clone()))?;
    let hub = env("HFCLAW_HUB_URL").unwrap_or_else(|| DEFAULT_HUB_URL.to_owned());
    let spinner = spinner("checking the token…");
    let result = runtime()?.block_on(client.whoami(&hub));
    spinner.finish_and_clear();
    match result {
        Ok(who) => {
            ctx.messages.status(format!("token OK: {}", who.name));
            if who.fine_grained_scopes_ok == Some(false) {
                ctx.messages.warn(
                    "this fine-grained token lacks \"Make calls to Inference Providers\"; chats will fail with 403",
                );
            }
            Ok(())
        }
        Err(e) if e.kind == ErrorKind::Auth => Err(CliError::input("the Hub rejected this token")
            .hint(format!("check it, or create a new one at {TOKENS_URL}"))),
        Err(e) => {
            ctx.messages
                .warn(format!("could not check the token: {e}; continuing"));
            Ok(())
        }
    }
}

/// Type-to-filter list of catalog models, then the routing variant.
fn pick_model(
    catalog: &Catalog,
    current: Option<&ModelRef>,
    theme: &ColorfulTheme,
) -> CliResult<ModelRef> {
    let models: Vec<&Model> = catalog
        .models()
        .iter()
        .filter(|m| m.available != Some(false) && !m.id.contains(':'))
        .collect();
    let default_id = current.map_or("deepseek-ai/DeepSeek-R1", |r| r.model_id());
    let default = models.iter().position(|m| m.id == default_id).unwrap_or(0);
    let items: Vec<String> = models.iter().map(|m| picker_line(m)).collect();
    let index = FuzzySelect::with_theme(theme)
        .with_prompt("Default model (type to filter)")
        .items(&items)
        .default(default)
        .max_length(12)
        .interact()
        .map_err(prompt_error)?;
    let model = models[index];
    let variants = [
        (None, "default routing (the router picks a provider)"),
        (Some(Suffix::Fastest), ":fastest (highest throughput)"),
        (Some(Suffix::Cheapest), ":cheapest (lowest price per token)"),
    ];
    let labels: Vec<&str> = variants.iter().map(|(_, label)| *label).collect();
    let variant = Select::with_theme(theme)
        .with_prompt("Routing")
        .items(&labels)
        .default(0)
        .interact()
        .map_err(prompt_error)?;
    ModelRef::huggingface(&model.id, variants[variant].0.as_ref()).map_err(CliError::from)
}

fn picker_line(model: &Model) -> String {
    use hfclaw_catalog::display;
    let context = model
        .context_window
        .map(|c| format!("{} ctx", display::context_size(c)))
        .unwrap_or_default();
    let price = model
        .cost
        .map(|c| {
            let (input, output) = (display::price(c.input), display::price(c.output));
            format!("${input}/${output} per 1M")
        })
        .unwrap_or_default();
    format!("{:<28} {:<52} {context:>9}  {price}", model.name, model.id)
}

fn spinner(message: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}

fn prompt_error(e: dialoguer::Error) -> CliError {
    CliError::runtime(format!("prompt failed: {e}")).hint("use --non-interactive")
}
