//! The HTTP client: discovery (`GET /models`), chat (plain, streaming and raw
//! passthrough) and the whoami token check.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, HeaderMap, HeaderName, HeaderValue, IF_NONE_MATCH,
    RETRY_AFTER,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

use crate::base_url::normalize_base_url;
use crate::chat::{ChatRequest, ChatResponse};
use crate::error::{ErrorKind, RouterError};
use crate::sse::{ChatDecoder, ChatEvent};
use crate::think::{Split, ThinkSplitter};
use crate::token::Token;

/// Connect timeout (SPEC §4: 5 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Total timeout of discovery and whoami requests (SPEC §4: 15 s).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest silence tolerated while reading any answer (chat answers have no total limit).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(300);
/// Largest model list accepted (decompressed).
pub const MAX_LIST_BYTES: usize = 32 * 1024 * 1024;
/// Largest non-streaming chat answer accepted.
pub const MAX_CHAT_BYTES: usize = 16 * 1024 * 1024;
/// Error bodies are read up to this size; the rest is dropped.
const MAX_ERROR_BYTES: usize = 64 * 1024;
/// The Hugging Face Hub, for whoami.
pub const DEFAULT_HUB_URL: &str = "https://huggingface.co";
/// The router's response header naming the provider that served a request.
pub const PROVIDER_HEADER: &str = "x-inference-provider";

/// The serving provider named by a response's [`PROVIDER_HEADER`], if any.
pub fn provider_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(PROVIDER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// How to build a [`RouterClient`].
#[derive(Clone)]
pub struct ClientOptions {
    /// Router base URL, e.g. `https://router.huggingface.co/v1` (trailing `/` ignored).
    pub base_url: String,
    /// Token sent as `Authorization: Bearer`; discovery works without one.
    pub token: Option<Token>,
    /// Headers sent with every router request (e.g. `X-HF-Bill-To`); an `Authorization`
    /// here replaces the token's for router requests.
    pub extra_headers: Vec<(String, String)>,
    /// `User-Agent`.
    pub user_agent: String,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Total timeout of discovery and whoami.
    pub request_timeout: Duration,
    /// Longest silence while reading an answer (chat and streams included).
    pub read_timeout: Duration,
}

impl ClientOptions {
    /// Options for `base_url` with no token, no extra headers and default timeouts.
    pub fn new(base_url: impl Into<String>) -> ClientOptions {
        ClientOptions {
            base_url: base_url.into(),
            token: None,
            extra_headers: Vec::new(),
            user_agent: concat!("hfclaw-router-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.extra_headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ClientOptions")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .field("extra_header_names", &header_names)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("read_timeout", &self.read_timeout)
            .finish()
    }
}

/// The client could not be built from its options.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The base URL is not an absolute http(s) URL.
    #[error("invalid router URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL given.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A header name or value cannot be sent (the value is never shown).
    #[error("invalid header {name:?}: {reason}")]
    InvalidHeader {
        /// The header name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The token contains characters a header cannot carry.
    #[error("the token contains characters that cannot be sent in a header")]
    InvalidToken,
    /// The HTTP stack failed to initialise (TLS roots, …).
    #[error("cannot initialise the HTTP client: {0}")]
    Http(String),
}

/// The answer of `GET /models`.
#[derive(Debug, Clone, PartialEq)]
pub enum ListResponse {
    /// 304: the cached list (by `ETag`) is current.
    NotModified,
    /// 200: a new body.
    Fresh {
        /// The body, decompressed.
        body: Bytes,
        /// The router's `ETag`.
        etag: Option<String>,
    },
}

/// What `GET https://huggingface.co/api/whoami-v2` says about the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoAmI {
    /// The user (or organisation) name.
    pub name: String,
    /// `auth.accessToken.role`: `read`, `write` or `fineGrained`.
    pub token_kind: Option<String>,
    /// `auth.accessToken.displayName`, the token's name.
    pub token_name: Option<String>,
    /// For fine-grained tokens: whether they hold `inference.serverless.write`; `None`
    /// for other kinds.
    pub fine_grained_scopes_ok: Option<bool>,
}

/// The permission a fine-grained token needs ("Make calls to Inference Providers").
pub const INFERENCE_PERMISSION: &str = "inference.serverless.write";

impl WhoAmI {
    /// Reads a whoami-v2 answer.
    pub fn from_json(value: &Value) -> Result<WhoAmI, RouterError> {
        let name = value
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                RouterError::new(ErrorKind::BadResponse, "whoami answer without a name")
            })?
            .to_owned();
        let token = value.pointer("/auth/accessToken");
        let field = |key: &str| {
            token
                .and_then(|t| t.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let token_kind = field("role");
        let fine_grained_scopes_ok = (token_kind.as_deref() == Some("fineGrained")).then(|| {
            let fine = token.and_then(|t| t.get("fineGrained"));
            let holds = |perms: Option<&Value>| {
                perms
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|p| p.as_str() == Some(INFERENCE_PERMISSION)))
            };
            holds(fine.and_then(|f| f.get("global")))
                || fine
                    .and_then(|f| f.get("scoped"))
                    .and_then(Value::as_array)
                    .is_some_and(|scoped| scoped.iter().any(|s| holds(s.get("permissions"))))
        });
        Ok(WhoAmI {
            name,
            token_kind,
            token_name: field("displayName"),
            fine_grained_scopes_ok,
        })
    }
}

/// A client of one router (base URL, token, headers). Cheap to clone.
#[derive(Clone)]
pub struct RouterClient {
    http: reqwest::Client,
    base_url: String,
    token: Option<Token>,
    /// `Bearer …` for router requests (`None` without a token or when the extra headers
    /// carry their own `Authorization`).
    router_auth: Option<HeaderValue>,
    /// `Bearer …` for the hub (whoami).
    hub_auth: Option<HeaderValue>,
    extra: HeaderMap,
    request_timeout: Duration,
    /// `{base_url}{path}` parsed, for each of [`CACHED_PATHS`] once asked (`None` when it
    /// does not parse: reqwest then reports the error as it would).
    urls: Arc<[OnceLock<Option<reqwest::Url>>; CACHED_PATHS.len()]>,
}

/// The router paths requests go to over and over: chat, the other front doors' APIs and
/// discovery. Other paths (stored responses by id) are parsed per request.
const CACHED_PATHS: [&str; 5] = [
    "/chat/completions",
    "/messages",
    "/responses",
    "/messages/count_tokens",
    "/models",
];

impl fmt::Debug for RouterClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouterClient")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .field("extra_header_names", &self.extra.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl RouterClient {
    /// Builds a client (rustls, HTTP/2, gzip); fails on a bad URL, header or token.
    pub fn new(options: ClientOptions) -> Result<RouterClient, ClientError> {
        let base_url = normalize_base_url(&options.base_url);
        let parsed = reqwest::Url::parse(&base_url).map_err(|e| ClientError::InvalidBaseUrl {
            url: base_url.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError::InvalidBaseUrl {
                url: base_url,
                reason: "only http and https are supported".to_owned(),
            });
        }
        let mut extra = HeaderMap::new();
        for (name, value) in &options.extra_headers {
            let header_name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                ClientError::InvalidHeader {
                    name: name.clone(),
                    reason: "not a valid header name",
                }
            })?;
            let mut header_value =
                HeaderValue::from_str(value.trim()).map_err(|_| ClientError::InvalidHeader {
                    name: name.clone(),
                    reason: "the value contains characters a header cannot carry",
                })?;
            header_value.set_sensitive(true);
            extra.insert(header_name, header_value);
        }
        let hub_auth = match &options.token {
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| ClientError::InvalidToken)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let router_auth = hub_auth
            .clone()
            .filter(|_| !extra.contains_key(AUTHORIZATION));
        let http = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.read_timeout)
            .build()
            .map_err(|e| ClientError::Http(e.to_string()))?;
        Ok(RouterClient {
            http,
            base_url,
            token: options.token,
            router_auth,
            hub_auth,
            extra,
            request_timeout: options.request_timeout,
            urls: Arc::default(),
        })
    }

    /// The router base URL (normalised: no trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// True when requests carry a token.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// The router's root: the base URL without its `/v1` (`https://router.huggingface.co`).
    /// Each provider answers under its own prefix there (`/together/v1/embeddings`,
    /// `/hf-inference/models/…`); a base URL without `/v1` is its own root.
    pub fn router_root(&self) -> &str {
        self.base_url.strip_suffix("/v1").unwrap_or(&self.base_url)
    }

    /// `METHOD {router root}{path}` with the token and the provider block's headers.
    pub(crate) fn root_request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.router_root()))
            .headers(self.extra.clone());
        if let Some(value) = &self.router_auth {
            request = request.header(AUTHORIZATION, value.clone());
        }
        request
    }

    /// `GET {url}` on the Hub: the token when there is one (no provider-block headers),
    /// JSON, the discovery timeout.
    pub(crate) fn hub_request(&self, url: &str) -> RequestBuilder {
        let mut request = self
            .http
            .get(url)
            .header(ACCEPT, "application/json")
            .timeout(self.request_timeout);
        if let Some(auth) = &self.hub_auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        request
    }

    pub(crate) fn router_request(&self, method: Method, path: &str, auth: bool) -> RequestBuilder {
        let url = || format!("{}{path}", self.base_url);
        // Parsed once per path (host, IDNA): the gateway sends every request to one of
        // these, and parsing each time was ~2% of its CPU.
        let parsed = CACHED_PATHS.iter().position(|p| *p == path).and_then(|i| {
            self.urls[i]
                .get_or_init(|| reqwest::Url::parse(&url()).ok())
                .as_ref()
        });
        let request = match parsed {
            Some(parsed) => self.http.request(method, parsed.clone()),
            None => self.http.request(method, url()),
        };
        let mut request = request.headers(self.extra.clone());
        if auth && let Some(value) = &self.router_auth {
            request = request.header(AUTHORIZATION, value.clone());
        }
        request
    }

    /// Makes an error safe to show: the token, if echoed, is redacted.
    pub(crate) fn scrub(&self, error: RouterError) -> RouterError {
        match &self.token {
            Some(token) => error.scrub(token.expose()),
            None => error,
        }
    }

    /// Sends a request; transport errors and non-2xx answers become [`RouterError`]s.
    pub(crate) async fn send(
        &self,
        request: RequestBuilder,
        what: &str,
    ) -> Result<Response, RouterError> {
        let started = Instant::now();
        let response = request.send().await.map_err(|e| {
            tracing::debug!(
                what,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "request failed"
            );
            self.scrub(RouterError::from_reqwest(&e))
        })?;
        let status = response.status();
        tracing::debug!(
            what,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "router answered"
        );
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_prefix(response, MAX_ERROR_BYTES).await;
        Err(self.scrub(RouterError::from_response(
            status.as_u16(),
            &body,
            retry_after.as_deref(),
        )))
    }

    /// `GET {base}/models`, with the token when there is one and `If-None-Match: etag`.
    pub async fn list_models(&self, etag: Option<&str>) -> Result<ListResponse, RouterError> {
        self.list_models_with(etag, true).await
    }

    /// `GET {base}/models` without the token (the list answers without auth).
    pub async fn list_models_without_token(
        &self,
        etag: Option<&str>,
    ) -> Result<ListResponse, RouterError> {
        self.list_models_with(etag, false).await
    }

    async fn list_models_with(
        &self,
        etag: Option<&str>,
        auth: bool,
    ) -> Result<ListResponse, RouterError> {
        let request = self
            .router_request(Method::GET, "/models", auth)
            .header(ACCEPT, "application/json")
            .timeout(self.request_timeout);
        self.conditional_get(request, etag, "list models", "model list")
            .await
    }

    /// A GET revalidated with `If-None-Match: etag`: `NotModified` on 304, else the body
    /// (at most [`MAX_LIST_BYTES`]) and its new `ETag`. The router's model list and the
    /// Hub's task mappings both go through here.
    pub(crate) async fn conditional_get(
        &self,
        mut request: reqwest::RequestBuilder,
        etag: Option<&str>,
        action: &str,
        what: &str,
    ) -> Result<ListResponse, RouterError> {
        if let Some(value) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            request = request.header(IF_NONE_MATCH, value);
        }
        let response = self.send(request, action).await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(ListResponse::NotModified);
        }
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_capped(response, MAX_LIST_BYTES, what)
            .await
            .map_err(|e| self.scrub(e))?;
        Ok(ListResponse::Fresh { body, etag })
    }

    async fn post_chat(
        &self,
        body: &Value,
        model: &str,
        stream: bool,
    ) -> Result<Response, RouterError> {
        self.post_json("/chat/completions", body, model, stream, &HeaderMap::new())
            .await
    }

    /// `POST {base}{path}` with a JSON body and `extra` headers (after the provider
    /// block's); non-2xx answers become [`RouterError`]s tagged with `model`.
    pub(crate) async fn post_json(
        &self,
        path: &str,
        body: &Value,
        model: &str,
        stream: bool,
        extra: &HeaderMap,
    ) -> Result<Response, RouterError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            RouterError::new(
                ErrorKind::BadRequest,
                format!("cannot encode the request: {e}"),
            )
        })?;
        self.post_bytes(path, Bytes::from(bytes), model, stream, extra)
            .await
    }

    /// [`RouterClient::post_json`] for a body already encoded.
    pub(crate) async fn post_bytes(
        &self,
        path: &str,
        body: Bytes,
        model: &str,
        stream: bool,
        extra: &HeaderMap,
    ) -> Result<Response, RouterError> {
        let accept = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        let mut request = self.router_request(Method::POST, path, true);
        if !extra.is_empty() {
            request = request.headers(extra.clone());
        }
        let request = request
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, accept)
            .body(body);
        self.send_for_model(request, path, model).await
    }

    /// [`RouterClient::send`] for a request made for `model`: its errors name the model,
    /// and a 304 (never asked for) is a bad response.
    pub(crate) async fn send_for_model(
        &self,
        request: RequestBuilder,
        path: &str,
        model: &str,
    ) -> Result<Response, RouterError> {
        let response = self
            .send(request, path)
            .await
            .map_err(|e| e.with_model(model))?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Err(RouterError {
                status: Some(304),
                ..RouterError::new(ErrorKind::BadResponse, "unexpected 304 Not Modified")
                    .with_model(model)
            });
        }
        Ok(response)
    }

    /// `POST {base}/chat/completions`, not streaming.
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, RouterError> {
        let model = request.model.as_str();
        let response = self
            .post_chat(&request.to_body(false), model, false)
            .await?;
        let provider = provider_of(response.headers());
        let body = read_capped(response, MAX_CHAT_BYTES, "chat answer")
            .await
            .map_err(|e| self.scrub(e).with_model(model))?;
        let mut answer =
            ChatResponse::from_body(&body).map_err(|e| self.scrub(e).with_model(model))?;
        answer.provider = provider;
        Ok(answer)
    }

    /// `POST {base}/chat/completions` streaming (SSE, usage included).
    ///
    /// Errors before the first byte (status, transport) come back here; later ones come
    /// from [`ChatStream::next_event`].
    pub async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, RouterError> {
        let model = request.model.clone();
        let response = self.post_chat(&request.to_body(true), &model, true).await?;
        let provider = provider_of(response.headers());
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if is_json {
            // A backend that ignored `stream: true`: one JSON answer, replayed as events.
            let body = read_capped(response, MAX_CHAT_BYTES, "chat answer")
                .await
                .map_err(|e| self.scrub(e).with_model(&model))?;
            let answer =
                ChatResponse::from_body(&body).map_err(|e| self.scrub(e).with_model(&model))?;
            let mut stream =
                ChatStream::from_events(model, answer.into_events(), self.token.clone());
            stream.provider = provider;
            return Ok(stream);
        }
        Ok(ChatStream {
            model,
            provider,
            body: Some(Box::pin(response.bytes_stream())),
            decoder: ChatDecoder::new(),
            pending: VecDeque::new(),
            scratch: Vec::new(),
            think: ThinkSplitter::new(),
            finished: false,
            saw_finish: false,
            emitted_content: false,
            emitted_reasoning: false,
            token: self.token.clone(),
        })
    }

    /// Checks the token with `GET {hub_url}/api/whoami-v2` (hub default:
    /// [`DEFAULT_HUB_URL`]); no extra headers are sent there.
    pub async fn whoami(&self, hub_url: &str) -> Result<WhoAmI, RouterError> {
        let Some(auth) = &self.hub_auth else {
            return Err(RouterError::new(ErrorKind::Auth, "no token to check"));
        };
        let url = format!("{}/api/whoami-v2", normalize_base_url(hub_url));
        let request = self
            .http
            .get(url)
            .header(AUTHORIZATION, auth.clone())
            .header(ACCEPT, "application/json")
            .timeout(self.request_timeout);
        let response = self.send(request, "whoami").await?;
        let body = read_capped(response, MAX_ERROR_BYTES * 16, "whoami answer")
            .await
            .map_err(|e| self.scrub(e))?;
        let value: Value = serde_json::from_slice(&body).map_err(|e| {
            RouterError::new(
                ErrorKind::BadResponse,
                format!("the whoami answer is not JSON ({e})"),
            )
        })?;
        WhoAmI::from_json(&value)
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A streaming chat answer; read it with [`ChatStream::next_event`].
///
/// Error events of the stream come out as `Err` (never as [`ChatEvent::Error`]) and end
/// the stream; so does a transport failure, and a stream that closes with neither
/// `[DONE]` nor a finish reason (`BadResponse`). A clean end yields [`ChatEvent::Done`]
/// once, then `None`.
pub struct ChatStream {
    model: String,
    /// The router's [`PROVIDER_HEADER`].
    provider: Option<String>,
    body: Option<ByteStream>,
    decoder: ChatDecoder,
    pending: VecDeque<ChatEvent>,
    scratch: Vec<ChatEvent>,
    /// Moves a leading `<think>` block of the content into reasoning.
    think: ThinkSplitter,
    finished: bool,
    saw_finish: bool,
    emitted_content: bool,
    emitted_reasoning: bool,
    token: Option<Token>,
}

impl fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatStream")
            .field("model", &self.model)
            .field("provider", &self.provider)
            .field("finished", &self.finished)
            .field("emitted_content", &self.emitted_content)
            .finish_non_exhaustive()
    }
}

impl ChatStream {
    /// A stream that replays decoded events (no network).
    pub fn from_events(model: String, events: Vec<ChatEvent>, token: Option<Token>) -> ChatStream {
        let mut stream = ChatStream {
            model,
            provider: None,
            body: None,
            decoder: ChatDecoder::new(),
            pending: VecDeque::new(),
            scratch: events,
            think: ThinkSplitter::new(),
            finished: false,
            saw_finish: false,
            emitted_content: false,
            emitted_reasoning: false,
            token,
        };
        stream.absorb(true);
        stream
    }

    /// Moves decoded events from `scratch` to `pending`, taking a leading `<think>` block
    /// out of the content as reasoning; `end` releases what the splitter holds back.
    fn absorb(&mut self, end: bool) {
        for event in self.scratch.drain(..) {
            match event {
                ChatEvent::Content(text) if !self.think.is_passthrough() => {
                    push_split(&mut self.pending, self.think.push(&text));
                }
                event @ (ChatEvent::Finish(_) | ChatEvent::Done) => {
                    push_split(&mut self.pending, self.think.finish());
                    self.pending.push_back(event);
                }
                event => self.pending.push_back(event),
            }
        }
        if end {
            push_split(&mut self.pending, self.think.finish());
        }
    }

    /// The model id the request was for.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The provider that serves the stream (the router's `x-inference-provider`), if named.
    pub fn provider(&self) -> Option<&str> {
        self.provider.as_deref()
    }

    /// True once answer text was handed out (a failure after that must not be retried
    /// silently).
    pub fn emitted_content(&self) -> bool {
        self.emitted_content
    }

    /// True once reasoning text was handed out.
    pub fn emitted_reasoning(&self) -> bool {
        self.emitted_reasoning
    }

    fn fail(&mut self, error: RouterError) -> Option<Result<ChatEvent, RouterError>> {
        self.finished = true;
        self.pending.clear();
        self.body = None;
        let error = match &self.token {
            Some(token) => error.scrub(token.expose()),
            None => error,
        };
        Some(Err(error.with_model(self.model.clone())))
    }

    /// The next event; `None` after the end.
    pub async fn next_event(&mut self) -> Option<Result<ChatEvent, RouterError>> {
        loop {
            if self.finished {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                match &event {
                    ChatEvent::Error(e) => {
                        let e = e.clone();
                        return self.fail(e);
                    }
                    ChatEvent::Done => {
                        self.finished = true;
                        self.pending.clear();
                        self.body = None;
                    }
                    ChatEvent::Content(_) => self.emitted_content = true,
                    ChatEvent::Reasoning(_) => self.emitted_reasoning = true,
                    ChatEvent::Finish(_) => self.saw_finish = true,
                    ChatEvent::Usage(_) => {}
                }
                return Some(Ok(event));
            }
            let Some(body) = self.body.as_mut() else {
                // The body ended without `[DONE]`.
                if self.saw_finish {
                    self.finished = true;
                    return Some(Ok(ChatEvent::Done));
                }
                return self.fail(RouterError::new(
                    ErrorKind::BadResponse,
                    "the stream ended before the answer was complete",
                ));
            };
            match body.next().await {
                Some(Ok(bytes)) => {
                    self.decoder.push(&bytes, &mut self.scratch);
                    self.absorb(false);
                }
                Some(Err(e)) => return self.fail(RouterError::from_reqwest(&e)),
                None => {
                    self.body = None;
                    self.decoder.finish(&mut self.scratch);
                    self.absorb(true);
                }
            }
        }
    }
}

/// The events of one split piece of content: reasoning first, then answer text.
fn push_split(pending: &mut VecDeque<ChatEvent>, split: Split) {
    if !split.reasoning.is_empty() {
        pending.push_back(ChatEvent::Reasoning(split.reasoning));
    }
    if !split.content.is_empty() {
        pending.push_back(ChatEvent::Content(split.content));
    }
}

/// Reads a body up to `cap` bytes; more is a `BadResponse`.
pub(crate) async fn read_capped(
    mut response: Response,
    cap: usize,
    what: &str,
) -> Result<Bytes, RouterError> {
    let too_large = || {
        RouterError::new(
            ErrorKind::BadResponse,
            format!("the {what} is larger than {} MiB", cap / (1024 * 1024)),
        )
    };
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Err(too_large());
    }
    let mut buf = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| RouterError::from_reqwest(&e))?
    {
        if buf.len() + chunk.len() > cap {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Reads at most `cap` bytes of a body (for error messages); failures read as empty.
async fn read_prefix(mut response: Response, cap: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    while buf.len() < cap {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = cap - buf.len();
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    buf
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn client_and_streams_can_cross_tasks() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>(_: &T) {}
        send_sync::<RouterClient>();
        send_sync::<crate::RouterError>();
        let client = RouterClient::new(ClientOptions::new("http://127.0.0.1:9/v1")).unwrap();
        let request = ChatRequest::new("a/b", Vec::new());
        send(&client.chat_stream(&request));
        let mut stream = ChatStream::from_events("a/b".into(), Vec::new(), None);
        send(&stream.next_event());
    }

    #[test]
    fn whoami_token_kinds() {
        let read =
            json!({"name":"alice","auth":{"accessToken":{"displayName":"laptop","role":"read"}}});
        let w = WhoAmI::from_json(&read).unwrap();
        assert_eq!(
            w,
            WhoAmI {
                name: "alice".into(),
                token_kind: Some("read".into()),
                token_name: Some("laptop".into()),
                fine_grained_scopes_ok: None
            }
        );
        let fine = |global: Value, scoped: Value| {
            json!({"name":"bob","auth":{"accessToken":{"role":"fineGrained",
                "fineGrained":{"canReadGatedRepos":true,"global":global,"scoped":scoped}}}})
        };
        let ok_global = fine(json!(["discussion.write", INFERENCE_PERMISSION]), json!([]));
        assert_eq!(
            WhoAmI::from_json(&ok_global)
                .unwrap()
                .fine_grained_scopes_ok,
            Some(true)
        );
        let ok_scoped = fine(
            json!([]),
            json!([{"entity":{"type":"user","name":"bob"},"permissions":["repo.content.read", INFERENCE_PERMISSION]}]),
        );
        assert_eq!(
            WhoAmI::from_json(&ok_scoped)
                .unwrap()
                .fine_grained_scopes_ok,
            Some(true)
        );
        let missing = fine(
            json!(["repo.content.read"]),
            json!([{"permissions":["repo.write"]}]),
        );
        assert_eq!(
            WhoAmI::from_json(&missing).unwrap().fine_grained_scopes_ok,
            Some(false)
        );
        assert!(WhoAmI::from_json(&json!({"error":"x"})).is_err());
    }

    #[test]
    fn request_urls_are_the_base_and_the_path_whether_parsed_once_or_each_time() {
        let client =
            RouterClient::new(ClientOptions::new("http://Example.COM:9/router/v1/")).unwrap();
        let url = |path: &str| {
            let request = client
                .router_request(Method::POST, path, true)
                .build()
                .unwrap();
            request.url().to_string()
        };
        for _ in 0..2 {
            assert_eq!(
                url("/chat/completions"),
                "http://example.com:9/router/v1/chat/completions"
            );
            assert_eq!(url("/messages"), "http://example.com:9/router/v1/messages");
            assert_eq!(
                url("/responses/resp_1/input_items?limit=2"),
                "http://example.com:9/router/v1/responses/resp_1/input_items?limit=2"
            );
        }
        assert!(
            client.urls[0].get().is_some_and(Option::is_some),
            "parsed once, kept"
        );
        // The cache is shared by clones, and a path outside it still works.
        let clone = client.clone();
        let request = clone
            .router_request(Method::GET, "/models", true)
            .build()
            .unwrap();
        assert_eq!(
            request.url().as_str(),
            "http://example.com:9/router/v1/models"
        );
    }

    #[test]
    fn options_and_client_debug_hide_the_token() {
        let mut options = ClientOptions::new("http://127.0.0.1:9/v1/");
        options.token = Token::new("hf_supersecrettokenvalue42");
        options.extra_headers = vec![("X-Secret-Header".into(), "secretheadervalue".into())];
        let text = format!("{options:?}");
        assert!(
            !text.contains("supersecret") && !text.contains("secretheadervalue"),
            "{text}"
        );
        let client = RouterClient::new(options).unwrap();
        let text = format!("{client:?}");
        assert!(
            !text.contains("supersecret") && !text.contains("secretheadervalue"),
            "{text}"
        );
        assert_eq!(client.base_url(), "http://127.0.0.1:9/v1");
    }

    #[test]
    fn bad_options_are_rejected() {
        let bad = |f: &dyn Fn(&mut ClientOptions)| {
            let mut o = ClientOptions::new("http://localhost/v1");
            f(&mut o);
            RouterClient::new(o).unwrap_err()
        };
        assert!(matches!(
            bad(&|o| o.base_url = "router.example/v1".into()),
            ClientError::InvalidBaseUrl { .. }
        ));
        assert!(matches!(
            bad(&|o| o.base_url = "ftp://x/v1".into()),
            ClientError::InvalidBaseUrl { .. }
        ));
        assert!(matches!(
            bad(&|o| o.extra_headers = vec![("bad name".into(), "v".into())]),
            ClientError::InvalidHeader { .. }
        ));
        let err = bad(&|o| o.extra_headers = vec![("X-A".into(), "line\nbreak-secret".into())]);
        assert!(!err.to_string().contains("break-secret"));
        let err = bad(&|o| o.token = Token::new("hf_bad\u{7f}secretvalue"));
        assert!(matches!(err, ClientError::InvalidToken));
        assert!(!format!("{err} {err:?}").contains("secretvalue"));
    }
}
