//! What every command needs: global flags, the config's location and content, the user's
//! model choices as typed refs, and the merged catalog.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hfclaw_catalog::cache::unix_seconds;
use hfclaw_catalog::checks::{RefProblem, check_ref};
use hfclaw_catalog::{Catalog, ConfigModel, DataSource, builtin};
use hfclaw_config_merge::{
    AgentModelEntry, ConfigDocument, ConfigPaths, EditOutcome, Editor, OpenClawView, ProviderModels,
};
use hfclaw_model_ref::{ModelRef, ResolveError, UserModels, Via};
use hfclaw_router_client::base_url::normalize_base_url;
use hfclaw_router_client::discovery::format_age;
use hfclaw_router_client::oauth::{LoginFiles, LoginStatus, RefreshSettings, Refresher};
use hfclaw_router_client::shell_env::{self, DEFAULT_TIMEOUT, LoginShell, ShellImport};
use hfclaw_router_client::{
    CachePolicy, ClientOptions, DEFAULT_BASE_URL, DISCOVERY_CONNECT_TIMEOUT, Discovery, Origin,
    Retry, RouterClient, Token, TokenInputs, TokenSource, default_cache_path, fetch_planned,
    plan_discovery, resolve_base_url, resolve_token,
};

use crate::args::GlobalArgs;
use crate::error::{CliError, CliResult};
use crate::output::Messages;

/// Global flags plus what was derived from them.
pub struct Context {
    /// The global flags.
    pub global: GlobalArgs,
    /// Message printer honouring `-q`.
    pub messages: Messages,
    /// Where the config, state dir and `.env` are.
    pub paths: ConfigPaths,
    /// The subcommands' names (`["models", "list"]`): hints name only flags it has.
    pub command: Vec<String>,
    /// The login shell's answer (`env.shellEnv`), asked at most once per run; its
    /// failure as the warning already printed.
    login_shell: OnceLock<Result<ShellImport, String>>,
    /// The refresher of the Hugging Face CLI's login (`hf auth login`), made on first use.
    hf_login: OnceLock<Option<Arc<Refresher>>>,
}

/// `User-Agent` of hfclaw's requests.
const USER_AGENT: &str = concat!("hfclaw/", env!("CARGO_PKG_VERSION"));

/// OpenClaw's environment equivalent of `env.shellEnv.enabled: true`.
pub const LOAD_SHELL_ENV_VAR: &str = "OPENCLAW_LOAD_SHELL_ENV";
/// OpenClaw's environment equivalent of `env.shellEnv.timeoutMs`.
pub const SHELL_ENV_TIMEOUT_VAR: &str = "OPENCLAW_SHELL_ENV_TIMEOUT_MS";

impl Context {
    /// Locates the config from flags and environment, for the command named by `command`
    /// (its subcommands' names).
    pub fn new(global: GlobalArgs, command: &[String]) -> CliResult<Context> {
        let home = home_dir();
        let paths =
            hfclaw_config_merge::locate(global.config.as_deref(), &env_os, home.as_deref())?;
        Ok(Context {
            messages: Messages::new(global.quiet),
            global,
            paths,
            command: command.to_vec(),
            login_shell: OnceLock::new(),
            hf_login: OnceLock::new(),
        })
    }

    /// Whether this command takes `--{long}` (its own flags and the global ones), asked of
    /// clap: a hint never names a flag the command lacks.
    pub fn has_flag(&self, long: &str) -> bool {
        crate::args::command_has_flag(&self.command, long)
    }

    /// How to fetch the router's list now: `--refresh` where this command has the flag,
    /// else the command that has it.
    pub fn refresh_advice(&self) -> &'static str {
        if self.has_flag("refresh") {
            "--refresh"
        } else {
            "`hfclaw models list --refresh`"
        }
    }

    /// Reads and parses the config; `None` when the file does not exist yet.
    pub fn load_config(&self) -> CliResult<Option<ConfigDocument>> {
        Ok(ConfigDocument::load(&self.paths.config)?)
    }

    /// The config's view, empty when there is no config file; for commands that never
    /// edit (read without holding the provider's whole model list as a tree).
    pub fn load_view(&self) -> CliResult<OpenClawView> {
        let view = ConfigDocument::load_view(&self.paths.config)?.unwrap_or_default();
        self.report_view_warnings(&view);
        Ok(view)
    }

    fn report_view_warnings(&self, view: &OpenClawView) {
        for warning in &view.warnings {
            self.messages
                .warn(format!("{}: {warning}", self.paths.config.display()));
        }
    }

    /// The config document (`None` when there is no file) and its view; hand the
    /// document to [`Context::edit_config`] so the file is not parsed a second time.
    pub fn load_for_edit(&self) -> CliResult<(Option<ConfigDocument>, OpenClawView)> {
        self.load_with(|document| document.view())
    }

    /// [`Context::load_for_edit`] for a command naming `input`: of the provider's model
    /// entries, the view holds only those `input` or the default and fallbacks can refer to
    /// (ids compared ignoring case, as "did you mean" does). An edit of a config synced
    /// with thousands of models then builds a handful; `models status` reports the rest.
    pub fn load_for_edit_of(
        &self,
        input: Option<&str>,
    ) -> CliResult<(Option<ConfigDocument>, OpenClawView)> {
        self.load_with(|document| view_for(document, input, false))
    }

    fn load_with(
        &self,
        view_of: impl FnOnce(&ConfigDocument) -> OpenClawView,
    ) -> CliResult<(Option<ConfigDocument>, OpenClawView)> {
        let document = self.load_config()?;
        let view = document.as_ref().map(view_of).unwrap_or_default();
        self.report_view_warnings(&view);
        Ok((document, view))
    }

    /// Warns about refs of the config that do not parse.
    pub fn warn_ref_problems(&self, user: &UserModels) {
        for problem in &user.problems {
            self.messages
                .warn(format!("{}: {problem}", self.paths.config.display()));
        }
    }

    /// The token by SPEC §4's precedence, and where it came from. Runs the login shell
    /// when `env.shellEnv` is enabled and no earlier source has a token; refreshes an
    /// expiring `hf auth login` token of the Hugging Face CLI's token file first.
    pub fn token(&self, view: &OpenClawView) -> CliResult<Option<(Token, TokenSource)>> {
        let login_shell = || self.login_shell_import(view);
        let shell = self.shell_env(view).map(|_| &login_shell as _);
        let found = self.resolve_token(view, self.global.token.clone(), &env, shell)?;
        let found = match self.hf_login() {
            Some(refresher) => crate::login::refreshed(self, refresher, found)?,
            None => found,
        };
        if let Some((token, source)) = &found
            && let Some(problem) = token.shape_problem()
        {
            self.messages.warn(format!(
                "the token from {source} {problem}, so it does not look like a Hugging Face \
                 token (hf_…)"
            ));
        }
        Ok(found)
    }

    /// The refresher of the Hugging Face CLI's login (its files located as the token
    /// file is); `None` without a home directory.
    pub fn hf_login(&self) -> Option<&Arc<Refresher>> {
        self.hf_login
            .get_or_init(|| {
                let files = LoginFiles::locate(&env, home_dir().as_deref())?;
                let settings = RefreshSettings::from_env(&env, USER_AGENT);
                Some(Arc::new(Refresher::new(files, settings)))
            })
            .as_ref()
    }

    /// The `hf auth login` behind `token`, when it came from the Hugging Face CLI's token
    /// file and is an OAuth login (for `doctor` and `models status`).
    pub fn login_status(&self, token: &Token, source: &TokenSource) -> Option<LoginStatus> {
        let refresher = self.hf_login()?;
        crate::login::is_login_file(refresher, source)
            .then(|| refresher.status(token))
            .flatten()
    }

    /// The token for discovery, which works without one: [`Context::token`] without
    /// starting the login shell (its answer is used when it already ran), so listing models
    /// never waits for a shell profile.
    fn discovery_token(&self, view: &OpenClawView) -> CliResult<Option<Token>> {
        let earlier = || {
            self.login_shell
                .get()
                .and_then(|r| r.as_ref().ok())
                .cloned()
        };
        let found = self.resolve_token(view, self.global.token.clone(), &env, Some(&earlier))?;
        Ok(found.map(|(token, _)| token))
    }

    /// The token a service (`hfclaw service install`, or OpenClaw's own daemon) would find:
    /// no `--token`, and of the environment only the variables the unit sets
    /// ([`SERVICE_ENV_VARS`]); the state dir `.env`, the config's `env.vars`, the login
    /// shell and the Hugging Face CLI token file as usual.
    pub fn service_token(&self, view: &OpenClawView) -> CliResult<Option<(Token, TokenSource)>> {
        let login_shell = || self.login_shell_import(view);
        let shell = self.shell_env(view).map(|_| &login_shell as _);
        let service_env = |name: &str| SERVICE_ENV_VARS.contains(&name).then(|| env(name))?;
        self.resolve_token(view, None, &service_env, shell)
    }

    fn resolve_token(
        &self,
        view: &OpenClawView,
        flag: Option<String>,
        env: &dyn Fn(&str) -> Option<String>,
        login_shell: Option<&dyn Fn() -> Option<ShellImport>>,
    ) -> CliResult<Option<(Token, TokenSource)>> {
        let inputs = TokenInputs {
            flag,
            env,
            state_env_file: Some(self.paths.env_file.clone()),
            config_env_vars: view.env_vars.clone(),
            home: home_dir(),
            login_shell,
        };
        resolve_token(&inputs).map_err(|e| CliError::runtime(e.to_string()))
    }

    /// How to run the login shell, `None` when `env.shellEnv` is off (the config's
    /// `enabled`, or OpenClaw's `OPENCLAW_LOAD_SHELL_ENV=1`).
    pub fn shell_env(&self, view: &OpenClawView) -> Option<LoginShell> {
        let by_env = env(LOAD_SHELL_ENV_VAR).is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        });
        if !view.shell_env.enabled && !by_env {
            return None;
        }
        let timeout = view
            .shell_env
            .timeout_ms
            .or_else(|| env(SHELL_ENV_TIMEOUT_VAR)?.trim().parse().ok())
            .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
        Some(LoginShell::new(env_os("SHELL").map(PathBuf::from), timeout))
    }

    /// The login shell's answer, if it already ran in this process (for `doctor`).
    pub fn login_shell_outcome(&self) -> Option<&Result<ShellImport, String>> {
        self.login_shell.get()
    }

    /// Runs the login shell once per process; a failure is a warning, not an error.
    fn login_shell_import(&self, view: &OpenClawView) -> Option<ShellImport> {
        let outcome = self.login_shell.get_or_init(|| {
            let Some(options) = self.shell_env(view) else {
                return Err("env.shellEnv is off".to_owned());
            };
            tracing::debug!(
                "env.shellEnv: asking the login shell {}",
                options.program().display()
            );
            shell_env::read_token(&options).map_err(|e| {
                let message = format!("env.shellEnv: {e}");
                self.messages.warn(&message);
                message
            })
        });
        outcome.as_ref().ok().cloned()
    }

    /// The router base URL: `--router-url`, `$HFCLAW_ROUTER_URL`, the config's, the default.
    pub fn base_url(&self, view: &OpenClawView) -> String {
        let config_url = view.provider.as_ref().and_then(|p| p.base_url.as_deref());
        resolve_base_url(self.global.router_url.as_deref(), &env, config_url).0
    }

    /// What an edit writes as the provider block's `baseUrl`: nothing without an explicit
    /// `--router-url` (`$HFCLAW_ROUTER_URL` is this shell's, not the config's), `Some(None)`
    /// for the public router (a saved override is removed), else the URL.
    pub fn base_url_to_write(&self) -> Option<Option<String>> {
        let url = normalize_base_url(self.global.router_url.as_deref()?);
        Some((url != DEFAULT_BASE_URL).then_some(url))
    }

    /// A router client with the config's headers (e.g. `X-HF-Bill-To`).
    pub fn client(&self, view: &OpenClawView, token: Option<Token>) -> CliResult<RouterClient> {
        self.client_with(view, token, |_| {})
    }

    /// [`Context::client`] with options adjusted by `adjust` (e.g. a shorter timeout).
    fn client_with(
        &self,
        view: &OpenClawView,
        token: Option<Token>,
        adjust: impl FnOnce(&mut ClientOptions),
    ) -> CliResult<RouterClient> {
        let mut options = ClientOptions::new(self.base_url(view));
        options.token = token;
        options.user_agent = USER_AGENT.to_owned();
        options.extra_headers = view
            .provider
            .as_ref()
            .map(|p| p.headers.clone())
            .unwrap_or_default();
        adjust(&mut options);
        RouterClient::new(options).map_err(|e| {
            CliError::input(e.to_string()).hint(
                "check --router-url, $HFCLAW_ROUTER_URL or models.providers.huggingface.baseUrl",
            )
        })
    }

    /// The catalog with live data: from the network when `network` and the cache is stale
    /// (or `refresh`), else from the cache of any age, else built-in only.
    pub fn catalog(&self, view: &OpenClawView, network: bool, refresh: bool) -> CliResult<Catalog> {
        Ok(self.dated_catalog(view, network, refresh)?.0)
    }

    /// [`Context::catalog`], dated ([`Catalog::data_source`]), with the failed fetch that
    /// kept it from being live, if any: what [`Context::report_catalog`] tells the user.
    pub fn dated_catalog(
        &self,
        view: &OpenClawView,
        network: bool,
        refresh: bool,
    ) -> CliResult<(Catalog, Option<Retry>)> {
        let config = Cow::Borrowed(provider_models(view));
        self.dated_catalog_from(view, config, network, refresh)
    }

    /// [`Context::dated_catalog`] of these config entries, moved into the catalog when
    /// owned (`models list` of a config synced with 200,000 models holds them once).
    pub fn dated_catalog_from(
        &self,
        view: &OpenClawView,
        config: Cow<'_, [ConfigModel]>,
        network: bool,
        refresh: bool,
    ) -> CliResult<(Catalog, Option<Retry>)> {
        let offline = self.global.offline || !network;
        let Some(cache_path) = default_cache_path(&env) else {
            return Ok((self.offline_catalog_from(config), None));
        };
        let base_url = self.base_url(view);
        let policy = CachePolicy {
            offline,
            refresh,
            ..CachePolicy::default()
        };
        let now = SystemTime::now();
        // The HTTP client (TLS roots) and the async runtime cost more than the rest of a
        // command: build them only when the cache policy wants a fetch.
        let live = match plan_discovery(&base_url, &cache_path, policy, now) {
            Discovery::Done(data) => data,
            Discovery::Fetch(plan) => {
                let token = self.discovery_token(view)?;
                // A router that drops packets costs at most the connect timeout, once:
                // then the failure is remembered.
                let client = self.client_with(view, token, |options| {
                    options.connect_timeout = DISCOVERY_CONNECT_TIMEOUT;
                })?;
                runtime()?.block_on(fetch_planned(&client, plan, now))
            }
        };
        for warning in &live.warnings {
            self.messages.warn(warning);
        }
        if let Some(retry) = live.retry.as_ref().filter(|r| !r.skipped) {
            self.messages
                .warn(self.fetch_failure(retry, live.models.is_some()));
        }
        for skipped in &live.skipped {
            tracing::debug!("router list entry skipped: {skipped}");
        }
        let source = match live.origin {
            Origin::Live => DataSource::Live {
                fetched_at: Some(unix_seconds(now)),
            },
            Origin::Cache { age } | Origin::StaleCache { age } => DataSource::Cache {
                fetched_at: unix_seconds(now).saturating_sub(age.as_secs()),
            },
            Origin::BuiltinOnly => DataSource::BuiltIn,
        };
        let catalog = Catalog::merge_from(builtin::models(), live.models, config).dated(source);
        self.warn_catalog(&catalog);
        Ok((catalog, live.retry))
    }

    /// One stderr line when the catalog's numbers are not live: `catalog: built-in snapshot
    /// of 2026-07-27 (…)` or `catalog: cached 3 h ago`, with why the router was not asked.
    pub fn report_catalog(&self, catalog: &Catalog, retry: Option<&Retry>) {
        if !catalog.data_source().is_live() {
            self.messages
                .status(format!("catalog: {}", self.catalog_line(catalog, retry)));
        }
    }

    /// This run's failed fetch, for a warning: `could not fetch the model list (…); next
    /// try in 1 min, or now with --refresh`, or the refused list and what was kept.
    pub fn fetch_failure(&self, retry: &Retry, kept_cache: bool) -> String {
        let next = format_age(retry.next_in);
        if retry.refused {
            let kept = if kept_cache { "cached" } else { "built-in" };
            return format!(
                "{}; kept the {kept} list (next try in {next})",
                retry.reason
            );
        }
        let what = if kept_cache { "refresh" } else { "fetch" };
        format!(
            "could not {what} the model list ({}); next try in {next}, or now with {}",
            retry.reason,
            self.refresh_advice()
        )
    }

    /// Where the catalog's numbers come from, and why the router was not asked, e.g.
    /// `built-in snapshot of 2026-07-27 (--offline)`; an old snapshot says its age and how
    /// to get live data.
    pub fn catalog_line(&self, catalog: &Catalog, retry: Option<&Retry>) -> String {
        let source = catalog.data_source();
        let live_data = "`hfclaw models list --refresh` fetches live data";
        let old = (source == DataSource::BuiltIn)
            .then(|| stale_snapshot_days(SystemTime::now()))
            .flatten();
        let why = match retry {
            _ if self.global.offline && old.is_some() => format!("--offline; {live_data}"),
            _ if self.global.offline => "--offline".to_owned(),
            Some(retry) if retry.skipped => {
                tracing::debug!("the last fetch failed: {}", retry.reason);
                format!(
                    "the last fetch failed {} ago; next try in {}, or now with {}",
                    format_age(retry.failed_ago),
                    format_age(retry.next_in),
                    self.refresh_advice()
                )
            }
            Some(retry) if retry.refused => retry.reason.clone(),
            // This run's failure was just reported, with what to do.
            Some(_) => String::new(),
            None if source == DataSource::BuiltIn => {
                format!("{} fetches live data", self.refresh_advice())
            }
            None => String::new(),
        };
        let mut line = describe_source(source);
        if let Some(days) = old {
            line.push_str(&format!(", {days} days old"));
        }
        if !why.is_empty() {
            line.push_str(&format!(" ({why})"));
        }
        line
    }

    /// The built-in catalog merged with the config's provider entries (no network).
    pub fn offline_catalog(&self, view: &OpenClawView) -> Catalog {
        self.offline_catalog_from(Cow::Borrowed(provider_models(view)))
    }

    fn offline_catalog_from(&self, config: Cow<'_, [ConfigModel]>) -> Catalog {
        let catalog = Catalog::merge_from(builtin::models(), None, config);
        self.warn_catalog(&catalog);
        catalog
    }

    /// Turns what the user typed into a ref by the one rule (`UserModels::resolve`):
    /// refused (exit 2, with a "did you mean") when nothing knows it; says how when it
    /// was not a full ref, and what the catalog has to say about it (not listed, not
    /// served, another provider's).
    pub fn resolve_model(
        &self,
        input: &str,
        user: &UserModels,
        catalog: &Catalog,
    ) -> CliResult<ModelRef> {
        let resolved = user
            .resolve(input, catalog)
            .map_err(|e| self.resolve_error(e, catalog))?;
        let model_ref = resolved.model_ref;
        match &resolved.via {
            Via::Ref | Via::Config | Via::Default => {}
            Via::Alias(alias) => self
                .messages
                .note(format!("alias \"{alias}\" is {model_ref}")),
            Via::BarePrefixed => self.messages.note(format!("using {model_ref}")),
            Via::Provider => self.messages.note(format!(
                "{model_ref} is a model of provider \"{}\" (not Hugging Face): kept as typed",
                model_ref.provider()
            )),
        }
        for warning in &resolved.warnings {
            self.messages.warn(warning.to_string());
        }
        // Whether it is listed, and its `:<provider>`, were decided above.
        if let Some(problem @ RefProblem::NotServed { .. }) = check_ref(catalog, &model_ref) {
            self.messages.warn(problem.to_string());
        }
        Ok(model_ref)
    }

    /// A name that did not resolve, as an input error; an unknown one says when only the
    /// built-in snapshot was searched, and how to ask the router.
    fn resolve_error(&self, error: ResolveError, catalog: &Catalog) -> CliError {
        let unknown = matches!(error, ResolveError::Unknown { .. });
        let error = CliError::from(error);
        if !unknown || catalog.has_live_data() {
            return error;
        }
        let why = if self.global.offline {
            " (--offline)".to_owned()
        } else {
            format!("; {} asks the router", self.refresh_advice())
        };
        error.hint(format!(
            "only the built-in snapshot of {} was searched{why}",
            builtin::AS_OF
        ))
    }

    /// Applies `f` to the config under a lock and writes it safely; reports the backup.
    /// `loaded` is the document read earlier by [`Context::load_for_edit`], if any.
    pub fn edit_config<T>(
        &self,
        loaded: Option<ConfigDocument>,
        f: impl FnOnce(&mut Editor) -> Result<T, hfclaw_config_merge::ConfigError>,
    ) -> CliResult<(T, EditOutcome)> {
        let (value, outcome) =
            hfclaw_config_merge::edit_loaded_config(&self.paths.config, loaded, f)?;
        if let Some(backup) = &outcome.backup {
            tracing::debug!("previous config kept as {}", backup.display());
        }
        Ok((value, outcome))
    }

    /// "updated <path>" or "<path> already up to date", on stderr.
    pub fn report_write(&self, outcome: &EditOutcome) {
        let path = self.paths.config.display();
        if outcome.created {
            self.messages.status(format!("created {path}"));
        } else if outcome.changed {
            self.messages.status(format!("updated {path}"));
        } else {
            self.messages.status(format!("{path} already up to date"));
        }
    }

    fn warn_catalog(&self, catalog: &Catalog) {
        for warning in catalog.warnings() {
            self.messages
                .warn(format!("{}: {warning}", self.paths.config.display()));
        }
    }
}

/// The environment variables a service unit carries over from the shell that installed
/// it: where the config, state and caches are, and OpenClaw's shell-env switches. Never
/// a token.
pub const SERVICE_ENV_VARS: &[&str] = &[
    "OPENCLAW_CONFIG_PATH",
    "OPENCLAW_STATE_DIR",
    LOAD_SHELL_ENV_VAR,
    SHELL_ENV_TIMEOUT_VAR,
    "HFCLAW_ROUTER_URL",
    "HFCLAW_CACHE_DIR",
    "HFCLAW_DATA_DIR",
    "HF_HOME",
    "HF_TOKEN_PATH",
];

/// A built-in snapshot older than this many days says its age in the `catalog:` line.
pub const STALE_SNAPSHOT_DAYS: i64 = 60;

/// The built-in snapshot's age in whole days at `now`, when it is older than
/// [`STALE_SNAPSHOT_DAYS`]: the `catalog:` line then says it.
pub fn stale_snapshot_days(now: SystemTime) -> Option<i64> {
    let now_ms = hfclaw_accounting::time::unix_ms(now);
    let as_of = hfclaw_accounting::time::parse_time(builtin::AS_OF, now_ms)?;
    Some((now_ms - as_of).div_euclid(86_400_000)).filter(|days| *days > STALE_SNAPSHOT_DAYS)
}

/// What the catalog's router data is: `built-in snapshot of 2026-07-27`, `cached 3 h ago`.
pub fn describe_source(source: DataSource) -> String {
    match source {
        DataSource::BuiltIn => format!("built-in snapshot of {}", builtin::AS_OF),
        DataSource::Cache { fetched_at } => {
            let fetched = UNIX_EPOCH + Duration::from_secs(fetched_at);
            let age = SystemTime::now()
                .duration_since(fetched)
                .unwrap_or(Duration::ZERO);
            format!("cached {} ago", format_age(age))
        }
        DataSource::Live { .. } => "live from the router".to_owned(),
    }
}

/// An environment variable as a string; unset, empty or non-UTF-8 values count as unset.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A single-threaded async runtime for the commands that talk to the network.
pub fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(format!("starting the async runtime: {e}")))
}

/// The error of a command that needs a Hugging Face token and found none.
pub fn no_token() -> CliError {
    CliError::input("no Hugging Face token found")
        .hint("run `hfclaw onboard`, set HF_TOKEN, or pass --token (see `hfclaw models status`)")
}

/// [`env`] for values that may not be UTF-8 (paths).
pub fn env_os(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// `$HOME`, else the platform's idea of it.
pub fn home_dir() -> Option<PathBuf> {
    env_os("HOME").map(PathBuf::from).or_else(dirs::home_dir)
}

/// The provider-block entry `models sync` and `onboard` write for a ref: the catalog's
/// data under the ref's router id, named like the seed page (`DeepSeek R1 (fastest)`).
pub fn config_entry_for(catalog: &Catalog, model_ref: &ModelRef) -> Option<ConfigModel> {
    let mut entry = catalog.model_for(model_ref)?.to_config_entry();
    entry.id = model_ref.router_model_id().to_owned();
    // An entry of its own (e.g. written by an earlier sync) is already named for its
    // suffix; one derived from the base model is not.
    let derived = catalog.get(model_ref.router_model_id()).is_none();
    if let (true, Some(suffix), Some(name)) = (derived, model_ref.suffix(), entry.name.as_mut()) {
        *name = format!("{name} ({suffix})");
    }
    Some(entry)
}

/// The view of `document` holding, of the provider's model entries, only those `input`
/// or the default and fallbacks can refer to (ids compared ignoring case, as "did you mean"
/// does). With `check_all` the others are read too, so their problems are reported, but
/// not kept: `models status` of a config synced with 200,000 models holds a handful.
pub fn view_for(document: &ConfigDocument, input: Option<&str>, check_all: bool) -> OpenClawView {
    let mut view = document.view_with(ProviderModels::Skip);
    let wanted = ids_named(input, &user_models(&view), check_all);
    let keep = |id: &str| wanted.contains(&id.to_ascii_lowercase());
    let which = if check_all {
        ProviderModels::Checked(&keep)
    } else {
        ProviderModels::Matching(&keep)
    };
    document.read_provider_models(&mut view, which);
    view
}

/// Lower-cased router and model ids `input` may name (as a ref, a bare `org/model` or an
/// alias; read without the catalog, which is not merged yet) and of the Hugging Face refs
/// of `user`'s default and fallbacks (and allowlist, with `allowlist`).
fn ids_named(input: Option<&str>, user: &UserModels, allowlist: bool) -> HashSet<String> {
    let input = input.map(str::trim).unwrap_or_default();
    let typed = input
        .strip_prefix(hfclaw_model_ref::HUGGINGFACE_PREFIX)
        .unwrap_or(input);
    let from_input = ModelRef::from_router_id(typed)
        .ok()
        .into_iter()
        .chain(user.aliases.refs_for(input).into_iter().cloned());
    // The catalog checks of an edit and of `models status` look at the default and the
    // fallbacks; the allowlist (maybe every alias of a big config) is checked by the view.
    // `models status` (`allowlist`) also looks at the allowlist's entries.
    let listed: &[ModelRef] = if allowlist { &user.allowlist } else { &[] };
    let selection = user.primary.iter().chain(&user.fallbacks).chain(listed);
    from_input
        .chain(selection.cloned())
        .filter(|r| r.is_huggingface())
        .flat_map(|r| [r.router_model_id(), r.model_id()].map(str::to_ascii_lowercase))
        .collect()
}

/// An error for a config that must exist for this command.
pub fn no_config(paths: &ConfigPaths) -> CliError {
    CliError::input(format!("no config at {}", paths.config.display()))
        .hint("run `hfclaw onboard` first, or pass --config PATH")
}

/// The user's model choices from a config view (`hfclaw_model_ref::UserModels`, the
/// type the gateway serves from too); refs that do not parse become its problems.
pub fn user_models(view: &OpenClawView) -> UserModels {
    user_models_with(view, &view.models)
}

/// [`user_models`] with `agents.defaults.models` given apart: a caller that took them out
/// of a big config's view can drop them once they are read here.
pub fn user_models_with(view: &OpenClawView, models: &[AgentModelEntry]) -> UserModels {
    UserModels::parse(
        view.primary.as_deref(),
        view.fallbacks.iter().map(String::as_str),
        models
            .iter()
            .map(|entry| (entry.key.as_str(), entry.alias.as_deref())),
        view.providers.clone(),
    )
}

/// `models.providers.huggingface.models` of a view (borrowed: a synced config may hold
/// thousands).
pub fn provider_models(view: &OpenClawView) -> &[ConfigModel] {
    view.provider.as_ref().map_or(&[], |p| &p.models)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builtin_snapshot_older_than_60_days_says_its_age() {
        let as_of_ms = hfclaw_accounting::time::parse_time(builtin::AS_OF, 0).unwrap_or(0);
        let at = |days: i64, hours: i64| {
            hfclaw_accounting::time::from_unix_ms(as_of_ms + (days * 24 + hours) * 3_600_000)
        };
        assert_eq!(stale_snapshot_days(at(10, 0)), None);
        assert_eq!(stale_snapshot_days(at(60, 23)), None);
        assert_eq!(stale_snapshot_days(at(61, 0)), Some(61));
        assert_eq!(stale_snapshot_days(at(133, 5)), Some(133));
    }
}
