//! One attempt at one model, and the body that streams the chosen answer to the client.
//!
//! An attempt succeeds only once it is safe to commit: a whole JSON answer that is not an
//! `{"error": …}`, or a stream whose first meaningful event (content, reasoning, finish,
//! usage or `[DONE]`) has arrived and is not an error. Until then every failure is
//! "before content" and the fallback chain may move on; nothing has reached the client.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use hfclaw_router_client::sse::{ChatEvent, SseParser, decode_event};
use hfclaw_router_client::{AttemptError, ErrorKind, RouterClient, RouterError};
use serde_json::Value;
use tokio::sync::OwnedSemaphorePermit;

use crate::serve::error::ApiError;

/// Bytes of a stream read while looking for its first meaningful event; past this the
/// stream is committed as is (a sane router sends its first event in far less).
const PEEK_LIMIT: usize = 64 * 1024;

/// Router headers worth passing on (which provider answered, for debugging with HF).
const FORWARDED_HEADERS: [&str; 2] = ["x-inference-provider", "x-request-id"];

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, RouterError>> + Send>>;

/// A committed answer.
pub enum Answer {
    /// A complete body (non-streaming requests, or a router that ignored `stream`).
    Whole {
        /// HTTP status (2xx).
        status: u16,
        /// Headers for the client.
        headers: HeaderMap,
        /// The body.
        body: Bytes,
    },
    /// An SSE stream: what was read while peeking, then the rest as it comes.
    Stream {
        /// HTTP status (2xx).
        status: u16,
        /// Headers for the client.
        headers: HeaderMap,
        /// Chunks already read.
        head: Vec<Bytes>,
        /// The rest of the body; `None` when the peek read it all.
        rest: Option<ByteStream>,
    },
}

/// Sends `body` (whose `model` is already set) and reads until the answer can be committed,
/// within `timeout`.
pub async fn attempt(
    client: &RouterClient,
    body: Value,
    model: &str,
    timeout: Duration,
) -> Result<Answer, AttemptError> {
    match tokio::time::timeout(timeout, attempt_inner(client, body, model)).await {
        Ok(result) => result,
        Err(_) => Err(AttemptError::BeforeContent(
            RouterError::new(
                ErrorKind::Timeout,
                format!("no answer within {} s", timeout.as_secs()),
            )
            .with_model(model),
        )),
    }
}

async fn attempt_inner(
    client: &RouterClient,
    body: Value,
    model: &str,
) -> Result<Answer, AttemptError> {
    let raw = client.send_chat_raw(&body).await?;
    drop(body);
    let status = raw.status;
    let content_type = raw.headers.get(header::CONTENT_TYPE).cloned();
    let is_sse = content_type
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        content_type.unwrap_or_else(|| HeaderValue::from_static("application/json")),
    );
    for name in FORWARDED_HEADERS {
        if let Some(value) = raw.headers.get(name) {
            headers.insert(name, value.clone());
        }
    }
    if !is_sse {
        let body = raw.bytes().await?;
        if let Some(error) = error_body(&body) {
            return Err(AttemptError::BeforeContent(error.with_model(model)));
        }
        return Ok(Answer::Whole {
            status,
            headers,
            body,
        });
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Proxies in front of the gateway must not hold events back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    let mut stream: ByteStream = Box::pin(raw.bytes_stream());
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    let mut head = Vec::new();
    let mut peeked = 0usize;
    loop {
        match stream.next().await {
            Some(Ok(chunk)) => {
                parser.feed(&chunk, |e| decode_event(e, &mut events));
                peeked += chunk.len();
                head.push(chunk);
                if let Some(error) = first_error(&mut events) {
                    return Err(AttemptError::BeforeContent(error.with_model(model)));
                }
                if !events.is_empty() || peeked > PEEK_LIMIT {
                    return Ok(Answer::Stream {
                        status,
                        headers,
                        head,
                        rest: Some(stream),
                    });
                }
            }
            Some(Err(error)) => return Err(AttemptError::BeforeContent(error)),
            None => {
                parser.finish(|e| decode_event(e, &mut events));
                if let Some(error) = first_error(&mut events) {
                    return Err(AttemptError::BeforeContent(error.with_model(model)));
                }
                if events.is_empty() {
                    return Err(AttemptError::BeforeContent(
                        RouterError::new(
                            ErrorKind::BadResponse,
                            "the stream ended before the answer began",
                        )
                        .with_model(model),
                    ));
                }
                return Ok(Answer::Stream {
                    status,
                    headers,
                    head,
                    rest: None,
                });
            }
        }
    }
}

/// The error of a stream's first meaningful events, if they report one.
fn first_error(events: &mut Vec<ChatEvent>) -> Option<RouterError> {
    let error = events.iter().find_map(|e| match e {
        ChatEvent::Error(error) => Some(error.clone()),
        _ => None,
    });
    events.retain(|e| !matches!(e, ChatEvent::Error(_)));
    error
}

/// The error a 2xx JSON body reports instead of an answer (`{"error": …}`), if any.
fn error_body(body: &[u8]) -> Option<RouterError> {
    // Only bodies that mention `"error"` are parsed: answers are passed on untouched.
    if !body.windows(7).any(|w| w == b"\"error\"") {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    value
        .get("error")
        .filter(|e| !e.is_null())
        .map(|_| RouterError::from_error_event(&value))
}

/// The streaming body sent to the client: the peeked chunks, then the rest. It holds the
/// request's concurrency permit until it ends or the client goes away. A transport failure
/// after commit becomes a final `data: {"error": …}` event, so clients see why it stopped.
pub struct Passthrough {
    head: std::vec::IntoIter<Bytes>,
    rest: Option<ByteStream>,
    model: String,
    _permit: OwnedSemaphorePermit,
}

impl Passthrough {
    /// A body for `head` then `rest`, holding `permit`.
    pub fn new(
        head: Vec<Bytes>,
        rest: Option<ByteStream>,
        model: String,
        permit: OwnedSemaphorePermit,
    ) -> Passthrough {
        Passthrough {
            head: head.into_iter(),
            rest,
            model,
            _permit: permit,
        }
    }
}

impl Stream for Passthrough {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(chunk) = this.head.next() {
            return Poll::Ready(Some(Ok(chunk)));
        }
        let Some(rest) = this.rest.as_mut() else {
            return Poll::Ready(None);
        };
        match rest.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(Ok(chunk))),
            Poll::Ready(Some(Err(error))) => {
                this.rest = None;
                tracing::warn!(model = %this.model, error = %error, "stream broke off after it was sent");
                Poll::Ready(Some(Ok(ApiError::stream_event(&error))))
            }
            Poll::Ready(None) => {
                this.rest = None;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_recognised() {
        assert!(
            error_body(br#"{"choices":[{"message":{"content":"an \"error\" word"}}]}"#).is_none()
        );
        assert!(error_body(br#"{"error":null,"choices":[]}"#).is_none());
        let e = error_body(br#"{"error":{"message":"boom","type":"server_error"}}"#);
        assert_eq!(e.map(|e| e.kind), Some(ErrorKind::Upstream));
    }
}
