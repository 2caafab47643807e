//! The names of the `x-hfclaw-*` headers: what a client may ask of the gateway and what
//! the gateway tells it about the answer. A leaf: anything may import it.

/// Request header that keeps the config's fallbacks out of the chain.
pub const NO_FALLBACK_HEADER: &str = "x-hfclaw-no-fallback";
/// Response header naming the model that answered (`huggingface/…`).
pub const MODEL_HEADER: &str = "x-hfclaw-model";
/// Response header with the answering model's place in the chain (0 = the one asked for).
pub const FALLBACK_HEADER: &str = "x-hfclaw-fallback";
/// Response header listing the models skipped before it, and why.
pub const SKIPPED_HEADER: &str = "x-hfclaw-skipped";
/// Response header naming the `--route` pattern that chose the model (client names only).
pub const ROUTE_HEADER: &str = "x-hfclaw-route";
/// Response header of whole answers: what the answer cost, in USD (absent when unknown).
pub const COST_HEADER: &str = "x-hfclaw-cost-usd";
/// Response header beside [`COST_HEADER`]: `true` when the price was an estimate.
pub const COST_ESTIMATED_HEADER: &str = "x-hfclaw-cost-estimated";
