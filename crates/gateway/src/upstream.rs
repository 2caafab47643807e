//! One attempt at one model, and the body that streams the chosen answer to the client.
//!
//! An attempt succeeds only once it is safe to commit: a whole JSON answer that is not an
//! error, or a stream whose first meaningful event (per API: [`Api::peek`]) has arrived
//! and is not an error. Until then every failure is "before content" and the fallback
//! chain may move on; nothing has reached the client.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use hfclaw_router_client::sse::SseParser;
use hfclaw_router_client::{AttemptError, ErrorKind, RouterClient, RouterError};
use tokio::sync::OwnedSemaphorePermit;

use crate::api::{Api, Peek};
use crate::error::ApiError;
use crate::tap::Tap;

/// Bytes of a stream read while looking for its first meaningful event; past this the
/// stream is committed as is (a sane router sends its first event in far less).
const PEEK_LIMIT: usize = 64 * 1024;

/// Router headers worth passing on (which provider answered, for debugging with HF).
const FORWARDED_HEADERS: [&str; 2] = ["x-inference-provider", "x-request-id"];

/// A stream of body bytes from the router.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, RouterError>> + Send>>;

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

/// What an attempt sends.
pub struct Outgoing<'a> {
    /// The API (decides the path and how the answer is judged).
    pub api: Api,
    /// Client headers for the router (e.g. `anthropic-version`).
    pub headers: &'a HeaderMap,
    /// How long the model may take to start answering.
    pub timeout: Duration,
    /// Whether the body asks for a stream.
    pub stream: bool,
}

/// Sends `body` (encoded, its `model` already set) and reads until the answer can be
/// committed, within the timeout.
pub async fn attempt(
    client: &RouterClient,
    outgoing: &Outgoing<'_>,
    body: Bytes,
    model: &str,
) -> Result<Answer, AttemptError> {
    let timeout = outgoing.timeout;
    match tokio::time::timeout(timeout, attempt_inner(client, outgoing, body, model)).await {
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
    outgoing: &Outgoing<'_>,
    body: Bytes,
    model: &str,
) -> Result<Answer, AttemptError> {
    let api = outgoing.api;
    let raw = client
        .send_raw_bytes(
            api.upstream_path(),
            body,
            model,
            outgoing.stream,
            outgoing.headers,
        )
        .await?;
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
        if let Some(error) = api.error_in_body(&body) {
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
    let mut head = Vec::new();
    let mut peeked = 0usize;
    let mut verdict = Peek::Wait;
    let judge = |event: Option<&str>, data: &str, verdict: &mut Peek| {
        if *verdict == Peek::Wait {
            *verdict = api.peek(event, data);
        }
    };
    loop {
        match stream.next().await {
            Some(Ok(chunk)) => {
                if let Err(e) = parser.feed(&chunk, |e| judge(e.event, e.data, &mut verdict)) {
                    let error = RouterError::new(ErrorKind::BadResponse, e.to_string());
                    return Err(AttemptError::BeforeContent(error.with_model(model)));
                }
                peeked += chunk.len();
                head.push(chunk);
                match verdict {
                    Peek::Error(error) => {
                        return Err(AttemptError::BeforeContent(error.with_model(model)));
                    }
                    Peek::Commit => break,
                    Peek::Wait if peeked > PEEK_LIMIT => break,
                    Peek::Wait => {}
                }
            }
            Some(Err(error)) => return Err(AttemptError::BeforeContent(error)),
            None => {
                parser.finish(|e| judge(e.event, e.data, &mut verdict));
                return match verdict {
                    Peek::Error(error) => Err(AttemptError::BeforeContent(error.with_model(model))),
                    Peek::Commit => Ok(Answer::Stream {
                        status,
                        headers,
                        head,
                        rest: None,
                    }),
                    Peek::Wait => Err(AttemptError::BeforeContent(
                        RouterError::new(
                            ErrorKind::BadResponse,
                            "the stream ended before the answer began",
                        )
                        .with_model(model),
                    )),
                };
            }
        }
    }
    Ok(Answer::Stream {
        status,
        headers,
        head,
        rest: Some(stream),
    })
}

/// How a committed stream ended.
#[derive(Debug, Clone, Default)]
pub struct StreamEnd {
    /// The usage it reported.
    pub usage: Option<hfclaw_accounting::Usage>,
    /// The failure that cut it short, if any.
    pub error: Option<RouterError>,
    /// False when the client went away before the end.
    pub completed: bool,
}

/// Called once when a stream ends, however it ends.
pub type OnEnd = Box<dyn FnOnce(StreamEnd) + Send>;

/// The streaming body sent to the client: the peeked chunks, then the rest, through the
/// stream's [`Tap`]. It holds the request's concurrency permit until it ends or the client
/// goes away, and reports how it ended. A transport failure after commit becomes a final
/// error event in the API's format, so clients see why it stopped.
pub struct Passthrough {
    api: Api,
    head: std::vec::IntoIter<Bytes>,
    rest: Option<ByteStream>,
    tap: Tap,
    model: String,
    done: bool,
    error: Option<RouterError>,
    on_end: Option<OnEnd>,
    _permit: OwnedSemaphorePermit,
}

impl Passthrough {
    /// A body for `head` then `rest`, through `tap`, holding `permit`.
    pub fn new(
        api: Api,
        head: Vec<Bytes>,
        rest: Option<ByteStream>,
        tap: Tap,
        model: String,
        permit: OwnedSemaphorePermit,
        on_end: OnEnd,
    ) -> Passthrough {
        Passthrough {
            api,
            head: head.into_iter(),
            rest,
            tap,
            model,
            done: false,
            error: None,
            on_end: Some(on_end),
            _permit: permit,
        }
    }

    fn end(&mut self, completed: bool) {
        if let Some(on_end) = self.on_end.take() {
            on_end(StreamEnd {
                usage: self.tap.usage(),
                error: self.error.take(),
                completed,
            });
        }
    }
}

impl Stream for Passthrough {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let chunk = if let Some(chunk) = this.head.next() {
                chunk
            } else if let Some(rest) = this.rest.as_mut() {
                match rest.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(chunk))) => chunk,
                    Poll::Ready(Some(Err(error))) => {
                        this.rest = None;
                        tracing::warn!(model = %this.model, error = %error, "stream broke off after it was sent");
                        let event = ApiError::stream_event(this.api, &error);
                        this.error = Some(error);
                        let mut out = this.tap.finish().to_vec();
                        out.extend_from_slice(&event);
                        return Poll::Ready(Some(Ok(Bytes::from(out))));
                    }
                    Poll::Ready(None) => {
                        this.rest = None;
                        continue;
                    }
                    Poll::Pending => return Poll::Pending,
                }
            } else {
                this.done = true;
                let tail = this.tap.finish();
                this.end(true);
                if tail.is_empty() {
                    return Poll::Ready(None);
                }
                return Poll::Ready(Some(Ok(tail)));
            };
            let out = this.tap.chunk(chunk);
            if !out.is_empty() {
                return Poll::Ready(Some(Ok(out)));
            }
        }
    }
}

impl Drop for Passthrough {
    fn drop(&mut self) {
        // The client went away (or the server is cutting streams at shutdown).
        self.end(false);
    }
}
