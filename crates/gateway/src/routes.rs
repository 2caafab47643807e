//! The HTTP surface: `GET /healthz`, `GET /v1/models[/{id}]`, the three front doors
//! (`POST /v1/chat/completions`, `/v1/messages`, `/v1/responses`), token counting and the
//! stored-response endpoints, `GET /metrics` and the status page at `GET /`, plus the
//! client-key check and request logging.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State as Extract};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use bytes::Bytes;
use serde_json::json;

use crate::api::Api;
use crate::app::App;
use crate::error::ApiError;
use crate::forward::{forward, relay};
use crate::{metrics, status_page};

/// Request header that keeps the config's fallbacks out of the chain.
pub const NO_FALLBACK_HEADER: &str = "x-hfclaw-no-fallback";
/// Response header naming the model that answered (`huggingface/…`).
pub const MODEL_HEADER: &str = "x-hfclaw-model";
/// Response header with the answering model's place in the chain (0 = the one asked for).
pub const FALLBACK_HEADER: &str = "x-hfclaw-fallback";
/// Response header listing the models skipped before it, and why.
pub const SKIPPED_HEADER: &str = "x-hfclaw-skipped";

/// The label of the client key a request sent (a request extension).
#[derive(Debug, Clone)]
pub struct ClientLabel(pub String);

/// The `model` a failed request asked for, for the request log.
#[derive(Debug, Clone)]
pub struct Requested(pub String);

/// The gateway's routes.
pub fn router(app: Arc<App>) -> Router {
    let mut api = Router::new()
        .route("/", get(status_page::endpoint))
        .route("/metrics", get(metrics::endpoint))
        .route("/v1/models", get(list_models))
        .route("/v1/models/{*id}", get(get_model))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .route("/v1/responses", post(responses))
        .route("/v1/responses/{*rest}", any(stored_response));
    if !app.options.keys.is_empty() {
        api = api.route_layer(middleware::from_fn_with_state(app.clone(), require_key));
    }
    Router::new()
        .route("/healthz", get(healthz))
        .merge(api)
        .fallback(no_route)
        .layer(middleware::from_fn(log_request))
        .with_state(app)
}

/// `GET /healthz`: ok, and the models in cooldown with the seconds left.
async fn healthz(Extract(app): Extract<Arc<App>>) -> Response {
    let cooling: Vec<serde_json::Value> = app
        .cooldowns
        .active(tokio::time::Instant::now())
        .into_iter()
        .map(|(model, left)| json!({"model": model, "seconds_left": left.as_secs()}))
        .collect();
    let body = json!({"status": "ok", "cooldowns": cooling});
    json_response(StatusCode::OK, Bytes::from(body.to_string()))
}

async fn no_route(request: Request) -> Response {
    let path = request.uri().path();
    ApiError::no_route(path).into_response_for(Api::for_path(path))
}

async fn list_models(Extract(app): Extract<Arc<App>>) -> Response {
    json_response(StatusCode::OK, app.snapshot().models_body.clone())
}

async fn get_model(Extract(app): Extract<Arc<App>>, Path(id): Path<String>) -> Response {
    let snapshot = app.snapshot();
    match snapshot
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

/// Rejects requests without one of the gateway's keys (`Authorization: Bearer KEY` or
/// `x-api-key: KEY`, as OpenAI and Anthropic clients send them, or as the password of
/// HTTP Basic credentials, as a browser sends them), in the envelope of the API called;
/// marks accepted ones with the key's label. For the status page and `/metrics` the
/// rejection asks a browser for Basic credentials (a key in the URL would end up in
/// browser history and shell history).
async fn require_key(
    Extract(app): Extract<Arc<App>>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let x_api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(basic_password);
    let found = [bearer, x_api_key, basic.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|given| {
            app.options
                .keys
                .iter()
                .find(|key| same_secret(given.trim().as_bytes(), key.secret.as_bytes()))
        });
    match found {
        Some(key) => {
            let label = ClientLabel(key.label.clone());
            request.extensions_mut().insert(label);
            next.run(request).await
        }
        None if matches!(request.uri().path(), "/" | "/metrics") => ask_for_key(),
        None => {
            let api = Api::for_path(request.uri().path());
            ApiError::bad_client_key().into_response_for(api)
        }
    }
}

/// The password of `Authorization: Basic …` credentials (the user name is ignored).
fn basic_password(value: &str) -> Option<String> {
    use base64::Engine as _;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':')
        .map(|(_, password)| password.to_owned())
}

/// 401 for the operator's pages: browsers then ask for a user name (any) and password
/// (the client key).
fn ask_for_key() -> Response {
    let mut response = Response::new(Body::from(
        "this gateway needs its client key: send it as `Authorization: Bearer KEY`, or in a \
         browser as the password (any user name)\n",
    ));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    let headers = response.headers_mut();
    headers.insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"hfclaw gateway\", charset=\"UTF-8\""),
    );
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Compares without an early exit, so response times do not tell how much of a guess was
/// right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One `info` line per request (method, path, status, model, provider, latency) when `-v`
/// asks; never headers or bodies.
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
        provider = header("x-inference-provider").unwrap_or("-"),
        fallback = header(FALLBACK_HEADER).unwrap_or("-"),
        latency_ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    response
}

/// `POST /v1/chat/completions` (OpenAI chat).
async fn chat(Extract(app): Extract<Arc<App>>, request: Request) -> Response {
    forward(app, Api::Chat, request).await
}

/// `POST /v1/messages` (Anthropic Messages; Claude Code adds `?beta=true`).
async fn messages(Extract(app): Extract<Arc<App>>, request: Request) -> Response {
    forward(app, Api::Messages, request).await
}

/// `POST /v1/responses` (OpenAI Responses).
async fn responses(Extract(app): Extract<Arc<App>>, request: Request) -> Response {
    forward(app, Api::Responses, request).await
}

/// `POST /v1/messages/count_tokens`: the router's answer, whatever it is.
async fn count_tokens(Extract(app): Extract<Arc<App>>, request: Request) -> Response {
    relay(
        app,
        Api::Messages,
        "/messages/count_tokens".to_owned(),
        request,
    )
    .await
}

/// `/v1/responses/{id}…` (retrieve, cancel, input items, delete): forwarded as is.
async fn stored_response(
    Extract(app): Extract<Arc<App>>,
    Path(rest): Path<String>,
    request: Request,
) -> Response {
    let mut path = format!("/responses/{rest}");
    if let Some(query) = request.uri().query() {
        path.push('?');
        path.push_str(query);
    }
    relay(app, Api::Responses, path, request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_give_their_password() {
        use base64::Engine as _;
        let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
        assert_eq!(
            basic_password(&format!("Basic {}", encode("me:s3cr:et"))).as_deref(),
            Some("s3cr:et")
        );
        assert_eq!(
            basic_password(&format!("basic {}", encode(":k"))).as_deref(),
            Some("k")
        );
        assert_eq!(basic_password(&format!("Bearer {}", encode(":k"))), None);
        assert_eq!(basic_password("Basic !!!"), None);
        assert_eq!(
            basic_password(&format!("Basic {}", encode("no-colon"))),
            None
        );
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
    }
}
