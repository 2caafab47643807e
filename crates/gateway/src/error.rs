//! Errors the gateway sends to its clients, in the envelope of the API they called:
//! OpenAI's `{"error": {"message", "type", "param", "code"}}` for chat completions and
//! Responses, Anthropic's `{"type": "error", "error": {"type", "message"}}` for Messages,
//! with the status codes the SDKs turn into the right exception (401 authentication, 404
//! not found, 429 rate limit …).

use std::borrow::Cow;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hfclaw_accounting::keys::KeyRefused;
use hfclaw_accounting::keys::rate::RateExceeded;
use hfclaw_model_ref::ModelRef;
use hfclaw_router_client::{ChainFailure, ErrorKind, RouterError, StopReason};
use serde_json::json;

use crate::api::{Api, MissingField};
use crate::guard::Refusal;
use crate::headers::SHOULD_RETRY_HEADER;

/// Seconds a request refused while others hold the budget is asked to wait: they settle
/// within their answers' time.
const SETTLE_WAIT_SECS: u64 = 5;

/// Error types hfclaw itself defines: they are the `type` in every envelope.
const OWN_TYPES: [&str; 1] = ["budget_exceeded"];

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What happened and what to do, for a human.
    pub message: String,
    /// OpenAI's `type`, e.g. `invalid_request_error`.
    pub kind: &'static str,
    /// A stable machine-readable code, e.g. `model_not_found`.
    pub code: Option<Cow<'static, str>>,
    /// The request field at fault.
    pub param: Option<&'static str>,
    /// Seconds the client should wait before retrying (`Retry-After`).
    pub retry_after: Option<u64>,
    /// `x-should-retry: false`, which the OpenAI and Anthropic SDKs honour by not
    /// retrying: waiting will not help soon, or the gateway already tried what a retry
    /// would (its whole chain).
    pub no_retry: bool,
    /// For failures of the router: the error class of the decisive error (`rate_limited`,
    /// `upstream` …), as `hfclaw chat` records it too.
    pub router_class: Option<&'static str>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            kind,
            code: Some(Cow::Borrowed(code)),
            param: None,
            retry_after: None,
            no_retry: false,
            router_class: None,
        }
    }

    fn param(mut self, param: &'static str) -> ApiError {
        self.param = Some(param);
        self
    }

    /// 400: the body is not what the endpoint takes.
    pub fn invalid_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            message,
        )
    }

    /// 400: a field has a value the endpoint does not take.
    pub fn invalid_param(param: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::invalid_request("invalid_value", message).param(param)
    }

    /// 404: the Hub does not know the model (a task routed through its mapping).
    pub fn unknown_hub_model(model: &ModelRef) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            format!(
                "{model} is not a model on the Hugging Face Hub: check the id (org/model, \
                 case-sensitive); `hfclaw models list --task embeddings` lists embedding models"
            ),
        )
        .param("model")
    }

    /// 404: no provider hfclaw can call serves the model for the endpoint's task.
    pub fn no_task_provider(model: &ModelRef, why: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_supported",
            format!("{model}: {why}"),
        )
        .param("model")
    }

    /// 400: a field the API requires is missing or empty.
    pub fn missing_field(param: &'static str, message: &str) -> ApiError {
        let code = match param {
            "messages" => "missing_messages",
            "input" => "missing_input",
            _ => "missing_field",
        };
        ApiError::invalid_request(code, message).param(param)
    }

    /// 413: the body is over the cap.
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "request_too_large",
            format!(
                "the request body is larger than {} MiB",
                limit / (1024 * 1024)
            ),
        )
    }

    /// 401: the client did not send the gateway's key.
    pub fn bad_client_key() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "invalid_api_key",
            "missing or wrong API key: send a key of this gateway (`hfclaw keys create`, or \
             the one `hfclaw serve --api-key` was started with) as `Authorization: Bearer KEY` \
             or `x-api-key: KEY`",
        )
    }

    /// 421, 403 or 415: the request is not one the gateway answers (issue 24: a web page
    /// or a rebound DNS name). Nothing of the gateway's own configuration is named.
    pub fn refused(refusal: Refusal) -> ApiError {
        match refusal {
            Refusal::ForeignHost => ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "invalid_request_error",
                "host_not_allowed",
                "this gateway does not answer to the name in the Host header: reach it as \
                 localhost or 127.0.0.1, or have its operator allow the name with `hfclaw serve \
                 --allowed-host NAME`",
            ),
            Refusal::ForeignOrigin => ApiError::new(
                StatusCode::FORBIDDEN,
                "invalid_request_error",
                "origin_not_allowed",
                "requests from web pages of other origins are refused: a browser-based client \
                 needs its origin allowed with `hfclaw serve --cors-origin ORIGIN`",
            ),
            Refusal::NotJson => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_request_error",
                "unsupported_media_type",
                "the request body must be JSON sent with `Content-Type: application/json` \
                 (with curl, add -H 'Content-Type: application/json')",
            ),
        }
    }

    /// 401: the key sent is unknown, revoked or expired.
    pub fn key_refused(refused: &KeyRefused) -> ApiError {
        match refused {
            KeyRefused::Unknown => ApiError::bad_client_key(),
            KeyRefused::Revoked { .. } => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                "key_revoked",
                format!("{refused}: ask the gateway's operator for a new one"),
            ),
            KeyRefused::Expired { .. } => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                "key_expired",
                format!(
                    "{refused}: ask the gateway's operator to extend it (`hfclaw keys update \
                     LABEL --expires …`) or for a new one"
                ),
            ),
        }
    }

    /// 429: a key is over its requests or tokens per minute (waiting helps: `Retry-After`).
    pub fn key_rate_limited(e: &RateExceeded) -> ApiError {
        ApiError {
            retry_after: Some(e.retry_after_secs),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "key_rate_limit_exceeded",
                e.to_string(),
            )
        }
    }

    /// 403: the status page and `/metrics` need an admin key.
    pub fn admin_only(label: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "admin_key_required",
            format!(
                "the key {label:?} may not see the gateway's status page or metrics: use an \
                 admin key (`hfclaw keys create LABEL --admin`)"
            ),
        )
    }

    /// 403: the key may not use this model.
    pub fn model_not_allowed(model: &str, label: &str, allowed: &[String]) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "model_not_allowed",
            format!(
                "the key {label:?} may not use {model}; it may use: {}",
                allowed.join(", ")
            ),
        )
        .param("model")
    }

    /// 503: too many requests in flight.
    pub fn overloaded(limit: u32) -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "gateway_overloaded",
                format!(
                    "the gateway is serving its maximum of {limit} requests: retry shortly \
                     (the operator can raise --max-concurrent)"
                ),
            )
        }
    }

    /// 400: no `model` and no default configured.
    pub fn no_default() -> ApiError {
        ApiError::invalid_request(
            "model_not_configured",
            "no model given and no default model configured: pass `model` (a huggingface/… \
             ref, org/model or an alias), or set a default with `hfclaw models set REF`",
        )
        .param("model")
    }

    /// 404: neither a ref nor an alias.
    pub fn unknown_model(input: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            format!(
                "the model {input:?} does not exist: use a ref (huggingface/org/model), a bare \
                 org/model, one of your aliases, or \"default\"; GET /v1/models lists them"
            ),
        )
        .param("model")
    }

    /// 404: a name nothing knows, with the nearest known ones (`did you mean …?`).
    pub fn unknown_model_near(input: &str, did_you_mean: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            format!("the model {input:?} does not exist; {did_you_mean} GET /v1/models lists them"),
        )
        .param("model")
    }

    /// 404: a ref that differs from a catalog id only by case.
    pub fn model_case(input: &str, suggestion: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            format!("the model {input:?} does not exist; did you mean {suggestion:?}? model ids are case-sensitive"),
        )
        .param("model")
    }

    /// 400: a `model` that cannot be used (bad ref, ambiguous alias, other provider).
    pub fn bad_model(input: &str, problem: &str, hint: &str) -> ApiError {
        ApiError::invalid_request(
            "invalid_model",
            format!("model {input:?}: {problem}; {hint}"),
        )
        .param("model")
    }

    /// 402 while the account is held after the router's 402 (`error`), `left` to go: the
    /// router's answer again, without asking it.
    pub fn account_held(error: &RouterError, left: Duration) -> ApiError {
        let mut held = ApiError::from_router(error);
        let seconds = whole_seconds(left);
        held.message = format!(
            "the Hugging Face account is held for {seconds} s after the router answered 402 \
             (no request goes out meanwhile): {}",
            held.message
        );
        held.retry_after = Some(seconds);
        held.no_retry = true;
        held
    }

    /// The answer for a chain that was tried and produced no answer: `from_failure`, with
    /// `x-should-retry: false` (the SDKs' own retries would run the chain again) and, for
    /// a transient failure, `Retry-After` = `soonest`, when the first model of the chain
    /// can serve again.
    pub fn chain_failed(
        failure: &ChainFailure,
        chain: &[ModelRef],
        soonest: Option<Duration>,
    ) -> ApiError {
        let mut error = ApiError::from_failure(failure, chain);
        error.no_retry = true;
        if let (Some(last), Some(soonest)) = (failure.last_error(), soonest)
            && last.kind.is_transient()
        {
            error.retry_after = Some(whole_seconds(soonest));
        }
        error
    }

    /// This error of a chain, naming the models left out of it because they cannot serve
    /// what the request needs (`huggingface/org/model (no image input)`); unchanged when
    /// there are none.
    pub fn not_tried(mut self, left_out: &[String]) -> ApiError {
        if !left_out.is_empty() {
            self.message = format!(
                "{}; not tried: {}",
                self.message.trim_end_matches('.'),
                left_out.join(", ")
            );
        }
        self
    }

    /// This error, said of the target of the client-name route `pattern`.
    pub fn in_route(mut self, pattern: &str) -> ApiError {
        self.message = format!(
            "the route {pattern} (hfclaw serve --route) leads nowhere: {}",
            self.message
        );
        self
    }

    /// 404 for paths the gateway does not serve; a base URL with `/v1` twice or none
    /// (the usual slips) gets the path it meant.
    pub fn no_route(path: &str) -> ApiError {
        let message = match meant_path(path) {
            Some((meant, why)) => format!("unknown URL {path}: did you mean {meant}? {why}"),
            None => format!(
                "unknown URL {path}: this gateway serves POST /v1/chat/completions, POST \
                 /v1/messages, POST /v1/messages/count_tokens, POST /v1/responses, POST \
                 /v1/embeddings, GET /v1/models, GET /healthz, GET /metrics and GET /"
            ),
        };
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "unknown_url",
            message,
        )
    }

    /// The answer for one failed router call outside a chain.
    pub fn from_router(error: &RouterError) -> ApiError {
        let failure = ChainFailure {
            reason: StopReason::Exhausted,
            skipped: vec![hfclaw_router_client::Skip {
                model: error.model.clone().unwrap_or_default(),
                index: 0,
                error: error.clone(),
                retries: 0,
            }],
            waited: Duration::ZERO,
        };
        ApiError::from_failure(&failure, &[])
    }

    /// The answer for a fallback chain in which no model answered: the status follows the
    /// decisive (last) error; the message names every model tried.
    pub fn from_failure(failure: &ChainFailure, chain: &[ModelRef]) -> ApiError {
        let Some(last) = failure.last_error() else {
            return ApiError::no_default();
        };
        let describe = |index: usize, error: &RouterError| {
            let error = for_client(error);
            match chain.get(index) {
                Some(name) => format!("{name}: {error}"),
                None => error.to_string(),
            }
        };
        let last_index = failure.skipped.last().map_or(0, |s| s.index);
        let mut message = if failure.skipped.len() > 1 && failure.reason == StopReason::Exhausted {
            let all: Vec<String> = failure
                .skipped
                .iter()
                .map(|s| describe(s.index, &s.error))
                .collect();
            format!(
                "all {} models failed: {}",
                failure.skipped.len(),
                all.join("; ")
            )
        } else {
            describe(last_index, last)
        };
        let (status, kind, code) = match last.kind {
            ErrorKind::Auth => {
                let message = format!(
                    "the Hugging Face router rejected this gateway's token ({message}). The \
                     gateway operator must fix it: {}; then restart `hfclaw serve` or send it \
                     SIGHUP",
                    last.hint()
                );
                return ApiError {
                    router_class: Some(last.kind.as_str()),
                    ..ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "authentication_error",
                        "upstream_token_rejected",
                        message,
                    )
                };
            }
            ErrorKind::Payment => (
                StatusCode::PAYMENT_REQUIRED,
                "insufficient_quota",
                "insufficient_quota",
            ),
            ErrorKind::Forbidden => (
                StatusCode::FORBIDDEN,
                "permission_error",
                "permission_denied",
            ),
            ErrorKind::NotFound => (
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "model_not_found",
            ),
            ErrorKind::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "rate_limit_exceeded",
            ),
            ErrorKind::BadRequest => (
                last.status
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .filter(StatusCode::is_client_error)
                    .unwrap_or(StatusCode::BAD_REQUEST),
                "invalid_request_error",
                "bad_request",
            ),
            ErrorKind::Upstream => (StatusCode::BAD_GATEWAY, "api_error", "upstream_error"),
            ErrorKind::Network => (StatusCode::BAD_GATEWAY, "api_error", "upstream_unreachable"),
            ErrorKind::BadResponse => (
                StatusCode::BAD_GATEWAY,
                "api_error",
                "bad_upstream_response",
            ),
            ErrorKind::Timeout => (StatusCode::GATEWAY_TIMEOUT, "api_error", "upstream_timeout"),
        };
        if matches!(
            last.kind,
            ErrorKind::Payment | ErrorKind::Forbidden | ErrorKind::NotFound
        ) {
            message.push_str("; ");
            message.push_str(&last.hint());
        }
        // The router's own code is more precise when it has one (e.g. model_not_supported).
        let code = match &last.code {
            Some(router_code) if !router_code.is_empty() && last.kind != ErrorKind::Upstream => {
                Cow::Owned(router_code.clone())
            }
            _ => Cow::Borrowed(code),
        };
        ApiError {
            status,
            message,
            kind,
            code: Some(code),
            param: None,
            router_class: Some(last.kind.as_str()),
            no_retry: false,
            retry_after: (last.kind == ErrorKind::RateLimited)
                .then(|| last.retry_after.map_or(1, |d: Duration| d.as_secs().max(1))),
        }
    }

    /// The class recorded for this error: its code (`model_not_found`,
    /// `rate_limit_exceeded`, `budget_exceeded` …), else its type.
    pub fn class(&self) -> &str {
        self.router_class
            .or(self.code.as_deref())
            .unwrap_or(self.kind)
    }

    /// 429: a spending budget stands in the way until `resets_in`, or (`soon`) until
    /// requests in flight settle. A `Retry-After` only when waiting helps within a minute;
    /// otherwise `x-should-retry: false`, so that SDKs return at once instead of honouring
    /// a wait of hours.
    pub fn budget_exceeded(message: String, resets_in: Duration, soon: bool) -> ApiError {
        let wait = if soon {
            Some(resets_in.as_secs().clamp(1, SETTLE_WAIT_SECS))
        } else {
            Some(resets_in.as_secs().max(1)).filter(|s| *s <= 60)
        };
        ApiError {
            retry_after: wait,
            no_retry: wait.is_none(),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "budget_exceeded",
                "budget_exceeded",
                message,
            )
        }
    }

    /// The event sent when a stream breaks after it was committed to the client, in the
    /// stream format of `api`.
    pub fn stream_event(api: Api, error: &RouterError) -> Bytes {
        let error = for_client(error);
        let message = format!("the answer broke off: {error}");
        let event = match api {
            Api::Chat | Api::Embeddings => {
                let event = json!({"error": {
                    "message": message,
                    "type": "api_error",
                    "param": null,
                    "code": "upstream_stream_error",
                }});
                format!("data: {event}\n\n")
            }
            Api::Messages => {
                let event =
                    json!({"type": "error", "error": {"type": "api_error", "message": message}});
                format!("event: error\ndata: {event}\n\n")
            }
            Api::Responses => {
                let event = json!({"type": "error", "code": "upstream_stream_error", "message": message, "param": null});
                format!("event: error\ndata: {event}\n\n")
            }
        };
        Bytes::from(event)
    }

    /// Anthropic's error `type` for this answer's status.
    fn anthropic_type(&self) -> &'static str {
        if let Some(own) = OWN_TYPES.iter().find(|t| **t == self.kind) {
            return own;
        }
        match self.status.as_u16() {
            401 => "authentication_error",
            402 => "billing_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            503 | 529 => "overloaded_error",
            504 => "timeout_error",
            400..=499 => "invalid_request_error",
            _ => "api_error",
        }
    }

    /// The answer in `api`'s envelope.
    pub fn into_response_for(self, api: Api) -> Response {
        let body = match api {
            Api::Chat | Api::Responses | Api::Embeddings => json!({"error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }}),
            Api::Messages => json!({"type": "error", "error": {
                "type": self.anthropic_type(),
                "message": self.message,
            }}),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.no_retry {
            response
                .headers_mut()
                .insert(SHOULD_RETRY_HEADER, HeaderValue::from_static("false"));
        }
        response
    }
}

/// A wait for `Retry-After`: whole seconds, rounded up, at least 1.
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// A router error as a client may see it: without the model tag (the message names the
/// model itself) and, for a failure with no HTTP answer (connect, DNS, TLS, timeout), only
/// its innermost cause with any URL left out: the transport's own message quotes the
/// router URL this gateway is configured with, which is the operator's business.
fn for_client(error: &RouterError) -> RouterError {
    let message = if error.status.is_none() {
        without_urls(error.cause())
    } else {
        error.message.clone()
    };
    RouterError {
        model: None,
        message,
        ..error.clone()
    }
}

/// `text` with every `http://…` and `https://…` (up to a space or closing bracket)
/// replaced by "the router".
fn without_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        out.push_str(&rest[..start]);
        out.push_str("the router");
        let after = &rest[start..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | ']' | '>' | '"' | '\''))
            .unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

impl IntoResponse for ApiError {
    /// The OpenAI envelope (for routes that belong to no one API, such as `/v1/models`).
    fn into_response(self) -> Response {
        self.into_response_for(Api::Chat)
    }
}

impl From<MissingField> for ApiError {
    fn from(missing: MissingField) -> ApiError {
        ApiError::missing_field(missing.param, missing.message)
    }
}

/// The API paths the gateway serves under `/v1`.
const API_PATHS: [&str; 6] = [
    "/chat/completions",
    "/messages",
    "/messages/count_tokens",
    "/responses",
    "/embeddings",
    "/models",
];

/// The path a client meant when its base URL had `/v1` twice or not at all, and what to
/// change; `None` for anything else.
pub fn meant_path(path: &str) -> Option<(String, &'static str)> {
    if let Some(rest) = path.strip_prefix("/v1/v1")
        && API_PATHS.contains(&rest)
    {
        return Some((
            format!("/v1{rest}"),
            "The client adds /v1 to its base URL itself: drop the /v1 from the base URL (e.g. \
             ANTHROPIC_BASE_URL=http://127.0.0.1:4000).",
        ));
    }
    if API_PATHS.contains(&path) {
        return Some((
            format!("/v1{path}"),
            "OpenAI clients need a base URL ending in /v1 (e.g. http://127.0.0.1:4000/v1).",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hfclaw_router_client::Skip;

    use super::*;

    #[test]
    fn a_base_url_with_v1_twice_or_none_gets_the_path_it_meant() {
        let meant = |path: &str| super::meant_path(path).map(|(p, _)| p);
        assert_eq!(meant("/v1/v1/messages").as_deref(), Some("/v1/messages"));
        assert_eq!(
            meant("/v1/v1/chat/completions").as_deref(),
            Some("/v1/chat/completions")
        );
        assert_eq!(
            meant("/chat/completions").as_deref(),
            Some("/v1/chat/completions")
        );
        assert_eq!(meant("/embeddings").as_deref(), Some("/v1/embeddings"));
        assert_eq!(meant("/v1/v1/nothing"), None);
        assert_eq!(meant("/v2/chat/completions"), None);
        let error = super::ApiError::no_route("/v1/v1/messages");
        assert!(
            error.message.contains("did you mean /v1/messages?")
                && error.message.contains("drop the /v1 from the base URL"),
            "{}",
            error.message
        );
    }

    fn failure(reason: StopReason, errors: &[RouterError]) -> ChainFailure {
        ChainFailure {
            reason,
            skipped: errors
                .iter()
                .enumerate()
                .map(|(index, error)| Skip {
                    model: format!("m/{index}"),
                    index,
                    error: error.clone(),
                    retries: 0,
                })
                .collect(),
            waited: Duration::ZERO,
        }
    }

    fn status(code: u16, retry_after: Option<&str>) -> RouterError {
        RouterError::from_response(code, br#"{"error":"upstream said no"}"#, retry_after)
    }

    #[test]
    fn statuses_follow_the_decisive_error() {
        let chain: Vec<ModelRef> = ["huggingface/a/one", "huggingface/b/two"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        let cases = [
            (status(401, None), 401, "authentication_error"),
            (status(402, None), 402, "insufficient_quota"),
            (status(403, None), 403, "permission_error"),
            (status(404, None), 404, "invalid_request_error"),
            (status(429, Some("30")), 429, "rate_limit_error"),
            (status(422, None), 422, "invalid_request_error"),
            (status(500, None), 502, "api_error"),
            (
                RouterError::new(ErrorKind::Network, "refused"),
                502,
                "api_error",
            ),
            (
                RouterError::new(ErrorKind::BadResponse, "garbage"),
                502,
                "api_error",
            ),
            (
                RouterError::new(ErrorKind::Timeout, "slow"),
                504,
                "api_error",
            ),
        ];
        for (error, code, kind) in cases {
            let api = ApiError::from_failure(
                &failure(StopReason::Exhausted, std::slice::from_ref(&error)),
                &chain,
            );
            assert_eq!((api.status.as_u16(), api.kind), (code, kind), "{error}");
            assert!(
                api.message.contains("huggingface/a/one: "),
                "{}",
                api.message
            );
        }
        let limited = ApiError::from_failure(
            &failure(StopReason::Exhausted, &[status(429, Some("30"))]),
            &chain,
        );
        assert_eq!(limited.retry_after, Some(30));
        let auth =
            ApiError::from_failure(&failure(StopReason::Fatal, &[status(401, None)]), &chain);
        assert!(
            auth.message.contains("operator must fix it"),
            "{}",
            auth.message
        );
        let both = ApiError::from_failure(
            &failure(
                StopReason::Exhausted,
                &[status(500, None), status(404, None)],
            ),
            &chain,
        );
        assert_eq!(both.status.as_u16(), 404);
        assert!(
            both.message
                .starts_with("all 2 models failed: huggingface/a/one: "),
            "{}",
            both.message
        );
        assert!(
            both.message.contains("huggingface/b/two: "),
            "{}",
            both.message
        );
    }

    #[test]
    fn the_envelope_is_openai_shaped() {
        let response = ApiError::overloaded(8).into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let event =
            ApiError::stream_event(Api::Chat, &RouterError::new(ErrorKind::Network, "reset"));
        let text = std::str::from_utf8(&event).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(text.trim().strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(json["error"]["code"], "upstream_stream_error");
    }

    async fn body_of(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn anthropic_errors_carry_the_type_of_their_status() {
        let cases = [
            (
                ApiError::invalid_request("x", "bad"),
                400,
                "invalid_request_error",
            ),
            (ApiError::bad_client_key(), 401, "authentication_error"),
            (ApiError::too_large(8 << 20), 413, "request_too_large"),
            (ApiError::unknown_model("m"), 404, "not_found_error"),
            (ApiError::overloaded(4), 503, "overloaded_error"),
            (
                ApiError::budget_exceeded("spent".into(), Duration::from_secs(60), false),
                429,
                "budget_exceeded",
            ),
        ];
        for (error, status, kind) in cases {
            let message = error.message.clone();
            let response = error.into_response_for(Api::Messages);
            assert_eq!(response.status().as_u16(), status);
            let body = body_of(response).await;
            assert_eq!(body["type"], "error");
            assert_eq!(body["error"]["type"], kind, "{body}");
            assert_eq!(body["error"]["message"], message.as_str());
        }
        let chain: Vec<ModelRef> = vec!["huggingface/a/one".parse().unwrap()];
        for (code, kind) in [
            (402, "billing_error"),
            (403, "permission_error"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (504, "timeout_error"),
        ] {
            let error = if code == 504 {
                RouterError::new(ErrorKind::Timeout, "slow")
            } else {
                status(code, Some("30"))
            };
            let api = ApiError::from_failure(&failure(StopReason::Exhausted, &[error]), &chain);
            let body = body_of(api.into_response_for(Api::Messages)).await;
            assert_eq!(body["error"]["type"], kind, "{code}: {body}");
        }
    }

    #[tokio::test]
    async fn stream_errors_use_each_api_s_event_format() {
        let error = RouterError::new(ErrorKind::Network, "reset");
        let messages = ApiError::stream_event(Api::Messages, &error);
        let text = std::str::from_utf8(&messages).unwrap();
        assert!(text.starts_with("event: error\ndata: {"), "{text}");
        let responses = ApiError::stream_event(Api::Responses, &error);
        let text = std::str::from_utf8(&responses).unwrap();
        let data: serde_json::Value =
            serde_json::from_str(text.lines().nth(1).unwrap().strip_prefix("data: ").unwrap())
                .unwrap();
        assert_eq!(data["type"], "error");
        assert_eq!(data["code"], "upstream_stream_error");
        let budget = ApiError::budget_exceeded("x".into(), Duration::from_secs(5), false);
        let body = body_of(budget.into_response_for(Api::Responses)).await;
        assert_eq!(body["error"]["code"], "budget_exceeded");
    }

    #[test]
    fn budget_refusals_say_whether_waiting_helps() {
        let header = |e: ApiError, name: &str| {
            let response = e.into_response_for(Api::Chat);
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap_or("").to_owned())
        };
        let hours = || ApiError::budget_exceeded("x".into(), Duration::from_secs(29_951), false);
        assert_eq!(header(hours(), "x-should-retry").as_deref(), Some("false"));
        assert_eq!(header(hours(), "retry-after"), None);
        let minute = || ApiError::budget_exceeded("x".into(), Duration::from_secs(40), false);
        assert_eq!(header(minute(), "retry-after").as_deref(), Some("40"));
        assert_eq!(header(minute(), "x-should-retry"), None);
        // Others' reservations stand in the way: they settle within seconds.
        let held = ApiError::budget_exceeded("x".into(), Duration::from_secs(29_951), true);
        assert_eq!(header(held, "retry-after").as_deref(), Some("5"));
    }

    #[test]
    fn transport_failures_never_quote_the_router_url() {
        let refused = RouterError::new(
            ErrorKind::Network,
            "error sending request for url (http://10.9.8.7:9/v1/chat/completions): client \
             error (Connect): tcp connect error: Connection refused (os error 111)",
        );
        let bare = RouterError::new(
            ErrorKind::Timeout,
            "error sending request for url (https://router.internal/v1/messages)",
        );
        for error in [refused, bare] {
            let answer = ApiError::from_failure(
                &failure(StopReason::Exhausted, std::slice::from_ref(&error)),
                &[],
            );
            assert!(!answer.message.contains("10.9.8.7"), "{}", answer.message);
            assert!(
                !answer.message.contains("router.internal"),
                "{}",
                answer.message
            );
            let event = ApiError::stream_event(Api::Chat, &error);
            let event = String::from_utf8_lossy(&event);
            assert!(!event.contains("://"), "{event}");
        }
        assert_eq!(
            without_urls("for url (https://a.example/v1): x http://b"),
            "for url (the router): x the router"
        );
        // The router's own answers are passed on as they are.
        let answered =
            RouterError::from_response(503, br#"{"error":"see https://status.hf.co"}"#, None);
        assert!(
            for_client(&answered)
                .message
                .contains("https://status.hf.co")
        );
    }
}
