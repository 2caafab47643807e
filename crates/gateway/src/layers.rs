//! The layers every request passes before (and after) its handler: the request id
//! ([`request_id`]: the client's `x-request-id` or a new one, on the request, its
//! extensions and the answer), the access guard
//! ([`guard`]: Host, Origin and content type, on every route, before any routing; its
//! rules are `guard.rs`), the client-key check ([`require_key`], on every route but
//! `/healthz` once any key exists; its rules are `access.rs`) and the request log ([`log_request`]). A guard
//! that looks at every request belongs here.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::{Request, State as Extract};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use hfclaw_accounting::attribution::{client_request_id, new_request_id};

use crate::access::{Caller, authenticate};
use crate::api::Api;
use crate::app::App;
use crate::error::ApiError;
use crate::exchange::{ClientLabel, Recorded, RequestId, log_millis};
use crate::guard::Verdict;
use crate::headers::{
    EXPOSED_HEADERS, FALLBACK_HEADER, MODEL_HEADER, REQUEST_ID_HEADER, ROUTER_REQUEST_ID_HEADER,
};

/// Gives every request an id: the client's `x-request-id` when it is a usable one
/// (`hfclaw_accounting::attribution::client_request_id`), else a new one, written back
/// into the request's header (so the router gets it), kept as a [`RequestId`] extension
/// (so the ledger row does) and set on the answer. A router answer that carried its own,
/// different id keeps it in [`ROUTER_REQUEST_ID_HEADER`].
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id: Arc<str> = match request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| client_request_id(v.as_bytes()))
    {
        Some(id) => Arc::from(id),
        None => Arc::from(new_request_id()),
    };
    let value = HeaderValue::from_str(&id).ok();
    if let Some(value) = &value {
        request
            .headers_mut()
            .insert(REQUEST_ID_HEADER, value.clone());
    }
    request.extensions_mut().insert(RequestId(id));
    let mut response = next.run(request).await;
    if let Some(value) = value {
        let headers = response.headers_mut();
        if let Some(router) = headers.insert(REQUEST_ID_HEADER, value.clone())
            && router != value
        {
            headers.insert(ROUTER_REQUEST_ID_HEADER, router);
        }
    }
    response
}

/// Refuses what web pages send (a foreign `Host`, a foreign `Origin`, a body not declared
/// JSON) in the envelope of the API called, before any handler runs; answers CORS
/// preflights of allowed origins and adds the CORS headers to their answers.
pub async fn guard(Extract(app): Extract<Arc<App>>, request: Request, next: Next) -> Response {
    match app
        .options
        .access
        .check(request.method(), request.headers())
    {
        Verdict::Pass { cors: None } => next.run(request).await,
        Verdict::Pass { cors: Some(origin) } => {
            let mut response = next.run(request).await;
            allow_origin(response.headers_mut(), origin);
            response
        }
        Verdict::Preflight { origin } => preflight(origin, request.headers()),
        Verdict::Refuse(refusal) => {
            let api = Api::for_path(request.uri().path());
            ApiError::refused(refusal).into_response_for(api)
        }
    }
}

/// The headers of an answer to an allowed cross-origin request.
fn allow_origin(headers: &mut axum::http::HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED_HEADERS),
    );
}

/// 204 to a CORS preflight of an allowed origin: the gateway's methods, and the headers the
/// page asked for (the origin is trusted; the request itself still needs the client key).
fn preflight(origin: HeaderValue, request: &axum::http::HeaderMap) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    if let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ),
    );
    response
}

/// Rejects requests without one of the gateway's keys (`Authorization: Bearer KEY` or
/// `x-api-key: KEY`, as OpenAI and Anthropic clients send them, or as the password of
/// HTTP Basic credentials, as a browser sends them), in the envelope of the API called;
/// marks accepted ones with the key's label and entry. The status page and `/metrics`
/// need an admin key; without a key, they ask a browser for Basic credentials (a key in the URL would end up in
/// browser history and shell history).
pub async fn require_key(
    Extract(app): Extract<Arc<App>>,
    mut request: Request,
    next: Next,
) -> Response {
    let directory = &app.options.keys;
    // No key anywhere (database, file, flag): every request is let through.
    if directory.is_empty() {
        return next.run(request).await;
    }
    let operator_page = matches!(request.uri().path(), "/" | "/metrics");
    match authenticate(directory, request.headers(), SystemTime::now()) {
        Ok(key) if operator_page && !key.admin => {
            ApiError::admin_only(&key.label).into_response_for(Api::Chat)
        }
        Ok(key) => {
            request
                .extensions_mut()
                .insert(ClientLabel(key.label.clone()));
            request.extensions_mut().insert(Caller(key));
            next.run(request).await
        }
        Err(_) if operator_page => ask_for_key(),
        Err(refused) => {
            let api = Api::for_path(request.uri().path());
            ApiError::key_refused(&refused).into_response_for(api)
        }
    }
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

/// One `info` line per request when `-v` asks, never headers or bodies: the three front
/// doors' requests are logged by `App::record` when their answer ends (API, model,
/// provider, fallback, tokens, cost, times), every other one here (method, path, status,
/// latency).
pub async fn log_request(request: Request, next: Next) -> Response {
    if !tracing::enabled!(tracing::Level::INFO) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    if response.extensions().get::<Recorded>().is_some() {
        return response;
    }
    let headers = response.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        model = header(MODEL_HEADER).unwrap_or("-"),
        provider = header("x-inference-provider").unwrap_or("-"),
        fallback = header(FALLBACK_HEADER).unwrap_or("-"),
        latency_ms = log_millis(started.elapsed()),
        "request"
    );
    response
}
