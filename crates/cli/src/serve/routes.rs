//! The HTTP surface: `GET /healthz`, `GET /v1/models[/{id}]`, `POST /v1/chat/completions`,
//! plus the client-key check and request logging.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State as Extract};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use hfclaw_model_ref::ModelRef;
use hfclaw_router_client::{ChainSuccess, run_chain};
use serde_json::{Map, Value};

use crate::serve::App;
use crate::serve::error::ApiError;
use crate::serve::upstream::{self, Answer, Passthrough};

/// Largest request body accepted.
pub const MAX_BODY: usize = 8 * 1024 * 1024;
/// How much of an oversized body is read (and dropped) so the client gets its 413.
const DRAIN_LIMIT: usize = 4 * MAX_BODY;

/// Request header that keeps the config's fallbacks out of the chain.
pub const NO_FALLBACK_HEADER: &str = "x-hfclaw-no-fallback";
/// Response header naming the model that answered (`huggingface/…`).
pub const MODEL_HEADER: &str = "x-hfclaw-model";
/// Response header with the answering model's place in the chain (0 = the one asked for).
pub const FALLBACK_HEADER: &str = "x-hfclaw-fallback";
/// Response header listing the models skipped before it, and why.
pub const SKIPPED_HEADER: &str = "x-hfclaw-skipped";

/// The gateway's routes.
pub fn router(app: Arc<App>) -> Router {
    let mut api = Router::new()
        .route("/v1/models", get(list_models))
        .route("/v1/models/{*id}", get(get_model))
        .route("/v1/chat/completions", post(chat));
    if app.api_key.is_some() {
        api = api.route_layer(middleware::from_fn_with_state(app.clone(), require_key));
    }
    Router::new()
        .route("/healthz", get(healthz))
        .merge(api)
        .fallback(no_route)
        .layer(middleware::from_fn(log_request))
        .with_state(app)
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, Bytes::from_static(br#"{"status":"ok"}"#))
}

async fn no_route(request: Request) -> Response {
    ApiError::no_route(request.uri().path()).into_response()
}

async fn list_models(Extract(app): Extract<Arc<App>>) -> Response {
    json_response(StatusCode::OK, app.state().models_body.clone())
}

async fn get_model(Extract(app): Extract<Arc<App>>, Path(id): Path<String>) -> Response {
    let state = app.state();
    match state
        .model_entries
        .iter()
        .find(|(entry_id, _)| *entry_id == id)
    {
        Some((_, entry)) => axum::Json(entry.clone()).into_response(),
        None => ApiError::unknown_model(&id).into_response(),
    }
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Rejects requests without the gateway's key (`Authorization: Bearer KEY` or `x-api-key`).
async fn require_key(Extract(app): Extract<Arc<App>>, request: Request, next: Next) -> Response {
    let Some(key) = &app.api_key else {
        return next.run(request).await;
    };
    let headers = request.headers();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    if given.is_some_and(|given| same_secret(given.trim().as_bytes(), key.as_bytes())) {
        next.run(request).await
    } else {
        ApiError::bad_client_key().into_response()
    }
}

/// Compares without an early exit, so response times do not tell how much of a guess was
/// right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One `info` line per request (method, path, status, model, latency) when `-v` asks; never
/// headers or bodies.
async fn log_request(request: Request, next: Next) -> Response {
    if !tracing::enabled!(tracing::Level::INFO) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let headers = response.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // The model that answered; for failures, the model the client asked for.
    let model = header(MODEL_HEADER)
        .or_else(|| {
            response
                .extensions()
                .get::<Requested>()
                .map(|r| r.0.as_str())
        })
        .unwrap_or("-");
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        model,
        fallback = header(FALLBACK_HEADER).unwrap_or("-"),
        latency_ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    response
}

/// `POST /v1/chat/completions`.
async fn chat(Extract(app): Extract<Arc<App>>, request: Request) -> Response {
    let mut requested = None;
    match chat_inner(&app, request, &mut requested).await {
        Ok(response) => response,
        Err(error) => {
            let mut response = error.into_response();
            if let Some(model) = requested {
                response.extensions_mut().insert(Requested(model));
            }
            response
        }
    }
}

/// The `model` a failed request asked for, for the request log.
#[derive(Clone)]
struct Requested(String);

async fn chat_inner(
    app: &App,
    request: Request,
    requested_model: &mut Option<String>,
) -> Result<Response, ApiError> {
    // Taken before the body is read, so bodies in memory are bounded too.
    let permit = app
        .limit
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::overloaded(app.max_concurrent))?;
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body).await?;
    tracing::trace!(body = %String::from_utf8_lossy(&bytes), "chat request");
    let body: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::invalid_request(
            "invalid_json",
            format!("the request body is not a JSON object: {e}"),
        )
    })?;
    drop(bytes);
    if body
        .get("messages")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        return Err(ApiError::missing_messages());
    }
    let requested = match body.get("model") {
        None | Some(Value::Null) => None,
        Some(Value::String(model)) => Some(model.clone()),
        Some(_) => {
            return Err(ApiError::invalid_request(
                "invalid_model",
                "`model` must be a string: a huggingface/… ref, org/model, an alias or \"default\"",
            ));
        }
    };
    requested_model.clone_from(&requested);
    let no_fallback = parts
        .headers
        .get(NO_FALLBACK_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
    let state = app.state();
    let chain = state.chain(requested.as_deref(), no_fallback)?;
    let ids: Vec<String> = chain
        .iter()
        .map(|r| r.router_model_id().to_owned())
        .collect();
    let timeout = app.timeout;
    let client = &state.client;
    let outcome = run_chain(&ids, &app.policy, |attempt| {
        // Each attempt owns its body: attempts of one chain run one after the other, but
        // the engine cannot lend one body to successive futures.
        let mut body = body.clone();
        body.insert("model".to_owned(), Value::String(attempt.model.clone()));
        async move { upstream::attempt(client, Value::Object(body), &attempt.model, timeout).await }
    })
    .await;
    let success = outcome.map_err(|failure| ApiError::from_failure(&failure, &chain))?;
    Ok(respond(success, &chain, permit))
}

/// Reads the body up to [`MAX_BODY`].
///
/// An oversized body is read to its end (up to [`DRAIN_LIMIT`]) before the 413 goes out:
/// a client still writing when the connection closes sees a broken pipe, not the answer.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > DRAIN_LIMIT as u64) {
        return Err(ApiError::too_large(MAX_BODY));
    }
    let mut stream = body.into_data_stream();
    let capacity = declared.map_or(0, |len| (len as usize).min(MAX_BODY));
    let mut buf = BytesMut::with_capacity(capacity);
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::invalid_request(
                "unreadable_body",
                format!("could not read the request body: {e}"),
            )
        })?;
        total += chunk.len();
        if total > DRAIN_LIMIT {
            break;
        }
        if total <= MAX_BODY {
            buf.extend_from_slice(&chunk);
        }
    }
    if total > MAX_BODY {
        return Err(ApiError::too_large(MAX_BODY));
    }
    Ok(buf.freeze())
}

/// The client's answer: the router's status, body and content type, plus which model
/// answered.
fn respond(
    success: ChainSuccess<Answer>,
    chain: &[ModelRef],
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Response {
    let model_ref = &chain[success.index];
    let (status, mut headers, body) = match success.value {
        Answer::Whole {
            status,
            headers,
            body,
        } => {
            drop(permit);
            (status, headers, Body::from(body))
        }
        Answer::Stream {
            status,
            headers,
            head,
            rest,
        } => {
            let stream = Passthrough::new(head, rest, model_ref.to_string(), permit);
            (status, headers, Body::from_stream(stream))
        }
    };
    if let Ok(value) = HeaderValue::from_str(model_ref.as_str()) {
        headers.insert(MODEL_HEADER, value);
    }
    headers.insert(FALLBACK_HEADER, HeaderValue::from(success.index));
    if !success.skipped.is_empty() {
        let skipped: Vec<String> = success
            .skipped
            .iter()
            .map(|s| {
                let status = s
                    .error
                    .status
                    .map(|c| format!(", HTTP {c}"))
                    .unwrap_or_default();
                format!("{} ({}{status})", chain[s.index], s.error.kind.summary())
            })
            .collect();
        if let Ok(value) = HeaderValue::from_str(&skipped.join(", ")) {
            headers.insert(SKIPPED_HEADER, value);
        }
    }
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
    }
}
