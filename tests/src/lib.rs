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
    /// Another reply with extra response headers, e.g. the router's
    /// `x-inference-provider` on a stream (see [`Reply::with_header`]).
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

    /// The same reply with one more header (any kind of reply).
    pub fn with_header(self, name: &str, value: &str) -> Reply {
        let header = (name.to_owned(), value.to_owned());
        match self {
            Reply::Json {
                status,
                body,
                mut headers,
            } => {
                headers.push(header);
                Reply::Json {
                    status,
                    body,
                    headers,
                }
            }
            Reply::Headed { reply, mut headers } => {
                headers.push(header);
                Reply::Headed { reply, headers }
            }
            other => Reply::Headed {
                reply: Box::new(other),
                headers: vec![header],
            },
        }
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
    /// Per model id (as sent), replies in order; the last one repeats.
    chat: HashMap<String, VecDeque<Reply>>,
    /// The Hub's `GET /api/whoami-v2` answer (401 when unset).
    whoami: Option<Reply>,
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
                    .route("/v1/chat/completions", post(chat))
                    .route("/api/whoami-v2", get(whoami))
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
        self.lock()
            .chat
            .insert(model_id.to_owned(), replies.into_iter().collect());
        self
    }

    /// Sets the Hub's whoami answer (this server also plays `huggingface.co`:
    /// point `HFCLAW_HUB_URL` at [`FakeRouter::hub_url`]).
    pub fn whoami(&self, reply: Reply) -> &FakeRouter {
        self.lock().whoami = Some(reply);
        self
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
        self.requests()
            .iter()
            .filter(|r| r.route == "POST /v1/chat/completions")
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

async fn chat(State(script): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    record(&script, "POST /v1/chat/completions", &headers, &body);
    let model = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("model")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    let reply = {
        let mut script = script.lock().unwrap_or_else(PoisonError::into_inner);
        match script.chat.get_mut(&model) {
            Some(queue) if queue.len() > 1 => queue.pop_front(),
            Some(queue) => queue.front().cloned(),
            None => None,
        }
    };
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

async fn respond(reply: Reply) -> Response {
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
            let mut response = Box::pin(respond(*reply)).await;
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
