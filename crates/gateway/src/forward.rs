//! The one forwarding path of the four APIs: read and check the body, resolve `model`
//! into a chain (for embeddings, the model's providers: `crate::embeddings`), skip models
//! in cooldown, run the chain before anything reaches the
//! client, answer with the chosen model's bytes, and record how it went. Per-API
//! differences come from [`Api`]; nothing here is written three times.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use hfclaw_accounting::attribution::{bounded_user, read_metadata};
use hfclaw_accounting::{REJECTED_MODEL, Tags};
use hfclaw_catalog::Lack;
use hfclaw_model_ref::ModelRef;
use hfclaw_router_client::{
    ChainSuccess, FallbackPolicy, JsonBody, RouterError, provider_of, run_chain,
};
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::access::{Caller, allowed_chain};
use crate::api::Api;
use crate::app::App;
use crate::cooldown::Plan;
use crate::embeddings;
use crate::error::ApiError;
use crate::exchange::{ClientLabel, Exchange, HoldSlot, Recorded, RequestId};
use crate::headers::{
    COST_ESTIMATED_HEADER, COST_HEADER, FALLBACK_HEADER, MODEL_HEADER, NO_FALLBACK_HEADER,
    REQUEST_ID_HEADER, ROUTE_HEADER, SKIPPED_HEADER,
};
use crate::meter::Meter;
use crate::reserve;
use crate::tap::{Tap, split_whole_answer};
use crate::upstream::{self, Answer, Outgoing, Passthrough, StreamEnd};

/// What is known about a request while it is served.
struct Ticket {
    at: SystemTime,
    started: Instant,
    api: Api,
    key: Option<String>,
    requested: Option<String>,
    /// The body was read and its `model` taken: a refusal before that (bad JSON, too
    /// large, overloaded) concerns no model, not the default.
    model_read: bool,
    streamed: bool,
    /// The `--route` pattern that chose the model.
    route: Option<Arc<str>>,
    /// Its reservation against the budgets.
    hold: Option<HoldSlot>,
    /// Its id (the request-id layer's).
    request_id: Option<Arc<str>>,
    /// The end user and tags its body names.
    user: Option<String>,
    tags: Tags,
}

impl Ticket {
    fn exchange(&self) -> Exchange {
        Exchange {
            key: self.key.clone(),
            requested: self.requested.clone(),
            streamed: self.streamed,
            route: self.route.clone(),
            hold: self.hold.clone(),
            request_id: self.request_id.clone(),
            user: self.user.clone(),
            tags: self.tags.clone(),
            ..Exchange::unanswered(self.at, self.api, self.started.elapsed())
        }
    }
}

/// Serves one request of `api` (`POST /v1/chat/completions`, `/v1/messages`,
/// `/v1/responses`).
pub async fn forward(app: Arc<App>, api: Api, request: Request) -> Response {
    let mut ticket = Ticket {
        at: SystemTime::now(),
        started: Instant::now(),
        api,
        key: request
            .extensions()
            .get::<ClientLabel>()
            .map(|k| k.0.clone()),
        requested: None,
        model_read: false,
        streamed: false,
        route: None,
        hold: None,
        request_id: request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone()),
        user: None,
        tags: Tags::default(),
    };
    let mut response = match forward_inner(&app, &mut ticket, request).await {
        Ok(response) => response,
        Err(error) => {
            let mut exchange = ticket.exchange();
            if !ticket.model_read {
                exchange.requested = Some(REJECTED_MODEL.to_owned());
            }
            exchange.error = Some((error.class().to_owned(), error.status.as_u16()));
            app.record(exchange);
            error.into_response_for(api)
        }
    };
    if let Some(budgets) = &app.options.budgets {
        reserve::tell_remaining(budgets, ticket.key.as_deref(), response.headers_mut());
    }
    // `App::record` logs this request's one line (when its answer ends).
    response.extensions_mut().insert(Recorded);
    response
}

async fn forward_inner(
    app: &Arc<App>,
    ticket: &mut Ticket,
    request: Request,
) -> Result<Response, ApiError> {
    let api = ticket.api;
    // Taken before the body is read, so bodies in memory are bounded too.
    let permit = app
        .limit
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::overloaded(app.options.max_concurrent))?;
    let (parts, body) = request.into_parts();
    let caller = parts.extensions.get::<Caller>().cloned();
    let mut body = read_json(&parts.headers, body, app.options.max_body).await?;
    api.validate(&body)?;
    ticket.requested = model_field(&body)?;
    ticket.model_read = true;
    (ticket.user, ticket.tags) = attribution(api, &body);
    ticket.streamed = api.wants_stream(&body);
    let no_fallback = parts
        .headers
        .get(NO_FALLBACK_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
    let snapshot = app.snapshot();
    let (chain, named) = if api == Api::Embeddings {
        let (model, route) = embeddings::model(app, &snapshot, ticket.requested.as_deref())?;
        ticket.route = route;
        (vec![model], true)
    } else {
        let choice =
            app.options
                .routes
                .choose(&snapshot, ticket.requested.as_deref(), no_fallback)?;
        ticket.route.clone_from(&choice.route);
        (choice.chain, choice.named)
    };
    let mut chain = allowed_chain(caller.as_ref(), &snapshot, chain)?;
    let worst = match &app.options.budgets {
        Some(_) => reserve::worst_case(api, &body, &snapshot, &chain),
        None => 0.0,
    };
    ticket.hold = reserve::admit(app, caller.as_ref(), ticket.key.as_deref(), worst).await?;
    // After a 402 every model bills the same account: answer at once, ask nobody.
    if let Some((error, left)) = app.cooldowns.account_hold(Instant::now()) {
        return Err(ApiError::account_held(&error, left));
    }
    // A task routed through the Hub's mapping: its providers are the chain.
    let task = match api {
        Api::Embeddings => Some(embeddings::plan(app, &snapshot, &chain[0], &body).await?),
        _ => None,
    };
    if let Some(task) = &task {
        chain = task.refs.clone();
    }
    let ids: Vec<String> = chain
        .iter()
        .map(|r| r.router_model_id().to_owned())
        .collect();
    // Usage is asked for on the gateway's own account; the extra chunk is then hidden.
    let hide_usage_chunk = api == Api::Chat && ticket.streamed && !asks_for_usage(&body);
    if hide_usage_chunk {
        // Only `stream_options` is rewritten; a value that is not an object is left alone.
        let mut options = body
            .get::<Value>("stream_options")
            .and_then(Result::ok)
            .unwrap_or_else(|| Value::Object(Map::new()));
        if let Value::Object(members) = &mut options {
            members.insert("include_usage".to_owned(), Value::Bool(true));
            body.set("stream_options", &options);
        }
    }
    let headers = forwarded_headers(api, &parts.headers);
    let outgoing = Outgoing {
        api,
        headers: &headers,
        timeout: app.options.timeout,
        stream: ticket.streamed,
    };
    // Later models that cannot serve what the request needs (images, tools) are left out;
    // the body is looked at only when one of them could be.
    let unfit = match &task {
        Some(_) => Vec::new(),
        None => hfclaw_catalog::unfit(&snapshot.catalog, &chain, |wanted| api.needs(&body, wanted)),
    };
    let plan = app.cooldowns.plan(&ids, unfit, Instant::now());
    let tried: Vec<String> = plan.order.iter().map(|&i| ids[i].clone()).collect();
    let client = &snapshot.client;
    // A model the client named (not cooling, so tried first) is its answer unless it
    // fails transiently; `default` and routes keep the whole chain. An embeddings chain
    // is one model's providers: any of them is the model named.
    let policy = FallbackPolicy {
        named_first: named && api != Api::Embeddings && plan.order.first() == Some(&0),
        ..app.options.policy.clone()
    };
    let outcome = run_chain(&tried, &policy, |attempt| {
        let call = match &task {
            Some(task) => Call::Task(task, &task.routes[plan.order[attempt.index]]),
            // Each attempt sends the client's bytes with its model spliced in: nothing
            // else is re-encoded.
            None => Call::Router(body.with_model(&attempt.model)),
        };
        let outgoing = &outgoing;
        async move {
            match call {
                Call::Task(task, route) => {
                    embeddings::attempt(client, route, task, &attempt.model, outgoing).await
                }
                Call::Router(encoded) => {
                    upstream::attempt(client, outgoing, encoded, &attempt.model).await
                }
            }
        }
    })
    .await;
    let in_chain = |tried_index: usize| plan.order[tried_index];
    let (skips, succeeded) = match &outcome {
        Ok(success) => (&success.skipped, Some(in_chain(success.index))),
        Err(failure) => (&failure.skipped, None),
    };
    let failed: Vec<(usize, &RouterError)> = skips
        .iter()
        .map(|s| (in_chain(s.index), &s.error))
        .collect();
    app.cooldowns
        .settle(&ids, &plan, &failed, succeeded, Instant::now());
    app.router_health
        .observe(&failed, succeeded.is_some(), Instant::now());
    let tried_refs: Vec<ModelRef> = plan.order.iter().map(|&i| chain[i].clone()).collect();
    let success = outcome.map_err(|failure| {
        let soonest = app.cooldowns.soonest(&ids, Instant::now());
        let error = ApiError::chain_failed(&failure, &tried_refs, soonest);
        // The models left out are said too: an error carries no `x-hfclaw-skipped`.
        let left_out: Vec<String> = plan
            .unfit
            .iter()
            .map(|&(i, lack)| left_out(&chain[i], lack))
            .collect();
        error.not_tried(&left_out)
    })?;
    Ok(respond(
        app,
        ticket,
        success,
        &chain,
        &plan,
        permit,
        hide_usage_chunk,
    ))
}

/// What one attempt sends: the client's body to the router's API, or a task's request to
/// one provider.
enum Call<'a> {
    Router(Bytes),
    Task(
        &'a embeddings::TaskPlan,
        &'a hfclaw_router_client::tasks::Route,
    ),
}

/// Reads the body (up to `max_body`) as a JSON object, kept as the client's bytes.
async fn read_json(headers: &HeaderMap, body: Body, max_body: usize) -> Result<JsonBody, ApiError> {
    let bytes = read_body(headers, body, max_body).await?;
    tracing::trace!(body = %String::from_utf8_lossy(&bytes), "request");
    scan_json(bytes)
}

/// The body as a JSON object; a 400 saying why when it is not one.
fn scan_json(bytes: Bytes) -> Result<JsonBody, ApiError> {
    JsonBody::parse(bytes).map_err(|e| {
        ApiError::invalid_request(
            "invalid_json",
            format!("the request body is not a JSON object: {e}"),
        )
    })
}

/// The body, refused with 413 as soon as it passes `max_body` (declared or sent).
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    max_body: usize,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_body as u64) {
        return Err(ApiError::too_large(max_body));
    }
    let mut stream = body.into_data_stream();
    let unreadable = |e: axum::Error| {
        ApiError::invalid_request(
            "unreadable_body",
            format!("could not read the request body: {e}"),
        )
    };
    // A body that arrives in one chunk (most small ones) is kept as it came, uncopied.
    let Some(first) = stream.next().await.transpose().map_err(unreadable)? else {
        return Ok(Bytes::new());
    };
    if first.len() > max_body {
        return Err(ApiError::too_large(max_body));
    }
    let Some(second) = stream.next().await.transpose().map_err(unreadable)? else {
        return Ok(first);
    };
    let capacity = declared.map_or(0, |len| (len as usize).min(max_body));
    let mut buf = BytesMut::with_capacity(capacity.max(first.len() + second.len()));
    let mut next = Some(second);
    buf.extend_from_slice(&first);
    while let Some(chunk) = next {
        if buf.len() + chunk.len() > max_body {
            return Err(ApiError::too_large(max_body));
        }
        buf.extend_from_slice(&chunk);
        next = stream.next().await.transpose().map_err(unreadable)?;
    }
    Ok(buf.freeze())
}

/// The body's `model`: absent or null means the default.
fn model_field(body: &JsonBody) -> Result<Option<String>, ApiError> {
    match body.get::<Option<String>>("model") {
        None => Ok(None),
        Some(Ok(model)) => Ok(model),
        Some(Err(_)) => Err(ApiError::invalid_request(
            "invalid_model",
            "`model` must be a string: a huggingface/… ref, org/model, an alias or \"default\"",
        )),
    }
}

/// Who the request is for, as its body says: the end user (the first of the API's user
/// members that is a string, else `metadata`'s user member) and the `metadata` tags,
/// within the bounds of `hfclaw_accounting::attribution`. Reads only those members' spans.
fn attribution(api: Api, body: &JsonBody) -> (Option<String>, Tags) {
    let mut user = api
        .user_members()
        .iter()
        .find_map(|m| body.get::<String>(m).and_then(Result::ok))
        .and_then(|u| bounded_user(&u));
    let metadata = body
        .raw("metadata")
        .map(|raw| read_metadata(raw, api.metadata_user()))
        .unwrap_or_default();
    if metadata.dropped > 0 {
        tracing::debug!(
            dropped = metadata.dropped,
            "metadata members past the ledger's bounds were not recorded"
        );
    }
    if user.is_none() {
        user = metadata.user;
    }
    (user, metadata.tags)
}

/// True when a chat request asked for the usage chunk itself.
fn asks_for_usage(body: &JsonBody) -> bool {
    body.get::<Value>("stream_options")
        .and_then(Result::ok)
        .and_then(|o| o.get("include_usage").and_then(Value::as_bool))
        .unwrap_or(false)
}

/// The client headers `api` passes on to the router, and the request's id.
pub fn forwarded_headers(api: Api, from: &HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for name in api.forwarded_request_headers() {
        for value in from.get_all(*name) {
            headers.append(*name, value.clone());
        }
    }
    // The request-id layer set it: the client's, else the gateway's.
    if let Some(id) = from.get(REQUEST_ID_HEADER) {
        headers.insert(REQUEST_ID_HEADER, id.clone());
    }
    headers
}

/// The client's answer: the router's status, body and content type, plus which model
/// answered; the exchange is recorded now (whole answers) or when the stream ends.
fn respond(
    app: &Arc<App>,
    ticket: &Ticket,
    success: ChainSuccess<Answer>,
    chain: &[ModelRef],
    plan: &Plan,
    permit: tokio::sync::OwnedSemaphorePermit,
    hide_usage_chunk: bool,
) -> Response {
    let index = plan.order[success.index];
    let model_ref = &chain[index];
    let mut exchange = ticket.exchange();
    exchange.answered = Some(model_ref.clone());
    exchange.fallback = Some(index);
    exchange.skipped = success
        .skipped
        .iter()
        .map(|s| chain[plan.order[s.index]].clone())
        .chain(plan.cooling.iter().map(|(i, _)| chain[*i].clone()))
        .chain(
            plan.unfit
                .iter()
                .filter(|(i, _)| *i < index)
                .map(|(i, _)| chain[*i].clone()),
        )
        .collect();
    let api = ticket.api;
    let (status, mut headers, body) = match success.value {
        Answer::Whole {
            status,
            mut headers,
            mut body,
        } => {
            drop(permit);
            if app.options.split_reasoning
                && api == Api::Chat
                && let Some(split) = split_whole_answer(&body)
            {
                body = split;
            }
            let mut meter = Meter::new(api);
            meter.observe_body(&body);
            exchange.provider = provider_of(&headers);
            exchange.usage = meter.usage();
            exchange.total = ticket.started.elapsed();
            exchange.ttfb = Some(exchange.total);
            app.price(&mut exchange);
            if let Some(usd) = exchange.cost_usd {
                if let Ok(value) = HeaderValue::from_str(&header_usd(usd)) {
                    headers.insert(COST_HEADER, value);
                }
                if exchange.cost_estimated {
                    headers.insert(COST_ESTIMATED_HEADER, HeaderValue::from_static("true"));
                }
            }
            app.record(exchange);
            (status, headers, Body::from(body))
        }
        Answer::Stream {
            status,
            headers,
            head,
            rest,
        } => {
            exchange.provider = provider_of(&headers);
            exchange.ttfb = Some(ticket.started.elapsed());
            let tap = Tap::new(api, hide_usage_chunk, app.options.split_reasoning);
            let recorder = app.clone();
            let started = ticket.started;
            let on_end = Box::new(move |end: StreamEnd| {
                exchange.usage = end.usage;
                exchange.total = started.elapsed();
                if let Some(error) = end.error {
                    let class = format!("stream_{}", error.kind.as_str());
                    exchange.error = Some((class, error.status.unwrap_or(502)));
                } else if !end.completed {
                    exchange.error = Some(("client_closed".to_owned(), 499));
                }
                recorder.record(exchange);
            });
            let stream =
                Passthrough::new(api, head, rest, tap, model_ref.to_string(), permit, on_end);
            (status, headers, Body::from_stream(stream))
        }
    };
    if let Ok(value) = HeaderValue::from_str(model_ref.as_str()) {
        headers.insert(MODEL_HEADER, value);
    }
    headers.insert(FALLBACK_HEADER, HeaderValue::from(index));
    if let Some(route) = &ticket.route
        && let Ok(value) = HeaderValue::from_str(route)
    {
        headers.insert(ROUTE_HEADER, value);
    }
    let failed: Vec<(usize, String)> = success
        .skipped
        .iter()
        .map(|s| {
            let status = s
                .error
                .status
                .map(|c| format!(", HTTP {c}"))
                .unwrap_or_default();
            let model = &chain[plan.order[s.index]];
            (
                plan.order[s.index],
                format!("{model} ({}{status})", s.error.kind.summary()),
            )
        })
        .collect();
    let skipped = skipped_list(chain, plan, index, &failed);
    if !skipped.is_empty()
        && let Ok(value) = HeaderValue::from_str(&skipped)
    {
        headers.insert(SKIPPED_HEADER, value);
    }
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    *response.headers_mut() = headers;
    response
}

/// What [`SKIPPED_HEADER`] says: the models before position `answered` of `chain` that
/// were not tried or did not answer, and why, in chain order — `failed` (position, text),
/// then those cooling down and those that cannot serve what the request needs (`no image
/// input`, `no provider serves tools`).
fn skipped_list(
    chain: &[ModelRef],
    plan: &Plan,
    answered: usize,
    failed: &[(usize, String)],
) -> String {
    let cooling = plan.cooling.iter().map(|(i, left)| {
        let text = format!(
            "{} (cooling down, {} s left)",
            chain[*i],
            left.as_secs().max(1)
        );
        (*i, text)
    });
    let unfit = plan
        .unfit
        .iter()
        .map(|&(i, lack)| (i, left_out(&chain[i], lack)));
    let mut all: Vec<(usize, String)> = failed
        .iter()
        .cloned()
        .chain(cooling.chain(unfit).filter(|(i, _)| *i < answered))
        .collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `huggingface/org/model (no image input)`: a model left out of a request's chain.
fn left_out(model: &ModelRef, lack: Lack) -> String {
    format!("{model} ({lack})")
}

/// A cost for [`COST_HEADER`]: plain decimal USD to the nano-dollar, no trailing zeros
/// (`0.000064`, `1.5`, `0`).
fn header_usd(usd: f64) -> String {
    let text = format!("{usd:.9}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// Serves a request whose answer goes back as the router gives it, whatever its status:
/// `POST /v1/messages/count_tokens` (with `model` resolved like any other request's, no
/// fallbacks) and the stored-response endpoints under `/v1/responses/…` (no `model`).
pub async fn relay(app: Arc<App>, api: Api, path: String, request: Request) -> Response {
    match relay_inner(&app, api, path, request).await {
        Ok(response) => response,
        Err(error) => error.into_response_for(api),
    }
}

async fn relay_inner(
    app: &App,
    api: Api,
    path: String,
    request: Request,
) -> Result<Response, ApiError> {
    let _permit = app
        .limit
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::overloaded(app.options.max_concurrent))?;
    let (parts, body) = request.into_parts();
    let mut bytes = read_body(&parts.headers, body, app.options.max_body).await?;
    let snapshot = app.snapshot();
    let mut route = None;
    if api == Api::Messages {
        let body = scan_json(bytes)?;
        let requested = model_field(&body)?;
        let choice = app
            .options
            .routes
            .choose(&snapshot, requested.as_deref(), true)?;
        route = choice.route;
        bytes = body.with_model(choice.chain[0].router_model_id());
    }
    let headers = forwarded_headers(api, &parts.headers);
    let raw = snapshot
        .client
        .forward_raw(parts.method.clone(), &path, bytes, &headers)
        .await
        .map_err(|e| ApiError::from_router(&e))?;
    let status = StatusCode::from_u16(raw.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = raw.headers.get(header::CONTENT_TYPE).cloned();
    let body = raw.bytes().await.map_err(|e| ApiError::from_router(&e))?;
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if let Some(value) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    if let Some(value) = route.and_then(|r| HeaderValue::from_str(&r).ok()) {
        response.headers_mut().insert(ROUTE_HEADER, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::header_usd;

    #[test]
    fn costs_in_headers_are_plain_decimals() {
        for (usd, text) in [
            (0.000064, "0.000064"),
            (1.5, "1.5"),
            (0.0, "0"),
            (12.0, "12"),
            (0.1 + 0.2, "0.3"),
            (0.0000000004, "0"),
        ] {
            assert_eq!(header_usd(usd), text, "{usd}");
        }
    }
}
