//! `hfclaw serve`'s gateway: the local front door of every agent, in front of the
//! Hugging Face router.
//!
//! It answers three wire formats — OpenAI chat completions (OpenClaw, Cursor, most
//! tools), Anthropic Messages (Claude Code) and OpenAI Responses (Codex, the Agents SDK) —
//! through **one** forwarding path ([`forward`]): the request's `model` (a ref, an alias,
//! a bare `org/model` or `default`) becomes a chain of router ids (the model, then the
//! config's fallbacks), models in cooldown are skipped, the chain runs before the first
//! byte reaches the client, and the chosen answer streams through unbuffered. What differs
//! per API is data ([`Api`]): the upstream path, what a valid body holds, how a stream
//! says it has begun or failed, and the error envelope.
//!
//! It owns the HTTP surface, client keys, limits and timeouts (slow clients are cut off),
//! cooldowns, budgets and the accounting of each request (its usage, read off the answer
//! as it passes, priced at the serving provider's rate and recorded in the usage
//! ledger through `hfclaw-accounting`), and reloads; it does not read configs or the environment: the host (the
//! CLI) builds each [`Snapshot`] and is asked for a new one on reload. The user's token
//! lives in the snapshot's router client and never reaches a client or a log.
//!
//! ```no_run
//! # async fn example(snapshot: hfclaw_gateway::Snapshot, host: std::sync::Arc<dyn hfclaw_gateway::Host>) {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await.unwrap();
//! let options = hfclaw_gateway::Options::default();
//! hfclaw_gateway::serve(listener, options, snapshot, host).await.unwrap();
//! # }
//! ```

mod access;
mod activity;
mod api;
mod app;
mod cooldown;
mod embeddings;
mod error;
mod exchange;
mod forward;
mod guard;
mod headers;
mod health;
mod labels;
mod layers;
mod meter;
mod metrics;
mod model_routes;
mod options;
mod reserve;
mod routes;
mod server;
mod snapshot;
mod status_page;
mod tap;
mod upstream;

pub use api::Api;
pub use cooldown::CooldownPolicy;
pub use guard::{Access, AccessError, Refusal, Verdict};
pub use headers::{
    COST_ESTIMATED_HEADER, COST_HEADER, FALLBACK_HEADER, MODEL_HEADER, NO_FALLBACK_HEADER,
    ROUTE_HEADER, SKIPPED_HEADER,
};
pub use health::is_body as is_health_body;
pub use model_routes::{
    BUILTIN_PATTERNS, ModelRoute, ModelRoutes, RouteCheck, RouteError, RouteTarget,
};
pub use options::{Host, Options};
pub use server::{GatewayError, serve, serve_until};
pub use snapshot::{DEFAULT_MODEL, Snapshot};
