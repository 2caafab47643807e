//! The HTTP surface: the table of routes and, beside it, their handlers: `GET /healthz`,
//! `GET /v1/models[/{id}]`, the four front doors (`POST /v1/chat/completions`,
//! `/v1/messages`, `/v1/responses`, `/v1/embeddings`, each a call of the one forwarding
//! path in `forward.rs`), token counting and the stored-response endpoints (relayed), `GET
//! /metrics` and the status page at `GET /`. The layers around them (access guard,
//! client-key check, request log) are in `layers.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Path, Request, State as Extract};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use bytes::Bytes;
use hfclaw_model_ref::HUGGINGFACE_PREFIX;
use serde_json::json;

use crate::access::Caller;
use crate::api::Api;
use crate::app::App;
use crate::error::ApiError;
use crate::forward::{forward, relay};
use crate::health;
use crate::layers::{guard, log_request, request_id, require_key};
use crate::metrics::{self, Readings};
use crate::reserve;
use crate::status_page::{self, Page};

/// The gateway's routes.
pub fn router(app: Arc<App>) -> Router {
    let api = Router::new()
        .route("/", get(status))
        .route("/metrics", get(scrape))
        .route("/v1/models", get(list_models))
        .route("/v1/hfclaw/me", get(me))
        .route("/v1/models/{*id}", get(get_model))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .route("/v1/responses", post(responses))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/responses/{*rest}", any(stored_response));
    // Always: keys may appear in the database while the gateway runs.
    let api = api.route_layer(middleware::from_fn_with_state(app.clone(), require_key));
    Router::new()
        .route("/healthz", get(healthz))
        .merge(api)
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .layer(middleware::from_fn(log_request))
        .layer(middleware::from_fn(request_id))
        .with_state(app)
}

/// `GET /healthz`: `ok`, or `degraded` with the reasons while nothing can answer (the
/// router unreachable, every model of the default chain cooling, no token); the models in
/// cooldown with the seconds left. HTTP 200 either way: the gateway itself is up.
async fn healthz(Extract(app): Extract<Arc<App>>) -> Response {
    let snapshot = app.snapshot();
    let reach = match app.router_health.known(tokio::time::Instant::now()) {
        Some(reach) => reach,
        None => {
            let no_headers = axum::http::HeaderMap::new();
            let head = snapshot.client.forward_raw(
                axum::http::Method::HEAD,
                "/models",
                Bytes::new(),
                &no_headers,
            );
            let outcome = tokio::time::timeout(health::PROBE_TIMEOUT, head).await.ok();
            let reach = health::probe_outcome(outcome);
            app.router_health
                .saw(reach.clone(), tokio::time::Instant::now());
            reach
        }
    };
    let active = app.cooldowns.active(tokio::time::Instant::now());
    let account_hold = app
        .cooldowns
        .account_hold(tokio::time::Instant::now())
        .map(|(_, left)| left);
    let default_chain: Vec<String> = snapshot
        .chain(None, false)
        .unwrap_or_default()
        .iter()
        .map(|r| r.router_model_id().to_owned())
        .collect();
    let reasons = health::degraded_reasons(
        &reach,
        snapshot.client.has_token(),
        &default_chain,
        &active,
        account_hold,
    );
    let body = health::body(&reasons, &active, account_hold);
    json_response(StatusCode::OK, Bytes::from(body.to_string()))
}

async fn no_route(request: Request) -> Response {
    let path = request.uri().path();
    // The envelope of the API the client meant (`/v1/v1/messages`: Anthropic's).
    let api = crate::error::meant_path(path)
        .map_or(Api::for_path(path), |(meant, _)| Api::for_path(&meant));
    ApiError::no_route(path).into_response_for(api)
}

/// `GET /v1/hfclaw/me`: the calling key's label, limits, spend and remaining budget.
async fn me(Extract(app): Extract<Arc<App>>, caller: Option<Extension<Caller>>) -> Response {
    let body = reserve::me(
        caller.as_ref().map(|c| &c.0),
        app.options.budgets.as_deref(),
    );
    json_response(StatusCode::OK, Bytes::from(body.to_string()))
}

/// `GET /v1/models`: OpenAI's list, or Anthropic's when the client speaks Anthropic (it
/// sends `anthropic-version` or `x-api-key`, as Claude Code and the `anthropic` SDKs do).
async fn list_models(Extract(app): Extract<Arc<App>>, headers: HeaderMap) -> Response {
    let snapshot = app.snapshot();
    if headers.contains_key("anthropic-version") || headers.contains_key("x-api-key") {
        let body = anthropic_model_list(&snapshot.model_entries);
        return json_response(StatusCode::OK, Bytes::from(body.to_string()));
    }
    json_response(StatusCode::OK, snapshot.models_body.clone())
}

/// The model list in Anthropic's shape: `data[]` of `{type, id, display_name,
/// created_at}` (the catalog has no dates: the epoch), all in one page.
fn anthropic_model_list(entries: &[(String, serde_json::Value)]) -> serde_json::Value {
    let data: Vec<serde_json::Value> = entries
        .iter()
        .map(|(id, entry)| {
            let name = entry["name"].as_str().unwrap_or(id);
            let display_name = match entry["target"].as_str() {
                Some(target) => format!("{id} → {target}"),
                None => name.to_owned(),
            };
            json!({"type": "model", "id": id, "display_name": display_name,
                "created_at": "1970-01-01T00:00:00Z"})
        })
        .collect();
    json!({
        "data": data,
        "has_more": false,
        "first_id": entries.first().map(|(id, _)| id),
        "last_id": entries.last().map(|(id, _)| id),
    })
}

async fn get_model(Extract(app): Extract<Arc<App>>, Path(id): Path<String>) -> Response {
    match app.snapshot().model_entry(&id) {
        Ok(entry) => axum::Json(entry).into_response(),
        Err(error) => error.into_response(),
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

/// `GET /metrics`.
async fn scrape(Extract(app): Extract<Arc<App>>) -> Response {
    let snapshot = app.snapshot();
    // The configured chain is always listed (at 0 when healthy), so alerts can use it.
    let mut cooling: BTreeMap<String, bool> = snapshot
        .configured_chain()
        .map(|m| (snapshot.labels.model(m, &snapshot.catalog), false))
        .collect();
    for (id, left) in app.cooldowns.active(tokio::time::Instant::now()) {
        let entry = cooling
            .entry(snapshot.labels.router_id(&id, &snapshot.catalog))
            .or_default();
        *entry |= !left.is_zero();
    }
    let readings = Readings {
        in_flight: i64::try_from(app.in_flight()).unwrap_or(i64::MAX),
        cooldowns: cooling.into_iter().collect(),
    };
    let body = app.metrics.render(&readings);
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], body).into_response()
}

/// `GET /`.
async fn status(Extract(app): Extract<Arc<App>>) -> Response {
    let snapshot = app.snapshot();
    let now = SystemTime::now();
    let view = app.activity.view(now);
    let cooldowns: Vec<(String, Duration)> = app
        .cooldowns
        .active(tokio::time::Instant::now())
        .into_iter()
        .map(|(id, left)| (format!("{HUGGINGFACE_PREFIX}{id}"), left))
        .collect();
    let aliases: Vec<(String, String)> = snapshot
        .user
        .aliases
        .iter()
        .map(|(model_ref, alias)| (alias.to_owned(), model_ref.as_str().to_owned()))
        .collect();
    let html = status_page::render(&Page {
        version: env!("CARGO_PKG_VERSION"),
        now,
        uptime: app.started.elapsed(),
        primary: snapshot.user.primary.as_ref(),
        fallbacks: &snapshot.user.fallbacks,
        aliases: &aliases,
        live_data: snapshot.catalog.has_live_data(),
        has_token: snapshot.client.has_token(),
        in_flight: (app.in_flight(), app.options.max_concurrent),
        cooldowns: &cooldowns,
        account_hold: app
            .cooldowns
            .account_hold(tokio::time::Instant::now())
            .map(|(_, left)| left),
        activity: &view,
    });
    let mut response = html.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (
            header::CONTENT_SECURITY_POLICY,
            status_page::CONTENT_SECURITY_POLICY,
        ),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
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

/// `POST /v1/embeddings` (OpenAI embeddings, answered by the model's providers).
async fn embeddings(Extract(app): Extract<Arc<App>>, request: Request) -> Response {
    forward(app, Api::Embeddings, request).await
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
