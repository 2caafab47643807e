//! Test support for end-to-end tests: a loopback fake of the Hugging Face router and a way
//! to find the `hfclaw` binary.
//!
//! The fake router runs on its own thread with its own runtime, so plain `#[test]`
//! functions can start it, run the real binary against it, and inspect what it received.
//! It never touches the internet: it binds 127.0.0.1 on a free port.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use futures_util::StreamExt;

pub mod hub;

pub use hub::Mapping;

/// What the fake router answers to one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response.
    Json {
        /// HTTP status.
        status: u16,
        /// Body text.
        body: String,
        /// Extra headers.
        headers: Vec<(String, String)>,
    },
    /// A `text/event-stream` body sent in pieces, with a pause before each piece.
    Sse {
        /// Raw pieces of the body, sent as separate writes.
        pieces: Vec<String>,
        /// Pause before each piece.
        delay: Duration,
    },
    /// Never answers (for timeouts).
    Hang,
    /// Another reply with extra response headers (e.g. `x-inference-provider`).
    Headed {
        /// The reply.
        reply: Box<Reply>,
        /// Extra headers.
        headers: Vec<(String, String)>,
    },
}

impl Reply {
    /// A JSON reply with a status.
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply::Json {
            status,
            body: body.into(),
            headers: Vec::new(),
        }
    }

    /// The same reply with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        match &mut self {
            Reply::Json { headers, .. } | Reply::Headed { headers, .. } => {
                headers.push((name.to_owned(), value.to_owned()));
                self
            }
            _ => Reply::Headed {
                reply: Box::new(self),
                headers: vec![(name.to_owned(), value.to_owned())],
            },
        }
    }

    /// The same reply naming the backend that served it (`x-inference-provider`).
    pub fn via(self, provider: &str) -> Reply {
        self.with_header("x-inference-provider", provider)
    }

    /// An SSE reply from complete events, sent at once.
    pub fn sse(pieces: Vec<String>) -> Reply {
        Reply::Sse {
            pieces,
            delay: Duration::ZERO,
        }
    }

    /// A non-streamed Anthropic Messages answer.
    pub fn messages_json(model: &str, text: &str) -> Reply {
        let body = serde_json::json!({
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 5, "output_tokens": 7},
        });
        Reply::json(200, body.to_string())
    }

    /// A streamed Anthropic Messages answer.
    pub fn messages_stream(model: &str, pieces: &[&str]) -> Reply {
        Reply::sse(anthropic_events(model, pieces))
    }

    /// A non-streamed OpenAI Responses answer.
    pub fn responses_json(model: &str, text: &str) -> Reply {
        Reply::json(
            200,
            response_object(model, "completed", Some(text)).to_string(),
        )
    }

    /// A streamed OpenAI Responses answer.
    pub fn responses_stream(model: &str, pieces: &[&str]) -> Reply {
        Reply::sse(responses_events(model, pieces))
    }

    /// A router error in the `{"error":{"message","type","code"}}` envelope.
    pub fn error(status: u16, message: &str, code: Option<&str>) -> Reply {
        let body = serde_json::json!({"error": {"message": message, "type": "invalid_request_error", "code": code}});
        Reply::json(status, body.to_string())
    }

    /// A streamed chat answer: optional reasoning pieces, then content pieces, usage, `[DONE]`.
    pub fn chat_stream(model: &str, reasoning: &[&str], content: &[&str]) -> Reply {
        Reply::Sse {
            pieces: sse_chat_events(model, reasoning, content),
            delay: Duration::ZERO,
        }
    }

    /// A non-streamed chat answer.
    pub fn chat_json(model: &str, content: &str) -> Reply {
        let body = serde_json::json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
        });
        Reply::json(200, body.to_string())
    }
}

/// The SSE events of a chat stream, one `data:` event per piece.
pub fn sse_chat_events(model: &str, reasoning: &[&str], content: &[&str]) -> Vec<String> {
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        let event = serde_json::json!({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {event}\n\n")
    };
    let mut events = vec![chunk(
        serde_json::json!({"role": "assistant", "content": ""}),
        None,
    )];
    for piece in reasoning {
        events.push(chunk(serde_json::json!({"reasoning_content": piece}), None));
    }
    for piece in content {
        events.push(chunk(serde_json::json!({"content": piece}), None));
    }
    events.push(chunk(serde_json::json!({}), Some("stop")));
    let usage = serde_json::json!({
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": model,
        "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": content.len(), "total_tokens": 5 + content.len()},
    });
    events.push(format!("data: {usage}\n\n"));
    events.push("data: [DONE]\n\n".to_owned());
    events
}

/// The events of a streamed Anthropic Messages answer (`event:` lines included).
pub fn anthropic_events(model: &str, pieces: &[&str]) -> Vec<String> {
    let event = |name: &str, data: serde_json::Value| format!("event: {name}\ndata: {data}\n\n");
    let mut events = vec![
        event(
            "message_start",
            serde_json::json!({"type": "message_start", "message": {
                "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 5, "output_tokens": 1}}}),
        ),
        event(
            "content_block_start",
            serde_json::json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}),
        ),
        event("ping", serde_json::json!({"type": "ping"})),
    ];
    for piece in pieces {
        events.push(event(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": piece}}),
        ));
    }
    events.push(event(
        "content_block_stop",
        serde_json::json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push(event(
        "message_delta",
        serde_json::json!({"type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"output_tokens": pieces.len()}}),
    ));
    events.push(event(
        "message_stop",
        serde_json::json!({"type": "message_stop"}),
    ));
    events
}

/// An OpenAI Responses `response` object; `text` is its one output message.
pub fn response_object(model: &str, status: &str, text: Option<&str>) -> serde_json::Value {
    let output: Vec<serde_json::Value> = text
        .map(|text| {
            serde_json::json!({"type": "message", "id": "msg_fake", "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}]})
        })
        .into_iter()
        .collect();
    let usage = (status == "completed").then(|| {
        serde_json::json!({"input_tokens": 5, "output_tokens": 7, "total_tokens": 12,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0}})
    });
    serde_json::json!({
        "id": "resp_fake", "object": "response", "created_at": 1, "status": status,
        "model": model, "output": output, "usage": usage, "error": null,
        "incomplete_details": null, "instructions": null, "metadata": {},
        "parallel_tool_calls": true, "temperature": 1.0, "tool_choice": "auto",
        "tools": [], "top_p": 1.0,
    })
}

/// The events of a streamed OpenAI Responses answer (`event:` lines included).
pub fn responses_events(model: &str, pieces: &[&str]) -> Vec<String> {
    let text: String = pieces.concat();
    let mut sequence = 0u64;
    let mut event = |name: &str, mut data: serde_json::Value| {
        data["type"] = serde_json::json!(name);
        data["sequence_number"] = serde_json::json!(sequence);
        sequence += 1;
        format!("event: {name}\ndata: {data}\n\n")
    };
    let part =
        |text: &str| serde_json::json!({"type": "output_text", "text": text, "annotations": []});
    let item = |status: &str, content: Vec<serde_json::Value>| {
        serde_json::json!({"type": "message", "id": "msg_fake", "status": status,
            "role": "assistant", "content": content})
    };
    let mut events = vec![
        event(
            "response.created",
            serde_json::json!({"response": response_object(model, "in_progress", None)}),
        ),
        event(
            "response.in_progress",
            serde_json::json!({"response": response_object(model, "in_progress", None)}),
        ),
        event(
            "response.output_item.added",
            serde_json::json!({"output_index": 0, "item": item("in_progress", Vec::new())}),
        ),
        event(
            "response.content_part.added",
            serde_json::json!({"item_id": "msg_fake", "output_index": 0, "content_index": 0,
                "part": part("")}),
        ),
    ];
    for piece in pieces {
        events.push(event(
            "response.output_text.delta",
            serde_json::json!({"item_id": "msg_fake", "output_index": 0, "content_index": 0,
                "delta": piece, "logprobs": []}),
        ));
    }
    events.push(event(
        "response.output_text.done",
        serde_json::json!({"item_id": "msg_fake", "output_index": 0, "content_index": 0,
            "text": text, "logprobs": []}),
    ));
    events.push(event(
        "response.content_part.done",
        serde_json::json!({"item_id": "msg_fake", "output_index": 0, "content_index": 0,
            "part": part(&text)}),
    ));
    events.push(event(
        "response.output_item.done",
        serde_json::json!({"output_index": 0, "item": item("completed", vec![part(&text)])}),
    ));
    events.push(event(
        "response.completed",
        serde_json::json!({"response": response_object(model, "completed", Some(&text))}),
    ));
    events
}

/// A request the fake router received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method and path, e.g. `POST /v1/chat/completions`.
    pub route: String,
    /// Headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `model` field of a chat request body.
    pub fn model(&self) -> Option<String> {
        let body: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        body.get("model")?.as_str().map(str::to_owned)
    }
}

#[derive(Default)]
struct Script {
    models: Option<Reply>,
    /// Per path and model id (as sent), replies in order; the last one repeats.
    replies: HashMap<(String, String), VecDeque<Reply>>,
    /// The Hub's `GET /api/whoami-v2` answer (401 when unset).
    whoami: Option<Reply>,
    /// The answer text for requests nothing is scripted for ([`FakeRouter::answer_any`]).
    any: Option<fn(&str) -> String>,
    /// The Hub's `POST /oauth/token` answers, in order (the last repeats), and a pause
    /// before each ([`FakeRouter::oauth_token`]).
    oauth: (VecDeque<Reply>, Duration),
    /// The Hub's models and their provider mappings ([`FakeRouter::embedding_model`]).
    hub: hub::HubScript,
    recorded: Vec<Recorded>,
}

type Shared = Arc<Mutex<Script>>;

/// A running fake router; stops when dropped.
pub struct FakeRouter {
    addr: SocketAddr,
    script: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeRouter {
    /// Starts a fake router on 127.0.0.1 with no scripted replies (404 for every model).
    pub fn start() -> FakeRouter {
        let script: Shared = Arc::default();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let shared = script.clone();
        let thread = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
                    return;
                };
                let Ok(addr) = listener.local_addr() else {
                    return;
                };
                let _ = addr_tx.send(addr);
                let app = Router::new()
                    .route("/v1/models", get(models))
                    .route("/v1/chat/completions", post(answer))
                    .route("/v1/messages", post(answer))
                    .route("/v1/messages/count_tokens", post(answer))
                    .route("/v1/responses", post(answer))
                    .route("/v1/responses/{*rest}", axum::routing::any(answer))
                    .route("/api/whoami-v2", get(whoami))
                    .route("/oauth/token", post(oauth_token))
                    .route("/api/models", get(hub_list))
                    .route("/api/models/{*id}", get(hub_model))
                    .fallback(provider)
                    .with_state(shared);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("fake router did not start"));
        FakeRouter {
            addr,
            script,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sets the answer to `GET /v1/models`.
    pub fn models(&self, reply: Reply) -> &FakeRouter {
        self.lock().models = Some(reply);
        self
    }

    /// Queues replies for chat requests whose `model` is `model_id`; the last one repeats.
    pub fn chat(&self, model_id: &str, replies: impl IntoIterator<Item = Reply>) -> &FakeRouter {
        self.on("/v1/chat/completions", model_id, replies)
    }

    /// Queues replies for Anthropic Messages requests (`POST /v1/messages`).
    pub fn messages(
        &self,
        model_id: &str,
        replies: impl IntoIterator<Item = Reply>,
    ) -> &FakeRouter {
        self.on("/v1/messages", model_id, replies)
    }

    /// Queues replies for OpenAI Responses requests (`POST /v1/responses`).
    pub fn responses(
        &self,
        model_id: &str,
        replies: impl IntoIterator<Item = Reply>,
    ) -> &FakeRouter {
        self.on("/v1/responses", model_id, replies)
    }

    /// Queues replies for requests to `path` (e.g. `/v1/messages/count_tokens`) whose
    /// `model` is `model_id` (`""` for requests without one).
    pub fn on(
        &self,
        path: &str,
        model_id: &str,
        replies: impl IntoIterator<Item = Reply>,
    ) -> &FakeRouter {
        self.lock().replies.insert(
            (path.to_owned(), model_id.to_owned()),
            replies.into_iter().collect(),
        );
        self
    }

    /// Answers every chat, Messages and Responses request that nothing is scripted for with
    /// `text(model)` in that API's format, streamed (a few pieces) when the body says
    /// `"stream": true`; `POST /v1/messages/count_tokens` gets a token count. For real
    /// agents, which send what they like (tools, system prompts, side requests).
    pub fn answer_any(&self, text: fn(&str) -> String) -> &FakeRouter {
        self.lock().any = Some(text);
        self
    }

    /// Sets the Hub's whoami answer (this server also plays `huggingface.co`:
    /// point `HFCLAW_HUB_URL` at [`FakeRouter::hub_url`]).
    pub fn whoami(&self, reply: Reply) -> &FakeRouter {
        self.lock().whoami = Some(reply);
        self
    }

    /// Queues the Hub's answers to `POST /oauth/token` (the OAuth refresh of `hf auth
    /// login` tokens), each sent after `delay`; the last one repeats. Unset: 400
    /// `invalid_request`.
    pub fn oauth_token(
        &self,
        replies: impl IntoIterator<Item = Reply>,
        delay: Duration,
    ) -> &FakeRouter {
        self.lock().oauth = (replies.into_iter().collect(), delay);
        self
    }

    /// Sets up `model_id` on the fake Hub with `mappings` (its
    /// `inferenceProviderMapping`), and each mapped provider's path answering
    /// `dims`-float vectors computed from the inputs (in that provider's shape).
    pub fn embedding_model(
        &self,
        model_id: &str,
        dims: usize,
        mappings: &[Mapping],
    ) -> &FakeRouter {
        let mut script = self.lock();
        script
            .hub
            .models
            .insert(model_id.to_owned(), mappings.to_vec());
        script.hub.dims.insert(model_id.to_owned(), dims);
        self
    }

    /// Sets the answer of the Hub's list endpoint (`GET /api/models?…`); unset, it lists
    /// the models of [`FakeRouter::embedding_model`].
    pub fn hub_list(&self, reply: Reply) -> &FakeRouter {
        self.lock().hub.list = Some(reply);
        self
    }

    /// The requests made to the Hub's model endpoints (`GET /api/models…`).
    pub fn hub_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.route.starts_with("GET /api/models"))
            .collect()
    }

    /// The requests made to providers' own paths (`POST /together/v1/embeddings` …).
    pub fn provider_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.route.starts_with("POST /") && !r.route.starts_with("POST /v1/"))
            .filter(|r| r.route != "POST /oauth/token")
            .collect()
    }

    /// `http://127.0.0.1:PORT`, the fake Hub.
    pub fn hub_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().recorded.clone()
    }

    /// The `model` of every chat request received so far, in order.
    pub fn chat_models(&self) -> Vec<String> {
        self.models_sent_to("POST /v1/chat/completions")
    }

    /// The `model` of every request to `route` (e.g. `POST /v1/messages`), in order.
    pub fn models_sent_to(&self, route: &str) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r.route == route)
            .filter_map(Recorded::model)
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for FakeRouter {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn record(script: &Shared, route: &str, headers: &HeaderMap, body: &[u8]) {
    let headers = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut script = script.lock().unwrap_or_else(PoisonError::into_inner);
    script.recorded.push(Recorded {
        route: route.to_owned(),
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
    });
}

async fn models(State(script): State<Shared>, request: Request) -> Response {
    record(&script, "GET /v1/models", request.headers(), b"");
    let reply = script
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .models
        .clone()
        .unwrap_or_else(|| Reply::json(200, r#"{"object":"list","data":[]}"#));
    respond(reply).await
}

async fn whoami(State(script): State<Shared>, request: Request) -> Response {
    record(&script, "GET /api/whoami-v2", request.headers(), b"");
    let reply = script
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .whoami
        .clone()
        .unwrap_or_else(|| {
            Reply::json(
                401,
                r#"{"error":"Invalid credentials in Authorization header"}"#,
            )
        });
    respond(reply).await
}

async fn oauth_token(State(script): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    record(&script, "POST /oauth/token", &parts.headers, &body);
    let (reply, delay) = {
        let mut script = script.lock().unwrap_or_else(PoisonError::into_inner);
        let (queue, delay) = &mut script.oauth;
        let reply = if queue.len() > 1 {
            queue.pop_front()
        } else {
            queue.front().cloned()
        };
        (reply, *delay)
    };
    tokio::time::sleep(delay).await;
    respond(reply.unwrap_or_else(|| Reply::json(400, r#"{"error":"invalid_request"}"#))).await
}

async fn answer(State(script): State<Shared>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    record(&script, &format!("{method} {path}"), &parts.headers, &body);
    let model = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("model")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    let key = if path.starts_with("/v1/responses/") {
        ("/v1/responses/*".to_owned(), String::new())
    } else {
        (path.clone(), model.clone())
    };
    let (reply, any) = {
        let mut script = script.lock().unwrap_or_else(PoisonError::into_inner);
        let reply = match script.replies.get_mut(&key) {
            Some(queue) if queue.len() > 1 => queue.pop_front(),
            Some(queue) => queue.front().cloned(),
            None => None,
        };
        (reply, script.any)
    };
    let reply = reply.or_else(|| any_reply(&path, &body, any?));
    let reply = reply.unwrap_or_else(|| {
        Reply::error(
            400,
            &format!(
                "The requested model '{model}' is not supported by any provider you have enabled."
            ),
            Some("model_not_supported"),
        )
    });
    respond(reply).await
}

async fn hub_model(
    State(script): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
    request: Request,
) -> Response {
    record(
        &script,
        &format!("GET /api/models/{id}"),
        request.headers(),
        b"",
    );
    let reply = script
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .hub
        .model_reply(&id);
    respond(reply).await
}

async fn hub_list(State(script): State<Shared>, request: Request) -> Response {
    let query = request.uri().query().unwrap_or("").to_owned();
    record(
        &script,
        &format!("GET /api/models?{query}"),
        request.headers(),
        b"",
    );
    let reply = script
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .hub
        .list_reply();
    respond(reply).await
}

/// A provider's own path (`/together/v1/embeddings`, `/hf-inference/models/…`): a scripted
/// reply for the path and the body's `model` (`""` when it has none), else the answer of
/// a model set up with [`FakeRouter::embedding_model`], else 404.
async fn provider(State(script): State<Shared>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    record(&script, &format!("{method} {path}"), &parts.headers, &body);
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let model = value
        .get("model")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_owned();
    let reply = {
        let mut script = script.lock().unwrap_or_else(PoisonError::into_inner);
        let scripted = match script.replies.get_mut(&(path.clone(), model)) {
            Some(queue) if queue.len() > 1 => queue.pop_front(),
            Some(queue) => queue.front().cloned(),
            None => None,
        };
        scripted.or_else(|| script.hub.provider_reply(&path, &value))
    };
    respond(reply.unwrap_or_else(|| Reply::json(404, r#"{"error":"Not Found"}"#))).await
}

/// What [`FakeRouter::answer_any`] sends for a request to `path` with `body`.
fn any_reply(path: &str, body: &[u8], text: fn(&str) -> String) -> Option<Reply> {
    let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let model = request.get("model").and_then(|m| m.as_str()).unwrap_or("");
    let stream = request.get("stream") == Some(&serde_json::Value::Bool(true));
    let text = text(model);
    let pieces: Vec<&str> = text.split_inclusive(' ').collect();
    Some(match (path, stream) {
        ("/v1/messages/count_tokens", _) => Reply::json(
            200,
            serde_json::json!({"input_tokens": body.len() / 4}).to_string(),
        ),
        ("/v1/messages", false) => Reply::messages_json(model, &text),
        ("/v1/messages", true) => Reply::messages_stream(model, &pieces),
        ("/v1/responses", false) => Reply::responses_json(model, &text),
        ("/v1/responses", true) => Reply::responses_stream(model, &pieces),
        ("/v1/chat/completions", false) => Reply::chat_json(model, &text),
        ("/v1/chat/completions", true) => Reply::chat_stream(model, &[], &pieces),
        _ => return None,
    })
}

fn respond(reply: Reply) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>> {
    Box::pin(respond_inner(reply))
}

async fn respond_inner(reply: Reply) -> Response {
    match reply {
        Reply::Json {
            status,
            body,
            headers,
        } => {
            let mut builder = Response::builder()
                .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
                .header("content-type", "application/json");
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            builder.body(Body::from(body)).unwrap_or_default()
        }
        Reply::Sse { pieces, delay } => {
            let stream = futures_util::stream::iter(pieces).then(move |piece| async move {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok::<_, std::convert::Infallible>(Bytes::from(piece))
            });
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(stream))
                .unwrap_or_default()
        }
        Reply::Hang => {
            std::future::pending::<()>().await;
            Response::default()
        }
        Reply::Headed { reply, headers } => {
            let mut response = respond(*reply).await;
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    axum::http::HeaderName::from_bytes(name.as_bytes()),
                    axum::http::HeaderValue::from_str(&value),
                ) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
    }
}

/// The `hfclaw` binary of this build (`target/<profile>/hfclaw`), built (or brought up to
/// date) once per test process: `cargo test` does not rebuild another package's binary.
pub fn hfclaw_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            // Test executables live in target/<profile>/deps/.
            let exe = std::env::current_exe().unwrap_or_default();
            let profile_dir = exe
                .parent()
                .and_then(|deps| deps.parent())
                .map(PathBuf::from)
                .unwrap_or_default();
            let release = profile_dir.file_name().is_some_and(|n| n == "release");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let mut build = std::process::Command::new(cargo);
            build.args(["build", "--quiet", "-p", "hfclaw", "--bin", "hfclaw"]);
            if release {
                build.arg("--release");
            }
            let status = build.status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "building hfclaw for end-to-end tests failed"
            );
            profile_dir.join("hfclaw")
        })
        .clone()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn post(router: &FakeRouter, path: &str, body: serde_json::Value) -> (String, String) {
        let url = format!("http://{}{path}", router.addr());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let response = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            (kind, response.text().await.unwrap())
        })
    }

    #[test]
    fn answer_any_speaks_each_api_streamed_or_not_and_scripts_win() {
        let router = FakeRouter::start();
        router.answer_any(|model| format!("hi from {model}")).chat(
            "scripted/model",
            [Reply::chat_json("scripted/model", "as scripted")],
        );
        let (kind, body) = post(
            &router,
            "/v1/chat/completions",
            serde_json::json!({"model": "a/b"}),
        );
        assert_eq!(kind, "application/json");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["choices"][0]["message"]["content"], "hi from a/b");
        let (kind, body) = post(
            &router,
            "/v1/messages",
            serde_json::json!({"model": "a/b", "stream": true}),
        );
        assert_eq!(kind, "text/event-stream");
        assert!(
            body.contains(r#""text":"hi "#) && body.contains(r#""text":"a/b""#),
            "{body}"
        );
        assert!(body.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
        let (_, body) = post(
            &router,
            "/v1/responses",
            serde_json::json!({"model": "c/d"}),
        );
        assert!(body.contains(r#""text":"hi from c/d""#), "{body}");
        let (kind, body) = post(
            &router,
            "/v1/responses",
            serde_json::json!({"model": "c/d", "stream": true}),
        );
        assert_eq!(kind, "text/event-stream");
        assert!(body.contains("event: response.completed"), "{body}");
        let (_, body) = post(
            &router,
            "/v1/messages/count_tokens",
            serde_json::json!({"model": "a/b"}),
        );
        assert!(body.starts_with(r#"{"input_tokens":"#), "{body}");
        let (_, body) = post(
            &router,
            "/v1/chat/completions",
            serde_json::json!({"model": "scripted/model"}),
        );
        assert!(body.contains("as scripted"), "{body}");
    }
}
