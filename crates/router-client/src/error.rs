//! Router errors classified by HTTP status and error code (never by message text), with a
//! hint that tells the user what to do.
//!
//! The router answers errors in two envelopes, `{"error": "text"}` and
//! `{"error": {"message", "type", "code"}}`; non-JSON bodies keep a truncated text.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::Value;

/// Longest message kept from an error body, in characters.
const MAX_MESSAGE_CHARS: usize = 400;

/// Where to create or renew a token.
pub const TOKENS_URL: &str = "https://huggingface.co/settings/tokens";
/// Where to add credits.
pub const BILLING_URL: &str = "https://huggingface.co/settings/billing";
/// Where to enable providers and set their order.
pub const PROVIDERS_SETTINGS_URL: &str = "https://huggingface.co/settings/inference-providers";

/// What kind of failure, i.e. what the caller (and the fallback engine) should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 401: the token is missing, wrong or expired. Stop; never retry.
    Auth,
    /// 403: gated model, or the token lacks a permission.
    Forbidden,
    /// 402: Inference Providers credits exhausted.
    Payment,
    /// 404, or 400 `model_not_supported`: unknown model or no enabled provider serves it.
    NotFound,
    /// 429: too many requests; see [`RouterError::retry_after`].
    RateLimited,
    /// 5xx: the router or the provider failed.
    Upstream,
    /// No answer in time (connect, read or total timeout; also HTTP 408).
    Timeout,
    /// Connection refused, DNS, TLS, connection reset.
    Network,
    /// Other 4xx: the request itself is wrong.
    BadRequest,
    /// The answer is not what the API promises (bad JSON, too large, odd status).
    BadResponse,
}

impl ErrorKind {
    /// A stable snake_case name, e.g. for the usage ledger's outcome column.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Payment => "payment",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Upstream => "upstream",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Network => "network",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::BadResponse => "bad_response",
        }
    }

    /// True for failures that may pass with time or elsewhere: 5xx, 429, timeouts and
    /// network errors (the ones a model the user named gives way to its fallbacks on).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Upstream | ErrorKind::RateLimited | ErrorKind::Timeout | ErrorKind::Network
        )
    }

    /// A few words for messages, e.g. `model not found or not supported`.
    pub fn summary(self) -> &'static str {
        match self {
            ErrorKind::Auth => "authentication failed",
            ErrorKind::Forbidden => "access denied",
            ErrorKind::Payment => "payment required",
            ErrorKind::NotFound => "model not found or not supported",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Upstream => "upstream error",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Network => "network error",
            ErrorKind::BadRequest => "bad request",
            ErrorKind::BadResponse => "unexpected response",
        }
    }

    /// The kind for an HTTP status and optional error code.
    pub fn classify(status: u16, code: Option<&str>) -> ErrorKind {
        match status {
            400 if code.is_some_and(is_unsupported_model_code) => ErrorKind::NotFound,
            401 => ErrorKind::Auth,
            402 => ErrorKind::Payment,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            408 => ErrorKind::Timeout,
            429 => ErrorKind::RateLimited,
            400..=499 => ErrorKind::BadRequest,
            500..=599 => ErrorKind::Upstream,
            _ => ErrorKind::BadResponse,
        }
    }

    /// The kind of an error that came without a status (an error event mid-stream).
    fn classify_without_status(code: Option<&str>, error_type: Option<&str>) -> ErrorKind {
        let numeric = code.and_then(|c| c.parse::<u16>().ok());
        if let Some(status) = numeric.filter(|s| (400..=599).contains(s)) {
            return ErrorKind::classify(status, None);
        }
        let code = code.unwrap_or_default();
        let error_type = error_type.unwrap_or_default();
        if is_unsupported_model_code(code) {
            ErrorKind::NotFound
        } else if code.contains("rate_limit") || error_type.contains("rate_limit") {
            ErrorKind::RateLimited
        } else if code == "insufficient_quota"
            || error_type == "insufficient_quota"
            || error_type == "billing_error"
        {
            ErrorKind::Payment
        } else if code == "invalid_api_key" || error_type == "authentication_error" {
            ErrorKind::Auth
        } else if error_type == "not_found_error" {
            ErrorKind::NotFound
        } else if error_type == "permission_error" {
            ErrorKind::Forbidden
        } else if error_type == "timeout_error" {
            ErrorKind::Timeout
        } else {
            ErrorKind::Upstream
        }
    }
}

fn is_unsupported_model_code(code: &str) -> bool {
    matches!(code, "model_not_supported" | "model_not_found")
}

/// A failed router call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct RouterError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// HTTP status, when the router answered.
    pub status: Option<u16>,
    /// The router's message (truncated), or a description of the local failure.
    pub message: String,
    /// The router's error code, e.g. `model_not_supported`.
    pub code: Option<String>,
    /// How long the router asked to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// The model id the request was for, when known.
    pub model: Option<String>,
}

impl fmt::Display for RouterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(model) = &self.model {
            write!(f, "{model}: ")?;
        }
        f.write_str(self.kind.summary())?;
        match (self.status, &self.code) {
            (Some(status), Some(code)) => write!(f, " (HTTP {status}, {code})")?,
            (Some(status), None) => write!(f, " (HTTP {status})")?,
            (None, Some(code)) => write!(f, " ({code})")?,
            (None, None) => {}
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl RouterError {
    /// An error of `kind` with a message and nothing else.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> RouterError {
        RouterError {
            kind,
            status: None,
            message: message.into(),
            code: None,
            retry_after: None,
            model: None,
        }
    }

    /// Classifies a non-success HTTP answer from its status, body and `Retry-After`.
    pub fn from_response(status: u16, body: &[u8], retry_after: Option<&str>) -> RouterError {
        let parsed = ErrorBody::parse(body);
        let kind = ErrorKind::classify(status, parsed.code.as_deref());
        let message = parsed.message.unwrap_or_else(|| {
            reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("no message")
                .to_owned()
        });
        RouterError {
            kind,
            status: Some(status),
            message,
            code: parsed.code,
            retry_after: retry_after.and_then(|v| parse_retry_after(v, SystemTime::now())),
            model: None,
        }
    }

    /// Classifies the `error` member of a streamed event (or of a 200 body).
    ///
    /// `value` is the whole event object; an `error` holding a `status`/`code` number in the
    /// HTTP range is classified as that status.
    pub fn from_error_event(value: &Value) -> RouterError {
        let error = value.get("error").unwrap_or(value);
        let parsed = ErrorBody::from_value(value);
        let status = ["status", "status_code", "code"]
            .iter()
            .find_map(|k| error.get(*k).and_then(Value::as_u64))
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (400..=599).contains(s));
        let kind = match status {
            Some(status) => ErrorKind::classify(status, parsed.code.as_deref()),
            None => ErrorKind::classify_without_status(
                parsed.code.as_deref(),
                parsed.error_type.as_deref(),
            ),
        };
        RouterError {
            kind,
            status,
            message: parsed
                .message
                .unwrap_or_else(|| "the stream reported an error".to_owned()),
            code: parsed.code,
            retry_after: None,
            model: None,
        }
    }

    /// Describes a transport failure (connect, DNS, TLS, timeout, broken body).
    pub fn from_reqwest(e: &reqwest::Error) -> RouterError {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else if e.is_decode() {
            ErrorKind::BadResponse
        } else if e.is_builder() {
            ErrorKind::BadRequest
        } else {
            ErrorKind::Network
        };
        RouterError {
            kind,
            status: e.status().map(|s| s.as_u16()),
            message: error_chain(e),
            code: None,
            retry_after: None,
            model: None,
        }
    }

    /// The innermost cause of a transport failure, as a person would say it: `error
    /// sending request for url (…): client error (Connect): tcp connect error: Connection
    /// refused (os error 111)` → `Connection refused`. The whole message otherwise.
    pub fn cause(&self) -> &str {
        let last = self.message.rsplit(": ").next().unwrap_or_default();
        let cause = last.split(" (os error ").next().unwrap_or_default().trim();
        if cause.is_empty() {
            &self.message
        } else {
            cause
        }
    }

    /// The same error, tagged with the model it concerns.
    pub fn with_model(mut self, model: impl Into<String>) -> RouterError {
        self.model = Some(model.into());
        self
    }

    /// What the user should do about it, in one sentence.
    pub fn hint(&self) -> String {
        match self.kind {
            ErrorKind::Auth => format!(
                "check the token, or create a new one at {TOKENS_URL}; a fine-grained token \
                 needs the permission \"Make calls to Inference Providers\""
            ),
            ErrorKind::Forbidden => {
                let page = match &self.model {
                    Some(model) => format!("https://huggingface.co/{}", strip_suffix(model)),
                    None => "the model's page on huggingface.co".to_owned(),
                };
                format!(
                    "the model may be gated: accept its terms on {page}; otherwise the token \
                     lacks a permission (fine-grained tokens need \"Make calls to Inference \
                     Providers\", see {TOKENS_URL})"
                )
            }
            ErrorKind::Payment => format!(
                "your Inference Providers credits are exhausted: add credits or subscribe to \
                 PRO at {BILLING_URL}, or bill an organisation with the X-HF-Bill-To header"
            ),
            ErrorKind::NotFound => format!(
                "check the model id (`hfclaw models list --refresh`); the model may not be \
                 served by any provider you have enabled at {PROVIDERS_SETTINGS_URL}"
            ),
            ErrorKind::RateLimited => match self.retry_after {
                Some(wait) => format!(
                    "too many requests: wait {} s and try again, or add fallback models",
                    wait.as_secs().max(1)
                ),
                None => "too many requests: wait a little and try again, or add fallback \
                         models"
                    .to_owned(),
            },
            ErrorKind::Upstream => "the provider failed: try again later, add fallback \
                                    models, or pin another provider with a `:provider` suffix"
                .to_owned(),
            ErrorKind::Timeout => "the router did not answer in time: try again, or check \
                                   your connection"
                .to_owned(),
            ErrorKind::Network => "could not reach the router: check the network, proxy \
                                   settings and the router URL (--router-url)"
                .to_owned(),
            ErrorKind::BadRequest => "the router rejected the request itself: check the \
                                      parameters (messages, max tokens, temperature)"
                .to_owned(),
            ErrorKind::BadResponse => "the router answered something unexpected: try again, \
                                       and check the router URL (--router-url)"
                .to_owned(),
        }
    }

    /// True when retrying the same model soon may succeed (5xx; 429 asking ≤ 10 s).
    pub fn is_retryable_same_model(&self) -> bool {
        match self.kind {
            ErrorKind::Upstream => true,
            ErrorKind::RateLimited => self
                .retry_after
                .is_none_or(|d| d <= Duration::from_secs(10)),
            _ => false,
        }
    }

    /// True when the next model of a fallback chain should be tried.
    pub fn moves_to_next(&self) -> bool {
        !self.stops_chain()
    }

    /// True when no other model can help: the token or the request itself is wrong, or
    /// the account is out of credits (every model of a chain bills the same account, or
    /// the same `X-HF-Bill-To` organisation).
    pub fn stops_chain(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Auth | ErrorKind::BadRequest | ErrorKind::Payment
        )
    }

    /// Replaces every occurrence of `secret` in the message by its redacted form.
    pub(crate) fn scrub(mut self, secret: &str) -> RouterError {
        if !secret.is_empty() && self.message.contains(secret) {
            self.message = self.message.replace(secret, &crate::token::redact(secret));
        }
        self
    }
}

/// `org/model:policy` → `org/model`.
fn strip_suffix(model: &str) -> &str {
    model.split_once(':').map_or(model, |(m, _)| m)
}

/// The useful parts of an error body in either envelope.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ErrorBody {
    /// The message (truncated, whitespace collapsed).
    pub message: Option<String>,
    /// `error.code` (numbers as text).
    pub code: Option<String>,
    /// `error.type`, or the top-level `error_type`.
    pub error_type: Option<String>,
}

impl ErrorBody {
    /// Parses a body: either envelope, FastAPI's `{"detail"}`, `{"message"}`, or plain text.
    pub fn parse(body: &[u8]) -> ErrorBody {
        if let Ok(value) = serde_json::from_slice::<Value>(body)
            && value.is_object()
        {
            let parsed = ErrorBody::from_value(&value);
            if parsed.message.is_some() || parsed.code.is_some() {
                return parsed;
            }
        }
        let text = String::from_utf8_lossy(body);
        let message = Some(truncate(&text)).filter(|m| !m.is_empty());
        ErrorBody {
            message,
            ..ErrorBody::default()
        }
    }

    /// Reads a parsed JSON body.
    pub fn from_value(value: &Value) -> ErrorBody {
        #[derive(Deserialize, Default)]
        struct Inner {
            #[serde(default)]
            message: Option<Value>,
            #[serde(default, rename = "type")]
            error_type: Option<Value>,
            #[serde(default)]
            code: Option<Value>,
        }
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Null => None,
            other => Some(other.to_string()),
        };
        let top_type = value.get("error_type").and_then(text);
        match value.get("error") {
            Some(Value::String(message)) => ErrorBody {
                message: Some(truncate(message)).filter(|m| !m.is_empty()),
                code: None,
                error_type: top_type,
            },
            Some(inner @ Value::Object(_)) => {
                let inner: Inner = serde_json::from_value(inner.clone()).unwrap_or_default();
                ErrorBody {
                    message: inner.message.as_ref().and_then(text).map(|m| truncate(&m)),
                    code: inner.code.as_ref().and_then(text),
                    error_type: inner.error_type.as_ref().and_then(text).or(top_type),
                }
            }
            _ => {
                let message = ["message", "detail"]
                    .iter()
                    .find_map(|k| value.get(*k).and_then(text))
                    .map(|m| truncate(&m));
                ErrorBody {
                    message,
                    // OpenAI Responses' `error` events carry their code at the top.
                    code: value.get("code").and_then(text),
                    error_type: top_type,
                }
            }
        }
    }
}

/// Collapses whitespace and cuts to [`MAX_MESSAGE_CHARS`] characters (adding `…`).
fn truncate(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_MESSAGE_CHARS + 4));
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count >= MAX_MESSAGE_CHARS {
                out.push('…');
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

/// Parses `Retry-After`: delay seconds (fractions allowed) or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The error and its sources, joined with `: `, skipping repeats.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn status_classification() {
        let cases = [
            (400, None, ErrorKind::BadRequest),
            (400, Some("model_not_supported"), ErrorKind::NotFound),
            (400, Some("context_length_exceeded"), ErrorKind::BadRequest),
            (401, None, ErrorKind::Auth),
            (402, None, ErrorKind::Payment),
            (403, None, ErrorKind::Forbidden),
            (404, None, ErrorKind::NotFound),
            (408, None, ErrorKind::Timeout),
            (422, None, ErrorKind::BadRequest),
            (429, None, ErrorKind::RateLimited),
            (500, None, ErrorKind::Upstream),
            (502, None, ErrorKind::Upstream),
            (503, None, ErrorKind::Upstream),
            (504, None, ErrorKind::Upstream),
            (302, None, ErrorKind::BadResponse),
        ];
        for (status, code, kind) in cases {
            assert_eq!(ErrorKind::classify(status, code), kind, "{status} {code:?}");
        }
    }

    #[test]
    fn both_envelopes_are_read() {
        let e = RouterError::from_response(
            401,
            br#"{"error":"Invalid credentials in Authorization header"}"#,
            None,
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.message, "Invalid credentials in Authorization header");
        assert_eq!(e.code, None);

        let body = br#"{"error":{"message":"The requested model 'x/y' is not supported by any provider you have enabled.","type":"invalid_request_error","param":"model","code":"model_not_supported"}}"#;
        let e = RouterError::from_response(400, body, None);
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.code.as_deref(), Some("model_not_supported"));
        assert!(e.message.starts_with("The requested model 'x/y'"));
        assert_eq!(
            e.with_model("x/y").to_string(),
            "x/y: model not found or not supported (HTTP 400, model_not_supported): The requested model 'x/y' is not supported by any provider you have enabled."
        );
    }

    #[test]
    fn other_bodies() {
        let e =
            RouterError::from_response(502, b"<html>\n  <body>Bad   gateway</body></html>", None);
        assert_eq!(e.kind, ErrorKind::Upstream);
        assert_eq!(e.message, "<html> <body>Bad gateway</body></html>");
        let e = RouterError::from_response(503, b"", None);
        assert_eq!(e.message, "Service Unavailable");
        let e = RouterError::from_response(404, br#"{"detail":"Not Found"}"#, None);
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::NotFound, "Not Found")
        );
        let e = RouterError::from_response(400, br#"{"error":{"message":"m","code":400}}"#, None);
        assert_eq!(e.code.as_deref(), Some("400"));
        assert_eq!(e.kind, ErrorKind::BadRequest);
        let long = "x".repeat(5000);
        let e = RouterError::from_response(500, long.as_bytes(), None);
        assert_eq!(e.message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(e.message.ends_with('…'));
        let e = RouterError::from_response(500, &[0xff, 0xfe, b'o', b'k'], None);
        assert!(e.message.ends_with("ok"));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(42))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(42));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        let e = RouterError::from_response(429, b"{}", Some("7"));
        assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
        assert!(e.is_retryable_same_model());
        let e = RouterError::from_response(429, b"{}", Some("60"));
        assert!(!e.is_retryable_same_model());
        assert!(e.moves_to_next());
    }

    #[test]
    fn chain_predicates() {
        let kinds = [
            (ErrorKind::Auth, false, true),
            (ErrorKind::BadRequest, false, true),
            (ErrorKind::Forbidden, false, false),
            (ErrorKind::Payment, false, true),
            (ErrorKind::NotFound, false, false),
            (ErrorKind::Upstream, true, false),
            (ErrorKind::Timeout, false, false),
            (ErrorKind::Network, false, false),
            (ErrorKind::BadResponse, false, false),
        ];
        for (kind, retry, stop) in kinds {
            let e = RouterError::new(kind, "m");
            assert_eq!(e.is_retryable_same_model(), retry, "{kind:?}");
            assert_eq!(e.stops_chain(), stop, "{kind:?}");
            assert_eq!(e.moves_to_next(), !stop, "{kind:?}");
        }
    }

    #[test]
    fn a_transport_failure_names_its_innermost_cause() {
        let refused = RouterError::new(
            ErrorKind::Network,
            "error sending request for url (http://127.0.0.1:9/v1/models): client error \
             (Connect): tcp connect error: Connection refused (os error 111)",
        );
        assert_eq!(refused.cause(), "Connection refused");
        let dns = RouterError::new(
            ErrorKind::Network,
            "error sending request for url (http://x.invalid/v1): client error (Connect): dns \
             error: failed to lookup address information: Name or service not known",
        );
        assert_eq!(dns.cause(), "Name or service not known");
        assert_eq!(RouterError::new(ErrorKind::Network, "").cause(), "");
        assert_eq!(RouterError::new(ErrorKind::Network, "down").cause(), "down");
    }

    #[test]
    fn hints_say_what_to_do() {
        let hint = |status: u16| RouterError::from_response(status, b"", None).hint();
        assert!(hint(401).contains(TOKENS_URL));
        assert!(hint(401).contains("Make calls to Inference Providers"));
        assert!(hint(402).contains(BILLING_URL));
        assert!(hint(402).contains("credits are exhausted"));
        let forbidden = RouterError::from_response(403, b"", None)
            .with_model("meta-llama/Llama-3.3-70B-Instruct:cheapest")
            .hint();
        assert!(forbidden.contains("gated"));
        assert!(forbidden.contains("https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct;"));
        assert!(hint(404).contains(PROVIDERS_SETTINGS_URL));
        assert!(
            RouterError::from_response(429, b"", Some("5"))
                .hint()
                .contains("wait 5 s")
        );
    }

    #[test]
    fn stream_error_events() {
        let v: Value =
            serde_json::from_str(r#"{"error":{"message":"overloaded","type":"server_error"}}"#)
                .unwrap();
        let e = RouterError::from_error_event(&v);
        assert_eq!((e.kind, e.status), (ErrorKind::Upstream, None));
        let v: Value =
            serde_json::from_str(r#"{"error":{"message":"slow down","code":429}}"#).unwrap();
        assert_eq!(
            RouterError::from_error_event(&v).kind,
            ErrorKind::RateLimited
        );
        let v: Value = serde_json::from_str(r#"{"error":"boom"}"#).unwrap();
        assert_eq!(RouterError::from_error_event(&v).message, "boom");
        let v: Value =
            serde_json::from_str(r#"{"error":{"message":"m","code":"model_not_supported"}}"#)
                .unwrap();
        assert_eq!(RouterError::from_error_event(&v).kind, ErrorKind::NotFound);
    }

    #[test]
    fn scrub_removes_the_token() {
        let e = RouterError::new(ErrorKind::Auth, "bad token hf_secretsecretsecret1234 given");
        let e = e.scrub("hf_secretsecretsecret1234");
        assert_eq!(e.message, "bad token hf_…1234 given");
    }
}
