//! What a request may cost at most, reserved against the budgets before it is forwarded
//! (issue 22, item 2): its output limit (`max_tokens`, `max_completion_tokens`,
//! `max_output_tokens`; else the model's maximum output) at the highest live output price
//! of any model of its chain, plus its input estimated from the body's size at the highest
//! input price. The [`HoldSlot`] travels with the exchange and is settled with the real
//! cost when the answer ends (`App::record`), or released if the request goes away.
//! [`admit`] is every limit a request passes before it is forwarded: its key's rpm/tpm
//! and the budgets, on this replica and, with a shared database, across replicas.
//! Also what a key may still spend: the `x-hfclaw-budget-remaining-usd` header and
//! `GET /v1/hfclaw/me`.

use std::time::SystemTime;

use axum::http::{HeaderMap, HeaderValue};
use hfclaw_accounting::shared::{Claim, Refused};
use hfclaw_accounting::time::unix_ms;
use hfclaw_accounting::{BudgetExceeded, BudgetStatus, Budgets, Hold, worst_case_usd};
use hfclaw_model_ref::ModelRef;
use hfclaw_router_client::JsonBody;
use serde_json::{Value, json};

use crate::access::Caller;
use crate::api::Api;
use crate::app::App;
use crate::error::ApiError;
use crate::exchange::{HoldSlot, Holds};
use crate::headers::BUDGET_REMAINING_HEADER;
use crate::snapshot::Snapshot;

/// Bytes of request body counted as one input token: fewer than any tokenizer packs into
/// a token of text (about 4 for English), so the estimate errs high.
const BYTES_PER_TOKEN: u64 = 3;

/// The output limit the request sets, if any.
pub fn max_output_tokens(api: Api, body: &JsonBody) -> Option<u64> {
    let fields: &[&str] = match api {
        Api::Chat => &["max_completion_tokens", "max_tokens"],
        Api::Messages => &["max_tokens"],
        Api::Responses => &["max_output_tokens"],
        // Embeddings have no output tokens; their models have no catalog price either.
        Api::Embeddings => &[],
    };
    fields
        .iter()
        .find_map(|f| body.get::<u64>(f).and_then(Result::ok))
}

/// The request's worst-case cost over its chain (0 when no model's price is known).
pub fn worst_case(api: Api, body: &JsonBody, snapshot: &Snapshot, chain: &[ModelRef]) -> f64 {
    let input = (body.bytes().len() as u64).div_ceil(BYTES_PER_TOKEN);
    let output = max_output_tokens(api, body);
    chain
        .iter()
        .filter_map(|r| worst_case_usd(&snapshot.catalog, r, input, output))
        .fold(0.0, f64::max)
}

/// Sets [`BUDGET_REMAINING_HEADER`] when a budget applies to `key`.
pub fn tell_remaining(budgets: &Budgets, key: Option<&str>, headers: &mut HeaderMap) {
    if let Some(usd) = budgets.remaining(key, SystemTime::now())
        && let Ok(value) = HeaderValue::from_str(&format!("{usd:.6}"))
    {
        headers.insert(BUDGET_REMAINING_HEADER, value);
    }
}

/// What `GET /v1/hfclaw/me` answers: the key's label, rights and limits, and every budget
/// that applies to it with its spend and what is left, today and this month.
pub fn me(caller: Option<&Caller>, budgets: Option<&Budgets>) -> Value {
    let now = SystemTime::now();
    let key = caller.map(|c| c.0.label.as_str());
    let statuses = budgets.map(|b| b.status_of(key, now)).unwrap_or_default();
    let budgets: Vec<Value> = statuses.iter().map(BudgetStatus::json).collect();
    let remaining = statuses
        .iter()
        .map(|b| b.remaining())
        .min_by(f64::total_cmp);
    match caller {
        Some(Caller(entry)) => json!({
            "label": entry.label,
            "admin": entry.admin,
            "models": entry.models,
            "limits": entry.limits,
            "expires_at": entry.expires_ms,
            "budgets": budgets,
            "remaining_usd": remaining,
        }),
        None => json!({"label": null, "budgets": budgets, "remaining_usd": remaining}),
    }
}

/// Admits a request of `key` (sent by `caller`) whose worst case is `usd`, or the 429
/// that refuses it: its key's requests and tokens per minute and the budgets, on this
/// replica (exact for its own requests, in memory), then — with a database shared by
/// replicas — across them (`SharedLimits`: at once, unless the database must check).
/// A request nothing limits holds nothing.
pub async fn admit(
    app: &App,
    caller: Option<&Caller>,
    key: Option<&str>,
    usd: f64,
) -> Result<Option<HoldSlot>, ApiError> {
    let now = SystemTime::now();
    let now_ms = unix_ms(now);
    let rate = caller.map(|Caller(entry)| (entry.label.as_str(), entry.limits));
    if let Some((label, limits)) = &rate {
        app.rates
            .admit(label, limits, now_ms)
            .map_err(|e| ApiError::key_rate_limited(&e))?;
    }
    let retract = || {
        if let Some((label, limits)) = &rate {
            app.rates.retract(label, limits, now_ms);
        }
    };
    let local = match &app.options.budgets {
        Some(budgets) => Some(budgets.reserve(key, usd, now).map_err(|e| {
            retract();
            refusal(&e, now)
        })?),
        None => None,
    };
    let mut shared = None;
    if let Some(limits) = &app.options.shared {
        let claim = Claim {
            key: key.map(str::to_owned),
            usd: local.as_ref().map_or(0.0, Hold::usd),
            budgets: app
                .options
                .budgets
                .as_ref()
                .map(|b| b.limits_of(key))
                .unwrap_or_default(),
            rpm: rate.and_then(|(_, l)| l.rpm),
            tpm: rate.and_then(|(_, l)| l.tpm),
        };
        if !claim.is_free() {
            let (tx, rx) = tokio::sync::oneshot::channel();
            limits.admit(claim, move |answer| {
                let _ = tx.send(answer);
            });
            match rx.await {
                Ok(Ok(hold)) => shared = Some(hold),
                Ok(Err(Refused::Budget(e))) => {
                    retract();
                    return Err(refusal(&e, now));
                }
                Ok(Err(Refused::Rate(e))) => {
                    retract();
                    return Err(ApiError::key_rate_limited(&e));
                }
                // The reserver went away (shutting down): this replica's counts stand.
                Err(_) => {}
            }
        }
    }
    if local.is_none() && shared.is_none() {
        return Ok(None);
    }
    Ok(Some(HoldSlot::new(Holds { local, shared })))
}

/// The 429 of a budget refusal: when only requests in flight stand in the way, a short
/// `Retry-After`; when the budget itself is spent (or this request alone could pass it),
/// `x-should-retry: false`, so that SDKs give up at once instead of waiting for hours.
pub fn refusal(e: &BudgetExceeded, now: SystemTime) -> ApiError {
    let resets_in = e.resets_at.duration_since(now).unwrap_or_default();
    let in_flight_only = e.reserved > 0.0 && e.spent + e.asked <= e.limit;
    let mut message = e.to_string();
    if e.spent < e.limit && !in_flight_only {
        message.push_str(": ask for fewer output tokens (max_tokens) or wait for the reset");
    }
    ApiError::budget_exceeded(message, resets_in, in_flight_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_api_names_its_output_limit() {
        let body = |v: Value| JsonBody::parse(v.to_string().into()).expect("a JSON object");
        let chat = body(json!({"max_tokens": 10, "max_completion_tokens": 20}));
        assert_eq!(max_output_tokens(Api::Chat, &chat), Some(20));
        assert_eq!(
            max_output_tokens(Api::Messages, &body(json!({"max_tokens": 9}))),
            Some(9)
        );
        let responses = body(json!({"max_output_tokens": 7, "max_tokens": 99}));
        assert_eq!(max_output_tokens(Api::Responses, &responses), Some(7));
        assert_eq!(max_output_tokens(Api::Chat, &body(json!({}))), None);
    }
}
