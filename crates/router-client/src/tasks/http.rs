//! The two requests of task routing: the Hub's mapping (with `ETag`) and the provider's
//! own path under the router root.

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap};

use crate::base_url::normalize_base_url;
use crate::client::{ListResponse, RouterClient};
use crate::error::RouterError;
use crate::raw::RawResponse;

impl RouterClient {
    /// `GET {hub_url}{path}` (e.g. `/api/models/BAAI/bge-m3?expand[]=…`) with the token
    /// when there is one and `If-None-Match: etag`. Non-2xx answers (404 for an unknown
    /// model) become [`RouterError`]s.
    pub async fn hub_get(
        &self,
        hub_url: &str,
        path: &str,
        etag: Option<&str>,
    ) -> Result<ListResponse, RouterError> {
        let url = format!("{}{path}", normalize_base_url(hub_url));
        let request = self.hub_request(&url);
        self.conditional_get(request, etag, "hub", "Hub answer")
            .await
    }

    /// `POST {router root}{path}` (a provider's own path, e.g.
    /// `/together/v1/embeddings`) with `body` and the client's `extra` headers (the
    /// request id); `model` names the attempt in errors.
    /// Non-2xx answers are classified into [`RouterError`]s like chat's.
    pub async fn post_task(
        &self,
        path: &str,
        body: Bytes,
        model: &str,
        extra: &HeaderMap,
    ) -> Result<RawResponse, RouterError> {
        let request = self
            .root_request(Method::POST, path)
            .headers(extra.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(body);
        let response = self.send_for_model(request, path, model).await?;
        Ok(RawResponse::new(response, model.to_owned()))
    }
}
