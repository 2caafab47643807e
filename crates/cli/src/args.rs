//! Command-line arguments: parsed once here into typed requests.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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

/// Options every command accepts.
#[derive(Debug, Clone, Args)]
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
    /// See and choose models: catalog, default, fallbacks, aliases
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Print a shell completion script
    Completions(CompletionsArgs),
}

/// `hfclaw models …`.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List models: the built-in catalog merged with the router's live list and your config
    List(ListArgs),
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
    /// Fetch the router's list now, even if the cache is fresh
    #[arg(long, conflicts_with = "offline")]
    pub refresh: bool,
    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `hfclaw completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
