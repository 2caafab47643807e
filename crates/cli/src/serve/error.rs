//! Errors the gateway sends to its clients, in OpenAI's envelope
//! `{"error": {"message", "type", "param", "code"}}`, with the status codes OpenAI SDKs
//! turn into the right exception (401 authentication, 404 not found, 429 rate limit …).

use std::borrow::Cow;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hfclaw_model_ref::ModelRef;
use hfclaw_router_client::{ChainFailure, ErrorKind, RouterError, StopReason};
use serde_json::json;

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

    /// 400: `messages` is missing or not a non-empty array.
    pub fn missing_messages() -> ApiError {
        ApiError::invalid_request(
            "missing_messages",
            "`messages` is required: a non-empty array of {\"role\", \"content\"} objects",
        )
        .param("messages")
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
            "missing or wrong API key: send the key `hfclaw serve --api-key` was started with, \
             as `Authorization: Bearer KEY`",
        )
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

    /// 404 for paths the gateway does not serve.
    pub fn no_route(path: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "unknown_url",
            format!(
                "unknown URL {path}: this gateway serves GET /v1/models, POST /v1/chat/completions \
                 and GET /healthz"
            ),
        )
    }

    /// The answer for a fallback chain in which no model answered: the status follows the
    /// decisive (last) error; the message names every model tried.
    pub fn from_failure(failure: &ChainFailure, chain: &[ModelRef]) -> ApiError {
        let Some(last) = failure.last_error() else {
            return ApiError::no_default();
        };
        let describe = |index: usize, error: &RouterError| {
            let name = chain.get(index).map_or("?", ModelRef::as_str);
            let error = RouterError {
                model: None,
                ..error.clone()
            };
            format!("{name}: {error}")
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
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "authentication_error",
                    "upstream_token_rejected",
                    message,
                );
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
            retry_after: (last.kind == ErrorKind::RateLimited)
                .then(|| last.retry_after.map_or(1, |d: Duration| d.as_secs().max(1))),
        }
    }

    /// The `data:` event sent when a stream breaks after it was committed to the client.
    pub fn stream_event(error: &RouterError) -> bytes::Bytes {
        let error = RouterError {
            model: None,
            ..error.clone()
        };
        let event = json!({"error": {
            "message": format!("the answer broke off: {error}"),
            "type": "api_error",
            "param": null,
            "code": "upstream_stream_error",
        }});
        bytes::Bytes::from(format!("data: {event}\n\n"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }});
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hfclaw_router_client::Skip;

    use super::*;

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
        let event = ApiError::stream_event(&RouterError::new(ErrorKind::Network, "reset"));
        let text = std::str::from_utf8(&event).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(text.trim().strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(json["error"]["code"], "upstream_stream_error");
    }
}
