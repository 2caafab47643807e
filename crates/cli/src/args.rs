//! Command-line arguments: parsed once here into typed requests.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Where `hfclaw serve` and the service listen unless told otherwise (and where `hfclaw
/// run` looks for a running gateway when no service names another address).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4000";
/// `serve --max-concurrent`'s default.
pub const DEFAULT_MAX_CONCURRENT: u32 = 256;
/// `serve --timeout`'s default, seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 300;
/// `serve --max-body`'s default, MiB.
pub const DEFAULT_MAX_BODY_MIB: u32 = 32;
/// `serve --header-timeout`'s default, seconds.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;

/// Connect OpenClaw-style agent configs to Hugging Face Inference Providers.
#[derive(Debug, Parser)]
#[command(name = "hfclaw", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Docs: https://huggingface.co/docs/inference-providers · config: ~/.openclaw/openclaw.json"
)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Whether the command at `path` (its subcommands' names, e.g. `["models", "list"]`)
/// takes `--{long}`, its own flag or a global one. Clap is the one list of flags: hints
/// ask it rather than assume.
pub fn command_has_flag(path: &[String], long: &str) -> bool {
    let mut command = <Cli as clap::CommandFactory>::command();
    // Building propagates the global flags into every subcommand.
    command.build();
    let mut current = &command;
    for name in path {
        match current.find_subcommand(name) {
            Some(sub) => current = sub,
            None => return false,
        }
    }
    current.get_arguments().any(|a| a.get_long() == Some(long))
}

/// Options every command accepts, shown after each command's own (one layout for all).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Config file [default: $OPENCLAW_CONFIG_PATH, $OPENCLAW_STATE_DIR/openclaw.json, ~/.openclaw/openclaw.json]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Router base URL [default: $HFCLAW_ROUTER_URL, the config's baseUrl, https://router.huggingface.co/v1]
    #[arg(long, global = true, value_name = "URL")]
    pub router_url: Option<String>,
    /// Never touch the network (built-in catalog and cache only)
    #[arg(long, global = true)]
    pub offline: bool,
    /// Hugging Face token [default: HUGGINGFACE_HUB_TOKEN, HF_TOKEN, …; see `hfclaw models status`]
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// More diagnostics on stderr (-v debug, -vv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up Hugging Face in openclaw.json: token, default model, provider block
    Onboard(OnboardArgs),
    /// See and choose models: catalog, default, fallbacks, aliases
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Ask a model through the router (streams; falls back to your fallbacks)
    Chat(ChatArgs),
    /// Check config, token, router and models; exit 1 on any ✗
    Doctor(DoctorArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Run the local gateway (OpenAI chat, Anthropic Messages, OpenAI Responses) that applies aliases, refs and fallbacks
    Serve(ServeArgs),
    /// What your requests cost: totals per model, provider, day, key, API, user, route or tag from the usage ledger
    Usage(UsageArgs),
    /// Point OpenClaw's memory search at Hugging Face embeddings through the gateway
    #[command(subcommand)]
    Memory(MemoryCommand),
    /// Run the gateway as a user service (systemd on Linux, launchd on macOS)
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Client keys of the gateway, kept in the ledger database (hashes only): create, list, revoke, update, import
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The gateway's global spending budget, kept in the ledger database
    #[command(subcommand)]
    Budget(BudgetCommand),
    /// Run Claude Code or Codex on Hugging Face models, through the running gateway or one started for the agent
    Run(RunArgs),
}

/// `hfclaw keys …`.
#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Make a key (`hfk_…`), print it once, and keep only its hash
    Create(KeyCreateArgs),
    /// Every key: label, prefix, created, expires, last used, limits, spend today and this month
    List(KeyListArgs),
    /// Revoke a key (every gateway refuses it within 5 s)
    Revoke(KeyRevokeArgs),
    /// Change a key's limits, expiry, models or admin right
    Update(KeyUpdateArgs),
    /// Move the keys of a key file (`KEY`, `LABEL KEY` or `LABEL KEY admin` per line) into the database
    Import(KeyImportArgs),
}

/// Where the ledger database is, for the commands that only read or change it.
#[derive(Debug, Clone, Args)]
pub struct LedgerLocation {
    /// Usage ledger: postgres://… or an SQLite file [default: $HFCLAW_LEDGER_URL, else usage.sqlite3 in $HFCLAW_DATA_DIR or ~/.local/share/hfclaw]
    #[arg(long, value_name = "URL|PATH", conflicts_with = "ledger_file")]
    pub ledger: Option<String>,
    /// File holding the ledger's URL (keeps a PostgreSQL password off the command line)
    #[arg(long, value_name = "PATH")]
    pub ledger_file: Option<PathBuf>,
}

/// A key's limits and rights, as `keys create` and `keys update` take them.
#[derive(Debug, Clone, Args)]
pub struct KeySettingsArgs {
    /// Spending limit per UTC day, USD (`none` removes it)
    #[arg(long, value_name = "USD")]
    pub budget_usd_per_day: Option<String>,
    /// Spending limit per UTC calendar month, USD (`none` removes it)
    #[arg(long, value_name = "USD")]
    pub budget_usd_per_month: Option<String>,
    /// Requests per minute (`none` removes it)
    #[arg(long, value_name = "N")]
    pub rpm: Option<String>,
    /// Tokens per minute, input and output, counted when answers end (`none` removes it)
    #[arg(long, value_name = "N")]
    pub tpm: Option<String>,
    /// When the key stops working: a duration from now (30d, 12h, 2w) or a UTC date 2027-01-31 (`never` removes it)
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// The only models the key may use, comma-separated refs or aliases (`any` removes the restriction)
    #[arg(long, value_name = "REF|ALIAS,…")]
    pub models: Option<String>,
}

/// `hfclaw keys create`.
#[derive(Debug, Clone, Args)]
pub struct KeyCreateArgs {
    /// The key's name (letters, digits, `-`, `_`, `.`), shown in `hfclaw usage --by key`
    pub label: String,
    #[command(flatten)]
    pub settings: KeySettingsArgs,
    /// The key opens the status page and /metrics
    #[arg(long)]
    pub admin: bool,
    /// Print JSON (with the key) instead of the key alone
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub ledger: LedgerLocation,
}

/// `hfclaw keys list`.
#[derive(Debug, Clone, Args)]
pub struct KeyListArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub ledger: LedgerLocation,
}

/// `hfclaw keys revoke`.
#[derive(Debug, Clone, Args)]
pub struct KeyRevokeArgs {
    /// The key's label, or the start of its prefix as `keys list` shows it (hfk_1a2b…)
    #[arg(value_name = "LABEL|PREFIX")]
    pub key: String,
    #[command(flatten)]
    pub ledger: LedgerLocation,
}

/// `hfclaw keys update`.
#[derive(Debug, Clone, Args)]
pub struct KeyUpdateArgs {
    /// The key's label, or the start of its prefix
    #[arg(value_name = "LABEL|PREFIX")]
    pub key: String,
    #[command(flatten)]
    pub settings: KeySettingsArgs,
    /// Let the key open the status page and /metrics (`--admin false` takes it back)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub admin: Option<bool>,
    #[command(flatten)]
    pub ledger: LedgerLocation,
}

/// `hfclaw keys import`.
#[derive(Debug, Clone, Args)]
pub struct KeyImportArgs {
    /// The key file (readable by you only)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub ledger: LedgerLocation,
}

/// `hfclaw budget …`.
#[derive(Debug, Clone, Subcommand)]
pub enum BudgetCommand {
    /// Set the global budget every gateway on this ledger enforces (within 5 s)
    Set(BudgetSetArgs),
}

/// `hfclaw budget set`.
#[derive(Debug, Clone, Args)]
pub struct BudgetSetArgs {
    /// USD per UTC day for all requests together (`none` removes it)
    #[arg(long, value_name = "USD", required_unless_present = "usd_per_month")]
    pub usd_per_day: Option<String>,
    /// USD per UTC calendar month for all requests together (`none` removes it)
    #[arg(long, value_name = "USD")]
    pub usd_per_month: Option<String>,
    #[command(flatten)]
    pub ledger: LedgerLocation,
}

/// `hfclaw memory …`.
#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// Write OpenClaw's memory.search block: embeddings of REF through `hfclaw serve`
    Use(MemoryUseArgs),
    /// Show what OpenClaw's memory search uses, and whether its gateway answers
    Status(MemoryStatusArgs),
}

/// `hfclaw memory use`.
#[derive(Debug, Clone, Args)]
pub struct MemoryUseArgs {
    /// An embedding model: a ref (huggingface/org/model[:provider]), a bare org/model, or an alias
    #[arg(value_name = "REF|ALIAS")]
    pub model: String,
    /// The gateway OpenClaw calls (`hfclaw serve --listen`'s address)
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:4000")]
    pub gateway: String,
    /// The gateway's client-key file (`hfclaw serve --api-key-file`): its first key becomes memory.search.remote.apiKey
    #[arg(long, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,
}

/// `hfclaw memory status`.
#[derive(Debug, Clone, Args)]
pub struct MemoryStatusArgs {
    /// Print a JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

/// `hfclaw run AGENT [ARGS…]`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The agent, claude (Claude Code) or codex (Codex), then its own arguments, passed through untouched (hfclaw's options go before it)
    #[arg(
        value_name = "AGENT [ARGS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_parser = clap::value_parser!(std::ffi::OsString)
    )]
    // One list, so that everything after the agent's name is the agent's (`-v`, `--help`).
    pub command: Vec<std::ffi::OsString>,
    /// Where a gateway started for the agent records requests (and whether).
    #[command(flatten)]
    pub ledger: LedgerArgs,
    /// The routes of a gateway started for the agent.
    #[command(flatten)]
    pub routes: RouteArgs,
}

/// `hfclaw service …`.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write the service file and start the gateway (run again to update it)
    Install(Box<ServiceInstallArgs>),
    /// Stop the service and remove its file
    Uninstall,
    /// Show whether the service is installed, enabled and running, and where it listens
    Status(ServiceStatusArgs),
}

/// `hfclaw service install`: `serve`'s flags, written into the service where they can be
/// (the rest are warned about: secrets, budgets, one-off flags).
#[derive(Debug, Clone, Args)]
pub struct ServiceInstallArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// `hfclaw service status`.
#[derive(Debug, Clone, Args)]
pub struct ServiceStatusArgs {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `hfclaw models …`.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List models: the built-in catalog merged with the router's live list and your config
    List(ListArgs),
    /// Show one model and every provider serving it: prices, context, speed, which one each suffix picks
    Show(ShowArgs),
    /// Show the default model, fallbacks, aliases, config path, token source and problems
    Status(StatusArgs),
    /// Make REF (or an alias) the default model
    Set(SetArgs),
    /// Models to try, in order, when the default fails
    #[command(subcommand)]
    Fallbacks(FallbacksCommand),
    /// Short names for refs (`agents.defaults.models[REF].alias`)
    #[command(subcommand)]
    Aliases(AliasesCommand),
    /// Write catalog entries (context, limits, prices) for your models into the config
    Sync(SyncArgs),
}

/// `hfclaw onboard`, with OpenClaw's flags.
#[derive(Debug, Clone, Args)]
pub struct OnboardArgs {
    /// Never prompt; take everything from flags and the environment
    #[arg(long)]
    pub non_interactive: bool,
    /// Where the agent runs (only `local` is supported)
    #[arg(long, value_name = "MODE", default_value = "local")]
    pub mode: String,
    /// How to authenticate (only `huggingface-api-key` is supported)
    #[arg(long, value_name = "CHOICE", default_value = "huggingface-api-key")]
    pub auth_choice: String,
    /// Hugging Face token (hf_…); saved to the state dir's .env [default: $HUGGINGFACE_HUB_TOKEN, $HF_TOKEN]
    #[arg(long, value_name = "KEY", hide_env_values = true)]
    pub huggingface_api_key: Option<String>,
    /// Default model [default: huggingface/deepseek-ai/DeepSeek-R1]
    #[arg(long, value_name = "REF")]
    pub model: Option<String>,
}

/// `hfclaw models status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Fetch the router's list now, even if the cache is fresh or a recent fetch failed
    #[arg(long, conflicts_with = "offline")]
    pub refresh: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `hfclaw doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// Print the checks as JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `--json` of the list commands.
#[derive(Debug, Clone, Args)]
pub struct ListJsonArgs {
    /// Print a JSON array instead of text
    #[arg(long)]
    pub json: bool,
}

/// `hfclaw models set`.
#[derive(Debug, Clone, Args)]
pub struct SetArgs {
    /// A ref (huggingface/org/model[:policy|:provider]), a bare org/model, or an alias
    #[arg(value_name = "REF|ALIAS")]
    pub model: String,
}

/// `hfclaw models fallbacks …`.
#[derive(Debug, Clone, Subcommand)]
pub enum FallbacksCommand {
    /// Print the fallbacks, one ref per line, in order
    List(ListJsonArgs),
    /// Append REF (or an alias) to the fallbacks
    Add {
        /// The ref or alias
        #[arg(value_name = "REF|ALIAS")]
        model: String,
    },
    /// Remove REF (or an alias) from the fallbacks
    Remove {
        /// The ref or alias
        #[arg(value_name = "REF|ALIAS")]
        model: String,
    },
    /// Remove every fallback
    Clear,
}

/// `hfclaw models aliases …`.
#[derive(Debug, Clone, Subcommand)]
pub enum AliasesCommand {
    /// Print the aliases: ALIAS, then REF
    List(ListJsonArgs),
    /// Give REF the alias ALIAS
    Set {
        /// The ref
        #[arg(value_name = "REF")]
        model: String,
        /// The alias
        #[arg(value_name = "ALIAS")]
        alias: String,
    },
    /// Remove the alias of REF (or the alias named so)
    Remove {
        /// The ref or alias
        #[arg(value_name = "REF|ALIAS")]
        model: String,
    },
}

/// `hfclaw models sync`.
#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// Write into OpenClaw's models.json instead of openclaw.json [default path: <state dir>/agents/main/agent/models.json]
    #[arg(long, value_name = "PATH", num_args = 0..=1)]
    pub models_json: Option<Option<std::path::PathBuf>>,
    /// Write every catalog model, not only the ones your config uses
    #[arg(long)]
    pub all: bool,
}

/// `hfclaw models list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Also list models no provider serves right now
    #[arg(long)]
    pub all: bool,
    /// Only models whose ref, name or alias contains TEXT (case-insensitive)
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Only models served by this provider (e.g. together, groq)
    #[arg(long, value_name = "P")]
    pub provider: Option<String>,
    /// Only reasoning models
    #[arg(long)]
    pub reasoning: bool,
    /// Only models a provider serves with tool calling
    #[arg(long)]
    pub tools: bool,
    /// Only models a provider serves with structured output (JSON schema)
    #[arg(long)]
    pub structured_output: bool,
    /// Only models that take image input
    #[arg(long)]
    pub image: bool,
    /// Only models with a free offering
    #[arg(long)]
    pub free: bool,
    /// Sort by name, context (largest first), price (output price, cheapest first) or throughput (fastest first)
    #[arg(long, value_enum, value_name = "KEY", hide_possible_values = true)]
    pub sort: Option<SortArg>,
    /// Fetch the router's list now, even if the cache is fresh or a recent fetch failed
    #[arg(long, conflicts_with = "offline")]
    pub refresh: bool,
    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
    /// List models of another task, from the Hub's provider mappings: embeddings
    #[arg(long, value_name = "TASK")]
    pub task: Option<String>,
}

/// `--sort` of `models list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortArg {
    /// Display name, A to Z
    Name,
    /// Context window, largest first
    Context,
    /// Output price per 1M tokens, cheapest first
    Price,
    /// Tokens per second of the fastest provider, highest first
    Throughput,
}

/// `hfclaw models show`.
#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// A ref (huggingface/org/model[:policy|:provider]), a bare org/model, or an alias
    #[arg(value_name = "REF|ALIAS")]
    pub model: String,
    /// Fetch the router's list now, even if the cache is fresh or a recent fetch failed
    #[arg(long, conflicts_with = "offline")]
    pub refresh: bool,
    /// Print a JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

/// `hfclaw chat`.
#[derive(Debug, Clone, Args)]
pub struct ChatArgs {
    /// The prompt [default: read from stdin]
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,
    /// Model ref or alias [default: the config's default model]
    #[arg(long, short, value_name = "REF|ALIAS")]
    pub model: Option<String>,
    /// A system message
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Use only the chosen model, not the config's fallbacks
    #[arg(long)]
    pub no_fallback: bool,
    /// Print the model's reasoning (dimmed, on stderr)
    #[arg(long)]
    pub show_reasoning: bool,
    /// Print one JSON object with the answer, model, provider, usage, cost and skipped models
    #[arg(long)]
    pub json: bool,
    /// Where requests are recorded (and whether).
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

/// `--ledger URL|PATH` and `--no-ledger`, for the commands that record requests.
#[derive(Debug, Clone, Args)]
pub struct LedgerArgs {
    /// Where the ledger is.
    #[command(flatten)]
    pub location: LedgerLocation,
    /// Record nothing in the usage ledger
    #[arg(long, conflicts_with_all = ["ledger", "ledger_file"])]
    pub no_ledger: bool,
}

/// `--route PATTERN=MODEL` and `--no-default-routes`, for `serve` and the service that runs it.
#[derive(Debug, Clone, Args)]
pub struct RouteArgs {
    /// Send a model name clients choose (e.g. Claude Code's claude-…) to one of yours: PATTERN=REF|ALIAS, `*` matches any characters; repeatable, first match wins [env: HFCLAW_ROUTES, `;`-separated, used when no --route is given]
    #[arg(
        long = "route",
        value_name = "PATTERN=MODEL",
        env = "HFCLAW_ROUTES",
        value_delimiter = ';',
        hide_env = true
    )]
    pub routes: Vec<String>,
    /// Turn off the built-in routes (claude-*haiku* → the first fallback, else the default; claude-* → the default)
    #[arg(long)]
    pub no_default_routes: bool,
}

/// `hfclaw usage`.
#[derive(Debug, Clone, Args)]
pub struct UsageArgs {
    /// Start of the period: 24h, 7d, 2w, 30m (ago), a UTC date 2026-12-01 or time 2026-12-01T13:00, today, yesterday [default: everything]
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// End of the period (exclusive), same forms as --since [default: now]
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Group the totals by model, provider, day (UTC), key (the client key's label), api (chat, messages, responses, embeddings), user (the request's `user`), route (the --route pattern) or `tag NAME` (the request's metadata tag NAME)
    #[arg(long, value_name = "WHAT", num_args = 1..=2, default_values_t = ["model".to_owned()])]
    pub by: Vec<String>,
    /// Only the requests of the client key LABEL (e.g. `--by user --key alice`: who spent alice's budget)
    #[arg(long, value_name = "LABEL")]
    pub key: Option<String>,
    /// Print JSON (the groups, the total and the budgets) instead of a table
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub ledger: LedgerLocation,
}

/// `hfclaw serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the address is printed on start)
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: String,
    /// Key clients must send (`Authorization: Bearer KEY` or `x-api-key: KEY`); without one any local process may use the gateway
    #[arg(
        long,
        value_name = "KEY",
        env = "HFCLAW_SERVE_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// File of client keys, one per line: `KEY` or `LABEL KEY` (the label names the key in `hfclaw usage --by key`); `#` starts a comment
    #[arg(long, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,
    /// Also answer requests that name the gateway NAME in their Host header (repeatable; behind a reverse proxy or on a LAN name); others get 421
    #[arg(long, value_name = "NAME")]
    pub allowed_host: Vec<String>,
    /// Let web pages of ORIGIN (e.g. http://localhost:3000) call the gateway, with CORS (repeatable); other origins get 403
    #[arg(long, value_name = "ORIGIN")]
    pub cors_origin: Vec<String>,
    /// Listen on a non-loopback address without a client key (anyone on the network could spend your credits)
    #[arg(long)]
    pub allow_unauthenticated_lan: bool,
    /// Stop spending for the rest of the UTC day once requests cost this many USD (429 budget_exceeded)
    #[arg(long, value_name = "USD")]
    pub budget_usd_per_day: Option<f64>,
    /// A daily budget for one client key: LABEL=USD (repeat for several keys; labels from --api-key-file)
    #[arg(long, value_name = "LABEL=USD")]
    pub key_budget: Vec<String>,
    /// Most chat requests served at once; more get 503 with Retry-After
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONCURRENT, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_concurrent: u32,
    /// Seconds to wait for a model to start answering (for non-streaming requests: to answer) before moving on; 504 when none does
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Largest request body accepted, in MiB; larger ones get 413 as soon as they pass it
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_BODY_MIB, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_body: u32,
    /// Seconds a connection may take to send a complete request header (also how long an idle keep-alive connection stays open)
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_HEADER_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_timeout: u64,
    /// Move a leading `<think>…</think>` block of chat answers into `reasoning_content` (for clients that show that field)
    #[arg(long)]
    pub split_reasoning: bool,
    /// Fetch the router's list at start even if the cache is fresh or a recent fetch failed
    #[arg(long, conflicts_with = "offline")]
    pub refresh: bool,
    #[command(flatten)]
    pub routes: RouteArgs,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

/// `hfclaw completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command's help, with its path. `--help` shows the same as `-h` while no
    /// argument has a long description, which the test checks too.
    fn every_help() -> Vec<(String, String)> {
        fn walk(command: &mut clap::Command, path: String, out: &mut Vec<(String, String)>) {
            for arg in command.get_arguments() {
                let described_values = !arg.is_hide_possible_values_set()
                    && arg
                        .get_possible_values()
                        .iter()
                        .any(|v| v.get_help().is_some());
                assert!(
                    arg.get_long_help().is_none() && !described_values,
                    "{path} {}: a long description makes --help switch to the long layout",
                    arg.get_id()
                );
            }
            out.push((path.clone(), command.render_help().to_string()));
            // clap's own `help` subcommands take no options.
            for sub in command
                .get_subcommands_mut()
                .filter(|s| s.get_name() != "help")
            {
                let sub_path = format!("{path} {}", sub.get_name());
                walk(sub, sub_path, out);
            }
        }
        let mut root = Cli::command();
        root.build();
        let mut out = Vec::new();
        walk(&mut root, "hfclaw".to_owned(), &mut out);
        out
    }

    #[test]
    fn global_options_come_after_the_commands_own_in_one_layout() {
        let globals = [
            "--config",
            "--router-url",
            "--offline",
            "--token",
            "--verbose",
            "--quiet",
        ];
        let helps = every_help();
        assert!(helps.len() > 20, "{} helps", helps.len());
        for (path, help) in helps {
            let own = help
                .find("\nOptions:\n")
                .unwrap_or_else(|| panic!("{path}:\n{help}"));
            let global = help
                .find("\nGlobal options:\n")
                .unwrap_or_else(|| panic!("{path} has no global section:\n{help}"));
            assert!(own < global, "{path}: global options first:\n{help}");
            let own_section = &help[own..global];
            for flag in globals {
                assert!(
                    !own_section.contains(flag),
                    "{path}: {flag} among the command's own options:\n{help}"
                );
            }
            // One layout: an entry per line (the long layout puts a blank line between).
            let body = &help[own + 1..];
            assert!(
                !body.trim_end().contains("\n\n  ") && !body.contains("\n\n      --"),
                "{path}: the long layout:\n{help}"
            );
        }
    }
}
