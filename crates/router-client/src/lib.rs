//! The client side of Hugging Face Inference Providers' OpenAI-compatible router.
//!
//! This crate owns (SPEC §4):
//! - the token: a redacting [`Token`] type and its resolution by precedence
//!   ([`resolve_token`]), the `env.shellEnv` login-shell import ([`shell_env`]), the
//!   refresh of expiring `hf auth login` tokens as huggingface_hub does it ([`oauth`]),
//!   and the router and Hub base URLs ([`resolve_base_url`], [`resolve_hub_url`]);
//! - the HTTP client ([`RouterClient`]): discovery (`GET /models` with `ETag`), chat
//!   (non-streaming, SSE streaming with reasoning and usage, raw passthrough for a
//!   gateway) and the whoami token check;
//! - error classification by status and code, with hints ([`RouterError`], [`ErrorKind`]);
//! - the SSE parser and chat chunk decoder ([`sse`]), and the splitter of a leading
//!   `<think>…</think>` block out of answer text ([`think`]);
//! - raw passthrough of any router API for a gateway ([`raw`]), with request bodies kept
//!   as the client wrote them and only their `model` spliced per attempt ([`body`]);
//! - the fallback engine ([`run_chain`]);
//! - the discovery cache policy, with a negative cache for failed fetches
//!   ([`load_live_models`]);
//! - tasks routed through the Hub's provider mappings (embeddings), as data: the mapping,
//!   its cache, the provider table and each provider's request and answer ([`tasks`]).
//!
//! It does not print, parse command lines, read or edit configs, or merge catalogs: the
//! CLI hands it flags, environment lookups and config values, and gives the live list it
//! returns to `hfclaw_catalog`. A token never appears in its `Debug` output, errors or
//! logs.
//!
//! ```
//! use hfclaw_router_client::{Token, TokenInputs, TokenSource, resolve_token};
//!
//! let env = |name: &str| (name == "HF_TOKEN").then(|| "hf_exampleexample1234".to_owned());
//! let inputs = TokenInputs {
//!     flag: None,
//!     env: &env,
//!     state_env_file: None,
//!     config_env_vars: Vec::new(),
//!     home: None,
//!     login_shell: None,
//! };
//! let (token, source) = resolve_token(&inputs).unwrap().unwrap();
//! assert_eq!(source, TokenSource::Env("HF_TOKEN"));
//! assert_eq!(token.redacted(), "hf_…1234");
//! ```

pub mod base_url;
pub mod body;
pub mod chat;
pub mod client;
pub mod discovery;
pub mod error;
pub mod fallback;
pub mod oauth;
pub mod raw;
pub mod shell_env;
pub mod sse;
pub mod tasks;
pub mod think;
pub mod token;

pub use base_url::{BaseUrlSource, DEFAULT_BASE_URL, resolve_base_url, resolve_hub_url};
pub use body::JsonBody;
pub use chat::{ChatRequest, ChatResponse, Message, Usage};
pub use client::{
    ChatStream, ClientError, ClientOptions, DEFAULT_HUB_URL, ListResponse, PROVIDER_HEADER,
    RouterClient, WhoAmI, provider_of,
};
pub use discovery::{
    CachePolicy, DISCOVERY_CONNECT_TIMEOUT, Discovery, FetchPlan, LiveData, Origin, Retry,
    default_cache_path, fetch_planned, load_cached_models, load_live_models, plan_discovery,
    retry_delay,
};
pub use error::{ErrorKind, RouterError};
pub use fallback::{
    Attempt, AttemptError, ChainFailure, ChainSuccess, FallbackPolicy, Skip, StopReason, run_chain,
};
pub use raw::{RawChat, RawResponse};
pub use shell_env::{LoginShell, ShellEnvError, ShellImport};
pub use sse::{ChatEvent, SseParser};
pub use think::ThinkSplitter;
pub use token::{Token, TokenError, TokenInputs, TokenSource, resolve_token};
