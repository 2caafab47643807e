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
/// Response header the OpenAI and Anthropic SDKs obey: `false` once the gateway has tried
/// its chain, so their own retries do not run it again.
pub const SHOULD_RETRY_HEADER: &str = "x-should-retry";

/// Request and response header: the request's id — the client's (forwarded to the router
/// and echoed back), else one the gateway makes; the ledger row keeps it.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Response header with the router's own request id, when it differs from the request's.
pub const ROUTER_REQUEST_ID_HEADER: &str = "x-hfclaw-router-request-id";

/// Response header of the three APIs when a budget applies to the request's key: what it
/// may still spend (the least any applying budget has left), in USD.
pub const BUDGET_REMAINING_HEADER: &str = "x-hfclaw-budget-remaining-usd";

/// The answer headers a browser-based client of an allowed origin may read
/// (`Access-Control-Expose-Headers`): every response header above, the router's
/// provider, and `Retry-After`.
pub const EXPOSED_HEADERS: &str = "x-hfclaw-model, x-hfclaw-fallback, x-hfclaw-skipped, \
                                   x-hfclaw-route, x-hfclaw-cost-usd, x-hfclaw-cost-estimated, \
                                   x-should-retry, x-hfclaw-budget-remaining-usd, \
                                   x-request-id, x-hfclaw-router-request-id, \
                                   x-inference-provider, retry-after";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_response_header_is_exposed_to_allowed_origins() {
        let exposed: Vec<&str> = EXPOSED_HEADERS.split(", ").collect();
        for name in [
            MODEL_HEADER,
            FALLBACK_HEADER,
            SKIPPED_HEADER,
            ROUTE_HEADER,
            COST_HEADER,
            COST_ESTIMATED_HEADER,
            SHOULD_RETRY_HEADER,
            BUDGET_REMAINING_HEADER,
            REQUEST_ID_HEADER,
            ROUTER_REQUEST_ID_HEADER,
        ] {
            assert!(
                exposed.contains(&name),
                "{name} is not in {EXPOSED_HEADERS}"
            );
        }
    }
}
