//! `POST /v1/embeddings`, the gateway's side of task routing: the request's model is
//! resolved like any other (`Snapshot::chain`), its Hub mapping (cached in
//! [`App::mappings`]) gives the providers that serve it, and those become the chain the
//! one forwarding path runs (`crate::forward`): one pinned ref per provider
//! (`huggingface/BAAI/bge-m3:together`), so fallbacks, cooldowns, logs, `/metrics` and
//! the ledger see providers as they see chat models. Each attempt speaks the provider's
//! wire and answers in OpenAI's shape (`hfclaw_router_client::tasks::embeddings`).

use axum::http::{HeaderMap, HeaderValue, header};
use hfclaw_model_ref::{AlsoListing, ModelRef, Suffix};
use hfclaw_router_client::tasks::embeddings::{EmbeddingsRequest, convert};
use hfclaw_router_client::tasks::providers::providers_of;
use hfclaw_router_client::tasks::{NoRoute, Route, Task, routes};
use hfclaw_router_client::{
    AttemptError, ErrorKind, JsonBody, PROVIDER_HEADER, RouterClient, RouterError,
};
use serde_json::{Map, Value};

use crate::api::Api;
use crate::app::App;
use crate::error::ApiError;
use crate::snapshot::Snapshot;
use crate::upstream::{Answer, Outgoing};

/// The model an embeddings request names: the one rule with the Hub as catalog (a
/// bare `org/model` need not be a chat model), else the client-name routes as for chat
/// (`text-embedding-3-small=BAAI/bge-m3`). No fallbacks: the config's are chat models.
/// Returns the model and the route that chose it, if one did.
pub fn model(
    app: &App,
    snapshot: &Snapshot,
    requested: Option<&str>,
) -> Result<(ModelRef, Option<std::sync::Arc<str>>), ApiError> {
    // The Hub's mapping, read next, confirms a bare `org/model` the catalog lacks.
    let hub = AlsoListing::input(&snapshot.catalog, requested);
    match snapshot.chain_in(requested, true, &hub) {
        Ok(mut chain) if !chain.is_empty() => Ok((chain.swap_remove(0), None)),
        Ok(_) => Err(ApiError::no_default()),
        Err(first) => {
            let choice = app
                .options
                .routes
                .choose(snapshot, requested, true)
                .map_err(|_| first)?;
            let model = choice
                .chain
                .into_iter()
                .next()
                .ok_or_else(ApiError::no_default)?;
            Ok((model, choice.route))
        }
    }
}

/// What an embeddings request will try.
#[derive(Debug)]
pub struct TaskPlan {
    /// The checked request.
    pub request: EmbeddingsRequest,
    /// The model's Hub id (the answer's `model`).
    pub model_id: String,
    /// The providers to try, in order.
    pub routes: Vec<Route>,
    /// One pinned ref per route (the chain the forwarding path runs).
    pub refs: Vec<ModelRef>,
}

/// Checks the body and finds the providers of `model` for it.
pub async fn plan(
    app: &App,
    snapshot: &Snapshot,
    model: &ModelRef,
    body: &JsonBody,
) -> Result<TaskPlan, ApiError> {
    // The fields the adapters read, out of the client's bytes.
    let fields: Map<String, Value> = ["input", "encoding_format", "dimensions"]
        .into_iter()
        .filter_map(|key| Some((key.to_owned(), body.get::<Value>(key)?.ok()?)))
        .collect();
    let request = EmbeddingsRequest::from_body(&fields)
        .map_err(|e| ApiError::invalid_param(e.param, e.message))?;
    let model_id = model.model_id();
    let mappings = app
        .mappings
        .get(
            &snapshot.client,
            &app.options.hub_url,
            model_id,
            std::time::Instant::now(),
        )
        .await
        .map_err(|e| match e.kind {
            ErrorKind::NotFound => ApiError::unknown_hub_model(model),
            _ => ApiError::from_router(&RouterError {
                message: format!("reading the Hub's provider mapping: {}", e.message),
                ..e
            }),
        })?;
    let pinned = model.suffix().and_then(Suffix::provider);
    let all = routes(Task::Embeddings, &mappings, pinned)
        .map_err(|none| ApiError::no_task_provider(model, &no_route_message(&none)))?;
    let (usable, refused): (Vec<Route>, Vec<Route>) = all
        .into_iter()
        .partition(|r| request.unsupported_by(r.provider.wire).is_none());
    if usable.is_empty() {
        let names: Vec<&str> = refused.iter().map(|r| r.provider.provider).collect();
        let why = refused
            .first()
            .and_then(|r| request.unsupported_by(r.provider.wire))
            .unwrap_or("this request");
        let param = if why.contains("dimensions") {
            "dimensions"
        } else {
            "input"
        };
        return Err(ApiError::invalid_param(
            param,
            format!(
                "{why} cannot be sent to {} (the only provider(s) of {model} for embeddings)",
                names.join(", ")
            ),
        ));
    }
    let refs = usable
        .iter()
        .map(|r| {
            ModelRef::huggingface(
                model_id,
                Some(&Suffix::Provider(r.provider.provider.to_owned())),
            )
            .map_err(|e| ApiError::bad_model(model.as_str(), &e.to_string(), "use org/model"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TaskPlan {
        request,
        model_id: model_id.to_owned(),
        routes: usable,
        refs,
    })
}

fn no_route_message(none: &NoRoute) -> String {
    let providers: Vec<&str> = providers_of(none.task).collect();
    let served = none.served_text();
    match &none.pinned {
        Some(pinned) => format!(
            "{pinned} does not serve it for embeddings (its mappings: {served}); drop the \
             `:{pinned}` suffix to use any provider that does"
        ),
        None => format!(
            "no live embeddings provider hfclaw can call serves it (its mappings: {served}; \
             embeddings providers: {}); `hfclaw models list --task embeddings` lists models \
             that have one",
            providers.join(", ")
        ),
    }
}

/// One provider's attempt: its request, within `timeout`, answered in OpenAI's shape.
pub async fn attempt(
    client: &RouterClient,
    route: &Route,
    plan: &TaskPlan,
    id: &str,
    outgoing: &Outgoing<'_>,
) -> Result<Answer, AttemptError> {
    let timeout = outgoing.timeout;
    let inner = async {
        let wire = route.provider.wire;
        let body = plan.request.body_for(wire, &route.provider_id);
        let path = route.provider.path_for(&route.provider_id);
        let raw = client.post_task(&path, body, id, outgoing.headers).await?;
        let status = raw.status;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(value) = raw.headers.get("x-request-id") {
            headers.insert("x-request-id", value.clone());
        }
        // The router names the provider on its own answers; the route knows it anyway.
        let provider = raw
            .provider()
            .unwrap_or_else(|| route.provider.provider.to_owned());
        if let Ok(value) = HeaderValue::from_str(&provider) {
            headers.insert(PROVIDER_HEADER, value);
        }
        let bytes = raw.bytes().await?;
        if let Some(error) = Api::Embeddings.error_in_body(&bytes) {
            return Err(AttemptError::BeforeContent(error.with_model(id)));
        }
        let converted = convert(wire, &bytes, &plan.request, &plan.model_id)
            .map_err(|e| AttemptError::BeforeContent(e.with_model(id)))?;
        Ok(Answer::Whole {
            status,
            headers,
            body: converted.body.into(),
        })
    };
    match tokio::time::timeout(timeout, inner).await {
        Ok(result) => result,
        Err(_) => Err(AttemptError::BeforeContent(
            RouterError::new(
                ErrorKind::Timeout,
                format!("no answer within {} s", timeout.as_secs()),
            )
            .with_model(id),
        )),
    }
}
