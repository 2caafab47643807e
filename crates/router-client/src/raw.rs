//! Raw passthrough for a gateway: a request body sent as is to one of the router's APIs
//! (`/chat/completions`, `/messages`, `/responses`, …) and the answer handed back as
//! bytes, so the gateway can forward them verbatim.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, Response};
use serde_json::Value;

use crate::client::{MAX_CHAT_BYTES, RouterClient, provider_of, read_capped};
use crate::error::RouterError;

/// A router answer: status, headers and the body as a byte stream.
#[derive(Debug)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// The router's headers.
    pub headers: HeaderMap,
    /// The `model` of the request body (for errors).
    pub model: String,
    response: Response,
}

/// The name of [`RawResponse`] before the gateway served more than chat.
pub type RawChat = RawResponse;

impl RawResponse {
    pub(crate) fn new(response: Response, model: String) -> RawResponse {
        RawResponse {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            model,
            response,
        }
    }

    /// The serving backend, from the router's `x-inference-provider` header.
    pub fn provider(&self) -> Option<String> {
        provider_of(&self.headers)
    }

    /// The body as it arrives; transport failures become [`RouterError`]s.
    pub fn bytes_stream(self) -> impl Stream<Item = Result<Bytes, RouterError>> + Send + 'static {
        let model = self.model;
        self.response
            .bytes_stream()
            .map(move |r| r.map_err(|e| RouterError::from_reqwest(&e).with_model(model.clone())))
    }

    /// The whole body (capped at [`MAX_CHAT_BYTES`]).
    pub async fn bytes(self) -> Result<Bytes, RouterError> {
        let model = self.model;
        read_capped(self.response, MAX_CHAT_BYTES, "answer")
            .await
            .map_err(|e| e.with_model(model))
    }
}

impl RouterClient {
    /// `POST {base}/chat/completions` with `body` sent as is, for a gateway that forwards
    /// the answer's bytes verbatim. Non-2xx answers are classified into [`RouterError`].
    pub async fn send_chat_raw(&self, body: &Value) -> Result<RawResponse, RouterError> {
        self.send_raw("/chat/completions", body, &HeaderMap::new())
            .await
    }

    /// `POST {base}{path}` (e.g. `/messages`) with `body` as is and `extra` headers (e.g.
    /// `anthropic-version`); the token and the provider block's headers are added. A 2xx
    /// answer comes back raw; others are classified into [`RouterError`].
    pub async fn send_raw(
        &self,
        path: &str,
        body: &Value,
        extra: &HeaderMap,
    ) -> Result<RawResponse, RouterError> {
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
        let response = self.post_json(path, body, &model, stream, extra).await?;
        Ok(RawResponse::new(response, model))
    }

    /// [`RouterClient::send_raw`] for a body already encoded, whose `model` and `stream`
    /// the caller states (a gateway trying one body with several models encodes each
    /// once instead of cloning it).
    pub async fn send_raw_bytes(
        &self,
        path: &str,
        body: Bytes,
        model: &str,
        stream: bool,
        extra: &HeaderMap,
    ) -> Result<RawResponse, RouterError> {
        let response = self.post_bytes(path, body, model, stream, extra).await?;
        Ok(RawResponse::new(response, model.to_owned()))
    }

    /// `METHOD {base}{path}` with `body` and `extra` headers, whatever the router answers:
    /// only transport failures are errors. For endpoints whose answer the gateway hands
    /// back unjudged (token counting, stored responses).
    pub async fn forward_raw(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
        extra: &HeaderMap,
    ) -> Result<RawResponse, RouterError> {
        let mut request = self
            .router_request(method, path, true)
            .headers(extra.clone());
        if !body.is_empty() {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.scrub(RouterError::from_reqwest(&e)))?;
        Ok(RawResponse::new(response, String::new()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::client::ClientOptions;

    #[test]
    fn raw_requests_can_cross_tasks() {
        fn send<T: Send>(_: &T) {}
        let client = RouterClient::new(ClientOptions::new("http://127.0.0.1:9/v1")).unwrap();
        send(&client.send_chat_raw(&Value::Null));
        send(&client.forward_raw(Method::GET, "/x", Bytes::new(), &HeaderMap::new()));
    }
}
